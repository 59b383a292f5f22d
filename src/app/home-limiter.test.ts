import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { ConfigError } from '../domain/errors.ts';
import { openHome } from './home.ts';

// Which limiter a home paces destination requests with: OUTFLOW_REDIS_URL chooses the shared one, in the real
// Redis of this machine; keys of this file carry a random connection id of their own.
const REDIS_URL = 'redis://127.0.0.1:6379';
const key = `connection:home-test-${randomBytes(4).toString('hex')}`;
const rate = { requests: 5, perMs: 1000 };
let redis: Redis;
const dirs: string[] = [];

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.del(`outflow:limiter:${key}`);
  await redis.quit();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function homeDir(): string {
  const dir = tempDir('home-limiter');
  dirs.push(dir);
  return dir;
}

describe('the rate limiter a home opens', () => {
  it('is shared through Redis when OUTFLOW_REDIS_URL is set, and its connection closes with the home', async () => {
    const home = await openHome({ dir: homeDir(), env: { OUTFLOW_REDIS_URL: REDIS_URL } });
    try {
      await home.limiter.acquire(key, rate);
      expect(await home.limiter.state(key)).toMatchObject({ backend: 'redis', rate });
      expect(await redis.hget(`outflow:limiter:${key}`, 'requests')).toBe('5');
      expect(await limiterClients()).toBeGreaterThanOrEqual(1);
    } finally {
      await home.close();
    }
    // The one connection of this home is gone (others may belong to test files running alongside).
    await expect(home.limiter.acquire(key, rate)).rejects.toThrow(/Connection is closed|could not reserve a turn/);
  });

  it('stays in the process when OUTFLOW_REDIS_URL is unset or empty (embedded mode)', async () => {
    for (const env of [{}, { OUTFLOW_REDIS_URL: '  ' }]) {
      const home = await openHome({ dir: homeDir(), env });
      try {
        const local = `${key}-local`;
        await home.limiter.acquire(local, rate);
        expect(await home.limiter.state(local)).toMatchObject({ backend: 'memory', rate });
        expect(await redis.exists(`outflow:limiter:${local}`)).toBe(0);
      } finally {
        await home.close();
      }
    }
  });

  it('refuses a URL that is not redis:// before opening anything, without repeating it', async () => {
    const dir = homeDir();
    const error = await openHome({ dir, env: { OUTFLOW_REDIS_URL: 'https://admin:hunter22@cache.internal' } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^OUTFLOW_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
    expect((error as Error).message).not.toContain('hunter22');
  });
});

async function limiterClients(): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes('name=outflow-limiter')).length;
}
