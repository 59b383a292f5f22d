import { describe, expect, it } from 'vitest';
import { RetryableError, UpstreamError } from '../domain/errors.ts';
import { backoffMs, defaultRetryPolicy, formatDuration, withRetry, type RetryPolicy } from './retry.ts';

const policy: RetryPolicy = { budgetMs: 60_000, maxAttempts: 4, baseMs: 100, maxMs: 1000, maxRetryAfterMs: 10_000 };

/** A clock that only moves when the code under test sleeps. */
function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
}

describe('retry', () => {
  it('honours Retry-After over its own backoff', () => {
    expect(backoffMs(policy, 1, new RetryableError('rate_limited', 'x', { retryAfterMs: 7000 }), () => 0)).toBe(7000);
  });

  it('backs off exponentially with jitter, capped', () => {
    const error = new RetryableError('upstream_unavailable', 'x');
    expect(backoffMs(policy, 1, error, () => 0)).toBe(50);
    expect(backoffMs(policy, 3, error, () => 1)).toBe(400);
    expect(backoffMs(policy, 10, error, () => 1)).toBe(1000);
  });

  it('retries retryable errors until one attempt succeeds', async () => {
    const delays: number[] = [];
    let attempts = 0;
    const result = await withRetry(
      async () => {
        attempts++;
        if (attempts < 3) throw new RetryableError('rate_limited', 'busy', { retryAfterMs: 20 });
        return 'done';
      },
      policy,
      { sleep: async (ms) => void delays.push(ms), random: () => 0 },
    );
    expect(result).toBe('done');
    expect(delays).toEqual([20, 20]);
  });

  it('gives up after maxAttempts and passes other errors straight through', async () => {
    let attempts = 0;
    await expect(withRetry(async () => { attempts++; throw new RetryableError('timeout', 'slow'); }, policy, { sleep: async () => {} })).rejects.toThrow('slow');
    expect(attempts).toBe(4);
    attempts = 0;
    await expect(withRetry(async () => { attempts++; throw new UpstreamError('upstream_rejected', 'no'); }, policy, { sleep: async () => {} })).rejects.toThrow('no');
    expect(attempts).toBe(1);
  });

  it('fails rather than stall when a vendor asks for a wait longer than the policy allows', async () => {
    let attempts = 0;
    await expect(
      withRetry(async () => { attempts++; throw new RetryableError('rate_limited', 'come back tomorrow', { retryAfterMs: 86_400_000 }); }, policy, { sleep: async () => {} }),
    ).rejects.toThrow('tomorrow');
    expect(attempts).toBe(1);
  });

  it('is bounded by time, not by a count: an outage of 30 s is waited out in dozens of attempts', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const recoveries: Array<{ waitedMs: number; failingMs: number; retries: number; code: string }> = [];
    let attempts = 0;
    const result = await withRetry(
      async () => {
        attempts++;
        clock.advance(20); // the request itself takes a little time
        if (clock.now() - start < 30_000) throw new RetryableError('upstream_unavailable', 'Iterable is unavailable (HTTP 503).', { status: 503 });
        return 'done';
      },
      { ...defaultRetryPolicy, maxMs: 1000 },
      { ...clock, random: () => 1, onRecovered: (r) => recoveries.push({ waitedMs: r.waitedMs, failingMs: r.failingMs, retries: r.retries, code: r.error.code }) },
    );
    expect(result).toBe('done');
    expect(attempts).toBeGreaterThan(8); // the old count limit gave up after 8
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]!.retries).toBe(attempts - 1);
    expect(recoveries[0]!.waitedMs).toBeGreaterThanOrEqual(29_980);
    expect(recoveries[0]!.waitedMs).toBeLessThan(32_000);
    expect(recoveries[0]!.failingMs).toBeLessThan(30_000);
    expect(recoveries[0]!.failingMs).toBeGreaterThan(28_000);
  });

  it('honours Retry-After: 1 for a minute, then gives up once the budget is spent and says how long it waited', async () => {
    const clock = fakeClock();
    const start = clock.now();
    let attempts = 0;
    const throttled = () => {
      attempts++;
      if (clock.now() - start < 60_000) throw new RetryableError('rate_limited', 'Iterable is throttling (HTTP 429).', { retryAfterMs: 1000, status: 429 });
      return Promise.resolve('done');
    };
    await expect(withRetry(async () => throttled(), defaultRetryPolicy, { ...clock, random: () => 0 })).resolves.toBe('done');
    expect(attempts).toBe(61);

    const budget = fakeClock();
    attempts = 0;
    const failing = withRetry(
      async () => {
        attempts++;
        throw new RetryableError('upstream_unavailable', 'Iterable is unavailable (HTTP 503).', { status: 503 });
      },
      { ...defaultRetryPolicy, budgetMs: 5 * 60_000 },
      { ...budget, random: () => 1 },
    );
    await expect(failing).rejects.toThrow(/Iterable is unavailable \(HTTP 503\)\. It kept failing for 4 min \d+ s and the retry budget is 5 min: the run stopped/);
    expect(budget.now() - 1_000_000).toBeLessThanOrEqual(5 * 60_000);
  });

  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(31_400)).toBe('31 s');
    expect(formatDuration(250_000)).toBe('4 min 10 s');
  });
});
