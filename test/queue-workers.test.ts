import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, queueRun } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { cancelRun } from '../src/app/runs.ts';
import { showStatus } from '../src/app/status.ts';
import { ConfigError } from '../src/domain/errors.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { BullRunQueue, queueSettings, type QueueSettings } from '../src/queue/bull.ts';
import { createRunWorker, startWorker, type RunWorker } from '../src/server/worker.ts';
import { startServer } from '../src/server/serve.ts';
import { getRun, listRuns } from '../src/store/metadata/runs.ts';
import { tempDir } from './support/cli.ts';
import { freshDatabase, queuePrefix, REDIS_URL, until } from './support/scale-out.ts';

// The queue mechanics of scale-out mode, with the workers in this process (they share its home; the
// separate-process tests, with SIGKILL, are in scale-out.e2e.test.ts): a run goes through BullMQ to a worker,
// a cancel reaches that worker, a drained worker hands its run back and another continues it from the
// checkpoint, and `status` shows the queue and the workers.

const KEY = 'queue-workers-key';
const ROWS = 30_000;
const BATCH = 1000;
/** Iterable's batches in flight at once. */
const IN_FLIGHT = 3;

let dir: string;
let work: string;
let home: Home;
let iterable: IterableFake;
let db: Awaited<ReturnType<typeof freshDatabase>>;
const redisKeys = queuePrefix('queue-workers');
let settings: QueueSettings;
let producer: BullRunQueue;
const workers: RunWorker[] = [];

const email = (i: number) => `member${i}@example.com`;

beforeAll(async () => {
  dir = tempDir('queue-home');
  work = tempDir('queue-work');
  db = await freshDatabase('queue_workers');
  const env = { ...process.env, OUTFLOW_DATABASE_URL: db.url, OUTFLOW_REDIS_URL: REDIS_URL, OUTFLOW_QUEUE_PREFIX: redisKeys.prefix, OUTFLOW_ROLE: '', OUTFLOW_USER: 'tester' };
  settings = queueSettings(env)!;
  home = await openHome({ dir, env });
  const lines = ['profile_id,email'];
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},${email(i)}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }], rateLimits: { 'POST /api/lists/subscribe': { requests: 100, perMs: 1000 } }, latencyMs: 20 });
  await loadEntity(home, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
  // One segment per export: Iterable lists are named after the segment.
  for (const name of ['plain', 'cancelled', 'drained']) await createSegment(home, { name, entity: 'Customer', where: 'profile_id > 0' });
  await refreshSegments(home);
  // 5 requests a second: a run of 30 batches lasts about 6 s, long enough to act in the middle of it.
  await createConnection(home, { type: 'iterable', name: 'iterable', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: 5 }, acceptPrivacyTerms: true });
  for (const name of ['plain', 'cancelled', 'drained']) {
    await createExport(home, { name, connection: 'iterable', segments: [name], config: { mapping: { email: 'email' }, syncMode: 'full' } });
  }
  producer = new BullRunQueue(home, settings, { poll: false });
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.drain()));
  await producer?.stopAll();
  await home?.close();
  await iterable?.close();
  await redisKeys.clean();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function worker(): RunWorker {
  const w = createRunWorker(home, settings, { concurrency: 1, lockMs: 3000, stalledCheckMs: 1000 });
  workers.push(w);
  return w;
}

function listMembers(name: string): string[] {
  const list = iterable.lists(KEY).find((l) => l.name === name);
  return list ? iterable.listMembers(list.id, KEY) : [];
}

function subscribed(listName: string): number {
  const list = iterable.lists(KEY).find((l) => l.name === listName);
  return iterable.requests.filter((r) => r.path === '/api/lists/subscribe' && JSON.parse(r.body).listId === list?.id).reduce((sum, r) => sum + JSON.parse(r.body).subscribers.length, 0);
}

const everyone = () => Array.from({ length: ROWS }, (_, i) => email(i + 1));

describe('runs through the BullMQ queue', () => {
  it('a queued run executes on a worker, and status shows the worker with its run and the queue', async () => {
    const w = worker();
    const run = await queueRun(home, 'plain');
    producer.start(run.id);
    await until('the run to start', async () => (await getRun(home.db, run.id)).status === 'running');
    await until('the status to show the run on the worker', async () => {
      const status = await showStatus(home, producer);
      return status.workers.some((x) => x.id === w.id && x.runs.some((r) => r.id === run.id && r.export === 'plain'));
    });
    const status = await showStatus(home, producer);
    expect(status).toMatchObject({ mode: 'distributed', queue: { waiting: 0, active: 1, delayed: 0 } });
    expect(status.workers.find((x) => x.id === w.id)).toMatchObject({ pid: process.pid, concurrency: 1 });
    await until('the run to end', async () => (await getRun(home.db, run.id)).status !== 'running', 60_000);
    expect(await getRun(home.db, run.id)).toMatchObject({ status: 'succeeded', sent: ROWS });
    expect(new Set(listMembers('plain'))).toEqual(new Set(everyone()));
    // The job completes just after the run record ends.
    await until('the job to complete', async () => (await showStatus(home, producer)).queue.active === 0, 10_000);
    expect((await showStatus(home, producer)).queue).toEqual({ waiting: 0, active: 0, delayed: 0 });
  }, 90_000);

  it('a cancel reaches the worker executing the run within seconds', async () => {
    const run = await queueRun(home, 'cancelled');
    producer.start(run.id);
    await until('batches to go out', async () => (await getRun(home.db, run.id)).sent >= 2 * BATCH);
    const asked = Date.now();
    await cancelRun(home, run.id, (id, status) => producer.cancel(id, status));
    await until('the run to end', async () => (await getRun(home.db, run.id)).status !== 'running', 10_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    const ended = await getRun(home.db, run.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.sent).toBeLessThan(ROWS);
  }, 60_000);

  it('a queued run cancelled before any worker takes it never runs', async () => {
    await Promise.all(workers.splice(0).map((w) => w.drain()));
    const run = await queueRun(home, 'cancelled');
    producer.start(run.id);
    await cancelRun(home, run.id, (id, status) => producer.cancel(id, status));
    expect((await getRun(home.db, run.id)).status).toBe('cancelled');
    const before = iterable.requests.length;
    worker();
    // The job, if it survived, finds a cancelled run: nothing is sent.
    await new Promise((r) => setTimeout(r, 1500));
    expect(iterable.requests.length).toBe(before);
    expect((await showStatus(home, producer)).queue.waiting).toBe(0);
  }, 30_000);

  it('a draining worker stops at a batch boundary and hands the run back; another continues it from the checkpoint', async () => {
    await Promise.all(workers.splice(0).map((w) => w.drain()));
    const first = worker();
    const run = await queueRun(home, 'drained');
    producer.start(run.id);
    await until('batches to go out', async () => (await getRun(home.db, run.id)).sent >= 5 * BATCH);
    const second = worker();
    await first.drain();
    const interrupted = await getRun(home.db, run.id);
    expect(interrupted).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    expect(interrupted.error!.message).toContain('SIGTERM');
    expect(interrupted.error!.message).toContain('Another worker resumes it from its checkpoint');
    await until(
      'the run to be continued and end',
      async () => {
        const runs = await listRuns(home.db, { exportName: 'drained', limit: 5 });
        return runs.length === 2 && runs[0]!.status !== 'queued' && runs[0]!.status !== 'running';
      },
      60_000,
    );
    const [resumed] = await listRuns(home.db, { exportName: 'drained', limit: 1 });
    expect(resumed).toMatchObject({ status: 'succeeded', trigger: 'recovery', resumedFrom: run.id, sent: ROWS });
    // The worker lets go of the run just after recording its end: a read in between still saw it busy.
    await until('the second worker to let go of the run', async () => second.running.length === 0);
    expect(new Set(listMembers('drained'))).toEqual(new Set(everyone()));
    // Nothing skipped, and at most the batches in flight at the drain sent twice.
    expect(subscribed('drained')).toBeGreaterThanOrEqual(ROWS);
    expect(subscribed('drained') - ROWS).toBeLessThanOrEqual(IN_FLIGHT * BATCH);
  }, 120_000);
});

describe('scale-out settings', () => {
  it('OUTFLOW_REDIS_URL without a PostgreSQL metadata store is refused, by the server too, saying what to set', async () => {
    expect(() => queueSettings({ OUTFLOW_REDIS_URL: REDIS_URL })).toThrow(ConfigError);
    expect(() => queueSettings({ OUTFLOW_REDIS_URL: REDIS_URL })).toThrow(/Set OUTFLOW_DATABASE_URL=postgres:/);
    expect(() => queueSettings({ OUTFLOW_REDIS_URL: 'http://x', OUTFLOW_DATABASE_URL: db.url })).toThrow(/redis:\/\//);
    expect(queueSettings({})).toBeNull();
    await expect(startServer({ dir: tempDir('queue-refused'), port: 0, env: { OUTFLOW_REDIS_URL: 'redis://user:s3cret@127.0.0.1:6379' } })).rejects.toThrow(/OUTFLOW_DATABASE_URL/);
    await expect(startServer({ dir: tempDir('queue-refused'), port: 0, env: { OUTFLOW_REDIS_URL: 'redis://user:s3cret@127.0.0.1:6379' } })).rejects.not.toThrow(/s3cret/);
  });

  it('a worker refuses to start without a queue, or with the DuckDB profile store of a home', async () => {
    await expect(startWorker({ dir: tempDir('worker-refused'), env: {} })).rejects.toThrow(/OUTFLOW_REDIS_URL=redis:/);
    await expect(startWorker({ dir: tempDir('worker-refused'), env: { OUTFLOW_REDIS_URL: REDIS_URL, OUTFLOW_DATABASE_URL: db.url } })).rejects.toThrow(/OUTFLOW_PROFILES_URL=postgres:.*DuckDB/);
  });
});
