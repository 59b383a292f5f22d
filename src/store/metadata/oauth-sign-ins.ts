import type { Db } from './db.ts';
import type { SecretBox } from '../secret-box.ts';

/** A web sign-in in progress: who started it, for which connection, and the PKCE verifier the callback needs. */
export interface PendingSignIn {
  connectionId: string;
  userName: string;
  verifier: string;
  redirectUri: string;
  createdAt: string;
  expiresAt: string;
}

export async function createPendingSignIn(db: Db, box: SecretBox, stateHash: string, signIn: PendingSignIn): Promise<void> {
  await db
    .insertInto('oauth_sign_ins')
    .values({
      state_hash: stateHash,
      connection_id: signIn.connectionId,
      user_name: signIn.userName,
      verifier_sealed: box.seal({ verifier: signIn.verifier }),
      redirect_uri: signIn.redirectUri,
      created_at: signIn.createdAt,
      expires_at: signIn.expiresAt,
    })
    .execute();
}

/**
 * Removes and returns the sign-in with this state hash, in one statement: of two callbacks racing with the
 * same state, exactly one gets it (single use). Expired rows are returned too; the caller refuses them.
 */
export async function takePendingSignIn(db: Db, box: SecretBox, stateHash: string): Promise<PendingSignIn | undefined> {
  const row = await db.deleteFrom('oauth_sign_ins').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();
  if (!row) return undefined;
  return {
    connectionId: row.connection_id,
    userName: row.user_name,
    verifier: box.open(row.verifier_sealed).verifier ?? '',
    redirectUri: row.redirect_uri,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Forgets sign-ins that expired before `now` (ISO timestamps compare as text); returns how many. */
export async function prunePendingSignIns(db: Db, now: string): Promise<number> {
  const result = await db.deleteFrom('oauth_sign_ins').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
