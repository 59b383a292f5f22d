import type { Home } from '../app/home.ts';
import { refreshAll, refreshExport, specOf, type RefreshResult, type StartRun } from '../app/schedule.ts';
import type { Actor } from '../domain/model.ts';
import { dueSlot, nextFireTimes } from '../engine/schedule-spec.ts';
import { claimSlot, HOME_SCHEDULE, listSchedules, type ScheduleRecord } from '../store/metadata/schedules.ts';

/** Time for the scheduler: injected, so tests move it by hand and never sleep. */
export interface SchedulerClock {
  now(): Date;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    // The server's HTTP listener keeps the process alive, not the scheduler.
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

/**
 * A wait is never longer than this: the scheduler wakes up at least hourly and looks again, so a laptop that
 * slept or a clock that was set does not leave it waiting for a slot that already passed.
 */
const MAX_WAIT_MS = 60 * 60 * 1000;

export const SCHEDULER_ACTOR: Actor = { name: 'scheduler', role: 'admin', via: 'api' };

export interface Firing {
  owner: string;
  slot: string;
  result: RefreshResult;
}

/**
 * Fires the home's scheduled refresh and the exports' own schedules inside `outflow serve`.
 *
 * Each schedule's row holds the last slot handled. Whenever it wakes, the scheduler looks for the latest slot
 * after that one and up to now: one slot, however many passed while the server was down, so a missed refresh
 * runs once at start-up. The slot is claimed in the store (a conditional update) before anything runs, so it
 * never fires twice, even with two servers on one PostgreSQL store. Fire times come from croner in the
 * schedule's zone, which handles DST (see schedule-spec.ts). Firings run one after another.
 */
export class Scheduler {
  private cancelTimer: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly controller = new AbortController();
  private readonly home: Home;

  constructor(
    home: Home,
    private readonly options: { start: StartRun; clock?: SchedulerClock; onFired?: (firing: Firing) => void },
  ) {
    this.home = { ...home, actor: SCHEDULER_ACTOR };
  }

  private get clock(): SchedulerClock {
    return this.options.clock ?? systemClock;
  }

  /** Runs what is due now (a slot missed while the server was down) and waits for the next slot. */
  start(): Promise<void> {
    return this.wake();
  }

  /** Looks again now: after a schedule changed, or when the timer fires. Resolves when that look is done. */
  wake(): Promise<void> {
    const next = this.chain.then(() => this.tick()).catch((error: unknown) => this.home.log.error({ err: error }, 'scheduler failed; it looks again within the hour'));
    this.chain = next;
    return next;
  }

  /** Resolves when every firing started so far is done. */
  async idle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.chain;
      await current;
    } while (current !== this.chain);
  }

  /** Stops firing; a refresh in progress stops queueing further exports. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.controller.abort();
    await this.chain.catch(() => {});
  }

  private async tick(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.stopped) return;
    try {
      const records = await listSchedules(this.home.db);
      // The home's refresh first, then the exports' own, in a stable order.
      records.sort((a, b) => (a.owner === HOME_SCHEDULE ? -1 : b.owner === HOME_SCHEDULE ? 1 : a.owner.localeCompare(b.owner)));
      for (const record of records) {
        if (this.stopped) return;
        await this.fireIfDue(record);
      }
    } finally {
      if (!this.stopped) await this.arm();
    }
  }

  private async fireIfDue(record: ScheduleRecord): Promise<void> {
    const spec = specOf(record);
    if (!spec) return;
    const now = this.clock.now();
    // A row without a last slot (never the case for rows Outflow writes) starts from now, never from the past.
    const after = record.lastSlot ? new Date(record.lastSlot) : now;
    const slot = dueSlot(spec, after, now);
    if (!slot) return;
    const slotIso = slot.toISOString();
    if (!(await claimSlot(this.home.db, record.owner, record.lastSlot, slotIso))) return;
    const log = this.home.log.child({ schedule: record.owner, slot: slotIso });
    try {
      const result =
        record.owner === HOME_SCHEDULE
          ? await refreshAll(this.home, this.options.start, this.controller.signal)
          : await refreshExport(this.home, record.owner, this.options.start, this.controller.signal);
      log.info({ segments: result.segments.length, runs: result.runs.map((r) => r.id) }, 'scheduled refresh fired');
      this.options.onFired?.({ owner: record.owner, slot: slotIso, result });
    } catch (error) {
      // The slot stays handled: a refresh that failed as a whole is not repeated in a loop.
      log.error({ err: error }, 'scheduled refresh failed');
    }
  }

  private async arm(): Promise<void> {
    let waitMs = MAX_WAIT_MS;
    try {
      waitMs = await this.msToNextSlot();
    } catch (error) {
      this.home.log.error({ err: error }, 'scheduler could not read the schedules; it looks again within the hour');
    }
    this.cancelTimer = this.clock.setTimer(waitMs, () => void this.wake());
  }

  private async msToNextSlot(): Promise<number> {
    const now = this.clock.now();
    let earliest: number | undefined;
    for (const record of await listSchedules(this.home.db)) {
      const spec = specOf(record);
      if (!spec) continue;
      const after = record.lastSlot && Date.parse(record.lastSlot) > now.getTime() ? new Date(record.lastSlot) : now;
      const [next] = nextFireTimes(spec, after, 1);
      if (next && (earliest === undefined || next.getTime() < earliest)) earliest = next.getTime();
    }
    return earliest === undefined ? MAX_WAIT_MS : Math.min(MAX_WAIT_MS, Math.max(0, earliest - now.getTime()));
  }
}
