import net from 'node:net';
import { z } from 'zod';
import { roles, type ApiToken, type User } from '../domain/accounts.ts';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Role } from '../domain/model.ts';
import { assertAdmin } from '../engine/services.ts';
import { homeChecks } from './permissions.ts';
import { generatePassword, generateToken, hashPassword, sha256, TOKEN_DISPLAY_LENGTH } from '../lib/credentials.ts';
import * as tokenStore from '../store/metadata/tokens.ts';
import { removeUserSessions } from '../store/metadata/sessions.ts';
import * as userStore from '../store/metadata/users.ts';
import type { Home } from './home.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import { checkName } from './validation.ts';
import { clearThrottles } from './sign-in-throttle.ts';
import { checkPrecondition, etagOf, removalVersion, writeVersion, type Precondition } from './versions.ts';

export { authenticateSession, authenticateToken, changePassword, login, logout } from './auth.ts';

/** A user as it may be shown anywhere: never the password or its hash. */
export interface UserView {
  /** Immutable: /api/v1/users/{id} takes it as well as the name. */
  id: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** The version shown (also the ETag header): send it as If-Match to change or remove exactly this version. */
  etag: string;
}

/** A token as listings show it: the prefix tells tokens apart; the token itself is shown only at creation. */
export interface TokenView {
  id: string;
  name: string;
  user: string | null;
  prefix: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface CreatedToken {
  /** Shown once; only its SHA-256 is stored. */
  token: string;
  id: string;
  name: string;
  user: string;
  prefix: string;
  createdAt: string;
}

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    mustChangePassword: user.mustChangePassword,
    createdBy: user.createdBy,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    etag: etagOf(user),
  };
}

function toTokenView(token: ApiToken): TokenView {
  return {
    id: token.id,
    name: token.name,
    user: token.userName,
    prefix: token.prefix,
    createdBy: token.createdBy,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt,
  };
}

// Names appear in URLs (/api/users/{name}), audit entries and tables: keep them plain.
const userName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
const roleSchema = z.enum(roles);
const tokenName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters');

function parseName(value: unknown): string {
  const parsed = userName.safeParse(value);
  if (!parsed.success) throw new ValidationError(`Invalid user name: ${parsed.error.issues[0]!.message}.`, [{ path: 'name', message: parsed.error.issues[0]!.message }]);
  return parsed.data;
}

export function parseRole(value: unknown): Role {
  const parsed = roleSchema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(`Invalid role ${JSON.stringify(value)}: use one of ${roles.join(', ')}.`, [{ path: 'role', message: `must be one of ${roles.join(', ')}` }]);
  }
  return parsed.data;
}

function lastAdminMessage(name: string, action: string): string {
  return `Cannot ${action} "${name}": it is the last administrator. Make another user an administrator first (outflow user set-role <name> admin).`;
}

/** Creates a user with a generated one-time password, returned once and never stored in the clear. */
export async function createUser(home: Home, input: { name: string; role: string }): Promise<{ name: string; role: Role; password: string }> {
  await permit(home, 'user.create', { type: 'user', name: input.name }, () => assertAdmin(home.actor, 'create users'));
  const name = parseName(input.name);
  const role = parseRole(input.role);
  // Names differing only in case ("Admin" next to "admin") would pass for one another in listings and logs.
  const lookalike = (await userStore.listUsers(home.db)).find((u) => u.name.toLowerCase() === name.toLowerCase());
  if (lookalike) throw new ConflictError(`A user named "${lookalike.name}" already exists. Choose another name.`);
  const password = generatePassword();
  const user = await userStore.createUser(
    home.db,
    { name, role, passwordHash: await hashPassword(password), mustChangePassword: true, createdBy: home.actor.name },
    home.now().toISOString(),
  );
  home.log.info({ user: user.name, role, by: home.actor.name }, 'user created');
  await audit(home, 'user.create', { type: 'user', name: user.name }, { role });
  return { name: user.name, role: user.role, password };
}

export async function listUsers(home: Home): Promise<UserView[]> {
  homeChecks.manageUsers(home.actor);
  return (await userStore.listUsers(home.db)).map(toUserView);
}

/** Removes a user, revoking their tokens and ending their sessions; the last administrator stays. */
export async function removeUser(home: Home, name: string, precondition?: Precondition): Promise<{ removed: string; tokensRevoked: number; sessionsEnded: number }> {
  await permit(home, 'user.remove', { type: 'user', name }, () => assertAdmin(home.actor, 'remove users'));
  const at = home.now().toISOString();
  const result = await home.db.transaction().execute(async (tx) => {
    const user = await userStore.getUserByName(tx, name);
    checkPrecondition(precondition, user, `User "${user.name}"`);
    if (user.role === 'admin' && (await userStore.countAdminsForUpdate(tx, home.metadata.dialect)) <= 1) {
      throw new ConflictError(lastAdminMessage(user.name, 'remove'));
    }
    const tokensRevoked = await tokenStore.revokeUserApiTokens(tx, user.id, at);
    const sessionsEnded = await removeUserSessions(tx, user.id);
    await writeVersion(precondition, user, `User "${user.name}"`, () => userStore.removeUser(tx, user.id, removalVersion(precondition, user)));
    return { removed: user.name, tokensRevoked, sessionsEnded };
  });
  home.log.info({ user: result.removed, tokensRevoked: result.tokensRevoked, sessionsEnded: result.sessionsEnded, by: home.actor.name }, 'user removed');
  await audit(home, 'user.remove', { type: 'user', name: result.removed }, { tokensRevoked: result.tokensRevoked, sessionsEnded: result.sessionsEnded });
  return result;
}

/** Changes a user's role; takes effect on their next request (tokens and sessions read the role each time). */
export async function setRole(home: Home, name: string, role: string, precondition?: Precondition): Promise<UserView> {
  await permit(home, 'user.set_role', { type: 'user', name }, () => assertAdmin(home.actor, 'change roles'));
  const newRole = parseRole(role);
  const updated = await home.db.transaction().execute(async (tx) => {
    const user = await userStore.getUserByName(tx, name);
    checkPrecondition(precondition, user, `User "${user.name}"`);
    if (user.role === newRole) return user;
    if (user.role === 'admin' && (await userStore.countAdminsForUpdate(tx, home.metadata.dialect)) <= 1) {
      throw new ConflictError(lastAdminMessage(user.name, 'demote'));
    }
    return writeVersion(precondition, user, `User "${user.name}"`, () => userStore.updateUserRole(tx, user.id, newRole, home.now().toISOString(), user.version));
  });
  home.log.info({ user: updated.name, role: updated.role, by: home.actor.name }, 'user role changed');
  await audit(home, 'user.set_role', { type: 'user', name: updated.name }, { role: updated.role });
  return toUserView(updated);
}

/**
 * Gives a user a new generated one-time password (returned once) and ends their sessions; for someone who
 * lost theirs. Their API tokens keep working: revoke those separately if they may have leaked too.
 */
export async function resetPassword(home: Home, name: string): Promise<{ name: string; role: Role; password: string }> {
  await permit(home, 'user.reset_password', { type: 'user', name }, () => assertAdmin(home.actor, 'reset passwords'));
  const user = await userStore.getUserByName(home.db, name);
  const password = generatePassword();
  await userStore.updateUserPassword(home.db, user.id, await hashPassword(password), true, home.now().toISOString());
  const sessionsEnded = await removeUserSessions(home.db, user.id);
  home.log.info({ user: user.name, sessionsEnded, by: home.actor.name }, 'password reset');
  await audit(home, 'user.reset_password', { type: 'user', name: user.name }, { sessionsEnded });
  return { name: user.name, role: user.role, password };
}

/** The signed-in caller's own account; the CLI's owner, for one, may have none. */
async function ownUser(home: Home, purpose: string): Promise<User> {
  const me = await userStore.findUserByName(home.db, home.actor.name);
  if (!me) {
    throw new NotFoundError(
      `You act as "${home.actor.name}", which is not an Outflow user, so there is no account to ${purpose}. Name the user (outflow token create <user>).`,
    );
  }
  return me;
}

/**
 * Creates an API token for `user` (default: the caller). Administrators may create tokens for anyone, every
 * other signed-in user only for themselves. The token is returned once; only its SHA-256 is stored.
 */
export async function createToken(home: Home, input: { user?: string; name?: string } = {}): Promise<CreatedToken> {
  let owner: User;
  if (input.user === undefined || input.user === home.actor.name) {
    owner = await ownUser(home, 'create a token for');
  } else {
    await permit(home, 'token.create', { type: 'user', name: input.user }, () =>
      assertAdmin(home.actor, "create tokens for other users (you may create one for yourself: outflow token create)"),
    );
    owner = await userStore.getUserByName(home.db, input.user);
  }
  let name: string;
  if (input.name === undefined) {
    name = `token-${(await tokenStore.countApiTokens(home.db, owner.id)) + 1}`;
  } else {
    const parsed = tokenName.safeParse(input.name);
    if (!parsed.success) throw new ValidationError(`Invalid token name: ${parsed.error.issues[0]!.message}.`, [{ path: 'name', message: parsed.error.issues[0]!.message }]);
    name = parsed.data;
    checkName(name, 'token');
  }
  const active = await tokenStore.listActiveApiTokens(home.db, { userId: owner.id });
  if (active.some((t) => t.name === name)) {
    throw new ConflictError(`${owner.name} already has a token named "${name}". Choose another name (--name), or revoke the old one first.`);
  }
  const token = generateToken();
  const record = await tokenStore.createApiToken(
    home.db,
    { userId: owner.id, name, tokenHash: sha256(token), prefix: token.slice(0, TOKEN_DISPLAY_LENGTH), createdBy: home.actor.name },
    home.now().toISOString(),
  );
  home.log.info({ token: record.id, name, user: owner.name, by: home.actor.name }, 'token created');
  await audit(home, 'token.create', { type: 'token', name: record.id }, { name, user: owner.name });
  return { token, id: record.id, name: record.name, user: owner.name, prefix: record.prefix, createdAt: record.createdAt };
}

/** Active tokens: every user's for administrators, one's own for everyone else. */
export async function listTokens(home: Home): Promise<TokenView[]> {
  if (home.actor.role === 'admin') return (await tokenStore.listActiveApiTokens(home.db)).map(toTokenView);
  const me = await userStore.findUserByName(home.db, home.actor.name);
  if (!me) return [];
  return (await tokenStore.listActiveApiTokens(home.db, { userId: me.id })).map(toTokenView);
}

/** Revokes an active token by id, or by name when that names exactly one token. */
export async function revokeToken(home: Home, idOrName: string): Promise<TokenView> {
  // Everyone but an administrator looks among their own tokens only: another user's token answers exactly like
  // one that does not exist (a 403 for it told a contributor which ids and names other users have).
  const all = await tokenStore.listActiveApiTokens(home.db);
  const visible = home.actor.role === 'admin' ? all : all.filter((t) => t.userName === home.actor.name);
  const byId = visible.filter((t) => t.id === idOrName);
  const matches = byId.length > 0 ? byId : visible.filter((t) => t.name === idOrName);
  if (matches.length === 0) throw new NotFoundError(`No active token with id or name "${idOrName}". See \`outflow token list\`.`);
  if (matches.length > 1) {
    throw new ConflictError(
      // By owner: ids made in the same millisecond differ only in their random part, which orders nothing.
      `Several tokens are named "${idOrName}" (${[...matches].sort((x, y) => (x.userName ?? '').localeCompare(y.userName ?? '')).map((t) => `${t.id} of ${t.userName}`).join(', ')}). Revoke one by its id.`,
    );
  }
  const token = matches[0]!;
  await tokenStore.revokeApiToken(home.db, token.id, home.now().toISOString());
  home.log.info({ token: token.id, name: token.name, user: token.userName, by: home.actor.name }, 'token revoked');
  await audit(home, 'token.revoke', { type: 'token', name: token.id }, { name: token.name, user: token.userName });
  return toTokenView(token);
}

/**
 * Lifts the sign-in delays of an account (from every address) and/or of an address (to every account), for
 * someone held back by another's failed guesses. Administrators only; the home's owner is one (the CLI on the
 * home acts as its owner, or through the server's local token), so they can always do it, even for `admin`.
 */
export async function unlockSignIns(home: Home, target: { user?: string; address?: string }): Promise<{ user: string | null; address: string | null; cleared: number }> {
  await permit(home, 'user.unlock', { type: target.user ? 'user' : 'address', name: target.user ?? target.address }, () => assertAdmin(home.actor, 'lift sign-in delays'));
  const user = target.user?.trim() || undefined;
  const address = target.address?.trim() || undefined;
  if (!user && !address) throw new ValidationError('Name the user whose sign-ins to unlock, or the address (--address), or both.');
  if (address && net.isIP(address) === 0) throw new ValidationError(`"${address}" is not an IP address: give it as the audit log shows it, e.g. 203.0.113.7 or 2001:db8::7.`, [{ path: 'address', message: 'not an IP address' }]);
  if (user) await userStore.getUserByName(home.db, user);
  const cleared = await clearThrottles(home.db, { user, address });
  home.log.info({ user, address, cleared, by: home.actor.name }, 'sign-in delays lifted');
  await audit(home, 'user.unlock', { type: user ? 'user' : 'address', name: user ?? address }, { ...(user && address ? { address } : {}), cleared });
  return { user: user ?? null, address: address ?? null, cleared };
}

export const ADMIN_PASSWORD_MIN_LENGTH = 12;

/**
 * On a home without users, creates `admin`: with `OUTFLOW_ADMIN_PASSWORD` when set, else with a generated
 * one-time password that is returned (the server prints it once). Returns null when users exist already.
 */
export async function ensureFirstAdmin(home: Home, env: NodeJS.ProcessEnv = process.env): Promise<{ name: string; role: Role; password: string | null } | null> {
  if ((await userStore.countUsers(home.db)) > 0) return null;
  const given = env.OUTFLOW_ADMIN_PASSWORD;
  if (given !== undefined && given.length < ADMIN_PASSWORD_MIN_LENGTH) {
    throw new ValidationError(`OUTFLOW_ADMIN_PASSWORD must be at least ${ADMIN_PASSWORD_MIN_LENGTH} characters long. Choose a longer one, or unset it to get a generated password.`);
  }
  const password = given ?? generatePassword();
  try {
    await userStore.createUser(
      home.db,
      { name: 'admin', role: 'admin', passwordHash: await hashPassword(password), mustChangePassword: given === undefined, createdBy: 'outflow' },
      home.now().toISOString(),
    );
  } catch (error) {
    // Another process created the first admin at the same moment: that one prints the password.
    if (error instanceof ConflictError) return null;
    throw error;
  }
  home.log.info({ user: 'admin', fromEnvironment: given !== undefined }, 'first administrator created');
  return { name: 'admin', role: 'admin', password: given === undefined ? password : null };
}
