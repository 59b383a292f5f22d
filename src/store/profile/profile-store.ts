import fs from 'node:fs';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { ConfigError, NotFoundError, OutflowError, ValidationError, withRemedy } from '../../domain/errors.ts';
import { sleep } from '../../lib/rate-limit.ts';
import type { ColumnInfo, CompiledFilter } from './filter.ts';
import { outflowCommand, shellQuote } from '../../lib/shell.ts';
import { DEFAULT_DUCKDB_MEMORY, duckDbSettings, parseSize, translateEngineError, type DuckDbMemory } from './duckdb-memory.ts';

/**
 * What one COPY of a part holds in DuckDB's memory per column: the block it reads of every column (256 KiB)
 * stays pinned, and more beside it. Measured under the 48 MB streaming cap with 500,000 rows: 80 columns
 * failed with two copies at once ("failed to pin block") and passed with one, 40 columns passed with three and
 * failed with four (about 0.3-0.4 MiB per column and copy); half a MiB leaves room.
 */
const COPY_BYTES_PER_COLUMN = 512 * 1024;

export interface EntityInfo {
  name: string;
  key: string;
  keyType: string;
  rows: number;
  columns: ColumnInfo[];
  loadedAt: string;
  source: string;
  /** For an entity attached to an existing table or view (PostgreSQL store): that table, read live. */
  attached?: string;
}

/** What an export reads: a whole entity, or the members of a materialized segment. */
export type Source = { kind: 'entity'; entity: string } | { kind: 'segment'; segmentId: string; segment: string; entity: string };

export type Row = Record<string, string | number | boolean | null>;

/**
 * The embedded profile store: entities (the unified `Customer` profile and any other table) and the
 * materialized membership of segments, in one DuckDB file. One process may write the file at a time.
 */
export interface ProfileStore {
  listEntities(): Promise<EntityInfo[]>;
  getEntity(name: string): Promise<EntityInfo>;
  /**
   * Up to `perColumn` distinct non-null values of each column, as text, found among the first rows of the
   * entity only: a hint of what a column holds for the people mapping it, never a scan or a copy of a column.
   */
  sampleValues(entity: string, perColumn: number): Promise<Array<{ name: string; type: string; values: string[] }>>;
  /** Replaces the entity with the file's rows, atomically: on any error the previous data stays. */
  loadEntity(name: string, file: string, options: { key: string; delimiter?: string }): Promise<EntityInfo>;
  /**
   * Registers an existing table or view (`schema.table`) as an entity without copying it: segments and
   * exports read it live. Only the PostgreSQL store can; the embedded store says so.
   */
  attachEntity(name: string, table: string, options: { key: string }): Promise<EntityInfo>;
  /** Re-materializes a segment's members; returns how many there are. */
  refreshSegment(segmentId: string, entity: string, filter: CompiledFilter): Promise<number>;
  dropSegment(segmentId: string): Promise<void>;
  /** Rows an export of `source` would hold now (the member count for a segment). */
  countRows(source: Source): Promise<number>;
  /**
   * Writes rows `[from, to)` of `source` (in its stable order) as CSV with a header to `target`. With
   * `formulaEscaping: 'quote'`, text values a spreadsheet would run as a formula get a leading `'`. Aborting
   * `options.signal` interrupts the query (it then rejects).
   */
  copyCsv(
    source: Source,
    range: { from: number; to: number },
    options: { delimiter: string; formulaEscaping?: 'none' | 'quote'; signal?: AbortSignal },
    target: string,
  ): Promise<number>;
  /**
   * How many `copyCsv` of `source` fit at once in the streaming memory (at least one): a file run renders no
   * more parts at once than this.
   */
  copiesAtOnce(source: Source): Promise<number>;
  /** Streams the members of a segment in key order, starting after `afterKey`. */
  readMembers(source: Source & { kind: 'segment' }, columns: string[], afterKey: string | null, chunkRows?: number): AsyncIterable<Row[]>;
  /**
   * True when the segment's membership was materialized from an earlier load of its entity than the current
   * one (or its refresh predates Outflow recording that): joining it to the new rows would mix two versions.
   */
  segmentIsStale(segmentId: string, entity: string): Promise<boolean>;
  /** Incremental sync: run snapshots, delivered state, journals. See {@link SyncTables}. */
  readonly sync: SyncTables;
  /**
   * Caps DuckDB for streaming file parts (file runs): one thread per query, so COPY writes rows in order
   * without holding any back, and a small cache (OUTFLOW_DUCKDB_STREAMING_MEMORY), so memory stays flat
   * whatever the row count. Loads, refreshes and record runs (their snapshot, sorted reads, diff and commit)
   * get the larger OUTFLOW_DUCKDB_MEMORY, because sorting millions of rows wants the memory; both spill to
   * disk beyond their limit.
   */
  useStreamingResources(): Promise<void>;
  /**
   * Writes a consistent copy of the whole store to a new file `file` while it stays in use (`outflow backup`).
   * Only the embedded store can; the PostgreSQL store says to use pg_dump.
   */
  backupTo(file: string): Promise<void>;
  close(): Promise<void>;
}

/** How a run snapshot holds the mapped columns and what it hashes. */
export interface SnapshotSpec {
  /** Entity columns the run reads (the mapping's columns, each once). */
  columns: string[];
  /** Mixed into both hashes, so a changed mapping counts as changed values (e.g. the mapping as JSON). */
  salt: string;
  /** Columns whose values are hashed into `__hash`: every mapped column, in mapping order. */
  hashColumns: string[];
  /** Columns that identify the member at the destination (e-mail, userId): hashed into `__idhash`. */
  identityColumns: string[];
}

/** A row of a snapshot as the engine reads it: the entity's columns by name plus the run's bookkeeping. */
export type SnapshotRow = Row & { __key: string; __hash: string; __idhash: string; __joined: boolean };

/** A member the destination holds that a mirror run must remove: a departed member, or an old identity. */
export interface RemovalCandidate {
  key: string;
  /** What the delivered state holds for the member (see encodeIdentity). */
  identity: string;
  /** The member's current row when it is still in the segment (its identity may have changed); null when it left. */
  row: Row | null;
}

export interface JournalEntry {
  key: string;
  op: 'delivered' | 'removed';
  identity: string | null;
  hash: string | null;
  idhash: string | null;
}

/**
 * The tables behind incremental, exact sync, all in the profile store:
 * - a run snapshot `_snap_<run>_<n>`: the segment's members as the run started (key, mapped columns, hashes),
 *   so a resumed run continues the same membership whatever was loaded or refreshed meanwhile;
 * - the delivered state `_delivered_<export>_<segment>_<target>`: per member what the destination holds
 *   (identity and hash of the mapped values), for one list or audience;
 * - a run journal `_journal_<run>_<n>`: what the run's completed batches delivered or removed, applied to the
 *   delivered state in one transaction only when the run succeeds.
 */
export interface SyncTables {
  hasTable(name: string): Promise<boolean>;
  /**
   * Copies the segment's members (key and hashes) into `table`; returns the member count. The mapped values are
   * kept only for members whose hash differs from the delivered state `base` (the state the run expects to
   * diff against; null: keep everyone's values), so an unchanged member costs two integers. A later read
   * against another state (the target changed) or of every member first completes the values from the
   * entity, which is refused when the entity was loaded again since the snapshot.
   */
  createSnapshot(table: string, source: Source & { kind: 'segment' }, spec: SnapshotSpec, base?: string | null): Promise<number>;
  countRows(table: string): Promise<number>;
  /**
   * Makes `state` the delivered-state table, adopting a state kept before states were per target (`legacy`,
   * which has no hashes: its members count as changed once). Returns whether the state exists.
   */
  adoptState(state: string, legacy: string | null): Promise<boolean>;
  /** Members of the snapshot whose mapped values the destination already holds. */
  countUnchanged(snapshot: string, state: string): Promise<number>;
  /**
   * Mirror removals in key order (as text), after `afterKey`: delivered members who are not in the snapshot,
   * and members whose identity columns changed (the caller compares the identities).
   */
  readRemovals(snapshot: string, state: string, spec: SnapshotSpec, afterKey: string | null, chunkRows?: number): AsyncIterable<RemovalCandidate[]>;
  /**
   * Snapshot rows in key order after `afterKey`: all of them (`state` null, or `all`), or only members who
   * joined or whose hash differs from the delivered state's.
   */
  readChanges(
    snapshot: string,
    state: string | null,
    spec: SnapshotSpec,
    options: { afterKey: string | null; all: boolean; keyType: string },
    chunkRows?: number,
  ): AsyncIterable<SnapshotRow[]>;
  appendJournal(journal: string, entries: JournalEntry[]): Promise<void>;
  /**
   * In one transaction, applies each journal to its state (last entry per member wins), records the state's
   * target, drops the export and segment's states for other targets, and drops the journals.
   */
  commit(entries: Array<{ journal: string; state: string; statePrefix: string; target: string }>): Promise<void>;
  /** The target of the last committed state of an export and segment (dry runs read that state). */
  lastTarget(statePrefix: string): Promise<string | null>;
  /** Drops every table whose name starts with `prefix` (and what the store records about them: targets, snapshots). */
  dropTables(prefix: string): Promise<void>;
}

export const ENTITY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const META = '_outflow_entities';

/**
 * Maps a snapshot result row back to the entity's column names: snapshots store mapped values in positional
 * columns `c0`, `c1`, … (column names may be anything), worked out once per result. Both stores use it.
 */
export function snapshotRowMapper<V>(spec: SnapshotSpec, plainValue: (value: V) => string | number | boolean | null) {
  let seen: string[] | null = null;
  let keys: string[] = [];
  return (row: V[], names: string[]): Record<string, string | number | boolean | null> => {
    if (names !== seen) {
      seen = names;
      keys = names.map((name) => {
        const match = /^c(\d+)$/.exec(name);
        return match ? spec.columns[Number(match[1])]! : name;
      });
    }
    const out: Record<string, string | number | boolean | null> = {};
    for (let i = 0; i < keys.length; i++) out[keys[i]!] = plainValue(row[i] as V);
    return out;
  };
}

/** A removal row as both stores read it: key, identity, and the mapped values while the member still exists. */
export function removalCandidate(all: Record<string, string | number | boolean | null>): RemovalCandidate {
  const { __key, __identity, __present, ...rest } = all;
  return { key: String(__key), identity: String(__identity), row: __present === true ? { ...rest, __key: String(__key) } : null };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function membersTable(segmentId: string): string {
  return quoteIdent(`_members_${segmentId}`);
}


/** DuckDB values to plain JSON-able values: BIGINTs become numbers when exact, dates and decimals text. */
function plain(value: DuckDBValue): string | number | boolean | null {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  return String(value);
}

/** Stores open in this process, by file: DuckDB's file lock keeps other processes out, but not this one. */
const openFiles = new Map<string, number>();

export interface OpenProfileStoreOptions {
  lockWaitMs?: number;
  /**
   * Rebuild the file when dropping dead staging tables leaves at least this fraction of it free (default
   * 0.25). DuckDB reuses free blocks and truncates free blocks at the end of the file, but never moves data
   * to shrink it, and freed blocks keep their old bytes until reused.
   */
  rebuildFreeFraction?: number;
  /** DuckDB's memory limits and spill folder (see duckdb-memory.ts); default: the documented defaults. */
  memory?: DuckDbMemory;
}

export async function openProfileStore(file: string, options: OpenProfileStoreOptions = {}): Promise<ProfileStore> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const lockWaitMs = options.lockWaitMs ?? 10_000;
  const key = file === ':memory:' ? null : path.resolve(file);
  const memory = options.memory ?? DEFAULT_DUCKDB_MEMORY;
  if (memory.tempDirectory !== null) fs.mkdirSync(memory.tempDirectory, { recursive: true, mode: 0o700 });
  let instance = await openInstance(file, lockWaitMs, memory);
  let con = await instance.connect();
  try {
    // Holding DuckDB's lock means no other process is loading; a second store on the same file in this
    // process may be, so only the first one cleans up.
    if (key !== null && !openFiles.has(key)) {
      const rebuilt = await removeDeadStaging(con, key, options.rebuildFreeFraction ?? 0.25);
      if (rebuilt) {
        con.closeSync();
        instance.closeSync();
        // A clean close checkpoints and removes the WAL; a WAL left beside the old file would be replayed
        // onto the new one, so then keep the old file.
        if (fs.existsSync(`${key}.wal`)) fs.rmSync(rebuilt, { force: true });
        else fs.renameSync(rebuilt, key);
        instance = await openInstance(file, lockWaitMs, memory);
        con = await instance.connect();
      }
    }
    await con.run(
      `CREATE TABLE IF NOT EXISTS ${META} (name VARCHAR PRIMARY KEY, key_column VARCHAR NOT NULL, rows BIGINT NOT NULL, loaded_at VARCHAR NOT NULL, source VARCHAR NOT NULL)`,
    );
    await con.run(`CREATE TABLE IF NOT EXISTS ${SEGMENT_STATE} (segment_id VARCHAR PRIMARY KEY, entity VARCHAR NOT NULL, entity_loaded_at VARCHAR NOT NULL)`);
    await con.run(`CREATE TABLE IF NOT EXISTS ${SYNC_TARGETS} (state_prefix VARCHAR PRIMARY KEY, state VARCHAR NOT NULL, target VARCHAR NOT NULL)`);
    await con.run(
      `CREATE TABLE IF NOT EXISTS ${SNAPSHOTS} (snapshot VARCHAR NOT NULL, base VARCHAR, entity VARCHAR NOT NULL, key_column VARCHAR NOT NULL, loaded_at VARCHAR NOT NULL)`,
    );
    // Rows of snapshots dropped with the staging tables above (dry runs).
    await con.run(`DELETE FROM ${SNAPSHOTS} WHERE snapshot NOT IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'main')`);
  } catch (error) {
    con.closeSync();
    instance.closeSync();
    throw translateEngineError(error, memory, false);
  }
  if (key !== null) openFiles.set(key, (openFiles.get(key) ?? 0) + 1);
  const release = () => {
    if (key === null) return;
    const count = (openFiles.get(key) ?? 1) - 1;
    if (count > 0) openFiles.set(key, count);
    else openFiles.delete(key);
  };
  const threads = String((await con.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
  return translatingEngineErrors(new DuckDbProfileStore(instance, con, release, memory, threads));
}

/** Tables only a load or a segment refresh in progress holds: `_load_<Entity>_<pid>_<ms>[_raw]`, `_members_<id>_next`. */
const STAGING_TABLE = String.raw`^(_load_.+_[0-9]+_[0-9]+(_raw)?|_members_.+_next|_members_dryrun_.+|_dryrun_.+)$`;
/** Which load of its entity each segment's membership was built from. */
const SEGMENT_STATE = '_outflow_segment_state';
/** Which target (list, audience) each delivered state belongs to. */
const SYNC_TARGETS = '_outflow_sync_targets';
/** Per run snapshot: the delivered state its values were diffed against, and the load of the entity it read. */
const SNAPSHOTS = '_outflow_snapshots';

/**
 * Drops the staging tables of loads and refreshes that were killed: a killed `entity load` leaves a raw copy
 * of the whole file (personal data nobody can see) that would otherwise stay for ever. After the drop DuckDB
 * reuses the freed blocks and gives back the ones at the end of the file; when the free space left inside the
 * file is large, the database is copied into a new file, whose path is returned (the caller swaps it in).
 */
async function removeDeadStaging(con: DuckDBConnection, file: string, rebuildFreeFraction: number): Promise<string | null> {
  const dead = (
    await con.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND regexp_full_match(table_name, $1)`, [STAGING_TABLE])
  )
    .getRows()
    .map((r) => String(r[0]));
  if (dead.length === 0) return null;
  for (const table of dead) await con.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
  await con.run('CHECKPOINT');
  const size = (await con.runAndReadAll('PRAGMA database_size')).getRowObjects()[0]!;
  const total = Number(size.total_blocks);
  const free = Number(size.free_blocks);
  if (total === 0 || free / total < rebuildFreeFraction) return null;
  const target = `${file}.rebuild`;
  fs.rmSync(target, { force: true });
  fs.rmSync(`${target}.wal`, { force: true });
  const catalog = String((await con.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
  try {
    await con.run(`ATTACH ${quoteLiteral(target)} AS outflow_rebuild`);
    // COPY FROM DATABASE inserts in scan order, so every table keeps its rowids (entity parts rely on them).
    await con.run(`COPY FROM DATABASE ${quoteIdent(catalog)} TO outflow_rebuild`);
    await con.run('DETACH outflow_rebuild');
  } catch (error) {
    await con.run('DETACH DATABASE IF EXISTS outflow_rebuild').catch(() => {});
    fs.rmSync(target, { force: true });
    fs.rmSync(`${target}.wal`, { force: true });
    throw error;
  }
  return target;
}

async function openInstance(file: string, lockWaitMs: number, memory: DuckDbMemory): Promise<DuckDBInstance> {
  const deadline = Date.now() + lockWaitMs;
  const settings = duckDbSettings(memory);
  for (;;) {
    try {
      return await DuckDBInstance.create(file, settings);
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      if (!/lock/i.test(message)) throw cause;
      if (Date.now() >= deadline) {
        const pid = /PID (\d+)/.exec(message)?.[1];
        throw new OutflowError(
          'home_locked',
          `The profile store ${file} is in use by another Outflow process${pid ? ` (pid ${pid})` : ''}. Wait for it to finish (an export run or a load), or use another --home.`,
          { cause },
        );
      }
      await sleep(200);
    }
  }
}

/** Sample values come from this many rows at most, whatever the entity's size, and are cut to this length. */
export const SAMPLE_SCAN_ROWS = 1000;
export const SAMPLE_MAX_CHARS = 60;

class DuckDbProfileStore implements ProfileStore {
  constructor(
    private readonly instance: DuckDBInstance,
    private readonly con: DuckDBConnection,
    private readonly release: () => void,
    readonly memory: DuckDbMemory,
    /** DuckDB's thread count for set-based work (its default: one per core). */
    private readonly threads: string,
  ) {}

  /** Whether the streaming caps are on: they are global to the database, and name the limit an error hit. */
  streaming = false;

  async listEntities(): Promise<EntityInfo[]> {
    const reader = await this.con.runAndReadAll(`SELECT name FROM ${META} ORDER BY name`);
    const names = reader.getRows().map((r) => String(r[0]));
    return Promise.all(names.map((name) => this.getEntity(name)));
  }

  async getEntity(name: string): Promise<EntityInfo> {
    const reader = await this.con.runAndReadAll(`SELECT name, key_column, rows, loaded_at, source FROM ${META} WHERE name = $1`, [name]);
    const row = reader.getRows()[0];
    if (!row) {
      const known = (await this.con.runAndReadAll(`SELECT name FROM ${META} ORDER BY name`)).getRows().map((r) => String(r[0]));
      throw noEntityError(name, known);
    }
    const columns = await this.columnsOf(name);
    const key = String(row[1]);
    return {
      name,
      key,
      keyType: columns.find((c) => c.name === key)?.type ?? 'VARCHAR',
      rows: Number(row[2]),
      columns,
      loadedAt: String(row[3]),
      source: String(row[4]),
    };
  }

  async sampleValues(entity: string, perColumn: number): Promise<Array<{ name: string; type: string; values: string[] }>> {
    const info = await this.getEntity(entity);
    const table = quoteIdent(info.name);
    const result: Array<{ name: string; type: string; values: string[] }> = [];
    for (const column of info.columns) {
      const c = quoteIdent(column.name);
      // At most SAMPLE_SCAN_ROWS rows are read per column, whatever the entity's size; long values are cut.
      const reader = await this.con.runAndReadAll(
        `SELECT DISTINCT left(CAST(v AS VARCHAR), ${SAMPLE_MAX_CHARS}) FROM (SELECT ${c} AS v FROM ${table} WHERE ${c} IS NOT NULL AND CAST(${c} AS VARCHAR) <> '' LIMIT ${SAMPLE_SCAN_ROWS}) LIMIT ${Math.max(0, Math.floor(perColumn))}`,
      );
      result.push({ name: column.name, type: column.type, values: reader.getRows().map((r) => String(r[0])) });
    }
    return result;
  }

  private async columnsOf(table: string): Promise<ColumnInfo[]> {
    const reader = await this.con.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    return reader.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
  }

  async attachEntity(name: string): Promise<EntityInfo> {
    throw new ConfigError(
      'invalid_settings',
      `Cannot attach ${name}: the embedded profile store (DuckDB) holds copies only. Attaching a live table needs the PostgreSQL profile store: set OUTFLOW_PROFILES_URL=postgres://… , or load the data with \`outflow entity load ${name} <file>\`.`,
    );
  }

  async loadEntity(name: string, file: string, options: { key: string; delimiter?: string }): Promise<EntityInfo> {
    const { absolute, parquet, delimiter, unreadable } = checkLoad(name, file, options);
    const staging = quoteIdent(`_load_${name}_${process.pid}_${Date.now()}`);
    await this.useDefaultResources();

    let source: { select: string; columns: ColumnInfo[]; cleanup(): Promise<void> };
    try {
      source = parquet ? await parquetSource(this.con, absolute) : await csvSource(this.con, absolute, delimiter, quoteIdent(`${staging.slice(1, -1)}_raw`));
    } catch (cause) {
      // Running out of memory says nothing about the file.
      throw unreadable(translateEngineError(cause, this.memory, this.streaming));
    }
    try {
      const keyColumn = source.columns.find((c) => c.name === options.key) ?? source.columns.find((c) => c.name.toLowerCase() === options.key.toLowerCase());
      if (!keyColumn) throw noKeyColumnError(name, options.key, source.columns);
      const key = quoteIdent(keyColumn.name);
      // One copy of the data, built and checked inside the transaction that swaps it in: a failure anywhere
      // rolls back to the previous entity.
      await this.con.run('BEGIN TRANSACTION');
      try {
        await this.con.run(`CREATE TABLE ${staging} AS ${source.select}`).catch((cause: unknown) => {
          throw unreadable(translateEngineError(cause, this.memory, this.streaming));
        });
        const check = (await this.con.runAndReadAll(`SELECT count(*), count(${key}), count(DISTINCT ${key}) FROM ${staging}`)).getRows()[0]!;
        const [rows, nonNull, distinct] = check.map(Number) as [number, number, number];
        checkKeyCounts(name, keyColumn.name, rows, nonNull, distinct);
        await this.con.run(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
        await this.con.run(`ALTER TABLE ${staging} RENAME TO ${quoteIdent(name)}`);
        // loaded_at also versions the entity: segments built from an earlier load are stale. Two loads in the
        // same millisecond must still differ.
        const previous = (await this.con.runAndReadAll(`SELECT loaded_at FROM ${META} WHERE name = $1`, [name])).getRows()[0]?.[0];
        let loadedAt = new Date().toISOString();
        if (previous !== undefined && String(previous) >= loadedAt) loadedAt = new Date(Date.parse(String(previous)) + 1).toISOString();
        await this.con.run(`INSERT OR REPLACE INTO ${META} VALUES ($1, $2, $3, $4, $5)`, [name, keyColumn.name, rows, loadedAt, path.basename(file)]);
        await this.con.run('COMMIT');
      } catch (error) {
        await this.con.run('ROLLBACK');
        throw error;
      }
      return this.getEntity(name);
    } finally {
      await source.cleanup();
    }
  }

  async refreshSegment(segmentId: string, entity: string, filter: CompiledFilter): Promise<number> {
    const info = await this.getEntity(entity);
    const key = quoteIdent(info.key);
    const staging = membersTable(`${segmentId}_next`);
    await this.useDefaultResources();
    // Build beside the old table and swap, so a failed refresh keeps the previous membership.
    await this.con.run(
      `CREATE OR REPLACE TABLE ${staging} AS SELECT ${key} AS k, (row_number() OVER (ORDER BY ${key}) - 1)::BIGINT AS ordinal FROM ${quoteIdent(entity)} WHERE ${filter.sql} ORDER BY ${key}`,
      filter.params as DuckDBValue[],
    );
    await this.con.run('BEGIN TRANSACTION');
    try {
      await this.con.run(`DROP TABLE IF EXISTS ${membersTable(segmentId)}`);
      await this.con.run(`ALTER TABLE ${staging} RENAME TO ${membersTable(segmentId)}`);
      await this.con.run(`INSERT OR REPLACE INTO ${SEGMENT_STATE} VALUES ($1, $2, $3)`, [segmentId, entity, info.loadedAt]);
      await this.con.run('COMMIT');
    } catch (error) {
      await this.con.run('ROLLBACK');
      throw error;
    }
    return this.memberCount(segmentId);
  }

  private async memberCount(segmentId: string): Promise<number> {
    const reader = await this.con.runAndReadAll(`SELECT count(*) FROM ${membersTable(segmentId)}`);
    return Number(reader.getRows()[0]![0]);
  }

  private async hasTable(name: string): Promise<boolean> {
    const reader = await this.con.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = $1`, [name]);
    return Number(reader.getRows()[0]![0]) > 0;
  }

  private async requireMembers(source: Source & { kind: 'segment' }): Promise<void> {
    if (!(await this.hasTable(`_members_${source.segmentId}`))) {
      throw neverRefreshedError(source.segment);
    }
  }

  async dropSegment(segmentId: string): Promise<void> {
    await this.con.run(`DROP TABLE IF EXISTS ${membersTable(segmentId)}`);
    await this.con.run(`DELETE FROM ${SEGMENT_STATE} WHERE segment_id = $1`, [segmentId]);
  }

  async segmentIsStale(segmentId: string, entity: string): Promise<boolean> {
    if (!(await this.hasTable(`_members_${segmentId}`))) return false;
    const info = await this.getEntity(entity);
    const row = (await this.con.runAndReadAll(`SELECT entity, entity_loaded_at FROM ${SEGMENT_STATE} WHERE segment_id = $1`, [segmentId])).getRows()[0];
    return !row || String(row[0]) !== entity || String(row[1]) !== info.loadedAt;
  }

  private syncTables: SyncTables | undefined;

  get sync(): SyncTables {
    // One instance per store: it remembers where each journal's sequence is.
    return (this.syncTables ??= createSyncTables(
      this.con,
      (name) => this.hasTable(name),
      (sql, params, toRow, chunkRows) => this.streamChunks(sql, params, toRow, chunkRows),
      (work) => this.withDefaultResources(work),
      () => this.useDefaultResources(),
    ));
  }

  async countRows(source: Source): Promise<number> {
    if (source.kind === 'entity') {
      await this.getEntity(source.entity);
      return Number((await this.con.runAndReadAll(`SELECT count(*) FROM ${quoteIdent(source.entity)}`)).getRows()[0]![0]);
    }
    await this.requireMembers(source);
    return this.memberCount(source.segmentId);
  }

  async copyCsv(
    source: Source,
    range: { from: number; to: number },
    options: { delimiter: string; formulaEscaping?: 'none' | 'quote'; signal?: AbortSignal },
    target: string,
  ): Promise<number> {
    const from = Math.trunc(range.from);
    const to = Math.trunc(range.to);
    const info = await this.getEntity(source.entity);
    const columns = options.formulaEscaping === 'quote' ? info.columns.map((c) => formulaSafe(c, 'e')).join(', ') : 'e.*';
    let query: string;
    if (source.kind === 'entity') {
      query = `SELECT ${columns} FROM ${quoteIdent(source.entity)} e WHERE e.rowid >= ${from} AND e.rowid < ${to}`;
    } else {
      query = `SELECT ${columns} FROM ${membersTable(source.segmentId)} m JOIN ${quoteIdent(source.entity)} e ON e.${quoteIdent(info.key)} = m.k WHERE m.ordinal >= ${from} AND m.ordinal < ${to}`;
    }
    // A connection of its own: the engine renders up to five parts at once, and one connection runs one
    // query.
    const con = await this.instance.connect();
    const interrupt = () => con.interrupt();
    options.signal?.addEventListener('abort', interrupt, { once: true });
    try {
      if (options.signal?.aborted) throw options.signal.reason;
      // USE_TMP_FILE false: DuckDB would otherwise write beside `target` and rename over it, breaking a FIFO.
      const reader = await con.runAndReadAll(
        `COPY (${query}) TO ${quoteLiteral(target)} (FORMAT csv, HEADER true, DELIMITER ${quoteLiteral(options.delimiter)}, QUOTE '"', ESCAPE '"', NULLSTR '', USE_TMP_FILE false)`,
      );
      return Number(reader.getRows()[0]?.[0] ?? 0);
    } finally {
      options.signal?.removeEventListener('abort', interrupt);
      con.closeSync();
    }
  }

  async copiesAtOnce(source: Source): Promise<number> {
    // A segment's parts join its members table too (key and ordinal).
    const columns = (await this.getEntity(source.entity)).columns.length + (source.kind === 'segment' ? 2 : 0);
    const limit = parseSize(this.memory.streamingMemoryLimit) ?? Number.MAX_SAFE_INTEGER;
    return Math.max(1, Math.floor(limit / (columns * COPY_BYTES_PER_COLUMN)));
  }

  async *readMembers(source: Source & { kind: 'segment' }, columns: string[], afterKey: string | null, chunkRows = 2048): AsyncIterable<Row[]> {
    await this.requireMembers(source);
    const info = await this.getEntity(source.entity);
    const key = quoteIdent(info.key);
    const selected = [`CAST(e.${key} AS VARCHAR) AS "__key"`, ...columns.map((c) => `e.${quoteIdent(c)}`)].join(', ');
    const where = afterKey === null ? '' : `WHERE m.k > CAST($1 AS ${info.keyType})`;
    yield* this.streamChunks(
      `SELECT ${selected} FROM ${membersTable(source.segmentId)} m JOIN ${quoteIdent(source.entity)} e ON e.${key} = m.k ${where} ORDER BY m.k`,
      afterKey === null ? [] : [afterKey],
      (row, names) => {
        const out: Row = {};
        names.forEach((name, i) => (out[name] = plain(row[i] ?? null)));
        return out;
      },
      chunkRows,
    );
  }

  /**
   * Streams a query's rows in chunks of about `chunkRows`, on a connection of its own: the caller writes
   * (delivered sets, progress) while the result streams, and a second statement on the streaming
   * connection would cut the stream short.
   */
  async *streamChunks<T>(sql: string, params: DuckDBValue[], toRow: (row: DuckDBValue[], names: string[]) => T, chunkRows: number): AsyncIterable<T[]> {
    const con = await this.instance.connect();
    let finished = false;
    try {
      const result = await con.stream(sql, params);
      const names = result.deduplicatedColumnNames();
      let pending: T[] = [];
      for await (const chunk of result) {
        for (const row of chunk.getRows()) pending.push(toRow(row, names));
        if (pending.length >= chunkRows) {
          yield pending;
          pending = [];
        }
      }
      finished = true;
      if (pending.length > 0) yield pending;
    } finally {
      // A stream left early (a cancelled or failed run) keeps its query open: the result object holds the
      // connection's context, so closing the connection frees nothing, and a sort's buffers stay pinned until
      // the garbage collector happens to free the result. Under the streaming cap the next run's read then
      // fails out of memory (issue 13: a 500k-member resume). A statement on the same connection ends the
      // open query and releases them now.
      if (!finished) await con.run('SELECT 1').catch(() => {});
      con.closeSync();
    }
  }

  async useStreamingResources(): Promise<void> {
    // What set-based work just wrote (a snapshot, the last run's commit to a delivered state, journals) stays
    // in memory until a checkpoint, and not all of it can be evicted: under the small cap it left a later run's
    // sort no room (issue 13: an upsert run after a mirror run at 1M members failed out of memory). Written out
    // now, the cap is the streaming's own. A checkpoint fails while another connection has a transaction open
    // (a run streaming beside this one); DuckDB checkpoints on its own later then.
    await this.con.run('CHECKPOINT').catch(() => {});
    // Parts render up to five at once, each on its own connection; with threads = 1 each COPY runs on its
    // calling thread.
    await this.con.run(`SET threads = 1`);
    await this.con.run(`SET memory_limit = ${quoteLiteral(this.memory.streamingMemoryLimit)}`);
    this.streaming = true;
  }

  /**
   * Back to the set-based limits for loads, refreshes and run snapshots in a process that streamed before
   * (`outflow serve`, which keeps the store open): the caps are global to the database, and a 1M-member
   * snapshot joined and written with one thread in 48 MB spills to disk and took 5x as long. A file run
   * streaming at the same moment then may use more memory until its next run sets the caps again; its output
   * is the same.
   */
  async useDefaultResources(): Promise<void> {
    if (!this.streaming) return;
    // Set explicitly: `RESET memory_limit` resets the setting but leaves the buffer pool at the cap (DuckDB
    // 1.x), and the next large query fails out of memory.
    await this.con.run(`SET memory_limit = ${quoteLiteral(this.memory.memoryLimit)}`);
    await this.con.run(`SET threads = ${Number(this.threads)}`);
    this.streaming = false;
  }

  /** Set-based work in the middle of a run (a diff, the commit): the larger limit, then the caps again. */
  async withDefaultResources<T>(work: () => Promise<T>): Promise<T> {
    const streaming = this.streaming;
    await this.useDefaultResources();
    try {
      return await work();
    } finally {
      if (streaming) await this.useStreamingResources();
    }
  }

  async backupTo(file: string): Promise<void> {
    // A connection of its own, so a run streaming on the store's connection goes on meanwhile. COPY FROM
    // DATABASE reads one snapshot (one transaction), so the copy is consistent however the store changes.
    const con = await this.instance.connect();
    const alias = `outflow_backup_${process.pid}_${Date.now()}`;
    try {
      const catalog = String((await con.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
      await con.run(`ATTACH ${quoteLiteral(file)} AS ${alias}`);
      await con.run(`COPY FROM DATABASE ${quoteIdent(catalog)} TO ${alias}`);
      await con.run(`DETACH ${alias}`);
    } catch (error) {
      await con.run(`DETACH DATABASE IF EXISTS ${alias}`).catch(() => {});
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.wal`, { force: true });
      throw error;
    } finally {
      con.closeSync();
    }
  }

  async close(): Promise<void> {
    this.con.closeSync();
    this.instance.closeSync();
    this.release();
  }
}

/**
 * The store as every caller sees it: DuckDB's out-of-memory and full-disk errors become Outflow errors that
 * name the setting to raise (see duckdb-memory.ts), whichever method (or stream) hit them; a run never fails
 * with a raw engine error.
 */
function translatingEngineErrors(store: DuckDbProfileStore): ProfileStore {
  const translate = (error: unknown) => translateEngineError(error, store.memory, store.streaming);
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw translate(error);
    }
  };
  async function* stream<T>(make: () => AsyncIterable<T>): AsyncIterable<T> {
    try {
      yield* make();
    } catch (error) {
      throw translate(error);
    }
  }
  const sync = store.sync;
  return {
    listEntities: () => call(() => store.listEntities()),
    getEntity: (name) => call(() => store.getEntity(name)),
    sampleValues: (entity, perColumn) => call(() => store.sampleValues(entity, perColumn)),
    loadEntity: (name, file, options) => call(() => store.loadEntity(name, file, options)),
    attachEntity: (name, _table, _options) => call(() => store.attachEntity(name)),
    refreshSegment: (segmentId, entity, filter) => call(() => store.refreshSegment(segmentId, entity, filter)),
    dropSegment: (segmentId) => call(() => store.dropSegment(segmentId)),
    countRows: (source) => call(() => store.countRows(source)),
    copyCsv: (source, range, options, target) => call(() => store.copyCsv(source, range, options, target)),
    copiesAtOnce: (source) => call(() => store.copiesAtOnce(source)),
    readMembers: (source, columns, afterKey, chunkRows) => stream(() => store.readMembers(source, columns, afterKey, chunkRows)),
    segmentIsStale: (segmentId, entity) => call(() => store.segmentIsStale(segmentId, entity)),
    useStreamingResources: () => call(() => store.useStreamingResources()),
    backupTo: (file) => call(() => store.backupTo(file)),
    sync: {
      hasTable: (name) => call(() => sync.hasTable(name)),
      createSnapshot: (table, source, spec, base) => call(() => sync.createSnapshot(table, source, spec, base)),
      countRows: (table) => call(() => sync.countRows(table)),
      adoptState: (state, legacy) => call(() => sync.adoptState(state, legacy)),
      countUnchanged: (snapshot, state) => call(() => sync.countUnchanged(snapshot, state)),
      readRemovals: (snapshot, state, spec, afterKey, chunkRows) => stream(() => sync.readRemovals(snapshot, state, spec, afterKey, chunkRows)),
      readChanges: (snapshot, state, spec, options, chunkRows) => stream(() => sync.readChanges(snapshot, state, spec, options, chunkRows)),
      appendJournal: (journal, entries) => call(() => sync.appendJournal(journal, entries)),
      commit: (entries) => call(() => sync.commit(entries)),
      lastTarget: (prefix) => call(() => sync.lastTarget(prefix)),
      dropTables: (prefix) => call(() => sync.dropTables(prefix)),
    } satisfies SyncTables,
    close: () => store.close(),
  };
}

export async function parquetSource(con: DuckDBConnection, file: string) {
  const select = `SELECT * FROM read_parquet(${quoteLiteral(file)})`;
  const described = await con.runAndReadAll(`DESCRIBE ${select}`);
  const columns = described.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
  return { select, columns, cleanup: async () => {} };
}

/**
 * Reads a CSV with the header we parsed ourselves and every column as text, so a ragged row is an error
 * that names its line (DuckDB's sniffer, faced with one, may pick another header or return no rows). Then
 * gives each column the narrowest type every value fits, found in one scan.
 */
export async function csvSource(con: DuckDBConnection, file: string, delimiter: string, raw: string | null) {
  const header = readCsvHeader(file, delimiter);
  const columnTypes = `{${header.map((h) => `${quoteLiteral(h)}: 'VARCHAR'`).join(', ')}}`;
  const reader = `read_csv(${quoteLiteral(file)}, header = true, auto_detect = false, delim = ${quoteLiteral(delimiter)}, quote = '"', escape = '"', strict_mode = true, null_padding = false, max_line_size = ${MAX_LINE_BYTES}, columns = ${columnTypes})`;
  // With `raw`, the text is parsed once into that table; without, the file is read twice (types, then rows)
  // and never copied, for a store that is not DuckDB.
  const from = raw ?? reader;
  const cleanup = async () => {
    if (raw) await con.run(`DROP TABLE IF EXISTS ${raw}`);
  };
  try {
    if (raw) await con.run(`CREATE TABLE ${raw} AS SELECT * FROM ${reader}`);
    const candidates = ['BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'BOOLEAN'];
    const probes = header.flatMap((h) => {
      const c = quoteIdent(h);
      // A leading zero ("00042") means an identifier or a postal code: keep it as text.
      // TRY_CAST('1.5' AS BIGINT) rounds instead of failing, so integers are recognised by their shape.
      // TRY_CAST('2024-03-02 01:30:00' AS DATE) drops the time instead of failing: a value with a time is no date.
      const fits = (t: string) =>
        t === 'BIGINT'
          ? `count(CASE WHEN regexp_full_match(${c}, '[+-]?[0-9]{1,18}') THEN 1 END)`
          : t === 'DATE'
            ? `count(CASE WHEN NOT regexp_matches(${c}, '[0-9]:[0-9]') THEN TRY_CAST(${c} AS DATE) END)`
            : `count(TRY_CAST(${c} AS ${t}))`;
      return [`count(${c})`, `count(CASE WHEN regexp_matches(${c}, '^[+-]?0[0-9]') THEN 1 END)`, ...candidates.map(fits)];
    });
    const counts = (await con.runAndReadAll(`SELECT ${probes.join(', ')} FROM ${from}`)).getRows()[0]!.map(Number);
    const width = 2 + candidates.length;
    const columns: ColumnInfo[] = header.map((h, i) => {
      const [nonNull, leadingZero, ...fits] = counts.slice(i * width, (i + 1) * width) as [number, number, ...number[]];
      let type = 'VARCHAR';
      if (nonNull > 0) {
        const index = candidates.findIndex((t, j) => fits[j] === nonNull && !(leadingZero > 0 && (t === 'BIGINT' || t === 'DOUBLE')));
        if (index >= 0) type = candidates[index]!;
      }
      return { name: h, type };
    });
    const select = columns.map((c) => (c.type === 'VARCHAR' ? quoteIdent(c.name) : `CAST(${quoteIdent(c.name)} AS ${c.type}) AS ${quoteIdent(c.name)}`));
    return { select: `SELECT ${select.join(', ')} FROM ${from}`, columns, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * OWASP's CSV-injection defence, inside the COPY query so rows keep streaming through DuckDB: a text value
 * starting with = + - @ TAB or CR gets a leading `'`, which spreadsheets show instead of running the value
 * as a formula. Only text columns: a number such as -5 in a numeric column is not a formula and stays as is.
 * https://owasp.org/www-community/attacks/CSV_Injection
 */
export function formulaSafe(column: ColumnInfo, alias: string): string {
  const c = `${alias}.${quoteIdent(column.name)}`;
  if (column.type !== 'VARCHAR') return c;
  return `CASE WHEN left(${c}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || ${c} ELSE ${c} END AS ${quoteIdent(column.name)}`;
}

/** DuckDB's default, stated so the message can name it: the most bytes one CSV record may hold. */
export const MAX_LINE_BYTES = 2 * 1024 * 1024;

/** The one-character CSV delimiter to load with; `\t` and `tab` mean a tab, as a shell makes typing one awkward. */
export function csvDelimiter(value: string): string {
  const delimiter = value === '\\t' || value.toLowerCase() === 'tab' ? '\t' : value;
  const chars = [...delimiter];
  if (chars.length !== 1 || /["\r\n\0]/.test(delimiter)) {
    throw new ValidationError(
      `--delimiter must be one character other than a quote or a line break, for example , ; | or \\t for a tab; ${JSON.stringify(value)} is not. Nothing was loaded.`,
    );
  }
  return delimiter;
}

function describeReadError(cause: unknown, file: string): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const line = /line[: ]+(\d+)/i.exec(message)?.[1];
  if (/invalid unicode|not utf-8 encoded/i.test(message)) {
    return `line ${line ?? '?'} is not UTF-8: convert the file with \`iconv -f latin1 -t utf-8 ${shellQuote(path.basename(file))} > ${shellQuote(utf8Name(file))}\` (if it was saved as Latin-1 or Windows-1252; Excel: save as "CSV UTF-8") and load the converted file.`;
  }
  if (/unterminated quote/i.test(message)) {
    return `line ${line ?? '?'} opens a quoted value that is never closed, so the rest of the file would read as one value: close the quote there, and write a quote inside a value twice ("").`;
  }
  if (/maximum line size|does not support a full read/i.test(message)) {
    // DuckDB names the line for a long row it meets whole; the parallel reader gives up without one.
    const long = /maximum line size/i.test(message) && line ? Number(line) : findLongRecord(file, MAX_LINE_BYTES);
    return `${long ? `line ${long}` : 'a row'} is longer than ${MAX_LINE_BYTES / 1024 / 1024} MB, the most one row may hold. Usually a quote opened there is never closed, or the file is not a CSV with this delimiter: check that row (a quote inside a value is written twice, "").`;
  }
  if (/Expected Number of Columns|too many columns|Found: \d+/i.test(message)) {
    const expected = /Expected Number of Columns:\s*(\d+)/i.exec(message)?.[1];
    const found = /Found:\s*(\d+)/i.exec(message)?.[1];
    return `row ${line ? `on line ${line} ` : ''}has ${found ?? 'a different number of'} field(s) but the header has ${expected ?? 'another number'} (a ragged row).`;
  }
  return message.split('\n')[0] ?? message;
}

function utf8Name(file: string): string {
  const base = path.basename(file);
  const ext = path.extname(base);
  return `${base.slice(0, base.length - ext.length)}-utf8${ext || '.csv'}`;
}

/**
 * The first line (1-based) of the record that grows past `limit` bytes, honouring quotes: an unclosed quote
 * makes a record run to the end of the file, and the line where it started is the one to look at.
 */
function findLongRecord(file: string, limit: number): number | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    let line = 1;
    let recordStart = 1;
    let recordBytes = 0;
    let quoted = false;
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) {
      for (let i = 0; i < read; i++) {
        const byte = buffer[i]!;
        recordBytes++;
        if (byte === 0x22) quoted = !quoted;
        else if (byte === 0x0a) {
          line++;
          if (!quoted) {
            recordStart = line;
            recordBytes = 0;
          }
        }
        if (recordBytes > limit) return recordStart;
      }
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** The column names of a CSV's first record (quotes honoured, a UTF-8 BOM dropped). */
function readCsvHeader(file: string, delimiter: string): string[] {
  const fd = fs.openSync(file, 'r');
  let bytes: Buffer;
  try {
    const buffer = Buffer.alloc(1 << 20);
    bytes = buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0));
  } finally {
    fs.closeSync(fd);
  }
  const newline = bytes.indexOf(0x0a);
  const headerBytes = newline < 0 ? bytes : bytes.subarray(0, newline);
  // A NUL in the header almost always means UTF-16 ("Unicode text" in Excel); DuckDB would choke on the column
  // names with a parser error about SQL.
  if (headerBytes.includes(0)) {
    throw new ValidationError(
      `line 1 (the header) of ${path.basename(file)} holds NUL bytes, so it is not a UTF-8 text CSV; most likely it was saved as UTF-16 ("Unicode text"). Save it as "CSV UTF-8", or convert it with \`iconv -f utf-16 -t utf-8 ${shellQuote(path.basename(file))} > ${shellQuote(utf8Name(file))}\`, and load that.`,
    );
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new ValidationError(
      `line 1 (the header) of ${path.basename(file)} is not UTF-8: convert the file with \`iconv -f latin1 -t utf-8 ${shellQuote(path.basename(file))} > ${shellQuote(utf8Name(file))}\` (if it was saved as Latin-1 or Windows-1252; Excel: save as "CSV UTF-8") and load the converted file.`,
    );
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const names: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      names.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') break;
    else field += ch;
  }
  names.push(field);
  if (names.length === 1 && names[0] === '') throw new ValidationError(`${path.basename(file)} is empty: a CSV needs a header row.`);
  const blank = names.findIndex((n) => n.trim() === '');
  if (blank >= 0) throw new ValidationError(`Column ${blank + 1} of the header of ${path.basename(file)} has no name. Name every column.`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n.toLowerCase())) throw new ValidationError(`The header of ${path.basename(file)} names column "${n}" twice.`);
    seen.add(n.toLowerCase());
  }
  return names;
}

type Streamer = <T>(sql: string, params: DuckDBValue[], toRow: (row: DuckDBValue[], names: string[]) => T, chunkRows: number) => AsyncIterable<T[]>;

/** `c0`, `c1`, …: snapshot columns are positional, so an entity column named like a bookkeeping column cannot clash. */
const snapColumn = (i: number) => `c${i}`;

/**
 * DuckDB's 64-bit hash (UBIGINT) of the salt and the typed values (NULL included): a value change goes unnoticed
 * with a chance of 2^-64. Delivered states keep it as text. A DuckDB upgrade that changed the function would make
 * every member look changed once, which re-sends them (never loses one).
 */
function hashInput(salt: string, columns: string[], alias: string): string {
  return `hash(${[quoteLiteral(salt), ...columns.map((c) => `${alias}.${quoteIdent(c)}`)].join(', ')})`;
}

/** The text form of a snapshot hash, as delivered states and journals hold it. */
const hashText = (expression: string) => `CAST(${expression} AS VARCHAR)`;

interface SnapshotInfo {
  base: string | null;
  entity: string | null;
  keyColumn: string | null;
  loadedAt: string | null;
}

function createSyncTables(
  con: DuckDBConnection,
  hasTable: (name: string) => Promise<boolean>,
  stream: Streamer,
  withDefaultResources: <T>(work: () => Promise<T>) => Promise<T>,
  useDefaultResources: () => Promise<void>,
): SyncTables {
  const count = async (sql: string, params: DuckDBValue[] = []) => Number((await con.runAndReadAll(sql, params)).getRows()[0]![0]);
  // Where each journal's sequence stands; read from the table once per process (a resumed run appends after
  // what its predecessor journaled). Scanning the journal for its maximum on every batch cost O(n^2).
  const journalSeq = new Map<string, number>();
  const toRow = (spec: SnapshotSpec) => snapshotRowMapper<DuckDBValue>(spec, (v) => plain(v ?? null));
  const selected = (spec: SnapshotSpec, alias: string) => spec.columns.map((_, i) => `${alias}.${snapColumn(i)}`);
  const stateKey = (alias: string) => `CAST(${alias}.k AS VARCHAR)`;

  async function snapshotInfo(snapshot: string): Promise<SnapshotInfo> {
    const row = (await con.runAndReadAll(`SELECT base, entity, key_column, loaded_at FROM ${SNAPSHOTS} WHERE snapshot = $1`, [snapshot])).getRows()[0];
    if (row) return { base: row[0] === null ? null : String(row[0]), entity: String(row[1]), keyColumn: String(row[2]), loadedAt: String(row[3]) };
    // A snapshot taken before snapshots kept only changed values (a run interrupted across an upgrade) holds
    // every member's values and its hashes as text: mark every row as holding values, and read it as is.
    const columns = (
      await con.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = $1`, [snapshot])
    )
      .getRows()
      .map((r) => String(r[0]));
    if (columns.length > 0 && !columns.includes('__v')) {
      await con.run(`ALTER TABLE ${quoteIdent(snapshot)} ADD COLUMN __v BOOLEAN DEFAULT true`);
      return { base: null, entity: null, keyColumn: null, loadedAt: null };
    }
    throw new ConfigError('invalid_settings', `The membership snapshot ${snapshot} is incomplete. Run the export again instead of resuming.`);
  }

  /**
   * Makes sure the snapshot holds the values of every member a read against `state` returns: those it diffed
   * against, or (another state, or every member) all of them, taken from the entity as long as it is the
   * load the snapshot read.
   */
  async function ensureValues(snapshot: string, state: string | null, spec: SnapshotSpec, all: boolean): Promise<void> {
    const info = await snapshotInfo(snapshot);
    if (info.base === null || (state === info.base && !all)) return;
    const current = (await con.runAndReadAll(`SELECT loaded_at FROM ${META} WHERE name = $1`, [info.entity])).getRows()[0];
    if (!current || String(current[0]) !== info.loadedAt) {
      throw new ConfigError(
        'invalid_settings',
        `This run must send members it had found unchanged (the list or audience is new, or every member is sent), but entity ${info.entity} was loaded again since the run started, so their values as of then are gone. Run the export again instead of resuming.`,
      );
    }
    const s = quoteIdent(snapshot);
    const sets = spec.columns.map((c, i) => `${snapColumn(i)} = e.${quoteIdent(c)}`);
    // A join of every member with the entity: set-based work, even in the middle of a streaming run.
    await withDefaultResources(async () => {
      await con.run('BEGIN TRANSACTION');
      try {
        await con.run(
          `UPDATE ${s} SET ${[...sets, '__v = true'].join(', ')} FROM ${quoteIdent(info.entity!)} e WHERE e.${quoteIdent(info.keyColumn!)} = ${s}.k AND NOT ${s}.__v`,
        );
        await con.run(`UPDATE ${SNAPSHOTS} SET base = NULL WHERE snapshot = $1`, [snapshot]);
        await con.run('COMMIT');
      } catch (error) {
        await con.run('ROLLBACK');
        throw error;
      }
    });
  }

  return {
    hasTable,

    async createSnapshot(table, source, spec, base = null) {
      const entity = source.entity;
      const info = (await con.runAndReadAll(`SELECT key_column, loaded_at FROM ${META} WHERE name = $1`, [entity])).getRows()[0];
      if (!info) throw new NotFoundError(`No entity named "${entity}" in the profile store.`);
      if (!(await hasTable(`_members_${source.segmentId}`))) {
        throw withRemedy(
          new ConfigError('invalid_settings', `Segment "${source.segment}" has never been refreshed. Run \`outflow segment refresh ${source.segment}\` first.`),
          { action: 'refresh-segment', segment: source.segment },
        );
      }
      // A join of every member with the entity (and the state): set-based work, and the larger limit stays on
      // for the record run's reads that follow (a file run before it in this process may have left the caps).
      await useDefaultResources();
      return withDefaultResources(async () => {
        const useBase = base !== null && (await hasTable(base));
        const key = quoteIdent(String(info[0]));
        const columns = spec.columns.map((c, i) => `e.${quoteIdent(c)} AS ${snapColumn(i)}`);
        // Hashes for everyone; values only where the base state holds another hash (or nothing) for the member.
        const members =
          `SELECT m.k AS k, ${hashInput(spec.salt, spec.hashColumns, 'e')} AS __hash, ${hashInput(spec.salt, spec.identityColumns, 'e')} AS __idhash` +
          `${columns.length ? ', ' : ''}${columns.join(', ')} FROM ${membersTable(source.segmentId)} m JOIN ${quoteIdent(entity)} e ON e.${key} = m.k`;
        const flagged = useBase
          ? `SELECT x.*, (d.k IS NULL OR d.hash IS DISTINCT FROM ${hashText('x.__hash')}) AS __v FROM (${members}) x LEFT JOIN ${quoteIdent(base!)} d ON d.k = ${stateKey('x')}`
          : `SELECT *, true AS __v FROM (${members})`;
        const kept = spec.columns.map((_, i) => `CASE WHEN __v THEN ${snapColumn(i)} END AS ${snapColumn(i)}`);
        // The record first: a crash between the two leaves a record without its table, which a resume reads as
        // "the snapshot is gone" (never a table read with the wrong base).
        await con.run(`DELETE FROM ${SNAPSHOTS} WHERE snapshot = $1`, [table]);
        await con.run(`INSERT INTO ${SNAPSHOTS} VALUES ($1, $2, $3, $4, $5)`, [table, useBase ? base : null, entity, String(info[0]), String(info[1])]);
        await con.run(`CREATE OR REPLACE TABLE ${quoteIdent(table)} AS SELECT k, __hash, __idhash, __v${kept.length ? ', ' : ''}${kept.join(', ')} FROM (${flagged})`);
        return count(`SELECT count(*) FROM ${quoteIdent(table)}`);
      });
    },

    countRows: (table) => count(`SELECT count(*) FROM ${quoteIdent(table)}`),

    async adoptState(state, legacy) {
      if (await hasTable(state)) return true;
      if (legacy === null || !(await hasTable(legacy))) return false;
      await con.run('BEGIN TRANSACTION');
      try {
        await con.run(`ALTER TABLE ${quoteIdent(legacy)} RENAME TO ${quoteIdent(state)}`);
        await con.run(`ALTER TABLE ${quoteIdent(state)} ADD COLUMN hash VARCHAR`);
        await con.run(`ALTER TABLE ${quoteIdent(state)} ADD COLUMN idhash VARCHAR`);
        await con.run('COMMIT');
      } catch (error) {
        await con.run('ROLLBACK');
        throw error;
      }
      return true;
    },

    countUnchanged: (snapshot, state) =>
      withDefaultResources(() =>
        count(`SELECT count(*) FROM ${quoteIdent(snapshot)} s JOIN ${quoteIdent(state)} d ON d.k = ${stateKey('s')} WHERE d.hash = ${hashText('s.__hash')}`),
      ),

    async *readRemovals(snapshot, state, spec, afterKey, chunkRows = 2048) {
      await ensureValues(snapshot, state, spec, false);
      const s = quoteIdent(snapshot);
      const d = quoteIdent(state);
      const cols = selected(spec, 's');
      const nulls = spec.columns.map((_, i) => `NULL AS ${snapColumn(i)}`);
      const after = afterKey === null ? '' : `WHERE __key > $1`;
      const mapRemoval = toRow(spec);
      // A member whose identity hash changed has a changed hash, so it holds values (`__v`): filtering on it
      // first keeps the join to the few members that changed.
      yield* stream(
        `SELECT * FROM (` +
          `SELECT ${stateKey('s')} AS __key, d.identity AS __identity, true AS __present${cols.length ? ', ' : ''}${cols.join(', ')} FROM ${s} s JOIN ${d} d ON d.k = ${stateKey('s')} ` +
          `WHERE s.__v AND d.idhash IS DISTINCT FROM ${hashText('s.__idhash')} ` +
          `UNION ALL SELECT d.k, d.identity, false${nulls.length ? ', ' : ''}${nulls.join(', ')} FROM ${d} d ANTI JOIN ${s} s ON ${stateKey('s')} = d.k` +
          `) ${after} ORDER BY __key`,
        afterKey === null ? [] : [afterKey],
        (row, names) => {
          return removalCandidate(mapRemoval(row, names));
        },
        chunkRows,
      );
    },

    async *readChanges(snapshot, state, spec, options, chunkRows = 2048) {
      await ensureValues(snapshot, state, spec, options.all);
      const s = quoteIdent(snapshot);
      const cols = selected(spec, 's');
      const where: string[] = [];
      const params: DuckDBValue[] = [];
      if (options.afterKey !== null) {
        params.push(options.afterKey);
        where.push(`s.k > CAST($1 AS ${options.keyType})`);
      }
      let from = `${s} s`;
      let joined = 'true';
      if (state !== null) {
        from = `${s} s LEFT JOIN ${quoteIdent(state)} d ON d.k = ${stateKey('s')}`;
        joined = 'd.k IS NULL';
        // Members the snapshot kept no values for are those whose hash the state holds.
        if (!options.all) where.push(`s.__v AND (d.k IS NULL OR d.hash IS DISTINCT FROM ${hashText('s.__hash')})`);
      }
      const mapRow = toRow(spec);
      yield* stream(
        `SELECT ${stateKey('s')} AS __key, ${hashText('s.__hash')} AS __hash, ${hashText('s.__idhash')} AS __idhash, ${joined} AS __joined${cols.length ? ', ' : ''}${cols.join(', ')} ` +
          `FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.k`,
        params,
        (row, names) => mapRow(row, names) as SnapshotRow,
        chunkRows,
      );
    },

    async appendJournal(journal, entries) {
      if (entries.length === 0) return;
      const table = quoteIdent(journal);
      await con.run(`CREATE TABLE IF NOT EXISTS ${table} (seq BIGINT, k VARCHAR, op VARCHAR, identity VARCHAR, hash VARCHAR, idhash VARCHAR)`);
      // Entries of a resumed run come after those of the run it continues: the last entry per member wins.
      let seq = journalSeq.get(journal) ?? (await count(`SELECT coalesce(max(seq), 0) FROM ${table}`));
      const appender = await con.createAppender(journal);
      for (const entry of entries) {
        appender.appendBigInt(BigInt(++seq));
        appender.appendVarchar(entry.key);
        appender.appendVarchar(entry.op);
        for (const value of [entry.identity, entry.hash, entry.idhash]) {
          if (value === null) appender.appendNull();
          else appender.appendVarchar(value);
        }
        appender.endRow();
      }
      appender.closeSync();
      journalSeq.set(journal, seq);
    },

    commit: (entries) => withDefaultResources(async () => {
      await con.run('BEGIN TRANSACTION');
      try {
        for (const { journal, state, statePrefix, target } of entries) {
          const d = quoteIdent(state);
          await con.run(`CREATE TABLE IF NOT EXISTS ${d} (k VARCHAR, identity VARCHAR, hash VARCHAR, idhash VARCHAR)`);
          if (await hasTable(journal)) {
            const j = quoteIdent(journal);
            await con.run(`DELETE FROM ${d} WHERE k IN (SELECT k FROM ${j})`);
            await con.run(
              `INSERT INTO ${d} SELECT k, identity, hash, idhash FROM (SELECT *, row_number() OVER (PARTITION BY k ORDER BY seq DESC) AS rn FROM ${j}) WHERE rn = 1 AND op = 'delivered'`,
            );
            await con.run(`DROP TABLE ${j}`);
            journalSeq.delete(journal);
          }
          // A new target (the list was deleted and created again) starts from an empty state; the old one goes.
          const others = (
            await con.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND starts_with(table_name, $1) AND table_name <> $2`, [
              `${statePrefix}_t_`,
              state,
            ])
          )
            .getRows()
            .map((r) => String(r[0]));
          for (const other of others) await con.run(`DROP TABLE ${quoteIdent(other)}`);
          await con.run(`DROP TABLE IF EXISTS ${quoteIdent(statePrefix)}`);
          await con.run(`DROP TABLE IF EXISTS ${quoteIdent(`${statePrefix}_staging`)}`);
          await con.run(`INSERT OR REPLACE INTO ${SYNC_TARGETS} VALUES ($1, $2, $3)`, [statePrefix, state, target]);
        }
        await con.run('COMMIT');
      } catch (error) {
        await con.run('ROLLBACK');
        throw error;
      }
    }),

    async lastTarget(statePrefix) {
      const row = (await con.runAndReadAll(`SELECT target FROM ${SYNC_TARGETS} WHERE state_prefix = $1`, [statePrefix])).getRows()[0];
      return row ? String(row[0]) : null;
    },

    async dropTables(prefix) {
      const tables = (
        await con.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND starts_with(table_name, $1)`, [prefix])
      )
        .getRows()
        .map((r) => String(r[0]));
      for (const table of tables) {
        await con.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
        journalSeq.delete(table);
      }
      await con.run(`DELETE FROM ${SNAPSHOTS} WHERE starts_with(snapshot, $1)`, [prefix]);
      await con.run(`DELETE FROM ${SYNC_TARGETS} WHERE starts_with(state_prefix, $1)`, [prefix]);
    },
  };
}

/** Checks an entity load's name, file and delimiter before either store reads anything. */
export function checkLoad(name: string, file: string, options: { delimiter?: string }) {
  if (!ENTITY_NAME.test(name)) {
    throw new ValidationError(`"${name}" is not a valid entity name: use letters, digits and _ , starting with a letter (at most 63 characters).`);
  }
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new ValidationError(`Cannot read ${file}: no such file.`);
  const parquet = /\.parquet$/i.test(absolute);
  // Checked before DuckDB sees it: DuckDB takes delimiters of up to four bytes, which our header parser
  // (one character) would then disagree with, and its messages about them name no option.
  const delimiter = parquet ? ',' : csvDelimiter(options.delimiter ?? ',');
  const unreadable = (cause: unknown) =>
    cause instanceof OutflowError
      ? cause
      : new ValidationError(`Could not load ${path.basename(file)} into ${name}: ${describeReadError(cause, absolute)} ${name} was not changed; fix the file and load again.`, [], { cause });
  return { absolute, parquet, delimiter, unreadable };
}

export function noEntityError(name: string, known: string[]): NotFoundError {
  return new NotFoundError(
    `No entity named "${name}" in the profile store. ${known.length ? `Known entities: ${known.join(', ')}.` : 'Load one with `outflow entity load <Entity> <file>`.'}`,
  );
}

export function noKeyColumnError(name: string, key: string, columns: ColumnInfo[]): ValidationError {
  return new ValidationError(`The file has no column "${key}" to use as ${name}'s key. Columns: ${columns.map((c) => c.name).join(', ')}. Pass --key <column>.`);
}

export function checkKeyCounts(name: string, key: string, rows: number, nonNull: number, distinct: number): void {
  if (nonNull < rows) throw new ValidationError(`${rows - nonNull} row(s) have an empty key column "${key}". Every row needs a key; ${name} was not changed.`);
  if (distinct < nonNull) throw new ValidationError(`The key column "${key}" has ${nonNull - distinct} duplicate value(s); keys must be unique. ${name} was not changed.`);
}

export function neverRefreshedError(segment: string): ConfigError {
  return withRemedy(new ConfigError('invalid_settings', `Segment "${segment}" has never been refreshed. Run \`${outflowCommand('segment', 'refresh', segment)}\` first.`), {
    action: 'refresh-segment',
    segment,
  });
}
