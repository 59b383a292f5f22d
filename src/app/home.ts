import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../domain/errors.ts';
import { roles, type Actor, type Role } from '../domain/model.ts';
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

export async function openHome(options: OpenHomeOptions = {}): Promise<Home> {
  const env = options.env ?? process.env;
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
