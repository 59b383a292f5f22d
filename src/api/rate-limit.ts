import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Redis } from 'ioredis';
import { ConfigError } from '../domain/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { problem, PROBLEM_JSON } from './errors.ts';

/**
 * API rate limits: at most `requests` per `windowSeconds` for each caller (its API token or browser session)
 * and for each client address, in fixed windows. A request over either gets 429 with `Retry-After`; every API
 * response says where the caller stands in the `RateLimit-Policy` and `RateLimit` fields of the IETF draft
 * (draft-ietf-httpapi-ratelimit-headers). One runaway script is slowed; everyone else keeps their share.
 *
 * Both limits are checked before the token or session is looked up, so a refused request costs a map lookup
 * (or one Redis round trip), never a database query.
 */
export interface ApiRateLimit {
  requests: number;
  windowSeconds: number;
}

export interface ApiRateLimits {
  /** Per API token or session; null: no limit. */
  caller: ApiRateLimit | null;
  /** Per client address (the TCP peer: behind a reverse proxy, the proxy); null: no limit. */
  address: ApiRateLimit | null;
}

/**
 * Defaults, sized so that the web app (a page load is ~10 requests, a live run is polled every second) and the CLI
 * (`--follow` polls every second) stay far below them, while a script looping as fast as it can is held to a
 * few dozen requests a second.
 */
export const DEFAULT_API_RATE_LIMITS: ApiRateLimits = {
  caller: { requests: 300, windowSeconds: 10 },
  address: { requests: 2000, windowSeconds: 10 },
};

/** Counts hits per key in the current window; shared by every server when they share Redis. */
export interface WindowCounter {
  /** Counts one hit of `key` in the window of `windowSeconds` holding now; returns the count and when the window ends. */
  hit(key: string, windowSeconds: number): Promise<{ count: number; resetMs: number }>;
}

/** Embedded mode: one server, counts in memory. */
export function memoryCounter(now: () => number = Date.now): WindowCounter {
  const counts = new Map<string, { window: number; size: number; count: number }>();
  let swept = 0;
  return {
    async hit(key, windowSeconds) {
      const t = now();
      const size = windowSeconds * 1000;
      const window = Math.floor(t / size);
      // Forget keys of past windows once a second, so a flood of distinct tokens cannot grow the map for ever.
      if (t - swept > 1000) {
        swept = t;
        for (const [k, v] of counts) if (v.window < Math.floor(t / v.size)) counts.delete(k);
      }
      let entry = counts.get(key);
      if (!entry || entry.window !== window) {
        entry = { window, size, count: 0 };
        counts.set(key, entry);
      }
      entry.count++;
      return { count: entry.count, resetMs: (window + 1) * size - t };
    },
  };
}

/** Several servers behind one address (OUTFLOW_REDIS_URL): one count per key in Redis, INCR per window. */
export function redisCounter(redis: Redis, prefix: string, now: () => number = Date.now): WindowCounter {
  return {
    async hit(key, windowSeconds) {
      const t = now();
      const size = windowSeconds * 1000;
      const window = Math.floor(t / size);
      const redisKey = `${prefix}:api-limit:${key}:${window}`;
      const result = await redis.multi().incr(redisKey).pexpire(redisKey, size * 2).exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      return { count, resetMs: (window + 1) * size - t };
    },
  };
}

/** Parses `300/10s`, `600/1m`, or `off`: a setting such as OUTFLOW_API_RATE_LIMIT_TOKEN. */
export function parseRateLimit(name: string, value: string | undefined, fallback: ApiRateLimit | null): ApiRateLimit | null {
  const text = value?.trim();
  if (!text) return fallback;
  if (/^(off|0)$/i.test(text)) return null;
  const match = /^(\d+)\s*\/\s*(\d+)?\s*(s|m)$/i.exec(text);
  const requests = match ? Number(match[1]) : NaN;
  const windowSeconds = match ? Number(match[2] ?? 1) * (match[3]!.toLowerCase() === 'm' ? 60 : 1) : NaN;
  if (!match || requests < 1 || windowSeconds < 1 || windowSeconds > 3600) {
    throw new ConfigError('invalid_settings', `${name} must be requests per window such as 300/10s or 600/1m (window 1 s to 60 m), or "off"; it is "${text}".`);
  }
  return { requests, windowSeconds };
}

export function rateLimitsFromEnv(env: NodeJS.ProcessEnv): ApiRateLimits {
  return {
    caller: parseRateLimit('OUTFLOW_API_RATE_LIMIT_TOKEN', env.OUTFLOW_API_RATE_LIMIT_TOKEN, DEFAULT_API_RATE_LIMITS.caller),
    address: parseRateLimit('OUTFLOW_API_RATE_LIMIT_ADDRESS', env.OUTFLOW_API_RATE_LIMIT_ADDRESS, DEFAULT_API_RATE_LIMITS.address),
  };
}

/** Who a request counts against: its bearer token or session cookie (hashed: keys may reach Redis), else nobody. */
function callerKey(authorization: string | undefined, session: string | undefined): string | null {
  const credential = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : session ? `session:${session}` : undefined;
  return credential ? createHash('sha256').update(credential).digest('base64url').slice(0, 22) : null;
}

export function rateLimitMiddleware(options: {
  limits: ApiRateLimits;
  counter: WindowCounter;
  sessionCookie: string;
  address: (c: Parameters<MiddlewareHandler>[0]) => string | undefined;
  log: Logger;
}): MiddlewareHandler {
  const { limits, counter } = options;
  const policy = [
    limits.caller ? `"token";q=${limits.caller.requests};w=${limits.caller.windowSeconds}` : null,
    limits.address ? `"address";q=${limits.address.requests};w=${limits.address.windowSeconds}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  return async (c, next) => {
    if (!policy) return next();
    const checks: Array<{ name: 'token' | 'address'; limit: ApiRateLimit; key: string }> = [];
    const caller = limits.caller ? callerKey(c.req.header('authorization'), getCookie(c, options.sessionCookie)) : null;
    if (limits.caller && caller) checks.push({ name: 'token', limit: limits.caller, key: `t:${caller}` });
    const address = options.address(c);
    if (limits.address && address) checks.push({ name: 'address', limit: limits.address, key: `a:${address}` });
    let results: Array<{ name: 'token' | 'address'; limit: ApiRateLimit; count: number; resetMs: number }>;
    try {
      results = await Promise.all(checks.map(async (check) => ({ ...check, ...(await counter.hit(check.key, check.limit.windowSeconds)) })));
    } catch (error) {
      // The shared counter is down (Redis): serve rather than refuse everyone; the queue reports Redis anyway.
      options.log.warn({ err: error }, 'API rate limit not checked: the counter is unavailable');
      return next();
    }
    const fields = results.map((r) => `"${r.name}";r=${Math.max(0, r.limit.requests - r.count)};t=${Math.ceil(r.resetMs / 1000)}`).join(', ');
    const over = results.filter((r) => r.count > r.limit.requests).sort((a, b) => b.resetMs - a.resetMs)[0];
    if (over) {
      const seconds = Math.max(1, Math.ceil(over.resetMs / 1000));
      const whose = over.name === 'token' ? 'this API token (or session)' : `the address ${address}`;
      const body = problem(
        429,
        'rate_limited',
        `Too many requests from ${whose}: at most ${over.limit.requests} every ${over.limit.windowSeconds} s. Try again in ${seconds} s (Retry-After). An administrator can change the limit with OUTFLOW_API_RATE_LIMIT_${over.name === 'token' ? 'TOKEN' : 'ADDRESS'}.`,
        { limit: over.name, retryAfterSeconds: seconds },
      );
      return c.json(body, 429, { 'Content-Type': PROBLEM_JSON, 'Retry-After': String(seconds), 'RateLimit-Policy': policy, RateLimit: fields });
    }
    // Set before the handler answers: added to a finished Response, each header copies its Headers.
    if (results.length > 0) {
      c.header('RateLimit-Policy', policy);
      c.header('RateLimit', fields);
    }
    await next();
  };
}
