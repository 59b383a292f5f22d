import { describe, expect, it } from 'vitest';
import { RetryableError, UpstreamError } from '../domain/errors.ts';
import { backoffMs, withRetry, type RetryPolicy } from './retry.ts';

const policy: RetryPolicy = { maxAttempts: 4, baseMs: 100, maxMs: 1000, maxRetryAfterMs: 10_000 };

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
});
