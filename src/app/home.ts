import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ValidationError } from '../domain/errors.ts';
import { roles, type Actor, type Role } from '../domain/model.ts';
import { sweepWorkDirs } from '../engine/files.ts';
import { defaultRetryPolicy, type RetryPolicy } from '../engine/retry.ts';
import type { Services } from '../engine/services.ts';
import type { DryRunReport } from '../engine/run-export.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { sweepUploadDirs } from '../lib/scratch.ts';
import { resolveHomeDir } from './home-dir.ts';
import { createMemoryRateLimiter } from '../lib/rate-limit.ts';
import { openMetadataStore, type MetadataStore } from '../store/metadata/db.ts';
import { openProfileStore } from '../store/profile/profile-store.ts';
import { duckDbMemoryFromEnv } from '../store/profile/duckdb-memory.ts';
import { lazyProfileStore } from '../store/profile/lazy.ts';
import { createStream as createRotatingStream } from 'rotating-file-stream';
import { createSecretBox, keyCheck, loadSecretKey } from '../store/secret-box.ts';

/**
 * An Outflow home: the directory holding the embedded stores (`metadata.sqlite`, `profiles.duckdb`), the
 * secret key, logs and scratch space. `OUTFLOW_DATABASE_URL=postgres://…` moves the metadata to PostgreSQL,
 * `OUTFLOW_PROFILES_URL=postgres://…` the profiles.
 */
export interface Home extends Services {
  dir: string;
  actor: Actor;
  metadata: MetadataStore;
  /**
   * Scale-out mode (`OUTFLOW_REDIS_URL`): runs execute in `outflow worker`s, and a run whose worker died is
   * taken over by another one (BullMQ's stalled-job check), which alone marks it interrupted. Readers then
   * leave such a run `running` instead of reaping it as failed.
   */
  distributed?: boolean;
  /**
   * Set by `outflow serve`: work that reads every member runs in the runner process (see server/runner.ts),
   * not on the event loop that answers the API.
   */
  offload?: { dryRun(exportId: string, options: { fullResync?: boolean }): Promise<DryRunReport> };
  /** Where the data and the key live, for `outflow backup` (what it can copy, and whether the key is a file). */
  storage: { profiles: 'duckdb' | 'postgres'; key: 'file' | 'environment'; keyCheck: string };
  close(): Promise<void>;
  /**
   * Set while the use cases run inside one metadata transaction (`outflow apply`): work on the profile store,
   * which that transaction cannot roll back, waits here until the transaction commits.
   */
  deferred?: Deferred;
  /** Added to every audit entry's details (`apply` records the configuration file's hash). */
  auditContext?: Record<string, unknown>;
}

/** Profile-store work a use case leaves until the metadata transaction it runs in has committed. */
export interface Deferred {
  /** `effect` gets the home outside the transaction (the transaction is over when it runs). */
  afterCommit(what: string, effect: (home: Home) => Promise<unknown>): void;
}

export interface OpenHomeOptions {
  dir?: string;
  /**
   * A long-running process (`outflow serve`, `outflow worker`): with OUTFLOW_LOG_FORMAT=json its log goes to
   * standard output, one JSON object a line, for journald, Docker or a log collector. Other commands keep the
   * home's log file: their standard output is what they print.
   */
  service?: boolean;
  env?: NodeJS.ProcessEnv;
  actor?: Actor;
  log?: Logger;
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /** The clock retries wait on; tests inject one so an outage of minutes takes no time. */
  retryClock?: Services['retryClock'];
  /** Deadline of one vendor request; default: `OUTFLOW_REQUEST_TIMEOUT_MS`, else each client's own (60 s). */
  requestTimeoutMs?: number;
  /** A run without progress for this long fails; default: `OUTFLOW_RUN_STALL_TIMEOUT_MS`, else 10 minutes. */
  runStallTimeoutMs?: number;
}

/** Reads a positive number of milliseconds from the environment; unset or empty: undefined. */
function msFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError('invalid_settings', `${name} must be a whole number of milliseconds above 0 (it is "${value}").`);
  return ms;
}

export { resolveHomeDir };

/**
 * The person at the keyboard when the CLI works directly on a home: its owner, an administrator.
 * `OUTFLOW_USER` names them in the records (default: the OS user); `OUTFLOW_ROLE` can only lower the role
 * (to try what a contributor or viewer may do). Through a server neither variable grants anything: the
 * server knows the caller from their token or session.
 */
export function actorFromEnv(env: NodeJS.ProcessEnv = process.env): Actor {
  const requested = env.OUTFLOW_ROLE;
  if (requested !== undefined && requested !== '' && !roles.includes(requested as Role)) {
    throw new ValidationError(`OUTFLOW_ROLE must be one of ${roles.join(', ')} (lower case), not "${requested}". Unset it to act as the home's owner.`);
  }
  const role: Role = requested ? (requested as Role) : 'admin';
  let name = env.OUTFLOW_USER;
  if (!name) {
    try {
      name = os.userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return { name, role, via: 'cli' };
}

/** A yes/no setting: 1/true/yes or 0/false/no (or unset: no); anything else is refused with what to write. */
function flagFromEnv(env: NodeJS.ProcessEnv, key: string): boolean {
  const value = env[key]?.trim().toLowerCase();
  if (!value || ['0', 'false', 'no'].includes(value)) return false;
  if (['1', 'true', 'yes'].includes(value)) return true;
  throw new ConfigError('invalid_settings', `${key} must be 1 (yes) or 0 (no), not "${env[key]}".`);
}

export async function openHome(options: OpenHomeOptions = {}): Promise<Home> {
  const env = options.env ?? process.env;
  const requestTimeoutMs = options.requestTimeoutMs ?? msFromEnv(env, 'OUTFLOW_REQUEST_TIMEOUT_MS');
  const runStallTimeoutMs = options.runStallTimeoutMs ?? msFromEnv(env, 'OUTFLOW_RUN_STALL_TIMEOUT_MS');
  const retryBudgetMs = msFromEnv(env, 'OUTFLOW_RETRY_BUDGET_MS');
  const notifyTimeoutMs = msFromEnv(env, 'OUTFLOW_NOTIFY_TIMEOUT_MS');
  // Scale-out mode: every worker paces each destination account on one schedule in Redis; embedded mode keeps
  // the in-process limiter. Checked before any store opens (a malformed URL is a setting to fix); the
  // connection itself opens on the first request that needs pacing.
  const redisUrl = env.OUTFLOW_REDIS_URL?.trim();
  // Its keys share the deployment's prefix (OUTFLOW_QUEUE_PREFIX), like the queue's.
  // ioredis, PostgreSQL's client and the like load only when configured: every CLI command opens a home, and
  // loading them cost each one ~0.1–0.3 s (issue 13).
  const sharedLimiter = redisUrl ? (await import('../lib/rate-limit-redis.ts')).openRedisRateLimiter(redisUrl, { prefix: `${env.OUTFLOW_QUEUE_PREFIX?.trim() || 'outflow'}:limiter:` }) : null;
  const dir = resolveHomeDir(options.dir, env);
  prepareHomeDir(dir);
  makePrivate(dir);
  const tmpDir = path.join(dir, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  // DuckDB's memory limits (OUTFLOW_DUCKDB_MEMORY, OUTFLOW_DUCKDB_STREAMING_MEMORY, OUTFLOW_DUCKDB_TEMP_MAX),
  // checked now like the URLs; what does not fit spills into the home's tmp/duckdb.
  const memory = duckDbMemoryFromEnv(env, path.join(tmpDir, 'duckdb'));
  const logFormat = env.OUTFLOW_LOG_FORMAT?.trim() || 'file';
  if (logFormat !== 'file' && logFormat !== 'json') {
    throw new ConfigError('invalid_settings', `OUTFLOW_LOG_FORMAT must be json (the server's log as JSON lines on standard output) or file (the home's logs/outflow.log, the default), not "${logFormat}".`);
  }
  const logToStdout = !options.log && options.service === true && logFormat === 'json';
  const logFile = options.log || logToStdout ? null : openLogFile(path.join(dir, 'logs'));
  const log = options.log ?? (logToStdout ? createLogger({ stdout: true }) : createLogger({ stream: logFile! }));
  const key = loadSecretKey(dir, env);
  const box = createSecretBox(key);
  const metadata = await openMetadataStore({ url: env.OUTFLOW_DATABASE_URL, sqlitePath: path.join(dir, 'metadata.sqlite') });
  // OUTFLOW_PROFILES_URL=postgres://… moves the profiles to PostgreSQL (workers on other machines read them
  // there); unset, they stay in the home's DuckDB file. Checked now, so a bad URL fails every command at once.
  const profilesUrl = env.OUTFLOW_PROFILES_URL?.trim();
  const postgresProfiles = profilesUrl ? await import('../store/profile/postgres-store.ts') : null;
  if (profilesUrl) postgresProfiles!.parseProfilesUrl(profilesUrl);
  const profiles = lazyProfileStore(() =>
    profilesUrl ? postgresProfiles!.openPostgresProfileStore(profilesUrl, { memory }) : openProfileStore(path.join(dir, 'profiles.duckdb'), { memory }),
  );
  const swept = sweepWorkDirs(tmpDir);
  if (swept.length > 0) log.info({ folders: swept }, 'removed scratch folders of runs whose process was killed');
  const uploads = sweepUploadDirs(tmpDir);
  if (uploads.length > 0) log.info({ folders: uploads }, 'removed entity uploads of servers that were killed');
  return {
    dir,
    distributed: Boolean(redisUrl),
    actor: options.actor ?? actorFromEnv(env),
    metadata,
    storage: { profiles: profilesUrl ? 'postgres' : 'duckdb', key: env.OUTFLOW_SECRET_KEY ? 'environment' : 'file', keyCheck: keyCheck(key) },
    db: metadata.db,
    box,
    profiles,
    log,
    limiter: sharedLimiter?.limiter ?? createMemoryRateLimiter(),
    // Read at the first request, not now: the global `fetch` loads undici (~60–130 ms) when first touched.
    fetch: options.fetch ?? (((input, init) => globalThis.fetch(input, init)) as typeof fetch),
    tmpDir,
    now: () => new Date(),
    retry: { ...defaultRetryPolicy, ...(retryBudgetMs ? { budgetMs: retryBudgetMs } : {}), ...options.retry },
    ...(options.retryClock ? { retryClock: options.retryClock } : {}),
    ...(notifyTimeoutMs ? { notifyTimeoutMs } : {}),
    allowPrivateWebhooks: flagFromEnv(env, 'OUTFLOW_WEBHOOKS_ALLOW_PRIVATE'),
    requestTimeoutMs,
    runStallTimeoutMs,
    async close() {
      await profiles.close();
      await metadata.close();
      await sharedLimiter?.close();
      if (logFile) await new Promise<void>((resolve) => logFile.end(resolve));
    },
  };
}

/**
 * Creates the home directory when it is missing. A path that is a file (or lies under one), or that we may
 * not create, is the user's to fix, so it gets a plain message and exit code 2 rather than a raw error from
 * whichever store happens to open first.
 */
function prepareHomeDir(dir: string): void {
  const fix = 'Pass --home <dir> (or set OUTFLOW_HOME) with a directory; a missing one is created.';
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new ValidationError(`The Outflow home ${dir} lies under a file, not a directory. ${fix}`);
    if (code !== 'ENOENT') throw new ValidationError(`Cannot open the Outflow home ${dir} (${code ?? String(error)}). ${fix}`);
  }
  if (stat && !stat.isDirectory()) throw new ValidationError(`The Outflow home ${dir} is a file, not a directory. ${fix}`);
  if (stat) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ValidationError(`Cannot create the Outflow home ${dir} (${code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of the path is a file' : (code ?? String(error))}). ${fix}`);
  }
}

/** Size-based rotation: `outflow.log` plus at most this many older files of at most `LOG_FILE_SIZE` each. */
const LOG_FILE_SIZE = '10M';
const LOG_FILES_KEPT = 5;

function openLogFile(logsDir: string) {
  fs.mkdirSync(logsDir, { recursive: true, mode: 0o700 });
  return createRotatingStream('outflow.log', { path: logsDir, size: LOG_FILE_SIZE, maxFiles: LOG_FILES_KEPT, mode: 0o600 });
}

/**
 * The home holds personal data (the profile store) and credentials: everything Outflow creates in it is
 * readable by the home's owner only. A home made by an older version, or by hand, is tightened once.
 */
function makePrivate(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Files this process creates from here on (SQLite and DuckDB files, their journals, logs) get 0600.
  process.umask(0o077);
  for (const entry of [dir, ...listFiles(dir)]) {
    try {
      const { mode } = fs.statSync(entry);
      if ((mode & 0o077) !== 0) fs.chmodSync(entry, mode & 0o700);
    } catch {
      // Gone meanwhile, or not ours to change: nothing to tighten.
    }
  }
}

function listFiles(dir: string): string[] {
  const found: string[] = [];
  for (const sub of ['', 'logs', 'tmp']) {
    const base = path.join(dir, sub);
    try {
      for (const name of fs.readdirSync(base)) found.push(path.join(base, name));
    } catch {
      // Not there yet.
    }
  }
  return found;
}
