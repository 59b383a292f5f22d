import type { Selectable } from 'kysely';
import type { Db, SchedulesTable } from './db.ts';
import { fromJson, toJson } from './json.ts';

export const HOME_SCHEDULE = 'home';

/** A schedule row: the home's refresh schedule (`owner` = `home`) or one export's own schedule and pause state. */
export interface ScheduleRecord {
  owner: string;
  /** 5-field cron expressions read in `timeZone`; null when the owner has no schedule of its own. */
  crons: string[] | null;
  timeZone: string | null;
  /** The days/times form the schedule was given in, for showing it back. */
  days: string | null;
  times: string[] | null;
  /** The last fire time (UTC, ISO) that was handled; slots up to it never fire again. */
  lastSlot: string | null;
  pausedAt: string | null;
  pausedBy: string | null;
  updatedBy: string;
  updatedAt: string;
}

function toRecord(row: Selectable<SchedulesTable>): ScheduleRecord {
  return {
    owner: row.owner,
    crons: fromJson<string[] | null>(row.crons, null),
    timeZone: row.time_zone,
    days: row.days,
    times: fromJson<string[] | null>(row.times, null),
    lastSlot: row.last_slot,
    pausedAt: row.paused_at,
    pausedBy: row.paused_by,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

export async function getSchedule(db: Db, owner: string): Promise<ScheduleRecord | null> {
  const row = await db.selectFrom('schedules').selectAll().where('owner', '=', owner).executeTakeFirst();
  return row ? toRecord(row) : null;
}

export async function listSchedules(db: Db): Promise<ScheduleRecord[]> {
  return (await db.selectFrom('schedules').selectAll().orderBy('owner').execute()).map(toRecord);
}

export interface SchedulePatch {
  crons?: string[] | null;
  timeZone?: string | null;
  days?: string | null;
  times?: string[] | null;
  lastSlot?: string | null;
  pausedAt?: string | null;
  pausedBy?: string | null;
}

/** Creates or changes the owner's row; fields left out keep their value (or start empty). */
export async function saveSchedule(db: Db, owner: string, patch: SchedulePatch, by: string, at: string): Promise<ScheduleRecord> {
  const columns = {
    ...(patch.crons !== undefined ? { crons: patch.crons === null ? null : toJson(patch.crons) } : {}),
    ...(patch.timeZone !== undefined ? { time_zone: patch.timeZone } : {}),
    ...(patch.days !== undefined ? { days: patch.days } : {}),
    ...(patch.times !== undefined ? { times: patch.times === null ? null : toJson(patch.times) } : {}),
    ...(patch.lastSlot !== undefined ? { last_slot: patch.lastSlot } : {}),
    ...(patch.pausedAt !== undefined ? { paused_at: patch.pausedAt } : {}),
    ...(patch.pausedBy !== undefined ? { paused_by: patch.pausedBy } : {}),
    updated_by: by,
    updated_at: at,
  };
  await db
    .insertInto('schedules')
    .values({ owner, crons: null, time_zone: null, days: null, times: null, last_slot: null, paused_at: null, paused_by: null, ...columns })
    .onConflict((oc) => oc.column('owner').doUpdateSet(columns))
    .execute();
  return (await getSchedule(db, owner))!;
}

export async function removeSchedule(db: Db, owner: string): Promise<void> {
  await db.deleteFrom('schedules').where('owner', '=', owner).execute();
}

/**
 * Records that the slot `slot` was handled, only if nobody handled a later one meanwhile (`expected` is the
 * last slot the caller read). False when another process (a second server on the same PostgreSQL store) or a
 * schedule change got there first: the caller then does not fire, so a slot never fires twice.
 */
export async function claimSlot(db: Db, owner: string, expected: string | null, slot: string): Promise<boolean> {
  const result = await db
    .updateTable('schedules')
    .set({ last_slot: slot })
    .where('owner', '=', owner)
    .where((eb) => (expected === null ? eb('last_slot', 'is', null) : eb('last_slot', '=', expected)))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
