/**
 * One "worker" process for the shared rate limiter's tests and benchmark: it sends GET requests to a URL through
 * the real HTTP client (paced by the Redis limiter) inside the engine's real retry loop, for a while, with a few
 * requests in flight, like the record pipeline does. Started as `node --import tsx test/support/limiter-worker.ts`
 * with its settings as one JSON argument; prints `ready` once Redis answers, starts on a `go` line on stdin,
 * and prints one JSON line of results at the end.
 */
import readline from 'node:readline';
import { createHttpClient, classifyHttp } from '../../src/destinations/kit/http.ts';
import { createTestContext } from '../../src/destinations/kit/testing.ts';
import { withRetry } from '../../src/engine/retry.ts';
import type { RateLimiter } from '../../src/lib/rate-limit.ts';
import { openRedisRateLimiter } from '../../src/lib/rate-limit-redis.ts';

export interface LimiterWorkerSettings {
  name: string;
  redisUrl: string;
  prefix: string;
  key: string;
  requests: number;
  perMs: number;
  url: string;
  /** How long to keep sending. */
  durationMs: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface LimiterWorkerResult {
  name: string;
  sent: number;
  throttled: number;
  /** Epoch ms at which each request left the limiter. */
  released: number[];
}

const settings = JSON.parse(process.argv[2]!) as LimiterWorkerSettings;
const { limiter, close } = openRedisRateLimiter(settings.redisUrl, { prefix: settings.prefix });
const released: number[] = [];
// Notes when each request leaves the limiter, to check the limiter's spacing apart from network jitter.
const paced: RateLimiter = {
  ...limiter,
  async acquire(key, rate, signal) {
    await limiter.acquire(key, rate, signal);
    released.push(Date.now());
  },
};
const ctx = createTestContext({ limiter: paced, limiterKey: settings.key });
const rate = { requests: settings.requests, perMs: settings.perMs };
const http = createHttpClient({ vendor: 'Fake', baseUrl: settings.url, ctx, rate });
let sent = 0;
let throttled = 0;

// Connect to Redis and warm up the HTTP stack (a process's first fetch loads and compiles undici, tens of
// milliseconds that would delay one request past its turn), as in a worker that has been running a while.
await limiter.state(settings.key);
await (await fetch(`${settings.url}/warm`)).text();
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  const lines = readline.createInterface({ input: process.stdin });
  let started = false;
  lines.on('line', (line) => {
    if (line.trim() === 'go') {
      started = true;
      lines.close();
      resolve();
    }
  });
  // The test that started us is gone: do not linger on the open Redis connection.
  lines.on('close', () => {
    if (!started) process.exit(1);
  });
});

const end = Date.now() + settings.durationMs;
const loop = async () => {
  while (Date.now() < end) {
    await withRetry(
      async () => {
        const res = await http.request('GET', '/hit', { headers: { 'x-worker': settings.name } });
        if (!res.ok) {
          throttled++;
          throw classifyHttp(res, { vendor: 'Fake', connection: settings.key });
        }
        sent++;
      },
      { budgetMs: 60_000, baseMs: 10, maxMs: 100, maxRetryAfterMs: 60_000 },
      // What the record pipeline does (src/engine/records.ts): a 429 holds the account for every worker.
      { onThrottled: (ms) => limiter.pause(settings.key, ms) },
    );
  }
};
await Promise.all(Array.from({ length: settings.concurrency }, loop));
await close();
const result: LimiterWorkerResult = { name: settings.name, sent, throttled, released };
// Exit at once: fetch's keep-alive sockets would hold the process for seconds more.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
