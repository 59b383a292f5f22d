import { NotFoundError } from '../../domain/errors.ts';
import type { Db } from './db.ts';

/** The tables whose rows carry a `version` that every edit advances (migration 0009_edit_versions). */
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
