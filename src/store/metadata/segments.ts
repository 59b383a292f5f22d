import type { Selectable } from 'kysely';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Segment } from '../../domain/model.ts';
import { newId } from '../../lib/ids.ts';
import type { Db, SegmentsTable } from './db.ts';
import { isUniqueViolation, nowIso } from './json.ts';

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

export async function recordSegmentRefresh(db: Db, id: string, members: number, at: string): Promise<void> {
  await db.updateTable('segments').set({ members, refreshed_at: at, updated_at: at }).where('id', '=', id).execute();
}

export async function getSegmentById(db: Db, id: string): Promise<Segment> {
  const row = await db.selectFrom('segments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`The segment ${id} was removed.`);
  return toSegment(row);
}

/**
 * Changes a segment's definition. `members` and `refreshedAt` describe the materialized membership: pass the
 * counts of a refresh under the new definition, or null for both when it has not been refreshed.
 */
export async function updateSegment(
  db: Db,
  id: string,
  patch: { entity?: string; filter?: string; members?: number | null; refreshedAt?: string | null },
): Promise<Segment> {
  const result = await db
    .updateTable('segments')
    .set({
      ...(patch.entity !== undefined ? { entity: patch.entity } : {}),
      ...(patch.filter !== undefined ? { filter: patch.filter } : {}),
      ...(patch.members !== undefined ? { members: patch.members } : {}),
      ...(patch.refreshedAt !== undefined ? { refreshed_at: patch.refreshedAt } : {}),
      updated_at: nowIso(),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`The segment ${id} was removed.`);
  return getSegmentById(db, id);
}

export async function removeSegment(db: Db, id: string): Promise<void> {
  await db.deleteFrom('segments').where('id', '=', id).execute();
}
