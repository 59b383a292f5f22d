import { RetryableError } from '../domain/errors.ts';
import { sleep as realSleep, type SleepFn } from '../lib/rate-limit.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff; doubles each attempt. */
  baseMs: number;
  /** Cap of one backoff (a longer Retry-After is still honoured up to `maxRetryAfterMs`). */
  maxMs: number;
  /** A vendor asking us to wait longer than this fails the run instead of stalling it. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseMs: 500,
  maxMs: 30_000,
  maxRetryAfterMs: 15 * 60_000,
};

export interface RetryHooks {
  signal?: AbortSignal;
  sleep?: SleepFn;
  random?: () => number;
  onRetry?: (error: RetryableError, attempt: number, delayMs: number) => void;
}

/**
 * The delay before retry number `attempt` (1-based): the vendor's Retry-After when it gave one, else
 * exponential backoff with full jitter, so that several workers throttled together do not return together.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, error: RetryableError, random: () => number = Math.random): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs + Math.floor(random() * 250);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}

/** Runs `fn`, retrying {@link RetryableError}s under `policy`; any other error passes straight through. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy = defaultRetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const wait = hooks.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!(error instanceof RetryableError) || attempt >= policy.maxAttempts) throw error;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) throw error;
      const delay = backoffMs(policy, attempt, error, hooks.random);
      hooks.onRetry?.(error, attempt, delay);
      await wait(delay, hooks.signal);
    }
  }
}
