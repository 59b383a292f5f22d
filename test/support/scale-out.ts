import pg from 'pg';
import { Redis } from 'ioredis';
import { POSTGRES_URL } from './postgres.ts';

export const REDIS_URL = process.env.OUTFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh PostgreSQL database for one test file (run records, and profiles once they live there); dropped by `drop`. */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A BullMQ/Redis key prefix of one test file, so files running at once never share a queue; `clean` removes its keys. */
export function queuePrefix(name: string): { prefix: string; clean(): Promise<void> } {
  const prefix = `outflow-test-${name}-${process.pid}-${Date.now().toString(36)}`;
  return {
    prefix,
    async clean() {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
      try {
        let cursor = '0';
        do {
          const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
          cursor = next;
          if (found.length > 0) await redis.del(...found);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, details: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${details() ? `\n${details()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `outflow worker` as a child process, so a test can SIGKILL or SIGTERM it. */
export interface WorkerProcess {
  child: import('node:child_process').ChildProcess;
  output(): string;
  kill(): Promise<void>;
  /** SIGTERM, and waits for the process to end; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export async function startWorkerProcess(home: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<WorkerProcess> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = fileURLToPath(new URL('../../bin/outflow.cjs', import.meta.url));
  const child = spawn(process.execPath, [bin, 'worker', '--home', home, ...args], {
    env: { ...process.env, OUTFLOW_TEST_VIA_SERVER: '', OUTFLOW_URL: '', OUTFLOW_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until('the worker to start', () => {
    if (child.exitCode !== null) throw new Error(`outflow worker exited with ${child.exitCode}:\n${output}`);
    return output.includes('taking runs from the queue');
  }, 60_000, () => output);
  return {
    child,
    output: () => output,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
