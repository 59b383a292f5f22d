import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnection, removeConnection } from '../app/connections.ts';
import { createSegment, loadEntity } from '../app/data.ts';
import { createExport, queueRun } from '../app/exports.ts';
import { openHome, type Home } from '../app/home.ts';
import { pauseExport, resumeExport, setExportSchedule, setSchedule, showSchedule, turnScheduleOff } from '../app/schedule.ts';
import { startIterableFake, type IterableFake } from '../destinations/iterable/fake-iterable.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Run } from '../domain/model.ts';
import { executeRun } from '../engine/run-export.ts';
import { listRuns, transitionRun } from '../store/metadata/runs.ts';
import { Scheduler, type Firing, type SchedulerClock } from './scheduler.ts';
import { startServer } from './serve.ts';
import { tempDir } from '../../test/support/cli.ts';

const ITERABLE_KEY = 'scheduler-test-iterable-key';

/** A clock that moves only when told to; due timers fire in order, each firing finished before the next. */
function fakeClock(startIso: string) {
  let now = Date.parse(startIso);
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: SchedulerClock & { advanceTo(iso: string, scheduler: Scheduler): Promise<void>; pending(): number } = {
    now: () => new Date(now),
    setTimer(ms, fn) {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return () => timers.delete(id);
    },
    async advanceTo(iso, scheduler) {
      const target = Date.parse(iso);
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
        await scheduler.idle();
      }
      now = target;
    },
    pending: () => timers.size,
  };
  return clock;
}

let iterable: IterableFake;
let dir: string;
let opened: Home;
let home: Home;
let clock: ReturnType<typeof fakeClock>;
let scheduler: Scheduler | undefined;
let firings: Array<Firing & { firedAt: string }>;

beforeAll(async () => {
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
});
afterAll(async () => {
  await iterable?.close();
});

beforeEach(async () => {
  dir = tempDir('scheduler');
  opened = await openHome({ dir, actor: { name: 'ada', role: 'admin', via: 'cli' }, env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
  firings = [];
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await opened?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The home on the fake clock, and a scheduler on it that records each firing and the clock when it fired. */
function useClock(startIso: string, start: (run: Run) => Promise<unknown> | void = () => {}) {
  clock = fakeClock(startIso);
  home = { ...opened, now: clock.now };
  scheduler = newScheduler(start);
}

function newScheduler(start: (run: Run) => Promise<unknown> | void = () => {}) {
  return new Scheduler(home, { clock, start, onFired: (f) => firings.push({ ...f, firedAt: clock.now().toISOString() }) });
}

/** Customers, a segment, and exports to the Iterable fake: enough for runs that really send. */
async function seed(exportNames: string[]) {
  const csv = path.join(dir, 'customers.csv');
  fs.writeFileSync(csv, ['profile_id,email', ...Array.from({ length: 6 }, (_, i) => `${i + 1},user${i + 1}@example.com`)].join('\n') + '\n');
  await loadEntity(home, 'Customer', csv, { key: 'profile_id' });
  await createSegment(home, { name: 'everyone', entity: 'Customer', where: 'profile_id > 0' });
  for (const name of exportNames) {
    // One connection per export, so one can be removed without touching the others.
    await createConnection(home, { type: 'iterable', name: `conn-${name}`, config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, acceptPrivacyTerms: true });
    await createExport(home, { name, connection: `conn-${name}`, segments: ['everyone'], config: { mapping: { email: 'email' } } });
  }
}

const slots = () => firings.map((f) => f.slot);

describe('fire times across DST', () => {
  it('days/times in Europe/Paris: 02:30 on spring-forward day fires once at 03:00 CEST; on fall-back day once, at the first 02:30', async () => {
    useClock('2026-03-27T12:00:00Z');
    await setSchedule(home, { days: 'daily', times: '02:30,06:00', timeZone: 'Europe/Paris' });
    await scheduler!.start();
    await clock.advanceTo('2026-03-31T00:00:00Z', scheduler!);
    expect(slots()).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-28T05:00:00.000Z', // 06:00 CET
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST, once
      '2026-03-29T04:00:00.000Z', // 06:00 CEST
      '2026-03-30T00:30:00.000Z',
      '2026-03-30T04:00:00.000Z',
    ]);
    // Each fired when the clock reached its slot, not later.
    expect(firings.map((f) => f.firedAt)).toEqual(slots());

    // Autumn, without firing every slot of the summer in between.
    await scheduler!.stop();
    firings = [];
    useClock('2026-10-24T12:00:00Z');
    await setSchedule(home, { days: 'daily', times: '02:30,06:00', timeZone: 'Europe/Paris' });
    await scheduler!.start();
    await clock.advanceTo('2026-10-26T12:00:00Z', scheduler!);
    expect(slots()).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; the clock shows 02:30 again an hour later (CET), which does not fire
      '2026-10-25T05:00:00.000Z', // 06:00 CET
      '2026-10-26T01:30:00.000Z',
      '2026-10-26T05:00:00.000Z',
    ]);
  });

  it('cron in America/New_York: 02:30 on spring-forward day fires at 03:00 EDT; 01:30 on fall-back day fires once', async () => {
    useClock('2026-03-07T00:00:00Z');
    await setSchedule(home, { cron: '30 2 * * *', timeZone: 'America/New_York' });
    await scheduler!.start();
    await clock.advanceTo('2026-03-10T00:00:00Z', scheduler!);
    expect(slots()).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);

    await scheduler!.stop();
    firings = [];
    useClock('2026-10-30T12:00:00Z');
    await setSchedule(home, { cron: '30 1 * * *', timeZone: 'America/New_York' });
    await scheduler!.start();
    await clock.advanceTo('2026-11-03T00:00:00Z', scheduler!);
    expect(slots()).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('days/times in America/New_York and cron in Europe/Paris agree with the zone offsets before and after the change', async () => {
    useClock('2026-10-30T00:00:00Z');
    await setSchedule(home, { days: 'sat-sun', times: '01:30', timeZone: 'America/New_York' });
    const view = await showSchedule(home);
    expect(view.cron).toEqual(['30 1 * * 0,6']);
    expect(view.next.slice(0, 3)).toEqual([
      { local: '2026-10-31T01:30:00-04:00', utc: '2026-10-31T05:30:00.000Z' },
      { local: '2026-11-01T01:30:00-04:00', utc: '2026-11-01T05:30:00.000Z' },
      { local: '2026-11-07T01:30:00-05:00', utc: '2026-11-07T06:30:00.000Z' },
    ]);
    await scheduler!.start();
    await clock.advanceTo('2026-11-08T12:00:00Z', scheduler!);
    expect(slots()).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-07T06:30:00.000Z', '2026-11-08T06:30:00.000Z']);

    await scheduler!.stop();
    firings = [];
    useClock('2026-03-28T12:00:00Z');
    await setSchedule(home, { cron: '30 2 * * *', timeZone: 'Europe/Paris' });
    await scheduler!.start();
    await clock.advanceTo('2026-03-30T12:00:00Z', scheduler!);
    expect(slots()).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  });
});

describe('the scheduler', () => {
  it('shows the next 5 fire times of mon-fri 06:00,18:00 in the zone and in UTC, skipping the weekend', async () => {
    useClock('2026-11-27T12:00:00Z'); // a Friday
    const view = await setSchedule(home, { days: 'mon-fri', times: ['18:00', '06:00'], timeZone: 'europe/paris' });
    expect(view).toMatchObject({ enabled: true, days: 'mon-fri', times: ['06:00', '18:00'], cron: ['0 6,18 * * 1-5'], timeZone: 'Europe/Paris', lastFiredAt: null });
    expect(view.next).toEqual([
      { local: '2026-11-27T18:00:00+01:00', utc: '2026-11-27T17:00:00.000Z' },
      { local: '2026-11-30T06:00:00+01:00', utc: '2026-11-30T05:00:00.000Z' },
      { local: '2026-11-30T18:00:00+01:00', utc: '2026-11-30T17:00:00.000Z' },
      { local: '2026-12-01T06:00:00+01:00', utc: '2026-12-01T05:00:00.000Z' },
      { local: '2026-12-01T18:00:00+01:00', utc: '2026-12-01T17:00:00.000Z' },
    ]);
    expect((await turnScheduleOff(home)).enabled).toBe(false);
    expect((await showSchedule(home)).next).toEqual([]);
  });

  it('refuses a bad zone, a bad cron expression and bad times with what to do', async () => {
    useClock('2026-11-27T12:00:00Z');
    await expect(setSchedule(home, { days: 'mon-fri', times: '06:00', timeZone: 'Europe/Pari' })).rejects.toThrow(/"Europe\/Pari" is not an IANA time zone; did you mean Europe\/Paris\?/);
    await expect(setSchedule(home, { cron: '0 25 * * *', timeZone: 'UTC' })).rejects.toThrow(/"0 25 \* \* \*" is not a cron expression.*5 fields/);
    await expect(setSchedule(home, { cron: '0 0 6 * * *', timeZone: 'UTC' })).rejects.toThrow(ValidationError);
    await expect(setSchedule(home, { days: 'mon-fri', times: '6pm', timeZone: 'UTC' })).rejects.toThrow(/"6pm" is not a time of day: use HH:MM/);
    await expect(setSchedule(home, { days: 'mon-fry', times: '06:00', timeZone: 'UTC' })).rejects.toThrow(/"fry" is not a day; did you mean fri\?/);
    await expect(setSchedule(home, { days: 'mon', times: '06:00' })).rejects.toThrow(/needs a time zone/);
    // One stop per sentence: no "did you mean fri?." and no "has 6 parts.." from croner's own full stop.
    await expect(setSchedule(home, { days: 'mon-fry', times: '06:00', timeZone: 'UTC' })).rejects.toThrow('"fry" is not a day; did you mean fri? Use mon, tue,');
    await expect(setSchedule(home, { days: 'mon', times: '06:00', timeZone: 'Europe/Pari' })).rejects.toThrow('did you mean Europe/Paris? Use a name such as');
    await expect(setSchedule(home, { days: 'mon', times: '06:00', timeZone: 'Nowhere/Atall' })).rejects.toThrow('"Nowhere/Atall" is not an IANA time zone. Use a name such as');
    await expect(setSchedule(home, { cron: '0 6 * * 1-5 *', timeZone: 'UTC' })).rejects.toThrow("has 6 parts. Give 5 fields");
    await expect(setSchedule({ ...home, actor: { name: 'carl', role: 'contributor' } }, { cron: '0 6 * * *', timeZone: 'UTC' })).rejects.toThrow(/Only administrators/);
    expect((await showSchedule(home)).enabled).toBe(false);
  });

  it('runs a refresh missed while the server was down once at start-up, not once per missed slot', async () => {
    useClock('2026-11-02T00:00:00Z');
    await seed(['nightly']);
    await setSchedule(home, { days: 'daily', times: '06:00,18:00', timeZone: 'Europe/Paris' });
    await scheduler!.start();
    await clock.advanceTo('2026-11-02T06:00:00Z', scheduler!);
    expect(slots()).toEqual(['2026-11-02T05:00:00.000Z']);
    await scheduler!.stop();

    // Down for three days: six slots pass.
    await clock.advanceTo('2026-11-05T09:00:00Z', scheduler!);
    expect(firings).toHaveLength(1);
    scheduler = newScheduler();
    await scheduler.start();
    expect(slots()).toEqual(['2026-11-02T05:00:00.000Z', '2026-11-05T05:00:00.000Z']);
    expect(firings[1]!.firedAt).toBe('2026-11-05T09:00:00.000Z');
    expect((await listRuns(home.db, { exportName: 'nightly' })).length).toBe(2);
    expect((await showSchedule(home)).lastFiredAt).toBe('2026-11-05T05:00:00.000Z');

    // Another restart does not run it again; the next slot fires on time.
    await scheduler.stop();
    scheduler = newScheduler();
    await scheduler.start();
    await clock.advanceTo('2026-11-05T17:00:00Z', scheduler);
    expect(slots()).toEqual(['2026-11-02T05:00:00.000Z', '2026-11-05T05:00:00.000Z', '2026-11-05T17:00:00.000Z']);
  });

  it('never catches up slots from before the schedule was set', async () => {
    useClock('2026-11-02T12:00:00Z');
    await setSchedule(home, { cron: '0 6 * * *', timeZone: 'UTC' });
    await scheduler!.start();
    expect(firings).toEqual([]);
  });

  it('refreshes every segment, then queues every export that is not paused and has no schedule of its own', async () => {
    const started: string[] = [];
    // Recorded, then ended, so the next refresh finds no active run.
    useClock('2026-11-02T00:00:00Z', async (run) => {
      started.push(run.exportName);
      await transitionRun(home.db, run.id, 'cancelled');
    });
    await seed(['alpha', 'beta', 'gamma', 'delta']);
    await pauseExport(home, 'beta');
    await setExportSchedule(home, 'delta', { cron: '0 12 * * *', timeZone: 'Europe/Paris' });
    await setSchedule(home, { cron: '0 6 * * *', timeZone: 'UTC' });
    await scheduler!.start();
    await clock.advanceTo('2026-11-02T06:00:00Z', scheduler!);
    expect(firings).toHaveLength(1);
    expect(firings[0]!.result.segments).toEqual([{ name: 'everyone', members: 6 }]);
    expect(firings[0]!.result.runs.map((r) => [r.exportName, r.status, r.trigger, r.startedBy])).toEqual([
      ['alpha', 'queued', 'refresh', 'scheduler'],
      ['gamma', 'queued', 'refresh', 'scheduler'],
    ]);
    expect(started).toEqual(['alpha', 'gamma']);
    expect(await listRuns(home.db, { exportName: 'beta' })).toEqual([]);

    // delta fires on its own slot (12:00 Paris = 11:00 UTC), alone.
    await clock.advanceTo('2026-11-02T11:00:00Z', scheduler!);
    expect(firings.map((f) => [f.slot, f.result.runs.map((r) => r.exportName)])).toEqual([
      ['2026-11-02T06:00:00.000Z', ['alpha', 'gamma']],
      ['2026-11-02T11:00:00.000Z', ['delta']],
    ]);
    expect(started).toEqual(['alpha', 'gamma', 'delta']);

    // Paused, delta's own slot passes without a run, and resuming does not catch it up.
    await pauseExport(home, 'delta');
    await clock.advanceTo('2026-11-03T11:00:00Z', scheduler!);
    expect(started).toEqual(['alpha', 'gamma', 'delta', 'alpha', 'gamma']);
    await resumeExport(home, 'delta');
    await scheduler!.wake();
    expect(started).toEqual(['alpha', 'gamma', 'delta', 'alpha', 'gamma']);
    await clock.advanceTo('2026-11-04T11:00:00Z', scheduler!);
    expect(started).toEqual(['alpha', 'gamma', 'delta', 'alpha', 'gamma', 'alpha', 'gamma', 'delta']);
  });

  it('gives an export that cannot start a failed run record saying why, and runs the others', async () => {
    useClock('2026-11-02T00:00:00Z', (run) => executeRun(home, run.id, { name: 'scheduler', role: 'admin' }));
    await seed(['first', 'orphan', 'busy', 'last']);
    await removeConnection(home, 'conn-orphan', { force: true });
    const active = await queueRun(home, 'busy');
    await setSchedule(home, { cron: '0 6 * * *', timeZone: 'UTC' });
    await scheduler!.start();
    await clock.advanceTo('2026-11-02T06:00:00Z', scheduler!);

    const byExport = async (name: string) => (await listRuns(home.db, { exportName: name }))[0]!;
    expect(await byExport('first')).toMatchObject({ status: 'succeeded', trigger: 'refresh', sent: 6 });
    expect(await byExport('last')).toMatchObject({ status: 'succeeded', trigger: 'refresh', sent: 6 });
    expect(await byExport('orphan')).toMatchObject({
      status: 'failed',
      trigger: 'refresh',
      error: { code: 'invalid_settings', message: expect.stringMatching(/could not start: The connection of export "orphan" was removed/) },
    });
    expect(await byExport('busy')).toMatchObject({ status: 'failed', error: { code: 'conflict', message: expect.stringContaining(active.id) } });
    expect(firings[0]!.result.runs.map((r) => [r.exportName, r.status])).toEqual([
      ['busy', 'failed'],
      ['first', 'queued'],
      ['last', 'queued'],
      ['orphan', 'failed'],
    ]);
  });
});

describe('outflow serve', () => {
  it('runs a refresh missed while it was down at start-up, executing the runs through its RunManager', async () => {
    useClock('2026-11-02T00:00:00Z');
    await seed(['nightly']);
    await setSchedule(home, { days: 'daily', times: '06:00', timeZone: 'Europe/Paris' });
    await opened.close();

    await clock.advanceTo('2026-11-05T09:00:00Z', scheduler!);
    const server = await startServer({ dir, port: 0, clock, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_ADMIN_PASSWORD: 'scheduler-test-admin-password' } });
    try {
      await server.scheduler.idle();
      let runs = await listRuns(server.home.db, { exportName: 'nightly' });
      for (let i = 0; i < 400 && runs.some((r) => r.status === 'queued' || r.status === 'running'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        runs = await listRuns(server.home.db, { exportName: 'nightly' });
      }
      expect(runs.map((r) => [r.status, r.trigger, r.startedBy, r.sent])).toEqual([['succeeded', 'refresh', 'scheduler', 6]]);
      expect((await showSchedule(server.home)).lastFiredAt).toBe('2026-11-05T05:00:00.000Z');
    } finally {
      await server.close();
      opened = await openHome({ dir, env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
    }
  });
});
