import type { Selectable } from 'kysely';
import { ConflictError, NotFoundError, type ErrorCode } from '../../domain/errors.ts';
import type { Run, RunCheckpoint, RunRejection, RunStatus, SourceResult } from '../../domain/model.ts';
import { assertTransition } from '../../domain/run-state.ts';
import { newId } from '../../lib/ids.ts';
import type { Db, RunsTable } from './db.ts';
import { fromJson, nowIso, toJson } from './json.ts';

function toRun(row: Selectable<RunsTable>): Run {
  return {
    id: row.id,
    exportId: row.export_id,
    exportName: row.export_name,
    connectionId: row.connection_id,
    status: row.status as RunStatus,
    trigger: row.trigger as Run['trigger'],
    startedBy: row.started_by,
    resumedFrom: row.resumed_from,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rowsTotal: row.rows_total === null ? null : Number(row.rows_total),
    rowsDone: Number(row.rows_done),
    sent: Number(row.sent),
    rejected: Number(row.rejected),
    notAttempted: Number(row.not_attempted),
    sources: fromJson<SourceResult[]>(row.sources, []),
    checkpoint: fromJson<RunCheckpoint | null>(row.checkpoint, null),
    warnings: fromJson<string[]>(row.warnings, []),
    error: row.error_code ? { code: row.error_code as ErrorCode, message: row.error_message ?? '' } : null,
  };
}

export async function createRun(
  db: Db,
  input: { exportId: string; exportName: string; connectionId: string; trigger: Run['trigger']; startedBy: string; resumedFrom?: Run; checkpoint?: RunCheckpoint },
): Promise<Run> {
  const id = newId('run');
  await db
    .insertInto('runs')
    .values({
      id,
      export_id: input.exportId,
      export_name: input.exportName,
      connection_id: input.connectionId,
      status: 'queued',
      trigger: input.trigger,
      started_by: input.startedBy,
      resumed_from: input.resumedFrom?.id ?? null,
      queued_at: nowIso(),
      started_at: null,
      finished_at: null,
      heartbeat_at: null,
      rows_total: null,
      // A resume starts from the counts of the run it continues, so that a chain of resumes (a crash, then
      // another before the first batch) counts every member once.
      rows_done: input.resumedFrom ? input.resumedFrom.rowsDone : 0,
      sent: input.resumedFrom ? input.resumedFrom.sent : 0,
      rejected: input.resumedFrom ? input.resumedFrom.rejected : 0,
      not_attempted: 0,
      sources: '[]',
      checkpoint: input.resumedFrom?.checkpoint ? toJson(input.resumedFrom.checkpoint) : input.checkpoint ? toJson(input.checkpoint) : null,
      warnings: '[]',
      error_code: null,
      error_message: null,
      cancel_requested_at: null,
    })
    .execute();
  return getRun(db, id);
}

export async function getRun(db: Db, id: string): Promise<Run> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`No run with id "${id}". See \`outflow run list\`.`);
  return toRun(row);
}

/** Newest first. `exportName` finds the runs of a removed export too (runs keep the name they ran under). */
export async function listRuns(
  db: Db,
  filter: { exportId?: string; exportName?: string; status?: RunStatus; since?: string; limit?: number; before?: { queuedAt: string; id: string } } = {},
): Promise<Run[]> {
  let query = db.selectFrom('runs').selectAll().orderBy('queued_at', 'desc').orderBy('id', 'desc').limit(filter.limit ?? 50);
  if (filter.exportId) query = query.where('export_id', '=', filter.exportId);
  if (filter.exportName) query = query.where('export_name', '=', filter.exportName);
  if (filter.status) query = query.where('status', '=', filter.status);
  // ISO 8601 in UTC throughout, so text order is time order.
  if (filter.since) query = query.where('queued_at', '>=', filter.since);
  // The next page: the runs after the last one shown, in this order (queued_at, id descending).
  const before = filter.before;
  if (before) query = query.where((eb) => eb.or([eb('queued_at', '<', before.queuedAt), eb.and([eb('queued_at', '=', before.queuedAt), eb('id', '<', before.id)])]));
  return (await query.execute()).map(toRun);
}

/**
 * Moves a run to `to`, refusing moves the state table forbids. The update is conditional on the status
 * read, so two workers racing for one queued run cannot both start it.
 */
export async function transitionRun(
  db: Db,
  id: string,
  to: RunStatus,
  patch: { error?: { code: ErrorCode; message: string } | null } = {},
): Promise<Run> {
  const current = await getRun(db, id);
  assertTransition(id, current.status, to);
  const at = nowIso();
  const result = await db
    .updateTable('runs')
    .set({
      status: to,
      ...(to === 'running' ? { started_at: at, heartbeat_at: at } : {}),
      ...(to !== 'running' ? { finished_at: at } : {}),
      ...(patch.error !== undefined ? { error_code: patch.error?.code ?? null, error_message: patch.error?.message ?? null } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', current.status)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new ConflictError(`Run ${id} changed state while it was being moved to ${to}.`);
  return getRun(db, id);
}

export interface RunProgress {
  rowsTotal?: number | null;
  rowsDone?: number;
  sent?: number;
  rejected?: number;
  notAttempted?: number;
  sources?: SourceResult[];
  checkpoint?: RunCheckpoint | null;
  warnings?: string[];
}

export async function saveRunProgress(db: Db, id: string, progress: RunProgress): Promise<void> {
  await db
    .updateTable('runs')
    .set({
      heartbeat_at: nowIso(),
      ...(progress.rowsTotal !== undefined ? { rows_total: progress.rowsTotal } : {}),
      ...(progress.rowsDone !== undefined ? { rows_done: progress.rowsDone } : {}),
      ...(progress.sent !== undefined ? { sent: progress.sent } : {}),
      ...(progress.rejected !== undefined ? { rejected: progress.rejected } : {}),
      ...(progress.notAttempted !== undefined ? { not_attempted: progress.notAttempted } : {}),
      ...(progress.sources !== undefined ? { sources: toJson(progress.sources) } : {}),
      ...(progress.checkpoint !== undefined ? { checkpoint: progress.checkpoint ? toJson(progress.checkpoint) : null } : {}),
      ...(progress.warnings !== undefined ? { warnings: toJson(progress.warnings) } : {}),
    })
    .where('id', '=', id)
    .execute();
}

/** Asks the process executing a running run to stop it; false when the run is no longer queued or running. */
export async function requestRunCancel(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('runs')
    .set({ cancel_requested_at: nowIso() })
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Whether someone asked the run to stop (see {@link requestRunCancel}). */
export async function isRunCancelRequested(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('runs').select('cancel_requested_at').where('id', '=', id).executeTakeFirst();
  return row?.cancel_requested_at != null;
}

/** Up to `limit` rejections of a run after position `afterSeq` (-1: from the first), with their positions. */
export async function pageRunRejections(db: Db, runId: string, afterSeq: number, limit: number): Promise<Array<RunRejection & { seq: number }>> {
  const rows = await db.selectFrom('run_rejections').selectAll().where('run_id', '=', runId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ seq: Number(r.seq), source: r.source, key: r.record_key, code: r.code, reason: r.reason }));
}

/** Appends rejections; `firstSeq` is the number of rejections the run already holds. */
export async function addRunRejections(db: Db, runId: string, firstSeq: number, rejections: RunRejection[]): Promise<void> {
  if (rejections.length === 0) return;
  const rows = rejections.map((r, i) => ({ run_id: runId, seq: firstSeq + i, source: r.source, record_key: r.key, code: r.code, reason: r.reason }));
  // Stay under SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 500) {
    await db.insertInto('run_rejections').values(rows.slice(i, i + 500)).execute();
  }
}

export async function listRunRejections(db: Db, runId: string, limit = 100): Promise<RunRejection[]> {
  const rows = await db.selectFrom('run_rejections').selectAll().where('run_id', '=', runId).orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ source: r.source, key: r.record_key, code: r.code, reason: r.reason }));
}

export async function countRunRejections(db: Db, runId: string): Promise<number> {
  const row = await db.selectFrom('run_rejections').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', runId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Every rejection of a run in order, read in pages of `pageSize` by `seq` (a keyset, so each page is one
 * indexed range read and a run with millions of rejections never sits in memory).
 */
export async function* iterateRunRejections(db: Db, runId: string, pageSize = 1000): AsyncGenerator<RunRejection[]> {
  let after = -1;
  for (;;) {
    const rows = await db.selectFrom('run_rejections').selectAll().where('run_id', '=', runId).where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({ source: r.source, key: r.record_key, code: r.code, reason: r.reason }));
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}
