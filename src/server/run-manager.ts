import { executeRun, type RunObserver } from '../engine/run-export.ts';
import { ConflictError, OutflowError } from '../domain/errors.ts';
import type { Actor, Run } from '../domain/model.ts';
import type { Home } from '../app/home.ts';
import { runActor } from '../app/runs.ts';
import { describeProcess } from '../queue/bull.ts';
import type { QueueStatus, RunDispatcher } from '../queue/dispatcher.ts';

interface ActiveRun {
  controller: AbortController;
  done: Promise<Run | null>;
}

export const DEFAULT_CONCURRENCY = 2;
/** How often the pool looks for queued runs it was not told about (another server on the same database). */
const POLL_MS = 5_000;

/**
 * The worker pool of `outflow serve`. The queue is durable and needs no queue library: it is the run records
 * with status `queued` in the metadata store. The pool executes at most `concurrency` of them at once, oldest
 * first; the others wait `queued` (and survive a restart, which picks them up again). The API answers with the
 * run's id at once and clients read progress from the run record. Each run's AbortController is kept so a
 * cancel or a shutdown can stop it cleanly (staged files removed, counts exact, the checkpoint kept).
 */
export class RunManager implements RunDispatcher {
  readonly mode = 'embedded' as const;
  private readonly startedAt = new Date().toISOString();
  private readonly active = new Map<string, ActiveRun>();
  /** Who asked for a run, for runs queued through this process (others run as their recorded user). */
  private readonly actors = new Map<string, Actor>();
  private readonly observers = new Map<string, RunObserver>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  readonly concurrency: number;

  constructor(
    private readonly home: Home,
    private readonly hooks: { onFinished?: (run: Run) => void; concurrency?: number } = {},
  ) {
    this.concurrency = Math.max(1, hooks.concurrency ?? DEFAULT_CONCURRENCY);
    this.timer = setInterval(() => this.pump(), POLL_MS);
    this.timer.unref();
  }

  /** A run was queued: executes it now if the pool has room, else when a running one ends. */
  start(runId: string, actor: Actor, observer: RunObserver = {}): void {
    this.actors.set(runId, actor);
    this.observers.set(runId, observer);
    this.pump();
  }

  /** Fills the pool from the queue, oldest first. Safe to call at any time; calls never overlap. */
  pump(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.again = false;
        await this.fill().catch((error: unknown) => this.home.log.error({ err: error }, 'could not read the run queue'));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.pumping = null;
    });
  }

  private async fill(): Promise<void> {
    const room = this.concurrency - this.active.size;
    if (room <= 0) return;
    const queued = await this.home.db
      .selectFrom('runs')
      .select(['id', 'started_by'])
      .where('status', '=', 'queued')
      .orderBy('queued_at')
      .orderBy('id')
      .limit(this.concurrency + this.active.size)
      .execute();
    for (const { id, started_by } of queued) {
      if (this.stopped || this.active.size >= this.concurrency) return;
      if (this.active.has(id)) continue;
      this.launch(id, this.actors.get(id) ?? (await runActor(this.home, started_by)));
    }
  }

  private launch(runId: string, actor: Actor): void {
    const controller = new AbortController();
    const observer = this.observers.get(runId) ?? {};
    const done = executeRun(this.home, runId, actor, observer, controller.signal)
      .then((run) => {
        this.hooks.onFinished?.(run);
        return run;
      })
      .catch((error: unknown) => {
        // Cancelled while queued, or taken by another server: not ours to run.
        if (error instanceof ConflictError) return null;
        // executeRun records its own failures on the run; nothing is left to handle here.
        this.home.log.error({ runId, err: error }, 'run ended with an unexpected error');
        return null;
      })
      .finally(() => {
        this.active.delete(runId);
        this.actors.delete(runId);
        this.observers.delete(runId);
        this.pump();
      });
    this.active.set(runId, { controller, done });
  }

  /** Asks a run of this process to stop; false when it is not running here. */
  cancel(runId: string): boolean {
    const entry = this.active.get(runId);
    if (!entry) return false;
    entry.controller.abort(new Error('cancelled'));
    return true;
  }

  /** The pool as `outflow status` shows it: queued runs wait in the metadata store, this process executes. */
  async notReady(): Promise<string | null> {
    return this.stopped ? 'the server is stopping' : null;
  }

  async status(): Promise<QueueStatus> {
    const queued = await this.home.db.selectFrom('runs').select((eb) => eb.fn.countAll<string | number>().as('n')).where('status', '=', 'queued').executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    return {
      mode: 'embedded',
      queue: { waiting: Number(queued.n), active: this.active.size, delayed: 0 },
      workers: [{ ...describeProcess('server', this.concurrency, this.startedAt), runs: [...this.active.keys()], seenAt: now }],
    };
  }

  get size(): number {
    return this.active.size;
  }

  /**
   * Stops taking runs from the queue and interrupts the running ones at a batch boundary: they end `failed`
   * with code `interrupted` and the next start resumes them; queued runs stay queued.
   */
  async stopAll(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const reason = new OutflowError('interrupted', 'The server stopped while this run was going on.');
    for (const entry of this.active.values()) entry.controller.abort(reason);
    await Promise.allSettled([this.pumping, ...[...this.active.values()].map((e) => e.done)]);
  }
}
