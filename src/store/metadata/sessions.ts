import type { Selectable } from 'kysely';
import type { Session, User } from '../../domain/accounts.ts';
import type { Db, SessionsTable } from './db.ts';
import { joinedUser, joinedUserColumns } from './users.ts';

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    csrfTokenHash: row.csrf_token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
    address: row.address,
  };
}

export async function createSession(db: Db, session: Session): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id_hash: session.idHash,
      user_id: session.userId,
      csrf_token_hash: session.csrfTokenHash,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
      last_seen_at: session.lastSeenAt,
      address: session.address,
    })
    .execute();
}

/** The session with this id hash and its user, or undefined (unknown, or its user was removed). */
export async function findSession(db: Db, idHash: string): Promise<{ session: Session; user: User } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select([...joinedUserColumns])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    session: toSession(row),
    user: joinedUser(row),
  };
}

export async function touchSession(db: Db, idHash: string, at: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash).execute();
}

export async function removeSession(db: Db, idHash: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Ends every session of a user (but the one whose id hash is `exceptIdHash`); returns how many. */
export async function removeUserSessions(db: Db, userId: string, exceptIdHash?: string): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptIdHash !== undefined) query = query.where('id_hash', '!=', exceptIdHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes sessions past their absolute expiry or idle since before `idleSince` (ISO timestamps compare as text). */
export async function pruneSessions(db: Db, now: string, idleSince: string): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleSince)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
