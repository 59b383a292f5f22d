import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { loadEntity } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { openHome } from '../src/app/home.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { PARTS_QUEUE, type PartJob, type PartOutcome } from '../src/queue/parts.ts';
import { tempDir } from './support/cli.ts';
import { freshDatabase, queuePrefix, REDIS_URL, startWorkerProcess, until, type WorkerProcess } from './support/scale-out.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

// Parallel file parts in scale-out mode: the worker executing a file run hands its parts to the `parts` queue,
// every `outflow worker` renders and stages some, and the coordinator renames them once all are staged.

const ROWS = 60_000;
const ROWS_PER_PART = 12_000;
const PARTS = ROWS / ROWS_PER_PART;
const PERMISSION_DENIED = 3;

let db: Awaited<ReturnType<typeof freshDatabase>>;
const redisKeys = queuePrefix('parts');
let env: NodeJS.ProcessEnv;
let sftp: FakeSftpServer;
let work: string;
const homes: string[] = [];
let server: ServerProcess | undefined;
const workers: WorkerProcess[] = [];
let partsQueue: Queue<PartJob, PartOutcome>;
let redis: Redis;
/** The entity's rows as CSV lines, each once (what the files must hold, in any order across parts). */
let expectedLines: string[];

function newHome(name: string): string {
  const dir = tempDir(`parts-${name}`);
  homes.push(dir);
  return dir;
}

const folder = () => path.join(sftp.root, 'out');
const listing = () => fs.readdirSync(folder()).sort();

beforeAll(async () => {
  db = await freshDatabase('parts');
  env = {
    OUTFLOW_DATABASE_URL: db.url,
    OUTFLOW_PROFILES_URL: `${db.url}?schema=profiles`,
    OUTFLOW_REDIS_URL: REDIS_URL,
    OUTFLOW_QUEUE_PREFIX: redisKeys.prefix,
    OUTFLOW_SECRET_KEY: randomBytes(32).toString('hex'),
    OUTFLOW_WORKER_LOCK_MS: '3000',
    OUTFLOW_WORKER_STALLED_CHECK_MS: '1000',
    // One part at a time per worker: five parts need both workers.
    OUTFLOW_WORKER_PARTS: '1',
  };
  work = tempDir('parts-work');
  const lines = ['profile_id,email,city'];
  expectedLines = [];
  for (let i = 1; i <= ROWS; i++) {
    const line = `${i},member${i}@example.com,city-${i % 97}`;
    lines.push(line);
    expectedLines.push(line);
  }
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  // A distant server: every answer waits, so a part takes long enough for the other worker to take the next.
  sftp = await startFakeSftpServer({ username: 'u', password: 'p4ssword-for-parts', latencyMs: 15 });
  const home = await openHome({ dir: newHome('setup'), env: { ...env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'tester' } });
  try {
    await loadEntity(home, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
    await createConnection(home, {
      type: 'sftp',
      name: 'partner',
      config: { host: sftp.host, port: sftp.port, username: 'u', password: 'p4ssword-for-parts', folder: '/out', compression: 'gzip', hostKeySha256: sftp.hostKeySha256 },
      acceptPrivacyTerms: true,
    });
    await createExport(home, { name: 'customers', connection: 'partner', entities: ['Customer'], config: { rowsPerFile: ROWS_PER_PART } });
  } finally {
    await home.close();
  }
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  partsQueue = new Queue<PartJob, PartOutcome>(PARTS_QUEUE, { connection: redis, prefix: redisKeys.prefix });
  [server] = await Promise.all([
    startServerProcess(newHome('server'), { env }),
    (async () => {
      workers.push(await startWorkerProcess(newHome('w1'), env, ['--concurrency', '1']));
      workers.push(await startWorkerProcess(newHome('w2'), env, ['--concurrency', '1']));
    })(),
  ]);
}, 180_000);

beforeEach(() => {
  fs.rmSync(folder(), { recursive: true, force: true });
  fs.mkdirSync(folder());
  sftp.reset();
});

afterEach(async () => {
  // Every worker still runs: none was killed.
  for (const w of workers) expect(w.child.exitCode, w.output()).toBeNull();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await server?.stop();
  await partsQueue?.close();
  redis?.disconnect();
  await sftp?.close();
  await redisKeys.clean();
  await db?.drop();
  for (const dir of [...homes, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface RunView {
  id: string;
  status: string;
  error?: { code: string; message: string };
  entities: Array<{ name: string; rows: number; files?: Array<{ path: string; rows: number; bytes: number }> }>;
}

async function queueRun(): Promise<string> {
  const queued = await server!.request<RunView>('POST', '/api/exports/customers/runs');
  expect(queued.status, JSON.stringify(queued.body)).toBe(202);
  return queued.body.id;
}

async function runToEnd(id?: string): Promise<RunView> {
  const runId = id ?? (await queueRun());
  let run!: RunView;
  await until(
    'the run to end',
    async () => {
      run = (await server!.request<RunView>('GET', `/api/runs/${runId}`)).body;
      return run.status !== 'queued' && run.status !== 'running';
    },
    90_000,
    () => workers.map((w) => w.output()).join('\n---\n'),
  );
  return run;
}

/** The part jobs of one run, as BullMQ kept them: which worker rendered which part. */
async function partJobs(runId: string) {
  const jobs = await partsQueue.getJobs(['completed', 'failed'], 0, 1000);
  return jobs.filter((j) => j.data.runId === runId);
}

/** The folder holds one complete set: every row once across the parts, the manifest, no temporary file. */
function expectCompleteSet(): void {
  // The final files hold every row exactly once; no temporary file is left; the manifest lists them.
  const names = listing();
  expect(names.filter((n) => n.endsWith('.partial'))).toEqual([]);
  const parts = names.filter((n) => n.endsWith('.csv.gz'));
  expect(parts).toHaveLength(PARTS);
  const seen: string[] = [];
  for (const name of parts) {
    const lines = zlib.gunzipSync(fs.readFileSync(path.join(folder(), name))).toString('utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('profile_id,email,city');
    expect(lines.length - 1).toBe(ROWS_PER_PART);
    seen.push(...lines.slice(1));
  }
  expect(seen.sort()).toEqual([...expectedLines].sort());
  const manifest = JSON.parse(fs.readFileSync(path.join(folder(), names.find((n) => n.endsWith('.manifest.json'))!), 'utf8')) as { rows: number; parts: Array<{ file: string }> };
  expect(manifest.rows).toBe(ROWS);
  expect(manifest.parts.map((p) => p.file).sort()).toEqual(parts);
}

describe('parallel file parts across workers', () => {
  it('two workers render and stage the five parts of one SFTP run; the coordinator renames a complete set', async () => {
    const run = await runToEnd();
    expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded' });
    const files = run.entities[0]!.files!;
    expect(files.map((f) => f.rows)).toEqual(Array.from({ length: PARTS }, () => ROWS_PER_PART));

    // Both workers staged parts; every part once.
    const jobs = await partJobs(run.id);
    expect(jobs).toHaveLength(PARTS);
    const outcomes = jobs.map((j) => j.returnvalue);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ ok: true });
    expect(new Set(jobs.map((j) => j.data.plan.index))).toEqual(new Set([1, 2, 3, 4, 5]));
    const renderedBy = new Set(outcomes.map((o) => o.pid));
    expect([...renderedBy].sort(), JSON.stringify(outcomes)).toEqual(workers.map((w) => w.child.pid).sort());
    // At once: one part at a time per worker, two uploads open together.
    expect(sftp.maxConcurrentUploads).toBe(2);

    expectCompleteSet();
  }, 90_000);

  it('a part the SFTP server refuses fails the run: no file under its final name, every staged part removed', async () => {
    // The third part's upload is refused (a permission the folder does not give); the others may be staged by then.
    sftp.failNext(PERMISSION_DENIED, { path: `_3of${PARTS}.csv.gz` });
    const run = await runToEnd();
    expect(run.status, JSON.stringify(run)).toBe('failed');
    expect(run.error, JSON.stringify(run.error)).toMatchObject({ code: "folder_not_writable" });
    expect(listing()).toEqual([]);
    // The refused part's job says so; no rename ever happened.
    const jobs = await partJobs(run.id);
    expect(jobs.find((j) => j.data.plan.index === 3)?.returnvalue).toMatchObject({ ok: false, error: { code: 'folder_not_writable' } });
    expect(sftp.operations.filter((o) => o.op === 'RENAME' || o.op === 'POSIX-RENAME')).toEqual([]);
  }, 90_000);

  it('SIGKILL of a worker rendering a part: BullMQ gives the part to the other worker, and the set is complete', async () => {
    // A distant server: parts take seconds, so one is surely in progress when its worker dies.
    sftp.configure({ latencyMs: 120 });
    try {
      const id = await queueRun();
      let coordinator = 0;
      await until('a worker to coordinate the run', async () => {
        const status = await server!.request<{ workers: Array<{ pid: number; runs: Array<{ id: string }> }> }>('GET', '/api/status');
        coordinator = status.body.workers.find((w) => w.runs.some((r) => r.id === id))?.pid ?? 0;
        return coordinator !== 0;
      });
      const victim = workers.find((w) => w.child.pid !== coordinator)!;
      // Kill it while it uploads a part (its temporary file is on the server).
      await until('the other worker to upload a part', async () => {
        const active = await partsQueue.getActive();
        const mine = active.filter((j) => j.data.runId === id && j.processedBy?.includes(`-${victim.child.pid}-`)).map((j) => `_${j.data.plan.index}of${PARTS}.csv.gz.`);
        return listing().some((n) => n.endsWith('.partial') && mine.some((part) => n.includes(part)));
      });
      await victim.kill();
      workers.splice(workers.indexOf(victim), 1);
      // The run shows rows as the workers render them, not only when a part completes.
      await until('rows of a part in progress to show on the run', async () => {
        const { rowsDone } = (await server!.request<{ rowsDone: number }>('GET', `/api/runs/${id}`)).body;
        return rowsDone % ROWS_PER_PART !== 0;
      }, 30_000);

      const run = await runToEnd(id);
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded' });
      const jobs = await partJobs(id);
      expect(jobs).toHaveLength(PARTS);
      // The killed worker's part was taken again after its lock expired, and finished by the coordinator's process.
      const stalled = jobs.filter((j) => j.stalledCounter > 0 || j.attemptsStarted > 1);
      expect(stalled.length, JSON.stringify(jobs.map((j) => ({ index: j.data.plan.index, started: j.attemptsStarted, stalled: j.stalledCounter, pid: j.returnvalue?.pid })))).toBeGreaterThanOrEqual(1);
      for (const job of stalled) expect(job.returnvalue).toMatchObject({ ok: true, pid: coordinator });
      expectCompleteSet();
    } finally {
      sftp.configure({ latencyMs: 15 });
    }
  }, 120_000);

  it('a cancel stops the parts in every worker: the run ends cancelled, no file under a final name, no part job left', async () => {
    sftp.configure({ latencyMs: 120 });
    try {
      const id = await queueRun();
      await until('a part to be uploading', async () => listing().some((n) => n.endsWith('.partial')));
      const cancelled = await server!.request('POST', `/api/runs/${id}/cancel`);
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
      const run = await runToEnd(id);
      expect(run.status, JSON.stringify(run)).toBe('cancelled');
      expect(listing().filter((n) => !n.endsWith('.partial'))).toEqual([]);
      // Every part job ended (those not started were removed), none was staged afterwards.
      expect((await partsQueue.getJobs(['active', 'waiting'])).filter((j) => j.data.runId === id)).toEqual([]);
      for (const job of await partJobs(id)) expect(job.returnvalue?.ok === true || job.returnvalue?.error.code === 'cancelled', JSON.stringify(job.returnvalue)).toBe(true);
    } finally {
      sftp.configure({ latencyMs: 15 });
    }
  }, 120_000);

  it('SIGTERM drains a worker rendering a part: the part goes back to the queue, another worker stages it, the set is complete', async () => {
    // The previous tests may have killed a worker: two again.
    while (workers.length < 2) workers.push(await startWorkerProcess(newHome(`w${homes.length}`), env, ['--concurrency', '1']));
    sftp.configure({ latencyMs: 120 });
    try {
      const id = await queueRun();
      let coordinator = 0;
      await until('a worker to coordinate the run', async () => {
        const status = await server!.request<{ workers: Array<{ pid: number; runs: Array<{ id: string }> }> }>('GET', '/api/status');
        coordinator = status.body.workers.find((w) => w.runs.some((r) => r.id === id))?.pid ?? 0;
        return coordinator !== 0;
      });
      const drained = workers.find((w) => w.child.pid !== coordinator)!;
      await until('the other worker to upload a part', async () => {
        const active = await partsQueue.getActive();
        const mine = active.filter((j) => j.data.runId === id && j.processedBy?.includes(`-${drained.child.pid}-`)).map((j) => `_${j.data.plan.index}of${PARTS}.csv.gz.`);
        return listing().some((n) => n.endsWith('.partial') && mine.some((part) => n.includes(part)));
      });
      expect(await drained.stop()).toBe(0);
      workers.splice(workers.indexOf(drained), 1);

      const run = await runToEnd(id);
      expect(run, JSON.stringify(run)).toMatchObject({ status: 'succeeded' });
      const jobs = await partJobs(id);
      expect(jobs).toHaveLength(PARTS);
      for (const job of jobs) expect(job.returnvalue).toMatchObject({ ok: true });
      // The handed-back part was started twice and finished by the coordinator's process.
      const again = jobs.filter((j) => j.attemptsStarted > 1);
      expect(again.length, JSON.stringify(jobs.map((j) => ({ index: j.data.plan.index, started: j.attemptsStarted, pid: j.returnvalue?.pid })))).toBeGreaterThanOrEqual(1);
      for (const job of again) expect(job.returnvalue.pid).toBe(coordinator);
      expectCompleteSet();
    } finally {
      sftp.configure({ latencyMs: 15 });
    }
  }, 120_000);
});
