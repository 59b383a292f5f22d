import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations.ts';

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
  window_started_at: string;
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

export interface MetadataSchema {
  connections: ConnectionsTable;
  segments: SegmentsTable;
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
}

export type Db = Kysely<MetadataSchema>;

export interface MetadataStore {
  db: Db;
  dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

// PostgreSQL returns BIGINT and COUNT(*) as strings; our counts fit in a double (2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * Opens the metadata store: PostgreSQL when `url` is a postgres:// URL, else a SQLite file at `sqlitePath`.
 * Migrates to the latest schema before returning.
 */
export async function openMetadataStore(options: { url?: string; sqlitePath?: string; pgSchema?: string }): Promise<MetadataStore> {
  let db: Db;
  let dialect: MetadataStore['dialect'];
  if (options.url && /^postgres(ql)?:\/\//.test(options.url)) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 5,
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    });
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
  } else {
    const file = options.sqlitePath ?? ':memory:';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    // WAL lets a CLI command read while another process (a long export run) writes its progress.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<MetadataSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
    dialect = 'sqlite';
  }
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect, close: () => db.destroy() };
}
