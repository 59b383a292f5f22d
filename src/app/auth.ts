import type { User } from '../domain/accounts.ts';
import { AuthError, ValidationError } from '../domain/errors.ts';
import type { Actor, Role } from '../domain/model.ts';
import { csrfTokenFor, dummyPasswordHash, generateSecret, hashPassword, sameSecret, sha256, TOKEN_PREFIX, verifyPassword } from '../lib/credentials.ts';
import type { Db } from '../store/metadata/db.ts';
import { attemptSucceeded, defaultLoginLimits, throttleAttempt, type LoginLimits } from './sign-in-throttle.ts';
import { createSession, findSession, pruneSessions, removeSession, removeUserSessions, touchSession } from '../store/metadata/sessions.ts';
import { findActiveApiToken, touchApiToken } from '../store/metadata/tokens.ts';
import { findUserByName, readPasswordHash, updateUserPassword } from '../store/metadata/users.ts';

/** A session ends after this long without a request… */
export const SESSION_IDLE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/** …and this long after sign-in, however active. */
export const SESSION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** `last_used_at` / `last_seen_at` are written at most this often, so reads do not each cost a write. */
export const LAST_USED_RESOLUTION_MS = 60 * 1000;
/** Passwords people choose (the generated ones are 20 characters). */
export const PASSWORD_MIN_LENGTH = 12;

export { defaultLoginLimits, type LoginLimits } from './sign-in-throttle.ts';

export interface AuthOptions {
  now?: () => Date;
  limits?: Partial<LoginLimits>;
}

export interface SignedInUser {
  name: string;
  role: Role;
  mustChangePassword: boolean;
}

export interface LoginResult {
  /** Goes in the session cookie; only its SHA-256 is stored. */
  sessionId: string;
  /** Sent back by the browser in a header on every cookie-authenticated write. */
  csrfToken: string;
  user: SignedInUser;
  /** When the session ends at the latest (absolute expiry). */
  expiresAt: string;
}

export interface AuthenticatedSession {
  actor: Actor;
  user: SignedInUser;
  /** When the session ends unless it is used again (the earlier of idle and absolute expiry). */
  expiresAt: string;
  /** The token cookie-authenticated writes must echo (a new tab of the app reads it from GET /api/session). */
  csrfToken: string;
  /** Whether `token` is this session's CSRF token (constant time). */
  checkCsrf(token: string | null | undefined): boolean;
}

const WRONG_CREDENTIALS = 'Wrong name or password.';

function signedIn(user: User): SignedInUser {
  return { name: user.name, role: user.role, mustChangePassword: user.mustChangePassword };
}

/** The account behind an API token (`Authorization: Bearer of_…`), or null when unknown or revoked. */
export async function authenticateToken(db: Db, token: string, options: AuthOptions = {}): Promise<Actor | null> {
  if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX)) return null;
  const found = await findActiveApiToken(db, sha256(token));
  if (!found) return null;
  const now = (options.now ?? (() => new Date()))();
  const last = found.token.lastUsedAt ? Date.parse(found.token.lastUsedAt) : Number.NEGATIVE_INFINITY;
  if (now.getTime() - last >= LAST_USED_RESOLUTION_MS) await touchApiToken(db, found.token.id, now.toISOString());
  return { name: found.user.name, role: found.user.role };
}

/** The user whose name and password these are; the same AuthError for an unknown name and a wrong password. */
async function verifyCredentials(db: Db, name: string, password: string): Promise<User> {
  const user = await findUserByName(db, name);
  const hash = (user && (await readPasswordHash(db, user.id))) ?? (await dummyPasswordHash());
  const passwordOk = await verifyPassword(String(password ?? ''), hash);
  if (!user || !passwordOk) throw new AuthError('auth_failed', WRONG_CREDENTIALS);
  return user;
}

/**
 * Changes a user's own password; needs the current one, which is checked (and rate-limited) like a sign-in.
 * Clears "must change password" and ends the user's sessions except `keepSessionId` (the one asking).
 */
export async function changePassword(
  db: Db,
  input: { name: string; currentPassword: string; newPassword: string; address?: string | null; keepSessionId?: string },
  options: AuthOptions = {},
): Promise<SignedInUser> {
  const now = (options.now ?? (() => new Date()))();
  const limits = { ...defaultLoginLimits, ...options.limits };
  if (typeof input.newPassword !== 'string' || input.newPassword.length < PASSWORD_MIN_LENGTH) {
    throw new ValidationError(`The new password must be at least ${PASSWORD_MIN_LENGTH} characters long.`, [{ path: 'newPassword', message: `at least ${PASSWORD_MIN_LENGTH} characters` }]);
  }
  if (input.newPassword === input.currentPassword) throw new ValidationError('The new password must differ from the current one.');
  const keys = await throttleAttempt(db, input.name, input.address, now, limits);
  const user = await verifyCredentials(db, input.name, input.currentPassword);
  await attemptSucceeded(db, keys);
  await updateUserPassword(db, user.id, await hashPassword(input.newPassword), false, now.toISOString());
  await removeUserSessions(db, user.id, input.keepSessionId ? sha256(input.keepSessionId) : undefined);
  return { name: user.name, role: user.role, mustChangePassword: false };
}

/**
 * Signs in with a name and password and starts a session. Unknown names and wrong passwords get the same
 * answer, after the same work. Repeated failures slow further attempts from the same address down (see
 * sign-in-throttle.ts) rather than locking the account: its owner, elsewhere, still gets in. The counts live
 * in the metadata store, so every server process sharing it applies the same delays.
 */
export async function login(
  db: Db,
  input: { name: string; password: string; address?: string | null },
  options: AuthOptions = {},
): Promise<LoginResult> {
  const now = (options.now ?? (() => new Date()))();
  const limits = { ...defaultLoginLimits, ...options.limits };
  const keys = await throttleAttempt(db, input.name, input.address, now, limits);
  const user = await verifyCredentials(db, input.name, input.password);
  await attemptSucceeded(db, keys);
  await pruneSessions(db, now.toISOString(), new Date(now.getTime() - SESSION_IDLE_TIMEOUT_MS).toISOString());
  const sessionId = generateSecret();
  const csrfToken = csrfTokenFor(sessionId);
  const expiresAt = new Date(now.getTime() + SESSION_MAX_AGE_MS).toISOString();
  await createSession(db, {
    idHash: sha256(sessionId),
    userId: user.id,
    csrfTokenHash: sha256(csrfToken),
    createdAt: now.toISOString(),
    expiresAt,
    lastSeenAt: now.toISOString(),
    address: input.address ?? null,
  });
  return { sessionId, csrfToken, user: signedIn(user), expiresAt };
}

/** The session behind a cookie, or null when unknown, expired (idle or absolute) or its user was removed. */
export async function authenticateSession(db: Db, sessionId: string, options: AuthOptions = {}): Promise<AuthenticatedSession | null> {
  if (typeof sessionId !== 'string' || sessionId === '') return null;
  const idHash = sha256(sessionId);
  const found = await findSession(db, idHash);
  if (!found) return null;
  const now = (options.now ?? (() => new Date()))().getTime();
  const lastSeen = Date.parse(found.session.lastSeenAt);
  if (now >= Date.parse(found.session.expiresAt) || now - lastSeen >= SESSION_IDLE_TIMEOUT_MS) {
    await removeSession(db, idHash);
    return null;
  }
  let seen = lastSeen;
  if (now - lastSeen >= LAST_USED_RESOLUTION_MS) {
    await touchSession(db, idHash, new Date(now).toISOString());
    seen = now;
  }
  const csrfHash = found.session.csrfTokenHash;
  return {
    actor: { name: found.user.name, role: found.user.role },
    user: signedIn(found.user),
    expiresAt: new Date(Math.min(Date.parse(found.session.expiresAt), seen + SESSION_IDLE_TIMEOUT_MS)).toISOString(),
    csrfToken: csrfTokenFor(sessionId),
    checkCsrf: (token) => typeof token === 'string' && token !== '' && sameSecret(token, csrfHash),
  };
}

/** Ends a session; false when there was none. */
export async function logout(db: Db, sessionId: string): Promise<boolean> {
  if (typeof sessionId !== 'string' || sessionId === '') return false;
  return removeSession(db, sha256(sessionId));
}
