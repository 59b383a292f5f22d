import type { User } from '../domain/accounts.ts';
import { AuthError, RateLimitedError, ValidationError } from '../domain/errors.ts';
import type { Actor, Role } from '../domain/model.ts';
import { csrfTokenFor, dummyPasswordHash, generateSecret, hashPassword, sameSecret, sha256, TOKEN_PREFIX, verifyPassword } from '../lib/credentials.ts';
import type { Db } from '../store/metadata/db.ts';
import { clearLoginFailures, countLoginAttempt, forgiveLoginAttempt } from '../store/metadata/login-failures.ts';
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

export interface LoginLimits {
  /** Failures counted per key within one window. */
  windowMs: number;
  /** After this many failed sign-ins to one account in a window, that account's sign-ins are refused until it ends. */
  maxFailuresPerAccount: number;
  /** The same per client address (one address trying many accounts). */
  maxFailuresPerAddress: number;
}

export const defaultLoginLimits: LoginLimits = {
  windowMs: 15 * 60 * 1000,
  maxFailuresPerAccount: 5,
  maxFailuresPerAddress: 20,
};

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

interface LimitKey {
  key: string;
  max: number;
  /** How the refusal names it: "for this account", "from this address". */
  what: string;
}

function limitKeys(name: string, address: string | null | undefined, limits: LoginLimits): LimitKey[] {
  // Lower-cased so "Ada" and "ada" share one counter: case variants must not buy more guesses.
  const keys: LimitKey[] = [{ key: `account:${name.trim().toLowerCase()}`, max: limits.maxFailuresPerAccount, what: 'for this account' }];
  if (address) keys.push({ key: `address:${address}`, max: limits.maxFailuresPerAddress, what: 'from this address' });
  return keys;
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
 * Counts this attempt under every key before the password is checked (a success takes it back: see
 * `attemptSucceeded`), so parallel guesses cannot slip past the limit; refuses it when a key is over.
 */
async function countAttempt(db: Db, keys: LimitKey[], now: Date, limits: LoginLimits): Promise<void> {
  let refusal: RateLimitedError | undefined;
  for (const { key, max, what } of keys) {
    const window = await countLoginAttempt(db, key, now, limits.windowMs);
    if (window.failures > max && !refusal) {
      const endsAt = Date.parse(window.windowStartedAt) + limits.windowMs;
      const retryAfterSeconds = Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000));
      refusal = new RateLimitedError(`Too many failed sign-ins ${what}. Try again in ${retryAfterSeconds} seconds.`, retryAfterSeconds);
    }
  }
  if (refusal) throw refusal;
}

/** A right password clears the account's count, and takes this attempt back from the address's. */
async function attemptSucceeded(db: Db, keys: LimitKey[]): Promise<void> {
  const [account, ...others] = keys;
  await clearLoginFailures(db, account!.key);
  for (const { key } of others) await forgiveLoginAttempt(db, key);
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
  const keys = limitKeys(input.name, input.address, limits);
  await countAttempt(db, keys, now, limits);
  const user = await verifyCredentials(db, input.name, input.currentPassword);
  await attemptSucceeded(db, keys);
  await updateUserPassword(db, user.id, await hashPassword(input.newPassword), false, now.toISOString());
  await removeUserSessions(db, user.id, input.keepSessionId ? sha256(input.keepSessionId) : undefined);
  return { name: user.name, role: user.role, mustChangePassword: false };
}

/**
 * Signs in with a name and password and starts a session. Unknown names and wrong passwords get the same
 * answer, after the same work. After too many failures per account or per address within the window,
 * every attempt is refused with a RateLimitedError (even a right one) until the window ends. The counts
 * live in the metadata store, so every server process sharing it enforces the same limit.
 */
export async function login(
  db: Db,
  input: { name: string; password: string; address?: string | null },
  options: AuthOptions = {},
): Promise<LoginResult> {
  const now = (options.now ?? (() => new Date()))();
  const limits = { ...defaultLoginLimits, ...options.limits };
  const keys = limitKeys(input.name, input.address, limits);
  await countAttempt(db, keys, now, limits);
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
