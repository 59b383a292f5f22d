import { compileFilter, FilterError, formatFilterError } from '../store/profile/filter.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Segment } from '../domain/model.ts';
import * as segments from '../store/metadata/segments.ts';
import type { EntityInfo } from '../store/profile/profile-store.ts';
import type { Home } from './home.ts';
import { audit } from './audit.ts';
import { assertAdmin, assertNotViewer } from '../engine/services.ts';

export async function loadEntity(home: Home, entity: string, file: string, options: { key?: string; delimiter?: string }): Promise<EntityInfo> {
  assertAdmin(home.actor, 'load entities');
  const info = await home.profiles.loadEntity(entity, file, { key: options.key ?? 'profile_id', delimiter: options.delimiter });
  home.log.info({ entity, rows: info.rows, by: home.actor.name }, 'entity loaded');
  await audit(home, 'entity.load', { type: 'entity', name: entity }, { rows: info.rows, key: info.key });
  return info;
}

export function listEntities(home: Home): Promise<EntityInfo[]> {
  return home.profiles.listEntities();
}

/** Compiles `filter` against the entity's current columns; a bad filter's error shows a caret under the problem. */
async function compileFor(home: Home, entity: string, filter: string) {
  const info = await home.profiles.getEntity(entity);
  try {
    return compileFilter(filter, info.columns);
  } catch (error) {
    if (error instanceof FilterError) {
      throw new FilterError(`${error.message}\n${formatFilterError(filter, error)}`, error.position, { cause: error });
    }
    throw error;
  }
}

export async function createSegment(home: Home, input: { name: string; entity?: string; where: string }): Promise<Segment> {
  assertNotViewer(home.actor, 'create segments');
  const name = input.name.trim();
  if (!name) throw new ValidationError('A segment needs a name.');
  const entity = input.entity ?? 'Customer';
  await compileFor(home, entity, input.where);
  const segment = await segments.createSegment(home.db, { name, entity, filter: input.where, createdBy: home.actor.name });
  await audit(home, 'segment.create', { type: 'segment', name }, { entity, filter: input.where });
  return segment;
}

/** A segment as the API and `segment list --json` show it. */
export interface SegmentView {
  name: string;
  entity: string;
  filter: string;
  members: number | null;
  refreshedAt: string | null;
  createdBy: string;
  createdAt: string;
}

export function toSegmentView(s: Segment): SegmentView {
  return { name: s.name, entity: s.entity, filter: s.filter, members: s.members, refreshedAt: s.refreshedAt, createdBy: s.createdBy, createdAt: s.createdAt };
}

export async function listSegmentViews(home: Home): Promise<SegmentView[]> {
  return (await segments.listSegments(home.db)).map(toSegmentView);
}

export function listSegments(home: Home): Promise<Segment[]> {
  return segments.listSegments(home.db);
}

/** Re-materializes one segment, or all of them; returns the member counts. */
export async function refreshSegments(home: Home, name?: string): Promise<Array<{ name: string; members: number }>> {
  assertNotViewer(home.actor, 'refresh segments');
  const targets = name ? [await segments.getSegment(home.db, name)] : await segments.listSegments(home.db);
  const results: Array<{ name: string; members: number }> = [];
  for (const segment of targets) {
    const filter = await compileFor(home, segment.entity, segment.filter);
    const members = await home.profiles.refreshSegment(segment.id, segment.entity, filter);
    await segments.recordSegmentRefresh(home.db, segment.id, members, home.now().toISOString());
    home.log.info({ segment: segment.name, members }, 'segment refreshed');
    results.push({ name: segment.name, members });
  }
  return results;
}

export async function removeSegment(home: Home, name: string): Promise<void> {
  assertNotViewer(home.actor, 'remove segments');
  const segment = await segments.getSegment(home.db, name);
  await home.profiles.dropSegment(segment.id);
  await segments.removeSegment(home.db, segment.id);
  await audit(home, 'segment.remove', { type: 'segment', name });
}
