import { sql } from 'kysely';
import type { Db } from './db.ts';

export interface FailureWindow {
  failures: number;
  windowStartedAt: string;
}

/** The attempts counted under `key` in its current window, or undefined when none. */
export async function getLoginFailures(db: Db, key: string): Promise<FailureWindow | undefined> {
  const row = await db.selectFrom('login_failures').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? { failures: Number(row.failures), windowStartedAt: row.window_started_at } : undefined;
}

/**
 * Counts one sign-in attempt under `key`, before its password is checked, and returns the window after
 * counting; a success takes it back (`forgiveLoginAttempt`). Counting first, in one atomic statement, means
 * a burst of parallel guesses cannot all pass the check before the first failure is recorded. The window is
 * fixed: once `windowMs` has passed since it started, the next attempt starts a new one at 1.
 */
export async function countLoginAttempt(db: Db, key: string, now: Date, windowMs: number): Promise<FailureWindow> {
  const at = now.toISOString();
  const expiredBefore = new Date(now.getTime() - windowMs).toISOString();
  const restart = sql<boolean>`login_failures.window_started_at <= ${expiredBefore}`;
  const row = await db
    .insertInto('login_failures')
    .values({ key, failures: 1, window_started_at: at })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`CASE WHEN ${restart} THEN 1 ELSE login_failures.failures + 1 END`,
        window_started_at: sql<string>`CASE WHEN ${restart} THEN ${at} ELSE login_failures.window_started_at END`,
      }),
    )
    .returning(['failures', 'window_started_at'])
    .executeTakeFirstOrThrow();
  return { failures: Number(row.failures), windowStartedAt: row.window_started_at };
}

/** Takes back one counted attempt (it succeeded). */
export async function forgiveLoginAttempt(db: Db, key: string): Promise<void> {
  await db
    .updateTable('login_failures')
    .set((eb) => ({ failures: eb('failures', '-', 1) }))
    .where('key', '=', key)
    .where('failures', '>', 0)
    .execute();
}

export async function clearLoginFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute();
}
