import type { Db } from './db.ts';

export interface FailureWindow {
  failures: number;
  windowStartedAt: string;
}

/** The failures counted under `key` in its current window, or undefined when none. */
export async function getLoginFailures(db: Db, key: string): Promise<FailureWindow | undefined> {
  const row = await db.selectFrom('login_failures').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? { failures: Number(row.failures), windowStartedAt: row.window_started_at } : undefined;
}

/**
 * Counts one failure under `key`. A window older than `windowMs` starts over at this failure (a fixed
 * window: simple to reason about, and the counter shows when it ends). Returns the window after counting.
 */
export async function recordLoginFailure(db: Db, key: string, now: Date, windowMs: number): Promise<FailureWindow> {
  const at = now.toISOString();
  return db.transaction().execute(async (tx) => {
    const current = await getLoginFailures(tx, key);
    if (current && now.getTime() - Date.parse(current.windowStartedAt) < windowMs) {
      await tx
        .updateTable('login_failures')
        .set((eb) => ({ failures: eb('failures', '+', 1) }))
        .where('key', '=', key)
        .execute();
      return { failures: current.failures + 1, windowStartedAt: current.windowStartedAt };
    }
    // Insert or restart; on conflict covers two processes counting the first failure at the same moment.
    await tx
      .insertInto('login_failures')
      .values({ key, failures: 1, window_started_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ failures: 1, window_started_at: at }))
      .execute();
    return { failures: 1, windowStartedAt: at };
  });
}

export async function clearLoginFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute();
}
