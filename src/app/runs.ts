import type { ErrorCode } from '../domain/errors.ts';
import type { FileResult, Run, RunRejection } from '../domain/model.ts';
import { getExport } from '../store/metadata/exports.ts';
import { countRunRejections, getRun, iterateRunRejections, listRunRejections, listRuns, transitionRun } from '../store/metadata/runs.ts';
import { csvRow } from '../lib/csv.ts';
import type { Home } from './home.ts';
import { outflowCommand } from '../lib/shell.ts';
import { audit } from './audit.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import { runStatuses, type RunStatus } from '../domain/model.ts';
import { assertAdmin, assertCanUse, assertNotViewer } from '../engine/services.ts';
import { getConnection } from '../store/metadata/connections.ts';

/** The `--json` shape of a run: stable, documented in the README. */
export interface RunSummary {
  id: string;
  export: string;
  status: Run['status'];
  trigger: Run['trigger'];
  startedBy: string;
  resumedFrom?: string;
  entities: Array<{ name: string; rows: number; files?: FileResult[]; sent?: number; rejected?: number; removed?: number }>;
  rows: number | null;
  rowsDone: number;
  sent: number;
  rejected: number;
  notAttempted: number;
  rejections: Array<{ source: string; key: string; code: string; reason: string }>;
  warnings: string[];
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { code: ErrorCode; message: string };
}

export async function summarizeRun(home: Home, run: Run, options: { rejections?: number } = {}): Promise<RunSummary> {
  let rejections: RunRejection[] = await listRunRejections(home.db, run.id, options.rejections ?? 100);
  // Viewers see that records were rejected and why, not whose profiles they were.
  if (home.actor.role === 'viewer') rejections = rejections.map((r) => ({ ...r, key: '(hidden)' }));
  return {
    id: run.id,
    export: run.exportName,
    status: run.status,
    trigger: run.trigger,
    startedBy: run.startedBy,
    ...(run.resumedFrom ? { resumedFrom: run.resumedFrom } : {}),
    entities: run.sources,
    rows: run.rowsTotal,
    rowsDone: run.rowsDone,
    sent: run.sent,
    rejected: run.rejected,
    notAttempted: run.notAttempted,
    rejections,
    warnings: run.warnings,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    ...(run.error ? { error: run.error } : {}),
  };
}

export async function showRun(home: Home, id: string): Promise<RunSummary & { rejectionsTotal: number }> {
  const run = await getRun(home.db, id);
  return { ...(await summarizeRun(home, run)), rejectionsTotal: await countRunRejections(home.db, id) };
}

/** Filters of the run history; the API and the CLI take them as text and this checks them once. */
export interface RunFilter {
  export?: string;
  limit?: number;
  /** One of the run states. */
  status?: string;
  /** Runs queued at or after this instant: a date (`2026-11-01`, midnight UTC) or an ISO 8601 date-time. */
  since?: string;
}

export async function listRunSummaries(home: Home, options: RunFilter = {}): Promise<Run[]> {
  const status = parseStatus(options.status);
  const since = parseSince(options.since);
  const runs = await listRuns(home.db, { exportName: options.export, limit: options.limit ?? 50, ...(status ? { status } : {}), ...(since ? { since } : {}) });
  // A removed export keeps its run history, so only a name that has neither an export nor runs is unknown:
  // "No runs yet" would hide a typo.
  if (options.export !== undefined && runs.length === 0) {
    const any = status || since ? await listRuns(home.db, { exportName: options.export, limit: 1 }) : [];
    if (any.length === 0) await getExport(home.db, options.export);
  }
  return runs;
}

function parseStatus(value: string | undefined): RunStatus | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(runStatuses as readonly string[]).includes(value)) {
    throw new ValidationError(`--status must be one of ${runStatuses.join(', ')}, not "${value}".`, [{ path: 'status', message: `one of ${runStatuses.join(', ')}` }]);
  }
  return value as RunStatus;
}

/** A calendar date is midnight UTC; a date-time must say its offset (Z or ±hh:mm), so that no one's local zone decides. */
function parseSince(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : null;
  // A date that does not exist (2026-02-30) rolls over in Date; refuse it rather than list from March.
  if (!date || Number.isNaN(date.getTime()) || (value.length === 10 && date.toISOString().slice(0, 10) !== value)) {
    throw new ValidationError(`--since must be a date such as 2026-11-01 (midnight UTC) or a date-time with its offset such as 2026-11-01T08:00:00Z, not "${value}".`, [
      { path: 'since', message: 'a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset' },
    ]);
  }
  return date.toISOString();
}

/**
 * Marks as failed the runs whose process died: still `running` but without a heartbeat for `staleMs`.
 * Their checkpoint stays, so `outflow run resume <id>` continues them.
 */
export async function reapStaleRuns(home: Home, staleMs = 60_000): Promise<string[]> {
  const cutoff = new Date(home.now().getTime() - staleMs).toISOString();
  const stale = await home.db
    .selectFrom('runs')
    .select('id')
    .where('status', '=', 'running')
    .where((eb) => eb.or([eb('heartbeat_at', '<', cutoff), eb('heartbeat_at', 'is', null)]))
    .execute();
  const reaped: string[] = [];
  for (const { id } of stale) {
    try {
      await transitionRun(home.db, id, 'failed', {
        error: { code: 'connection_lost', message: `The process running this run stopped before it finished. Resume it with \`${outflowCommand('run', 'resume', id)}\`.` },
      });
      reaped.push(id);
    } catch {
      // Another process moved it first.
    }
  }
  return reaped;
}

/** One line of run history, as `run list` and `GET /api/runs` show it. */
export interface RunListItem {
  id: string;
  export: string;
  status: Run['status'];
  trigger: Run['trigger'];
  startedBy: string;
  rows: number | null;
  rowsDone: number;
  sent: number;
  rejected: number;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { code: ErrorCode; message: string };
}

/** Run history, newest first; stale runs are marked failed first so the list never shows a dead run as running. */
export async function listRunItems(home: Home, options: RunFilter = {}): Promise<RunListItem[]> {
  await reapStaleRuns(home);
  const runs = await listRunSummaries(home, options);
  return runs.map((r) => ({
    id: r.id,
    export: r.exportName,
    status: r.status,
    trigger: r.trigger,
    startedBy: r.startedBy,
    rows: r.rowsTotal,
    rowsDone: r.rowsDone,
    sent: r.sent,
    rejected: r.rejected,
    queuedAt: r.queuedAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    ...(r.error ? { error: r.error } : {}),
  }));
}

/**
 * Stops a queued or running run. `stop` asks the process executing it to abort (the run then ends
 * `cancelled` by itself, with exact counts); a queued run that nobody executes yet is cancelled here.
 */
export async function cancelRun(home: Home, id: string, stop: (runId: string) => boolean): Promise<void> {
  const run = await getRun(home.db, id);
  const connection = await getConnection(home.db, home.box, run.connectionId).catch(() => null);
  if (connection) assertCanUse(home.actor, connection);
  else assertAdmin(home.actor, 'cancel runs of an export without a connection');
  if (run.status !== 'queued' && run.status !== 'running') {
    throw new ConflictError(`Run ${id} is already ${run.status}; there is nothing to cancel.`);
  }
  if (!stop(id)) {
    if (run.status === 'running') throw new ConflictError(`Run ${id} is running in another process; stop it there (Ctrl-C), or wait for it to end.`);
    await transitionRun(home.db, id, 'cancelled', { error: { code: 'cancelled', message: 'The run was cancelled before it started; nothing was sent.' } });
  }
  await audit(home, 'run.cancel', { type: 'export', name: run.exportName }, { runId: id });
}

/** The columns of `outflow run rejections` and `GET /api/runs/{id}/rejections.csv`. */
export const REJECTIONS_CSV_COLUMNS = ['key', 'segment', 'code', 'reason'] as const;

/**
 * Every rejected record of a run as CSV (header first), produced page by page from the metadata store as the
 * reader consumes it. Viewers are refused: the keys name customer profiles. The download is audited.
 */
export async function rejectionsCsv(home: Home, id: string, options: { pageSize?: number } = {}): Promise<AsyncIterable<string>> {
  assertNotViewer(home.actor, 'download rejected records (they name customer profiles)');
  const run = await getRun(home.db, id);
  await audit(home, 'run.rejections', { type: 'export', name: run.exportName }, { runId: id, rejected: run.rejected });
  const db = home.db;
  return (async function* () {
    yield csvRow([...REJECTIONS_CSV_COLUMNS]);
    for await (const page of iterateRunRejections(db, id, options.pageSize)) {
      yield page.map((r) => csvRow([r.key, r.source, r.code, r.reason])).join('');
    }
  })();
}
