import os from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ConfigError } from '../domain/errors.ts';
import type { Home } from '../app/home.ts';
import type { QueueStatus, RunDispatcher, WorkerView } from './dispatcher.ts';

/** The BullMQ queue every server and worker of one deployment shares. Its jobs carry a run id, nothing else. */
export const QUEUE_NAME = 'runs';
/** A cancel is remembered this long, for a worker that picks the run up only later (after a crash). */
const CANCEL_TTL_S = 24 * 3600;
/** How often a server looks for queued runs that have no job (queued while Redis was away, or by another process). */
const POLL_MS = 5_000;

export interface QueueSettings {
  redisUrl: string;
  /** Namespaces every Redis key of the deployment (BullMQ's `prefix`); `OUTFLOW_QUEUE_PREFIX`, default `outflow`. */
  prefix: string;
}

/**
 * The scale-out settings, or null in embedded mode (no `OUTFLOW_REDIS_URL`). Runs then go through Redis, and
 * the processes that execute them, on other machines, must share the run records: the metadata store must be
 * PostgreSQL. The URLs are never repeated in a message: they can hold passwords.
 */
export function queueSettings(env: NodeJS.ProcessEnv = process.env): QueueSettings | null {
  const redisUrl = env.OUTFLOW_REDIS_URL?.trim();
  if (!redisUrl) return null;
  if (!/^rediss?:\/\//i.test(redisUrl)) {
    throw new ConfigError('invalid_settings', 'OUTFLOW_REDIS_URL must be a redis:// or rediss:// URL (for example redis://redis.internal:6379), or unset to run every export inside `outflow serve`.');
  }
  const database = env.OUTFLOW_DATABASE_URL?.trim();
  if (!database || !/^postgres(ql)?:\/\//i.test(database)) {
    throw new ConfigError(
      'invalid_settings',
      'OUTFLOW_REDIS_URL is set, so runs go through a queue that workers on other machines take them from; the server and every worker must then share the run records in PostgreSQL. Set OUTFLOW_DATABASE_URL=postgres://… (the same database everywhere), or unset OUTFLOW_REDIS_URL to run every export inside `outflow serve`.',
    );
  }
  const prefix = env.OUTFLOW_QUEUE_PREFIX?.trim() || 'outflow';
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new ConfigError('invalid_settings', `OUTFLOW_QUEUE_PREFIX may hold letters, digits, "_", "." and "-" only (it is "${prefix}").`);
  return { redisUrl, prefix };
}

/**
 * A Redis connection as BullMQ wants it: commands wait for a reconnect instead of failing after 20 tries.
 * Its errors are reported by `reportRedisOutages`: without a listener, ioredis printed "[ioredis] Unhandled
 * error event" and a stack trace for every reconnect attempt while Redis was down.
 */
export function redisConnection(settings: QueueSettings): Redis {
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  reportRedisOutages(redis, settings.redisUrl);
  return redis;
}

/** Whether this process has said Redis is down (one line per outage, whichever of its connections noticed). */
let redisDown = false;

/**
 * Says once on standard error that Redis cannot be reached (and once that it is back), for every connection of
 * this process together: reconnect attempts go on silently in between. Nothing is lost meanwhile: commands
 * wait for the reconnect, runs wait in the queue. The line names the host and port, never the password.
 */
export function reportRedisOutages(redis: Redis, redisUrl: string, write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): void {
  const where = redisWhere(redisUrl);
  redis.on('error', (error: NodeJS.ErrnoException) => {
    if (redisDown) return;
    redisDown = true;
    const why = error.code ?? error.message.split('\n')[0];
    write(`Redis at ${where} cannot be reached (${why}); retrying in the background. Queued runs wait, and nothing is lost; check that Redis is running and OUTFLOW_REDIS_URL.`);
  });
  redis.on('ready', () => {
    if (!redisDown) return;
    redisDown = false;
    write(`Redis at ${where} is reachable again.`);
  });
}

/** A Redis connection failing (down, unreachable, reset): reported once per outage by `reportRedisOutages`. */
export function isRedisConnectionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code ?? '');
}

function redisWhere(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    return `${url.hostname}:${url.port || 6379}`;
  } catch {
    return 'OUTFLOW_REDIS_URL';
  }
}

export const keys = {
  /** One key per live worker (JSON {@link WorkerView}), with a TTL its heartbeat renews. */
  worker: (s: QueueSettings, id: string) => `${s.prefix}:${QUEUE_NAME}-workers:${id}`,
  workers: (s: QueueSettings) => `${s.prefix}:${QUEUE_NAME}-workers:*`,
  /** Set when a run is cancelled, so a worker that takes it up later (after a crash) does not resume it. */
  cancel: (s: QueueSettings, runId: string) => `${s.prefix}:${QUEUE_NAME}-cancel:${runId}`,
  /** Where cancels are announced to the worker that executes the run. */
  cancelChannel: (s: QueueSettings) => `${s.prefix}:${QUEUE_NAME}-cancel`,
};

export interface RunJob {
  runId: string;
}

/** Job options: the job id is the run id, so queueing a run twice (a retry, the poll) makes one job. */
export function jobOptions(runId: string) {
  return {
    jobId: runId,
    // A worker that fails unexpectedly (metadata store unreachable) gives the run back; the processor reads the
    // run record first, so a retry never repeats work the record says is done.
    attempts: 5,
    backoff: { type: 'exponential' as const, delay: 5_000 },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 1000 },
  };
}

/**
 * The server's side of the queue: it enqueues the runs it queues (API, scheduler) and asks workers to cancel.
 * `outflow worker` processes execute them (src/server/worker.ts).
 */
export class BullRunQueue implements RunDispatcher {
  readonly mode = 'distributed' as const;
  readonly queue: Queue<RunJob>;
  private readonly redis: Redis;
  private readonly timer: NodeJS.Timeout | null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly home: Pick<Home, 'db' | 'log'>,
    readonly settings: QueueSettings,
    options: { poll?: boolean } = {},
  ) {
    this.redis = redisConnection(settings);
    this.queue = new Queue<RunJob>(QUEUE_NAME, { connection: this.redis, prefix: settings.prefix });
    // The connection's own listener reports an outage once; BullMQ re-emits each reconnect error here.
    this.queue.on('error', () => undefined);
    this.timer = options.poll === false ? null : setInterval(() => this.pump(), POLL_MS);
    this.timer?.unref();
  }

  start(runId: string): void {
    this.enqueue(runId).catch((error: unknown) => this.home.log.error({ runId, err: error }, 'could not queue the run in Redis; the server retries within seconds'));
  }

  async enqueue(runId: string): Promise<void> {
    await this.queue.add('run', { runId }, jobOptions(runId));
  }

  /** Queued runs without a job (queued while Redis was unreachable, or by a process that died before adding it) get one. */
  pump(): void {
    if (this.stopped || this.polling) return;
    this.polling = (async () => {
      const queued = await this.home.db.selectFrom('runs').select('id').where('status', '=', 'queued').orderBy('queued_at').limit(1000).execute();
      for (const { id } of queued) await this.enqueue(id);
    })()
      .catch((error: unknown) => this.home.log.error({ err: error }, 'could not hand queued runs to the queue'))
      .finally(() => {
        this.polling = null;
      });
  }

  async cancel(runId: string, status: 'queued' | 'running'): Promise<boolean> {
    await this.redis.set(keys.cancel(this.settings, runId), '1', 'EX', CANCEL_TTL_S);
    if (status === 'queued') {
      // No worker has it yet: the caller cancels the record, and the job goes (a worker that takes it meanwhile
      // finds the run cancelled, or the caller's cancel fails and it asks again with `running`).
      await (await this.queue.getJob(runId))?.remove().catch(() => {});
      return false;
    }
    await this.redis.publish(keys.cancelChannel(this.settings), runId);
    return true;
  }

  async notReady(): Promise<string | null> {
    if (this.stopped) return 'the server is stopping';
    return this.redis.status === 'ready' ? null : `the queue's Redis connection is ${this.redis.status}`;
  }

  async status(): Promise<QueueStatus> {
    return { mode: 'distributed', ...(await readQueueStatus(this.queue, this.redis, this.settings)) };
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await this.queue.close();
    this.redis.disconnect();
  }
}

/** Queue depth and the workers whose heartbeat key is alive. */
export async function readQueueStatus(queue: Queue, redis: Redis, settings: QueueSettings): Promise<Omit<QueueStatus, 'mode'>> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  const workers: WorkerView[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.workers(settings), 'COUNT', 100);
    cursor = next;
    const values = found.length > 0 ? await redis.mget(...found) : [];
    for (const value of values) {
      if (!value) continue;
      try {
        workers.push(JSON.parse(value) as WorkerView);
      } catch {
        // Not ours.
      }
    }
  } while (cursor !== '0');
  workers.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  return { queue: { waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0), active: counts.active ?? 0, delayed: counts.delayed ?? 0 }, workers };
}

/** The identity a worker reports in `outflow status`. */
export function describeProcess(id: string, concurrency: number, startedAt: string): Omit<WorkerView, 'runs' | 'seenAt'> {
  return { id, host: os.hostname(), pid: process.pid, concurrency, startedAt };
}
