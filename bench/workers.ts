import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, queueRun } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startIterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { BullRunQueue, queueSettings, readQueueStatus } from '../src/queue/bull.ts';
import { getRun } from '../src/store/metadata/runs.ts';
import { BenchError, formatInt, formatRatio, formatSeconds, OUTFLOW_BIN, printTable, tempDir } from './support.ts';

// `npm run bench -- workers`: runs through the BullMQ queue to 1, 2 and 4 `outflow worker` processes (each
// executing one run at a time), with the run records and profiles in PostgreSQL and the queue in Redis.
// 1. Throughput: 8 runs of N members to the Iterable fake with 50 ms latency and no rate limit; the target is
//    ≥ 3.5× the records per second from 1 to 4 workers.
// 2. A shared rate limit: 4 workers send 4 runs to one account limited to R requests a second (the fake
//    answers 429 above it); the target is a request rate within 5 % of R and no 429.

export const DEFAULT_WORKER_MEMBERS = 50_000;
const LATENCY_MS = 50;
const RUNS = 8;
const LIMITED_RUNS = 4;
export const DEFAULT_LIMIT = 8;
const POSTGRES_URL = process.env.OUTFLOW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.OUTFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = 'bench-workers-key';

export interface WorkersBenchOptions {
  members: number;
  limit: number;
  keep: boolean;
  /** One of the two measurements only. */
  only?: 'throughput' | 'limit';
}

interface WorkerChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
}

export async function runWorkersBench(options: WorkersBenchOptions): Promise<boolean> {
  const dir = tempDir('workers');
  const dbName = `bench_workers_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = Object.assign(new URL(POSTGRES_URL), { pathname: `/${dbName}` }).toString();
  const prefix = `outflow-bench-${process.pid}-${Date.now().toString(36)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OUTFLOW_DATABASE_URL: dbUrl,
    OUTFLOW_PROFILES_URL: `${dbUrl}?schema=profiles`,
    OUTFLOW_REDIS_URL: REDIS_URL,
    OUTFLOW_QUEUE_PREFIX: prefix,
    OUTFLOW_SECRET_KEY: randomBytes(32).toString('hex'),
    OUTFLOW_ROLE: '',
    OUTFLOW_USER: 'bench',
  };
  const settings = queueSettings(env)!;
  const iterable = await startIterableFake({ projects: [{ apiKey: KEY }], latencyMs: LATENCY_MS, rateLimits: { 'POST /api/lists/subscribe': { requests: 1_000_000, perMs: 1000 } } });
  let home: Home | undefined;
  let producer: BullRunQueue | undefined;
  const children: WorkerChild[] = [];
  try {
    home = await openHome({ dir: path.join(dir, 'bench-home'), env });
    console.log(`Preparing ${formatInt(options.members)} profiles and ${RUNS + LIMITED_RUNS} exports (PostgreSQL profile store)…`);
    const csv = path.join(dir, 'customers.csv');
    fs.writeFileSync(csv, `profile_id,email\n${Array.from({ length: options.members }, (_, i) => `${i + 1},member${i + 1}@example.com`).join('\n')}\n`);
    await loadEntity(home, 'Customer', csv, { key: 'profile_id' });
    await createConnection(home, { type: 'iterable', name: 'open', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: 100_000 }, acceptPrivacyTerms: true });
    await createConnection(home, { type: 'iterable', name: 'limited', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: options.limit }, acceptPrivacyTerms: true });
    const open = Array.from({ length: RUNS }, (_, i) => `open-${i + 1}`);
    const limited = Array.from({ length: LIMITED_RUNS }, (_, i) => `limited-${i + 1}`);
    for (const name of [...open, ...limited]) {
      // One segment per export: Iterable lists are named after the segment.
      await createSegment(home, { name, entity: 'Customer', where: 'profile_id > 0' });
      await createExport(home, { name, connection: name.startsWith('open') ? 'open' : 'limited', segments: [name], config: { mapping: { email: 'email' }, syncMode: 'full' } });
    }
    await refreshSegments(home);
    producer = new BullRunQueue(home, settings, { poll: false });
    const redis = new Redis(REDIS_URL);

    const startWorkers = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const child = spawn(process.execPath, [OUTFLOW_BIN, 'worker', '--home', path.join(dir, `worker-${children.length}`), '--concurrency', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout!.on('data', (d) => (output += d));
        child.stderr!.on('data', (d) => (output += d));
        children.push({ child, output: () => output, exited: new Promise((r) => child.once('exit', r)) });
      }
      const deadline = Date.now() + 60_000;
      while ((await readQueueStatus(producer!.queue, redis, settings)).workers.length < count) {
        const dead = children.find((c) => c.child.exitCode !== null);
        if (dead) throw new BenchError(`outflow worker exited:\n${dead.output()}`);
        if (Date.now() > deadline) throw new BenchError('the workers did not start within 60 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const stopWorkers = async () => {
      for (const c of children) c.child.kill('SIGTERM');
      await Promise.all(children.map((c) => c.exited));
      children.length = 0;
      // Their keys go with them; wait for the last to expire if one was not removed.
      await new Promise((r) => setTimeout(r, 200));
    };
    const runAll = async (names: string[]) => {
      const ids: string[] = [];
      const started = performance.now();
      for (const name of names) {
        const run = await queueRun(home!, name);
        await producer!.enqueue(run.id);
        ids.push(run.id);
      }
      for (;;) {
        const runs = await Promise.all(ids.map((id) => getRun(home!.db, id)));
        if (runs.every((r) => r.status !== 'queued' && r.status !== 'running')) {
          const failed = runs.find((r) => r.status !== 'succeeded');
          if (failed) throw new BenchError(`run ${failed.id} of ${failed.exportName} ended ${failed.status}: ${failed.error?.message ?? ''}`);
          const durations = runs.map((r) => (Date.parse(r.finishedAt!) - Date.parse(r.startedAt!)) / 1000);
          if (process.env.BENCH_DEBUG) for (const r of runs) console.log(r.exportName, r.startedAt, r.finishedAt);
          return { seconds: (performance.now() - started) / 1000, records: runs.reduce((sum, r) => sum + r.sent, 0), runSeconds: durations.reduce((a, b) => a + b, 0) / durations.length };
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    if (options.only !== 'limit') {
    console.log(`\nThroughput: ${RUNS} runs of ${formatInt(options.members)} members, Iterable fake with ${LATENCY_MS} ms latency, no rate limit; each worker runs one at a time.\n`);
    const rows: string[][] = [];
    let single = 0;
    let ratio4 = 0;
    for (const count of [1, 2, 4]) {
      await startWorkers(count);
      const result = await runAll(open);
      await stopWorkers();
      const perSecond = result.records / result.seconds;
      if (count === 1) single = perSecond;
      if (count === 4) ratio4 = perSecond / single;
      rows.push([String(count), formatSeconds(result.seconds), formatSeconds(result.runSeconds), formatInt(result.records), formatInt(perSecond), formatRatio(perSecond / single)]);
    }
    printTable(['workers', 'seconds', 'one run (mean s)', 'records', 'records/s', 'vs 1'], rows);
    console.log(`\n1 → 4 workers: ${formatRatio(ratio4)} (target ≥ 3.50x)`);
    }
    if (options.only === 'throughput') return true;

    console.log(`\nShared rate limit: ${LIMITED_RUNS} workers, ${LIMITED_RUNS} runs to one account limited to ${options.limit} requests/s (the fake answers 429 above it).\n`);
    iterable.setRateLimit('POST /api/lists/subscribe', { requests: options.limit, perMs: 1000 });
    const from = iterable.requests.length;
    await startWorkers(LIMITED_RUNS);
    const limitedResult = await runAll(limited);
    await stopWorkers();
    const sent = iterable.requests.slice(from).filter((r) => r.path === '/api/lists/subscribe');
    const throttled = sent.filter((r) => r.status === 429).length;
    const span = (sent.at(-1)!.at - sent[0]!.at) / 1000;
    const rate = (sent.length - 1) / span;
    // While every run is sending (between the 10th and the 90th percentile request): the runs start and end at
    // different times, and at the ends fewer of them ask for turns than the limit allows.
    const lo = Math.floor(sent.length * 0.1);
    const hi = Math.floor(sent.length * 0.9);
    const steady = (hi - lo) / ((sent[hi]!.at - sent[lo]!.at) / 1000);
    const pct = (r: number) => `${((r / options.limit) * 100).toFixed(1)} %`;
    printTable(
      ['workers', 'seconds', 'requests', 'requests/s', 'of limit', 'middle 80 %: req/s', 'of limit', 'limit', '429s'],
      [[String(LIMITED_RUNS), formatSeconds(limitedResult.seconds), formatInt(sent.length), rate.toFixed(2), pct(rate), steady.toFixed(2), pct(steady), String(options.limit), String(throttled)]],
    );
    const within = Math.abs(steady / options.limit - 1) <= 0.05;
    console.log(`\nRequest rate while all runs send ${within ? 'within' : 'NOT within'} 5 % of the limit (the pacing aims at 95 %); ${throttled === 0 ? 'no 429' : `${throttled} answers 429`} (targets: within 5 %, zero 429s).`);
    redis.disconnect();
    return true;
  } finally {
    for (const c of children) c.child.kill('SIGKILL');
    await producer?.stopAll();
    await home?.close();
    await iterable.close();
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== '0');
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    if (options.keep) console.log(`Kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
