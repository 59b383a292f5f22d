import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StagedFile } from '../destinations/kit/define.ts';
import { OutflowError, type ErrorCode } from '../domain/errors.ts';
import type { PartPlan, PartResult, PartRunner } from '../engine/files.ts';
import { redisConnection, type QueueSettings } from './bull.ts';

/**
 * The second BullMQ queue of a deployment: one job per part of a file run. The worker executing the run (the
 * coordinator) plans the parts, adds their jobs here and waits; every `outflow worker` process, the
 * coordinator's included, renders and stages parts from it (src/server/part-worker.ts). The coordinator then
 * stages the manifest and renames, exactly as a run that rendered its parts itself.
 */
export const PARTS_QUEUE = 'parts';
/** A part abort is remembered this long, for a part job a worker takes only after the abort was announced. */
const ABORT_TTL_S = 3600;

export interface PartJob {
  runId: string;
  plan: PartPlan;
}

/** What a part job returns: BullMQ keeps it, so whoever inspects the queue sees which worker rendered which part. */
export type PartOutcome =
  | { ok: true; rows: number; file: StagedFile; sha256: string; worker: string; pid: number }
  | { ok: false; error: { code: ErrorCode; message: string }; worker: string; pid: number };

export const partKeys = {
  /** Set when a run's parts must stop (the run was cancelled, or another part failed). */
  abort: (s: QueueSettings, runId: string) => `${s.prefix}:${PARTS_QUEUE}-abort:${runId}`,
  /** Where part aborts are announced to the workers rendering them. */
  abortChannel: (s: QueueSettings) => `${s.prefix}:${PARTS_QUEUE}-abort`,
};

/** Job options of a part: BullMQ's stalled-job check gives the part of a worker that died to another one. */
const PART_JOB_OPTIONS = {
  // A part that fails is retried inside its job, under the run's retry policy (as a local part is); a job
  // that fails outright is the run's failure.
  attempts: 1,
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 },
};

/**
 * The coordinator's side: one queue and one QueueEvents per worker process, shared by the file runs it
 * coordinates; `runner(runId)` is the PartRunner the file pipeline of one run calls.
 */
export class BullPartQueue {
  readonly queue: Queue<PartJob, PartOutcome>;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly eventsConnection: Redis;

  constructor(readonly settings: QueueSettings) {
    this.redis = redisConnection(settings);
    this.eventsConnection = redisConnection(settings);
    this.queue = new Queue<PartJob, PartOutcome>(PARTS_QUEUE, { connection: this.redis, prefix: settings.prefix });
    // Outages are reported once by the connections themselves (redisConnection).
    this.queue.on('error', () => undefined);
    this.events = new QueueEvents(PARTS_QUEUE, { connection: this.eventsConnection, prefix: settings.prefix });
    this.events.on('error', () => undefined);
    this.events.on('progress', ({ jobId, data }) => {
      if (typeof data === 'object' && data !== null && typeof (data as { rows?: unknown }).rows === 'number') this.progress.get(jobId)?.((data as { rows: number }).rows);
    });
  }

  /** Rows rendered so far by the part jobs this process waits for, as their workers report them. */
  private readonly progress = new Map<string, (rows: number) => void>();

  runner(runId: string, log?: { info(obj: object, msg: string): void }): PartRunner {
    return {
      // Every part at once: the workers' part concurrency, not the coordinator, decides how many render.
      parallel: Number.MAX_SAFE_INTEGER,
      run: async (plan, signal, onRows) => {
        const result = await this.runPart(runId, plan, signal, onRows);
        log?.info({ runId, file: plan.fileName, worker: result.worker, pid: result.pid }, 'part staged by a worker');
        return result;
      },
    };
  }

  /** Tells every worker rendering a part of `runId` to stop, and those that take one later not to start. */
  async abort(runId: string): Promise<void> {
    await this.redis.set(partKeys.abort(this.settings, runId), '1', 'EX', ABORT_TTL_S);
    await this.redis.publish(partKeys.abortChannel(this.settings), runId);
  }

  private async runPart(runId: string, plan: PartPlan, signal: AbortSignal, onRows: (rows: number) => void): Promise<PartResult & { worker: string; pid: number }> {
    signal.throwIfAborted();
    const job = await this.queue.add('part', { runId, plan }, PART_JOB_OPTIONS);
    // Progress counts from 0 again when the part starts over (another worker took it after a kill).
    let reported = 0;
    this.progress.set(job.id!, (rows) => {
      onRows(rows - reported);
      reported = rows;
    });
    let removed!: (reason: unknown) => void;
    const removal = new Promise<never>((_, reject) => (removed = reject));
    const onAbort = () => {
      void (async () => {
        await this.abort(runId);
        // A part no worker has taken yet goes at once; one in progress stops and its job ends (its worker
        // removes what it staged), and the wait below sees it end.
        if (await job.remove().then(() => true, () => false)) removed(signal.reason);
      })().catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    let outcome: PartOutcome;
    try {
      outcome = await Promise.race([job.waitUntilFinished(this.events) as Promise<PartOutcome>, removal]);
    } catch (error) {
      if (signal.aborted && error === signal.reason) throw error;
      // The job itself failed: its workers died more often than BullMQ allows (maxStalledCount).
      throw new OutflowError('internal', `Part ${plan.index} of ${plan.total} of "${plan.source.name}" could not be rendered: ${error instanceof Error ? error.message : String(error)}.`);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.progress.delete(job.id!);
    }
    // The exact count replaces the estimate.
    onRows((outcome.ok ? outcome.rows : 0) - reported);
    if (!outcome.ok) throw new OutflowError(outcome.error.code, outcome.error.message);
    return { rows: outcome.rows, file: outcome.file, sha256: outcome.sha256, worker: outcome.worker, pid: outcome.pid };
  }

  async close(): Promise<void> {
    await this.events.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
    this.eventsConnection.disconnect();
  }
}
