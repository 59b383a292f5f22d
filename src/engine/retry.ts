import { OutflowError, RetryableError } from '../domain/errors.ts';
import { sleep as realSleep, type SleepFn } from '../lib/rate-limit.ts';

export interface RetryPolicy {
  /**
   * How long one request may keep failing before the run gives up, from its first failure (`OUTFLOW_RETRY_BUDGET_MS`).
   * A time, not a count: an outage of a few minutes, or a vendor throttling us with `Retry-After: 1` for a minute,
   * costs a wait, never the run.
   */
  budgetMs: number;
  /** An extra cap on attempts, the first included; unset (the default) means the budget alone decides. */
  maxAttempts?: number;
  /** First backoff; doubles each attempt. */
  baseMs: number;
  /** Cap of one backoff (a longer Retry-After is still honoured up to `maxRetryAfterMs`). */
  maxMs: number;
  /** A vendor asking us to wait longer than this fails the run instead of stalling it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_BUDGET_MS = 15 * 60_000;

export const defaultRetryPolicy: RetryPolicy = {
  budgetMs: DEFAULT_RETRY_BUDGET_MS,
  baseMs: 500,
  maxMs: 30_000,
  maxRetryAfterMs: 15 * 60_000,
};

/** What a request that failed and then went through went through; the run turns it into a warning. */
export interface Recovery {
  /** The first failure of the episode. */
  error: RetryableError;
  /** From the first failure to the success. */
  waitedMs: number;
  /** From the first failure to the last one: how long the destination was seen failing. */
  failingMs: number;
  retries: number;
  /** When it went through (the hooks' clock). */
  at: number;
}

export interface RetryHooks {
  signal?: AbortSignal;
  sleep?: SleepFn;
  /** Milliseconds; tests inject the same clock as `sleep` so an outage of minutes takes no time. */
  now?: () => number;
  random?: () => number;
  onRetry?: (error: RetryableError, attempt: number, delayMs: number) => void;
  /**
   * Called before waiting out a `rate_limited` failure with how long the vendor asked us to wait (Retry-After,
   * else our backoff), so the caller can hold every other request to the same account too (the rate limiter's
   * `pause`): one worker's 429 then slows all workers, instead of each finding out with a 429 of its own.
   * Not called when the run gives up instead of waiting.
   */
  onThrottled?: (waitMs: number) => Promise<void>;
  /** Called once when a request succeeds after at least one retry. */
  onRecovered?: (recovery: Recovery) => void;
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

/**
 * Runs `fn`, retrying {@link RetryableError}s while the failures last no longer than `policy.budgetMs`; any
 * other error passes straight through. When the budget runs out the last error is thrown with a message that
 * says how long it waited.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy = defaultRetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const wait = hooks.sleep ?? realSleep;
  const now = hooks.now ?? Date.now;
  let first: { error: RetryableError; at: number } | null = null;
  let lastFailureAt = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn(attempt);
      if (first) {
        const at = now();
        hooks.onRecovered?.({ error: first.error, waitedMs: at - first.at, failingMs: lastFailureAt - first.at, retries: attempt - 1, at });
      }
      return result;
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      first ??= { error, at: now() };
      lastFailureAt = now();
      if (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts) throw error;
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) throw error;
      const delay = backoffMs(policy, attempt, error, hooks.random);
      const spent = now() - first.at;
      if (spent + delay > policy.budgetMs) {
        throw new OutflowError(
          error.code,
          `${error.message} It kept failing for ${formatDuration(spent)} and the retry budget is ${formatDuration(policy.budgetMs)}: the run stopped. ` +
            'Resume it with `outflow run resume <id>` once the destination answers (OUTFLOW_RETRY_BUDGET_MS sets the budget).',
          { cause: error },
        );
      }
      if (error.code === 'rate_limited') await hooks.onThrottled?.(error.retryAfterMs ?? delay);
      hooks.onRetry?.(error, attempt, delay);
      await wait(delay, hooks.signal);
    }
  }
}

/** "850 ms", "31 s", "4 min 10 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
