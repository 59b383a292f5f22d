import type { Selectable } from 'kysely';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Export } from '../../domain/model.ts';
import { newId } from '../../lib/ids.ts';
import type { Db, ExportsTable } from './db.ts';
import { sql } from 'kysely';
import { fromJson, isUniqueViolation, nowIso, toJson } from './json.ts';
import { throwMismatch } from './versions.ts';

export interface NewExport {
  name: string;
  connectionId: string;
  sourceKind: Export['sourceKind'];
  sources: string[];
  config: Record<string, unknown>;
  createdBy: string;
}

function toExport(row: Selectable<ExportsTable>): Export {
  return {
    id: row.id,
    name: row.name,
    connectionId: row.connection_id,
    sourceKind: row.source_kind as Export['sourceKind'],
    sources: fromJson(row.sources, []),
    config: fromJson(row.config, {}),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

export async function createExport(db: Db, input: NewExport): Promise<Export> {
  const at = nowIso();
  const id = newId('exp');
  try {
    await db
      .insertInto('exports')
      .values({
        id,
        name: input.name,
        connection_id: input.connectionId,
        source_kind: input.sourceKind,
        sources: toJson(input.sources),
        config: toJson(input.config),
        created_by: input.createdBy,
        created_at: at,
        updated_at: at,
      })
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`An export named "${input.name}" already exists. Choose another name or remove it first.`);
    throw error;
  }
  return getExportById(db, id);
}

export async function getExportById(db: Db, id: string): Promise<Export> {
  const row = await db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`The export ${id} was removed.`);
  return toExport(row);
}

export async function getExport(db: Db, name: string): Promise<Export> {
  const row = await db.selectFrom('exports').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new NotFoundError(`No export named "${name}". See \`outflow export list\`.`);
  return toExport(row);
}

export async function listExports(db: Db, filter: { connectionId?: string } = {}): Promise<Export[]> {
  let query = db.selectFrom('exports').selectAll().orderBy('name');
  if (filter.connectionId) query = query.where('connection_id', '=', filter.connectionId);
  return (await query.execute()).map(toExport);
}

/**
 * Removes the export; with `expectedVersion`, only if it is still at that version (else VersionMismatch, and
 * nothing is removed): the check and the removal are one statement.
 */
export async function removeExport(db: Db, id: string, expectedVersion?: number): Promise<void> {
  let query = db.deleteFrom('exports').where('id', '=', id);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  if (Number((await query.executeTakeFirst()).numDeletedRows) === 0 && expectedVersion !== undefined) await throwMismatch(db, 'exports', id, `The export ${id} was removed.`);
  // Its own schedule and pause state go with it.
  await db.deleteFrom('schedules').where('owner', '=', id).execute();
}

export interface ExportPatch {
  name?: string;
  connectionId?: string;
  sourceKind?: Export['sourceKind'];
  sources?: string[];
  config?: Record<string, unknown>;
}

/**
 * Applies an edit in one statement and advances the version. With `expectedVersion` the statement changes the
 * export only if it is still at that version (a compare-and-set, atomic on SQLite and PostgreSQL alike); else
 * VersionMismatch, and nothing changes. Runs keep the export name they ran under.
 */
export async function updateExport(db: Db, id: string, patch: ExportPatch, expectedVersion?: number): Promise<Export> {
  try {
    let query = db
      .updateTable('exports')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.connectionId !== undefined ? { connection_id: patch.connectionId } : {}),
        ...(patch.sourceKind !== undefined ? { source_kind: patch.sourceKind } : {}),
        ...(patch.sources !== undefined ? { sources: toJson(patch.sources) } : {}),
        ...(patch.config !== undefined ? { config: toJson(patch.config) } : {}),
        updated_at: nowIso(),
        version: sql<number>`version + 1`,
      })
      .where('id', '=', id);
    if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
    const result = await query.executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) await throwMismatch(db, 'exports', id, `The export ${id} was removed.`);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`An export named "${patch.name}" already exists. Choose another name or remove it first.`);
    throw error;
  }
  return getExportById(db, id);
}

