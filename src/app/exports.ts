import { deleteNotify } from '../store/metadata/notify.ts';
import { prepareExportNotify } from './notify.ts';
import { getDestination } from '../destinations/index.ts';
import type { RecordExportDefinition } from '../destinations/kit/define.ts';
import { aboutField, ConfigError, withRemedy, NotFoundError, RunConflictError, ValidationError } from '../domain/errors.ts';
import { exportConfigBase, type Connection, type Export, type Run, type Segment, type UsableBy } from '../domain/model.ts';
import { checkRecordLimits } from '../engine/limits.ts';
import { fileNameClash, fileNameClashMessage } from '../engine/files.ts';
import { dryRun, executeRun, splitExportConfig, type DryRunReport, type RunObserver } from '../engine/run-export.ts';
import { assertCanUse, destinationContext, resolveConnectionConfig } from '../engine/services.ts';
import { connectionLabels, getConnection, getConnectionByName } from '../store/metadata/connections.ts';
import * as store from '../store/metadata/exports.ts';
import { createRun, getRun, listRuns } from '../store/metadata/runs.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import { assertMayChangeExports, exportActions, exportChecks, homeChecks, type ActionView, type ExportAction } from './permissions.ts';
import { reapStaleRuns, supersedingRun } from './runs.ts';
import { shellQuote } from '../lib/shell.ts';
import { redactUrl } from '../lib/redact-url.ts';
import { getSegment } from '../store/metadata/segments.ts';
import type { Home } from './home.ts';
import { secretKeys } from '../destinations/kit/secret.ts';
import { showSchedule } from './schedule.ts';
import { checkName, refuseUnknownKeys, zodIssues } from './validation.ts';
import { checkCron } from '../engine/schedule-spec.ts';
import { setExportSchedule } from './schedule.ts';
import { checkPrecondition, etagOf, removalVersion, writeVersion, type Precondition } from './versions.ts';

/** An export's own schedule, saved with it (all or nothing); `null` takes it away on an update. */
export type OwnScheduleInput = { cron: string; timeZone?: string } | null;

export interface CreateExportInput {
  name: string;
  connection: string;
  segments?: string[];
  entities?: string[];
  config?: unknown;
  schedule?: OwnScheduleInput;
}

export interface ExportView {
  /** Immutable: the REST paths take it as well as the name, which a rename changes. */
  id: string;
  name: string;
  connection: string;
  type: string;
  segments?: string[];
  entities?: string[];
  config: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
  /** Its connection was removed: runs are refused until it is moved to another one. */
  connectionRemoved?: true;
  /**
   * What the caller may do to it now, decided by the checks the use cases make (src/app/permissions.ts):
   * `run` (run, dry run, resume, cancel), `edit`, `remove`, `schedule` (its own schedule, pause); a refused
   * action carries the reason the request would get.
   */
  actions: Record<ExportAction, ActionView>;
  /** The version shown (also the ETag header): send it as If-Match to edit or remove exactly this version. */
  etag: string;
}

/** What saving an export returns: the export, and what the user should know but that did not stop the save. */
export interface CreatedExportView extends ExportView {
  warnings: string[];
}

/**
 * What `export list/show` and the API show of an export. `labels` holds the connections' names and types
 * (a removed one is missing); a list passes one lookup for all exports instead of a query per export.
 */
async function toExportView(home: Home, exp: Export, labels?: Map<string, { name: string; type: string; usableBy: UsableBy }>): Promise<ExportView> {
  const connection = (labels ?? (await connectionLabels(home.db, [exp.connectionId]))).get(exp.connectionId);
  return {
    id: exp.id,
    name: exp.name,
    connection: connection?.name ?? '(removed)',
    type: connection?.type ?? 'unknown',
    // Said plainly, so interfaces offer to move the export rather than read a placeholder name.
    ...(connection ? {} : { connectionRemoved: true }),
    ...(exp.sourceKind === 'segments' ? { segments: exp.sources } : { entities: exp.sources }),
    config: exp.config,
    createdBy: exp.createdBy,
    createdAt: exp.createdAt,
    actions: exportActions(home.actor, connection ?? null),
    etag: etagOf(exp),
  };
}

/** Validates and saves an export. Saving never runs it. */
export async function createExport(home: Home, input: CreateExportInput): Promise<CreatedExportView> {
  const name = input.name.trim();
  if (!name) throw new ValidationError('An export needs a name (--name).');
  checkName(name, 'export');
  const sources = pickSources(input);
  if (!sources) throw new ValidationError('Pick what to export: either --segments a,b or --entities X,Y.');

  const connection = await getConnectionByName(home.db, home.box, input.connection);
  await permit(home, 'export.create', { type: 'export', name }, () => {
    homeChecks.createExport(home.actor);
    assertCanUse(home.actor, connection);
  });
  const validated = await validateExport(home, { name, connection, ...sources, config: input.config ?? {} });
  // Checked before anything is written: an export is never saved without the schedule it was sent with.
  if (input.schedule) checkCron(input.schedule.cron, input.schedule.timeZone);
  const { warnings } = validated;
  const notify = await prepareExportNotify(home, validated.config, undefined);
  const config = notify.config;

  const exp = await store.createExport(home.db, { name, connectionId: connection.id, ...sources, config, createdBy: home.actor.name });
  await notify.save(exp.id);
  home.log.info({ export: name, connection: connection.name, by: home.actor.name }, 'export created');
  await audit(home, 'export.create', { type: 'export', name }, { connection: connection.name, sources: sources.sources, syncMode: config.syncMode });
  if (input.schedule) await setExportSchedule(home, name, input.schedule);
  for (const warning of warnings) home.log.warn({ export: name }, warning);
  return { ...(await toExportView(home, exp)), warnings };
}

export interface UpdateExportPatch {
  name?: string;
  connection?: string;
  segments?: string[];
  entities?: string[];
  /** Merged over the current config, top-level key by key; `null` removes a key. `mapping` is replaced whole. */
  config?: unknown;
  schedule?: OwnScheduleInput;
}

/**
 * Edits an export, and repairs one whose connection was removed (pass `connection`). The resulting export is
 * validated exactly as `createExport` validates a new one; a refused edit changes nothing. Contributors may
 * edit an export only when both its current and its new connection are usable by contributors.
 */
export async function updateExport(home: Home, name: string, patch: UpdateExportPatch, precondition?: Precondition): Promise<CreatedExportView> {
  await permit(home, 'export.update', { type: 'export', name }, () => assertMayChangeExports(home.actor));
  const exp = await store.getExport(home.db, name);
  checkPrecondition(precondition, exp, `Export "${exp.name}"`);
  const current = await getConnection(home.db, home.box, exp.connectionId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  // Nobody can tell any more whether a contributor could use a removed connection: as with removing such an
  // export, repairing it is for administrators.
  await permit(home, 'export.update', { type: 'export', name }, () => exportChecks.edit(home.actor, current));
  const connection = patch.connection !== undefined ? await getConnectionByName(home.db, home.box, patch.connection) : current;
  if (!connection) {
    throw withRemedy(new ConfigError('invalid_settings', `The connection of export "${name}" was removed. Pick another one with \`outflow export update ${shellQuote(name)} --connection <name>\`.`), { action: 'move-export', export: name });
  }
  await permit(home, 'export.update', { type: 'export', name }, () => assertCanUse(home.actor, connection));

  const newName = patch.name === undefined ? exp.name : patch.name.trim();
  if (!newName) throw new ValidationError('An export needs a name (--name).');
  checkName(newName, 'export');
  const picked = pickSources(patch);
  if (picked === null) throw new ValidationError('Pick what to export: either --segments a,b or --entities X,Y, not both.');
  const sources = picked ?? { sourceKind: exp.sourceKind, sources: exp.sources };

  // Moving to another destination type keeps the engine's part of the config; the old destination's settings
  // mean nothing to the new one (and would be refused as unknown keys). After a removed connection the old
  // type is unknown: what the new destination does not know goes, and a repair onto the same type keeps its
  // settings (the list of a recreated Campaign Monitor connection, say).
  let base = exp.config;
  const moveWarnings: string[] = [];
  if (!current || current.type !== connection.type) {
    const carried = carryOver(exp.config, connection.type, { keepSettings: !current });
    base = carried.config;
    if (carried.dropped.length > 0) {
      moveWarnings.push(
        `Moving to ${getDestination(connection.type).title} left out what only the previous destination used: ${carried.dropped.join(', ')}.`,
      );
    }
  }
  let merged: unknown = base;
  if (patch.config !== undefined) {
    if (!isObject(patch.config)) throw new ValidationError('The export config must be a JSON object.');
    merged = Object.fromEntries(Object.entries({ ...base, ...patch.config }).filter(([, value]) => value !== null));
  }

  const validated = await validateExport(home, { id: exp.id, name: newName, connection, ...sources, config: merged });
  if (patch.schedule) checkCron(patch.schedule.cron, patch.schedule.timeZone);
  const warnings = [...moveWarnings, ...validated.warnings];
  const notify = await prepareExportNotify(home, validated.config, exp.id);
  const config = notify.config;
  // Only if nobody saved another edit since `exp` was read: its config is what `patch.config` was merged over.
  const updated = await writeVersion(precondition, exp, `Export "${exp.name}"`, () =>
    store.updateExport(home.db, exp.id, { name: newName, connectionId: connection.id, ...sources, config }, exp.version),
  );
  await notify.save(exp.id);
  home.log.info({ export: newName, previousName: exp.name, connection: connection.name, by: home.actor.name }, 'export updated');
  await audit(home, 'export.update', { type: 'export', name: exp.name }, {
    ...(newName !== exp.name ? { name: newName } : {}),
    ...(connection.id !== exp.connectionId ? { connection: connection.name } : {}),
    ...(picked ? { [sources.sourceKind]: sources.sources } : {}),
    ...(patch.config !== undefined && isObject(patch.config) ? { changed: Object.keys(patch.config).sort() } : {}),
  });
  if (patch.schedule !== undefined) await setExportSchedule(home, newName, patch.schedule);
  for (const warning of warnings) home.log.warn({ export: newName }, warning);
  return { ...(await toExportView(home, updated)), warnings };
}

/**
 * What an export's config keeps when it moves to a connection of type `type`: `mapping` and `syncMode` for a
 * marketing destination, `rowsPerFile` for files, `notify` for both (README: a move keeps the mapping and the
 * sync mode only), and with `keepSettings` the settings the new destination knows. Returns the dropped keys.
 */
function carryOver(config: Record<string, unknown>, type: Connection['type'], options: { keepSettings: boolean }): { config: Record<string, unknown>; dropped: string[] } {
  const kind = getDestination(type).export;
  const kept = new Set(kind.kind === 'files' ? ['rowsPerFile', 'notify'] : ['mapping', 'syncMode', 'notify']);
  if (options.keepSettings) for (const key of Object.keys(kind.settings.shape)) kept.add(key);
  const entries = Object.entries(config);
  // An empty mapping and the default sync mode are what every export has: leaving them out is no news.
  const meaningful = ([key, value]: [string, unknown]) =>
    !(key === 'mapping' && isObject(value) && Object.keys(value).length === 0) && !(key === 'syncMode' && value === 'full');
  return {
    config: Object.fromEntries(entries.filter(([key]) => kept.has(key))),
    dropped: entries.filter(([key]) => !kept.has(key)).filter(meaningful).map(([key]) => key),
  };
}

/** `undefined` when neither list is given, `null` when both are, else the sources (empty lists count as not given). */
function pickSources(input: { segments?: string[]; entities?: string[] }): { sourceKind: Export['sourceKind']; sources: string[] } | null | undefined {
  const hasSegments = (input.segments?.length ?? 0) > 0;
  const hasEntities = (input.entities?.length ?? 0) > 0;
  if (hasSegments && hasEntities) return null;
  if (hasSegments) return { sourceKind: 'segments', sources: input.segments! };
  if (hasEntities) return { sourceKind: 'entities', sources: input.entities! };
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ExportDraft {
  /** Absent while the export is being created. */
  id?: string;
  name: string;
  connection: Connection;
  sourceKind: Export['sourceKind'];
  sources: string[];
  config: unknown;
}

/**
 * Everything a run would refuse that can be known before it starts: the config's keys and values, the
 * sources, the mapping against each source's entity, the destination's limits (with the member counts of the
 * segments' last refresh) and the destination's own check of the settings against the account. Used by
 * create and update alike; returns the config to store.
 */
async function validateExport(home: Home, draft: ExportDraft): Promise<{ config: Record<string, unknown>; warnings: string[] }> {
  const destination = getDestination(draft.connection.type);
  const kind = destination.export;
  if (draft.sourceKind === 'entities' && kind.kind === 'records') {
    throw new ValidationError(`${destination.title} exports take segments only: pass --segments instead of --entities.`);
  }

  const rawConfig = draft.config;
  if (!isObject(rawConfig)) throw new ValidationError('The export config must be a JSON object.');
  const engineKeys = kind.kind === 'files' ? ['mapping', 'syncMode', 'rowsPerFile', 'notify'] : ['mapping', 'syncMode', 'notify'];
  refuseUnknownKeys(rawConfig, [...engineKeys, ...Object.keys(kind.settings.shape)], `${destination.title} export config`);
  const base = exportConfigBase.safeParse(rawConfig);
  if (!base.success) throw new ValidationError(`The export config is invalid: ${describe(base.error)}.`, zodIssues(base.error));
  const { mapping, syncMode, settings, rowsPerFile } = splitExportConfig(rawConfig);
  const parsedSettings = kind.settings.safeParse(settings);
  if (!parsedSettings.success) {
    throw new ValidationError(`The ${destination.title} export settings are invalid: ${describe(parsedSettings.error)}.`, zodIssues(parsedSettings.error));
  }
  if (rawConfig.rowsPerFile !== undefined && (rowsPerFile === undefined || !Number.isInteger(rowsPerFile) || rowsPerFile < 1)) {
    throw new ValidationError('rowsPerFile must be a positive whole number.');
  }

  const label = draft.sourceKind === 'segments' ? 'Segment' : 'Entity';
  const repeated = draft.sources.filter((source, i) => draft.sources.indexOf(source) !== i);
  if (repeated.length > 0) {
    throw new ValidationError(`${label} "${repeated[0]}" is listed more than once; name each ${label.toLowerCase()} once.`, [{ path: draft.sourceKind, message: 'duplicate' }]);
  }

  if (kind.kind === 'files') {
    const clash = fileNameClash(draft.sources);
    if (clash) throw new ValidationError(fileNameClashMessage(clash, draft.sourceKind === 'segments' ? 'Segments' : 'Entities'), [{ path: draft.sourceKind, message: 'same file name' }]);
  }

  // Sources exist, and for record destinations the mapping fits every segment's entity.
  const entities = new Set<string>();
  const segments: Segment[] = [];
  for (const source of draft.sources) {
    if (draft.sourceKind === 'segments') {
      const segment = await getSegment(home.db, source);
      segments.push(segment);
      entities.add(segment.entity);
    } else {
      entities.add((await home.profiles.getEntity(source)).name);
    }
  }
  if (kind.kind === 'records') {
    await validateMapping(home, destination.title, kind, mapping, [...entities]);
    if (syncMode === 'mirror' && !kind.supportsRemove) throw new ValidationError(`${destination.title} cannot remove members, so "syncMode": "mirror" is not available.`);
    const config = await resolveConnectionConfig(home, draft.connection);
    // Only refreshed segments have a count; an unrefreshed one is checked by the run, which counts it.
    const counted = segments.filter((s) => s.members !== null).map((s) => ({ name: s.name, members: s.members! }));
    // Over a limit is about the segments picked: forms show it next to them.
    await checkRecordLimits(home.db, { id: draft.id, name: draft.name, connectionId: draft.connection.id }, destination.title, kind, config, counted).catch((e: unknown) => {
      throw aboutField(e, draft.sourceKind);
    });
    if (kind.validate) {
      const ctx = destinationContext(home, draft.connection);
      const session = await kind.open(config, ctx);
      try {
        await kind.validate({ connection: config, settings: parsedSettings.data, mapping, session, ctx });
      } catch (e) {
        // The destination names the setting it checked when it can (a list id, an account); otherwise the
        // refusal is about the connection the export was pointed at.
        throw aboutField(e, 'connection');
      } finally {
        await session.close?.();
      }
    }
  } else if (Object.keys(mapping).length > 0) {
    throw new ValidationError(`${destination.title} exports write every column; remove "mapping" from the config.`);
  } else if (syncMode !== 'full') {
    throw new ValidationError(`${destination.title} exports write every row on every run: "syncMode": "${syncMode}" is for marketing destinations. Remove it or set "full".`, [
      { path: 'syncMode', message: 'only "full" for file exports' },
    ]);
  }
  const warnings =
    kind.kind === 'records' && draft.sourceKind === 'segments' ? await sharedTargetWarnings(home, kind, draft, parsedSettings.data) : [];
  return { config: { ...rawConfig, mapping, syncMode }, warnings };
}

/**
 * Two exports of one connection that write into the same list or audience mix their members there, and one
 * in mirror mode removes members that left its own segment though the other still sends them. Allowed (it
 * can be deliberate), but said when the second export is saved.
 */
async function sharedTargetWarnings(home: Home, kind: RecordExportDefinition<unknown>, draft: ExportDraft, settings: Record<string, unknown>): Promise<string[]> {
  if (!kind.targets) return [];
  const { connection } = draft;
  const mine = new Set(kind.targets({ segments: draft.sources, settings }));
  const warnings: string[] = [];
  for (const other of await store.listExports(home.db, { connectionId: connection.id })) {
    if (other.sourceKind !== 'segments' || other.id === draft.id) continue;
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
  const exports = await store.listExports(home.db);
  // One query for every connection's name and type: GET /api/exports serves this on each request.
  const labels = await connectionLabels(home.db);
  return Promise.all(exports.map((e) => toExportView(home, e, labels)));
}

export async function showExport(home: Home, name: string): Promise<ExportView> {
  return toExportView(home, await store.getExport(home.db, name));
}

export async function removeExport(home: Home, name: string, precondition?: Precondition): Promise<{ removed: string }> {
  await permit(home, 'export.remove', { type: 'export', name }, () => assertMayChangeExports(home.actor));
  const exp = await store.getExport(home.db, name);
  checkPrecondition(precondition, exp, `Export "${exp.name}"`);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch(() => null);
  await permit(home, 'export.remove', { type: 'export', name }, () => exportChecks.remove(home.actor, connection));
  // A run still going would write its delivered state back after the drop below.
  await reapStaleRuns(home);
  const active = (await listRuns(home.db, { exportId: exp.id, limit: 5 })).find((r) => r.status === 'queued' || r.status === 'running');
  if (active) {
    throw new RunConflictError(`Export "${name}" has run ${active.id} ${active.status}; cancel it with \`outflow run cancel ${active.id}\` (or wait for it to end), then remove the export.`, active.id);
  }
  // What incremental sync keeps per member (keys and addresses delivered, run snapshots of the segment with
  // mapped values) is personal data that nothing reads once the export is gone. Dropped first: if the profile
  // store is busy, the removal fails and can be retried, rather than leaving the tables behind for good.
  const dropState = async (where: Home) => {
    for (const prefix of [`_delivered_${exp.id}_`, `_snap_${exp.id}_`, `_journal_${exp.id}_`]) await where.profiles.sync.dropTables(prefix);
  };
  // Inside `apply`'s transaction the drop waits for the commit: a refused apply must leave the state intact.
  if (home.deferred) home.deferred.afterCommit(`drop the delivered state of export "${name}"`, dropState);
  else await dropState(home);
  // With If-Match, removed only if still at the version the caller read (checked above, and again atomically
  // here). The delivered state is dropped before: an edit landing in between costs the next run a full resync.
  await writeVersion(precondition, exp, `Export "${exp.name}"`, () => store.removeExport(home.db, exp.id, removalVersion(precondition, exp)));
  await deleteNotify(home.db, `export:${exp.id}`);
  await audit(home, 'export.remove', { type: 'export', name });
  return { removed: name };
}

/**
 * Records a queued run of the export, after checking the caller may use its connection. Two runs of one
 * export never overlap: while one is queued or running, another request is refused with its id.
 */
export interface RunOptions {
  /** Send every member once, whatever the delivered state says, and rebuild the state (mirror and upsert). */
  fullResync?: boolean;
}

export async function queueRun(home: Home, name: string, trigger: Run['trigger'] = 'manual', options: RunOptions = {}): Promise<Run> {
  const exp = await store.getExport(home.db, name);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch(() => {
    throw withRemedy(new ConfigError('invalid_settings', `The connection of export "${name}" was removed. Pick another one with \`outflow export update ${shellQuote(name)} --connection <name>\`.`), { action: 'move-export', export: name });
  });
  await permit(home, 'run.start', { type: 'export', name }, () => exportChecks.run(home.actor, connection));
  await reapStaleRuns(home);
  const active = (await listRuns(home.db, { exportId: exp.id, limit: 5 })).find((r) => r.status === 'queued' || r.status === 'running');
  if (active) throw new RunConflictError(`Export "${name}" already has run ${active.id} ${active.status}; follow it with \`outflow run show ${active.id} --follow\`.`, active.id);
  const run = await createRun(home.db, {
    exportId: exp.id,
    exportName: exp.name,
    connectionId: connection.id,
    trigger,
    startedBy: home.actor.name,
    // The run's options travel in its checkpoint, so a resume keeps them.
    ...(options.fullResync ? { checkpoint: { sourceIndex: 0, phase: 'remove' as const, afterKey: null, fullResync: true } } : {}),
  });
  await audit(home, 'run.start', { type: 'export', name: exp.name }, { runId: run.id, trigger, ...(options.fullResync ? { fullResync: true } : {}) });
  return run;
}

/** Queues a run of the export and executes it in this process. */
export async function runExport(
  home: Home,
  name: string,
  observer: RunObserver = {},
  signal?: AbortSignal,
  trigger: Run['trigger'] = 'manual',
  options: RunOptions = {},
): Promise<Run> {
  const run = await queueRun(home, name, trigger, options);
  return executeRun(home, run.id, home.actor, observer, signal);
}

/**
 * Records a new run that continues a failed or cancelled one from its checkpoint. A run is resumed once: a run
 * that was already resumed, or that a newer successful run of its export superseded, is refused with the id of
 * the run that supersedes it (resuming it would re-send what that run sent, or an older state over a newer
 * one); so is a resume while another run of the export is queued or running.
 */
export async function queueResume(home: Home, runId: string, trigger: Run['trigger'] = 'resume'): Promise<Run> {
  await reapStaleRuns(home);
  const previous = await getRun(home.db, runId);
  if (previous.status !== 'failed' && previous.status !== 'cancelled') {
    throw new ValidationError(`Run ${runId} is ${previous.status}; only a failed or cancelled run can be resumed.`);
  }
  const exp = await store.getExportById(home.db, previous.exportId);
  const connection = await getConnection(home.db, home.box, exp.connectionId);
  await permit(home, 'run.resume', { type: 'run', name: runId }, () => exportChecks.run(home.actor, connection));
  const superseded = await supersedingRun(home, previous);
  if (superseded) {
    throw new RunConflictError(`Run ${runId} ${superseded.reason}; it cannot be resumed. See \`outflow run show ${superseded.id}\`.`, superseded.id);
  }
  const active = (await listRuns(home.db, { exportId: exp.id, limit: 5 })).find((r) => r.status === 'queued' || r.status === 'running');
  if (active) throw new RunConflictError(`Export "${exp.name}" already has run ${active.id} ${active.status}; follow it with \`outflow run show ${active.id} --follow\`.`, active.id);
  const run = await createRun(home.db, {
    exportId: exp.id,
    exportName: exp.name,
    connectionId: connection.id,
    trigger,
    startedBy: home.actor.name,
    resumedFrom: previous,
  });
  await audit(home, 'run.resume', { type: 'export', name: exp.name }, { runId: run.id, resumedFrom: runId, trigger });
  return run;
}

/** Continues a failed or cancelled run from its checkpoint, as a new run linked to it, in this process. */
export async function resumeRun(home: Home, runId: string, observer: RunObserver = {}, signal?: AbortSignal): Promise<Run> {
  const run = await queueResume(home, runId);
  return executeRun(home, run.id, home.actor, observer, signal);
}

/**
 * What a run of the export would do now, without doing it: members to add, update, remove and reject (with
 * the first rejections), and a limit that would refuse it. Nothing is sent, the destination is not contacted
 * and no state changes. Needs the same permission as a run.
 */
export async function dryRunExport(home: Home, name: string, options: RunOptions = {}): Promise<DryRunReport> {
  const exp = await store.getExport(home.db, name);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch(() => {
    throw withRemedy(new ConfigError('invalid_settings', `The connection of export "${name}" was removed. Pick another one with \`outflow export update ${shellQuote(name)} --connection <name>\`.`), { action: 'move-export', export: name });
  });
  exportChecks.run(home.actor, connection);
  const report = home.offload ? await home.offload.dryRun(exp.id, options) : await dryRun(home, exp, connection, options);
  await audit(home, 'run.dry-run', { type: 'export', name: exp.name }, { ...(options.fullResync ? { fullResync: true } : {}) });
  return report;
}

/** One field that leaves: the entity column and where it lands at the destination. */
export interface ManifestField {
  entity: string;
  column: string;
  /** The destination's field (record exports) or the file column (file exports, which write every column). */
  target: string;
  title?: string;
}

/**
 * What a privacy officer needs to know about one export, in one place: which fields leave, to which destination
 * and account, under whose consent, how often, and how many profiles its last runs sent. It holds no secret (the
 * connection's credentials are left out, not even masked) and no profile data, so every role that may see the
 * export may see its manifest; only administrators see how the connection logs in (see `account`).
 */
export interface ExportManifest {
  export: string;
  generatedAt: string;
  createdBy: string;
  createdAt: string;
  destination: {
    type: string;
    title: string;
    connection: string;
    /**
     * Administrators: the connection's non-secret settings (host, port, user name, folder, base URL without its
     * user name, password and query …) that say which account it is. Contributors and viewers: where the data
     * goes only, `host` (and `region`), never login details of a connection they may not see.
     */
    account: Record<string, unknown>;
    /** The export's own destination settings (list, audience, customer and account ids...). */
    settings: Record<string, unknown>;
  };
  sources: Array<{ kind: 'segment' | 'entity'; name: string; entity: string; filter?: string; members?: number | null; refreshedAt?: string | null }>;
  syncMode: string;
  fields: ManifestField[];
  consent: { acceptedBy: string; acceptedAt: string } | null;
  usableBy: string | null;
  schedule: {
    /** `own`: a cron of its own; `refresh`: with the home's scheduled refresh; `manual`: only when someone runs it. */
    mode: 'own' | 'refresh' | 'manual';
    paused: boolean;
    cron?: string[];
    days?: string;
    times?: string[];
    timeZone?: string;
    next: Array<{ local: string; utc: string }>;
  };
  lastRuns: Array<{ id: string; status: string; trigger: string; startedBy: string; finishedAt: string | null; sent: number; rejected: number }>;
}

const MANIFEST_RUNS = 10;

/**
 * What contributors and viewers see of a connection in a manifest: where the data goes (the host, and the
 * data center region where the destination has one), not how to log in there (port, user name, folder, base
 * URL path, limits), which the role table keeps for administrators.
 */
function whereDataGoes(config: Record<string, unknown>): { host?: string; region?: string } {
  let host: string | undefined;
  if (typeof config.host === 'string') host = config.host;
  else if (typeof config.baseUrl === 'string' && URL.canParse(config.baseUrl)) host = new URL(config.baseUrl).hostname;
  return { ...(host ? { host } : {}), ...(typeof config.region === 'string' ? { region: config.region } : {}) };
}

export async function exportManifest(home: Home, name: string): Promise<ExportManifest> {
  const exp = await store.getExport(home.db, name);
  const connection = await getConnection(home.db, home.box, exp.connectionId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  const destination = connection ? getDestination(connection.type) : null;
  const kind = destination?.export;

  const account: Record<string, unknown> = {};
  if (connection && destination) {
    if (home.actor.role === 'admin') {
      const secrets = new Set(secretKeys(destination.connection.schema));
      for (const [key, value] of Object.entries(connection.config)) {
        if (!secrets.has(key) && value !== undefined && value !== null) account[key] = typeof value === 'string' ? redactUrl(value) : value;
      }
    } else Object.assign(account, whereDataGoes(connection.config));
  }
  const { mapping, syncMode, settings } = splitExportConfig(exp.config);

  const sources: ExportManifest['sources'] = [];
  for (const source of exp.sources) {
    if (exp.sourceKind === 'segments') {
      const segment = await getSegment(home.db, source).catch(() => null);
      sources.push({ kind: 'segment', name: source, entity: segment?.entity ?? '(removed)', ...(segment ? { filter: segment.filter, members: segment.members, refreshedAt: segment.refreshedAt } : {}) });
    } else sources.push({ kind: 'entity', name: source, entity: source });
  }

  const fields: ManifestField[] = [];
  const entities = [...new Set(sources.map((s) => s.entity))];
  for (const entity of entities) {
    if (kind?.kind === 'files') {
      // A file export writes every column of the entity: each one leaves.
      const info = await home.profiles.getEntity(entity).catch(() => null);
      for (const column of info?.columns ?? []) fields.push({ entity, column: column.name, target: column.name });
    } else {
      for (const [target, column] of Object.entries(mapping)) {
        const title = kind?.kind === 'records' ? kind.fields[target]?.title : undefined;
        fields.push({ entity, column, target, ...(title ? { title } : {}) });
      }
    }
  }

  const schedules = await showSchedule(home);
  const own = schedules.exports.find((e) => e.name === exp.name);
  const schedule: ExportManifest['schedule'] = own?.cron
    ? { mode: 'own', paused: own.paused, cron: [own.cron], timeZone: own.timeZone!, next: own.paused ? [] : own.next }
    : schedules.enabled
      ? {
          mode: 'refresh',
          paused: own?.paused ?? false,
          ...(schedules.days ? { days: schedules.days, times: schedules.times! } : { cron: schedules.cron! }),
          timeZone: schedules.timeZone!,
          next: own?.paused ? [] : schedules.next,
        }
      : { mode: 'manual', paused: own?.paused ?? false, next: [] };

  // A run that was resumed is not listed: the run that continues it reports the whole chain (the counts carry
  // over), so listing both would count its members twice.
  const recent = await listRuns(home.db, { exportId: exp.id, limit: MANIFEST_RUNS * 2 });
  const resumed = new Set(
    recent.length === 0
      ? []
      : (await home.db.selectFrom('runs').select('resumed_from').where('resumed_from', 'in', recent.map((r) => r.id)).execute()).map((r) => r.resumed_from),
  );
  const runs = recent.filter((r) => !resumed.has(r.id)).slice(0, MANIFEST_RUNS);
  return {
    export: exp.name,
    generatedAt: home.now().toISOString(),
    createdBy: exp.createdBy,
    createdAt: exp.createdAt,
    destination: {
      type: connection?.type ?? 'unknown',
      title: destination?.title ?? 'unknown (the connection was removed)',
      connection: connection?.name ?? '(removed)',
      account,
      settings,
    },
    sources,
    syncMode,
    fields,
    consent: connection?.consent ?? null,
    usableBy: connection?.usableBy ?? null,
    schedule,
    lastRuns: runs.map((r) => ({ id: r.id, status: r.status, trigger: r.trigger, startedBy: r.startedBy, finishedAt: r.finishedAt, sent: r.sent, rejected: r.rejected })),
  };
}
