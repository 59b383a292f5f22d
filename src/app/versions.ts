import { StaleEditError } from '../domain/errors.ts';
import type { Db } from '../store/metadata/db.ts';
import { settingVersion, VersionMismatch, writeSetting, type VersionedSetting } from '../store/metadata/versions.ts';

/**
 * Optimistic concurrency for edits. Every connection, segment, export and user has a version that each edit
 * advances; its ETag names the resource and that version. An edit may say which version it was made from (the
 * ETags of HTTP If-Match, which the web app sends from what it showed): when that is no longer the current
 * version, the edit is refused and nothing is saved, instead of silently overwriting someone else's change.
 *
 * Every edit also writes with a compare-and-set on the version it read (the store's `WHERE version = ?`), so an
 * edit saved by someone else between this edit's read and its write (while a connection's settings are checked
 * against the destination, say) is never overwritten either, with or without If-Match.
 *
 * What the system records by itself (a segment's member count, a connection's last verification, refreshed
 * tokens, last sign-in) does not advance the version: no edit can overwrite it, and refusing an edit over it
 * would lose work for nothing. So the ETag validates the editable resource, not every byte of its answer.
 */

/**
 * What an edit was made from: `*` (the resource must exist, any version) or the ETags the editor read, one of
 * which must be the current one (RFC 9110 If-Match, strong comparison). Absent: no condition.
 */
export type Precondition = { ifMatch: '*' | string[] };

/**
 * The ETag of a version of a resource: the id keeps a removed and recreated resource of the same name from
 * matching an ETag read before (its versions start again at 1). Opaque to clients.
 */
export function etagOf(resource: { id: string; version: number }): string {
  return `"${resource.id}.${resource.version}"`;
}

/**
 * Refuses the edit unless `current` satisfies the precondition. Called where the use case has read the resource,
 * before it checks or changes anything else, so a stale edit fails fast; the write's compare-and-set closes the
 * window after this check.
 */
export function checkPrecondition(precondition: Precondition | undefined, current: { id: string; version: number }, what: string): void {
  if (!precondition || precondition.ifMatch === '*') return;
  const etag = etagOf(current);
  if (!precondition.ifMatch.includes(etag)) throw staleEdit(what, etag, true);
}

/**
 * The version a removal must find: the one read, when the caller named versions (a removal without them, or
 * with `*`, removes whatever version there is: the caller wants it gone).
 */
export function removalVersion(precondition: Precondition | undefined, current: { version: number }): number | undefined {
  return precondition && precondition.ifMatch !== '*' ? current.version : undefined;
}

/**
 * Runs a compare-and-set write of `current` (a resource read at `current.version`) and turns a version mismatch
 * into the error the caller sees: 412 when they sent a precondition, 409 when the resource changed while this
 * edit was being checked.
 */
export async function writeVersion<T>(precondition: Precondition | undefined, current: { id: string }, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    // `*` only asked that the resource exist, which it still does: the race is this edit's own, as without one.
    if (error instanceof VersionMismatch) throw staleEdit(what, etagOf({ id: current.id, version: error.current }), precondition !== undefined && precondition.ifMatch !== '*');
    throw error;
  }
}

/**
 * The ETag of one of the home's settings (the refresh schedule, the alert webhook): it exists whether the
 * setting is on or off, since turning it off is an edit too.
 */
export async function settingETag(db: Db, setting: VersionedSetting): Promise<string> {
  return etagOf({ id: setting, version: await settingVersion(db, setting) });
}

/**
 * Changes one of the home's settings: refused (412) when the precondition names another version, and written
 * with a compare-and-set on the version read when it names one. Without one the change replaces whatever is
 * set (a setting is given whole, never merged over what was read, so there is nothing of it to overwrite).
 */
export async function changeSetting<T>(db: Db, precondition: Precondition | undefined, setting: VersionedSetting, what: string, write: (tx: Db) => Promise<T>): Promise<T> {
  const current = await checkSettingPrecondition(db, precondition, setting, what);
  return writeVersion(precondition, current, what, () => writeSetting(db, setting, removalVersion(precondition, current), write));
}

/** Refuses a stale change of a setting early, before slow checks; changeSetting checks again in its write. */
export async function checkSettingPrecondition(db: Db, precondition: Precondition | undefined, setting: VersionedSetting, what: string): Promise<{ id: string; version: number }> {
  const current = { id: setting, version: await settingVersion(db, setting) };
  checkPrecondition(precondition, current, what);
  return current;
}

function staleEdit(what: string, etag: string, precondition: boolean): StaleEditError {
  return new StaleEditError(
    precondition
      ? `${what} was changed by someone else since you read it; nothing was saved. Reload it to see the current version, then make your change again.`
      : `${what} was changed by someone else while this change was being saved; nothing was saved. Make your change again: it will apply to the current version.`,
    etag,
    precondition,
  );
}
