import { executeRun, type RunObserver } from '../engine/run-export.ts';
import type { Actor, Run } from '../domain/model.ts';
import type { Home } from '../app/home.ts';

interface ActiveRun {
  controller: AbortController;
  done: Promise<Run>;
}

/**
 * Executes queued runs in the server process, in the background: the API answers with the run's id at
 * once and clients read progress from the run record. Keeps each run's AbortController so a cancel or a
 * shutdown can stop it cleanly (staged files removed, counts exact, the checkpoint kept for a resume).
 */
export class RunManager {
  private readonly active = new Map<string, ActiveRun>();

  constructor(
    private readonly home: Home,
    private readonly hooks: { onFinished?: (run: Run) => void } = {},
  ) {}

  start(runId: string, actor: Actor, observer: RunObserver = {}): void {
    const controller = new AbortController();
    const done = executeRun(this.home, runId, actor, observer, controller.signal)
      .then((run) => {
        this.hooks.onFinished?.(run);
        return run;
      })
      .finally(() => this.active.delete(runId));
    // executeRun records its own failures on the run; nothing is left to handle here.
    done.catch((error: unknown) => this.home.log.error({ runId, err: error }, 'run ended with an unexpected error'));
    this.active.set(runId, { controller, done });
  }

  /** Asks a run of this process to stop; false when it is not running here. */
  cancel(runId: string): boolean {
    const entry = this.active.get(runId);
    if (!entry) return false;
    entry.controller.abort(new Error('cancelled'));
    return true;
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  get size(): number {
    return this.active.size;
  }

  /** Stops every run (they end cancelled and resumable) and waits for them to record it. */
  async stopAll(): Promise<void> {
    for (const entry of this.active.values()) entry.controller.abort(new Error('server stopping'));
    await Promise.allSettled([...this.active.values()].map((e) => e.done));
  }
}
