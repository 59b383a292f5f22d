import { getDestination } from '../destinations/index.ts';
import type { RecordExportDefinition } from '../destinations/kit/define.ts';
import { ConfigError, RunConflictError, ValidationError } from '../domain/errors.ts';
import { exportConfigBase, type Export, type Run } from '../domain/model.ts';
import { executeRun, splitExportConfig, type RunObserver } from '../engine/run-export.ts';
import { assertAdmin, assertCanUse, destinationContext, resolveConnectionConfig } from '../engine/services.ts';
import { getConnection, getConnectionByName } from '../store/metadata/connections.ts';
import * as store from '../store/metadata/exports.ts';
import { createRun, getRun, listRuns } from '../store/metadata/runs.ts';
import { audit } from './audit.ts';
import { reapStaleRuns } from './runs.ts';
import { shellQuote } from '../lib/shell.ts';
import { getSegment } from '../store/metadata/segments.ts';
import { refreshSegments } from './data.ts';
import type { Home } from './home.ts';
import { zodIssues } from './validation.ts';

export interface CreateExportInput {
  name: string;
  connection: string;
  segments?: string[];
  entities?: string[];
  config?: unknown;
}

export interface ExportView {
  name: string;
  connection: string;
  type: string;
  segments?: string[];
  entities?: string[];
  config: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
}

/** What saving an export returns: the export, and what the user should know but that did not stop the save. */
export interface CreatedExportView extends ExportView {
  warnings: string[];
}

async function toExportView(home: Home, exp: Export): Promise<ExportView> {
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch(() => null);
  return {
    name: exp.name,
    connection: connection?.name ?? '(removed)',
    type: connection?.type ?? 'unknown',
    ...(exp.sourceKind === 'segments' ? { segments: exp.sources } : { entities: exp.sources }),
    config: exp.config,
    createdBy: exp.createdBy,
    createdAt: exp.createdAt,
  };
}

/** Validates and saves an export. Saving never runs it. */
export async function createExport(home: Home, input: CreateExportInput): Promise<CreatedExportView> {
  const name = input.name.trim();
  if (!name) throw new ValidationError('An export needs a name (--name).');
  const hasSegments = (input.segments?.length ?? 0) > 0;
  const hasEntities = (input.entities?.length ?? 0) > 0;
  if (hasSegments === hasEntities) throw new ValidationError('Pick what to export: either --segments a,b or --entities X,Y.');

  const connection = await getConnectionByName(home.db, home.box, input.connection);
  assertCanUse(home.actor, connection);
  const destination = getDestination(connection.type);
  const kind = destination.export;
  if (hasEntities && kind.kind === 'records') {
    throw new ValidationError(`${destination.title} exports take segments only: pass --segments instead of --entities.`);
  }

  const rawConfig = input.config ?? {};
  if (typeof rawConfig !== 'object' || rawConfig === null || Array.isArray(rawConfig)) throw new ValidationError('The export config must be a JSON object.');
  const base = exportConfigBase.safeParse(rawConfig);
  if (!base.success) throw new ValidationError(`The export config is invalid: ${describe(base.error)}.`, zodIssues(base.error));
  const { mapping, syncMode, settings, rowsPerFile } = splitExportConfig(rawConfig as Record<string, unknown>);
  const parsedSettings = kind.settings.safeParse(settings);
  if (!parsedSettings.success) {
    throw new ValidationError(`The ${destination.title} export settings are invalid: ${describe(parsedSettings.error)}.`, zodIssues(parsedSettings.error));
  }
  if (rowsPerFile !== undefined && (!Number.isInteger(rowsPerFile) || rowsPerFile < 1)) throw new ValidationError('rowsPerFile must be a positive whole number.');

  // Sources exist, and for record destinations the mapping fits every segment's entity.
  const sources = hasSegments ? input.segments! : input.entities!;
  const entities = new Set<string>();
  for (const source of sources) {
    if (hasSegments) entities.add((await getSegment(home.db, source)).entity);
    else entities.add((await home.profiles.getEntity(source)).name);
  }
  if (kind.kind === 'records') {
    await validateMapping(home, destination.title, kind, mapping, [...entities]);
    if (syncMode === 'mirror' && !kind.supportsRemove) throw new ValidationError(`${destination.title} cannot remove members, so "syncMode": "mirror" is not available.`);
    if (kind.validate) {
      const config = await resolveConnectionConfig(home, connection);
      const ctx = destinationContext(home, connection);
      const session = await kind.open(config, ctx);
      try {
        await kind.validate({ connection: config, settings: parsedSettings.data, mapping, session, ctx });
      } finally {
        await session.close?.();
      }
    }
  } else if (Object.keys(mapping).length > 0) {
    throw new ValidationError(`${destination.title} exports write every column; remove "mapping" from the config.`);
  }

  const warnings =
    kind.kind === 'records' && hasSegments ? await sharedTargetWarnings(home, kind, connection, sources, parsedSettings.data) : [];

  const exp = await store.createExport(home.db, {
    name,
    connectionId: connection.id,
    sourceKind: hasSegments ? 'segments' : 'entities',
    sources,
    config: { ...(rawConfig as Record<string, unknown>), mapping, syncMode },
    createdBy: home.actor.name,
  });
  home.log.info({ export: name, connection: connection.name, by: home.actor.name }, 'export created');
  await audit(home, 'export.create', { type: 'export', name }, { connection: connection.name, sources, syncMode });
  for (const warning of warnings) home.log.warn({ export: name }, warning);
  return { ...(await toExportView(home, exp)), warnings };
}

/**
 * Two exports of one connection that write into the same list or audience mix their members there, and one
 * in mirror mode removes members that left its own segment though the other still sends them. Allowed (it
 * can be deliberate), but said when the second export is saved.
 */
async function sharedTargetWarnings(
  home: Home,
  kind: RecordExportDefinition<unknown>,
  connection: { id: string; name: string },
  segments: string[],
  settings: Record<string, unknown>,
): Promise<string[]> {
  if (!kind.targets) return [];
  const mine = new Set(kind.targets({ segments, settings }));
  const warnings: string[] = [];
  for (const other of await store.listExports(home.db, { connectionId: connection.id })) {
    if (other.sourceKind !== 'segments') continue;
    const otherSettings = kind.settings.safeParse(splitExportConfig(other.config).settings);
    if (!otherSettings.success) continue;
    const shared = kind.targets({ segments: other.sources, settings: otherSettings.data }).filter((target) => mine.has(target));
    if (shared.length === 0) continue;
    warnings.push(
      `Export "${other.name}" on connection "${connection.name}" already writes to ${[...new Set(shared)].join(', ')}: both exports' members end up there, ` +
        `and one in mirror mode removes members who left its own segments even while the other export still sends them.`,
    );
  }
  return warnings;
}

function describe(error: import('zod').ZodError): string {
  return zodIssues(error)
    .map((i) => `${i.path || '(root)'}: ${i.message}`)
    .join('; ');
}

async function validateMapping(home: Home, title: string, kind: RecordExportDefinition<unknown>, mapping: Record<string, string>, entities: string[]): Promise<void> {
  for (const [target, spec] of Object.entries(kind.fields)) {
    if (spec.required && !mapping[target]) {
      throw new ValidationError(
        `${title} needs the ${spec.title} field mapped: add "mapping": { "${target}": "<column>" } to the export config.`,
        [{ path: `mapping.${target}`, message: 'required' }],
      );
    }
  }
  const unknown = Object.keys(mapping).filter((target) => !kind.fields[target]);
  if (unknown.length > 0 && !kind.extraFields) {
    throw new ValidationError(`${title} has no field(s) ${unknown.map((t) => `"${t}"`).join(', ')}. Known fields: ${Object.keys(kind.fields).join(', ')}.`);
  }
  for (const entity of entities) {
    const columns = new Set((await home.profiles.getEntity(entity)).columns.map((c) => c.name));
    for (const [target, column] of Object.entries(mapping)) {
      if (!columns.has(column)) {
        throw new ValidationError(`The mapping sends column "${column}" to ${target}, but entity ${entity} has no such column. Columns: ${[...columns].join(', ')}.`, [
          { path: `mapping.${target}`, message: 'unknown column' },
        ]);
      }
    }
  }
}

export async function listExports(home: Home): Promise<ExportView[]> {
  return Promise.all((await store.listExports(home.db)).map((e) => toExportView(home, e)));
}

export async function showExport(home: Home, name: string): Promise<ExportView> {
  return toExportView(home, await store.getExport(home.db, name));
}

export async function removeExport(home: Home, name: string): Promise<{ removed: string }> {
  const exp = await store.getExport(home.db, name);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch(() => null);
  if (connection) assertCanUse(home.actor, connection);
  else assertAdmin(home.actor, 'remove an export whose connection was removed');
  await store.removeExport(home.db, exp.id);
  await audit(home, 'export.remove', { type: 'export', name });
  return { removed: name };
}

/**
 * Records a queued run of the export, after checking the caller may use its connection. Two runs of one
 * export never overlap: while one is queued or running, another request is refused with its id.
 */
export async function queueRun(home: Home, name: string, trigger: Run['trigger'] = 'manual'): Promise<Run> {
  const exp = await store.getExport(home.db, name);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch(() => {
    throw new ConfigError('invalid_settings', `The connection of export "${name}" was removed. Pick another one with \`outflow export update ${shellQuote(name)} --connection <name>\`.`);
  });
  assertCanUse(home.actor, connection);
  await reapStaleRuns(home);
  const active = (await listRuns(home.db, { exportId: exp.id, limit: 5 })).find((r) => r.status === 'queued' || r.status === 'running');
  if (active) throw new RunConflictError(`Export "${name}" already has run ${active.id} ${active.status}; follow it with \`outflow run show ${active.id} --follow\`.`, active.id);
  const run = await createRun(home.db, { exportId: exp.id, exportName: exp.name, connectionId: connection.id, trigger, startedBy: home.actor.name });
  await audit(home, 'run.start', { type: 'export', name: exp.name }, { runId: run.id, trigger });
  return run;
}

/** Queues a run of the export and executes it in this process. */
export async function runExport(home: Home, name: string, observer: RunObserver = {}, signal?: AbortSignal, trigger: Run['trigger'] = 'manual'): Promise<Run> {
  const run = await queueRun(home, name, trigger);
  return executeRun(home, run.id, home.actor, observer, signal);
}

/** Records a new run that continues a failed or cancelled one from its checkpoint. */
export async function queueResume(home: Home, runId: string): Promise<Run> {
  const previous = await getRun(home.db, runId);
  if (previous.status !== 'failed' && previous.status !== 'cancelled') {
    throw new ValidationError(`Run ${runId} is ${previous.status}; only a failed or cancelled run can be resumed.`);
  }
  const exp = await store.getExportById(home.db, previous.exportId);
  const connection = await getConnection(home.db, home.box, exp.connectionId);
  assertCanUse(home.actor, connection);
  const run = await createRun(home.db, {
    exportId: exp.id,
    exportName: exp.name,
    connectionId: connection.id,
    trigger: 'resume',
    startedBy: home.actor.name,
    resumedFrom: previous,
  });
  await audit(home, 'run.resume', { type: 'export', name: exp.name }, { runId: run.id, resumedFrom: runId });
  return run;
}

/** Continues a failed or cancelled run from its checkpoint, as a new run linked to it, in this process. */
export async function resumeRun(home: Home, runId: string, observer: RunObserver = {}, signal?: AbortSignal): Promise<Run> {
  const run = await queueResume(home, runId);
  return executeRun(home, run.id, home.actor, observer, signal);
}

/**
 * The scheduled refresh: re-materializes every segment, then runs every export, one after another. A failed
 * export does not stop the others; each one's run records what happened.
 */
export async function refreshAndRunAll(home: Home, observer: (exportName: string) => RunObserver = () => ({}), signal?: AbortSignal) {
  const segments = await refreshSegments(home);
  const runs: Run[] = [];
  for (const exp of await store.listExports(home.db)) {
    if (signal?.aborted) break;
    runs.push(await runExport(home, exp.name, observer(exp.name), signal, 'refresh'));
  }
  return { segments, runs };
}
