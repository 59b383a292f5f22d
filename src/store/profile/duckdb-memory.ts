import path from 'node:path';
import { ConfigError, OutflowError } from '../../domain/errors.ts';

/**
 * How much memory the embedded profile store (DuckDB) may take, and where it spills what does not fit.
 * DuckDB's own default is 80 % of the machine's memory per process, which on the smallest machine Outflow
 * supports (2 cores, 1 GB) leaves nothing for Node, the server and the OS; with a limit and a temp directory
 * DuckDB sorts, joins and aggregates larger than the limit on disk instead of failing.
 *
 * Two limits, sized to the work: an entity load, a segment refresh and a record run (its snapshot, the
 * sorted reads of members and removals, the diff and commit) sort millions of rows and want memory; a file
 * run streaming parts through COPY needs a few blocks and is kept small so a long-lived process stays small.
 */
export interface DuckDbMemory {
  /** `memory_limit` for loads, refreshes and record runs (snapshot, sorted reads, diff, commit). */
  memoryLimit: string;
  /** `memory_limit` while a file run streams its parts (and `threads = 1`). */
  streamingMemoryLimit: string;
  /** Where DuckDB spills; null: DuckDB's default beside the database file (`<file>.tmp`). */
  tempDirectory: string | null;
  /** `max_temp_directory_size`; null: DuckDB's default (90 % of the free space of the temp directory's disk). */
  maxTempSize: string | null;
}

export const MEMORY_SETTING = 'OUTFLOW_DUCKDB_MEMORY';
export const STREAMING_MEMORY_SETTING = 'OUTFLOW_DUCKDB_STREAMING_MEMORY';
export const TEMP_MAX_SETTING = 'OUTFLOW_DUCKDB_TEMP_MAX';

/**
 * Defaults that fit a 2-core, 1 GB machine. DuckDB's limit covers its buffer pool, not all it allocates: a
 * 10M-member dry run by the CLI peaked at limit + ~230 MB (Node's heap under 60 MB; the rest DuckDB's own
 * allocations outside the pool), and the server's runner, whose Node heap grows to ~150 MB while a run sends,
 * stayed under 640 MB at 1M and 10M members with 192 MB (384 MB: up to 940 MB), next to a server under
 * 195 MB. A 48 MB streaming cap keeps a 10M-member sort (spilled) working; below about 24 MB DuckDB cannot
 * sort at all.
 */
export const DEFAULT_MEMORY = '192MB';
export const DEFAULT_STREAMING_MEMORY = '48MB';

/**
 * Settings of every DuckDB instance that opens a profile store or reads a file to load. DuckDB's bundled
 * allocator keeps memory a finished query freed for the next one; in a long-lived process (the runner) that
 * made resident memory ratchet up from step to step. Flushing what a task freed above 16 MiB and letting the
 * allocator's background threads return it lowered a 10M-member dry run's peak from 480 to 418 MB.
 */
export function duckDbSettings(memory: DuckDbMemory): Record<string, string> {
  const settings: Record<string, string> = {
    memory_limit: memory.memoryLimit,
    allocator_flush_threshold: '16MiB',
    allocator_background_threads: 'true',
  };
  if (memory.tempDirectory !== null) settings.temp_directory = memory.tempDirectory;
  if (memory.maxTempSize !== null) settings.max_temp_directory_size = memory.maxTempSize;
  return settings;
}

/** The sizes DuckDB accepts that we document: a number and a unit (1000- or 1024-based). */
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;
const MULTIPLIERS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Bytes of a size like `512MB` or `2GiB`; null when it is not one. */
export function parseSize(text: string): number | null {
  const match = SIZE.exec(text);
  if (!match) return null;
  return Number(match[1]) * MULTIPLIERS[match[2]!.toLowerCase()]!;
}

function sizeSetting(env: NodeJS.ProcessEnv, name: string, fallback: string | null, minimumBytes: number): string | null {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const bytes = parseSize(raw);
  if (bytes === null) throw new ConfigError('invalid_settings', `${name} must be a size such as 512MB or 2GB, not "${raw}".`);
  if (bytes < minimumBytes) {
    throw new ConfigError('invalid_settings', `${name} is ${raw}, below the ${Math.round(minimumBytes / 1e6)}MB DuckDB needs to sort. Set it to at least ${Math.round(minimumBytes / 1e6)}MB, or unset it.`);
  }
  return raw.replace(/\s+/g, '');
}

/** The settings from the environment (checked, so a typo fails every command at once), spilling into `tempDirectory`. */
export function duckDbMemoryFromEnv(env: NodeJS.ProcessEnv, tempDirectory: string | null): DuckDbMemory {
  return {
    memoryLimit: sizeSetting(env, MEMORY_SETTING, DEFAULT_MEMORY, 32e6)!,
    streamingMemoryLimit: sizeSetting(env, STREAMING_MEMORY_SETTING, DEFAULT_STREAMING_MEMORY, 24e6)!,
    tempDirectory: tempDirectory === null ? null : path.resolve(tempDirectory),
    maxTempSize: sizeSetting(env, TEMP_MAX_SETTING, null, 1e6),
  };
}

/** The defaults, for stores opened without a home (tests, tools). */
export const DEFAULT_DUCKDB_MEMORY: DuckDbMemory = { memoryLimit: DEFAULT_MEMORY, streamingMemoryLimit: DEFAULT_STREAMING_MEMORY, tempDirectory: null, maxTempSize: null };

/**
 * DuckDB's out-of-memory and full-temp-directory errors as Outflow errors that name the setting to raise;
 * anything else unchanged. `streaming` says which limit was in force.
 */
export function translateEngineError(error: unknown, memory: DuckDbMemory, streaming: boolean): unknown {
  if (error instanceof OutflowError || !(error instanceof Error)) return error;
  const message = error.message;
  // DuckDB words it several ways: "Out of Memory Error: …", and an appender's commit "Failed to commit: could
  // not allocate block of size …" without the prefix.
  if (!/Out of Memory Error|could not allocate block|failed to pin block|No space left on device/i.test(message)) return error;
  const spill = memory.tempDirectory ?? 'the folder beside the profile store';
  if (/max_temp_directory_size/.test(message)) {
    return new OutflowError(
      'disk_full',
      `The profile store needed more temporary disk space than ${TEMP_MAX_SETTING} allows (${memory.maxTempSize ?? 'DuckDB’s default, 90 % of the free space'}) in ${spill}. Free disk space there or raise ${TEMP_MAX_SETTING}, then try again; a failed run resumes from its checkpoint (outflow run resume <id>).`,
      { cause: error },
    );
  }
  if (/No space left on device/i.test(message)) {
    return new OutflowError(
      'disk_full',
      `The disk of the profile store ran out of space while DuckDB wrote to it or spilled to ${spill}. Free disk space, then try again; a failed run resumes from its checkpoint (outflow run resume <id>).`,
      { cause: error },
    );
  }
  const [setting, limit, work] = streaming
    ? [STREAMING_MEMORY_SETTING, memory.streamingMemoryLimit, 'while a file run streamed its parts']
    : [MEMORY_SETTING, memory.memoryLimit, 'for a load, a segment refresh, or a record run (its snapshot, reads, diff or commit)'];
  const doubled = parseSize(limit);
  const suggestion = doubled === null ? '' : ` (for example ${setting}=${Math.ceil((doubled * 2) / 1e6)}MB)`;
  return new ConfigError(
    'invalid_settings',
    `The profile store ran out of memory ${work}: DuckDB may use ${limit} (${setting}) and spills the rest to ${spill}, but this work needs more at once. Raise ${setting}${suggestion} for the process that holds the profile store (outflow serve, or the CLI command), then try again; a failed run resumes from its checkpoint (outflow run resume <id>).`,
    { cause: error },
  );
}
