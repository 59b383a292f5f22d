import { sql } from 'kysely';
import { getDestination } from '../destinations/index.ts';
import { ValidationError } from '../domain/errors.ts';
import { formatInZone, nextFireTimes } from '../engine/schedule-spec.ts';
import { fromJson } from '../store/metadata/json.ts';
import { HOME_SCHEDULE, listSchedules } from '../store/metadata/schedules.ts';
import { connectionNeed } from './connection-health.ts';
import type { Home } from './home.ts';
import { reapStaleRuns } from './runs.ts';
import { specOf } from './schedule.ts';

/** How far back the overview looks by default, and at most (its chart has one bar per day). */
export const OVERVIEW_DEFAULT_DAYS = 30;
export const OVERVIEW_MAX_DAYS = 90;
/** The "needs attention" list shows this many items at most; `attentionTotal` says how many there are. */
export const ATTENTION_LIMIT = 50;

/** One day (UTC) of the window: its runs by how they ended; `active` are still queued or running. */
export interface RunDay {
  day: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  active: number;
}

/** Rows a destination type received in the window, over the runs of every export to it. */
export interface DestinationTotals {
  /** The destination type; null for runs whose connection was removed since. */
  type: string | null;
  title: string;
  runs: number;
  sent: number;
  rejected: number;
}

export type AttentionReason = 'failed' | 'sign-in' | 'connection-removed' | 'connection-problem' | 'verify' | 'paused';

/** Something about an export that someone should look at, said plainly. */
export interface AttentionItem {
  export: string;
  reason: AttentionReason;
  message: string;
  /** When it happened, where known (the failed run's end, the pause). */
  at: string | null;
  /** The failed run. */
  runId?: string;
}

export interface NextRefresh {
  utc: string;
  /** The schedule's zone's wall clock with its offset. */
  local: string;
  timeZone: string;
  /** The home's scheduled refresh (every export without a schedule of its own), or one export's own schedule. */
  scope: 'home' | 'export';
  export?: string;
}

/** The web app's landing page, and `GET /api/v1/overview`. */
export interface OverviewView {
  days: number;
  /** The window: midnight UTC `days - 1` days ago, to now. */
  from: string;
  to: string;
  /** Every day of the window, oldest first (days without runs are zeros). */
  runsByDay: RunDay[];
  totals: { runs: number; succeeded: number; failed: number; cancelled: number; active: number; sent: number; rejected: number };
  /** Most rows sent first. */
  destinations: DestinationTotals[];
  attention: AttentionItem[];
  attentionTotal: number;
  nextRefresh: NextRefresh | null;
}

const REASON_ORDER: AttentionReason[] = ['failed', 'sign-in', 'connection-removed', 'connection-problem', 'verify', 'paused'];

/**
 * The state of the home at a glance, for any signed-in account (every role may list exports and runs). Every
 * figure is aggregated by the database over an indexed time window, never by loading runs here.
 */
export async function showOverview(home: Home, options: { days?: number } = {}): Promise<OverviewView> {
  const days = options.days ?? OVERVIEW_DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > OVERVIEW_MAX_DAYS) {
    throw new ValidationError(`days must be a whole number from 1 to ${OVERVIEW_MAX_DAYS}, not ${days}.`, [{ path: 'days', message: `1 to ${OVERVIEW_MAX_DAYS}` }]);
  }
  // A run whose process died counts as failed, not as active, as everywhere else runs are read.
  await reapStaleRuns(home);
  const now = home.now();
  const firstDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
  const from = firstDay.toISOString();

  const runsByDay = await countRunsByDay(home, from, firstDay, days);
  const destinations = await totalsByDestination(home, from);
  const { items, total } = await attentionItems(home);
  const sum = (pick: (d: RunDay) => number) => runsByDay.reduce((n, d) => n + pick(d), 0);
  const totals = {
    succeeded: sum((d) => d.succeeded),
    failed: sum((d) => d.failed),
    cancelled: sum((d) => d.cancelled),
    active: sum((d) => d.active),
    sent: destinations.reduce((n, d) => n + d.sent, 0),
    rejected: destinations.reduce((n, d) => n + d.rejected, 0),
  };
  return {
    days,
    from,
    to: now.toISOString(),
    runsByDay,
    totals: { runs: totals.succeeded + totals.failed + totals.cancelled + totals.active, ...totals },
    destinations,
    attention: items,
    attentionTotal: total,
    nextRefresh: await nextRefresh(home, now),
  };
}

async function countRunsByDay(home: Home, from: string, firstDay: Date, days: number): Promise<RunDay[]> {
  // queued_at is ISO 8601 in UTC: its first ten characters are the UTC day, on SQLite and PostgreSQL alike.
  const day = sql<string>`substr(queued_at, 1, 10)`;
  const rows = await home.db
    .selectFrom('runs')
    .select([day.as('day'), 'status'])
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('queued_at', '>=', from)
    .groupBy([day, 'status'])
    .execute();
  const byDay = new Map<string, RunDay>();
  for (let i = 0; i < days; i++) {
    const key = new Date(firstDay.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    byDay.set(key, { day: key, succeeded: 0, failed: 0, cancelled: 0, active: 0 });
  }
  for (const row of rows) {
    const entry = byDay.get(row.day);
    if (!entry) continue;
    const n = Number(row.n);
    if (row.status === 'succeeded' || row.status === 'failed' || row.status === 'cancelled') entry[row.status] += n;
    else entry.active += n;
  }
  return [...byDay.values()];
}

async function totalsByDestination(home: Home, from: string): Promise<DestinationTotals[]> {
  // A resumed run starts from the counts of the run it continues: each run adds only what it sent beyond its
  // predecessor (a primary-key join), so a chain of resumes counts every row once.
  const rows = await home.db
    .selectFrom('runs as r')
    .leftJoin('runs as p', 'p.id', 'r.resumed_from')
    .leftJoin('connections as c', 'c.id', 'r.connection_id')
    .select('c.type')
    .select((eb) => [
      eb.fn.countAll<string | number>().as('runs'),
      eb.fn.sum<string | number | null>(sql`r.sent - coalesce(p.sent, 0)`).as('sent'),
      eb.fn.sum<string | number | null>(sql`r.rejected - coalesce(p.rejected, 0)`).as('rejected'),
    ])
    .where('r.queued_at', '>=', from)
    .groupBy('c.type')
    .execute();
  return rows
    .map((row) => ({
      type: row.type,
      title: row.type ? titleOf(row.type) : 'Removed connections',
      runs: Number(row.runs),
      sent: Number(row.sent ?? 0),
      rejected: Number(row.rejected ?? 0),
    }))
    .sort((a, b) => b.sent - a.sent || a.title.localeCompare(b.title));
}

function titleOf(type: string): string {
  try {
    return getDestination(type).title;
  } catch {
    return type;
  }
}

/**
 * Exports whose last run failed, whose connection needs someone (sign in again, fix or verify it, or it was
 * removed), or that are paused. The last run of each export is one indexed read per export (runs_export_queued).
 */
async function attentionItems(home: Home): Promise<{ items: AttentionItem[]; total: number }> {
  const exports = await home.db
    .selectFrom('exports as e')
    .leftJoin('runs as r', (join) =>
      join.on((eb) =>
        eb(
          'r.id',
          '=',
          eb.selectFrom('runs as l').select('l.id').whereRef('l.export_id', '=', 'e.id').orderBy('l.queued_at', 'desc').orderBy('l.id', 'desc').limit(1),
        ),
      ),
    )
    .select(['e.id', 'e.name', 'e.connection_id', 'r.id as run_id', 'r.status', 'r.error_code', 'r.finished_at'])
    .execute();
  const connections = new Map(
    (await home.db.selectFrom('connections').select(['id', 'name', 'type', 'state']).execute()).map((c) => [c.id, { ...c, need: connectionNeed(fromJson<Record<string, unknown>>(c.state, {})) }]),
  );
  const paused = new Map((await listSchedules(home.db)).flatMap((s) => (s.pausedAt ? [[s.owner, s] as const] : [])));

  const items: AttentionItem[] = [];
  for (const exp of exports) {
    if (exp.status === 'failed') {
      items.push({ export: exp.name, reason: 'failed', message: `Its last run failed${exp.error_code ? ` (${exp.error_code})` : ''}.`, at: exp.finished_at, ...(exp.run_id ? { runId: exp.run_id } : {}) });
    }
    const connection = connections.get(exp.connection_id);
    if (!connection) {
      items.push({ export: exp.name, reason: 'connection-removed', message: 'Its connection was removed: move it to another connection.', at: null });
    } else if (connection.need) {
      const need = connection.need;
      const name = `Connection "${connection.name}"`;
      if (need.need === 'sign-in') {
        const what = connection.type === 'microsoft-advertising' ? 'needs to be signed in again' : 'had its credentials refused: enter new ones';
        items.push({ export: exp.name, reason: 'sign-in', message: `${name} ${what} (${need.code}).`, at: null });
      } else if (need.need === 'attention') {
        items.push({ export: exp.name, reason: 'connection-problem', message: `${name} ran into a problem (${need.code}): verify it.`, at: null });
      } else if (need.need === 'verify') {
        items.push({ export: exp.name, reason: 'verify', message: `${name} failed its last check (${need.code}): fix and verify it.`, at: null });
      } else if (exp.status !== 'succeeded') {
        // Never verified, and no run has shown that it works either.
        items.push({ export: exp.name, reason: 'verify', message: `${name} was never verified.`, at: null });
      }
    }
    const pause = paused.get(exp.id);
    if (pause) items.push({ export: exp.name, reason: 'paused', message: `Paused by ${pause.pausedBy ?? 'someone'}: its schedule does not start it.`, at: pause.pausedAt });
  }
  items.sort((a, b) => REASON_ORDER.indexOf(a.reason) - REASON_ORDER.indexOf(b.reason) || a.export.localeCompare(b.export));
  return { items: items.slice(0, ATTENTION_LIMIT), total: items.length };
}

/** The soonest fire time among the home's refresh and the schedules of exports that are not paused. */
async function nextRefresh(home: Home, now: Date): Promise<NextRefresh | null> {
  const records = await listSchedules(home.db);
  const names = new Map((await home.db.selectFrom('exports').select(['id', 'name']).execute()).map((e) => [e.id, e.name]));
  let best: NextRefresh | null = null;
  for (const record of records) {
    const spec = specOf(record);
    const exportName = names.get(record.owner);
    if (!spec || record.pausedAt || (record.owner !== HOME_SCHEDULE && exportName === undefined)) continue;
    const [at] = nextFireTimes(spec, now, 1);
    if (!at || (best && best.utc <= at.toISOString())) continue;
    best = {
      utc: at.toISOString(),
      local: formatInZone(at, spec.timeZone),
      timeZone: spec.timeZone,
      ...(record.owner === HOME_SCHEDULE ? { scope: 'home' as const } : { scope: 'export' as const, export: exportName! }),
    };
  }
  return best;
}
