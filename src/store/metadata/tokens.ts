import type { Selectable } from 'kysely';
import type { ApiToken, User } from '../../domain/accounts.ts';
import { newId } from '../../lib/ids.ts';
import type { ApiTokensTable, Db } from './db.ts';
import { nowIso } from './json.ts';
import { joinedUser, joinedUserColumns } from './users.ts';

export interface NewApiToken {
  userId: string;
  name: string;
  /** SHA-256 (hex) of the token. */
  tokenHash: string;
  prefix: string;
  createdBy: string;
}

function toApiToken(row: Selectable<ApiTokensTable> & { user_name: string | null }): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    name: row.name,
    prefix: row.prefix,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

function tokensWithOwner(db: Db) {
  return db
    .selectFrom('api_tokens')
    .leftJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('api_tokens')
    .select('users.name as user_name');
}

export async function createApiToken(db: Db, input: NewApiToken, at: string = nowIso()): Promise<ApiToken> {
  const id = newId('tok');
  await db
    .insertInto('api_tokens')
    .values({
      id,
      user_id: input.userId,
      name: input.name,
      token_hash: input.tokenHash,
      prefix: input.prefix,
      created_by: input.createdBy,
      created_at: at,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  return (await getApiToken(db, id))!;
}

export async function getApiToken(db: Db, id: string): Promise<ApiToken | undefined> {
  const row = await tokensWithOwner(db).where('api_tokens.id', '=', id).executeTakeFirst();
  return row ? toApiToken(row) : undefined;
}

/** Tokens not revoked, oldest first; only `userId`'s when given. */
export async function listActiveApiTokens(db: Db, filter: { userId?: string } = {}): Promise<ApiToken[]> {
  let query = tokensWithOwner(db).where('api_tokens.revoked_at', 'is', null);
  if (filter.userId) query = query.where('api_tokens.user_id', '=', filter.userId);
  const rows = await query.orderBy('api_tokens.created_at').orderBy('api_tokens.id').execute();
  return rows.map(toApiToken);
}

/** How many tokens `userId` ever had (revoked ones too): numbers default token names. */
export async function countApiTokens(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The active token with this hash and its owner, or undefined (unknown, revoked, or its user was removed). */
export async function findActiveApiToken(db: Db, tokenHash: string): Promise<{ token: ApiToken; user: User } | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('api_tokens')
    .select([...joinedUserColumns])
    .where('api_tokens.token_hash', '=', tokenHash)
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    token: toApiToken(row),
    user: joinedUser(row),
  };
}

export async function touchApiToken(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function revokeApiToken(db: Db, id: string, at: string = nowIso()): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Revokes every active token of a user; returns how many. */
export async function revokeUserApiTokens(db: Db, userId: string, at: string = nowIso()): Promise<number> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
