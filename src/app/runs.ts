import type { ErrorCode } from '../domain/errors.ts';
import type { FileResult, Run, RunRejection } from '../domain/model.ts';
import { getExport } from '../store/metadata/exports.ts';
import { countRunRejections, getRun, listRunRejections, listRuns, transitionRun } from '../store/metadata/runs.ts';
import type { Home } from './home.ts';
import { outflowCommand } from '../lib/shell.ts';

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
  const rejections: RunRejection[] = await listRunRejections(home.db, run.id, options.rejections ?? 100);
  return {
    id: run.id,
    export: run.exportName,
    status: run.status,
    trigger: run.trigger,
    startedBy: run.startedBy,
    ...(run.resumedFrom ? { resumedFrom: run.resumedFrom } : {}),
    entities: run.sources,
    rows: run.rowsTotal,
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
