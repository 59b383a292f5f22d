import { NotFoundError } from '../../domain/errors.ts';
import { sql } from 'kysely';
import type { Db } from './db.ts';

/** The tables whose rows carry a `version` that every edit advances (migration 0011_edit_versions). */
export type VersionedTable = 'connections' | 'segments' | 'exports' | 'users';

/**
 * A compare-and-set write (an update or removal `WHERE version = expected`) found the row at another version:
 * someone else's edit was saved first. `current` is the version the row has now. The use cases turn it into
 * the error the caller sees (src/app/versions.ts).
 */
export class VersionMismatch extends Error {
  constructor(readonly current: number) {
    super(`the row is at version ${current}`);
  }
}

/**
 * After a compare-and-set changed no row: throws NotFoundError (`removed`) when the row is gone, else
 * VersionMismatch with the version it has.
 */
export async function throwMismatch(db: Db, table: VersionedTable, id: string, removed: string): Promise<never> {
  const row = await db.selectFrom(table).select('version').where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(removed);
  throw new VersionMismatch(Number(row.version));
}

/**
 * The home's settings that carry a version (migration 0012_setting_versions): one row each, written by the
 * setting's first change and never removed; a setting never changed is at version 1.
 */
export type VersionedSetting = 'schedule' | 'notify';

export async function settingVersion(db: Db, setting: VersionedSetting): Promise<number> {
  const row = await db.selectFrom('setting_versions').select('version').where('name', '=', setting).executeTakeFirst();
  return row ? Number(row.version) : 1;
}

/**
 * Changes a setting and advances its version in one transaction. With `expectedVersion` the version is advanced
 * only if it is still that one (a compare-and-set: on PostgreSQL a concurrent one waits for the row lock and
 * then finds the new version; SQLite writes one at a time), else VersionMismatch and `write` is not run.
 */
export async function writeSetting<T>(db: Db, setting: VersionedSetting, expectedVersion: number | undefined, write: (tx: Db) => Promise<T>): Promise<T> {
  const change = async (tx: Db) => {
    await tx.insertInto('setting_versions').values({ name: setting, version: 1 }).onConflict((oc) => oc.column('name').doNothing()).execute();
    let query = tx.updateTable('setting_versions').set({ version: sql<number>`version + 1` }).where('name', '=', setting);
    if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
    const result = await query.executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new VersionMismatch(await settingVersion(tx, setting));
    return write(tx);
  };
  // Applying a configuration file runs every change in its own transaction (and a savepoint per item), which
  // holds this one too: Kysely opens no transaction inside a transaction.
  return db.isTransaction ? change(db) : db.transaction().execute(change);
}
