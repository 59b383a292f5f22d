import type { ErrorCode } from '../domain/errors.ts';
import type { Run, RunRejection, SourceResult } from '../domain/model.ts';
import { getExport } from '../store/metadata/exports.ts';
import { countRunRejections, getRun, iterateRunRejections, listRunRejections, listRuns, pageRunRejections, requestRunCancel, transitionRun } from '../store/metadata/runs.ts';
import { csvRow } from '../lib/csv.ts';
import type { Home } from './home.ts';
import { outflowCommand } from '../lib/shell.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import { ConflictError, OutflowError, ValidationError } from '../domain/errors.ts';
import { runStatuses, type RunStatus } from '../domain/model.ts';
import { STALE_AFTER_MS } from '../engine/run-export.ts';
import { assertAdmin, assertCanUse } from '../engine/services.ts';
import { homeChecks } from './permissions.ts';
import { getConnection } from '../store/metadata/connections.ts';
import { listUsers } from '../store/metadata/users.ts';
import type { Actor } from '../domain/model.ts';

/** The `--json` shape of a run: stable, documented in the README. */
export interface RunSummary {
  id: string;
  export: string;
  status: Run['status'];
  trigger: Run['trigger'];
  startedBy: string;
  resumedFrom?: string;
  /** The run that continues this one (it resumed it), once there is one: this run can no longer be resumed. */
  resumedBy?: string;
  /**
   * Whether resuming this run continues anything: failed or cancelled, not superseded, and not refused before it
   * sent anything (such a run has nothing to continue: running the export again does the same, and says so).
   */
  resumable: boolean;
  entities: SourceResult[];
  rows: number | null;
  rowsDone: number;
  sent: number;
  rejected: number;
  notAttempted: number;
  rejections: Array<{ source: string; key: string; code: string; reason: string }>;
  warnings: string[];
  /**
   * Scale-out mode: the worker executing this `running` run stopped answering (no heartbeat for this long);
   * another worker takes it over from its checkpoint within seconds. The run then ends `failed`/`interrupted`
   * with `resumedBy` naming the run that continues it.
   */
  handover?: { since: string; message: string };
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { code: ErrorCode; message: string };
}

/**
 * A run that failed before it sent, rejected or staged anything and holds no snapshot to continue from: a
 * limit, a missing segment refresh, a refused sign-in. An interrupted run is not one of them: the server
 * resumes those itself when it starts again.
 */
function failedBeforeSending(run: Run): boolean {
  return (
    run.status === 'failed' &&
    run.error?.code !== 'interrupted' &&
    run.rowsDone === 0 &&
    run.sent === 0 &&
    run.rejected === 0 &&
    run.checkpoint?.snapshot === undefined &&
    run.checkpoint?.commit === undefined
  );
}

export async function summarizeRun(home: Home, run: Run, options: { rejections?: number } = {}): Promise<RunSummary> {
  let rejections: RunRejection[] = await listChainRejections(home, run, options.rejections ?? 100);
  // Viewers see that records were rejected and why, not whose profiles they were.
  if (home.actor.role === 'viewer') rejections = rejections.map((r) => ({ ...r, key: '(hidden)' }));
  const ended = run.status === 'failed' || run.status === 'cancelled';
  const superseded = ended ? await supersedingRun(home, run) : null;
  const resumedBy = superseded?.resumedBy ? superseded.id : undefined;
  const handover = run.status === 'running' && home.distributed ? await handoverOf(home, run.id) : null;
  return {
    id: run.id,
    export: run.exportName,
    status: run.status,
    trigger: run.trigger,
    startedBy: run.startedBy,
    ...(run.resumedFrom ? { resumedFrom: run.resumedFrom } : {}),
    ...(resumedBy ? { resumedBy } : {}),
    resumable: ended && !superseded && !failedBeforeSending(run),
    entities: run.sources,
    rows: run.rowsTotal,
    rowsDone: run.rowsDone,
    sent: run.sent,
    rejected: run.rejected,
    notAttempted: run.notAttempted,
    rejections,
    warnings: run.warnings,
    ...(handover ? { handover } : {}),
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    ...(run.error ? { error: superseded ? supersededError(run.error, superseded) : run.error } : {}),
  };
}

/** A scale-out run whose heartbeat is stale: its worker died and another one is taking it over. */
async function handoverOf(home: Home, runId: string): Promise<RunSummary['handover'] | null> {
  const row = await home.db.selectFrom('runs').select('heartbeat_at').where('id', '=', runId).executeTakeFirst();
  const beat = row?.heartbeat_at ? Date.parse(row.heartbeat_at) : NaN;
  if (!Number.isFinite(beat) || home.now().getTime() - beat < STALE_AFTER_MS) return null;
  const since = new Date(beat).toISOString();
  return {
    since,
    message: `The worker executing this run stopped answering at ${since}; another worker takes it over from its checkpoint (it then ends interrupted, with resumedBy naming the run that continues it).`,
  };
}

/**
 * The error of a run that was superseded, as shown: the stored message may tell how to resume it (written
 * when it failed), which would now be refused; say instead which run continues it, or which newer run made it
 * pointless.
 */
function supersededError(error: NonNullable<Run['error']>, superseded: Superseding): NonNullable<Run['error']> {
  // The hints that suggest resuming, in every form the engine writes them (one sentence each).
  const hint = /run resume|resumes (it )?from its checkpoint|resumes it when/;
  const sentences = error.message.match(/[^.`]*(?:`[^`]*`[^.`]*)*(?:\.(?:\s+|$)|$)/g) ?? [error.message];
  const kept = sentences.filter((s) => s.trim() !== '' && !hint.test(s)).join('').trim();
  const then = superseded.resumedBy
    ? `It was resumed as run ${superseded.id}: \`${outflowCommand('run', 'show', superseded.id)}\`.`
    : `It cannot be resumed: it ${superseded.reason}.`;
  return { ...error, message: `${kept}${kept ? ' ' : ''}${then}` };
}

export async function showRun(home: Home, id: string): Promise<RunSummary & { rejectionsTotal: number }> {
  await reapStaleRuns(home, STALE_AFTER_MS, id);
  const run = await getRun(home.db, id);
  let total = 0;
  for (const member of await runChain(home, run)) total += await countRunRejections(home.db, member);
  return { ...(await summarizeRun(home, run)), rejectionsTotal: total };
}

/**
 * The runs whose counts `run` reports, oldest first, ending with `run`: the runs it resumes (and those they
 * resume), whose counts carried over into it. Each member's rejections were recorded in the same transaction
 * as its checkpoint, so the chain's rejections are every rejected member once: the last run of a chain lists
 * them all, as its `rejected` counts them all.
 */
export async function runChain(home: Home, run: Run): Promise<string[]> {
  const chain = [run.id];
  let previous = run.resumedFrom;
  // Bounded: a cycle cannot happen (a run resumes an older one), but a corrupt row must not loop forever.
  while (previous && chain.length < 1000 && !chain.includes(previous)) {
    chain.unshift(previous);
    const row = await home.db.selectFrom('runs').select('resumed_from').where('id', '=', previous).executeTakeFirst();
    previous = row?.resumed_from ?? null;
  }
  return chain;
}

async function listChainRejections(home: Home, run: Run, limit: number): Promise<RunRejection[]> {
  const out: RunRejection[] = [];
  for (const member of await runChain(home, run)) {
    if (out.length >= limit) break;
    out.push(...(await listRunRejections(home.db, member, limit - out.length)));
  }
  return out;
}

/** Filters of the run history; the API and the CLI take them as text and this checks them once. */
export interface RunFilter {
  export?: string;
  limit?: number;
  /** One of the run states. */
  status?: string;
  /** Runs queued at or after this instant: a date (`2026-11-01`, midnight UTC) or an ISO 8601 date-time. */
  since?: string;
  /** Only runs after this one in the list's order (newest first): the API's next page. */
  before?: { queuedAt: string; id: string };
}

/** How many runs `run list` shows without --limit (the API pages instead). */
export const RUN_LIST_DEFAULT_LIMIT = 50;

export async function listRunSummaries(home: Home, options: RunFilter = {}): Promise<Run[]> {
  const status = parseStatus(options.status);
  const since = parseSince(options.since);
  const runs = await listRuns(home.db, { exportName: options.export, limit: options.limit ?? RUN_LIST_DEFAULT_LIMIT, ...(status ? { status } : {}), ...(since ? { since } : {}), ...(options.before ? { before: options.before } : {}) });
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
    // Named by its field (the API's query parameter); the CLI says `--status` (see `run list`).
    throw new ValidationError(`status must be one of ${runStatuses.join(', ')}, not "${value}".`, [{ path: 'status', message: `one of ${runStatuses.join(', ')}` }]);
  }
  return value as RunStatus;
}

/** A calendar date is midnight UTC; a date-time must say its offset (Z or ±hh:mm), so that no one's local zone decides. */
function parseSince(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? new Date(value) : null;
  // A date that does not exist (2026-02-30) rolls over in Date; refuse it rather than list from March.
  if (!date || Number.isNaN(date.getTime()) || (value.length === 10 && date.toISOString().slice(0, 10) !== value)) {
    throw new ValidationError(`since must be a date such as 2026-11-01 (midnight UTC) or a date-time with its offset such as 2026-11-01T08:00:00Z, not "${value}".`, [
      { path: 'since', message: 'a date (YYYY-MM-DD) or an ISO 8601 date-time with an offset' },
    ]);
  }
  return date.toISOString();
}

/**
 * Marks as failed (`interrupted`) the runs whose process died: still `running` but without a heartbeat for
 * `staleMs` (three heartbeats by default). Their checkpoint stays: the server resumes them when it next starts
 * (see {@link recoverInterruptedRuns}), or `outflow run resume <id>` does it now. Every command that reads a
 * run calls this first, so a dead run never shows as `running` for longer than that.
 */
export async function reapStaleRuns(home: Home, staleMs = STALE_AFTER_MS, only?: string, options: { takeover?: boolean } = {}): Promise<string[]> {
  // Scale-out: the worker that takes the run over marks it interrupted and resumes it at once; until then a
  // reader shows it `running` (with `handover`), never `failed` while another worker is about to continue it.
  if (home.distributed && !options.takeover) return [];
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
export interface Superseding {
  id: string;
  reason: string;
  /** `id` resumed the run (rather than being a newer run that succeeded). */
  resumedBy: boolean;
}

export async function supersedingRun(home: Home, run: Run): Promise<Superseding | null> {
  const resumedBy = await home.db.selectFrom('runs').select(['id']).where('resumed_from', '=', run.id).orderBy('queued_at').executeTakeFirst();
  if (resumedBy) return { id: resumedBy.id, reason: `was already resumed by run ${resumedBy.id}`, resumedBy: true };
  const newer = await home.db
    .selectFrom('runs')
    .select(['id'])
    .where('export_id', '=', run.exportId)
    .where('status', '=', 'succeeded')
    .where('queued_at', '>', run.queuedAt)
    .orderBy('queued_at', 'desc')
    .executeTakeFirst();
  if (newer) return { id: newer.id, reason: `is older than run ${newer.id} of the same export, which succeeded`, resumedBy: false };
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
export async function cancelRun(home: Home, id: string, stop: (runId: string, status: 'queued' | 'running') => boolean | Promise<boolean>): Promise<void> {
  await reapStaleRuns(home, STALE_AFTER_MS, id);
  const run = await getRun(home.db, id);
  const connection = await getConnection(home.db, home.box, run.connectionId).catch(() => null);
  await permit(home, 'run.cancel', { type: 'run', name: id }, () =>
    connection ? assertCanUse(home.actor, connection) : assertAdmin(home.actor, 'cancel runs of an export without a connection'),
  );
  if (run.status !== 'queued' && run.status !== 'running') {
    throw new ConflictError(`Run ${id} has already ended (${run.status}); there is nothing to cancel.`);
  }
  if (!(await stop(id, run.status))) {
    if (run.status === 'running') {
      // Another process executes it (`outflow export run` directly on the home, another server's worker): it
      // polls the request and stops within a second or two, recording the run `cancelled` itself.
      await requestRunCancel(home.db, id);
    } else {
      try {
        await transitionRun(home.db, id, 'cancelled', { error: { code: 'cancelled', message: 'The run was cancelled while it waited in the queue; nothing was sent.' } });
      } catch (error) {
        // A worker picked it up meanwhile: stop it there.
        if (!(error instanceof ConflictError)) throw error;
        if (!(await stop(id, 'running'))) await requestRunCancel(home.db, id);
      }
    }
  }
  await audit(home, 'run.cancel', { type: 'export', name: run.exportName }, { runId: id });
}

/**
 * The account a run taken from the queue executes as: its user's current role (a role lowered since is
 * enforced), or an administrator for runs the server queued itself (recovery) and users removed since the
 * run was queued (it was allowed when it was queued).
 */
export async function runActor(home: Pick<Home, 'db'>, startedBy: string): Promise<Actor> {
  const user = (await listUsers(home.db)).find((u: { name: string }) => u.name === startedBy);
  return { name: startedBy, role: user?.role ?? 'admin', via: 'api' };
}

/** The columns of `outflow run rejections` and `GET /api/runs/{id}/rejections.csv`. */
export const REJECTIONS_CSV_COLUMNS = ['key', 'segment', 'code', 'reason'] as const;

/**
 * Every rejected record of a run as CSV (header first), produced page by page from the metadata store as the
 * reader consumes it. Viewers are refused: the keys name customer profiles. The download is audited.
 */
/** Where a page of a run's rejections ends: a run of its resume chain and a position in it. */
export interface RejectionPosition {
  run: string;
  seq: number;
}

/**
 * One page of the rejected records a run reports (its whole resume chain, as the CSV), in order, for clients
 * that want JSON: `next` is where the following page starts, null after the last. Read by an indexed range,
 * page by page, whatever the number of rejections. The first page is audited as the CSV download is. Null
 * when `after` is no position of this run's chain (a cursor of another list).
 */
export async function rejectionsPage(home: Home, id: string, options: { limit: number; after?: RejectionPosition }): Promise<{ items: RunRejection[]; next: RejectionPosition | null } | null> {
  homeChecks.downloadRejections(home.actor);
  const run = await getRun(home.db, id);
  if (!options.after) await audit(home, 'run.rejections', { type: 'export', name: run.exportName }, { runId: id, rejected: run.rejected });
  const chain = await runChain(home, run);
  let index = options.after ? chain.indexOf(options.after.run) : 0;
  if (index < 0 || (options.after && !Number.isSafeInteger(options.after.seq))) return null;
  let afterSeq = options.after?.seq ?? -1;
  const items: Array<RunRejection & { seq: number; run: string }> = [];
  // One more than the page, so that whether a next page exists is known without a count.
  while (index < chain.length && items.length <= options.limit) {
    const member = chain[index]!;
    const rows = await pageRunRejections(home.db, member, afterSeq, options.limit + 1 - items.length);
    items.push(...rows.map((r) => ({ ...r, run: member })));
    if (items.length <= options.limit) {
      index++;
      afterSeq = -1;
    }
  }
  const page = items.slice(0, options.limit);
  const last = page[page.length - 1];
  return { items: page.map(({ source, key, code, reason }) => ({ source, key, code, reason })), next: items.length > options.limit && last ? { run: last.run, seq: last.seq } : null };
}

export async function rejectionsCsv(home: Home, id: string, options: { pageSize?: number } = {}): Promise<AsyncIterable<string>> {
  homeChecks.downloadRejections(home.actor);
  const run = await getRun(home.db, id);
  await audit(home, 'run.rejections', { type: 'export', name: run.exportName }, { runId: id, rejected: run.rejected });
  const db = home.db;
  // A resumed run's CSV holds the rejections of the whole chain it reports (see runChain).
  const chain = await runChain(home, run);
  return (async function* () {
    yield csvRow([...REJECTIONS_CSV_COLUMNS]);
    for (const member of chain) {
      for await (const page of iterateRunRejections(db, member, options.pageSize)) {
        yield page.map((r) => csvRow([r.key, r.source, r.code, r.reason])).join('');
      }
    }
  })();
}
