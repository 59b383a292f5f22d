import type { ErrorCode } from '../domain/errors.ts';
import type { Run, RunRejection, SourceResult } from '../domain/model.ts';
import { getExport } from '../store/metadata/exports.ts';
import { countRunRejections, getRun, listRunRejections, listRuns, transitionRun } from '../store/metadata/runs.ts';
import type { Home } from './home.ts';
import { outflowCommand } from '../lib/shell.ts';
import { audit } from './audit.ts';
import { ConflictError, OutflowError } from '../domain/errors.ts';
import { STALE_AFTER_MS } from '../engine/run-export.ts';
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
  await reapStaleRuns(home, STALE_AFTER_MS, id);
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
 * Marks as failed (`interrupted`) the runs whose process died: still `running` but without a heartbeat for
 * `staleMs` (three heartbeats by default). Their checkpoint stays: the server resumes them when it next starts
 * (see {@link recoverInterruptedRuns}), or `outflow run resume <id>` does it now. Every command that reads a
 * run calls this first, so a dead run never shows as `running` for longer than that.
 */
export async function reapStaleRuns(home: Home, staleMs = STALE_AFTER_MS, only?: string): Promise<string[]> {
  const cutoff = new Date(home.now().getTime() - staleMs).toISOString();
  let query = home.db
    .selectFrom('runs')
    .select('id')
    .where('status', '=', 'running')
    .where((eb) => eb.or([eb('heartbeat_at', '<', cutoff), eb('heartbeat_at', 'is', null)]));
  if (only) query = query.where('id', '=', only);
  const stale = await query.execute();
  const reaped: string[] = [];
  for (const { id } of stale) {
    try {
      await transitionRun(home.db, id, 'failed', { error: interruptedError(id) });
      reaped.push(id);
    } catch {
      // Another process moved it first.
    }
  }
  return reaped;
}

export function interruptedError(id: string): { code: 'interrupted'; message: string } {
  return {
    code: 'interrupted',
    message: `The process running this run stopped (killed, or the machine lost power) before it finished. \`outflow serve\` resumes it from its checkpoint when it next starts; to resume it now, \`${outflowCommand('run', 'resume', id)}\`.`,
  };
}

/**
 * Crash recovery, when the server starts: every run left `running` is marked interrupted (nothing else can be
 * executing it: the server owns the home), and every interrupted run that is the newest run of its export
 * is resumed from its checkpoint as a new run (trigger
 * `recovery`, linked by `resumedFrom`), queued for the worker pool. Returns the new runs.
 */
export async function recoverInterruptedRuns(home: Home, queueResume: (home: Home, runId: string, trigger: Run['trigger']) => Promise<Run>): Promise<Run[]> {
  await reapStaleRuns(home, 0);
  const interrupted = await home.db.selectFrom('runs').selectAll().where('status', '=', 'failed').where('error_code', '=', 'interrupted').orderBy('queued_at').execute();
  const resumed: Run[] = [];
  for (const { id, export_id, queued_at } of interrupted) {
    // Only the newest run of an export is continued: an older interrupted run was followed by another one.
    const newer = await home.db.selectFrom('runs').select('id').where('export_id', '=', export_id).where('queued_at', '>', queued_at).executeTakeFirst();
    if (newer) continue;
    try {
      resumed.push(await queueResume(home, id, 'recovery'));
    } catch (error) {
      // Superseded (already resumed, or a newer run succeeded), another run of the export is active, or the
      // export or its connection is gone: nothing to recover.
      if (!(error instanceof OutflowError)) throw error;
      home.log.info({ runId: id, code: error.code }, `not recovering run: ${error.message}`);
    }
  }
  return resumed;
}

/**
 * The run that makes resuming `run` pointless or harmful, if any: the run that already resumed it (resuming
 * it again would re-send what that one sent), or a newer run of the same export that succeeded (resuming would
 * send an older state over a newer one).
 */
export async function supersedingRun(home: Home, run: Run): Promise<{ id: string; reason: string } | null> {
  const resumedBy = await home.db.selectFrom('runs').select(['id']).where('resumed_from', '=', run.id).orderBy('queued_at').executeTakeFirst();
  if (resumedBy) return { id: resumedBy.id, reason: `was already resumed by run ${resumedBy.id}` };
  const newer = await home.db
    .selectFrom('runs')
    .select(['id'])
    .where('export_id', '=', run.exportId)
    .where('status', '=', 'succeeded')
    .where('queued_at', '>', run.queuedAt)
    .orderBy('queued_at', 'desc')
    .executeTakeFirst();
  if (newer) return { id: newer.id, reason: `is older than run ${newer.id} of the same export, which succeeded` };
  return null;
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
  await reapStaleRuns(home, STALE_AFTER_MS, id);
  const run = await getRun(home.db, id);
  const connection = await getConnection(home.db, home.box, run.connectionId).catch(() => null);
  if (connection) assertCanUse(home.actor, connection);
  else assertAdmin(home.actor, 'cancel runs of an export without a connection');
  if (run.status !== 'queued' && run.status !== 'running') {
    throw new ConflictError(`Run ${id} is already ${run.status}; there is nothing to cancel.`);
  }
  if (!stop(id)) {
    if (run.status === 'running') throw new ConflictError(`Run ${id} is running in another process; stop it there (Ctrl-C), or wait for it to end.`);
    try {
      await transitionRun(home.db, id, 'cancelled', { error: { code: 'cancelled', message: 'The run was cancelled while it waited in the queue; nothing was sent.' } });
    } catch (error) {
      // A worker picked it up meanwhile: stop it there.
      if (!(error instanceof ConflictError) || !stop(id)) throw error;
    }
  }
  await audit(home, 'run.cancel', { type: 'export', name: run.exportName }, { runId: id });
}
