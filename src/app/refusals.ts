import { PermissionError } from '../domain/errors.ts';
import type { Db } from '../store/metadata/db.ts';
import { audit } from './audit.ts';
import type { Home } from './home.ts';

/** Repeats of one refusal (same actor, action and target) within this long make no new audit entry. */
export const REFUSAL_COALESCE_MS = 10 * 60 * 1000;
/** At most this many refusals are remembered per store (a script probing many targets must not grow memory). */
const MAX_REMEMBERED = 1000;

interface Remembered {
  /** When the last entry for this refusal was written. */
  loggedAt: number;
  /** Refusals since then that made no entry of their own. */
  repeats: number;
}

// Per metadata store, so every request's Home (a copy with its own actor) shares one memory.
const recent = new WeakMap<Db, Map<string, Remembered>>();

/**
 * Runs a use case's permission check; a refusal is recorded in the audit log (who: the actor; what: the
 * action and target the use case would have recorded on success; why: the refusal's message) and thrown on.
 * Repeats within REFUSAL_COALESCE_MS make no entry of their own: the next entry for the same refusal after
 * that counts them (`repeats`), so a script retrying a forbidden call cannot flood the log. The memory is this
 * process's: repeats not yet followed by a later entry when it stops are not recorded.
 */
export async function permit(home: Home, action: string, target: { type: string; name?: string | null }, check: () => void | Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (error instanceof PermissionError) await recordRefusal(home, action, target, error.message);
    throw error;
  }
}

async function recordRefusal(home: Home, action: string, target: { type: string; name?: string | null }, reason: string): Promise<void> {
  const now = home.now().getTime();
  let seen = recent.get(home.db);
  if (!seen) recent.set(home.db, (seen = new Map()));
  const key = JSON.stringify([home.actor.name, action, target.type, target.name ?? null]);
  const last = seen.get(key);
  if (last && now - last.loggedAt < REFUSAL_COALESCE_MS) {
    last.repeats++;
    return;
  }
  if (seen.size >= MAX_REMEMBERED) {
    for (const [k, v] of seen) if (now - v.loggedAt >= REFUSAL_COALESCE_MS) seen.delete(k);
    if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value!);
  }
  seen.set(key, { loggedAt: now, repeats: 0 });
  const repeats = last?.repeats ?? 0;
  await audit(home, action, target, { reason, ...(repeats > 0 ? { repeats, repeatsSince: new Date(last!.loggedAt).toISOString() } : {}) }, 'denied');
}
