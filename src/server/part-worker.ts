import fs from 'node:fs';
import path from 'node:path';
import { Worker, WaitingError, type Job } from 'bullmq';
import type { Home } from '../app/home.ts';
import { getDestination } from '../destinations/index.ts';
import { OutflowError } from '../domain/errors.ts';
import { stagePart } from '../engine/files.ts';
import { destinationContext, resolveConnectionConfig } from '../engine/services.ts';
import { partKeys, PARTS_QUEUE, type PartJob, type PartOutcome } from '../queue/parts.ts';
import { isRedisConnectionError, redisConnection, type QueueSettings } from '../queue/bull.ts';
import { getConnection } from '../store/metadata/connections.ts';
import { getExportById } from '../store/metadata/exports.ts';
import { getRun } from '../store/metadata/runs.ts';

/** How often a part reports its rows to the coordinator. */
const PROGRESS_MS = 1_000;

export interface PartWorkerOptions {
  /** Parts this process renders at once (`OUTFLOW_WORKER_PARTS`, default 2: one per core). */
  concurrency: number;
  lockMs: number;
  stalledCheckMs: number;
}

export interface PartWorker {
  /** Stops taking parts; the parts in progress stop and go back to the queue, for another worker. */
  drain(): Promise<void>;
}

/**
 * Every `outflow worker` renders parts of file runs, whoever coordinates them: it reads the run, its export
 * and connection from the metadata store, renders its part from the profile store (PostgreSQL `COPY … TO
 * STDOUT`, streamed through a FIFO and gzip) and stages it with the destination's sink under a temporary
 * name, as the file pipeline does for a part of its own. It renames nothing: the coordinator does, once every
 * part is staged. A part that fails removes what it staged and says why in its job's return value.
 */
export function createPartWorker(home: Home, settings: QueueSettings, id: string, options: PartWorkerOptions): PartWorker {
  const active = new Map<string, Set<AbortController>>();
  const redis = redisConnection(settings);
  const subscriber = redisConnection(settings);
  const connection = redisConnection(settings);
  let draining = false;

  void subscriber.subscribe(partKeys.abortChannel(settings)).catch((error: unknown) => home.log.error({ err: error }, 'could not subscribe to part aborts'));
  subscriber.on('message', (_channel: string, runId: string) => {
    for (const controller of active.get(runId) ?? []) controller.abort(new OutflowError('cancelled', 'The run stopped this part: it was cancelled or another part failed.'));
  });

  const render = async (job: Job<PartJob, PartOutcome>, signal: AbortSignal): Promise<PartOutcome> => {
    const { runId, plan } = job.data;
    const who = { worker: id, pid: process.pid };
    try {
      const run = await getRun(home.db, runId);
      if (run.status !== 'running' || (await redis.exists(partKeys.abort(settings, runId))) === 1) {
        return { ok: false, error: { code: 'cancelled', message: `Run ${runId} no longer wants this part (it is ${run.status}).` }, ...who };
      }
      const exp = await getExportById(home.db, run.exportId);
      const conn = await getConnection(home.db, home.box, run.connectionId);
      const destination = getDestination(conn.type);
      if (destination.export.kind !== 'files') throw new OutflowError('invalid_settings', `Connection "${conn.name}" does not take files.`);
      const kind = destination.export;
      const config = await resolveConnectionConfig(home, conn);
      // The sink's connection outlives a stop of the part: the part fails its upload, and the sink removes
      // the temporary file on that connection (an aborted context would have closed it first).
      const session = new AbortController();
      const ctx = destinationContext(home, conn, { signal: session.signal, warn: (message) => home.log.warn({ runId, file: plan.fileName }, message) });
      await home.profiles.useStreamingResources();
      signal.throwIfAborted();
      const sink = await kind.open(config, ctx, { tempTag: exp.id });
      const workDir = fs.mkdtempSync(path.join(home.tmpDir, `parts-${process.pid}-`));
      try {
        // The coordinator shows the rows as they stream (and its run is not taken for stalled): a pulse a second.
        let rows = 0;
        let sentAt = 0;
        const onRows = (n: number) => {
          rows += n;
          if (Date.now() - sentAt < PROGRESS_MS) return;
          sentAt = Date.now();
          void job.updateProgress({ rows }).catch(() => undefined);
        };
        const result = await stagePart(plan, { kind, connection: config, profiles: home.profiles, retry: home.retry, clock: home.retryClock, ctx: { signal, log: ctx.log }, onRows }, sink, workDir);
        // Retried parts leave temporary files a dropped connection could not remove.
        await sink.discard([]);
        home.log.info({ runId, file: plan.fileName, rows: result.rows }, 'part staged');
        return { ok: true, ...result, ...who };
      } catch (error) {
        await sink.discard([]);
        throw error;
      } finally {
        await sink.close().catch(() => {});
        fs.rmSync(workDir, { recursive: true, force: true });
      }
    } catch (error) {
      if (draining && signal.aborted) throw error;
      const failure = error instanceof OutflowError ? { code: error.code, message: error.message } : { code: 'internal' as const, message: `Unexpected error rendering ${plan.fileName}: ${error instanceof Error ? error.message : String(error)}.` };
      home.log.error({ runId, file: plan.fileName, code: failure.code }, failure.message);
      return { ok: false, error: failure, ...who };
    }
  };

  const worker = new Worker<PartJob, PartOutcome>(
    PARTS_QUEUE,
    async (job, token) => {
      const controller = new AbortController();
      if (draining) controller.abort(new OutflowError('interrupted', 'The worker was stopped.'));
      const set = active.get(job.data.runId) ?? new Set();
      set.add(controller);
      active.set(job.data.runId, set);
      try {
        return await render(job, controller.signal);
      } catch (error) {
        // Drained mid-part: what it staged is removed; the part goes back to the queue for another worker.
        if (draining) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        throw error;
      } finally {
        set.delete(controller);
        if (set.size === 0) active.delete(job.data.runId);
      }
    },
    {
      connection,
      prefix: settings.prefix,
      concurrency: options.concurrency,
      name: id,
      lockDuration: options.lockMs,
      stalledInterval: options.stalledCheckMs,
      maxStalledCount: 3,
    },
  );
  // A lost Redis connection is said once per outage (reportRedisOutages), not logged per reconnect attempt.
  worker.on('error', (error) => void (isRedisConnectionError(error) || home.log.error({ err: error }, 'part worker error')));

  let drained: Promise<void> | undefined;
  return {
    drain() {
      drained ??= (async () => {
        draining = true;
        const closing = worker.close();
        for (const set of active.values()) for (const controller of set) controller.abort(new OutflowError('interrupted', 'The worker was stopped (SIGTERM).'));
        await closing;
        redis.disconnect();
        subscriber.disconnect();
        connection.disconnect();
      })();
      return drained;
    },
  };
}
