import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupHome } from '../src/app/backup.ts';
import { createConnection, listConnections, verifyConnection } from '../src/app/connections.ts';
import { createSegment, listSegmentViews, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, listExports, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { listRunSummaries } from '../src/app/runs.ts';
import { setSchedule, showSchedule } from '../src/app/schedule.ts';
import { createToken, createUser } from '../src/app/users.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { openMetadataStore } from '../src/store/metadata/db.ts';
import { outflow, tempDir } from './support/cli.ts';
import { dropSchema, POSTGRES_URL, postgresAvailable, uniqueSchema } from './support/postgres.ts';
import { until } from './support/scale-out.ts';

// `outflow backup` / `outflow restore` (issue 18): a backup taken through the server while a run is in
// progress, restored into an empty home elsewhere, gives the same connections (secrets decrypt), segments,
// exports, schedule, run history and delivered state, so the next upsert run sends only what changed.

const FAST_KEY = 'backup-fast-iterable-key';
const SLOW_KEY = 'backup-slow-iterable-key';
const MEMBERS = 600;
const SLOW_MEMBERS = 4000;
const env = { ...process.env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'ops', OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: '', OUTFLOW_SECRET_KEY: '' };

let work: string;
let source: string;
let fast: IterableFake;
let slow: IterableFake;
let server: RunningServer | undefined;
let gate: Gate;

/**
 * A proxy in front of the slow fake that lets the first subscribe request through and holds the others until
 * `open()`: the run is in progress (one batch done, more in flight) for as long as the test needs, whatever
 * the machine's speed.
 */
interface Gate {
  url: string;
  /** Subscribe requests waiting for `open()`. */
  held: number;
  open(): void;
  close(): Promise<void>;
}

async function startGate(target: string): Promise<Gate> {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  let passed = 0;
  const proxy = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.url?.startsWith('/api/lists/subscribe') && passed++ >= 1) {
        gate.held++;
        await opened;
      }
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)) as Array<[string, string]>),
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const gate: Gate = {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    held: 0,
    open: release,
    close: () => new Promise((resolve) => {
      release();
      proxy.closeAllConnections();
      proxy.close(() => resolve());
    }),
  };
  return gate;
}

async function withHome<T>(dir: string, fn: (home: Home) => Promise<T>, extra: NodeJS.ProcessEnv = {}): Promise<T> {
  const home = await openHome({ dir, env: { ...env, ...extra } });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

function writeCustomers(file: string, changed: (i: number) => boolean = () => false, extra = 0): void {
  const lines = ['profile_id,email,first_name,grp'];
  for (let i = 1; i <= SLOW_MEMBERS + extra; i++) lines.push(`${i},c${i}@example.com,${changed(i) ? 'Changed' : 'Name'}${i},${i <= MEMBERS || i > SLOW_MEMBERS ? 'a' : 'b'}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Members the fake received in subscribe requests since request `from`. */
function subscribed(fake: IterableFake, from: number): string[] {
  return fake.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path === '/api/lists/subscribe' && (r.status ?? 200) < 300)
    .flatMap((r) => (JSON.parse(r.body) as { subscribers: Array<{ email: string }> }).subscribers.map((s) => s.email));
}

beforeAll(async () => {
  work = tempDir('backup-work');
  source = tempDir('backup-home');
  fast = await startIterableFake({ projects: [{ apiKey: FAST_KEY }] });
  slow = await startIterableFake({ projects: [{ apiKey: SLOW_KEY }] });
  gate = await startGate(slow.url);
  writeCustomers(path.join(work, 'customers.csv'));
  await withHome(source, async (h) => {
    await loadEntity(h, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
    await createSegment(h, { name: 'members', entity: 'Customer', where: "grp = 'a'" });
    await createSegment(h, { name: 'everyone', entity: 'Customer', where: 'profile_id > 0' });
    await refreshSegments(h);
    await createConnection(h, { type: 'iterable', name: 'fast', config: { apiKey: FAST_KEY, baseUrl: fast.url }, acceptPrivacyTerms: true });
    await createConnection(h, { type: 'iterable', name: 'slow', config: { apiKey: SLOW_KEY, baseUrl: gate.url }, acceptPrivacyTerms: true });
    await createExport(h, { name: 'members', connection: 'fast', segments: ['members'], config: { mapping: { email: 'email', firstName: 'first_name' }, syncMode: 'upsert' } });
    await createExport(h, { name: 'slow', connection: 'slow', segments: ['everyone'], config: { mapping: { email: 'email' }, syncMode: 'full' } });
    await setSchedule(h, { days: 'mon-fri', times: '06:00', timeZone: 'UTC' });
    const first = await runExport(h, 'members');
    expect(first.status).toBe('succeeded');
    await createUser(h, { name: 'ops-admin', role: 'admin' });
  });
  expect(subscribed(fast, 0)).toHaveLength(MEMBERS);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await gate?.close();
  await Promise.all([fast?.close(), slow?.close()]);
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(source, { recursive: true, force: true });
});

describe('backup and restore', () => {
  const backup = () => path.join(work, 'backup-1');
  const restored = () => path.join(work, 'restored');

  it('backs up through the server while it serves and a run is in progress, without stopping either', async () => {
    server = await startServer({ dir: source, port: 0, env: { ...env, OUTFLOW_ADMIN_PASSWORD: 'backup-admin-password-1' } });
    const queued = await outflow(source, 'export', 'run', 'slow', '--detach', '--json');
    expect(queued.code).toBe(0);
    const runId = queued.json<{ id: string }>().id;
    const home = server.home;
    // One batch went through, the next ones wait at the gate: the run is sending.
    await until('the slow run to send its first batches', async () => gate.held > 0 && (await listRunSummaries(home)).find((r) => r.id === runId)?.status === 'running');

    const taken = await outflow(source, 'backup', backup(), '--json');
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    const result = taken.json();
    expect(result).toMatchObject({ path: backup(), key: 'included', runsInProgress: [runId] });
    expect(result.files.map((f: { name: string }) => f.name)).toEqual(['metadata.sqlite', 'profiles.duckdb', 'secret.key']);
    expect(fs.readdirSync(backup()).sort()).toEqual(['backup.json', 'metadata.sqlite', 'profiles.duckdb', 'secret.key']);
    expect(fs.statSync(backup()).mode & 0o077).toBe(0);
    // Through the server, audited as the API's caller.
    const audit = await outflow(source, 'audit', '--action', 'home.backup', '--json');
    expect(audit.json()).toMatchObject([{ action: 'home.backup', via: 'api', outcome: 'ok', details: { path: backup(), key: 'included', runsInProgress: 1 } }]);

    // The server kept serving and the run goes on to the end once the destination answers again.
    expect((await listRunSummaries(home)).find((r) => r.id === runId)?.status).toBe('running');
    gate.open();
    await until('the slow run to finish', async () => (await listRunSummaries(home)).find((r) => r.id === runId)?.status !== 'running', 120_000);
    expect((await listRunSummaries(home)).find((r) => r.id === runId)?.status).toBe('succeeded');

    // A second backup into a folder that is not empty is refused, and leaves it as it was.
    const again = await outflow(source, 'backup', backup());
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is not empty. Pass a new or empty folder');
  }, 180_000);

  it('only administrators may back up', async () => {
    const admin = { ...server!.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    await createUser(admin, { name: 'contrib', role: 'contributor' });
    const { token } = await createToken(admin, { user: 'contrib', name: 'backup-test' });
    const response = await fetch(`${server!.url}/api/v1/backup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ path: path.join(work, 'not-allowed') }),
    });
    expect(response.status).toBe(403);
    expect(fs.existsSync(path.join(work, 'not-allowed'))).toBe(false);
  });

  it('restores into an empty home: same definitions, history and delivered state; the next upsert run sends only the difference', async () => {
    await server?.close();
    server = undefined;
    const done = await outflow(restored(), 'restore', backup(), '--json');
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const result = done.json();
    expect(result).toMatchObject({ home: restored(), connections: 2, segments: 2, exports: 2 });
    // The slow run was running in the copy: nothing executes it there, so it is interrupted, to be resumed.
    expect(result.interrupted).toHaveLength(1);

    // Into a home that is no longer empty: refused unless told.
    const twice = await outflow(restored(), 'restore', backup());
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is not empty (it has metadata.sqlite, profiles.duckdb, secret.key)');

    // A change at the source: 7 members get a new first name, 3 join.
    writeCustomers(path.join(work, 'customers-2.csv'), (i) => i <= 7, 3);
    const before = fast.requests.length;
    await withHome(restored(), async (h) => {
      expect((await listConnections(h)).map((c) => c.name).sort()).toEqual(['fast', 'slow']);
      expect((await verifyConnection(h, 'fast')).ok).toBe(true);
      expect((await listSegmentViews(h)).map((s) => s.name).sort()).toEqual(['everyone', 'members']);
      expect((await listExports(h)).map((e) => e.name).sort()).toEqual(['members', 'slow']);
      expect(await showSchedule(h)).toMatchObject({ enabled: true, days: 'mon-fri', times: ['06:00'] });
      const history = await listRunSummaries(h);
      expect(history.filter((r) => r.exportName === 'members').map((r) => r.status)).toEqual(['succeeded']);
      expect(history.find((r) => r.exportName === 'slow')).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });

      await loadEntity(h, 'Customer', path.join(work, 'customers-2.csv'), { key: 'profile_id' });
      const next = await runExport(h, 'members');
      expect(next.status).toBe('succeeded');
    });
    const sent = subscribed(fast, before).sort();
    expect(sent).toEqual([...[1, 2, 3, 4, 5, 6, 7], ...[4001, 4002, 4003]].map((i) => `c${i}@example.com`).sort());
  }, 120_000);

  it('a backup without its key restores only with the right key', async () => {
    const keyless = path.join(work, 'backup-keyless');
    const taken = await withHome(source, (h) => backupHome(h, { target: keyless, withoutKey: true }));
    expect(taken.key).toBe('left-out');
    expect(taken.keyNote).toContain('NOT in the backup');
    expect(fs.existsSync(path.join(keyless, 'secret.key'))).toBe(false);

    const missing = await outflow(path.join(work, 'r2'), 'restore', keyless);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Pass the key with --key-file');
    const wrongKey = path.join(work, 'wrong.key');
    fs.writeFileSync(wrongKey, `${'ab'.repeat(32)}\n`);
    const wrong = await outflow(path.join(work, 'r2'), 'restore', keyless, '--key-file', wrongKey);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('is not the one this backup was taken with');
    expect(fs.existsSync(path.join(work, 'r2', 'metadata.sqlite'))).toBe(false);

    const right = await outflow(path.join(work, 'r2'), 'restore', keyless, '--key-file', path.join(source, 'secret.key'));
    expect(right.stderr).toBe('');
    expect(right.stdout).toContain('2 connections (their secrets decrypt)');
  });

  it('with PostgreSQL stores, says to use pg_dump and pg_restore', async () => {
    if (!(await postgresAvailable())) return;
    const schema = uniqueSchema('backup_pg');
    const dir = tempDir('backup-pg');
    try {
      await (await openMetadataStore({ url: POSTGRES_URL, pgSchema: schema })).close();
      const pgEnv = { OUTFLOW_DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
      await withHome(dir, async (h) => {
        await expect(backupHome(h, { target: path.join(work, 'pg-backup') })).rejects.toThrow(/back the database up with PostgreSQL's own tools \(`pg_dump --format=custom` while Outflow runs, `pg_restore` into an empty database\)/);
      }, pgEnv);
      expect(fs.existsSync(path.join(work, 'pg-backup'))).toBe(false);
    } finally {
      await dropSchema(schema);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
