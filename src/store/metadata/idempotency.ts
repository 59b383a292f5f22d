import type { SecretBox } from '../secret-box.ts';
import type { Db } from './db.ts';

/** How long a key is remembered, from its first use (the draft leaves it to the server; 24 h, as Stripe's). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60_000;

/** Who sent the key and for which operation: keys of different callers or operations never meet. */
export interface IdempotencyScope {
  /** The caller, `user:<name>`. */
  scope: string;
  /** The operationId. */
  operation: string;
  key: string;
}

/** The first answer, as it is replayed. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Claim =
  /** The key is new (or expired): the caller runs the request, then `completeIdempotencyKey` or `releaseIdempotencyKey`. */
  | { kind: 'claimed' }
  /** The key was first used with another request. */
  | { kind: 'mismatch' }
  /** The first request with the key has not finished yet (or its server stopped while it ran). */
  | { kind: 'pending'; since: string }
  | { kind: 'done'; answer: StoredAnswer };

/**
 * Takes the key for a request whose fingerprint is `fingerprint`, or says what the first request with it did.
 * The insert is the lock: of two requests racing with one key (on one server or on several sharing the
 * database), the primary key lets exactly one in. A row older than the TTL is forgotten first, so an expired
 * key starts over.
 */
export async function claimIdempotencyKey(db: Db, box: SecretBox, id: IdempotencyScope, fingerprint: string, now: Date): Promise<Claim> {
  const expired = new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS).toISOString();
  for (let attempt = 0; attempt < 3; attempt++) {
    await matching(db.deleteFrom('idempotency_keys'), id).where('created_at', '<=', expired).execute();
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ ...id, request_sealed: box.seal({ fingerprint }), state: 'pending', response_sealed: null, created_at: now.toISOString(), completed_at: null })
      .onConflict((oc) => oc.columns(['scope', 'operation', 'key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { kind: 'claimed' };
    const row = await matching(db.selectFrom('idempotency_keys').selectAll(), id).executeTakeFirst();
    // Released or purged between the insert and the read: try the insert again.
    if (!row) continue;
    if (box.open(row.request_sealed).fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (row.state !== 'done' || !row.response_sealed) return { kind: 'pending', since: row.created_at };
    const sealed = box.open(row.response_sealed);
    return { kind: 'done', answer: { status: Number(sealed.status), headers: JSON.parse(sealed.headers ?? '{}') as Record<string, string>, body: sealed.body ?? '' } };
  }
  // Three times claimed and released by others in between: as good as a request still in progress.
  return { kind: 'pending', since: now.toISOString() };
}

/** Keeps the first answer of a claimed key, for the retries to come. */
export async function completeIdempotencyKey(db: Db, box: SecretBox, id: IdempotencyScope, answer: StoredAnswer, now: Date): Promise<void> {
  await matching(db.updateTable('idempotency_keys'), id)
    .set({
      state: 'done',
      response_sealed: box.seal({ status: String(answer.status), headers: JSON.stringify(answer.headers), body: answer.body }),
      completed_at: now.toISOString(),
    })
    .where('state', '=', 'pending')
    .execute();
}

/** Gives a claimed key back without an answer: the request did nothing, a retry with the key runs it anew. */
export async function releaseIdempotencyKey(db: Db, id: IdempotencyScope): Promise<void> {
  await matching(db.deleteFrom('idempotency_keys'), id).where('state', '=', 'pending').execute();
}

/** Forgets every key first used at or before `now` minus the TTL; returns how many. */
export async function purgeIdempotencyKeys(db: Db, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<=', new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS).toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function matching<Q extends { where(column: 'scope' | 'operation' | 'key', op: '=', value: string): Q }>(query: Q, id: IdempotencyScope): Q {
  return query.where('scope', '=', id.scope).where('operation', '=', id.operation).where('key', '=', id.key);
}
