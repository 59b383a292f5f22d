import { getDestination } from '../destinations/index.ts';
import type { RecordExportDefinition } from '../destinations/kit/define.ts';
import { AuthError, ConfigError, OutflowError } from '../domain/errors.ts';
import { exportConfigBase, type Actor, type Export, type Run, type RunRejection, type SourceResult } from '../domain/model.ts';
import { getConnection, updateConnectionState } from '../store/metadata/connections.ts';
import { getExportById, listExports } from '../store/metadata/exports.ts';
import { addRunRejections, getRun, saveRunProgress, transitionRun } from '../store/metadata/runs.ts';
import { getSegment, listSegments } from '../store/metadata/segments.ts';
import type { Source } from '../store/profile/profile-store.ts';
import { runFileExport } from './files.ts';
import { runRecordExport, type SegmentInput } from './records.ts';
import { outflowCommand } from '../lib/shell.ts';
import { assertCanUse, destinationContext, resolveConnectionConfig, type Services } from './services.ts';

export interface RunObserver {
  /** Rows finished so far and the total, when known. */
  onProgress?(progress: { rowsDone: number; rowsTotal: number | null }): void;
  onWarning?(message: string): void;
  onRetry?(message: string, delayMs: number): void;
}

const HEARTBEAT_MS = 10_000;

/** Splits an export's stored config into the engine's part and the destination's settings. */
export function splitExportConfig(config: Record<string, unknown>) {
  const base = exportConfigBase.parse(config);
  const { mapping: _mapping, syncMode: _syncMode, rowsPerFile: _rowsPerFile, ...settings } = config;
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
  const heartbeat = setInterval(() => void saveRunProgress(db, runId, {}).catch(() => {}), HEARTBEAT_MS);
  heartbeat.unref();
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const warnings: string[] = [];
  // What the destination does with data, for the message of a cancelled run; unknown until it is looked up.
  let target: { kind: 'files' | 'records'; title: string } | undefined;
  const warn = (message: string) => {
    warnings.push(message);
    observer.onWarning?.(message);
  };

  try {
    const exp = await getExportById(db, run.exportId);
    const connection = await getConnection(db, services.box, run.connectionId).catch((cause: unknown) => {
      throw new ConfigError('invalid_settings', `The connection of export "${exp.name}" was removed. Edit the export to pick another connection, or re-create the connection.`, { cause });
    });
    assertCanUse(actor, connection);
    const destination = getDestination(connection.type);
    target = { kind: destination.export.kind, title: destination.title };
    const config = await resolveConnectionConfig(services, connection);
    const ctx = destinationContext(services, connection, { signal: controller.signal, warn });
    const { mapping, syncMode, settings, rowsPerFile } = splitExportConfig(exp.config);
    await services.profiles.useStreamingResources();

    let sources: SourceResult[];
    if (destination.export.kind === 'files') {
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
        startedAt: new Date(run.startedAt ?? Date.now()),
        tmpDir: services.tmpDir,
        rowsPerPart: rowsPerFile,
        retry: services.retry,
        onPlanned: (total) => {
          rowsTotal = total;
          observer.onProgress?.({ rowsDone: 0, rowsTotal: total });
          void saveRunProgress(db, runId, { rowsTotal: total });
        },
        onRows: (rows) => {
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
      const segments = await resolveSegments(services, exp);
      const rowsTotal = segments.reduce((sum, s) => sum + s.members, 0);
      await saveRunProgress(db, runId, { rowsTotal });
      await enforceLimits(services, exp, destination.title, kind, config, segments, warn);
      await saveRunProgress(db, runId, { warnings });
      observer.onProgress?.({ rowsDone: 0, rowsTotal });

      // A resumed run starts from the counts of the run it continues.
      const base = run.resumedFrom ? await getRun(db, run.resumedFrom) : null;
      let rejectionSeq = 0;
      const offset = { sent: base?.sent ?? 0, rejected: base?.rejected ?? 0 };
      sources = await runRecordExport({
        kind,
        connection: config,
        ctx,
        profiles: services.profiles,
        segments,
        mapping,
        settings: kind.settings.parse(settings) as Record<string, unknown>,
        syncMode,
        checkpoint: run.checkpoint,
        retry: services.retry,
        onRetry: (message, delayMs) => {
          services.metrics?.destinationRetry(connection.type);
          observer.onRetry?.(message, delayMs);
        },
        onBatch: async (progress, rejections: RunRejection[]) => {
          await addRunRejections(db, runId, rejectionSeq, rejections);
          rejectionSeq += rejections.length;
          const sent = offset.sent + progress.sent;
          const rejected = offset.rejected + progress.rejected;
          await saveRunProgress(db, runId, { sent, rejected, rowsDone: sent + rejected, checkpoint: progress.checkpoint });
          observer.onProgress?.({ rowsDone: sent + rejected, rowsTotal });
        },
      });
      await saveRunProgress(db, runId, { sources, notAttempted: 0, warnings });
    }
    run = await transitionRun(db, runId, 'succeeded', { error: null });
  } catch (error) {
    const current = await getRun(db, runId);
    const cancelled = controller.signal.aborted;
    const failure = cancelled ? describeCancel(current, target) : describeFailure(error);
    if (error instanceof AuthError) {
      await updateConnectionState(db, current.connectionId, { attention: { code: failure.code, message: failure.message, at: new Date().toISOString() } }).catch(() => {});
    }
    const notAttempted = current.rowsTotal === null ? 0 : Math.max(0, current.rowsTotal - current.sent - current.rejected);
    await saveRunProgress(db, runId, { notAttempted, warnings });
    run = await transitionRun(db, runId, cancelled ? 'cancelled' : 'failed', { error: failure });
    services.log.error({ runId, code: failure.code }, failure.message);
  } finally {
    clearInterval(heartbeat);
    signal?.removeEventListener('abort', onAbort);
  }
  return run;
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
  if (error instanceof OutflowError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
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

async function resolveSegments(services: Services, exp: Export): Promise<SegmentInput[]> {
  const resolved = await resolveSources(services, exp);
  return Promise.all(
    resolved.map(async ({ name, source }) => {
      if (source.kind !== 'segment') throw new ConfigError('invalid_settings', `Export "${exp.name}" names entity "${name}"; this destination takes segments only.`);
      return { name, source, members: await services.profiles.countRows(source), stateId: `${exp.id}_${source.segmentId}` };
    }),
  );
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Refuses, before anything is sent, an export over the destination's limits; never truncates. */
async function enforceLimits(
  services: Services,
  exp: Export,
  vendor: string,
  kind: RecordExportDefinition<unknown>,
  config: Record<string, unknown>,
  segments: SegmentInput[],
  warn: (message: string) => void,
): Promise<void> {
  const total = segments.reduce((sum, s) => sum + s.members, 0);
  const perExport = kind.limits.maxProfilesPerExport;
  if (perExport !== undefined && total > perExport) {
    const sizes = segments.map((s) => `"${s.name}" has ${fmt(s.members)}`).join(', ');
    throw new ConfigError(
      'limit_exceeded',
      `Export "${exp.name}" is over ${vendor}'s limit of ${fmt(perExport)} profiles per export: segment ${sizes} (${fmt(total)} in all). Narrow the segment or split it across several exports; nothing was sent.`,
    );
  }
  const limits = kind.connectionLimits?.(config);
  if (!limits?.maxProfiles && !limits?.warnProfiles) return;

  const segmentSizes = new Map((await listSegments(services.db)).map((s) => [s.name, s.members ?? 0]));
  const others = (await listExports(services.db, { connectionId: exp.connectionId })).filter((e) => e.id !== exp.id && e.sourceKind === 'segments');
  const otherTotal = others.reduce((sum, e) => sum + e.sources.reduce((s, name) => s + (segmentSizes.get(name) ?? 0), 0), 0);
  const combined = total + otherTotal;
  const detail = `this export: ${fmt(total)}${others.length ? `; other exports of the connection: ${fmt(otherTotal)}` : ''}`;
  if (limits.maxProfiles !== undefined && combined > limits.maxProfiles) {
    throw new ConfigError(
      'limit_exceeded',
      `The connection's exports would hold ${fmt(combined)} profiles (${detail}); ${vendor} allows at most ${fmt(limits.maxProfiles)} per connection. Narrow the segments or remove an export; nothing was sent.`,
    );
  }
  if (limits.warnProfiles !== undefined && combined >= limits.warnProfiles) {
    warn(`The connection's exports hold ${fmt(combined)} profiles (${detail}), close to ${vendor}'s limit of ${fmt(limits.maxProfiles ?? limits.warnProfiles)}.`);
  }
}
