import { sql, type Selectable } from 'kysely';
import type { DestinationId } from '../../destinations/kit/define.ts';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Connection, PrivacyConsent, UsableBy } from '../../domain/model.ts';
import { newId } from '../../lib/ids.ts';
import type { SecretBox } from '../secret-box.ts';
import type { ConnectionsTable, Db } from './db.ts';
import { fromJson, isUniqueViolation, nowIso, toJson } from './json.ts';
import { throwMismatch } from './versions.ts';

export interface NewConnection {
  name: string;
  type: DestinationId;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  usableBy: UsableBy;
  consent: PrivacyConsent;
  createdBy: string;
}

function toConnection(row: Selectable<ConnectionsTable>, box: SecretBox): Connection {
  return {
    id: row.id,
    name: row.name,
    type: row.type as DestinationId,
    config: fromJson(row.config, {}),
    secretKeys: Object.keys(box.open(row.secrets)).sort(),
    state: fromJson(row.state, {}),
    usableBy: row.usable_by as UsableBy,
    consent: { acceptedBy: row.privacy_accepted_by, acceptedAt: row.privacy_accepted_at },
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

export async function createConnection(db: Db, box: SecretBox, input: NewConnection): Promise<Connection> {
  const at = nowIso();
  const id = newId('conn');
  try {
    await db
      .insertInto('connections')
      .values({
        id,
        name: input.name,
        type: input.type,
        config: toJson(input.config),
        secrets: box.seal(input.secrets),
        state: '{}',
        usable_by: input.usableBy,
        privacy_accepted_by: input.consent.acceptedBy,
        privacy_accepted_at: input.consent.acceptedAt,
        created_by: input.createdBy,
        created_at: at,
        updated_at: at,
      })
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`A connection named "${input.name}" already exists. Choose another name, or remove the old one first.`);
    }
    throw error;
  }
  return getConnection(db, box, id);
}

export async function getConnection(db: Db, box: SecretBox, id: string): Promise<Connection> {
  const row = await db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`The connection this refers to (${id}) no longer exists; it was removed. Pick another connection.`);
  return toConnection(row, box);
}

/** Name and type of connections by id, without opening their secrets: what a list of exports shows. */
export async function connectionLabels(db: Db, ids?: string[]): Promise<Map<string, { name: string; type: DestinationId; usableBy: UsableBy }>> {
  if (ids && ids.length === 0) return new Map();
  let query = db.selectFrom('connections').select(['id', 'name', 'type', 'usable_by']);
  if (ids) query = query.where('id', 'in', [...new Set(ids)]);
  const rows = await query.execute();
  return new Map(rows.map((row) => [row.id, { name: row.name, type: row.type as DestinationId, usableBy: row.usable_by as UsableBy }]));
}

export async function findConnectionByName(db: Db, box: SecretBox, name: string): Promise<Connection | undefined> {
  const row = await db.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toConnection(row, box) : undefined;
}

export async function getConnectionByName(db: Db, box: SecretBox, name: string): Promise<Connection> {
  const found = await findConnectionByName(db, box, name);
  if (!found) throw new NotFoundError(`No connection named "${name}". See \`outflow connection list\`.`);
  return found;
}

export async function listConnections(db: Db, box: SecretBox): Promise<Connection[]> {
  const rows = await db.selectFrom('connections').selectAll().orderBy('name').execute();
  return rows.map((row) => toConnection(row, box));
}

/** The decrypted secrets of a connection. Only the engine calls this, right before talking to the destination. */
export async function readConnectionSecrets(db: Db, box: SecretBox, id: string): Promise<Record<string, string>> {
  const row = await db.selectFrom('connections').select('secrets').where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`The connection ${id} was removed while it was in use. Pick another connection for the export.`);
  return box.open(row.secrets);
}

export async function updateConnectionSecrets(db: Db, box: SecretBox, id: string, patch: Record<string, string>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const current = await readConnectionSecrets(tx, box, id);
    await tx
      .updateTable('connections')
      .set({ secrets: box.seal({ ...current, ...patch }), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  });
}

export async function updateConnectionState(db: Db, id: string, patch: Record<string, unknown>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('connections').select('state').where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`The connection ${id} was removed.`);
    const state = { ...fromJson<Record<string, unknown>>(row.state, {}), ...patch };
    await tx.updateTable('connections').set({ state: toJson(state), updated_at: nowIso() }).where('id', '=', id).execute();
  });
}

/** Removes the connection; with `expectedVersion`, only if it is still at that version (else VersionMismatch). */
export async function removeConnection(db: Db, id: string, expectedVersion?: number): Promise<void> {
  let query = db.deleteFrom('connections').where('id', '=', id);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  if (Number((await query.executeTakeFirst()).numDeletedRows) === 0 && expectedVersion !== undefined) {
    await throwMismatch(db, 'connections', id, `The connection ${id} was removed.`);
  }
}

export interface ConnectionPatch {
  name?: string;
  /** Replaces the non-secret settings. */
  config?: Record<string, unknown>;
  /** Replaces every secret (the caller merges what stays unchanged). */
  secrets?: Record<string, string>;
  usableBy?: UsableBy;
  /** Replaces the recorded state (host key, last verification, attention). */
  state?: Record<string, unknown>;
}

/**
 * Applies an edit in one statement, so a refused rename or a crash leaves the connection as it was, and advances
 * its version. With `expectedVersion`, a compare-and-set: the connection changes only if it is still at that
 * version, else VersionMismatch. (What checks record by themselves, the state and refreshed tokens, is written by
 * updateConnectionState/Secrets and does not advance the version: no edit can overwrite it.)
 */
export async function updateConnection(db: Db, box: SecretBox, id: string, patch: ConnectionPatch, expectedVersion?: number): Promise<Connection> {
  try {
    let query = db
      .updateTable('connections')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.config !== undefined ? { config: toJson(patch.config) } : {}),
        ...(patch.secrets !== undefined ? { secrets: box.seal(patch.secrets) } : {}),
        ...(patch.usableBy !== undefined ? { usable_by: patch.usableBy } : {}),
        ...(patch.state !== undefined ? { state: toJson(patch.state) } : {}),
        updated_at: nowIso(),
        version: sql<number>`version + 1`,
      })
      .where('id', '=', id);
    if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
    const result = await query.executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) await throwMismatch(db, 'connections', id, `The connection ${id} was removed.`);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`A connection named "${patch.name}" already exists. Choose another name, or remove the old one first.`);
    }
    throw error;
  }
  return getConnection(db, box, id);
}
