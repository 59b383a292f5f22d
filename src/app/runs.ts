import type { ErrorCode } from '../domain/errors.ts';
import type { Run, RunRejection, SourceResult } from '../domain/model.ts';
import { getExport } from '../store/metadata/exports.ts';
import { countRunRejections, getRun, listRunRejections, listRuns, transitionRun } from '../store/metadata/runs.ts';
import type { Home } from './home.ts';
import { outflowCommand } from '../lib/shell.ts';
import { audit } from './audit.ts';
import { ConflictError } from '../domain/errors.ts';
import { assertAdmin, assertCanUse } from '../engine/services.ts';
import { getConnection } from '../store/metadata/connections.ts';

/** The `--json` shape of a run: stable, documented in the README. */
export interface RunSummary {
  id: string;
  export: string;
  status: Run['status'];
  trigger: Run['trigger'];
  startedBy: string;
  resumedFrom?: string;
  entities: SourceResult[];
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

export async function listRunSummaries(home: Home, options: { export?: string; limit?: number } = {}): Promise<Run[]> {
  const runs = await listRuns(home.db, { exportName: options.export, limit: options.limit ?? 50 });
  // A removed export keeps its run history, so only a name that has neither an export nor runs is unknown:
  // "No runs yet" would hide a typo.
  if (options.export !== undefined && runs.length === 0) await getExport(home.db, options.export);
  return runs;
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
export async function listRunItems(home: Home, options: { export?: string; limit?: number } = {}): Promise<RunListItem[]> {
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
