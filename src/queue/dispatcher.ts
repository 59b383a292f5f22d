import type { Actor } from '../domain/model.ts';
import type { RunObserver } from '../engine/run-export.ts';

/** One process that executes runs: the server's own pool, or an `outflow worker`. */
export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  /** The runs it executes now. */
  runs: string[];
  startedAt: string;
  /** When it last said it was alive. */
  seenAt: string;
}

/** What `outflow status` shows of the run queue and the processes executing runs. */
export interface QueueStatus {
  mode: 'embedded' | 'distributed';
  queue: { waiting: number; active: number; delayed: number };
  workers: WorkerView[];
}

/**
 * Where `outflow serve` sends the runs it queues. Two implementations: the embedded pool (`RunManager`, runs
 * execute in the server process; no Redis) and the BullMQ queue (`BullRunQueue`, `outflow worker` processes on
 * any machine execute them). Either way the run record in the metadata store is the source of truth.
 */
export interface RunDispatcher {
  readonly mode: QueueStatus['mode'];
  /** A run was queued (status `queued` in the store): have it executed. */
  start(runId: string, actor: Actor, observer?: RunObserver): void;
  /**
   * Asks whoever executes the run to stop it; false when nobody does (a queued run: the caller cancels the
   * record itself). `status` is the run's status as the caller read it.
   */
  cancel(runId: string, status: 'queued' | 'running'): boolean | Promise<boolean>;
  /** Looks for queued runs it was not told about (queued by another server, or left by a crash). */
  pump(): void;
  /** Stops taking runs; runs this process executes stop at a batch boundary and stay resumable. */
  stopAll(): Promise<void>;
  status(): Promise<QueueStatus>;
  /** Null when runs can execute now (GET /readyz), else what is not up yet, in a few words. */
  notReady(): Promise<string | null>;
}
