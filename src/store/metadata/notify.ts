import type { Db } from './db.ts';
import type { SecretBox } from '../secret-box.ts';
import { fromJson, nowIso, toJson } from './json.ts';

/** A webhook target as stored: the URL sealed in the secret box, and shown only masked. */
export interface StoredNotify {
  /** `home`, or `export:<export id>`. */
  scope: string;
  url: string;
  shownUrl: string;
  on: unknown[];
  updatedBy: string;
  updatedAt: string;
}

export async function getNotify(db: Db, box: SecretBox, scope: string): Promise<StoredNotify | null> {
  const row = await db.selectFrom('notify_targets').selectAll().where('scope', '=', scope).executeTakeFirst();
  if (!row) return null;
  return { scope, url: box.open(row.url_sealed).url ?? '', shownUrl: row.url_shown, on: fromJson<unknown[]>(row.events, []), updatedBy: row.updated_by, updatedAt: row.updated_at };
}

export async function putNotify(db: Db, box: SecretBox, input: { scope: string; url: string; shownUrl: string; on: unknown[]; by: string }): Promise<void> {
  const values = { url_sealed: box.seal({ url: input.url }), url_shown: input.shownUrl, events: toJson(input.on), updated_by: input.by, updated_at: nowIso() };
  await db
    .insertInto('notify_targets')
    .values({ scope: input.scope, ...values })
    .onConflict((oc) => oc.column('scope').doUpdateSet(values))
    .execute();
}

export async function deleteNotify(db: Db, scope: string): Promise<boolean> {
  const result = await db.deleteFrom('notify_targets').where('scope', '=', scope).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
