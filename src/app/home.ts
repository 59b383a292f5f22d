import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../domain/errors.ts';
import type { Actor, Role } from '../domain/model.ts';
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
  const dir = resolveHomeDir(options.dir, env);
  prepareHomeDir(dir);
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
    async close() {
      await profiles.close();
      await metadata.close();
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
