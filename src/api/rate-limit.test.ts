import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import { memoryCounter, parseRateLimit, rateLimitMiddleware, redisCounter, type ApiRateLimits, type WindowCounter } from './rate-limit.ts';

const log = createLogger({ level: 'silent' });

function app(limits: ApiRateLimits, counter: WindowCounter) {
  const hono = new Hono();
  hono.use('/api/*', rateLimitMiddleware({ limits, counter, sessionCookie: 'outflow_session', address: (c) => c.req.header('x-test-address'), log }));
  hono.get('/api/ping', (c) => c.json({ ok: true }));
  return hono;
}

const get = (hono: Hono, headers: Record<string, string>) => hono.request('/api/ping', { headers });

describe('API rate limits', () => {
  it('answers 429 with Retry-After once a token is over its limit, and says where every caller stands', async () => {
    let now = 1_000_000;
    const hono = app({ caller: { requests: 3, windowSeconds: 10 }, address: { requests: 100, windowSeconds: 10 } }, memoryCounter(() => now));
    const alice = { authorization: 'Bearer alice-token', 'x-test-address': '10.0.0.1' };
    const first = await get(hono, alice);
    expect(first.status).toBe(200);
    expect(first.headers.get('RateLimit-Policy')).toBe('"token";q=3;w=10, "address";q=100;w=10');
    expect(first.headers.get('RateLimit')).toBe('"token";r=2;t=10, "address";r=99;t=10');
    expect((await get(hono, alice)).status).toBe(200);
    expect((await get(hono, alice)).status).toBe(200);
    now += 4_000;
    const refused = await get(hono, alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBe('6');
    expect(refused.headers.get('RateLimit')).toBe('"token";r=0;t=6, "address";r=96;t=6');
    const body = (await refused.json()) as { code: string; detail: string; limit: string; retryAfterSeconds: number };
    expect(body).toMatchObject({ status: 429, code: 'rate_limited', limit: 'token', retryAfterSeconds: 6 });
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(body.detail).toMatch(/OUTFLOW_API_RATE_LIMIT_TOKEN/);
    expect(body.detail).not.toContain('alice-token');
    // Another caller from the same address is not slowed by Alice's script.
    expect((await get(hono, { authorization: 'Bearer bob-token', 'x-test-address': '10.0.0.1' })).status).toBe(200);
    // A session cookie counts as its own caller.
    expect((await get(hono, { cookie: 'outflow_session=s1', 'x-test-address': '10.0.0.1' })).status).toBe(200);
    // The next window starts afresh.
    now += 6_000;
    expect((await get(hono, alice)).status).toBe(200);
  });

  it('limits an address however many tokens it uses', async () => {
    const now = 5_000;
    const hono = app({ caller: { requests: 100, windowSeconds: 60 }, address: { requests: 5, windowSeconds: 60 } }, memoryCounter(() => now));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get(hono, { authorization: `Bearer token-${i}`, 'x-test-address': '10.0.0.9' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await get(hono, { 'x-test-address': '10.0.0.9' });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ limit: 'address', detail: expect.stringMatching(/10\.0\.0\.9/) });
    expect((await get(hono, { 'x-test-address': '10.0.0.10' })).status).toBe(200);
  });

  it('serves when the shared counter is down rather than refusing everyone', async () => {
    const broken: WindowCounter = { hit: async () => Promise.reject(new Error('ECONNREFUSED')) };
    const hono = app({ caller: { requests: 1, windowSeconds: 1 }, address: null }, broken);
    expect((await get(hono, { authorization: 'Bearer x' })).status).toBe(200);
  });

  it('reads its settings and says what a bad one should look like', () => {
    expect(parseRateLimit('X', '600/1m', null)).toEqual({ requests: 600, windowSeconds: 60 });
    expect(parseRateLimit('X', '50/s', null)).toEqual({ requests: 50, windowSeconds: 1 });
    expect(parseRateLimit('X', 'off', { requests: 1, windowSeconds: 1 })).toBeNull();
    expect(parseRateLimit('X', '', { requests: 1, windowSeconds: 1 })).toEqual({ requests: 1, windowSeconds: 1 });
    expect(() => parseRateLimit('OUTFLOW_API_RATE_LIMIT_TOKEN', 'lots', null)).toThrow(/OUTFLOW_API_RATE_LIMIT_TOKEN must be requests per window such as 300\/10s/);
  });

  describe('in Redis, shared by several servers', () => {
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    const prefix = `ratelimit-test-${process.pid}-${Date.now()}`;
    afterAll(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('two servers count one caller together', async () => {
      const now = () => 42_000;
      const limits = { caller: { requests: 4, windowSeconds: 30 }, address: null };
      const one = app(limits, redisCounter(redis, prefix, now));
      const two = app(limits, redisCounter(redis, prefix, now));
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await get(one, { authorization: 'Bearer shared' })).status);
        statuses.push((await get(two, { authorization: 'Bearer shared' })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      const keys = await redis.keys(`${prefix}:*`);
      expect(keys).toHaveLength(1);
      expect(keys[0]).not.toContain('shared');
      expect(await redis.pttl(keys[0]!)).toBeGreaterThan(0);
    });
  });
});
