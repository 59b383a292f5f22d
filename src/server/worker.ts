import { randomBytes } from 'node:crypto';
import { Worker, WaitingError, type Job } from 'bullmq';
import os from 'node:os';
import { openHome, type Home, type OpenHomeOptions } from '../app/home.ts';
import { queueResume } from '../app/exports.ts';
import { reapStaleRuns, runActor } from '../app/runs.ts';
import { ConfigError, ConflictError, NotFoundError, OutflowError } from '../domain/errors.ts';
import { executeRun, HEARTBEAT_MS, STALE_AFTER_MS } from '../engine/run-export.ts';
import { sleep } from '../lib/rate-limit.ts';
import { getRun, transitionRun } from '../store/metadata/runs.ts';
import { BullRunQueue, describeProcess, isRedisConnectionError, keys, QUEUE_NAME, queueSettings, redisConnection, type QueueSettings, type RunJob } from '../queue/bull.ts';
import type { WorkerView } from '../queue/dispatcher.ts';
import { BullPartQueue } from '../queue/parts.ts';
import { createPartWorker } from './part-worker.ts';

/** How often a worker renews its key in Redis (what `outflow status` lists); the key lives three beats. */
const PRESENCE_MS = 5_000;
/**
 * BullMQ's job lock: renewed every half of it; a killed worker's job is found stalled by the next check after
 * it expires. 8 s with a check every ~3 s: another worker takes a killed worker's run over within ~12 s.
 */
export const DEFAULT_LOCK_MS = 8_000;
/** How often a worker looks again at a run another process still holds (its heartbeat is fresh). */
const WAIT_POLL_MS = 1_000;

export interface RunWorkerOptions {
  concurrency?: number;
  /**
   * BullMQ's job lock: a worker that stops renewing it for this long (killed, machine lost) has its job moved
   * back to the queue by the stalled-job check of the other workers. `OUTFLOW_WORKER_LOCK_MS`, default 8 s.
   */
  lockMs?: number;
  /** How often each worker checks for stalled jobs; default: `OUTFLOW_WORKER_STALLED_CHECK_MS`, else 40 % of the lock (3.2 s). */
  stalledCheckMs?: number;
  /** Parts of file runs (any worker's) this process renders at once; default `OUTFLOW_WORKER_PARTS`, else 2. */
  partConcurrency?: number;
}

export interface RunWorker {
  id: string;
  /** Runs executing now. */
  readonly running: string[];
  /**
   * Stops taking runs; the running ones stop at a batch boundary with their checkpoint saved and their jobs
   * go back to the queue, where another worker continues them.
   */
  drain(): Promise<void>;
}

/** What a job ended with (BullMQ keeps it as the job's return value, for whoever inspects the queue). */
type JobOutcome = { status: string } | { resumedAs: string } | { gone: true };

/** The drain's abort reason: executeRun records the run `interrupted`, checkpoint kept, and a worker resumes it. */
const drainReason = () =>
  Object.assign(new OutflowError('interrupted', 'The worker executing this run was stopped (SIGTERM) and handed it back to the queue.'), {
    resumedBy: 'Another worker resumes it from its checkpoint',
  });

/**
 * The processes behind `outflow worker`: BullMQ workers that take run ids from the queue and execute them with
 * the same `executeRun` as the embedded pool. The run record in PostgreSQL stays the source of truth, so the
 * processor first reads it and does what its state calls for:
 * - `queued`: execute it (a cancel asked for meanwhile cancels it instead);
 * - `running` with a fresh heartbeat: another process holds it (it lost its job lock but lives); wait;
 * - `running` with a stale heartbeat: its worker died (SIGKILL, lost machine) and BullMQ's stalled-job check
 *   gave the job to us: mark it interrupted, as the server's crash recovery does, and go on;
 * - `failed` / `interrupted`: resume it from its checkpoint as a new run (trigger `recovery`, linked by
 *   `resumedFrom`, queued as its own job) exactly as `outflow serve` recovers runs after a crash: nothing is
 *   skipped and at most the batches in flight when it died are sent again;
 * - anything else: it already ended; nothing to do.
 */
export function createRunWorker(home: Home, settings: QueueSettings, options: RunWorkerOptions = {}): RunWorker {
  const env = process.env;
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const lockMs = options.lockMs ?? positiveMs(env, 'OUTFLOW_WORKER_LOCK_MS') ?? DEFAULT_LOCK_MS;
  const stalledCheckMs = options.stalledCheckMs ?? positiveMs(env, 'OUTFLOW_WORKER_STALLED_CHECK_MS') ?? Math.max(1_000, Math.floor(lockMs / 2.5));
  // A job that came back after its lock expired was not renewed for `lockMs`: its worker is dead or frozen,
  // and the run's heartbeat (every HEARTBEAT_MS) is as old. Waiting for the full STALE_AFTER_MS on top of the
  // lock would leave the run unattended for twice as long.
  const deadAfterMs = Math.max(HEARTBEAT_MS + 2_000, Math.min(STALE_AFTER_MS, lockMs));
  const startedAt = new Date().toISOString();
  const active = new Map<string, AbortController>();
  const system = { name: 'outflow', role: 'admin' as const, via: 'api' as const };
  let draining = false;

  const redis = redisConnection(settings);
  const subscriber = redisConnection(settings);
  const producer = new BullRunQueue(home, settings, { poll: false });
  // File runs this worker executes hand their parts to every worker (this one included) through the parts queue.
  const partQueue = new BullPartQueue(settings);
  const parts = createPartWorker(home, settings, id, {
    concurrency: options.partConcurrency ?? positiveCount(env, 'OUTFLOW_WORKER_PARTS') ?? 2,
    lockMs,
    stalledCheckMs,
  });
  const services = { ...home, fileParts: (runId: string) => partQueue.runner(runId, home.log) };

  // Cancels reach the worker that executes the run within a publish: it aborts the run, which ends `cancelled`.
  void subscriber.subscribe(keys.cancelChannel(settings)).catch((error: unknown) => home.log.error({ err: error }, 'could not subscribe to cancels'));
  subscriber.on('message', (_channel: string, runId: string) => active.get(runId)?.abort(new Error('cancelled')));

  const presence = async () => {
    const view: WorkerView = { ...describeProcess(id, concurrency, startedAt), runs: [...active.keys()], seenAt: new Date().toISOString() };
    await redis.set(keys.worker(settings, id), JSON.stringify(view), 'PX', PRESENCE_MS * 3);
  };
  const beat = () => void presence().catch((error: unknown) => home.log.warn({ err: error }, 'could not renew the worker key in Redis'));
  const presenceTimer = setInterval(beat, PRESENCE_MS);
  beat();

  const cancelRequested = async (runId: string) => (await redis.exists(keys.cancel(settings, runId))) === 1;

  /** Puts the job back in the queue for another worker (BullMQ: moveToWait, then WaitingError). */
  const handBack = async (job: Job<RunJob>, token: string | undefined): Promise<never> => {
    await job.moveToWait(token);
    throw new WaitingError();
  };

  const handle = async (job: Job<RunJob>, token: string | undefined, controller: AbortController): Promise<JobOutcome> => {
    const runId = job.data.runId;
    for (;;) {
      if (draining) return handBack(job, token);
      let run;
      try {
        run = await getRun(home.db, runId);
      } catch (error) {
        if (error instanceof NotFoundError) return { gone: true };
        throw error;
      }
      if (run.status === 'queued') {
        if (await cancelRequested(runId)) {
          await transitionRun(home.db, runId, 'cancelled', { error: { code: 'cancelled', message: 'The run was cancelled while it waited in the queue; nothing was sent.' } }).catch(ignoreConflict);
          continue;
        }
        let ended;
        try {
          ended = await executeRun(services, runId, await runActor(home, run.startedBy), {}, controller.signal);
        } catch (error) {
          // Cancelled or taken while we started it: read the record again.
          if (error instanceof ConflictError) continue;
          throw error;
        }
        if (draining && ended.status === 'failed' && ended.error?.code === 'interrupted') return handBack(job, token);
        return { status: ended.status };
      }
      if (run.status === 'running') {
        const row = await home.db.selectFrom('runs').select('heartbeat_at').where('id', '=', runId).executeTakeFirst();
        const beatAt = row?.heartbeat_at ? Date.parse(row.heartbeat_at) : 0;
        if (Date.now() - beatAt < deadAfterMs) {
          await sleep(WAIT_POLL_MS, controller.signal).catch(() => {});
          continue;
        }
        if (await cancelRequested(runId)) {
          await transitionRun(home.db, runId, 'cancelled', { error: { code: 'cancelled', message: 'The run was cancelled after the worker executing it had stopped; what it sent stays at the destination.' } }).catch(ignoreConflict);
          continue;
        }
        // Its worker is gone: mark it interrupted and queue the run that continues it from its checkpoint in one
        // transaction, so that no reader ever sees it failed without the run that takes it over.
        const next = await home.db.transaction().execute(async (db) => {
          const scoped = { ...home, db, actor: system };
          if ((await reapStaleRuns(scoped, deadAfterMs, runId, { takeover: true })).length === 0) return null;
          try {
            return await queueResume(scoped, runId, 'recovery');
          } catch (error) {
            // Superseded, another run of the export active, or the export is gone: it stays interrupted.
            if (!(error instanceof OutflowError)) throw error;
            home.log.info({ runId, code: error.code }, `not resuming run: ${error.message}`);
            return null;
          }
        });
        if (next) {
          await producer.enqueue(next.id);
          home.log.info({ runId, resumedAs: next.id }, 'took over a run whose worker died; resuming it from its checkpoint');
          return { resumedAs: next.id };
        }
        continue;
      }
      if (run.status === 'failed' && run.error?.code === 'interrupted' && !(await cancelRequested(runId))) {
        try {
          const next = await queueResume({ ...home, actor: system }, runId, 'recovery');
          await producer.enqueue(next.id);
          home.log.info({ runId, resumedAs: next.id }, 'resuming an interrupted run from its checkpoint');
          return { resumedAs: next.id };
        } catch (error) {
          // Already resumed, superseded, another run of the export active, or the export is gone.
          if (!(error instanceof OutflowError)) throw error;
          home.log.info({ runId, code: error.code }, `not resuming run: ${error.message}`);
        }
      }
      return { status: run.status };
    }
  };

  // BullMQ leaves connections it was given open on close: this one is closed by the drain.
  const connection = redisConnection(settings);
  const worker = new Worker<RunJob, JobOutcome>(
    QUEUE_NAME,
    async (job, token) => {
      const runId = job.data.runId;
      const controller = new AbortController();
      if (draining) controller.abort(drainReason());
      active.set(runId, controller);
      beat();
      try {
        return await handle(job, token, controller);
      } finally {
        active.delete(runId);
        beat();
      }
    },
    {
      connection,
      prefix: settings.prefix,
      concurrency,
      name: id,
      lockDuration: lockMs,
      stalledInterval: stalledCheckMs,
      // A run that kills its worker again and again (say, out of memory) fails its job after this many.
      maxStalledCount: 5,
    },
  );
  // A lost Redis connection is said once per outage (reportRedisOutages), not logged per reconnect attempt.
  worker.on('error', (error) => void (isRedisConnectionError(error) || home.log.error({ err: error }, 'queue worker error')));
  worker.on('failed', (job, error) => home.log.error({ runId: job?.data.runId, err: error }, 'run job failed'));

  let drained: Promise<void> | undefined;
  return {
    id,
    get running() {
      return [...active.keys()];
    },
    drain() {
      drained ??= (async () => {
        draining = true;
        clearInterval(presenceTimer);
        // Stop fetching first, then stop the runs at a batch boundary; each hands its job back.
        const closing = worker.close();
        for (const controller of active.values()) controller.abort(drainReason());
        await closing;
        await parts.drain();
        await partQueue.close();
        await redis.del(keys.worker(settings, id)).catch(() => {});
        await producer.stopAll();
        redis.disconnect();
        subscriber.disconnect();
        connection.disconnect();
      })();
      return drained;
    },
  };
}

function ignoreConflict(error: unknown): void {
  if (!(error instanceof ConflictError)) throw error;
}

function positiveCount(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError('invalid_settings', `${name} must be a whole number above 0 (it is "${value}").`);
  return n;
}

function positiveMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError('invalid_settings', `${name} must be a whole number of milliseconds above 0 (it is "${value}").`);
  return ms;
}

export interface StartedWorker extends RunWorker {
  home: Home;
  /** Drains, then closes the home. */
  close(): Promise<void>;
}

/**
 * `outflow worker`: checks the deployment is a scale-out one (queue in Redis, run records in PostgreSQL, a
 * shared profile store), opens the home and starts executing runs from the queue.
 */
export async function startWorker(options: OpenHomeOptions & RunWorkerOptions = {}): Promise<StartedWorker> {
  const env = options.env ?? process.env;
  const settings = queueSettings(env);
  if (!settings) {
    throw new ConfigError(
      'invalid_settings',
      '`outflow worker` executes runs from a queue in Redis: set OUTFLOW_REDIS_URL=redis://… and OUTFLOW_DATABASE_URL=postgres://…, the same as for `outflow serve`. On a single machine no worker is needed: `outflow serve` executes runs itself.',
    );
  }
  if (!env.OUTFLOW_PROFILES_URL?.trim()) {
    throw new ConfigError(
      'invalid_settings',
      '`outflow worker` needs a profile store every machine can reach: set OUTFLOW_PROFILES_URL=postgres://… (for the server too). The default DuckDB file in the home takes one writing process, which is the server; workers cannot share it.',
    );
  }
  const home = await openHome({ ...options, actor: { name: 'outflow', role: 'admin', via: 'api' }, service: true });
  const worker = createRunWorker(home, settings, options);
  let closing: Promise<void> | undefined;
  return {
    ...worker,
    get running() {
      return worker.running;
    },
    home,
    close() {
      closing ??= (async () => {
        await worker.drain();
        await home.close();
      })();
      return closing;
    },
  };
}
