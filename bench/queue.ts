import fs from 'node:fs';
import path from 'node:path';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, queueRun, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { getDestination } from '../src/destinations/index.ts';
import { startIterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import type { ExportRecord, RecordExportDefinition } from '../src/destinations/kit/define.ts';
import type { Run } from '../src/domain/model.ts';
import { destinationContext, resolveConnectionConfig } from '../src/engine/services.ts';
import { RunManager } from '../src/server/run-manager.ts';
import { getConnectionByName } from '../src/store/metadata/connections.ts';
import { formatInt, formatSeconds, printTable, seconds, tempDir } from './support.ts';

// `npm run bench -- queue [--runs N] [--members N]`: what the run queue and the engine's bookkeeping cost on
// top of the requests themselves, against the Iterable fake with no latency and no rate limit (so that only
// Outflow's own work is measured):
// - per run: N runs of one-batch exports, (a) the same batches sent straight through the destination's
//   client, (b) each run executed in this process (`outflow export run` without a server: run record,
//   snapshot, checkpoints), (c) each run queued and executed by the RunManager of `outflow serve`;
// - per batch: one run of M members (M / 1,000 batches) through the RunManager vs the same batches sent
//   straight through the client.

export const DEFAULT_RUNS = 50;
export const DEFAULT_MEMBERS = 200_000;
const KEY = 'bench-queue-key';
const UNLIMITED = { requests: 1_000_000, perMs: 1000 };

/** Sends `batches` batches of `size` members straight through the Iterable client, as a run's dispatcher would. */
async function rawSends(home: Home, batches: number, size: number, offset: number): Promise<number> {
  const kind = getDestination('iterable').export as RecordExportDefinition<unknown>;
  const connection = await getConnectionByName(home.db, home.box, 'iterable');
  const config = await resolveConnectionConfig(home, connection);
  const ctx = destinationContext(home, connection, { signal: new AbortController().signal });
  const session = await kind.open(config, ctx);
  const settings = kind.settings.parse({}) as Record<string, unknown>;
  const start = performance.now();
  try {
    const target = await session.prepare({ segment: 'raw', settings, members: batches * size });
    for (let b = 0; b < batches; b++) {
      const records: ExportRecord[] = Array.from({ length: size }, (_, i) => {
        const id = offset + b * size + i + 1;
        return { key: String(id), fields: { email: `member${id}@example.com` }, extra: {} };
      });
      await session.send({ action: 'add', records, target, segment: 'raw', settings });
    }
  } finally {
    await session.close?.();
  }
  return seconds(start);
}

/** Queues each run through the RunManager and waits for all to finish. */
async function throughManager(home: Home, exports: string[]): Promise<{ seconds: number; runs: Run[] }> {
  const finished = new Map<string, (run: Run) => void>();
  const manager = new RunManager(home, { concurrency: 1, onFinished: (run) => finished.get(run.id)?.(run) });
  const start = performance.now();
  try {
    const done: Array<Promise<Run>> = [];
    for (const name of exports) {
      const run = await queueRun(home, name);
      done.push(new Promise((resolve) => finished.set(run.id, resolve)));
      manager.start(run.id, home.actor);
    }
    const runs = await Promise.all(done);
    return { seconds: seconds(start), runs };
  } finally {
    await manager.stopAll();
  }
}

export async function runQueueBench(options: { runs: number; members: number; keep: boolean }): Promise<boolean> {
  const work = tempDir('queue');
  const fake = await startIterableFake({ projects: [{ apiKey: KEY }], rateLimits: { 'POST /api/lists/subscribe': UNLIMITED, 'GET /api/lists': UNLIMITED, 'POST /api/lists': UNLIMITED } });
  const logTimer = setInterval(() => fake.requests.splice(0), 1_000);
  let home: Home | undefined;
  let ok = true;
  try {
    const rows = Math.max(options.members, 1000);
    const file = path.join(work, 'customers.csv');
    const lines = ['profile_id,email,small'];
    for (let i = 1; i <= rows; i++) lines.push(`${i},member${i}@example.com,${i <= 1000}`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    home = await openHome({ dir: path.join(work, 'home'), env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
    await loadEntity(home, 'Customer', file, { key: 'profile_id' });
    await createSegment(home, { name: 'small', where: 'small' });
    await createSegment(home, { name: 'large', where: 'profile_id > 0' });
    await refreshSegments(home);
    await createConnection(home, { type: 'iterable', name: 'iterable', config: { apiKey: KEY, baseUrl: fake.url, requestsPerSecond: 1_000_000 }, acceptPrivacyTerms: true });
    const config = { mapping: { email: 'email' }, syncMode: 'full' };
    // One export per run: a second run of an export waits for the first (409), and the queue holds them all at once.
    const oneBatch = Array.from({ length: options.runs }, (_, i) => `one-batch-${i + 1}`);
    for (const name of oneBatch) await createExport(home, { name, connection: 'iterable', segments: ['small'], config });
    await createExport(home, { name: 'many-batches', connection: 'iterable', segments: ['large'], config });
    // One warm-up of each path: module loading and DuckDB's first queries are not the queue's cost.
    await rawSends(home, 1, 1000, 0);
    await runExport(home, oneBatch[0]!);

    const n = options.runs;
    console.log(`Per run: ${n} runs of 1,000 members (one batch each), Iterable fake without latency or rate limit.`);
    const raw = await rawSends(home, n, 1000, 0);
    let start = performance.now();
    for (const name of oneBatch) {
      const run = await runExport(home, name);
      if (run.status !== 'succeeded') throw new Error(`direct run ${run.status}: ${run.error?.message ?? ''}`);
    }
    const direct = seconds(start);
    const queued = await throughManager(home, oneBatch);
    if (queued.runs.some((r) => r.status !== 'succeeded')) throw new Error('a queued run failed');

    const batches = Math.ceil(options.members / 1000);
    console.log(`Per batch: one run of ${formatInt(options.members)} members (${formatInt(batches)} batches) through the RunManager vs the same sends.`);
    const rawMany = await rawSends(home, batches, 1000, 0);
    start = performance.now();
    const many = await throughManager(home, ['many-batches']);
    if (many.runs[0]!.status !== 'succeeded') throw new Error(`large run ${many.runs[0]!.status}: ${many.runs[0]!.error?.message ?? ''}`);

    console.log('');
    printTable(
      ['what', 'runs', 'batches', 'seconds', 'per run ms', 'per batch ms', 'overhead vs sends'],
      [
        ['sends only (client, no run)', String(n), String(n), formatSeconds(raw), (raw * 1000 / n).toFixed(1), (raw * 1000 / n).toFixed(1), '—'],
        ['runs executed in process (no queue)', String(n), String(n), formatSeconds(direct), (direct * 1000 / n).toFixed(1), '—', `${((direct - raw) * 1000 / n).toFixed(1)} ms/run`],
        ['runs queued through RunManager', String(n), String(n), formatSeconds(queued.seconds), (queued.seconds * 1000 / n).toFixed(1), '—', `${((queued.seconds - raw) * 1000 / n).toFixed(1)} ms/run`],
        ['sends only (client, no run)', '1', formatInt(batches), formatSeconds(rawMany), '—', (rawMany * 1000 / batches).toFixed(2), '—'],
        ['one run through RunManager', '1', formatInt(batches), formatSeconds(many.seconds), '—', (many.seconds * 1000 / batches).toFixed(2), `${((many.seconds - rawMany) * 1000 / batches).toFixed(2)} ms/batch`],
      ],
    );
    console.log('');
    console.log(`The queue itself (RunManager vs in-process runs): ${(((queued.seconds - direct) * 1000) / n).toFixed(1)} ms per run.`);
  } catch (error) {
    ok = false;
    console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearInterval(logTimer);
    await home?.close();
    await fake.close();
    if (options.keep) console.log(`Kept ${work}.`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
  return ok;
}
