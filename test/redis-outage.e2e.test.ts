import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/cli.ts';
import { freshDatabase, until } from './support/scale-out.ts';

// While Redis is down, a worker says so in one clear line and keeps reconnecting quietly; before, ioredis
// printed "[ioredis] Unhandled error event" with a stack trace for every reconnect attempt.

let db: Awaited<ReturnType<typeof freshDatabase>>;
let home: string;

beforeAll(async () => {
  db = await freshDatabase('redis_outage');
  home = tempDir('redis-outage');
});
afterAll(async () => {
  await db?.drop();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('a worker while Redis is down', () => {
  // With OUTFLOW_LOG_FORMAT=json its log goes to standard output too: no line per reconnect attempt there either.
  it.each([['file'], ['json']])('prints one clear line, not a stack trace per reconnect attempt (log format %s)', async (logFormat) => {
    const bin = fileURLToPath(new URL('../bin/outflow.cjs', import.meta.url));
    // Port 1 on loopback: nothing listens there, so every connection attempt is refused at once.
    const child = spawn(process.execPath, [bin, 'worker', '--home', home], {
      env: {
        ...process.env,
        OUTFLOW_TEST_VIA_SERVER: '',
        OUTFLOW_URL: '',
        OUTFLOW_TOKEN: '',
        OUTFLOW_DATABASE_URL: db.url,
        OUTFLOW_PROFILES_URL: `${db.url}?schema=profiles`,
        OUTFLOW_REDIS_URL: 'redis://:not-shown-password@127.0.0.1:1',
        OUTFLOW_QUEUE_PREFIX: 'outflow-test-redis-outage',
        OUTFLOW_LOG_FORMAT: logFormat,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await until('the worker to report the outage', () => stderr.includes('cannot be reached'), 60_000, () => stderr);
      // ioredis retries within milliseconds at first: several attempts fail while we wait.
      const seen = stderr.length;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(stderr).not.toContain('Unhandled error event');
      expect(stderr).not.toMatch(/^\s+at /m);
      const lines = stderr.split('\n').filter((l) => l.includes('Redis'));
      expect(lines).toEqual([
        'Redis at 127.0.0.1:1 cannot be reached (ECONNREFUSED); retrying in the background. Queued runs wait, and nothing is lost; check that Redis is running and OUTFLOW_REDIS_URL.',
      ]);
      expect(stderr.length).toBe(seen);
      expect(stdout).not.toContain('ECONNREFUSED');
      expect(stderr + stdout).not.toContain('not-shown-password');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, 120_000);
});
