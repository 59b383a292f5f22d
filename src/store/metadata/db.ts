import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, type Generated, PostgresDialect, SqliteAdapter, SqliteDialect, sql, type Migration } from 'kysely';
import { ConfigError, OutflowError } from '../../domain/errors.ts';
import { migrations } from './migrations.ts';
import { POSTGRES_BACKUP_ADVICE } from '../postgres-backup.ts';

export interface ConnectionsTable {
  id: string;
  name: string;
  type: string;
  config: string;
  secrets: string;
  state: string;
  usable_by: string;
  privacy_accepted_by: string;
  privacy_accepted_at: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Advances with every edit; the ETag carries it (src/app/versions.ts). */
  version: Generated<number>;
}

export interface SegmentsTable {
  id: string;
  name: string;
  entity: string;
  filter: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  refreshed_at: string | null;
  members: number | null;
  /** Advances with every edit; the ETag carries it (src/app/versions.ts). */
  version: Generated<number>;
}

/** A segment's member count at one refresh: its history (the segments row holds the latest). */
export interface SegmentRefreshesTable {
  id: string;
  segment_id: string;
  at: string;
  members: number;
}

export interface ExportsTable {
  id: string;
  name: string;
  connection_id: string;
  source_kind: string;
  sources: string;
  config: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Advances with every edit; the ETag carries it (src/app/versions.ts). */
  version: Generated<number>;
}

export interface RunsTable {
  id: string;
  export_id: string;
  export_name: string;
  connection_id: string;
  status: string;
  trigger: string;
  started_by: string;
  resumed_from: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  rows_total: number | null;
  rows_done: number;
  sent: number;
  rejected: number;
  not_attempted: number;
  sources: string;
  checkpoint: string | null;
  warnings: string;
  error_code: string | null;
  error_message: string | null;
  /** When someone asked the run to stop; the process executing it polls this. */
  cancel_requested_at: string | null;
}

export interface RunRejectionsTable {
  run_id: string;
  /** Order of the rejection within its run. */
  seq: number;
  source: string;
  record_key: string;
  code: string;
  reason: string;
}

/** Alert webhooks: one for the home, one per export that has its own. */
export interface NotifyTargetsTable {
  scope: string;
  url_sealed: string;
  url_shown: string;
  events: string;
  updated_by: string;
  updated_at: string;
}

export interface UsersTable {
  id: string;
  name: string;
  role: string;
  password_hash: string;
  must_change_password: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Advances with every edit; the ETag carries it (src/app/versions.ts). */
  version: Generated<number>;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token_hash: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  address: string | null;
}

export interface LoginFailuresTable {
  key: string;
  failures: number;
  last_attempt_at: string;
}

export interface AuditLogTable {
  id: string;
  at: string;
  actor: string;
  role: string;
  via: string;
  address: string | null;
  action: string;
  target_type: string;
  target: string | null;
  outcome: string;
  details: string;
}

export interface SchedulesTable {
  /** `home`, or the id of an export. */
  owner: string;
  crons: string | null;
  time_zone: string | null;
  days: string | null;
  times: string | null;
  last_slot: string | null;
  paused_at: string | null;
  paused_by: string | null;
  updated_by: string;
  updated_at: string;
}

export interface OAuthSignInsTable {
  state_hash: string;
  connection_id: string;
  user_name: string;
  verifier_sealed: string;
  redirect_uri: string;
  created_at: string;
  expires_at: string;
}

/** The first answer to a request sent with an Idempotency-Key (see idempotency.ts). */
/** The version of one of the home's settings (`schedule`, `notify`), which every change of it advances. */
export interface SettingVersionsTable {
  name: string;
  version: number;
}

export interface IdempotencyKeysTable {
  /** The caller: `user:<name>`. */
  scope: string;
  /** The operation's operationId. */
  operation: string;
  key: string;
  /** The request's fingerprint, sealed. */
  request_sealed: string;
  state: 'pending' | 'done';
  /** Status, headers and body of the first answer, sealed; null while pending. */
  response_sealed: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface MetadataSchema {
  connections: ConnectionsTable;
  segments: SegmentsTable;
  segment_refreshes: SegmentRefreshesTable;
  exports: ExportsTable;
  runs: RunsTable;
  run_rejections: RunRejectionsTable;
  notify_targets: NotifyTargetsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
  audit_log: AuditLogTable;
  schedules: SchedulesTable;
  oauth_sign_ins: OAuthSignInsTable;
  idempotency_keys: IdempotencyKeysTable;
  setting_versions: SettingVersionsTable;
}

export type Db = Kysely<MetadataSchema>;

export interface MetadataStore {
  db: Db;
  dialect: 'sqlite' | 'postgres';
  /**
   * Writes a consistent copy of the SQLite store to `file` while it stays in use (SQLite's online backup), for
   * `outflow backup`. A PostgreSQL store says to use pg_dump instead.
   */
  backup(file: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the metadata store: PostgreSQL when `url` is a postgres:// URL, else a SQLite file at `sqlitePath`.
 * Migrates to the latest schema before returning (see `migrate`). `migrations` replaces today's list: tests
 * build a store as an earlier version left it, or try an upgrade that fails.
 */
export async function openMetadataStore(options: {
  url?: string;
  sqlitePath?: string;
  pgSchema?: string;
  migrations?: Record<string, Migration>;
}): Promise<MetadataStore> {
  let db: Db;
  let dialect: MetadataStore['dialect'];
  let where: string;
  let backup: MetadataStore['backup'];
  if (options.url && /^postgres(ql)?:\/\//.test(options.url)) {
    // Loaded only for a PostgreSQL store (SQLite homes never need it; it cost every CLI command start-up time).
    const { pg } = await import('../pg.ts');
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 5,
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    });
    // An idle connection PostgreSQL ended (restart, failover, an administrator) must not crash the server or a
    // worker: the pool drops it and the next query opens a new one.
    pool.on('error', () => undefined);
    if (options.pgSchema) {
      const client = await pool.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.pgSchema.replace(/"/g, '""')}"`);
      } finally {
        client.release();
      }
    }
    db = new Kysely<MetadataSchema>({ dialect: new PostgresDialect({ pool }) });
    dialect = 'postgres';
    where = 'the PostgreSQL database of OUTFLOW_DATABASE_URL';
    backup = async () => {
      throw new ConfigError('invalid_settings', POSTGRES_BACKUP_ADVICE);
    };
  } else {
    const file = options.sqlitePath ?? ':memory:';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    // WAL lets a CLI command read while another process (a long export run) writes its progress.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('foreign_keys = ON');
    cachePreparedStatements(sqlite);
    db = new Kysely<MetadataSchema>({ dialect: new TransactionalSqliteDialect({ database: sqlite }) });
    dialect = 'sqlite';
    where = file;
    // The online backup API copies pages while this connection keeps writing (its own writes reach the copy);
    // the result is one consistent state of the database.
    backup = async (target) => {
      await sqlite.backup(target);
    };
  }
  try {
    await migrate(db, dialect, options.migrations ?? migrations, where);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect, backup, close: () => db.destroy() };
}

/** The schema version this code writes: the name of its last migration. */
export const SCHEMA_VERSION = Object.keys(migrations).sort().at(-1)!;

/**
 * Kysely runs migrations in one transaction only where it believes DDL is transactional, and says no for
 * SQLite, which does roll back CREATE and ALTER TABLE. Saying yes makes an upgrade all or nothing on both
 * stores: a migration that fails leaves the home exactly as the earlier version left it.
 */
/** Distinct SQL texts whose prepared statements are kept (queries with IN lists of many lengths make more). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; preparing was ~7 % of the server's CPU answering API reads
 * (bench api profile). Keeps the statements of the most recent SQL texts and hands one out again when it is
 * not in use. Kysely holds the one connection for a streamed query, so the same SQL never runs twice at once;
 * should a kept statement still be `busy` (being iterated), a fresh one is prepared all the same. SQLite
 * recompiles a kept statement by itself after a schema change (a migration).
 */
function cachePreparedStatements(sqlite: BetterSqlite3.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, BetterSqlite3.Statement>();
  sqlite.prepare = ((source: string) => {
    const cached = cache.get(source);
    if (cached && !cached.busy) {
      // Most recently used last: the first key is the one to drop.
      cache.delete(source);
      cache.set(source, cached);
      return cached;
    }
    const statement = prepare(source);
    if (!cached) {
      cache.set(source, statement);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return statement;
  }) as typeof sqlite.prepare;
}

class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new (class extends SqliteAdapter {
      override get supportsTransactionalDdl() {
        return true;
      }
    })();
  }
}

/** Names of the migrations applied to the store (none for a new one), oldest first. */
export async function appliedMigrations(db: Kysely<any>, dialect: MetadataStore['dialect']): Promise<string[]> {
  const exists =
    dialect === 'sqlite'
      ? await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'`.execute(db)
      : await sql<{ name: string }>`SELECT to_regclass('kysely_migration')::text AS name`.execute(db);
  if (!exists.rows[0]?.name) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  return rows.rows.map((r) => r.name);
}

/**
 * Brings the store to the latest schema. A store written by a newer version (it has migrations this code does
 * not know) is refused before anything is touched: running old code on a newer schema would lose or corrupt
 * what the newer version stores. The pending migrations run in one transaction on both databases, so a failure
 * leaves the store at the version it had, and the error says so.
 */
async function migrate(db: Kysely<any>, dialect: MetadataStore['dialect'], list: Record<string, Migration>, where: string): Promise<void> {
  const known = Object.keys(list).sort();
  const latest = known.at(-1) ?? 'none';
  const applied = await appliedMigrations(db, dialect);
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      'schema_too_new',
      `The metadata store (${where}) was written by a newer version of Outflow: its schema version is ${applied.at(-1)}, and this version knows up to ${latest} (unknown: ${unknown.join(', ')}). Downgrading is not supported: run the newer Outflow again, or restore a backup taken before the upgrade.`,
    );
  }
  const before = applied.at(-1) ?? 'none (a new store)';
  // Kysely looks for its own tables in every schema of the database unless told which one: with several homes
  // in one database (a schema each, chosen by search_path) it would find another home's and never create its
  // own. The tables live in the schema the connection writes to.
  const schema = dialect === 'postgres' ? (await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(db)).rows[0]?.schema : null;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => list }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const reason = error instanceof Error ? error.message : String(error);
    throw new OutflowError(
      'upgrade_failed',
      `Upgrading the metadata store (${where}) to schema version ${latest} failed in migration ${failed}: ${reason}. Nothing was changed: the store is still at schema version ${before}, as the previous version left it. Run the previous Outflow version on it, or report this error with the message above.`,
      { cause: error },
    );
  }
}
