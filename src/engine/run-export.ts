import { getDestination } from '../destinations/index.ts';
import type { RecordExportDefinition } from '../destinations/kit/define.ts';
import { AuthError, ConfigError, OutflowError, type RetryableError, withRemedy } from '../domain/errors.ts';
import { randomBytes } from 'node:crypto';
import { exportConfigBase, type Actor, type Connection, type Export, type Run, type RunRejection, type SourceResult } from '../domain/model.ts';
import { getConnection, updateConnectionState } from '../store/metadata/connections.ts';
import { getExportById } from '../store/metadata/exports.ts';
import { addRunRejections, getRun, isRunCancelRequested, saveRunProgress, transitionRun } from '../store/metadata/runs.ts';
import { getSegment, recordSegmentRefresh } from '../store/metadata/segments.ts';
import { compileFilter } from '../store/profile/filter.ts';
import { shellQuote } from '../lib/shell.ts';
import type { Source } from '../store/profile/profile-store.ts';
import { runFileExport } from './files.ts';
import { checkRecordLimits } from './limits.ts';
import { runRecordExport, type SegmentInput } from './records.ts';
import { formatDuration, type Recovery } from './retry.ts';
import { notifyRunFinished } from './notify.ts';
import { outflowCommand } from '../lib/shell.ts';
import { redactUrls } from '../lib/redact-url.ts';
import { assertCanUse, destinationContext, resolveConnectionConfig, type Services } from './services.ts';

export interface RunObserver {
  /** Rows finished so far and the total, when known. */
  onProgress?(progress: { rowsDone: number; rowsTotal: number | null }): void;
  onWarning?(message: string): void;
  onRetry?(message: string, delayMs: number): void;
}

/** How often a running run checks whether another process asked it to stop. */
export const CANCEL_POLL_MS = 1_000;
/** How often a running run records that it is alive. */
export const HEARTBEAT_MS = 5_000;
/** A `running` run whose heartbeat is older than this (three beats) is dead: its process was killed. */
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;
/**
 * A run that reports no progress (rows, batches, retries) for this long is stopped and recorded failed.
 * Every request has its own deadline, so this only catches what slips past them; it is far longer than any
 * one of them, and a retry's wait (a Retry-After of up to 15 minutes) extends it.
 */
export const DEFAULT_RUN_STALL_TIMEOUT_MS = 10 * 60_000;

/** Splits an export's stored config into the engine's part and the destination's settings. */
export function splitExportConfig(config: Record<string, unknown>) {
  const base = exportConfigBase.parse(config);
  const { mapping: _mapping, syncMode: _syncMode, rowsPerFile: _rowsPerFile, notify: _notify, ...settings } = config;
  return { ...base, settings, rowsPerFile: typeof config.rowsPerFile === 'number' ? config.rowsPerFile : undefined };
}

/**
 * Executes one queued run to the end and records everything it learns on the run: counts, files,
 * rejections, the checkpoint, and the error if it fails. Never throws for a failure of the run itself;
 * the returned run says how it ended.
 */
export async function executeRun(services: Services, runId: string, actor: Actor, observer: RunObserver = {}, signal?: AbortSignal): Promise<Run> {
  const { db } = services;
  let run = await transitionRun(db, runId, 'running');
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  // A cancel that arrived while the run was being started.
  if (signal?.aborted) onAbort();

  // The heartbeat tells other processes that this run is alive; it must not keep a run that is stuck
  // `running` for ever. It beats only while the run makes progress: without any for `stallMs` the run is
  // stopped (its work aborted, recorded failed), and the beat stops, so that even a run that cannot unwind
  // is reaped as dead by the next `run list`.
  const stallMs = services.runStallTimeoutMs ?? DEFAULT_RUN_STALL_TIMEOUT_MS;
  let quietUntil = Date.now() + stallMs;
  let stalled = false;
  const progressed = (waitMs = 0) => {
    quietUntil = Math.max(quietUntil, Date.now() + stallMs + waitMs);
  };
  const beat = () => {
    if (Date.now() < quietUntil) {
      void saveRunProgress(db, runId, {}).catch(() => {});
      return;
    }
    clearInterval(heartbeat);
    stalled = true;
    controller.abort(new OutflowError('timeout', 'The run made no progress.'));
  };
  // Not unref'd: while the run executes, the stall check must stay alive even if what the run waits on
  // holds nothing open. It is cleared when the run ends.
  const heartbeat = setInterval(beat, Math.min(HEARTBEAT_MS, Math.max(10, Math.floor(stallMs / 4))));
  // A cancel asked from another process (`outflow run cancel` in a second terminal) is recorded on the run;
  // the run stops at its next step, as for a cancel in this process.
  const cancelPoll = setInterval(() => {
    void isRunCancelRequested(db, runId)
      .then((asked) => {
        if (asked && !controller.signal.aborted) controller.abort(new Error('cancelled'));
      })
      .catch(() => {});
  }, CANCEL_POLL_MS);
  let recordRun = false;
  const warnings: string[] = [];
  // What the destination does with data, for the message of a cancelled run; unknown until it is looked up.
  let target: { kind: 'files' | 'records'; title: string } | undefined;
  const warn = (message: string) => {
    warnings.push(message);
    observer.onWarning?.(message);
  };
  let recovered: ((recovery: Recovery) => void) | undefined;

  try {
    const exp = await getExportById(db, run.exportId);
    const connection = await getConnection(db, services.box, run.connectionId).catch((cause: unknown) => {
      throw withRemedy(new ConfigError('invalid_settings', `The connection of export "${exp.name}" was removed. Pick another one with \`outflow export update "${exp.name}" --connection <name>\`.`, { cause }), { action: 'move-export', export: exp.name });
    });
    assertCanUse(actor, connection);
    const destination = getDestination(connection.type);
    target = { kind: destination.export.kind, title: destination.title };
    const config = await resolveConnectionConfig(services, connection);
    const ctx = destinationContext(services, connection, { signal: controller.signal, warn });
    const { mapping, syncMode, settings, rowsPerFile } = splitExportConfig(exp.config);
    recovered = outageWarnings(destination.title, (message) => {
      warn(message);
      void saveRunProgress(db, runId, { warnings }).catch(() => {});
    });

    let sources: SourceResult[];
    if (destination.export.kind === 'files') {
      await refreshStaleSegments(services, exp, warn);
      await services.profiles.useStreamingResources();
      const fileSources = await resolveSources(services, exp);
      let rowsDone = 0;
      let rowsTotal: number | null = null;
      let savedAt = 0;
      sources = await runFileExport({
        kind: destination.export,
        connection: config,
        ctx,
        profiles: services.profiles,
        sources: fileSources,
        sourceLabel: exp.sourceKind === 'segments' ? 'Segments' : 'Entities',
        startedAt: new Date(run.startedAt ?? Date.now()),
        tmpDir: services.tmpDir,
        rowsPerPart: rowsPerFile,
        retry: services.retry,
        clock: services.retryClock,
        onRecovered: recovered,
        tempTag: exp.id,
        // A resumed run whose predecessor was interrupted among its renames finishes them (roll forward).
        planned: run.checkpoint?.commit,
        parts: services.fileParts?.(runId),
        onCommitPlanned: (commit) => saveRunProgress(db, runId, { checkpoint: { sourceIndex: 0, phase: 'add', afterKey: null, commit } }),
        onRetry: (message, delayMs) => {
          progressed(delayMs);
          observer.onRetry?.(message, delayMs);
        },
        onPlanned: (total) => {
          progressed();
          rowsTotal = total;
          observer.onProgress?.({ rowsDone: 0, rowsTotal: total });
          void saveRunProgress(db, runId, { rowsTotal: total });
        },
        onRows: (rows) => {
          progressed();
          rowsDone += rows;
          observer.onProgress?.({ rowsDone, rowsTotal });
          // At hundreds of MB/s this fires hundreds of times a second; the run record needs a pulse, not a stream.
          if (Date.now() - savedAt >= 1000) {
            savedAt = Date.now();
            void saveRunProgress(db, runId, { rowsDone }).catch(() => {});
          }
        },
      });
      const total = sources.reduce((sum, s) => sum + s.rows, 0);
      await saveRunProgress(db, runId, { rowsTotal: total, rowsDone: total, sent: total, sources });
    } else {
      const kind = destination.export as RecordExportDefinition<unknown>;
      recordRun = true;
      // A resumed or recovered run continues the snapshot its first run took; any other run takes one of its own.
      const continuing = run.checkpoint?.snapshot !== undefined;
      const snapshot = continuing ? run.checkpoint!.snapshot! : runId;
      const fullResync = run.checkpoint?.fullResync === true;
      const position = run.checkpoint ? { sourceIndex: run.checkpoint.sourceIndex, phase: run.checkpoint.phase, afterKey: run.checkpoint.afterKey } : null;
      if (!continuing) await refreshStaleSegments(services, exp, warn);
      const segments = await resolveSegments(services, exp);
      let rowsTotal = segments.reduce((sum, s) => sum + s.members, 0);
      await saveRunProgress(db, runId, { rowsTotal });
      for (const warning of await checkRecordLimits(db, exp, destination.title, kind, config, segments)) warn(warning);
      await saveRunProgress(db, runId, { warnings });
      observer.onProgress?.({ rowsDone: 0, rowsTotal });

      // A resumed run starts from the counts of the run it continues (copied when it was queued).
      let rejectionSeq = 0;
      const offset = { sent: run.sent, rejected: run.rejected };
      sources = await runRecordExport({
        kind,
        connection: config,
        ctx,
        profiles: services.profiles,
        segments,
        mapping,
        settings: kind.settings.parse(settings) as Record<string, unknown>,
        syncMode,
        checkpoint: position,
        runKey: `${exp.id}_${snapshot}`,
        resume: continuing,
        cleanupPrefix: `${exp.id}_`,
        fullResync,
        retry: services.retry,
        clock: services.retryClock,
        onRecovered: recovered,
        onPlanned: async (members) => {
          // No streaming cap here, unlike file runs: a record run reads its snapshot (and removals) in key
          // order, a sort of every member that at 10M members needs more than the 48 MB cap beside the journal's
          // appends ("failed to pin block", issue 13). It runs under OUTFLOW_DUCKDB_MEMORY and spills beyond.
          rowsTotal = members.reduce((sum, n) => sum + n, 0);
          // Only now that every snapshot exists does the checkpoint name it: a run that failed before (a
          // limit, a removed segment) is resumed with a snapshot of its own.
          const checkpoint = { ...(position ?? { sourceIndex: 0, phase: 'remove' as const, afterKey: null }), snapshot, ...(fullResync ? { fullResync } : {}) };
          await saveRunProgress(db, runId, { rowsTotal, checkpoint });
          observer.onProgress?.({ rowsDone: 0, rowsTotal });
        },
        onRetry: (message, delayMs) => {
          services.metrics?.destinationRetry(connection.type);
          progressed(delayMs);
          observer.onRetry?.(message, delayMs);
        },
        onBatch: async (progress, rejections: RunRejection[]) => {
          progressed();
          const sent = offset.sent + progress.sent;
          const rejected = offset.rejected + progress.rejected;
          // Unchanged members count as done: the destination already holds them.
          const rowsDone = sent + rejected + progress.unchanged;
          // One transaction: a crash between the two writes would otherwise keep a batch's rejections without
          // its checkpoint, and the resume would reject (and count) them again.
          await db.transaction().execute(async (tx) => {
            await addRunRejections(tx, runId, rejectionSeq, rejections);
            await saveRunProgress(tx, runId, { sent, rejected, rowsDone, checkpoint: { ...progress.checkpoint, snapshot, ...(fullResync ? { fullResync } : {}) } });
          });
          rejectionSeq += rejections.length;
          observer.onProgress?.({ rowsDone, rowsTotal });
        },
      });
      const done = offset.sent + offset.rejected + sources.reduce((sum, s) => sum + (s.sent ?? 0) + (s.rejected ?? 0) + (s.unchanged ?? 0), 0);
      await saveRunProgress(db, runId, { rowsDone: Math.min(done, rowsTotal) });
      await saveRunProgress(db, runId, { sources, notAttempted: 0, warnings });
    }
    run = await transitionRun(db, runId, 'succeeded', { error: null });
  } catch (error) {
    const current = await getRun(db, runId);
    const reason: unknown = controller.signal.reason;
    // A server shutting down interrupts its runs: they fail `interrupted` and its next start resumes them.
    const interrupted = controller.signal.aborted && !stalled && reason instanceof OutflowError && reason.code === 'interrupted';
    const cancelled = controller.signal.aborted && !stalled && !interrupted;
    const failure = interrupted
      ? {
          code: 'interrupted' as const,
          // Who resumes it depends on who interrupted it: the server's next start, or (a draining worker) another worker now.
          message: `${reason.message} ${(reason as { resumedBy?: string }).resumedBy ?? 'It resumes from its checkpoint when the server starts again'} (or \`outflow run resume ${runId}\`).`,
        }
      : stalled
      ? {
          code: 'timeout' as const,
          message: `The run made no progress for ${stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`} and was stopped. Check that the destination answers, then run the export again (OUTFLOW_RUN_STALL_TIMEOUT_MS sets this limit).`,
        }
      : cancelled
        ? describeCancel(current, target)
        : describeFailure(error);
    if (error instanceof AuthError) {
      await updateConnectionState(db, current.connectionId, { attention: { code: failure.code, message: failure.message, at: new Date().toISOString() } }).catch(() => {});
    }
    // A record run's rowsDone counts members sent, rejected or unchanged; a file run's counts rows rendered.
    const notAttempted = current.rowsTotal === null ? 0 : Math.max(0, current.rowsTotal - (recordRun ? current.rowsDone : current.sent + current.rejected));
    await saveRunProgress(db, runId, { notAttempted, warnings });
    run = await transitionRun(db, runId, cancelled ? 'cancelled' : 'failed', { error: failure });
    services.log.error({ runId, code: failure.code }, failure.message);
  } finally {
    clearInterval(heartbeat);
    clearInterval(cancelPoll);
    signal?.removeEventListener('abort', onAbort);
  }
  // Here rather than in the server, so that a run the CLI executes without a server alerts too. A webhook that
  // fails never fails the run: it becomes one more warning.
  const alertProblem = await notifyRunFinished(services, run).catch(() => null);
  if (alertProblem) {
    observer.onWarning?.(alertProblem);
    await saveRunProgress(db, runId, { warnings: [...run.warnings, alertProblem] });
    run = await getRun(db, runId);
  }
  return run;
}

/**
 * Turns requests that went through after retries into run warnings ("Iterable answered 503 for 31 s; the run
 * waited and went on."). Batches in flight together live through the same outage: a recovery that overlaps
 * the last one reported for the same answer is that same outage, not a new warning.
 */
export function outageWarnings(title: string, warn: (message: string) => void): (recovery: Recovery) => void {
  const lastEnd = new Map<string, number>();
  return ({ error, waitedMs, failingMs, retries, at }) => {
    const what = describeTrouble(error);
    const previous = lastEnd.get(what);
    lastEnd.set(what, Math.max(at, previous ?? at));
    if (previous !== undefined && at - waitedMs <= previous) return;
    const seen = retries === 1 ? 'once' : `for ${formatDuration(failingMs)}`;
    warn(`${title} ${what} ${seen}; the run waited ${formatDuration(waitedMs)} (${retries} ${retries === 1 ? 'retry' : 'retries'}) and went on.`);
  };
}

/** What the destination did, in the words of a warning. */
function describeTrouble(error: RetryableError): string {
  // Destination clients that build their own errors name the status only in the message ("… (HTTP 503 …)").
  const status = error.status ?? Number(/\bHTTP (\d{3})\b/.exec(error.message)?.[1] ?? NaN);
  if (Number.isInteger(status)) return `answered ${status}`;
  if (error.code === 'rate_limited') return 'throttled the run';
  if (error.code === 'timeout') return 'did not answer in time';
  if (error.code === 'upstream_unavailable') return 'was unavailable';
  return 'could not be reached';
}

/**
 * What a cancel left behind depends on the destination: staged files are removed, but records already sent to
 * a marketing tool stay there, and saying otherwise would mislead whoever decides what to do next.
 */
function describeCancel(run: Run, target: { kind: 'files' | 'records'; title: string } | undefined): { code: OutflowError['code']; message: string } {
  if (target?.kind === 'records') {
    const sent = run.sent.toLocaleString('en-US');
    return {
      code: 'cancelled',
      message: `The run was cancelled after ${sent} record${run.sent === 1 ? ' was' : 's were'} sent to ${target.title}; ${run.sent === 1 ? 'it stays' : 'they stay'} there (a cancel takes nothing back). Send the rest with \`${outflowCommand('run', 'resume', run.id)}\`.`,
    };
  }
  if (target?.kind === 'files') return { code: 'cancelled', message: 'The run was cancelled; files staged so far were removed and nothing was renamed.' };
  return { code: 'cancelled', message: 'The run was cancelled before it sent anything.' };
}

function describeFailure(error: unknown): { code: OutflowError['code']; message: string } {
  // A run's error is shown to every role that sees the export: no URL's user name, password or query in it.
  if (error instanceof OutflowError) return { code: error.code, message: redactUrls(error.message) };
  const message = redactUrls(error instanceof Error ? error.message : String(error));
  return { code: 'internal', message: `Unexpected error: ${message}. Run with OUTFLOW_DEBUG=1 for details and report it.` };
}

async function resolveSources(services: Services, exp: Export): Promise<Array<{ name: string; source: Source }>> {
  if (exp.sourceKind === 'entities') {
    return Promise.all(
      exp.sources.map(async (entity) => {
        await services.profiles.getEntity(entity);
        return { name: entity, source: { kind: 'entity', entity } as const };
      }),
    );
  }
  return Promise.all(
    exp.sources.map(async (name) => {
      const segment = await getSegment(services.db, name);
      return { name, source: { kind: 'segment', segmentId: segment.id, segment: name, entity: segment.entity } as const };
    }),
  );
}

/**
 * The export's segments with their member counts. A dry run (`stale: 'scratch'`) evaluates a segment a run
 * would refresh first into a scratch membership (listed in `scratch`, for the caller to drop) instead.
 */
async function resolveSegments(
  services: Services,
  exp: Export,
  dry?: { stale: 'scratch'; scratch: string[]; notes: string[] },
): Promise<SegmentInput[]> {
  const resolved = await resolveSources(services, exp);
  const segments: SegmentInput[] = [];
  for (const { name, source } of resolved) {
    if (source.kind !== 'segment') throw new ConfigError('invalid_settings', `Export "${exp.name}" names entity "${name}"; this destination takes segments only.`);
    const stateId = `${exp.id}_${source.segmentId}`;
    if (dry && (await services.profiles.segmentIsStale(source.segmentId, source.entity))) {
      const segment = await getSegment(services.db, name);
      const scratchId = `dryrun_${randomBytes(6).toString('hex')}`;
      dry.scratch.push(scratchId);
      const members = await services.profiles.refreshSegment(scratchId, source.entity, compileFilter(segment.filter, (await services.profiles.getEntity(source.entity)).columns));
      dry.notes.push(`Segment "${name}" is older than the last load of ${source.entity}: a run refreshes it first, and these counts use that refreshed membership.`);
      segments.push({ name, source: { ...source, segmentId: scratchId }, members, stateId });
      continue;
    }
    segments.push({ name, source, members: await services.profiles.countRows(source), stateId });
  }
  return segments;
}

/**
 * Loading an entity leaves its segments' membership describing the previous rows; joined to the new rows it
 * would send members by keys that may now mean other profiles, or none (mirror then forgot them). So a run
 * first refreshes every segment it reads that was built from an earlier load, and says so.
 */
async function refreshStaleSegments(services: Services, exp: Export, warn: (message: string) => void): Promise<void> {
  if (exp.sourceKind !== 'segments') return;
  for (const name of exp.sources) {
    const segment = await getSegment(services.db, name);
    if (!(await services.profiles.segmentIsStale(segment.id, segment.entity))) continue;
    const info = await services.profiles.getEntity(segment.entity);
    let filter;
    try {
      filter = compileFilter(segment.filter, info.columns);
    } catch (cause) {
      throw new ConfigError(
        'invalid_settings',
        `Segment "${name}" must be refreshed because entity ${segment.entity} was loaded after its last refresh, but its filter no longer fits the new columns (${cause instanceof Error ? cause.message : String(cause)}). Fix it with \`outflow segment update ${shellQuote(name)} --where …\`; nothing was sent.`,
        { cause },
      );
    }
    const members = await services.profiles.refreshSegment(segment.id, segment.entity, filter);
    await recordSegmentRefresh(services.db, segment.id, members, services.now().toISOString());
    services.log.info({ segment: name, members }, 'stale segment refreshed before the run');
    warn(`Segment "${name}" was refreshed before sending (${members.toLocaleString('en-US')} members): entity ${segment.entity} was loaded after its last refresh.`);
  }
}

/** What `export run --dry-run` reports. */
export interface DryRunReport {
  export: string;
  dryRun: true;
  syncMode: string;
  fullResync: boolean;
  /** Per segment (or entity, for file exports): what a run would do. */
  sources: Array<{ name: string; members: number; add: number; update: number; remove: number; reject: number; unchanged: number }>;
  members: number;
  add: number;
  update: number;
  remove: number;
  reject: number;
  unchanged: number;
  /** The first 100 records a run would reject, with the reasons. */
  rejections: RunRejection[];
  /** A limit (or setting) that would refuse the run before it sends anything; null when none would. */
  refusal: { code: OutflowError['code']; message: string } | null;
  warnings: string[];
  notes: string[];
}

const DRY_RUN_REJECTIONS = 100;

/**
 * Plans a run without running it: the same snapshot, diff and mapping as a run, compared with the delivered
 * state of the last target a run used (the destination is not contacted, so a list deleted since is not
 * known). A segment a run would refresh first is evaluated on a scratch copy; nothing is sent, refreshed or
 * recorded.
 */
export async function dryRun(services: Services, exp: Export, connection: Connection, options: { fullResync?: boolean }): Promise<DryRunReport> {
  const destination = getDestination(connection.type);
  const { mapping, syncMode, settings } = splitExportConfig(exp.config);
  const fullResync = options.fullResync === true;
  const warnings: string[] = [];
  const notes: string[] = [];
  const report: DryRunReport = {
    export: exp.name,
    dryRun: true,
    syncMode,
    fullResync,
    sources: [],
    members: 0,
    add: 0,
    update: 0,
    remove: 0,
    reject: 0,
    unchanged: 0,
    rejections: [],
    refusal: null,
    warnings,
    notes,
  };
  const scratch: string[] = [];
  try {
    if (destination.export.kind === 'files') {
      for (const { name, source } of await resolveSources(services, exp)) {
        const rows = await services.profiles.countRows(source);
        report.sources.push({ name, members: rows, add: rows, update: 0, remove: 0, reject: 0, unchanged: 0 });
      }
      notes.push('File exports write every row of each source on every run.');
    } else {
      const kind = destination.export as RecordExportDefinition<unknown>;
      const segments = await resolveSegments(services, exp, { stale: 'scratch', scratch, notes });
      const config = await resolveConnectionConfig(services, connection);
      try {
        warnings.push(...(await checkRecordLimits(services.db, exp, destination.title, kind, config, segments)));
      } catch (error) {
        if (!(error instanceof OutflowError)) throw error;
        report.refusal = { code: error.code, message: error.message };
      }
      const ctx = destinationContext(services, connection, { signal: new AbortController().signal, warn: (message) => warnings.push(message) });
      const results = await runRecordExport({
        kind,
        connection: config,
        ctx,
        profiles: services.profiles,
        segments,
        mapping,
        settings: kind.settings.parse(settings) as Record<string, unknown>,
        syncMode,
        checkpoint: null,
        fullResync,
        dryRun: true,
        retry: services.retry,
        onBatch: async (_progress, rejections) => {
          for (const rejection of rejections) if (report.rejections.length < DRY_RUN_REJECTIONS) report.rejections.push(rejection);
        },
      });
      for (const r of results) {
        const add = syncMode === 'full' ? (r.sent ?? 0) : (r.added ?? 0);
        report.sources.push({ name: r.name, members: r.rows, add, update: r.updated ?? 0, remove: r.removed ?? 0, reject: r.rejected ?? 0, unchanged: r.unchanged ?? 0 });
      }
      if (syncMode !== 'full') notes.push('Compared with what the last successful run delivered to the list or audience it used; a list deleted since gets everyone.');
    }
  } finally {
    for (const segmentId of scratch) await services.profiles.dropSegment(segmentId).catch(() => {});
  }
  for (const s of report.sources) {
    report.members += s.members;
    report.add += s.add;
    report.update += s.update;
    report.remove += s.remove;
    report.reject += s.reject;
    report.unchanged += s.unchanged;
  }
  return report;
}
