import type { Db } from './db.ts';

/** The failed sign-ins counted under one key (`pair:<account>|<address>` or `address:<address>`). */
export interface FailureCount {
  failures: number;
  lastAttemptAt: string;
}

/** The attempts counted under `key`, or undefined when none. */
export async function getLoginFailures(db: Db, key: string): Promise<FailureCount | undefined> {
  const row = await db.selectFrom('login_failures').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? { failures: Number(row.failures), lastAttemptAt: row.last_attempt_at } : undefined;
}

/**
 * Replaces the count read as `seen` (undefined: no row) by `next`, only if nobody changed it since: a
 * compare-and-set, so that of several sign-ins racing for one turn exactly one gets it (the others read again
 * and find the new count). Works the same on SQLite and PostgreSQL. False when another attempt came first.
 */
export async function replaceLoginFailures(db: Db, key: string, seen: FailureCount | undefined, next: FailureCount): Promise<boolean> {
  if (!seen) {
    const inserted = await db
      .insertInto('login_failures')
      .values({ key, failures: next.failures, last_attempt_at: next.lastAttemptAt })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
  }
  const updated = await db
    .updateTable('login_failures')
    .set({ failures: next.failures, last_attempt_at: next.lastAttemptAt })
    .where('key', '=', key)
    .where('failures', '=', seen.failures)
    .where('last_attempt_at', '=', seen.lastAttemptAt)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Takes back one counted attempt (it succeeded, or another key refused it). */
export async function forgiveLoginAttempt(db: Db, key: string): Promise<void> {
  await db
    .updateTable('login_failures')
    .set((eb) => ({ failures: eb('failures', '-', 1) }))
    .where('key', '=', key)
    .where('failures', '>', 0)
    .execute();
  // A count back at zero says nothing: gone, like one never made.
  await db.deleteFrom('login_failures').where('key', '=', key).where('failures', '<=', 0).execute();
}

export async function clearLoginFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute();
}

/**
 * Removes every count whose key `matches`; returns the keys removed. The table holds a row per recently failing
 * account and address, so reading its keys is cheap, and exact (LIKE would need escaping that SQLite and
 * PostgreSQL spell differently).
 */
export async function clearLoginFailuresWhere(db: Db, matches: (key: string) => boolean): Promise<string[]> {
  const keys = (await db.selectFrom('login_failures').select('key').execute()).map((r) => r.key).filter(matches);
  if (keys.length > 0) await db.deleteFrom('login_failures').where('key', 'in', keys).execute();
  return keys;
}
