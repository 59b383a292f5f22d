import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from './rate-limit.ts';

describe('memory rate limiter', () => {
  it('spaces requests evenly, a little under the rate, per key', async () => {
    let clock = 0;
    const waits: number[] = [];
    const limiter = createMemoryRateLimiter({
      now: () => clock,
      sleep: async (ms) => {
        waits.push(Math.round(ms));
        clock += ms;
      },
      safety: 0.95,
    });
    const rate = { requests: 5, perMs: 1000 };
    for (let i = 0; i < 4; i++) await limiter.acquire('a', rate);
    await limiter.acquire('b', rate);
    // 5 r/s at 95 % is one request every ~210.5 ms; key b has its own schedule.
    expect(waits).toEqual([211, 211, 211]);
    expect(clock).toBeCloseTo(631.6, 0);
  });

  it('stops waiting when the run is cancelled', async () => {
    const limiter = createMemoryRateLimiter();
    const controller = new AbortController();
    await limiter.acquire('k', { requests: 1, perMs: 60_000 });
    const pending = limiter.acquire('k', { requests: 1, perMs: 60_000 }, controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow(/aborted/);
  });

  it('holds a key for a pause, then spaces requests again from its end; a shorter pause never shortens it', async () => {
    let clock = 0;
    const limiter = createMemoryRateLimiter({ now: () => clock, sleep: async (ms) => void (clock += ms), safety: 1 });
    const rate = { requests: 10, perMs: 1000 };
    await limiter.acquire('a', rate);
    await limiter.pause('a', 5000);
    await limiter.pause('a', 1000);
    expect(await limiter.state('a')).toMatchObject({ backend: 'memory', rate, waitMs: 5000 });
    expect((await limiter.state('a'))!.pausedUntil).toBeInstanceOf(Date);
    await limiter.acquire('a', rate);
    expect(clock).toBe(5000);
    await limiter.acquire('a', rate);
    expect(clock).toBe(5100);
    // Other keys are not held.
    await limiter.acquire('b', rate);
    expect(clock).toBe(5100);
    expect((await limiter.states()).map((s) => s.key)).toEqual(['a', 'b']);
    expect(await limiter.state('unknown')).toBeNull();
  });

  it('moves a request already waiting for its turn behind a pause that starts meanwhile', async () => {
    const limiter = createMemoryRateLimiter({ safety: 1 });
    const rate = { requests: 1, perMs: 100 };
    await limiter.acquire('k', rate);
    const start = performance.now();
    const waiting = limiter.acquire('k', rate);
    await limiter.pause('k', 400);
    await waiting;
    expect(performance.now() - start).toBeGreaterThanOrEqual(390);
  });

  it('stops waiting out a pause when the run is cancelled', async () => {
    const limiter = createMemoryRateLimiter();
    const controller = new AbortController();
    await limiter.pause('k', 60_000);
    const pending = limiter.acquire('k', { requests: 1, perMs: 1000 }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow(/aborted/);
  });
});
