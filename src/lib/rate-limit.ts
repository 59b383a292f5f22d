import { OutflowError } from '../domain/errors.ts';

/** "At most `requests` every `perMs` milliseconds." */
export interface Rate {
  requests: number;
  perMs: number;
}

/**
 * Paces requests to one destination account. The in-memory limiter below serves one process; a limiter
 * shared by several workers (on Redis) implements the same interface.
 */
export interface RateLimiter {
  /** Resolves when one more request under `key` fits `rate`. */
  acquire(key: string, rate: Rate, signal?: AbortSignal): Promise<void>;
}

export interface SleepFn {
  (ms: number, signal?: AbortSignal): Promise<void>;
}

export const sleep: SleepFn = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new OutflowError('cancelled', 'The run was cancelled.');
}

/**
 * Spaces requests evenly (generic cell rate algorithm with no burst): the n-th request under a key is
 * released no earlier than `n × interval` after the first. Even spacing, rather than bursts up to the limit,
 * keeps us under a vendor's window whatever shape it has (token bucket, fixed or sliding window).
 * `safety` shaves a few percent off the rate so clock skew and network jitter never push us over.
 */
export function createMemoryRateLimiter(options: { now?: () => number; sleep?: SleepFn; safety?: number } = {}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const wait = options.sleep ?? sleep;
  const safety = options.safety ?? 0.95;
  const nextFree = new Map<string, number>();
  return {
    async acquire(key, rate, signal) {
      const intervalMs = rate.perMs / (rate.requests * safety);
      const at = Math.max(now(), nextFree.get(key) ?? 0);
      nextFree.set(key, at + intervalMs);
      const delay = at - now();
      if (delay > 0) await wait(delay, signal);
    },
  };
}
