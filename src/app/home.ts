import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../domain/errors.ts';
import type { Actor, Role } from '../domain/model.ts';
import { sweepWorkDirs } from '../engine/files.ts';
import { defaultRetryPolicy, type RetryPolicy } from '../engine/retry.ts';
import type { Services } from '../engine/services.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { createMemoryRateLimiter } from '../lib/rate-limit.ts';
import { openMetadataStore, type MetadataStore } from '../store/metadata/db.ts';
import { openProfileStore } from '../store/profile/profile-store.ts';
import { createSecretBox, loadSecretKey } from '../store/secret-box.ts';

/**
 * An Outflow home: the directory holding the embedded stores (`metadata.sqlite`, `profiles.duckdb`), the
 * secret key, logs and scratch space. `OUTFLOW_DATABASE_URL=postgres://…` moves the metadata to PostgreSQL.
 */
export interface Home extends Services {
  dir: string;
  actor: Actor;
  metadata: MetadataStore;
  close(): Promise<void>;
}

export interface OpenHomeOptions {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  actor?: Actor;
  log?: Logger;
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
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

export function resolveHomeDir(dir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(dir ?? env.OUTFLOW_HOME ?? '.outflow');
}

/** The person at the keyboard: `OUTFLOW_USER` (default: the OS user) with role `OUTFLOW_ROLE` (default admin). */
export function actorFromEnv(env: NodeJS.ProcessEnv = process.env): Actor {
  const role: Role = env.OUTFLOW_ROLE === 'contributor' ? 'contributor' : 'admin';
  let name = env.OUTFLOW_USER;
  if (!name) {
    try {
      name = os.userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return { name, role };
}

export async function openHome(options: OpenHomeOptions = {}): Promise<Home> {
  const env = options.env ?? process.env;
  const requestTimeoutMs = options.requestTimeoutMs ?? msFromEnv(env, 'OUTFLOW_REQUEST_TIMEOUT_MS');
  const runStallTimeoutMs = options.runStallTimeoutMs ?? msFromEnv(env, 'OUTFLOW_RUN_STALL_TIMEOUT_MS');
  const dir = resolveHomeDir(options.dir, env);
  fs.mkdirSync(dir, { recursive: true });
  const tmpDir = path.join(dir, 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const log = options.log ?? createLogger({ file: path.join(dir, 'logs', 'outflow.log') });
  const box = createSecretBox(loadSecretKey(dir, env));
  const metadata = await openMetadataStore({ url: env.OUTFLOW_DATABASE_URL, sqlitePath: path.join(dir, 'metadata.sqlite') });
  let profiles;
  try {
    profiles = await openProfileStore(path.join(dir, 'profiles.duckdb'));
  } catch (error) {
    await metadata.close();
    throw error;
  }
  const swept = sweepWorkDirs(tmpDir);
  if (swept.length > 0) log.info({ folders: swept }, 'removed scratch folders of runs whose process was killed');
  return {
    dir,
    actor: options.actor ?? actorFromEnv(env),
    metadata,
    db: metadata.db,
    box,
    profiles,
    log,
    limiter: createMemoryRateLimiter(),
    fetch: options.fetch ?? globalThis.fetch,
    tmpDir,
    now: () => new Date(),
    retry: { ...defaultRetryPolicy, ...options.retry },
    requestTimeoutMs,
    runStallTimeoutMs,
    async close() {
      await profiles.close();
      await metadata.close();
    },
  };
}
