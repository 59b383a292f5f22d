import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments, updateSegment } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { tempDir } from './support/cli.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

// The Crash test of issue 8: `outflow serve` runs as a child process and is SIGKILLed at random points of a
// run of 200,000 members; each restart resumes the interrupted run from its checkpoint. At the end the
// destination holds exactly the segment, and what it received beyond that is at most the batches in flight
// at each kill.

const KEY = 'crash-test-iterable-key';
const ROWS = 210_000;
/** Rows with `grp` < 20 of 21: the 200,000 members of segment `crowd`. */
const MEMBERS = 200_000;
const BATCH = 1000;
/** Iterable's batches in flight at once (its `limits.concurrency`). */
const IN_FLIGHT = 3;

let home: string;
let work: string;
let iterable: IterableFake;
let sftp: FakeSftpServer;
let server: ServerProcess | undefined;

const email = (i: number) => `member${i}@example.com`;

async function withHome<T>(fn: (home: Home) => Promise<T>): Promise<T> {
  const opened = await openHome({ dir: home, env: { ...process.env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'tester' } });
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

beforeAll(async () => {
  home = tempDir('crash-home');
  work = tempDir('crash-work');
  const lines = ['profile_id,email,grp'];
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},${email(i)},${i % 21}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  // Paced so that a run lasts long enough for kills to land in the middle of it.
  iterable = await startIterableFake({
    projects: [{ apiKey: KEY }],
    rateLimits: { 'POST /api/lists/subscribe': { requests: 1000, perMs: 1000 }, 'POST /api/lists/unsubscribe': { requests: 1000, perMs: 1000 } },
    latencyMs: 40,
  });
  sftp = await startFakeSftpServer({ latencyMs: 2 });
  fs.mkdirSync(path.join(sftp.root, 'out'));
  await withHome(async (h) => {
    await loadEntity(h, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
    await createSegment(h, { name: 'crowd', entity: 'Customer', where: 'grp < 20' });
    await createSegment(h, { name: 'shrinking', entity: 'Customer', where: 'grp < 15' });
    await refreshSegments(h);
    await createConnection(h, { type: 'iterable', name: 'iterable', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: 25 }, acceptPrivacyTerms: true });
    await createExport(h, { name: 'crowd', connection: 'iterable', segments: ['crowd'], config: { mapping: { email: 'email' }, syncMode: 'full' } });
    await createExport(h, { name: 'mirror', connection: 'iterable', segments: ['shrinking'], config: { mapping: { email: 'email' }, syncMode: 'mirror' } });
    await createConnection(h, {
      type: 'sftp',
      name: 'partner',
      config: { host: sftp.host, port: sftp.port, username: sftp.username, password: sftp.password, folder: '/out', hostKeySha256: sftp.hostKeySha256 },
      acceptPrivacyTerms: true,
    });
    await createExport(h, { name: 'files', connection: 'partner', entities: ['Customer'], config: { rowsPerFile: 50_000 } });
  });
}, 120_000);

// A test that fails leaves its server running: stop it, so that the next test does not start a second server
// on the same home (their runners would fight over the DuckDB file, and the next test fail for no reason).
afterEach(async () => {
  await server?.kill();
  server = undefined;
});

afterAll(async () => {
  await server?.stop();
  await Promise.all([iterable?.close(), sftp?.close()]);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nserver output:\n${server?.output() ?? ''}\nhome log (last lines):\n${homeLogTail()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The end of the home's log: what the servers and their runners said, for a failure message. */
function homeLogTail(lines = 60): string {
  const dir = path.join(home, 'logs');
  if (!fs.existsSync(dir)) return '(no log)';
  const text = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Distinct random points in [from, to), sorted: where to kill, in units of `progress()`. */
function randomPoints(count: number, from: number, to: number): number[] {
  const points = new Set<number>();
  while (points.size < count) points.add(from + Math.floor(Math.random() * (to - from)));
  return [...points].sort((a, b) => a - b);
}

interface RunView {
  id: string;
  status: string;
  trigger: string;
  resumedFrom?: string;
  sent: number;
  rejected: number;
  error?: { code: string; message: string };
  entities: Array<{ name: string; rows: number; sent?: number; removed?: number; files?: Array<{ path: string; rows: number }> }>;
}

/**
 * Queues a run of `name` on a fresh server, SIGKILLs the server each time `progress()` reaches the next of
 * `points` and starts it again, then waits for the export's newest run to end. Returns its runs, oldest first.
 */
async function crashLoop(name: string, progress: () => number, points: number[]): Promise<RunView[]> {
  server = await startServerProcess(home);
  const queued = await server.request('POST', `/api/exports/${name}/runs`);
  expect(queued.status).toBe(202);
  for (const point of points) {
    await until(`progress ${point} of ${name}`, () => progress() >= point);
    await server.kill();
    server = await startServerProcess(home);
  }
  let runs: RunView[] = [];
  await until(
    `the runs of ${name} to end`,
    async () => {
      const list = await server!.request<{ items: Array<{ id: string; status: string }> }>('GET', `/api/runs?export=${name}&limit=100`);
      const newest = list.body.items[0];
      if (!newest || newest.status === 'queued' || newest.status === 'running') return false;
      runs = await Promise.all(list.body.items.reverse().map(async (r) => (await server!.request<RunView>('GET', `/api/runs/${r.id}`)).body));
      return true;
    },
    180_000,
  );
  await server.stop();
  server = undefined;
  return runs;
}

/** Each killed run ended `interrupted` and was resumed exactly once by the next start; the last succeeded. */
function expectRecoveryChain(runs: RunView[], kills: number): RunView {
  expect(runs.map((r) => r.status)).toEqual([...Array(kills).fill('failed'), 'succeeded']);
  for (let i = 0; i < runs.length; i++) {
    if (i < kills) expect(runs[i]!.error?.code).toBe('interrupted');
    if (i > 0) expect(runs[i]).toMatchObject({ trigger: 'recovery', resumedFrom: runs[i - 1]!.id });
  }
  return runs.at(-1)!;
}

function subscribeRecords(route: string, from = 0): number {
  return iterable.requests.slice(from).filter((r) => r.path === route).reduce((sum, r) => sum + JSON.parse(r.body).subscribers.length, 0);
}

function listMembers(name: string): string[] {
  const list = iterable.lists(KEY).find((l) => l.name === name);
  return list ? iterable.listMembers(list.id, KEY) : [];
}

describe('crash recovery: SIGKILL of the server at random points', () => {
  it('delivers a 200,000-member segment exactly, re-sending at most the batches in flight at each of 5 kills', async () => {
    const kills = 5;
    const batches = () => iterable.requests.filter((r) => r.path === '/api/lists/subscribe').length;
    const points = randomPoints(kills, 5, Math.floor((MEMBERS / BATCH) * 0.85));
    const runs = await crashLoop('crowd', batches, points);

    const last = expectRecoveryChain(runs, kills);
    // Counts carry over the resumes: every member counted once.
    expect(last).toMatchObject({ sent: MEMBERS, rejected: 0 });
    const expected = Array.from({ length: ROWS }, (_, i) => i + 1).filter((i) => i % 21 < 20).map(email);
    const members = listMembers('crowd');
    expect(members.length).toBe(MEMBERS);
    expect(new Set(members)).toEqual(new Set(expected));
    const received = subscribeRecords('/api/lists/subscribe');
    expect(received).toBeGreaterThanOrEqual(MEMBERS);
    expect(received - MEMBERS, `kills after ${points.join(', ')} batches`).toBeLessThanOrEqual(kills * IN_FLIGHT * BATCH);
  }, 600_000);

  it('mirror mode: a crash in the remove phase leaves the list exactly the segment, removals re-sent at most in flight', async () => {
    // First run without kills: 150,000 members on the list.
    const before = await crashLoop('mirror', () => 0, []);
    expect(before.at(-1)).toMatchObject({ status: 'succeeded', sent: 150_000 });
    expect(listMembers('shrinking')).toHaveLength(150_000);

    // The segment shrinks to a third: 100,000 members leave and must be removed.
    await withHome(async (h) => {
      await updateSegment(h, 'shrinking', { where: 'grp < 5' });
    });
    const remaining = Array.from({ length: ROWS }, (_, i) => i + 1).filter((i) => i % 21 < 5).map(email);
    const departed = 150_000 - remaining.length;
    const start = iterable.requests.length;
    const removals = () => iterable.requests.slice(start).filter((r) => r.path === '/api/lists/unsubscribe').length;
    const kills = 3;
    const points = randomPoints(kills, 3, Math.floor((departed / BATCH) * 0.85));
    const runs = await crashLoop('mirror', removals, points);

    const last = expectRecoveryChain(runs.slice(-(kills + 1)), kills);
    expect(last.entities[0]).toMatchObject({ name: 'shrinking' });
    const members = listMembers('shrinking');
    expect(members.length).toBe(remaining.length);
    expect(new Set(members)).toEqual(new Set(remaining));
    const removed = subscribeRecords('/api/lists/unsubscribe', start);
    expect(removed).toBeGreaterThanOrEqual(departed);
    expect(removed - departed, `kills after ${points.join(', ')} removal batches`).toBeLessThanOrEqual(kills * IN_FLIGHT * BATCH);
    // Kills in the remove phase re-send no member.
    expect(subscribeRecords('/api/lists/subscribe', start)).toBeLessThanOrEqual(remaining.length);
  }, 600_000);

  it('SFTP: kills while parts upload and among the final renames end with complete, exact files and no temporary file', async () => {
    const folder = path.join(sftp.root, 'out');
    // Two kills while parts are uploading, at random byte counts.
    const uploading = randomPoints(2, 200_000, 4_000_000);
    sftp.reset();
    server = await startServerProcess(home);
    expect((await server.request('POST', '/api/exports/files/runs')).status).toBe(202);
    for (const point of uploading) {
      await until(`${point} bytes uploaded`, () => sftp.uploadedBytes >= point);
      await server.kill();
      server = await startServerProcess(home);
      sftp.reset();
    }
    // One kill among the renames: each rename is done at once but answered late, so the kill lands after the
    // first one and before the next.
    sftp.configure({ opLatencyMs: { 'POSIX-RENAME': 1_000 } });
    const renames = () => sftp.operations.filter((o) => o.op === 'POSIX-RENAME').length;
    await until('the renames to start', () => renames() >= 1, 120_000);
    await new Promise((r) => setTimeout(r, 200));
    await server.kill();
    expect(renames()).toBe(1);
    const partialBefore = fs.readdirSync(folder).filter((f) => f.endsWith('.partial'));
    expect(partialBefore.length).toBeGreaterThan(0);
    sftp.configure({ opLatencyMs: {} });
    server = await startServerProcess(home);
    let runs: RunView[] = [];
    await until(
      'the file runs to end',
      async () => {
        const list = await server!.request<{ items: Array<{ id: string; status: string }> }>('GET', '/api/runs?export=files&limit=100');
        if (list.body.items[0]?.status === 'queued' || list.body.items[0]?.status === 'running') return false;
        runs = await Promise.all(list.body.items.reverse().map(async (r) => (await server!.request<RunView>('GET', `/api/runs/${r.id}`)).body));
        return true;
      },
      120_000,
    );
    const last = expectRecoveryChain(runs, 3);
    expect(last.entities[0]!.rows).toBe(ROWS);

    // Exactly one complete set under final names: the one whose renames the recovery finished.
    const names = fs.readdirSync(folder).sort();
    expect(names.filter((f) => f.endsWith('.partial'))).toEqual([]);
    const manifests = names.filter((f) => f.endsWith('.manifest.json'));
    expect(manifests).toHaveLength(1);
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, manifests[0]!), 'utf8'));
    expect(names.filter((f) => f.endsWith('.csv')).sort()).toEqual(manifest.parts.map((p: { file: string }) => p.file).sort());
    const seen = new Set<string>();
    for (const part of manifest.parts) {
      const content = fs.readFileSync(path.join(folder, part.file));
      expect(createHash('sha256').update(content).digest('hex')).toBe(part.sha256);
      const [header, ...records] = content.toString('utf8').trimEnd().split('\n');
      expect(header).toBe('profile_id,email,grp');
      expect(records).toHaveLength(part.rows);
      for (const record of records) {
        const id = record.split(',')[0]!;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
    expect(seen.size).toBe(ROWS);
    expect(manifest.rows).toBe(ROWS);

    // The next run of the export leaves no temporary file either, and publishes a second complete set.
    expect((await server.request('POST', '/api/exports/files/runs')).status).toBe(202);
    await until('the next file run', async () => {
      const list = await server!.request<{ items: Array<{ status: string }> }>('GET', '/api/runs?export=files&limit=1');
      return list.body.items[0]!.status === 'succeeded';
    });
    expect(fs.readdirSync(folder).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(fs.readdirSync(folder).filter((f) => f.endsWith('.manifest.json'))).toHaveLength(2);
    await server.stop();
    server = undefined;
  }, 600_000);
});

describe('crash recovery: the runner of a killed server', () => {
  it('goes with it while parts upload, so that the next server can open the profile store', async () => {
    // A runner left behind holds the DuckDB file: the next server's runner then failed its recovered run with
    // "in use by another Outflow process", and the recovery chain ended there.
    sftp.reset();
    server = await startServerProcess(home);
    const runner = (await server.request<{ workers: Array<{ pid: number }> }>('GET', '/api/status')).body.workers[0]!.pid;
    expect((await server.request('POST', '/api/exports/files/runs')).status).toBe(202);
    await until('an upload under way', () => sftp.uploadedBytes >= 300_000);
    await server.kill();
    server = undefined;
    const alive = () => {
      try {
        process.kill(runner, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(`runner ${runner} to end after its server was killed`, () => !alive(), 30_000);
    // The interrupted run is resumed by the next server and ends, its files complete.
    server = await startServerProcess(home);
    await until('the file run to end', async () => {
      const list = await server!.request<{ items: Array<{ status: string }> }>('GET', '/api/runs?export=files&limit=1');
      return list.body.items[0]!.status !== 'queued' && list.body.items[0]!.status !== 'running';
    });
    const newest = (await server.request<{ items: Array<{ id: string; status: string; trigger: string }> }>('GET', '/api/runs?export=files&limit=1')).body.items[0]!;
    expect(newest).toMatchObject({ status: 'succeeded', trigger: 'recovery' });
    await server.stop();
    server = undefined;
  }, 300_000);
});

describe('crash recovery: SIGKILL of the runner process, the server staying up', () => {
  it('the server notices, starts another runner and resumes the run from its checkpoint; the list ends exact', async () => {
    server = await startServerProcess(home);
    const status = async () => (await server!.request<{ workers: Array<{ pid: number; runs: string[] }> }>('GET', '/api/status')).body;
    const firstRunner = (await status()).workers[0]!.pid;
    expect(firstRunner).not.toBe(server.child.pid);
    const start = iterable.requests.length;
    const batches = () => iterable.requests.slice(start).filter((r) => r.path === '/api/lists/subscribe').length;
    const queued = await server.request<{ id: string }>('POST', '/api/exports/crowd/runs');
    expect(queued.status).toBe(202);
    await until('30 batches', () => batches() >= 30);
    process.kill(firstRunner, 'SIGKILL');
    // The server itself answers throughout, and the killed run is resumed by a new runner.
    let runs: RunView[] = [];
    await until(
      'the runs after the kill to end',
      async () => {
        const list = await server!.request<{ items: Array<{ id: string; status: string }> }>('GET', '/api/runs?export=crowd&limit=100');
        if (!list.body.items) throw new Error(`GET /api/runs answered ${list.status}: ${JSON.stringify(list.body)}`);
        const newest = list.body.items[0];
        if (!newest || newest.id === queued.body.id || newest.status === 'queued' || newest.status === 'running') return false;
        runs = await Promise.all(list.body.items.slice(0, 2).reverse().map(async (r) => (await server!.request<RunView>('GET', `/api/runs/${r.id}`)).body));
        return true;
      },
      180_000,
    );
    expect(runs[0]).toMatchObject({ id: queued.body.id, status: 'failed', error: { code: 'interrupted' } });
    expect(runs[1]).toMatchObject({ status: 'succeeded', trigger: 'recovery', resumedFrom: queued.body.id, sent: MEMBERS, rejected: 0 });
    const secondRunner = (await status()).workers[0]!.pid;
    expect(secondRunner).not.toBe(firstRunner);
    expect(server.child.exitCode).toBeNull();
    // Nothing lost, and at most the batches in flight at the kill sent twice.
    const expected = Array.from({ length: ROWS }, (_, i) => i + 1).filter((i) => i % 21 < 20).map(email);
    expect(new Set(listMembers('crowd'))).toEqual(new Set(expected));
    const received = subscribeRecords('/api/lists/subscribe', start);
    expect(received).toBeGreaterThanOrEqual(MEMBERS);
    expect(received - MEMBERS).toBeLessThanOrEqual(IN_FLIGHT * BATCH);
    await server.stop();
    server = undefined;
  }, 300_000);
});
