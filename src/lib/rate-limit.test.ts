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
});
