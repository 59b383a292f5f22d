import { OutflowError } from '../domain/errors.ts';

/** "At most `requests` every `perMs` milliseconds." */
export interface Rate {
  requests: number;
  perMs: number;
}

/**
 * Paces requests to one destination account. The in-memory limiter below serves one process; the Redis
 * limiter (rate-limit-redis.ts) implements the same interface for several workers sharing an account.
 */
export interface RateLimiter {
  /** Resolves when one more request under `key` fits `rate` (and no pause holds the key). */
  acquire(key: string, rate: Rate, signal?: AbortSignal): Promise<void>;
  /**
   * The vendor throttled us (HTTP 429, usually with Retry-After): no request under `key` starts in the next
   * `ms` milliseconds, in every process that shares this limiter, so one worker's 429 slows them all instead of
   * each finding out with a 429 of its own. A shorter pause never shortens a longer one.
   */
  pause(key: string, ms: number): Promise<void>;
  /** What the limiter knows about `key` (for `outflow status`); null when it has not paced it lately. */
  state(key: string): Promise<LimiterState | null>;
  /** The state of every key the limiter paced lately. */
  states(): Promise<LimiterState[]>;
}

export interface LimiterState {
  key: string;
  /** `memory`: this process only (embedded mode); `redis`: shared by every process on the same Redis. */
  backend: 'memory' | 'redis';
  /** The rate the latest request under the key was paced at. */
  rate: Rate | null;
  /** How long a request asked for now would wait for its turn, the pause included; 0: it goes at once. */
  waitMs: number;
  /** Until when a vendor's 429 holds every request under the key; null when no pause is in force. */
  pausedUntil: Date | null;
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

/** What waiting for a cancelled run rejects with: the signal's reason, else a plain `cancelled`. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new OutflowError('cancelled', 'The run was cancelled.');
}

/** The gap between two requests at `rate`, shaved by `safety` (0.95: 5 % under the documented rate). */
export function intervalMs(rate: Rate, safety: number): number {
  if (!(rate.requests > 0) || !(rate.perMs > 0)) throw new RangeError(`A rate needs requests and perMs above 0 (got ${rate.requests} per ${rate.perMs} ms).`);
  return rate.perMs / (rate.requests * safety);
}

/** Every limiter shaves this much off the documented rate unless told otherwise. */
export const DEFAULT_SAFETY = 0.95;

/**
 * How late after its turn a request may still go. Turns are fixed in advance, so a request that wakes late
 * (a busy machine: timers fire tens of milliseconds late at a high load) lands closer to the next turn, and
 * enough lateness would put one request too many into a vendor's window. The safety margin leaves
 * `perMs / safety - perMs` of slack per window (~53 ms per second at 0.95); a request may use half of it, the
 * other half is for the network. Later than that, it takes a new turn (its old one stays unused).
 */
export function latenessToleranceMs(rate: Rate, safety: number): number {
  return (rate.perMs / safety - rate.perMs) / 2;
}

/** A request that keeps waking late still goes after this many new turns, rather than wait forever. */
export const MAX_LATE_RETURNS = 5;

interface Slot {
  /** When the next request may start (GCRA's "theoretical arrival time"), on the limiter's clock. */
  nextFree: number;
  pausedUntil: number;
  rate: Rate | null;
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
  const safety = options.safety ?? DEFAULT_SAFETY;
  const slots = new Map<string, Slot>();
  const slotOf = (key: string): Slot => {
    let slot = slots.get(key);
    if (!slot) slots.set(key, (slot = { nextFree: 0, pausedUntil: 0, rate: null }));
    return slot;
  };
  const describe = (key: string, slot: Slot): LimiterState => {
    const at = now();
    return {
      key,
      backend: 'memory',
      rate: slot.rate,
      waitMs: Math.max(0, slot.nextFree - at, slot.pausedUntil - at),
      pausedUntil: slot.pausedUntil > at ? new Date(Date.now() + (slot.pausedUntil - at)) : null,
    };
  };
  return {
    async acquire(key, rate, signal) {
      const interval = intervalMs(rate, safety);
      const tolerance = latenessToleranceMs(rate, safety);
      const slot = slotOf(key);
      for (let late = 0; ; ) {
        const at = Math.max(now(), slot.nextFree, slot.pausedUntil);
        slot.nextFree = at + interval;
        slot.rate = rate;
        const pauseSeen = slot.pausedUntil;
        const delay = at - now();
        if (delay <= 0) return;
        await wait(delay, signal);
        // A 429 while we waited: our turn may fall inside the pause, so take a new one after it (the old turn
        // is left unused, a gap rather than two requests at once).
        if (slot.pausedUntil !== pauseSeen) continue;
        if (now() - at > tolerance && ++late <= MAX_LATE_RETURNS) continue;
        return;
      }
    },
    async pause(key, ms) {
      const slot = slotOf(key);
      slot.pausedUntil = Math.max(slot.pausedUntil, now() + Math.max(0, ms));
    },
    async state(key) {
      const slot = slots.get(key);
      return slot ? describe(key, slot) : null;
    },
    async states() {
      return [...slots].map(([key, slot]) => describe(key, slot));
    },
  };
}
