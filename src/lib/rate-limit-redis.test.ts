import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RetryableError } from '../domain/errors.ts';
import { busiestSecond, busiestWindow, runLimiterWorkers, startCountingServer } from '../../test/support/limiter-fleet.ts';
import type { LimiterWorkerSettings } from '../../test/support/limiter-worker.ts';
import { createRedisRateLimiter, openRedisRateLimiter, redisWhere } from './rate-limit-redis.ts';

// The real Redis of this machine (CI starts it); every key of this file lives under its own prefix.
const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `outflow-test:limiter:${randomBytes(4).toString('hex')}:`;
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  await redis.ping();
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function workers(count: number, base: Omit<LimiterWorkerSettings, 'name' | 'redisUrl' | 'prefix'>): LimiterWorkerSettings[] {
  return Array.from({ length: count }, (_, i) => ({ ...base, name: `w${i + 1}`, redisUrl: REDIS_URL, prefix }));
}

describe('Redis rate limiter, shared by several processes', () => {
  it('keeps three processes on one key under the limit together, in every second, and each gets requests through', async () => {
    const server = await startCountingServer();
    try {
      const results = await runLimiterWorkers(workers(3, { key: 'connection:shared', requests: 10, perMs: 1000, url: server.url, durationMs: 4000, concurrency: 2 }));
      const arrivals = server.arrivals.map((a) => a.at);
      const released = results.flatMap((r) => r.released);
      // The three processes' requests leave the limiter no closer than the rate allows, in any sliding second…
      expect(busiestWindow(released, 1000)).toBeLessThanOrEqual(10);
      // …and the vendor, counting per second, never sees more than the limit. (Arrival times also carry the
      // HTTP stack's jitter on a busy machine, which the 5 % margin absorbs; a sliding window is checked above.)
      expect(busiestSecond(arrivals)).toBeLessThanOrEqual(10);
      for (const r of results) expect(r.sent).toBeGreaterThan(3);
      // Together ~9.5/s (the 5 % safety margin): the rate, not three times it.
      const sorted = [...arrivals].sort((a, b) => a - b);
      const perSecond = ((sorted.length - 1) * 1000) / (sorted.at(-1)! - sorted[0]!);
      expect(perSecond).toBeLessThanOrEqual(10);
      expect(perSecond).toBeGreaterThan(7);
    } finally {
      await server.close();
    }
  });

  it("makes every process wait out the Retry-After of a 429 that one of them got", async () => {
    let throttledAt = 0;
    const server = await startCountingServer((arrival) => {
      if (!throttledAt && arrival.worker === 'w1' && arrival.at > 0) {
        // The first request of w1 after things got going is throttled for 2 s.
        const seenFromW1 = server.arrivals.filter((a) => a.worker === 'w1').length;
        if (seenFromW1 >= 5) {
          throttledAt = arrival.at;
          return { status: 429, headers: { 'retry-after': '2' } };
        }
      }
      return { status: 200 };
    });
    try {
      const results = await runLimiterWorkers(workers(2, { key: 'connection:throttled', requests: 20, perMs: 1000, url: server.url, durationMs: 4500, concurrency: 2 }));
      expect(throttledAt).toBeGreaterThan(0);
      expect(results.find((r) => r.name === 'w1')!.throttled).toBe(1);
      const during = server.arrivals.filter((a) => a.at > throttledAt + 150 && a.at < throttledAt + 1900);
      // Without a shared pause w2 goes on at ~19/s (some 30 requests in that span).
      expect(during).toEqual([]);
      const after = server.arrivals.filter((a) => a.at >= throttledAt + 1900);
      expect(after.some((a) => a.worker === 'w2')).toBe(true);
      expect(after.some((a) => a.worker === 'w1')).toBe(true);
      // Requests from before the 429 went on at the rate until it came.
      expect(server.arrivals.filter((a) => a.worker === 'w2' && a.at < throttledAt).length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});

describe('Redis rate limiter, one process', () => {
  it('spaces requests on one key evenly and keys apart, and tells its state', async () => {
    const limiter = createRedisRateLimiter({ redis, prefix });
    const rate = { requests: 20, perMs: 1000 };
    await limiter.acquire('connection:warm-up', rate); // the first call also loads the scripts
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await limiter.acquire('connection:even', rate);
      times.push(performance.now());
    }
    // 20/s at 95 % is one turn every 52.6 ms. Turns are fixed on Redis's clock; a request may go up to ~26 ms
    // after its turn (a busy machine wakes late), so five gaps span at least five turns less that.
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(5 * 52.6 - 27);
    const other = performance.now();
    await limiter.acquire('connection:other', rate);
    expect(performance.now() - other).toBeLessThan(50);

    const state = await limiter.state('connection:even');
    expect(state).toMatchObject({ key: 'connection:even', backend: 'redis', rate, pausedUntil: null });
    expect(state!.waitMs).toBeGreaterThanOrEqual(0);
    expect(state!.waitMs).toBeLessThanOrEqual(53);
    expect(await limiter.state('connection:never')).toBeNull();
    expect((await limiter.states()).map((s) => s.key)).toEqual(expect.arrayContaining(['connection:even', 'connection:other']));
  });

  it('shares a pause through Redis: another limiter on the same Redis waits it out, and a shorter one does not shorten it', async () => {
    const second = new Redis(REDIS_URL);
    try {
      const mine = createRedisRateLimiter({ redis, prefix });
      const theirs = createRedisRateLimiter({ redis: second, prefix });
      await mine.pause('connection:paused', 600);
      await mine.pause('connection:paused', 10);
      const state = await theirs.state('connection:paused');
      expect(state!.pausedUntil!.getTime()).toBeGreaterThan(Date.now() + 400);
      const start = performance.now();
      await theirs.acquire('connection:paused', { requests: 100, perMs: 1000 });
      expect(performance.now() - start).toBeGreaterThanOrEqual(450);
    } finally {
      await second.quit();
    }
  });

  it('moves a request already waiting for its turn behind a pause that another process sets meanwhile', async () => {
    const second = new Redis(REDIS_URL);
    try {
      const mine = createRedisRateLimiter({ redis, prefix });
      const theirs = createRedisRateLimiter({ redis: second, prefix });
      const rate = { requests: 1, perMs: 200 };
      await mine.acquire('connection:moved', rate);
      const start = performance.now();
      const waiting = mine.acquire('connection:moved', rate); // its turn is ~210 ms away
      await theirs.pause('connection:moved', 700);
      await waiting;
      expect(performance.now() - start).toBeGreaterThanOrEqual(650);
    } finally {
      await second.quit();
    }
  });

  it('stops waiting for a turn, or a pause, as soon as the run is cancelled', async () => {
    const limiter = createRedisRateLimiter({ redis, prefix });
    const slow = { requests: 1, perMs: 60_000 };
    await limiter.acquire('connection:slow', slow);
    const controller = new AbortController();
    const start = performance.now();
    const pending = limiter.acquire('connection:slow', slow, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/aborted/);
    expect(performance.now() - start).toBeLessThan(5000);

    await limiter.pause('connection:held', 60_000);
    const held = new AbortController();
    const waiting = limiter.acquire('connection:held', { requests: 10, perMs: 1000 }, held.signal);
    setTimeout(() => held.abort(), 50);
    await expect(waiting).rejects.toThrow(/aborted/);
  });

  it('turns an unreachable Redis into a retryable error that says where and what to do, never the password', async () => {
    const { limiter, close } = openRedisRateLimiter('redis://:s3cret-password@127.0.0.1:1');
    try {
      const error = await limiter.acquire('connection:x', { requests: 1, perMs: 1000 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as Error).message).toMatch(/^The shared rate limiter could not reserve a turn in Redis at 127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\)\. Check that Redis runs and that OUTFLOW_REDIS_URL points at it\.$/);
      expect((error as Error).message).not.toContain('s3cret');
      // A cancelled run is not held up by a Redis that does not answer.
      const controller = new AbortController();
      const pending = limiter.acquire('connection:x', { requests: 1, perMs: 1000 }, controller.signal);
      controller.abort();
      await expect(pending).rejects.toThrow(/aborted/);
    } finally {
      await close();
    }
  });

  it('refuses a URL that is not redis:// without repeating it', () => {
    expect(() => redisWhere('http://user:pw@host')).toThrow(ConfigError);
    expect(() => redisWhere('http://user:pw@host')).not.toThrow(/pw/);
    expect(redisWhere('rediss://:pw@cache.internal:6380/0')).toBe('cache.internal:6380');
  });
});
