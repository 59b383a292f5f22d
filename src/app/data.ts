import { randomBytes } from 'node:crypto';
import { compileFilter, FilterError, formatFilterError } from '../store/profile/filter.ts';
import { PermissionError, StaleEditError, ValidationError } from '../domain/errors.ts';
import { listExports } from '../store/metadata/exports.ts';
import type { Actor, Export, Segment } from '../domain/model.ts';
import { decide, homeChecks, type ActionView } from './permissions.ts';
import * as segments from '../store/metadata/segments.ts';
import type { EntityInfo } from '../store/profile/profile-store.ts';
import type { Home } from './home.ts';
import { outflowCommand } from '../lib/shell.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import { checkName } from './validation.ts';
import { checkPrecondition, etagOf, removalVersion, writeVersion, type Precondition } from './versions.ts';
import { assertAdmin, assertNotViewer } from '../engine/services.ts';

/** Whether the caller may load entities: checked (and a refusal audited) before an upload is even read. */
export async function checkMayLoadEntity(home: Home, entity: string): Promise<void> {
  await permit(home, 'entity.load', { type: 'entity', name: entity }, () => assertAdmin(home.actor, 'load entities'));
}

export async function loadEntity(home: Home, entity: string, file: string, options: { key?: string; delimiter?: string }): Promise<EntityInfo> {
  await permit(home, 'entity.load', { type: 'entity', name: entity }, () => assertAdmin(home.actor, 'load entities'));
  const info = await home.profiles.loadEntity(entity, file, { key: options.key ?? 'profile_id', delimiter: options.delimiter });
  home.log.info({ entity, rows: info.rows, by: home.actor.name }, 'entity loaded');
  await audit(home, 'entity.load', { type: 'entity', name: entity }, { rows: info.rows, key: info.key });
  return info;
}

/**
 * Registers an existing PostgreSQL table or view as an entity (PostgreSQL profile store only): segments and
 * exports read it live, nothing is copied.
 */
export async function attachEntity(home: Home, entity: string, options: { table: string; key?: string }): Promise<EntityInfo> {
  await permit(home, 'entity.attach', { type: 'entity', name: entity }, () => assertAdmin(home.actor, 'attach entities'));
  const info = await home.profiles.attachEntity(entity, options.table, { key: options.key ?? 'profile_id' });
  home.log.info({ entity, table: info.attached, by: home.actor.name }, 'entity attached');
  await audit(home, 'entity.attach', { type: 'entity', name: entity }, { table: info.attached, key: info.key });
  return info;
}

export function listEntities(home: Home): Promise<EntityInfo[]> {
  // Viewers read exports, runs and segments; the profile store's shape is for those who build them.
  assertNotViewer(home.actor, 'see entities');
  return home.profiles.listEntities();
}

export const MAX_SAMPLES = 5;

/**
 * A few distinct non-null values of each column of an entity, so whoever maps fields sees what a column holds
 * (the export wizard shows them). The people who build exports may see them; viewers may not, as they may not
 * see entities. Small by design: at most MAX_SAMPLES values per column, from the entity's first rows only.
 */
export async function sampleEntity(home: Home, entity: string, perColumn = 3): Promise<{ entity: string; columns: Array<{ name: string; type: string; values: string[] }> }> {
  assertNotViewer(home.actor, 'see sample values of entities');
  if (!Number.isInteger(perColumn) || perColumn < 1 || perColumn > MAX_SAMPLES) throw new ValidationError(`Ask for 1 to ${MAX_SAMPLES} sample values per column.`, [{ path: 'limit', message: `1 to ${MAX_SAMPLES}` }]);
  const columns = await home.profiles.sampleValues(entity, perColumn);
  await audit(home, 'entity.samples', { type: 'entity', name: entity }, { perColumn });
  return { entity, columns };
}

/** Compiles `filter` against the entity's current columns; a bad filter's error shows a caret under the problem. */
async function compileFor(home: Home, entity: string, filter: string, segment?: string) {
  const info = await home.profiles.getEntity(entity);
  try {
    return compileFilter(filter, info.columns);
  } catch (error) {
    if (error instanceof FilterError) {
      // An attached table's columns can change under a saved segment: say so, rather than blame the filter.
      const gone =
        segment !== undefined && info.attached && /^Unknown column/.test(error.message)
          ? `Segment "${segment}" uses a column that ${info.attached} (attached as ${entity}) no longer has (dropped or renamed?). Restore the column in ${info.attached}, or change the filter with \`${outflowCommand('segment', 'update', segment)} --where …\`. `
          : '';
      throw new FilterError(`${gone}${error.message}\n${formatFilterError(filter, error)}`, error.position, { cause: error });
    }
    throw error;
  }
}

export async function createSegment(home: Home, input: { name: string; entity?: string; where: string }): Promise<Segment> {
  await permit(home, 'segment.create', { type: 'segment', name: input.name }, () => homeChecks.createSegment(home.actor));
  const name = input.name.trim();
  if (!name) throw new ValidationError('A segment needs a name.');
  checkName(name, 'segment');
  const entity = input.entity ?? 'Customer';
  await compileFor(home, entity, input.where);
  const segment = await segments.createSegment(home.db, { name, entity, filter: input.where, createdBy: home.actor.name });
  await audit(home, 'segment.create', { type: 'segment', name }, { entity, filter: input.where });
  return segment;
}

/**
 * How many profiles a filter selects, without saving anything: the membership is materialized under a scratch
 * id (the same query a refresh runs, so the count is the one a save and refresh would give) and dropped.
 */
export async function previewSegment(home: Home, input: { entity?: string; where: string }): Promise<{ entity: string; members: number }> {
  assertNotViewer(home.actor, 'preview segments');
  const entity = input.entity ?? 'Customer';
  const compiled = await compileFor(home, entity, input.where);
  const scratch = `preview_${randomBytes(6).toString('hex')}`;
  try {
    return { entity, members: await home.profiles.refreshSegment(scratch, entity, compiled) };
  } finally {
    await home.profiles.dropSegment(scratch);
  }
}

/** A segment as the API and `segment list --json` show it. */
export interface SegmentView {
  /** Immutable: the REST paths take it as well as the name. */
  id: string;
  name: string;
  entity: string;
  filter: string;
  members: number | null;
  refreshedAt: string | null;
  createdBy: string;
  createdAt: string;
  /** What the caller may do to it, decided by the checks the use cases make; a refused action carries the reason. */
  actions: Record<'edit' | 'refresh' | 'remove', ActionView>;
  /** The version of the definition shown (also the ETag header): send it as If-Match to edit or remove exactly this one. */
  etag: string;
}

function toSegmentView(actor: Actor, s: Segment, exports: Export[]): SegmentView {
  return {
    id: s.id,
    name: s.name,
    entity: s.entity,
    filter: s.filter,
    members: s.members,
    refreshedAt: s.refreshedAt,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    actions: {
      edit: decide(() => checkChangeSegment(actor, s, exports, 'change')),
      refresh: decide(() => assertNotViewer(actor, 'refresh segments')),
      remove: decide(() => checkChangeSegment(actor, s, exports, 'remove')),
    },
    etag: etagOf(s),
  };
}

/** A segment as the API and the CLI show it, with what the caller may do to it. */
export async function segmentView(home: Home, segment: Segment): Promise<SegmentView> {
  return toSegmentView(home.actor, segment, await listExports(home.db));
}

export async function listSegmentViews(home: Home): Promise<SegmentView[]> {
  // One lookup of the exports for every segment's actions.
  const exports = await listExports(home.db);
  return (await segments.listSegments(home.db)).map((s) => toSegmentView(home.actor, s, exports));
}

export function listSegments(home: Home): Promise<Segment[]> {
  return segments.listSegments(home.db);
}

/** Re-materializes one segment, or all of them; returns the member counts. */
export async function refreshSegments(home: Home, name?: string): Promise<Array<{ name: string; members: number }>> {
  await permit(home, 'segment.refresh', { type: 'segment', name: name ?? null }, () => assertNotViewer(home.actor, 'refresh segments'));
  const targets = name ? [await segments.getSegment(home.db, name)] : await segments.listSegments(home.db);
  const results: Array<{ name: string; members: number }> = [];
  for (const segment of targets) {
    const filter = await compileFor(home, segment.entity, segment.filter, segment.name);
    const members = await home.profiles.refreshSegment(segment.id, segment.entity, filter);
    await segments.recordSegmentRefresh(home.db, segment.id, members, home.now().toISOString());
    home.log.info({ segment: segment.name, members }, 'segment refreshed');
    results.push({ name: segment.name, members });
  }
  return results;
}

/**
 * Contributors may create and refresh segments, but not change or remove one that another user's export
 * uses: that would change what the other user's export sends.
 */
async function assertMayChangeSegment(home: Home, segment: Segment, action: 'change' | 'remove'): Promise<void> {
  checkChangeSegment(home.actor, segment, await listExports(home.db), action);
}

function checkChangeSegment(actor: Actor, segment: Segment, exports: Export[], action: 'change' | 'remove'): void {
  assertNotViewer(actor, `${action} segments`);
  if (actor.role === 'admin') return;
  const users = exports.filter((e) => e.sourceKind === 'segments' && e.sources.includes(segment.name) && e.createdBy !== actor.name);
  if (users.length === 0) return;
  const owners = [...new Set(users.map((e) => e.createdBy))];
  throw new PermissionError(
    `Segment "${segment.name}" is used by ${users.map((e) => `export "${e.name}" of ${e.createdBy}`).join(', ')}, so only an administrator may ${action} it. ` +
      `Ask an administrator, or ask ${owners.join(' or ')} to take "${segment.name}" out of ${users.length === 1 ? 'that export' : 'those exports'} first.`,
  );
}

/**
 * Changes a segment's filter (and entity), compiled exactly as on create, and refreshes its membership at once:
 * a run after the edit sends the members of the new definition, never a stale membership of the old one.
 */
export async function updateSegment(home: Home, name: string, patch: { where?: string; entity?: string }, precondition?: Precondition): Promise<Segment> {
  const segment = await segments.getSegment(home.db, name);
  await permit(home, 'segment.update', { type: 'segment', name }, () => assertMayChangeSegment(home, segment, 'change'));
  const what = `Segment "${segment.name}"`;
  checkPrecondition(precondition, segment, what);
  if (patch.where === undefined && patch.entity === undefined) throw new ValidationError('Nothing to change: pass --where (and --entity to move the segment to another entity).');
  const entity = patch.entity ?? segment.entity;
  const where = patch.where ?? segment.filter;
  const filter = await compileFor(home, entity, where);
  if (home.deferred) {
    // Inside `apply`'s transaction: the membership is rebuilt once the new definition has committed; until
    // then the segment counts as never refreshed, so no run sends members of the old definition.
    const updated = await writeVersion(precondition, segment, what, () =>
      segments.updateSegment(home.db, segment.id, { entity, filter: where, members: null, refreshedAt: null }, segment.version),
    );
    home.deferred.afterCommit(`refresh segment "${name}"`, (outside) => refreshSegments(outside, name));
    await audit(home, 'segment.update', { type: 'segment', name }, { entity, filter: where });
    return updated;
  }
  const members = await home.profiles.refreshSegment(segment.id, entity, filter);
  const at = home.now().toISOString();
  const updated = await writeVersion(precondition, segment, what, () =>
    segments.updateSegment(home.db, segment.id, { entity, filter: where, members, refreshedAt: at }, segment.version),
  ).catch(async (error: unknown) => {
    // Another edit was saved while this one materialized its members: those are of a definition that was not
    // saved. Rebuilt from the saved one, so runs never send them.
    if (error instanceof StaleEditError) await refreshSegments(home, segment.name).catch(() => undefined);
    throw error;
  });
  // The edit's refresh is a point of the segment's history like any other (the chart shows the change it made).
  await segments.addRefreshPoint(home.db, segment.id, members, at);
  home.log.info({ segment: name, members, by: home.actor.name }, 'segment updated and refreshed');
  await audit(home, 'segment.update', { type: 'segment', name }, { entity, filter: where, members });
  return { ...updated, members };
}

export async function removeSegment(home: Home, name: string, precondition?: Precondition): Promise<void> {
  await permit(home, 'segment.remove', { type: 'segment', name }, () => assertNotViewer(home.actor, 'remove segments'));
  const segment = await segments.getSegment(home.db, name);
  await permit(home, 'segment.remove', { type: 'segment', name }, () => assertMayChangeSegment(home, segment, 'remove'));
  checkPrecondition(precondition, segment, `Segment "${segment.name}"`);
  if (home.deferred) home.deferred.afterCommit(`drop the members of segment "${name}"`, (outside) => outside.profiles.dropSegment(segment.id));
  else await home.profiles.dropSegment(segment.id);
  await writeVersion(precondition, segment, `Segment "${segment.name}"`, () => segments.removeSegment(home.db, segment.id, removalVersion(precondition, segment)));
  await audit(home, 'segment.remove', { type: 'segment', name });
}

/** A segment's member count at one refresh (`GET /api/v1/segments/{id}/refreshes`). */
export interface SegmentRefreshView {
  at: string;
  members: number;
}

/**
 * A segment's member count at each refresh, newest first, a page at a time (`before`: the last point of the page
 * before). Any signed-in account may read it, as it may read the segment's current count.
 */
export async function listSegmentRefreshes(home: Home, name: string, options: { limit: number; before?: { at: string; id: string } }): Promise<Array<SegmentRefreshView & { id: string }>> {
  const segment = await segments.getSegment(home.db, name);
  return segments.listSegmentRefreshes(home.db, segment.id, options);
}
