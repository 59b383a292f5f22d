import { sql, type Selectable } from 'kysely';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Segment } from '../../domain/model.ts';
import { newId } from '../../lib/ids.ts';
import type { Db, SegmentsTable } from './db.ts';
import { isUniqueViolation, nowIso } from './json.ts';
import { throwMismatch } from './versions.ts';

function toSegment(row: Selectable<SegmentsTable>): Segment {
  return {
    id: row.id,
    name: row.name,
    entity: row.entity,
    filter: row.filter,
    createdBy: row.created_by,
    createdAt: row.created_at,
    refreshedAt: row.refreshed_at,
    members: row.members === null ? null : Number(row.members),
    version: Number(row.version),
  };
}

export async function createSegment(db: Db, input: { name: string; entity: string; filter: string; createdBy: string }): Promise<Segment> {
  const at = nowIso();
  const id = newId('seg');
  try {
    await db
      .insertInto('segments')
      .values({ id, name: input.name, entity: input.entity, filter: input.filter, created_by: input.createdBy, created_at: at, updated_at: at, refreshed_at: null, members: null })
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`A segment named "${input.name}" already exists. Choose another name or remove it first.`);
    throw error;
  }
  return getSegment(db, input.name);
}

export async function findSegment(db: Db, name: string): Promise<Segment | undefined> {
  const row = await db.selectFrom('segments').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toSegment(row) : undefined;
}

export async function getSegment(db: Db, name: string): Promise<Segment> {
  const segment = await findSegment(db, name);
  if (!segment) throw new NotFoundError(`No segment named "${name}". See \`outflow segment list\`.`);
  return segment;
}


export async function listSegments(db: Db): Promise<Segment[]> {
  return (await db.selectFrom('segments').selectAll().orderBy('name').execute()).map(toSegment);
}

/** A refresh's outcome: the segment's current count, and one more point of its history. */
export async function recordSegmentRefresh(db: Db, id: string, members: number, at: string): Promise<void> {
  await db.updateTable('segments').set({ members, refreshed_at: at, updated_at: at }).where('id', '=', id).execute();
  await addRefreshPoint(db, id, members, at);
}

/** One point of a segment's member-count history (every refresh adds one; see {@link listSegmentRefreshes}). */
export async function addRefreshPoint(db: Db, segmentId: string, members: number, at: string): Promise<void> {
  await db.insertInto('segment_refreshes').values({ id: newId('sref'), segment_id: segmentId, at, members }).execute();
}

export interface RefreshPoint {
  id: string;
  at: string;
  members: number;
}

/**
 * A segment's refreshes, newest first, `limit` at a time: `before` is the last point of the page before (a keyset
 * on the (segment_id, at) index, so a segment refreshed every few minutes for years reads one page, not all).
 */
export async function listSegmentRefreshes(db: Db, segmentId: string, options: { limit: number; before?: { at: string; id: string } }): Promise<RefreshPoint[]> {
  let query = db.selectFrom('segment_refreshes').select(['id', 'at', 'members']).where('segment_id', '=', segmentId).orderBy('at', 'desc').orderBy('id', 'desc').limit(options.limit);
  const before = options.before;
  if (before) query = query.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]));
  return (await query.execute()).map((r) => ({ id: r.id, at: r.at, members: Number(r.members) }));
}

export async function getSegmentById(db: Db, id: string): Promise<Segment> {
  const row = await db.selectFrom('segments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`The segment ${id} was removed.`);
  return toSegment(row);
}

/**
 * Changes a segment's definition and advances its version (refreshes, recordSegmentRefresh, do not: no edit can
 * overwrite a count). `members` and `refreshedAt` describe the materialized membership: pass the counts of a
 * refresh under the new definition, or null for both when it has not been refreshed. With `expectedVersion`, a
 * compare-and-set: the segment changes only if it is still at that version, else VersionMismatch.
 */
export async function updateSegment(
  db: Db,
  id: string,
  patch: { entity?: string; filter?: string; members?: number | null; refreshedAt?: string | null },
  expectedVersion?: number,
): Promise<Segment> {
  let query = db
    .updateTable('segments')
    .set({
      ...(patch.entity !== undefined ? { entity: patch.entity } : {}),
      ...(patch.filter !== undefined ? { filter: patch.filter } : {}),
      ...(patch.members !== undefined ? { members: patch.members } : {}),
      ...(patch.refreshedAt !== undefined ? { refreshed_at: patch.refreshedAt } : {}),
      updated_at: nowIso(),
      version: sql<number>`version + 1`,
    })
    .where('id', '=', id);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  const result = await query.executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) await throwMismatch(db, 'segments', id, `The segment ${id} was removed.`);
  return getSegmentById(db, id);
}

/**
 * Removes the segment and its refresh history; with `expectedVersion`, only if it is still at that version (else
 * VersionMismatch, and nothing is removed).
 */
export async function removeSegment(db: Db, id: string, expectedVersion?: number): Promise<void> {
  let query = db.deleteFrom('segments').where('id', '=', id);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  if (Number((await query.executeTakeFirst()).numDeletedRows) === 0 && expectedVersion !== undefined) {
    await throwMismatch(db, 'segments', id, `The segment ${id} was removed.`);
  }
  await db.deleteFrom('segment_refreshes').where('segment_id', '=', id).execute();
}
