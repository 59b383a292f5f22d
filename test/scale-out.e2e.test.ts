import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { setExportSchedule } from '../src/app/schedule.ts';
import pg from 'pg';
import { openHome, type Home } from '../src/app/home.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, tempDir } from './support/cli.ts';
import { freshDatabase, queuePrefix, REDIS_URL, startWorkerProcess, until, type WorkerProcess } from './support/scale-out.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

// Scale-out mode with real processes: `outflow serve` and `outflow worker`s, each with a home of its own (as on
// separate machines), sharing the run records and the profiles in PostgreSQL and the queue in Redis.

const KEY = 'scale-out-iterable-key';
const ROWS = 20_000;
const BATCH = 1000;
/** Iterable's batches in flight at once. */
const IN_FLIGHT = 3;
/** The account's limit, in the fake and in the connection: requests a second on the subscribe route. */
const LIMIT = 5;

let db: Awaited<ReturnType<typeof freshDatabase>>;
const redisKeys = queuePrefix('scale-out');
let env: NodeJS.ProcessEnv;
let iterable: IterableFake;
let work: string;
const homes: string[] = [];
let server: ServerProcess | undefined;
const workers: WorkerProcess[] = [];

const email = (i: number) => `member${i}@example.com`;
const everyone = () => Array.from({ length: ROWS }, (_, i) => email(i + 1));

function newHome(name: string): string {
  const dir = tempDir(`scale-${name}`);
  homes.push(dir);
  return dir;
}

async function withHome<T>(fn: (home: Home) => Promise<T>): Promise<T> {
  const home = await openHome({ dir: newHome('setup'), env: { ...env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'tester' } });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

beforeAll(async () => {
  db = await freshDatabase('scale_out');
  env = {
    OUTFLOW_DATABASE_URL: db.url,
    OUTFLOW_PROFILES_URL: `${db.url}?schema=profiles`,
    OUTFLOW_REDIS_URL: REDIS_URL,
    OUTFLOW_QUEUE_PREFIX: redisKeys.prefix,
    // Every machine of a deployment shares the key that seals connection secrets.
    OUTFLOW_SECRET_KEY: randomBytes(32).toString('hex'),
    // A killed worker's job goes back to the queue after 3 s instead of 30.
    OUTFLOW_WORKER_LOCK_MS: '3000',
    OUTFLOW_WORKER_STALLED_CHECK_MS: '1000',
  };
  work = tempDir('scale-work');
  const lines = ['profile_id,email'];
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},${email(i)}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  iterable = await startIterableFake({
    projects: [{ apiKey: KEY }],
    rateLimits: { 'POST /api/lists/subscribe': { requests: LIMIT, perMs: 1000 } },
    latencyMs: 20,
  });
  await withHome(async (h) => {
    await loadEntity(h, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
    // One segment per export: Iterable lists are named after the segment.
    for (const name of ['paced-a', 'paced-b', 'killed', 'drained', 'scheduled', 'handover']) await createSegment(h, { name, entity: 'Customer', where: 'profile_id > 0' });
    await refreshSegments(h);
    await createConnection(h, { type: 'iterable', name: 'iterable', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: LIMIT }, acceptPrivacyTerms: true });
    for (const name of ['paced-a', 'paced-b', 'killed', 'drained', 'scheduled', 'handover']) {
      await createExport(h, { name, connection: 'iterable', segments: [name], config: { mapping: { email: 'email' }, syncMode: 'full' } });
    }
  });
  server = await startServerProcess(newHome('server'), { env });
}, 180_000);

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill()));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await server?.stop();
  await iterable?.close();
  await redisKeys.clean();
  await db?.drop();
  for (const dir of [...homes, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface RunView {
  id: string;
  status: string;
  trigger: string;
  resumedFrom?: string;
  sent: number;
  error?: { code: string; message: string };
}

interface StatusJson {
  mode: string;
  queue: { waiting: number; active: number; delayed: number };
  workers: Array<{ id: string; pid: number; concurrency: number; runs: Array<{ id: string; export: string | null }> }>;
}

async function status(): Promise<StatusJson> {
  const response = await server!.request<StatusJson>('GET', '/api/status');
  expect(response.status).toBe(200);
  return response.body;
}

async function queueRun(name: string): Promise<string> {
  const queued = await server!.request<RunView>('POST', `/api/exports/${name}/runs`);
  expect(queued.status, JSON.stringify(queued.body)).toBe(202);
  return queued.body.id;
}

/**
 * The export's runs, oldest first, once the newest has ended other than `interrupted` (an interrupted run is
 * resumed by a worker: reading the runs may mark it so before the worker takes it up).
 */
async function runsWhenDone(name: string, timeoutMs = 120_000): Promise<RunView[]> {
  let runs: RunView[] = [];
  await until(
    `the runs of ${name} to end`,
    async () => {
      const list = await server!.request<{ items: RunView[] }>('GET', `/api/runs?export=${name}&limit=20`);
      const newest = list.body.items[0];
      if (!newest || newest.status === 'queued' || newest.status === 'running' || newest.error?.code === 'interrupted') return false;
      runs = list.body.items.reverse();
      return true;
    },
    timeoutMs,
    () => `server:\n${server!.output()}\nworkers:\n${workers.map((w) => w.output()).join('\n---\n')}`,
  );
  return runs;
}

async function runView(id: string): Promise<RunView> {
  return (await server!.request<RunView>('GET', `/api/runs/${id}`)).body;
}

function listMembers(name: string): string[] {
  const list = iterable.lists(KEY).find((l) => l.name === name);
  return list ? iterable.listMembers(list.id, KEY) : [];
}

function subscribeRequests(listName: string) {
  const list = iterable.lists(KEY).find((l) => l.name === listName);
  return iterable.requests.filter((r) => r.path === '/api/lists/subscribe' && JSON.parse(r.body).listId === list?.id);
}

const subscribed = (listName: string) => subscribeRequests(listName).reduce((sum, r) => sum + JSON.parse(r.body).subscribers.length, 0);

/** Which worker executes `runId` now, from `status`. */
async function holderOf(runId: string): Promise<number> {
  let pid = 0;
  await until(`a worker to hold run ${runId}`, async () => {
    pid = (await status()).workers.find((w) => w.runs.some((r) => r.id === runId))?.pid ?? 0;
    return pid !== 0;
  });
  return pid;
}

describe('outflow worker processes on one queue', () => {
  it('two workers sending to one account share its rate limit: the fake never sees more than the limit in any second, and both did work', async () => {
    workers.push(await startWorkerProcess(newHome('w1'), env, ['--concurrency', '1']));
    workers.push(await startWorkerProcess(newHome('w2'), env, ['--concurrency', '1']));
    const from = iterable.requests.length;
    const ids = [await queueRun('paced-a'), await queueRun('paced-b')];
    // Each run is taken by a different worker (one run at a time each).
    const holders = new Set<number>();
    await until('both runs to execute at once', async () => {
      for (const w of (await status()).workers) if (w.runs.some((r) => ids.includes(r.id))) holders.add(w.pid);
      return holders.size === 2;
    });
    expect([...holders].sort()).toEqual(workers.map((w) => w.child.pid).sort());
    // `status` shows the account's pacing, shared in Redis.
    let limiter: Array<Record<string, unknown>> = [];
    await until('the limiter to pace the account', async () => {
      limiter = ((await status()) as StatusJson & { limiter: typeof limiter }).limiter;
      return limiter.length > 0;
    });
    expect(limiter).toContainEqual(expect.objectContaining({ connection: 'iterable', type: 'iterable', backend: 'redis', requestsPerSecond: LIMIT }));

    for (const name of ['paced-a', 'paced-b']) {
      const runs = await runsWhenDone(name);
      expect(runs.at(-1)).toMatchObject({ status: 'succeeded', sent: ROWS });
      expect(new Set(listMembers(name))).toEqual(new Set(everyone()));
    }
    const sent = iterable.requests.slice(from).filter((r) => r.path === '/api/lists/subscribe');
    expect(sent.filter((r) => r.status === 429).length, 'answers 429').toBe(0);
    // The vendor counts per second: no second of its clock saw more than the limit. (Arrival times carry the
    // HTTP stack's jitter on a busy machine; the limiter's 5 % margin absorbs it.)
    const perSecond = new Map<number, number>();
    for (const r of sent) perSecond.set(Math.floor(r.at / 1000), (perSecond.get(Math.floor(r.at / 1000)) ?? 0) + 1);
    const worst = Math.max(...perSecond.values());
    expect(worst, 'requests in the busiest second').toBeLessThanOrEqual(LIMIT);
  }, 180_000);

  it('SIGKILL of the worker executing a run: the other worker finishes it from the checkpoint; the list holds exactly the segment', async () => {
    workers.push(await startWorkerProcess(newHome('w3'), env, ['--concurrency', '1']));
    workers.push(await startWorkerProcess(newHome('w4'), env, ['--concurrency', '1']));
    const id = await queueRun('killed');
    const pid = await holderOf(id);
    await until('batches to go out', async () => (await runView(id)).sent >= 3 * BATCH);
    const victim = workers.find((w) => w.child.pid === pid)!;
    await victim.kill();
    const survivor = workers.find((w) => w !== victim)!;

    const runs = await runsWhenDone('killed', 150_000);
    expect(runs.map((r) => r.status), JSON.stringify(runs)).toEqual(['failed', 'succeeded']);
    expect(runs[0]!.error?.code).toBe('interrupted');
    expect(await runView(runs[1]!.id)).toMatchObject({ trigger: 'recovery', resumedFrom: id, sent: ROWS });
    expect(survivor.child.exitCode).toBeNull();
    expect(new Set(listMembers('killed'))).toEqual(new Set(everyone()));
    expect(listMembers('killed')).toHaveLength(ROWS);
    // Nothing skipped; at most the batches in flight at the kill were sent twice.
    expect(subscribed('killed')).toBeGreaterThanOrEqual(ROWS);
    expect(subscribed('killed') - ROWS).toBeLessThanOrEqual(IN_FLIGHT * BATCH);
  }, 240_000);

  it('SIGKILL with the default lock: readers see the run `running` until another worker takes it over, within 15 s; `--follow` ends with the resumed run', async () => {
    // The deployment's defaults (lock 8 s, stalled check every 3.2 s), not the short ones of the other cases.
    const { OUTFLOW_WORKER_LOCK_MS: _lock, OUTFLOW_WORKER_STALLED_CHECK_MS: _check, ...defaults } = env;
    workers.push(await startWorkerProcess(newHome('w8'), defaults, ['--concurrency', '1']));
    workers.push(await startWorkerProcess(newHome('w9'), defaults, ['--concurrency', '1']));
    const id = await queueRun('handover');
    const pid = await holderOf(id);
    await until('batches to go out', async () => (await runView(id)).sent >= 3 * BATCH);
    const serverHome = server!.child.spawnargs[server!.child.spawnargs.indexOf('--home') + 1]!;
    const followed = outflow(serverHome, 'run', 'show', id, '--follow', '--json');
    const victim = workers.find((w) => w.child.pid === pid)!;
    const killedAt = Date.now();
    await victim.kill();
    // What a script polling the run sees from the kill until the run that continues it has started.
    const seen: Array<{ status: string; code?: string; resumedBy?: string }> = [];
    let next: RunView | undefined;
    await until(
      'another worker to take the run over',
      async () => {
        const view = (await runView(id)) as RunView & { resumedBy?: string };
        seen.push({ status: view.status, code: view.error?.code, resumedBy: view.resumedBy });
        if (!view.resumedBy) return false;
        next = await runView(view.resumedBy);
        return next.status === 'running' || next.status === 'succeeded';
      },
      60_000,
    );
    expect(seen.filter((v) => v.status !== 'running' && !v.resumedBy), JSON.stringify(seen)).toEqual([]);
    expect(seen.at(-1)).toMatchObject({ status: 'failed', code: 'interrupted', resumedBy: next!.id });
    const startedAt = Date.parse((next as RunView & { startedAt: string }).startedAt);
    expect(startedAt - killedAt, 'takeover after the kill (ms)').toBeLessThanOrEqual(15_000);
    // `run show --follow` on the killed run ends with the run that continued it.
    const result = await followed;
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ id: next!.id, status: 'succeeded', resumedFrom: id, sent: ROWS });
    expect(new Set(listMembers('handover'))).toEqual(new Set(everyone()));
  }, 240_000);

  it('SIGTERM drains a worker: its run stops at a batch boundary, goes back to the queue, and the other worker finishes it', async () => {
    workers.push(await startWorkerProcess(newHome('w5'), env, ['--concurrency', '1']));
    workers.push(await startWorkerProcess(newHome('w6'), env, ['--concurrency', '1']));
    const id = await queueRun('drained');
    const pid = await holderOf(id);
    await until('batches to go out', async () => (await runView(id)).sent >= 3 * BATCH);
    const drained = workers.find((w) => w.child.pid === pid)!;
    const stoppedAt = Date.now();
    expect(await drained.stop()).toBe(0);
    // A drain waits for the batches in flight, not for the run.
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(await runView(id)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });

    const runs = await runsWhenDone('drained');
    expect(runs.map((r) => r.status), JSON.stringify(runs)).toEqual(['failed', 'succeeded']);
    expect(await runView(runs[1]!.id)).toMatchObject({ trigger: 'recovery', resumedFrom: id, sent: ROWS });
    expect(new Set(listMembers('drained'))).toEqual(new Set(everyone()));
    expect(subscribed('drained') - ROWS).toBeLessThanOrEqual(IN_FLIGHT * BATCH);
  }, 180_000);

  it('`outflow status` shows the workers alive, their runs and the queue', async () => {
    const w = await startWorkerProcess(newHome('w7'), env, ['--concurrency', '3']);
    workers.push(w);
    const home = server!.child.spawnargs[server!.child.spawnargs.indexOf('--home') + 1]!;
    await until('the worker to show', async () => (await status()).workers.some((x) => x.pid === w.child.pid));
    const json = await outflow(home, 'status', '--json');
    expect(json.code, json.stderr).toBe(0);
    const view = JSON.parse(json.stdout) as StatusJson;
    expect(view).toMatchObject({ mode: 'distributed', queue: { waiting: 0, active: 0, delayed: 0 } });
    expect(view.workers.find((x) => x.pid === w.child.pid)).toMatchObject({ concurrency: 3, runs: [] });
    const text = await outflow(home, 'status');
    expect(text.stdout).toContain('Mode: distributed');
    expect(text.stdout).toContain('Queue: 0 waiting, 0 executing, 0 delayed');
    expect(text.stdout).toMatch(new RegExp(`pid ${w.child.pid}\\s+0/3 busy\\s+idle`));
    // A dead worker leaves the list once its key expires.
    await w.kill();
  }, 60_000);
});

describe('two servers on one PostgreSQL metadata store', () => {
  it('each scheduled slot fires once, whichever server claims it', async () => {
    // Every minute; the last slot handled is set 5 minutes back, so a missed slot is due when both start.
    await withHome((h) => setExportSchedule(h, 'scheduled', { cron: '* * * * *', timeZone: 'UTC' }));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const lastSlot = async () => (await client.query<{ last_slot: string }>(`SELECT s.last_slot FROM schedules s JOIN exports e ON e.id = s.owner WHERE e.name = 'scheduled'`)).rows[0]!.last_slot;
    try {
      const minute = 60_000;
      const past = new Date(Math.floor(Date.now() / minute) * minute - 5 * minute).toISOString();
      await client.query(`UPDATE schedules SET last_slot = $1 WHERE owner = (SELECT id FROM exports WHERE name = 'scheduled')`, [past]);
      await server!.stop();
      const homesOf = [newHome('server-a'), newHome('server-b')];
      const servers = await Promise.all(homesOf.map((h) => startServerProcess(h, { env })));
      server = servers[0];
      // Two minute boundaries after both servers are up (counted from then: a slow start under load must not
      // eat one): both wake at the same instant and race for each slot. With the catch-up slot, at least 3.
      const up = Date.now();
      const second = new Date(Math.ceil(up / minute) * minute + minute).toISOString();
      await until('two more slots to pass', async () => (await lastSlot()) >= second, 200_000);
      const firedSlots = () =>
        homesOf.flatMap((h) =>
          fs
            .readFileSync(path.join(h, 'logs', 'outflow.log'), 'utf8')
            .split('\n')
            .filter((line) => line.includes('scheduled refresh fired'))
            .map((line) => (JSON.parse(line) as { slot: string }).slot),
        );
      // A slot is claimed before its refresh runs: wait for the refresh of the last one to be done.
      await until('the last slot to have fired', () => firedSlots().includes(second), 30_000);
      for (const s of servers) expect(s.child.exitCode).toBeNull();
      await servers[1]!.stop();

      const slots = firedSlots().sort();
      // No slot twice, none missed: the catch-up slot, then every minute up to the last one handled.
      expect(new Set(slots).size, slots.join(' ')).toBe(slots.length);
      const first = Date.parse(slots[0]!);
      expect(slots).toEqual(Array.from({ length: slots.length }, (_, i) => new Date(first + i * minute).toISOString()));
      expect(slots.at(-1)! >= second).toBe(true);
      expect(slots.length).toBeGreaterThanOrEqual(3);
      // And one run record per slot.
      const runs = await client.query(`SELECT id, status, trigger, queued_at, error_message FROM runs WHERE export_name = 'scheduled'`);
      expect(runs.rows.filter((r) => r.trigger === 'refresh').length, `slots ${slots.join(' ')}\nruns ${JSON.stringify(runs.rows)}`).toBe(slots.length);
    } finally {
      await client.end();
    }
  }, 300_000);
});
