import fs from 'node:fs';
import path from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, listConnections } from '../src/app/connections.ts';
import { createSegment, listSegmentRefreshes, listSegmentViews, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, listExports, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { setHomeNotify, showHomeNotify } from '../src/app/notify.ts';
import { listRunSummaries, showRun } from '../src/app/runs.ts';
import { setSchedule, showSchedule } from '../src/app/schedule.ts';
import { createUser, listUsers } from '../src/app/users.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { appliedMigrations, openMetadataStore, SCHEMA_VERSION, type MetadataStore } from '../src/store/metadata/db.ts';
import { migrations } from '../src/store/metadata/migrations.ts';
import { startServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';
import { dropSchema, POSTGRES_URL, postgresAvailable, uniqueSchema } from './support/postgres.ts';
import { until } from './support/scale-out.ts';

// Upgrades (issue 18): a home written by every earlier schema version — the metadata migrations applied up to
// that version, holding what that version stored — opens with today's code, keeps its data, and a run the old
// version left `running` is recovered and resumed. A failed upgrade changes nothing; a downgrade is refused.
// On the embedded SQLite store and on PostgreSQL (one schema per home).

const names = Object.keys(migrations).sort();
const upTo = (k: number) => Object.fromEntries(names.slice(0, k).map((name) => [name, migrations[name]!]));
const CUSTOMERS = 30;
const ADMIN_PASSWORD = 'upgrade-admin-password-1';

let template: string;
let work: string;
let sftp: FakeSftpServer;
let hasPostgres = false;
const schemas: string[] = [];
const base = uniqueSchema('upgrade');
/** Ids of the template's runs: one that succeeded, one the "old version" left running when it died. */
let succeededRun: string;
const interruptedRun = 'run_left_running_by_old_version';

async function withHome<T>(dir: string, env: NodeJS.ProcessEnv, fn: (home: Home) => Promise<T>): Promise<T> {
  const home = await openHome({ dir, env: { ...process.env, OUTFLOW_ROLE: '', OUTFLOW_USER: 'ops', ...env } });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

const pgUrl = (schema: string) => `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

beforeAll(async () => {
  hasPostgres = await postgresAvailable();
  template = tempDir('upgrade-template');
  work = tempDir('upgrade-work');
  sftp = await startFakeSftpServer();
  fs.mkdirSync(path.join(sftp.root, 'out'));
  const lines = ['profile_id,email,tier'];
  for (let i = 1; i <= CUSTOMERS; i++) lines.push(`${i},customer${i}@example.com,${i % 3 === 0 ? 'gold' : 'silver'}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  // What a home holds after a while in use, written by the app layer (so every column has a real value).
  await withHome(template, { OUTFLOW_DATABASE_URL: '' }, async (h) => {
    await loadEntity(h, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
    await createSegment(h, { name: 'gold', entity: 'Customer', where: "tier = 'gold'" });
    await refreshSegments(h);
    await createConnection(h, {
      type: 'sftp',
      name: 'partner',
      config: { host: sftp.host, port: sftp.port, username: sftp.username, password: sftp.password, folder: '/out', hostKeySha256: sftp.hostKeySha256 },
      acceptPrivacyTerms: true,
    });
    await createExport(h, { name: 'gold-file', connection: 'partner', segments: ['gold'], config: {} });
    await createExport(h, { name: 'all-customers', connection: 'partner', entities: ['Customer'], config: {} });
    succeededRun = (await runExport(h, 'gold-file')).id;
    await createUser(h, { name: 'ops-admin', role: 'admin' });
    await createUser(h, { name: 'analyst', role: 'contributor' });
    await setSchedule(h, { days: 'mon-fri', times: '06:00', timeZone: 'UTC' });
    await setHomeNotify(h, { url: 'https://hooks.example.com/services/T000/B000/upgrade-secret' });
    // The old version died while this run was sending: `running`, its heartbeat long stale, no checkpoint yet.
    const { id: exportId } = await h.db.selectFrom('exports').select('id').where('name', '=', 'all-customers').executeTakeFirstOrThrow();
    const { id: connectionId } = await h.db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    const at = new Date(Date.now() - 3_600_000).toISOString();
    await h.db
      .insertInto('runs')
      .values({
        id: interruptedRun,
        export_id: exportId,
        export_name: 'all-customers',
        connection_id: connectionId,
        status: 'running',
        trigger: 'manual',
        started_by: 'ops',
        resumed_from: null,
        queued_at: at,
        started_at: at,
        finished_at: null,
        heartbeat_at: at,
        rows_total: CUSTOMERS,
        rows_done: 0,
        sent: 0,
        rejected: 0,
        not_attempted: 0,
        sources: '[]',
        checkpoint: null,
        warnings: '[]',
        error_code: null,
        error_message: null,
        cancel_requested_at: null,
      })
      .execute();
  });
}, 120_000);

afterAll(async () => {
  await sftp?.close();
  for (const schema of schemas) await dropSchema(schema).catch(() => {});
  fs.rmSync(template, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** The tables of the store's own schema (PostgreSQL's introspection lists every schema of the database). */
async function tablesOf(store: MetadataStore) {
  const db = store.db as unknown as Kysely<any>;
  const schema = store.dialect === 'postgres' ? (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db)).rows[0]!.s : undefined;
  return (await db.introspection.getTables()).filter((t) => !t.name.startsWith('kysely_') && (schema === undefined || t.schema === schema));
}

/**
 * Writes the template's rows into `store`, which stands at an earlier schema version: only the tables and
 * columns that version had, as that version would have stored them.
 */
async function copyTemplateInto(store: MetadataStore): Promise<void> {
  const source = await openMetadataStore({ sqlitePath: path.join(template, 'metadata.sqlite') });
  try {
    const target = store.db as unknown as Kysely<any>;
    const current = new Map((await tablesOf(source)).map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
    for (const table of await tablesOf(store)) {
      // A column a later migration renamed or dropped has no value in today's rows: left to its default.
      const columns = table.columns.map((c) => c.name).filter((c) => current.get(table.name)?.has(c));
      const rows = await (source.db as unknown as Kysely<any>).selectFrom(table.name).select(columns).execute();
      if (rows.length > 0) await target.insertInto(table.name).values(rows).execute();
    }
  } finally {
    await source.close();
  }
}

/** A home at schema version `k` (the first k migrations) holding the template's data; returns the env to open it with. */
async function oldHome(backend: 'sqlite' | 'postgres', k: number): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = tempDir(`upgrade-${backend}-${k}`);
  fs.copyFileSync(path.join(template, 'secret.key'), path.join(dir, 'secret.key'));
  fs.copyFileSync(path.join(template, 'profiles.duckdb'), path.join(dir, 'profiles.duckdb'));
  let store: MetadataStore;
  let env: NodeJS.ProcessEnv;
  if (backend === 'sqlite') {
    store = await openMetadataStore({ sqlitePath: path.join(dir, 'metadata.sqlite'), migrations: upTo(k) });
    env = { OUTFLOW_DATABASE_URL: '' };
  } else {
    const schema = `${base}_${schemas.length}`;
    schemas.push(schema);
    store = await openMetadataStore({ url: POSTGRES_URL, pgSchema: schema, migrations: upTo(k) });
    env = { OUTFLOW_DATABASE_URL: pgUrl(schema) };
  }
  try {
    expect(await appliedMigrations(store.db, store.dialect)).toEqual(names.slice(0, k));
    await copyTemplateInto(store);
  } finally {
    await store.close();
  }
  return { dir, env };
}

describe.each([['sqlite' as const], ['postgres' as const]])('upgrade on %s', (backend) => {
  it.each(names.map((name, i) => [name, i + 1] as const))('a home at schema version %s opens with today’s code, keeps its data and resumes its interrupted run', async (_name, k) => {
    if (backend === 'postgres' && !hasPostgres) return;
    const { dir, env } = await oldHome(backend, k);
    const server = await startServer({ dir, port: 0, env: { ...process.env, ...env, OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    try {
      const home = { ...server.home, actor: { name: 'ops', role: 'admin' as const, via: 'cli' as const } };
      expect(await appliedMigrations(home.db, home.metadata.dialect)).toEqual(names);
      // The run the old version left running was marked interrupted and resumed, and the resume delivers.
      await until('the recovery run to finish', async () => {
        const runs = await listRunSummaries(home);
        const recovery = runs.find((r) => r.resumedFrom === interruptedRun);
        return recovery !== undefined && !['queued', 'running'].includes(recovery.status);
      });
      const runs = await listRunSummaries(home);
      const left = runs.find((r) => r.id === interruptedRun)!;
      expect(left.status).toBe('failed');
      expect(left.error?.code).toBe('interrupted');
      const recovery = await showRun(home, runs.find((r) => r.resumedFrom === interruptedRun)!.id);
      expect(recovery).toMatchObject({ status: 'succeeded', trigger: 'recovery' });
      expect(recovery.rowsDone).toBe(CUSTOMERS);
      // History and definitions are kept; the connection's password still decrypts (the recovery run logged in).
      expect(runs.find((r) => r.id === succeededRun)?.status).toBe('succeeded');
      expect((await listConnections(home)).map((c) => c.name)).toEqual(['partner']);
      expect((await listSegmentViews(home)).map((s) => [s.name, s.members])).toEqual([['gold', CUSTOMERS / 3]]);
      // The segment's refresh history (0010) starts with the count it had, whichever version wrote it.
      expect((await listSegmentRefreshes(home, 'gold', { limit: 10 })).map((p) => p.members)).toEqual([CUSTOMERS / 3]);
      expect((await listExports(home)).map((e) => e.name).sort()).toEqual(['all-customers', 'gold-file']);
      const users = (await listUsers(home)).map((u) => u.name).sort();
      // Accounts came with 0002: an older home gets its first administrator when the server first starts.
      expect(users).toEqual(k >= 2 ? ['analyst', 'ops-admin'] : ['admin']);
      if (k >= 4) expect(await showSchedule(home)).toMatchObject({ enabled: true, days: 'mon-fri', times: ['06:00'], timeZone: 'UTC' });
      if (k >= 5) expect((await showHomeNotify(home))?.url).toMatch(/^https:\/\/hooks\.example\.com\//);
      if (k >= 3) {
        const audit = await (home.db as unknown as Kysely<any>).selectFrom('audit_log').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
        expect(Number(audit.n)).toBeGreaterThan(5);
      }
    } finally {
      await server.close();
    }
  });

  it('a migration that fails leaves the store as it was and says so', async () => {
    if (backend === 'postgres' && !hasPostgres) return;
    const k = 5;
    const { dir, env } = await oldHome(backend, k);
    const open = (list: Parameters<typeof openMetadataStore>[0]['migrations']) =>
      backend === 'sqlite'
        ? openMetadataStore({ sqlitePath: path.join(dir, 'metadata.sqlite'), migrations: list })
        : openMetadataStore({ url: env.OUTFLOW_DATABASE_URL, migrations: list });
    const broken = {
      ...migrations,
      '9000_broken': {
        async up(db: Kysely<any>) {
          // Some of it works before it fails: none of it may stay.
          await db.schema.createTable('half_done').addColumn('id', 'text').execute();
          await db.schema.alterTable('connections').addColumn('half_done', 'text').execute();
          await sql`UPDATE connections SET name = 'changed by a failed upgrade'`.execute(db);
          throw new Error('disk on fire');
        },
      },
    };
    await expect(open(broken)).rejects.toThrow(
      new RegExp(`failed in migration 9000_broken: disk on fire\\. Nothing was changed: the store is still at schema version ${names[k - 1]}`),
    );
    const store = await open(upTo(k));
    try {
      expect(await appliedMigrations(store.db, store.dialect)).toEqual(names.slice(0, k));
      const tables = (await tablesOf(store)).map((t) => t.name);
      expect(tables).not.toContain('half_done');
      // The migrations after version k ran in the same transaction, before the broken one: rolled back too.
      expect(tables).not.toContain('oauth_sign_ins');
      const connections = await store.db.selectFrom('connections').selectAll().execute();
      expect(connections.map((c) => c.name)).toEqual(['partner']);
      expect(Object.keys(connections[0]!)).not.toContain('half_done');
    } finally {
      await store.close();
    }
    // And today's code still upgrades it.
    const upgraded = await open(migrations);
    expect(await appliedMigrations(upgraded.db, upgraded.dialect)).toEqual(names);
    await upgraded.close();
  });

  it('a home written by a newer version is refused, untouched, with a message saying what to do', async () => {
    if (backend === 'postgres' && !hasPostgres) return;
    const { dir, env } = await oldHome(backend, names.length);
    const open = () =>
      backend === 'sqlite' ? openMetadataStore({ sqlitePath: path.join(dir, 'metadata.sqlite') }) : openMetadataStore({ url: env.OUTFLOW_DATABASE_URL });
    const store = await open();
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(store.db);
    await store.close();
    await expect(open()).rejects.toThrow(
      `was written by a newer version of Outflow: its schema version is 9999_from_the_future, and this version knows up to ${SCHEMA_VERSION} (unknown: 9999_from_the_future). Downgrading is not supported: run the newer Outflow again, or restore a backup taken before the upgrade.`,
    );
    // The server refuses too, before it changes anything (the run left running stays so).
    await expect(startServer({ dir, port: 0, env: { ...process.env, ...env, OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD } })).rejects.toMatchObject({ code: 'schema_too_new' });
    const again = await openMetadataStore(
      backend === 'sqlite' ? { sqlitePath: path.join(dir, 'metadata.sqlite'), migrations: { ...migrations, '9999_from_the_future': { up: async () => {} } } } : { url: env.OUTFLOW_DATABASE_URL, migrations: { ...migrations, '9999_from_the_future': { up: async () => {} } } },
    );
    try {
      const run = await again.db.selectFrom('runs').select('status').where('id', '=', interruptedRun).executeTakeFirstOrThrow();
      expect(run.status).toBe('running');
    } finally {
      await again.close();
    }
  });
});
