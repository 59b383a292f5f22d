import { NotFoundError, OutflowError, ValidationError, type ErrorCode } from '../domain/errors.ts';
import type { Export, Run } from '../domain/model.ts';
import { checkCron, compileDaysTimes, formatInZone, nextFireTimes, type ScheduleSpec } from '../engine/schedule-spec.ts';
import { assertAdmin } from '../engine/services.ts';
import { assertMayChangeExports, exportChecks, homeChecks } from './permissions.ts';
import { getConnection } from '../store/metadata/connections.ts';
import * as exportsStore from '../store/metadata/exports.ts';
import { createRun, transitionRun } from '../store/metadata/runs.ts';
import { getSchedule, HOME_SCHEDULE, listSchedules, removeSchedule, saveSchedule, type ScheduleRecord } from '../store/metadata/schedules.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import { refreshSegments } from './data.ts';
import { queueRun } from './exports.ts';
import type { Home } from './home.ts';
import { changeSetting, checkPrecondition, settingETag, type Precondition } from './versions.ts';

const NEXT_COUNT = 5;

export interface FireTime {
  /** The zone's wall clock with its offset, e.g. `2026-11-30T06:00:00+01:00`. */
  local: string;
  utc: string;
}

export interface ExportScheduleView {
  name: string;
  paused: boolean;
  /** Its own schedule; absent when the export runs with the home's scheduled refresh. */
  cron?: string;
  timeZone?: string;
  next: FireTime[];
}

export interface ScheduleView {
  enabled: boolean;
  days?: string;
  times?: string[];
  cron?: string[];
  timeZone?: string;
  /** The next fire times of the home's refresh. */
  next: FireTime[];
  lastFiredAt: string | null;
  updatedBy?: string;
  updatedAt?: string;
  /** Exports with a schedule of their own or paused. */
  exports: ExportScheduleView[];
  /** The exports the home's refresh runs (by name): every export neither paused nor on a schedule of its own. */
  refreshes: string[];
  /** The version of the home's refresh schedule (on or off): send it as If-Match to change exactly this one. */
  etag: string;
}

export interface SetScheduleInput {
  days?: string;
  times?: string | string[];
  cron?: string;
  timeZone?: string;
}

export function specOf(record: ScheduleRecord | null): ScheduleSpec | null {
  return record?.crons && record.crons.length > 0 && record.timeZone ? { crons: record.crons, timeZone: record.timeZone } : null;
}

function fireTimes(spec: ScheduleSpec | null, from: Date): FireTime[] {
  if (!spec) return [];
  return nextFireTimes(spec, from, NEXT_COUNT).map((at) => ({ local: formatInZone(at, spec.timeZone), utc: at.toISOString() }));
}

/** The home's refresh schedule with its next 5 fire times (in the zone and in UTC), and the exports' own. */
export async function showSchedule(home: Home): Promise<ScheduleView> {
  const now = home.now();
  const records = await listSchedules(home.db);
  const own = records.find((r) => r.owner === HOME_SCHEDULE) ?? null;
  const spec = specOf(own);
  const all = await exportsStore.listExports(home.db);
  const byId = new Map(all.map((e) => [e.id, e]));
  const byOwner = new Map(records.map((r) => [r.owner, r]));
  const exportViews: ExportScheduleView[] = [];
  for (const record of records) {
    const exp = byId.get(record.owner);
    if (exp && (specOf(record) || record.pausedAt)) exportViews.push(toExportScheduleView(exp, record, now));
  }
  return {
    enabled: spec !== null,
    ...(own?.days ? { days: own.days } : {}),
    ...(own?.times ? { times: own.times } : {}),
    ...(spec ? { cron: spec.crons, timeZone: spec.timeZone } : {}),
    next: fireTimes(spec, now),
    lastFiredAt: spec ? handledSlot(own) : null,
    ...(own ? { updatedBy: own.updatedBy, updatedAt: own.updatedAt } : {}),
    exports: exportViews.sort((a, b) => a.name.localeCompare(b.name)),
    refreshes: all.filter((e) => followsHomeRefresh(byOwner.get(e.id))).map((e) => e.name).sort((a, b) => a.localeCompare(b)),
    etag: await settingETag(home.db, 'schedule'),
  };
}

/** Whether the home's scheduled refresh runs an export with this schedule record: not paused, no schedule of its own. */
function followsHomeRefresh(record: ScheduleRecord | undefined): boolean {
  return !record?.pausedAt && !specOf(record ?? null);
}

/**
 * The last slot the scheduler handled, or null when none was yet. Setting a schedule stores the moment it was
 * set as the last slot (so that earlier slots never fire); that moment is the schedule's `updatedAt` (a slot
 * the scheduler claims leaves it alone), and it is not a slot that ran.
 */
function handledSlot(record: ScheduleRecord | null): string | null {
  if (!record?.lastSlot || record.lastSlot === record.updatedAt) return null;
  return record.lastSlot;
}

function toExportScheduleView(exp: Export, record: ScheduleRecord | null, now: Date): ExportScheduleView {
  const spec = specOf(record);
  return {
    name: exp.name,
    paused: Boolean(record?.pausedAt),
    ...(spec ? { cron: spec.crons[0]!, timeZone: spec.timeZone } : {}),
    next: fireTimes(spec, now),
  };
}

const SCHEDULE = "The home's refresh schedule";

/**
 * Sets the home's refresh schedule (administrators): either days + times or a cron expression, in an IANA zone.
 * Slots before now never fire: the schedule starts from the moment it is set.
 */
export async function setSchedule(home: Home, input: SetScheduleInput, precondition?: Precondition): Promise<ScheduleView> {
  await permit(home, 'schedule.set', { type: 'schedule' }, () => homeChecks.setSchedule(home.actor));
  const hasDaysTimes = input.days !== undefined || input.times !== undefined;
  if (hasDaysTimes && input.cron !== undefined) throw new ValidationError('Give either --days and --times, or --cron, not both.');
  if (!hasDaysTimes && input.cron === undefined) throw new ValidationError('Give --days and --times (e.g. --days mon-fri --times 06:00,18:00) or --cron "<expression>", and --tz.');
  const at = home.now().toISOString();
  if (hasDaysTimes) {
    const spec = compileDaysTimes(input.days, input.times, input.timeZone);
    await changeSetting(home.db, precondition, 'schedule', SCHEDULE, (tx) =>
      saveSchedule(tx, HOME_SCHEDULE, { crons: spec.crons, timeZone: spec.timeZone, days: spec.days, times: spec.times, lastSlot: at }, home.actor.name, at),
    );
    await audit(home, 'schedule.set', { type: 'schedule', name: HOME_SCHEDULE }, { days: spec.days, times: spec.times, timeZone: spec.timeZone });
  } else {
    const spec = checkCron(input.cron, input.timeZone);
    await changeSetting(home.db, precondition, 'schedule', SCHEDULE, (tx) =>
      saveSchedule(tx, HOME_SCHEDULE, { crons: spec.crons, timeZone: spec.timeZone, days: null, times: null, lastSlot: at }, home.actor.name, at),
    );
    await audit(home, 'schedule.set', { type: 'schedule', name: HOME_SCHEDULE }, { cron: spec.crons[0], timeZone: spec.timeZone });
  }
  home.log.info({ by: home.actor.name }, 'refresh schedule set');
  return showSchedule(home);
}

/** Turns the home's scheduled refresh off (administrators). Exports' own schedules keep running. */
export async function turnScheduleOff(home: Home, precondition?: Precondition): Promise<ScheduleView> {
  await permit(home, 'schedule.off', { type: 'schedule' }, () => assertAdmin(home.actor, 'turn the refresh schedule off'));
  await changeSetting(home.db, precondition, 'schedule', SCHEDULE, (tx) => removeSchedule(tx, HOME_SCHEDULE));
  await audit(home, 'schedule.off', { type: 'schedule', name: HOME_SCHEDULE });
  home.log.info({ by: home.actor.name }, 'refresh schedule turned off');
  return showSchedule(home);
}

/** The export permissions: who may edit an export may schedule, pause and resume it. */
async function exportForChange(home: Home, name: string, auditAction: string): Promise<Export> {
  // A viewer is refused before the export is looked up (the same words as the full check below).
  await permit(home, auditAction, { type: 'export', name }, () => assertMayChangeExports(home.actor));
  const exp = await exportsStore.getExport(home.db, name);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  await permit(home, auditAction, { type: 'export', name }, () => exportChecks.schedule(home.actor, connection));
  return exp;
}

/**
 * Gives an export a schedule of its own (it then leaves the home's scheduled refresh and fires on its own
 * slots, refreshing its segments first), or takes it away (`null`: back to the home's refresh).
 */
export async function setExportSchedule(
  home: Home,
  name: string,
  schedule: { cron: string; timeZone?: string } | null,
  precondition?: Precondition,
): Promise<ExportScheduleView> {
  const exp = await exportForChange(home, name, 'export.schedule');
  // The export's If-Match (its ETag): its schedule is part of the export the editor read.
  checkPrecondition(precondition, exp, `Export "${exp.name}"`);
  const at = home.now().toISOString();
  if (schedule === null) {
    await saveSchedule(home.db, exp.id, { crons: null, timeZone: null, lastSlot: null }, home.actor.name, at);
    await audit(home, 'export.schedule', { type: 'export', name: exp.name }, { schedule: 'off' });
  } else {
    const spec = checkCron(schedule.cron, schedule.timeZone);
    await saveSchedule(home.db, exp.id, { crons: spec.crons, timeZone: spec.timeZone, lastSlot: at }, home.actor.name, at);
    await audit(home, 'export.schedule', { type: 'export', name: exp.name }, { cron: spec.crons[0], timeZone: spec.timeZone });
  }
  return toExportScheduleView(exp, await getSchedule(home.db, exp.id), home.now());
}

/** A paused export is left out of scheduled refreshes (its own schedule too) until resumed; `export run` still runs it. */
export async function pauseExport(home: Home, name: string): Promise<ExportScheduleView> {
  const exp = await exportForChange(home, name, 'export.pause');
  const at = home.now().toISOString();
  const current = await getSchedule(home.db, exp.id);
  if (!current?.pausedAt) await saveSchedule(home.db, exp.id, { pausedAt: at, pausedBy: home.actor.name }, home.actor.name, at);
  await audit(home, 'export.pause', { type: 'export', name: exp.name });
  return toExportScheduleView(exp, await getSchedule(home.db, exp.id), home.now());
}

/** Puts a paused export back into the schedule; slots that passed while it was paused are not caught up. */
export async function resumeExport(home: Home, name: string): Promise<ExportScheduleView> {
  const exp = await exportForChange(home, name, 'export.resume');
  const at = home.now().toISOString();
  const current = await getSchedule(home.db, exp.id);
  if (current?.pausedAt) await saveSchedule(home.db, exp.id, { pausedAt: null, pausedBy: null, ...(specOf(current) ? { lastSlot: at } : {}) }, home.actor.name, at);
  await audit(home, 'export.resume', { type: 'export', name: exp.name });
  return toExportScheduleView(exp, await getSchedule(home.db, exp.id), home.now());
}

/** Starts a queued run: the server hands it to its RunManager; the CLI without a server executes it in place. */
export type StartRun = (run: Run) => Promise<unknown> | void;

export interface RefreshResult {
  segments: Array<{ name: string; members?: number; error?: string }>;
  /** One run per export refreshed: queued (and started), or failed with the reason it could not start. */
  runs: Run[];
}

/**
 * One refresh: every segment, then every export that is not paused and has no schedule of its own (those
 * fire on their own slots). A failure of one segment or one export never stops the others: an export that
 * cannot be queued (connection removed, a run still active, a segment that failed to refresh) gets a failed run
 * record that says why. Administrators only: it runs every export of the home.
 */
export async function refreshAll(home: Home, start: StartRun, signal?: AbortSignal): Promise<RefreshResult> {
  await permit(home, 'schedule.refresh', { type: 'schedule' }, () => assertAdmin(home.actor, 'run the refresh of every segment and export'));
  const schedules = new Map((await listSchedules(home.db)).map((r) => [r.owner, r]));
  const chosen = (await exportsStore.listExports(home.db)).filter((e) => followsHomeRefresh(schedules.get(e.id)));
  return refreshAndQueue(home, { segments: 'all', exports: chosen }, start, signal);
}

/** One firing of an export's own schedule: its segments, then the export (unless it was paused meanwhile). */
export async function refreshExport(home: Home, exportId: string, start: StartRun, signal?: AbortSignal): Promise<RefreshResult> {
  assertAdmin(home.actor, 'run a scheduled export');
  const exp = await exportsStore.getExportById(home.db, exportId);
  if ((await getSchedule(home.db, exp.id))?.pausedAt) return { segments: [], runs: [] };
  return refreshAndQueue(home, { segments: exp.sourceKind === 'segments' ? exp.sources : [], exports: [exp] }, start, signal);
}

async function refreshAndQueue(home: Home, what: { segments: 'all' | string[]; exports: Export[] }, start: StartRun, signal?: AbortSignal): Promise<RefreshResult> {
  const names = what.segments === 'all' ? (await home.db.selectFrom('segments').select('name').orderBy('name').execute()).map((s) => s.name) : what.segments;
  const segments: RefreshResult['segments'] = [];
  const failedSegments = new Map<string, string>();
  for (const name of names) {
    if (signal?.aborted) break;
    try {
      const [result] = await refreshSegments(home, name);
      segments.push({ name, members: result!.members });
    } catch (error) {
      const message = (error as Error).message;
      failedSegments.set(name, message);
      segments.push({ name, error: message });
      home.log.error({ segment: name, err: error }, 'scheduled segment refresh failed');
    }
  }

  const runs: Run[] = [];
  for (const exp of what.exports) {
    if (signal?.aborted) break;
    const broken = exp.sourceKind === 'segments' ? exp.sources.find((s) => failedSegments.has(s)) : undefined;
    if (broken) {
      // Sending the membership of the previous refresh would be a silent lie; the run says what to fix.
      runs.push(
        await recordFailedRun(home, exp, 'invalid_filter', `Segment "${broken}" could not be refreshed, so the export did not run: ${failedSegments.get(broken)}`),
      );
      continue;
    }
    let run: Run;
    try {
      run = await queueRun(home, exp.name, 'refresh');
    } catch (error) {
      const code: ErrorCode = error instanceof OutflowError ? error.code : 'internal';
      runs.push(await recordFailedRun(home, exp, code, `The scheduled run could not start: ${(error as Error).message}`));
      home.log.error({ export: exp.name, err: error }, 'scheduled run could not be queued');
      continue;
    }
    runs.push(run);
    try {
      await start(run);
    } catch (error) {
      home.log.error({ export: exp.name, runId: run.id, err: error }, 'scheduled run could not be started');
    }
  }
  return { segments, runs };
}

/** A run record for an export that could not start, so the history says why (run states: queued → running → failed). */
async function recordFailedRun(home: Home, exp: Export, code: ErrorCode, message: string): Promise<Run> {
  const run = await createRun(home.db, { exportId: exp.id, exportName: exp.name, connectionId: exp.connectionId, trigger: 'refresh', startedBy: home.actor.name });
  await transitionRun(home.db, run.id, 'running');
  const failed = await transitionRun(home.db, run.id, 'failed', { error: { code, message } });
  await audit(home, 'run.start', { type: 'export', name: exp.name }, { runId: run.id, trigger: 'refresh', error: code }, 'failed');
  return failed;
}
