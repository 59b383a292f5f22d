import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryRateLimiter, type RateLimiter } from '../src/lib/rate-limit.ts';
import { createRedisRateLimiter } from '../src/lib/rate-limit-redis.ts';
import { busiestSecond, busiestWindow, runLimiterWorkers, startCountingServer } from '../test/support/limiter-fleet.ts';
import { BenchError, codeVersion, printTable } from './support.ts';

export const DEFAULT_LIMITER_RATE = 20;
export const DEFAULT_LIMITER_SECONDS = 10;

/**
 * The shared rate limiter (Redis): 1 vs 3 worker processes sending to one account through it for a while
 * (together they should reach the rate, not 3×, and no second above it), and what one uncontended acquire
 * costs next to the in-process limiter. Needs Redis at OUTFLOW_REDIS_URL (default redis://127.0.0.1:6379).
 */
export async function runLimiterBench(options: { rate: number; seconds: number }): Promise<boolean> {
  const redisUrl = process.env.OUTFLOW_REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  const prefix = `outflow-bench:limiter:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.ping();
  } catch (error) {
    throw new BenchError(`Redis at ${redisUrl} does not answer (${(error as Error).message}); start it or set OUTFLOW_REDIS_URL.`);
  }
  console.log(`limiter benchmark (${codeVersion()}): ${options.rate} req/s documented, ${options.seconds} s per run, 2 requests in flight per process\n`);
  let ok = true;
  try {
    const rows: string[][] = [];
    for (const processes of [1, 3]) {
      const server = await startCountingServer();
      try {
        const key = `connection:bench-${processes}`;
        const results = await runLimiterWorkers(
          Array.from({ length: processes }, (_, i) => ({
            name: `w${i + 1}`,
            redisUrl,
            prefix,
            key,
            requests: options.rate,
            perMs: 1000,
            url: server.url,
            durationMs: options.seconds * 1000,
            concurrency: 2,
          })),
        );
        const times = server.arrivals.map((a) => a.at).sort((a, b) => a - b);
        const span = (times.at(-1)! - times[0]!) / 1000;
        const throughput = (times.length - 1) / span;
        const perSecond = busiestSecond(times);
        const sliding = busiestWindow(times, 1000);
        if (results.some((r) => r.sent === 0)) ok = false;
        rows.push([
          String(processes),
          String(times.length),
          throughput.toFixed(2),
          `${((throughput / options.rate) * 100).toFixed(1)} %`,
          String(perSecond),
          String(sliding),
          results.map((r) => r.sent).join(' / '),
          perSecond <= options.rate ? 'met' : 'MISSED',
        ]);
      } finally {
        await server.close();
      }
    }
    printTable(['processes', 'requests', 'req/s', 'of limit', 'busiest second', 'busiest 1 s window', 'per process', 'never above limit'], rows);

    console.log('\nuncontended acquire (a rate no request waits for), 2,000 calls after 200 to warm up:\n');
    const memory = createMemoryRateLimiter();
    const shared = createRedisRateLimiter({ redis, prefix });
    const latency: string[][] = [];
    for (const [name, limiter] of [['memory', memory], ['redis', shared]] as Array<[string, RateLimiter]>) {
      const samples = await measureAcquire(limiter);
      latency.push([name, fmt(percentile(samples, 0.5)), fmt(percentile(samples, 0.99)), fmt(samples.reduce((a, b) => a + b, 0) / samples.length)]);
    }
    printTable(['limiter', 'p50 ms', 'p99 ms', 'mean ms'], latency);
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
  return ok;
}

async function measureAcquire(limiter: RateLimiter): Promise<number[]> {
  const rate = { requests: 1_000_000, perMs: 1000 };
  for (let i = 0; i < 200; i++) await limiter.acquire('connection:latency', rate);
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const start = performance.now();
    await limiter.acquire('connection:latency', rate);
    samples.push(performance.now() - start);
  }
  return samples;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const fmt = (ms: number) => ms.toFixed(3);
