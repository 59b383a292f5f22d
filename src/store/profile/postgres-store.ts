import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { pg } from '../pg.ts';
import { DEFAULT_DUCKDB_MEMORY, duckDbSettings, translateEngineError, type DuckDbMemory } from './duckdb-memory.ts';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ConfigError, ConflictError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import { POSTGRES_BACKUP_ADVICE } from '../postgres-backup.ts';
import { toPostgresFilter, type ColumnInfo, type CompiledFilter } from './filter.ts';
import {
  checkKeyCounts,
  checkLoad,
  csvSource,
  ENTITY_NAME,
  formulaSafe,
  neverRefreshedError,
  noEntityError,
  noKeyColumnError,
  parquetSource,
  quoteIdent,
  quoteLiteral,
  SAMPLE_MAX_CHARS,
  SAMPLE_SCAN_ROWS,
  snapshotRowMapper,
  removalCandidate,
  type EntityInfo,
  type JournalEntry,
  type ProfileStore,
  type Row,
  type SnapshotRow,
  type SnapshotSpec,
  type Source,
  type SyncTables,
} from './profile-store.ts';

/**
 * The profile store on PostgreSQL (`OUTFLOW_PROFILES_URL=postgres://…`), for deployments whose workers run on
 * several machines, or whose customer table already lives in PostgreSQL. Same contract as the DuckDB store:
 * files are read and typed by an in-memory DuckDB (the same inference and the same errors) and streamed into
 * `COPY … FROM STDIN`; segments are materialized in PostgreSQL; SFTP files are rendered by `COPY … TO STDOUT`.
 * Everything lives in one schema (`outflow_profiles`, or `?schema=` on the URL), so the metadata tables can
 * share the database. Entities attached with {@link ProfileStore.attachEntity} are read where they are.
 */
export const DEFAULT_PROFILES_SCHEMA = 'outflow_profiles';

const META = '_outflow_entities';
const SEGMENT_STATE = '_outflow_segment_state';
const SYNC_TARGETS = '_outflow_sync_targets';
/** Logical names longer than PostgreSQL's 63-byte identifiers (delivered states) and the table holding each. */
const LONG_NAMES = '_outflow_table_names';
/** Load order of a loaded entity's rows: an entity export's parts are ranges of it, in file order. */
const ROW_COLUMN = '__outflow_row';

export interface OpenPostgresProfileStoreOptions {
  /** Overrides the schema named on the URL (`?schema=`); default `outflow_profiles`. */
  schema?: string;
  /**
   * Connections in the pool (default 20): a stream holds one while its consumer writes through others, so a
   * small pool shared by several runs could leave every stream waiting for a connection.
   */
  maxConnections?: number;
  /** The limit and spill folder of the in-process DuckDB that reads a file being loaded (OUTFLOW_DUCKDB_MEMORY). */
  memory?: DuckDbMemory;
}

/** `schema` on the URL is ours; PostgreSQL would reject it as a startup parameter. */
export function parseProfilesUrl(url: string): { connectionString: string; schema: string | null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('invalid_settings', 'OUTFLOW_PROFILES_URL is not a valid URL: write postgres://user:password@host:5432/database.');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError('invalid_settings', `OUTFLOW_PROFILES_URL must be a postgres:// URL (unset it to keep profiles in the home's DuckDB file); got a ${parsed.protocol}// URL.`);
  }
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/** Results as the DuckDB store gives them: exact integers as numbers, dates and decimals as text. */
const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    switch (oid) {
      case 20: // int8
        return (value: string) => {
          const n = Number(value);
          return Number.isSafeInteger(n) ? n : value;
        };
      case 1082: // date
      case 1083: // time
      case 1114: // timestamp
      case 1184: // timestamptz
      case 1700: // numeric
        return (value: string) => value;
      default:
        return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
    }
  },
};

export async function openPostgresProfileStore(url: string, options: OpenPostgresProfileStoreOptions = {}): Promise<ProfileStore> {
  const { connectionString, schema: fromUrl } = parseProfilesUrl(url);
  const schema = options.schema ?? fromUrl ?? DEFAULT_PROFILES_SCHEMA;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError('invalid_settings', `The profile store's schema "${schema}" is not a plain identifier: use letters, digits and _.`);
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 20,
    // UTC and ISO dates, so rendered timestamps read as DuckDB renders them whatever the server's settings.
    options: '-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=1',
    types: typeParsers as unknown as pg.CustomTypesConfig,
  });
  // An idle connection the server dropped must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const s = quoteIdent(schema);
  try {
    await transaction(pool, async (client) => {
      // Two processes starting at once would race on CREATE … IF NOT EXISTS.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`outflow_profiles:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.${META} (name text PRIMARY KEY, key_column text NOT NULL, rows bigint NOT NULL, loaded_at text NOT NULL, source text NOT NULL, attached text)`,
      );
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.${SEGMENT_STATE} (segment_id text PRIMARY KEY, entity text NOT NULL, entity_loaded_at text NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.${SYNC_TARGETS} (state_prefix text PRIMARY KEY, state text NOT NULL, target text NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.${LONG_NAMES} (name text COLLATE "C" PRIMARY KEY, physical text NOT NULL)`);
    });
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectionError(error, connectionString);
  }
  return new PostgresProfileStore(pool, schema, options.memory ?? DEFAULT_DUCKDB_MEMORY);
}

function connectionError(error: unknown, connectionString: string): Error {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000' || code === '28000') {
    const host = (() => {
      try {
        const u = new URL(connectionString);
        return `${u.hostname}:${u.port || 5432}${u.pathname}`;
      } catch {
        return 'the server';
      }
    })();
    return new ConfigError('invalid_settings', `Cannot open the PostgreSQL profile store at ${host} (OUTFLOW_PROFILES_URL): ${(error as Error).message}. Check the URL and that the server is up.`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The table holding a logical name: itself when it fits PostgreSQL's 63 bytes, else a hash of it. */
function physicalName(name: string): string {
  return Buffer.byteLength(name) <= 63 ? name : `_h_${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

/** A DuckDB type (as the loader infers it or Parquet declares it) to the PostgreSQL column type that holds it. */
function postgresType(duckType: string): { type: string; cast: boolean } {
  const upper = duckType.trim().toUpperCase();
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(upper);
  if (decimal) return { type: `numeric(${decimal[1]},${decimal[2]})`, cast: false };
  const map: Record<string, string> = {
    BIGINT: 'bigint',
    INTEGER: 'integer',
    SMALLINT: 'smallint',
    TINYINT: 'smallint',
    UTINYINT: 'smallint',
    USMALLINT: 'integer',
    UINTEGER: 'bigint',
    UBIGINT: 'numeric',
    HUGEINT: 'numeric',
    UHUGEINT: 'numeric',
    DOUBLE: 'double precision',
    FLOAT: 'real',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    TIMESTAMP_S: 'timestamp',
    TIMESTAMP_MS: 'timestamp',
    TIMESTAMP_NS: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamptz',
    TIME: 'time',
    UUID: 'uuid',
    // Text compares byte by byte, as in DuckDB: filters with < and > and the key order agree on both stores.
    VARCHAR: 'text COLLATE "C"',
  };
  const type = map[upper];
  // Lists, structs, blobs, …: kept as their text form.
  return type ? { type, cast: false } : { type: 'text COLLATE "C"', cast: true };
}

/** A PostgreSQL column as the filter language and the rest of Outflow name types (DuckDB's names). */
function columnType(dataType: string, udt: string, precision: number | null, scale: number | null): string {
  switch (dataType) {
    case 'bigint':
      return 'BIGINT';
    case 'integer':
      return 'INTEGER';
    case 'smallint':
      return 'SMALLINT';
    case 'double precision':
      return 'DOUBLE';
    case 'real':
      return 'FLOAT';
    case 'numeric':
      return precision !== null ? `DECIMAL(${precision},${scale ?? 0})` : 'DECIMAL';
    case 'text':
    case 'character varying':
    case 'character':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp without time zone':
      return 'TIMESTAMP';
    case 'timestamp with time zone':
      return 'TIMESTAMP WITH TIME ZONE';
    case 'time without time zone':
      return 'TIME';
    case 'uuid':
      return 'UUID';
    case 'ARRAY':
      return `${udt.replace(/^_/, '').toUpperCase()}[]`;
    default:
      // json, jsonb, enums, intervals, …: only `is [not] null` in filters (the PG_ prefix keeps json from
      // passing for text, which PostgreSQL cannot compare with =).
      return `PG_${udt.toUpperCase()}`;
  }
}

interface EntityMeta {
  name: string;
  key: string;
  rows: number;
  loadedAt: string;
  source: string;
  attached: string | null;
}

/** `crm.customers` (or `customers`, in the search path's `public`) to its two quoted parts. */
function parseTableName(table: string): { schema: string; table: string } {
  const match = /^(?:("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\.)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)$/.exec(table.trim());
  if (!match) throw new ValidationError(`--table ${JSON.stringify(table)} is not a table name: write schema.table, e.g. crm.customers.`);
  const unquote = (part: string) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase());
  return { schema: match[1] ? unquote(match[1]) : 'public', table: unquote(match[2]!) };
}

class PostgresProfileStore implements ProfileStore {
  private readonly s: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly memory: DuckDbMemory,
  ) {
    this.s = quoteIdent(schema);
  }

  /** The schema-qualified, quoted table behind a logical name. */
  private ref(name: string): string {
    return `${this.s}.${quoteIdent(physicalName(name))}`;
  }

  private members(segmentId: string): string {
    return this.ref(`_members_${segmentId}`);
  }

  private async rows<T = Record<string, unknown>>(sql: string, params: unknown[] = [], client: pg.ClientBase | pg.Pool = this.pool): Promise<T[]> {
    return (await client.query(sql, params)).rows as T[];
  }

  private async count(sql: string, params: unknown[] = [], client: pg.ClientBase | pg.Pool = this.pool): Promise<number> {
    const row = (await client.query({ text: sql, values: params, rowMode: 'array' })).rows[0] as unknown[];
    return Number(row[0]);
  }

  private async entityMeta(name: string, client: pg.ClientBase | pg.Pool = this.pool): Promise<EntityMeta> {
    const row = (await this.rows<{ name: string; key_column: string; rows: number; loaded_at: string; source: string; attached: string | null }>(
      `SELECT name, key_column, rows, loaded_at, source, attached FROM ${this.s}.${META} WHERE name = $1`,
      [name],
      client,
    ))[0];
    if (!row) {
      const known = (await this.rows<{ name: string }>(`SELECT name FROM ${this.s}.${META} ORDER BY name COLLATE "C"`, [], client)).map((r) => r.name);
      throw noEntityError(name, known);
    }
    return { name: row.name, key: row.key_column, rows: Number(row.rows), loadedAt: row.loaded_at, source: row.source, attached: row.attached };
  }

  /** The quoted table an entity's rows are read from: its own, or the attached one. */
  private entityTable(meta: EntityMeta): string {
    if (meta.attached === null) return this.ref(meta.name);
    const { schema, table } = parseTableName(meta.attached);
    return `${quoteIdent(schema)}.${quoteIdent(table)}`;
  }

  /** The entity's columns, read from the catalog each time: an attached table's columns can change. */
  private async columnsOf(meta: EntityMeta, client: pg.ClientBase | pg.Pool = this.pool): Promise<ColumnInfo[]> {
    const where = meta.attached === null ? { schema: this.schema, table: physicalName(meta.name) } : parseTableName(meta.attached);
    const rows = await this.rows<{ column_name: string; data_type: string; udt_name: string; numeric_precision: number | null; numeric_scale: number | null }>(
      `SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [where.schema, where.table],
      client,
    );
    if (rows.length === 0 && meta.attached !== null) {
      throw new ConfigError(
        'invalid_settings',
        `Entity ${meta.name} is attached to ${meta.attached}, which no longer exists (or Outflow's database user may not read it). Restore the table or view, or attach ${meta.name} to another one with \`outflow entity attach ${meta.name} --table <schema.table> --key <column>\`.`,
      );
    }
    return rows
      .filter((r) => meta.attached !== null || r.column_name !== ROW_COLUMN)
      .map((r) => ({ name: r.column_name, type: columnType(r.data_type, r.udt_name, r.numeric_precision, r.numeric_scale) }));
  }

  /**
   * The columns a query needs, checked against the catalog: an attached table may have lost one since the
   * segment or export was set up, and PostgreSQL's own message would not say which entity or what to do.
   */
  private async requireColumns(meta: EntityMeta, wanted: string[]): Promise<ColumnInfo[]> {
    const columns = await this.columnsOf(meta);
    const names = new Set(columns.map((c) => c.name));
    const missing = [...new Set(wanted)].filter((c) => !names.has(c));
    if (missing.length > 0) throw missingColumnsError(meta, missing);
    return columns;
  }

  async listEntities(): Promise<EntityInfo[]> {
    const names = (await this.rows<{ name: string }>(`SELECT name FROM ${this.s}.${META} ORDER BY name COLLATE "C"`)).map((r) => r.name);
    return Promise.all(names.map((name) => this.getEntity(name)));
  }

  async getEntity(name: string): Promise<EntityInfo> {
    const meta = await this.entityMeta(name);
    const columns = await this.columnsOf(meta);
    if (meta.attached !== null && !columns.some((c) => c.name === meta.key)) throw missingColumnsError(meta, [meta.key]);
    // An attached table's rows are counted now: it changes without Outflow knowing.
    const rows = meta.attached === null ? meta.rows : await this.count(`SELECT count(*) FROM ${this.entityTable(meta)}`);
    return {
      name,
      key: meta.key,
      keyType: columns.find((c) => c.name === meta.key)?.type ?? 'VARCHAR',
      rows,
      columns,
      loadedAt: meta.loadedAt,
      source: meta.source,
      ...(meta.attached !== null ? { attached: meta.attached } : {}),
    };
  }

  async sampleValues(entity: string, perColumn: number): Promise<Array<{ name: string; type: string; values: string[] }>> {
    const meta = await this.entityMeta(entity);
    const info = await this.getEntity(entity);
    const result: Array<{ name: string; type: string; values: string[] }> = [];
    for (const column of info.columns) {
      const c = quoteIdent(column.name);
      // As on DuckDB: at most SAMPLE_SCAN_ROWS rows are read per column, and long values are cut.
      const rows = await this.rows<{ v: string }>(
        `SELECT DISTINCT left(v::text, ${SAMPLE_MAX_CHARS}) AS v FROM (SELECT ${c} AS v FROM ${this.entityTable(meta)} WHERE ${c} IS NOT NULL AND ${c}::text <> '' LIMIT ${SAMPLE_SCAN_ROWS}) s LIMIT ${Math.max(0, Math.floor(perColumn))}`,
      );
      result.push({ name: column.name, type: column.type, values: rows.map((r) => r.v) });
    }
    return result;
  }

  async attachEntity(name: string, table: string, options: { key: string }): Promise<EntityInfo> {
    if (!ENTITY_NAME.test(name)) {
      throw new ValidationError(`"${name}" is not a valid entity name: use letters, digits and _ , starting with a letter (at most 63 characters).`);
    }
    const target = parseTableName(table);
    const qualified = `${quoteIdent(target.schema)}.${quoteIdent(target.table)}`;
    if (target.schema === this.schema) {
      throw new ValidationError(`Cannot attach a table in ${this.schema}: that schema is Outflow's own profile store. Attach a table or view of another schema.`);
    }
    // As it would be typed again: quoted only where PostgreSQL needs it (it is parsed again on every read).
    const part = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name));
    const display = `${part(target.schema)}.${part(target.table)}`;
    const probe: EntityMeta = { name, key: options.key, rows: 0, loadedAt: '', source: display, attached: display };
    const columns = await this.columnsOf(probe).catch((error: unknown) => {
      if (error instanceof ConfigError) {
        throw new NotFoundError(`No table or view ${display} that Outflow's database user can read. Check the name (schema.table) and grant SELECT on it.`);
      }
      throw error;
    });
    const key = columns.find((c) => c.name === options.key) ?? columns.find((c) => c.name.toLowerCase() === options.key.toLowerCase());
    if (!key) throw new ValidationError(`${display} has no column "${options.key}" to use as ${name}'s key. Columns: ${columns.map((c) => c.name).join(', ')}. Pass --key <column>.`);
    // Readable by this user, now (a view may fail only when read).
    await this.count(`SELECT count(*) FROM (SELECT 1 FROM ${qualified} LIMIT 1) x`).catch((cause: unknown) => {
      throw new ValidationError(`Cannot read ${display}: ${(cause as Error).message}. Grant SELECT on it to Outflow's database user.`, [], { cause });
    });
    await transaction(this.pool, async (client) => {
      const existing = (await this.rows<{ attached: string | null }>(`SELECT attached FROM ${this.s}.${META} WHERE name = $1 FOR UPDATE`, [name], client))[0];
      if (existing && existing.attached === null) {
        throw new ConflictError(
          `${name} is already a loaded entity; attaching ${display} would replace its rows. Attach under another name, or remove the segments and exports that use ${name} first.`,
        );
      }
      // Attaching again (same or other table) is a new version: segments built from the old one are stale.
      const loadedAt = await this.nextVersion(name, client);
      await client.query(
        `INSERT INTO ${this.s}.${META} VALUES ($1, $2, 0, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET key_column = EXCLUDED.key_column, rows = 0, loaded_at = EXCLUDED.loaded_at, source = EXCLUDED.source, attached = EXCLUDED.attached`,
        [name, key.name, loadedAt, display],
      );
    });
    return this.getEntity(name);
  }

  /** loaded_at also versions the entity; two loads in the same millisecond must still differ. */
  private async nextVersion(name: string, client: pg.ClientBase): Promise<string> {
    const previous = (await this.rows<{ loaded_at: string }>(`SELECT loaded_at FROM ${this.s}.${META} WHERE name = $1`, [name], client))[0]?.loaded_at;
    let loadedAt = new Date().toISOString();
    if (previous !== undefined && previous >= loadedAt) loadedAt = new Date(Date.parse(previous) + 1).toISOString();
    return loadedAt;
  }

  async loadEntity(name: string, file: string, options: { key: string; delimiter?: string }): Promise<EntityInfo> {
    const { absolute, parquet, delimiter, unreadable } = checkLoad(name, file, options);
    const attached = (await this.rows<{ attached: string | null }>(`SELECT attached FROM ${this.s}.${META} WHERE name = $1`, [name]))[0]?.attached;
    if (attached) {
      throw new ConflictError(
        `${name} is attached to ${attached}: Outflow reads that table live and never loads over it. Change the rows in ${attached} itself, or load the file under another entity name.`,
      );
    }
    // DuckDB in memory reads and types the file exactly as the embedded store does, then streams the typed
    // rows out as CSV; nothing holds the file.
    const tempDirectory = this.memory.tempDirectory ?? os.tmpdir();
    fs.mkdirSync(tempDirectory, { recursive: true, mode: 0o700 });
    const duck = await DuckDBInstance.create(':memory:', { ...duckDbSettings({ ...this.memory, tempDirectory }), threads: '2' });
    const dcon = await duck.connect();
    try {
      let source: { select: string; columns: ColumnInfo[]; cleanup(): Promise<void> };
      try {
        source = parquet ? await parquetSource(dcon, absolute) : await csvSource(dcon, absolute, delimiter, null);
      } catch (cause) {
        throw unreadable(translateEngineError(cause, this.memory, false));
      }
      const keyColumn = source.columns.find((c) => c.name === options.key) ?? source.columns.find((c) => c.name.toLowerCase() === options.key.toLowerCase());
      if (!keyColumn) throw noKeyColumnError(name, options.key, source.columns);
      if (source.columns.some((c) => c.name === ROW_COLUMN)) throw new ValidationError(`The file has a column named ${ROW_COLUMN}, which Outflow keeps for itself. Rename it.`);
      const types = source.columns.map((c) => ({ ...c, ...postgresType(c.type) }));
      const select = `SELECT ${types.map((c) => (c.cast ? `CAST(${quoteIdent(c.name)} AS VARCHAR) AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ')} FROM (${source.select}) src`;
      const staging = this.ref(`_load_${randomBytes(8).toString('hex')}`);
      const table = this.ref(name);
      const key = quoteIdent(keyColumn.name);
      await transaction(this.pool, async (client) => {
        // Built and checked inside the transaction that swaps it in: a failure anywhere (or a killed process)
        // rolls back to the previous entity and leaves no staging table behind.
        await client.query(
          `CREATE TABLE ${staging} (${types.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')}${types.length ? ', ' : ''}${ROW_COLUMN} bigint GENERATED ALWAYS AS IDENTITY (START WITH 0 MINVALUE 0))`,
        );
        await copyDuckDbInto(dcon, select, client, `COPY ${staging} (${types.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN WITH (FORMAT csv)`).catch((cause: unknown) => {
          throw unreadable(translateEngineError(cause, this.memory, false));
        });
        const check = (await client.query({ text: `SELECT count(*), count(${key}) FROM ${staging}`, rowMode: 'array' })).rows[0] as unknown[];
        const [rows, nonNull] = check.map(Number) as [number, number];
        checkKeyCounts(name, keyColumn.name, rows, nonNull, nonNull);
        // The primary key's index build finds duplicates anyway; counting them (another sort of every key) is
        // left to the load that has some.
        await client.query('SAVEPOINT outflow_key');
        try {
          await client.query(`ALTER TABLE ${staging} ADD PRIMARY KEY (${key})`);
        } catch (error) {
          if ((error as { code?: string }).code !== '23505') throw error;
          await client.query('ROLLBACK TO SAVEPOINT outflow_key');
          const distinct = await this.count(`SELECT count(DISTINCT ${key}) FROM ${staging}`, [], client);
          checkKeyCounts(name, keyColumn.name, rows, nonNull, distinct);
          throw error;
        }
        await client.query(`CREATE UNIQUE INDEX ON ${staging} (${ROW_COLUMN})`);
        await client.query(`ANALYZE ${staging}`);
        await client.query(`DROP TABLE IF EXISTS ${table}`);
        await client.query(`ALTER TABLE ${staging} RENAME TO ${quoteIdent(physicalName(name))}`);
        const loadedAt = await this.nextVersion(name, client);
        await client.query(
          `INSERT INTO ${this.s}.${META} VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (name) DO UPDATE SET key_column = EXCLUDED.key_column, rows = EXCLUDED.rows, loaded_at = EXCLUDED.loaded_at, source = EXCLUDED.source, attached = NULL`,
          [name, keyColumn.name, rows, loadedAt, path.basename(file)],
        );
      });
      await source.cleanup();
    } finally {
      dcon.closeSync();
      duck.closeSync();
    }
    return this.getEntity(name);
  }

  async refreshSegment(segmentId: string, entity: string, filter: CompiledFilter): Promise<number> {
    const meta = await this.entityMeta(entity);
    const columns = await this.columnsOf(meta);
    if (!columns.some((c) => c.name === meta.key)) throw missingColumnsError(meta, [meta.key]);
    const key = quoteIdent(meta.key);
    const pgFilter = toPostgresFilter(filter);
    const name = physicalName(`_members_${segmentId}`);
    const staging = this.ref(`_members_${segmentId}_next`);
    // Built beside the old table and swapped in one transaction: a failed refresh keeps the previous membership.
    await transaction(this.pool, async (client) => {
      await client.query(`DROP TABLE IF EXISTS ${staging}`);
      await client
        .query(
          // A live table may hold rows without a key: they can be no one's membership.
          `CREATE TABLE ${staging} AS SELECT e.${key} AS k, (row_number() OVER (ORDER BY e.${key}) - 1)::bigint AS ordinal FROM ${this.entityTable(meta)} e WHERE e.${key} IS NOT NULL AND ${pgFilter.sql}`,
          pgFilter.params,
        )
        .catch((cause: unknown) => {
          throw columnGoneError(meta, cause) ?? cause;
        });
      await client.query(`CREATE UNIQUE INDEX ON ${staging} (k)`).catch((cause: unknown) => {
        if ((cause as { code?: string }).code !== '23505') throw cause;
        throw new ValidationError(
          `The key column "${meta.key}" of ${meta.attached ?? meta.name} holds the same value more than once, so a member cannot be told apart. Attach ${meta.name} with a unique key (\`outflow entity attach ${meta.name} --table ${meta.attached ?? '<schema.table>'} --key <column>\`).`,
          [],
          { cause },
        );
      });
      await client.query(`CREATE UNIQUE INDEX ON ${staging} (ordinal)`);
      await client.query(`ANALYZE ${staging}`);
      await client.query(`DROP TABLE IF EXISTS ${this.members(segmentId)}`);
      await client.query(`ALTER TABLE ${staging} RENAME TO ${quoteIdent(name)}`);
      await this.registerName(`_members_${segmentId}`, client);
      await client.query(
        `INSERT INTO ${this.s}.${SEGMENT_STATE} VALUES ($1, $2, $3) ON CONFLICT (segment_id) DO UPDATE SET entity = EXCLUDED.entity, entity_loaded_at = EXCLUDED.entity_loaded_at`,
        [segmentId, entity, meta.loadedAt],
      );
    });
    return this.count(`SELECT count(*) FROM ${this.members(segmentId)}`);
  }

  /** Records a logical name too long to be the table's own, so prefix lookups still find it. */
  private async registerName(name: string, client: pg.ClientBase | pg.Pool = this.pool): Promise<void> {
    const physical = physicalName(name);
    if (physical !== name) await client.query(`INSERT INTO ${this.s}.${LONG_NAMES} VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, physical]);
  }

  async hasTable(name: string, client: pg.ClientBase | pg.Pool = this.pool): Promise<boolean> {
    return (await this.count(`SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2`, [this.schema, physicalName(name)], client)) > 0;
  }

  /** Logical names of the tables starting with `prefix`. */
  async tablesStartingWith(prefix: string, client: pg.ClientBase | pg.Pool = this.pool): Promise<string[]> {
    const rows = await this.rows<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND starts_with(tablename, $2) AND NOT starts_with(tablename, '_h_') ` +
        `UNION SELECT n.name FROM ${this.s}.${LONG_NAMES} n JOIN pg_tables t ON t.schemaname = $1 AND t.tablename = n.physical WHERE starts_with(n.name, $2)`,
      [this.schema, prefix],
      client,
    );
    return rows.map((r) => r.name);
  }

  async dropTable(name: string, client: pg.ClientBase | pg.Pool = this.pool): Promise<void> {
    await client.query(`DROP TABLE IF EXISTS ${this.ref(name)}`);
    if (physicalName(name) !== name) await client.query(`DELETE FROM ${this.s}.${LONG_NAMES} WHERE name = $1`, [name]);
  }

  private async requireMembers(source: Source & { kind: 'segment' }): Promise<void> {
    if (!(await this.hasTable(`_members_${source.segmentId}`))) throw neverRefreshedError(source.segment);
  }

  async dropSegment(segmentId: string): Promise<void> {
    await this.dropTable(`_members_${segmentId}`);
    await this.pool.query(`DELETE FROM ${this.s}.${SEGMENT_STATE} WHERE segment_id = $1`, [segmentId]);
  }

  async segmentIsStale(segmentId: string, entity: string): Promise<boolean> {
    if (!(await this.hasTable(`_members_${segmentId}`))) return false;
    const meta = await this.entityMeta(entity);
    const row = (await this.rows<{ entity: string; entity_loaded_at: string }>(`SELECT entity, entity_loaded_at FROM ${this.s}.${SEGMENT_STATE} WHERE segment_id = $1`, [segmentId]))[0];
    return !row || row.entity !== entity || row.entity_loaded_at !== meta.loadedAt;
  }

  async countRows(source: Source): Promise<number> {
    if (source.kind === 'entity') {
      const meta = await this.entityMeta(source.entity);
      return this.count(`SELECT count(*) FROM ${this.entityTable(meta)}`);
    }
    await this.requireMembers(source);
    return this.count(`SELECT count(*) FROM ${this.members(source.segmentId)}`);
  }

  async copiesAtOnce(): Promise<number> {
    // Each part is a COPY … TO STDOUT on a connection of its own, in PostgreSQL's memory, not ours. (Finite: the
    // answer may cross a process boundary as JSON.)
    return Number.MAX_SAFE_INTEGER;
  }

  async copyCsv(
    source: Source,
    range: { from: number; to: number },
    options: { delimiter: string; formulaEscaping?: 'none' | 'quote'; signal?: AbortSignal },
    target: string,
  ): Promise<number> {
    const from = Math.trunc(range.from);
    const to = Math.trunc(range.to);
    const meta = await this.entityMeta(source.entity);
    const columns = await this.columnsOf(meta);
    if (source.kind === 'segment') await this.requireMembers(source);
    const key = quoteIdent(meta.key);
    const rendered = columns.map((c) => renderColumn(c, options.formulaEscaping === 'quote')).join(', ');
    const entity = this.entityTable(meta);
    let query: string;
    if (source.kind === 'segment') {
      query = `SELECT ${rendered} FROM ${this.members(source.segmentId)} m JOIN ${entity} e ON e.${key} = m.k WHERE m.ordinal >= ${from} AND m.ordinal < ${to} ORDER BY m.ordinal`;
    } else if (meta.attached === null) {
      query = `SELECT ${rendered} FROM ${entity} e WHERE e.${ROW_COLUMN} >= ${from} AND e.${ROW_COLUMN} < ${to} ORDER BY e.${ROW_COLUMN}`;
    } else {
      // A live table has no load order: its parts are ranges of the key order.
      query = `SELECT ${rendered} FROM ${entity} e ORDER BY e.${key} OFFSET ${from} LIMIT ${Math.max(0, to - from)}`;
    }
    const client = await this.pool.connect();
    const pid = (client as unknown as { processID: number }).processID;
    let cancelled = false;
    // Cancelling the query stops PostgreSQL rendering rows nobody will read; the stream then errors.
    const interrupt = () => {
      cancelled = true;
      this.pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
    };
    options.signal?.addEventListener('abort', interrupt, { once: true });
    let broken = false;
    try {
      if (options.signal?.aborted) throw options.signal.reason;
      const copy = client.query(
        copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER ${quoteLiteral(options.delimiter)}, QUOTE '"', ESCAPE '"', NULL '')`),
      );
      try {
        await pipeline(copy, fs.createWriteStream(target, { flags: 'w' }));
      } catch (error) {
        broken = true;
        if (cancelled && options.signal?.aborted) throw options.signal.reason ?? error;
        throw columnGoneError(meta, error) ?? error;
      }
      return copy.rowCount;
    } finally {
      options.signal?.removeEventListener('abort', interrupt);
      // A COPY cut short leaves the connection mid-protocol: it must not go back to the pool.
      client.release(broken ? true : undefined);
    }
  }

  async *readMembers(source: Source & { kind: 'segment' }, columns: string[], afterKey: string | null, chunkRows = 2048): AsyncIterable<Row[]> {
    await this.requireMembers(source);
    const meta = await this.entityMeta(source.entity);
    await this.requireColumns(meta, [meta.key, ...columns]);
    const key = quoteIdent(meta.key);
    const selected = [`e.${key}::text AS "__key"`, ...columns.map((c) => `e.${quoteIdent(c)}`)].join(', ');
    const where = afterKey === null ? '' : `WHERE m.k > $1`;
    yield* this.cursor(
      `SELECT ${selected} FROM ${this.members(source.segmentId)} m JOIN ${this.entityTable(meta)} e ON e.${key} = m.k ${where} ORDER BY m.k`,
      afterKey === null ? [] : [afterKey],
      (row, names) => {
        const out: Row = {};
        names.forEach((name, i) => (out[name] = plainValue(row[i])));
        return out;
      },
      chunkRows,
    );
  }

  /**
   * Streams a query's rows in chunks through a server-side cursor, on a connection of its own and in one
   * read-only snapshot: the caller writes while the result streams, and a refresh meanwhile does not change
   * what a stream already started reads.
   */
  async *cursor<T>(sql: string, params: unknown[], toRow: (row: unknown[], names: string[]) => T, chunkRows: number): AsyncIterable<T[]> {
    const client = await this.pool.connect();
    let done = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`DECLARE outflow_stream NO SCROLL CURSOR FOR ${sql}`, params);
      for (;;) {
        const result = await client.query({ text: `FETCH ${Math.max(1, Math.trunc(chunkRows))} FROM outflow_stream`, rowMode: 'array' });
        const names = result.fields.map((f) => f.name);
        if (result.rows.length > 0) yield (result.rows as unknown[][]).map((row) => toRow(row, names));
        if (result.rows.length < chunkRows) break;
      }
      await client.query('COMMIT');
      done = true;
    } finally {
      if (!done) await client.query('ROLLBACK').catch(() => {});
      client.release();
    }
  }

  get sync(): SyncTables {
    return createPostgresSync(this);
  }

  /** For the sync tables (below): the pieces of the store they share. */
  internals() {
    return {
      pool: this.pool,
      s: this.s,
      ref: (name: string) => this.ref(name),
      members: (segmentId: string) => this.members(segmentId),
      entityMeta: (name: string) => this.entityMeta(name),
      entityTable: (meta: EntityMeta) => this.entityTable(meta),
      requireColumns: (meta: EntityMeta, wanted: string[]) => this.requireColumns(meta, wanted),
      count: (sql: string, params: unknown[] = [], client?: pg.ClientBase) => this.count(sql, params, client),
      registerName: (name: string, client?: pg.ClientBase) => this.registerName(name, client),
    };
  }

  async useStreamingResources(): Promise<void> {
    // PostgreSQL's memory is the server's business: nothing to cap in this process.
  }

  async backupTo(): Promise<void> {
    throw new ConfigError('invalid_settings', POSTGRES_BACKUP_ADVICE);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A value as the DuckDB store returns it (see typeParsers): JSON-able, dates as text. */
function plainValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A column rendered into CSV as DuckDB renders it: booleans as true/false (PostgreSQL writes t/f), doubles. */
function renderColumn(column: ColumnInfo, formulaEscaping: boolean): string {
  const c = `e.${quoteIdent(column.name)}`;
  if (column.type === 'BOOLEAN') return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END AS ${quoteIdent(column.name)}`;
  // DuckDB writes a whole DOUBLE as 5.0, PostgreSQL as 5.
  if (column.type === 'DOUBLE' || column.type === 'FLOAT') {
    // (PostgreSQL writes whole values below 1e15 without an exponent.) Cheaper than matching the text.
    return `CASE WHEN ${c} = trunc(${c}) AND abs(${c}) < 1e15 THEN ${c}::text || '.0' ELSE ${c}::text END AS ${quoteIdent(column.name)}`;
  }
  if (formulaEscaping) return formulaSafe(column, 'e');
  return c;
}

function missingColumnsError(meta: EntityMeta, missing: string[]): ConfigError {
  const list = missing.map((c) => `"${c}"`).join(', ');
  if (meta.attached !== null) {
    return new ConfigError(
      'invalid_settings',
      `Entity ${meta.name} is attached to ${meta.attached}, which no longer has column${missing.length > 1 ? 's' : ''} ${list} (dropped or renamed?). Restore the column in ${meta.attached}, or change the segments and exports that use it (\`outflow segment update <segment> --where …\`, \`outflow export update <export> --config …\`).`,
    );
  }
  return new ConfigError('invalid_settings', `Entity ${meta.name} has no column${missing.length > 1 ? 's' : ''} ${list}. Load a file that has it, or change the segments and exports that use it.`);
}

/** PostgreSQL's "column does not exist" on an attached table, as the clear error above (null otherwise). */
function columnGoneError(meta: EntityMeta, cause: unknown): ConfigError | null {
  if ((cause as { code?: string }).code !== '42703') return null;
  const column = /column (?:\w+\.)?"?([^"]+?)"? does not exist/.exec((cause as Error).message)?.[1];
  return missingColumnsError(meta, [column ?? '?']);
}

/**
 * Streams DuckDB's rows (`select`) as CSV into PostgreSQL's `COPY … FROM STDIN`, through a FIFO: DuckDB's
 * CSV writer is fast and keeps nothing, and neither does the pipe. A failure on either side ends the other.
 */
async function copyDuckDbInto(dcon: DuckDBConnection, select: string, client: pg.ClientBase, copySql: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-load-'));
  const fifo = path.join(dir, 'rows.fifo');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  let guard: net.Socket | undefined;
  let pipe: net.Socket | undefined;
  let abandoned: Error | undefined;
  // The side that failed first holds the cause; the other then fails with a broken pipe.
  let first: { error: unknown } | undefined;
  try {
    const sink = client.query(copyFrom(copySql));
    const reading = new Promise<void>((resolve, reject) => {
      fs.open(fifo, fs.constants.O_RDONLY, (error, fd) => {
        if (error) return reject(error);
        pipe = new net.Socket({ fd, readable: true, writable: false });
        // DuckDB failed before we opened: fail the COPY too, so it commits nothing.
        if (abandoned) pipe.destroy(abandoned);
        pipeline(pipe, sink).then(resolve, (error: unknown) => {
          first ??= { error };
          reject(error);
        });
      });
    });
    const writing = dcon
      .run(`COPY (${select}) TO ${quoteLiteral(fifo)} (FORMAT csv, HEADER false, NULLSTR '', QUOTE '"', ESCAPE '"', USE_TMP_FILE false)`)
      .catch((error: unknown) => {
        first ??= { error };
        abandoned = error instanceof Error ? error : new Error(String(error));
        if (pipe) pipe.destroy(abandoned);
        else {
          // Our open() still waits for a writer: an O_RDWR open never blocks and counts as one.
          try {
            guard = new net.Socket({ fd: fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: true, writable: false });
            guard.on('error', () => undefined);
            guard.resume();
          } catch {
            // gone already
          }
        }
        throw error;
      });
    const results = await Promise.allSettled([writing, reading]);
    if (results.some((r) => r.status === 'rejected')) throw first?.error;
  } finally {
    guard?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `c0`, `c1`, …: snapshot columns are positional, so an entity column named like a bookkeeping column cannot clash. */
const snapColumn = (i: number) => `c${i}`;

/**
 * The salt and the typed values (NULL included) hashed with MD5 of the row's text form: a value change goes
 * unnoticed with a chance of 2^-128. The hashes differ from the DuckDB store's; each store compares its own.
 */
function hashInput(salt: string, columns: string[], alias: string): string {
  return `md5(ROW(${[`${quoteLiteral(salt)}::text`, ...columns.map((c) => `${alias}.${quoteIdent(c)}`)].join(', ')})::text)`;
}

function createPostgresSync(store: PostgresProfileStore): SyncTables {
  const { pool, s, ref, members, entityMeta, entityTable, requireColumns, count, registerName } = store.internals();
  const toRow = (spec: SnapshotSpec) => snapshotRowMapper<unknown>(spec, plainValue);
  const selected = (spec: SnapshotSpec, alias: string) => spec.columns.map((_, i) => `${alias}.${snapColumn(i)}`);
  const createState = (d: string) => `CREATE TABLE IF NOT EXISTS ${d} (k text COLLATE "C" PRIMARY KEY, identity text, hash text, idhash text)`;

  return {
    hasTable: (name) => store.hasTable(name),

    async createSnapshot(table, source, spec) {
      const meta = await entityMeta(source.entity);
      if (!(await store.hasTable(`_members_${source.segmentId}`))) throw neverRefreshedError(source.segment);
      await requireColumns(meta, [meta.key, ...spec.columns, ...spec.hashColumns, ...spec.identityColumns]);
      const key = quoteIdent(meta.key);
      const columns = spec.columns.map((c, i) => `e.${quoteIdent(c)} AS ${snapColumn(i)}`);
      await transaction(pool, async (client) => {
        await client.query(`DROP TABLE IF EXISTS ${ref(table)}`);
        await client.query(
          `CREATE TABLE ${ref(table)} AS SELECT m.k AS k, (m.k::text) COLLATE "C" AS __key, ${hashInput(spec.salt, spec.hashColumns, 'e')} AS __hash, ` +
            `${hashInput(spec.salt, spec.identityColumns, 'e')} AS __idhash${columns.length ? ', ' : ''}${columns.join(', ')} ` +
            `FROM ${members(source.segmentId)} m JOIN ${entityTable(meta)} e ON e.${key} = m.k`,
        );
        await client.query(`CREATE UNIQUE INDEX ON ${ref(table)} (__key)`);
        await client.query(`CREATE UNIQUE INDEX ON ${ref(table)} (k)`);
        await client.query(`ANALYZE ${ref(table)}`);
        await registerName(table, client);
      });
      return count(`SELECT count(*) FROM ${ref(table)}`);
    },

    countRows: (table) => count(`SELECT count(*) FROM ${ref(table)}`),

    async adoptState(state, legacy) {
      if (await store.hasTable(state)) return true;
      if (legacy === null || !(await store.hasTable(legacy))) return false;
      await transaction(pool, async (client) => {
        await client.query(`ALTER TABLE ${ref(legacy)} RENAME TO ${quoteIdent(physicalName(state))}`);
        await client.query(`ALTER TABLE ${ref(state)} ADD COLUMN hash text`);
        await client.query(`ALTER TABLE ${ref(state)} ADD COLUMN idhash text`);
        await registerName(state, client);
      });
      return true;
    },

    countUnchanged: (snapshot, state) => count(`SELECT count(*) FROM ${ref(snapshot)} s JOIN ${ref(state)} d ON d.k = s.__key WHERE d.hash = s.__hash`),

    async *readRemovals(snapshot, state, spec, afterKey, chunkRows = 2048) {
      const sn = ref(snapshot);
      const d = ref(state);
      const cols = selected(spec, 's');
      const nulls = spec.columns.map((_, i) => `NULL AS ${snapColumn(i)}`);
      const after = afterKey === null ? '' : `WHERE __key > $1`;
      const mapRemoval = toRow(spec);
      yield* store.cursor(
        `SELECT * FROM (` +
          `SELECT s.__key AS __key, d.identity AS __identity, true AS __present${cols.length ? ', ' : ''}${cols.join(', ')} FROM ${sn} s JOIN ${d} d ON d.k = s.__key WHERE d.idhash IS DISTINCT FROM s.__idhash ` +
          `UNION ALL SELECT d.k COLLATE "C", d.identity, false${nulls.length ? ', ' : ''}${nulls.join(', ')} FROM ${d} d WHERE NOT EXISTS (SELECT 1 FROM ${sn} s WHERE s.__key = d.k)` +
          `) x ${after} ORDER BY __key`,
        afterKey === null ? [] : [afterKey],
        (row, names) => {
          return removalCandidate(mapRemoval(row, names));
        },
        chunkRows,
      );
    },

    async *readChanges(snapshot, state, spec, options, chunkRows = 2048) {
      const sn = ref(snapshot);
      const cols = selected(spec, 's');
      const where: string[] = [];
      const params: unknown[] = [];
      if (options.afterKey !== null) {
        params.push(options.afterKey);
        where.push(`s.k > $1`);
      }
      let from = `${sn} s`;
      let joined = 'true';
      if (state !== null) {
        from = `${sn} s LEFT JOIN ${ref(state)} d ON d.k = s.__key`;
        joined = 'd.k IS NULL';
        if (!options.all) where.push('(d.k IS NULL OR d.hash IS DISTINCT FROM s.__hash)');
      }
      const mapRow = toRow(spec);
      yield* store.cursor(
        `SELECT s.__key, s.__hash, s.__idhash, ${joined} AS __joined${cols.length ? ', ' : ''}${cols.join(', ')} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.k`,
        params,
        (row, names) => mapRow(row, names) as SnapshotRow,
        chunkRows,
      );
    },

    async appendJournal(journal, entries: JournalEntry[]) {
      if (entries.length === 0) return;
      const table = ref(journal);
      await transaction(pool, async (client) => {
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (seq bigint, k text COLLATE "C", op text, identity text, hash text, idhash text)`);
        await registerName(journal, client);
        // Entries of a resumed run come after those of the run it continues: the last entry per member wins.
        const seq = await count(`SELECT coalesce(max(seq), 0) FROM ${table}`, [], client);
        await client.query(
          `INSERT INTO ${table} SELECT $1::bigint + n, k, op, identity, hash, idhash FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(k, op, identity, hash, idhash, n)`,
          [seq, entries.map((e) => e.key), entries.map((e) => e.op), entries.map((e) => e.identity), entries.map((e) => e.hash), entries.map((e) => e.idhash)],
        );
      });
    },

    async commit(entries) {
      await transaction(pool, async (client) => {
        for (const { journal, state, statePrefix, target } of entries) {
          const d = ref(state);
          await client.query(createState(d));
          await registerName(state, client);
          if (await store.hasTable(journal, client)) {
            const j = ref(journal);
            await client.query(`DELETE FROM ${d} WHERE k IN (SELECT k FROM ${j})`);
            await client.query(
              `INSERT INTO ${d} SELECT k, identity, hash, idhash FROM (SELECT *, row_number() OVER (PARTITION BY k ORDER BY seq DESC) AS rn FROM ${j}) x WHERE rn = 1 AND op = 'delivered'`,
            );
            await store.dropTable(journal, client);
          }
          // A new target (the list was deleted and created again) starts from an empty state; the old one goes.
          for (const other of await store.tablesStartingWith(`${statePrefix}_t_`, client)) if (other !== state) await store.dropTable(other, client);
          await store.dropTable(statePrefix, client);
          await store.dropTable(`${statePrefix}_staging`, client);
          await client.query(
            `INSERT INTO ${s}.${SYNC_TARGETS} VALUES ($1, $2, $3) ON CONFLICT (state_prefix) DO UPDATE SET state = EXCLUDED.state, target = EXCLUDED.target`,
            [statePrefix, state, target],
          );
        }
      });
    },

    async lastTarget(statePrefix) {
      const row = (await pool.query(`SELECT target FROM ${s}.${SYNC_TARGETS} WHERE state_prefix = $1`, [statePrefix])).rows[0] as { target: string } | undefined;
      return row ? row.target : null;
    },

    async dropTables(prefix) {
      for (const table of await store.tablesStartingWith(prefix)) await store.dropTable(table);
    },
  };
}
