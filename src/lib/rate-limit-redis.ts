import { Redis } from 'ioredis';
import { ConfigError, RetryableError } from '../domain/errors.ts';
import { abortError, DEFAULT_SAFETY, intervalMs, latenessToleranceMs, MAX_LATE_RETURNS, sleep, type LimiterState, type RateLimiter, type SleepFn } from './rate-limit.ts';

/**
 * The rate limiter of scale-out mode: one schedule per destination account in Redis, shared by every worker,
 * so N workers together keep the account's documented rate.
 *
 * It is the memory limiter's algorithm (GCRA with no burst: each request reserves the next free turn, one
 * interval after the previous one) run as one Lua script, which Redis executes atomically: there is no lock to
 * take or lose, and every turn is measured on Redis's clock (`TIME`), so the workers' clocks need not agree.
 * A worker is told how long to wait for its turn and sleeps locally; the wait costs Redis nothing.
 *
 * Why not rate-limiter-flexible's RateLimiterRedis (a fine library for what it does): it counts points in
 * windows of whole seconds (`EX`), and the points of a window may all go out at once. Two windows back to back
 * then put up to twice the limit into one second of a vendor's sliding window, and sub-second spacing (20/s
 * is one request every ~53 ms) cannot be expressed at all. Its `execEvenly` spreads a window only within one
 * process. The reservation below keeps the in-memory limiter's guarantee across processes: turns under one key
 * are never closer than `interval`, and a request goes at its turn or takes a new one (see
 * `latenessToleranceMs`), so no window of the vendor's, whatever its shape, sees more than the limit.
 *
 * Keys: one hash per limiter key, `<prefix><key>` with `next` (the next free turn, ms on Redis's clock),
 * `paused` (the end of a vendor-asked pause) and the latest rate; it expires an hour after it was last used.
 */
export interface RedisRateLimiterOptions {
  redis: Redis;
  /** Namespace of the limiter's keys; default `outflow:limiter:`. Tests use one of their own. */
  prefix?: string;
  /** Shaves this off the documented rate (default 0.95, as the memory limiter): jitter never pushes us over. */
  safety?: number;
  /** For messages: where Redis is (never the URL, which may hold a password). */
  where?: string;
  sleep?: SleepFn;
}

/** How long an idle key's schedule is kept, for `outflow status` to show the rate it was paced at. */
const IDLE_TTL_MS = 60 * 60_000;

// The scripts read Redis's clock. `redis.replicate_commands` makes that legal on Redis < 5 (a no-op since).
const CLOCK = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * KEYS[1] the schedule; ARGV interval ms, requests, perMs, idle ttl ms.
 * Returns { wait ms, the pause this turn was computed with } as strings (Lua numbers reach clients truncated).
 */
const ACQUIRE = `${CLOCK}
local state = redis.call('HMGET', KEYS[1], 'next', 'paused')
local paused = tonumber(state[2]) or 0
local at = math.max(now, tonumber(state[1]) or 0, paused)
local nextFree = at + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'next', string.format('%.3f', nextFree), 'requests', ARGV[2], 'perMs', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(nextFree, paused) - now + tonumber(ARGV[4])))
return { string.format('%.3f', at - now), state[2] or '' }
`;

/** KEYS[1] the schedule; ARGV pause ms, idle ttl ms. Only ever moves the end of a pause later. */
const PAUSE = `${CLOCK}
local untilMs = now + tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'next', 'paused')
local paused = tonumber(state[2]) or 0
if untilMs > paused then
  redis.call('HSET', KEYS[1], 'paused', string.format('%.3f', untilMs))
  paused = untilMs
end
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(tonumber(state[1]) or 0, paused) - now + tonumber(ARGV[2])))
return string.format('%.3f', paused - now)
`;

/** KEYS[1] the schedule. Returns { now, next, paused, requests, perMs }; empty when the key has no schedule. */
const STATE = `${CLOCK}
local state = redis.call('HMGET', KEYS[1], 'next', 'paused', 'requests', 'perMs')
if not state[1] and not state[2] then return {} end
return { string.format('%.3f', now), state[1] or '0', state[2] or '0', state[3] or '', state[4] or '' }
`;

interface LimiterCommands {
  outflowLimiterAcquire(key: string, interval: string, requests: string, perMs: string, ttl: string): Promise<[string, string]>;
  outflowLimiterPause(key: string, ms: string, ttl: string): Promise<string>;
  outflowLimiterState(key: string): Promise<string[]>;
}

export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const redis = options.redis as Redis & LimiterCommands;
  const prefix = options.prefix ?? 'outflow:limiter:';
  const safety = options.safety ?? DEFAULT_SAFETY;
  const wait = options.sleep ?? sleep;
  const where = options.where ?? 'Redis';
  /** The quickest round trip to Redis seen: the network's share of a reply's time, the rest is local delay. */
  let baseRtt = Number.POSITIVE_INFINITY;
  // ioredis fails a command that outlived its reconnection attempts with "Reached the max retries per request
  // limit"; the reason worth telling is the connection's own error (ECONNREFUSED, a wrong password…).
  let connectionError: string | undefined;
  redis.on('error', (error: Error) => (connectionError = error.message));
  redis.on('ready', () => (connectionError = undefined));
  // defineCommand sends EVALSHA and falls back to EVAL once after a Redis restart flushed the script cache.
  redis.defineCommand('outflowLimiterAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  redis.defineCommand('outflowLimiterPause', { numberOfKeys: 1, lua: PAUSE });
  redis.defineCommand('outflowLimiterState', { numberOfKeys: 1, lua: STATE });

  /**
   * Redis unreachable is a passing condition: a paced request fails with a RetryableError, and the run's retry
   * loop waits and tries again, within its budget.
   */
  const call = async <T>(what: string, command: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    try {
      return await raceAbort(command(), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RetryableError(
        'connection_lost',
        `The shared rate limiter could not ${what} in Redis at ${where} (${reason(error, connectionError)}). ` +
          'Check that Redis runs and that OUTFLOW_REDIS_URL points at it.',
        { cause: error },
      );
    }
  };

  const describe = async (key: string): Promise<LimiterState | null> => {
    const reply = await call('read the state of a key', () => redis.outflowLimiterState(prefix + key));
    if (reply.length === 0) return null;
    const [now, next, paused, requests, perMs] = reply.map(Number) as [number, number, number, number, number];
    return {
      key,
      backend: 'redis',
      rate: requests > 0 && perMs > 0 ? { requests, perMs } : null,
      waitMs: Math.max(0, next - now, paused - now),
      // Redis's clock turned into this process's, so the time shown agrees with the local one.
      pausedUntil: paused > now ? new Date(Date.now() + (paused - now)) : null,
    };
  };

  return {
    async acquire(key, rate, signal) {
      if (signal?.aborted) throw abortError(signal);
      const interval = String(intervalMs(rate, safety));
      const tolerance = latenessToleranceMs(rate, safety);
      for (let late = 0; ; ) {
        const sent = performance.now();
        const [delay, pauseSeen] = await call(
          'reserve a turn',
          () => redis.outflowLimiterAcquire(prefix + key, interval, String(rate.requests), String(rate.perMs), String(IDLE_TTL_MS)),
          signal,
        );
        const answered = performance.now();
        baseRtt = Math.min(baseRtt, answered - sent);
        // Our turn on this process's clock, had the answer taken the network's usual time; a busy process that
        // reads the answer late, or wakes late, sends late by the difference.
        const due = sent + baseRtt + Math.max(0, Number(delay));
        if (Number(delay) > 0) {
          // A worker got a 429 while we waited: our turn may fall inside its pause, so take a new turn after it
          // (the old one stays unused: a gap, never two requests at once). Only a turn we waited for is checked,
          // a round trip before it, so that the check does not make us late.
          await wait(due - baseRtt - performance.now(), signal);
          const pausedNow = await call('check for a pause', () => redis.hget(prefix + key, 'paused'), signal);
          if ((pausedNow ?? '') !== pauseSeen) continue;
          if (due > performance.now()) await wait(due - performance.now(), signal);
        }
        // Too late for the turn (see latenessToleranceMs): take a new one.
        if (performance.now() - due > tolerance && ++late <= MAX_LATE_RETURNS) continue;
        return;
      }
    },
    async pause(key, ms) {
      await call('share a pause', () => redis.outflowLimiterPause(prefix + key, String(Math.max(0, Math.ceil(ms))), String(IDLE_TTL_MS)));
    },
    state: describe,
    async states() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await call('list keys', () => redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 200));
        cursor = next;
        keys.push(...batch.map((k) => k.slice(prefix.length)));
      } while (cursor !== '0');
      const states = await Promise.all([...new Set(keys)].sort().map(describe));
      return states.filter((s): s is LimiterState => s !== null);
    },
  };
}

/**
 * The limiter of a process in scale-out mode: one ioredis connection for the whole process, opened on its
 * first use (a CLI command that sends nothing never connects) and closed with the home.
 */
export function openRedisRateLimiter(url: string, options: { prefix?: string; safety?: number } = {}): { limiter: RateLimiter; close(): Promise<void> } {
  const where = redisWhere(url);
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: 'outflow-limiter',
    // Fail a command after a few reconnection attempts (about a second) rather than queue it forever: the
    // request's own retry loop then waits and tries again, and a cancelled run is not stuck behind Redis.
    maxRetriesPerRequest: 3,
  });
  // The limiter listens for errors (so ioredis does not print each failed reconnection); they reach the caller.
  return {
    limiter: createRedisRateLimiter({ redis, where, ...options }),
    async close() {
      // QUIT lets commands in flight finish; a connection that is not up has none (and QUIT would wait for it).
      if (redis.status !== 'ready') {
        redis.disconnect();
        return;
      }
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}

/** `host:port` of a Redis URL, for messages; a URL that is not one is a setting to fix. */
export function redisWhere(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(
      'invalid_settings',
      'OUTFLOW_REDIS_URL must be a redis:// or rediss:// URL, for example redis://redis.internal:6379 (a password goes in redis://:password@host:6379). Unset it to run embedded with the in-process limiter.',
    );
  }
  return `${parsed.hostname || 'localhost'}:${parsed.port || '6379'}`;
}

function reason(error: unknown, connectionError: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return connectionError && /max retries per request/i.test(message) ? connectionError : message;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (the command itself is left to finish). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
