import { sql, type Selectable } from 'kysely';
import type { User } from '../../domain/accounts.ts';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Role } from '../../domain/model.ts';
import { newId } from '../../lib/ids.ts';
import type { Db, UsersTable } from './db.ts';
import { isUniqueViolation, nowIso } from './json.ts';
import { throwMismatch } from './versions.ts';

export interface NewUser {
  name: string;
  role: Role;
  passwordHash: string;
  mustChangePassword: boolean;
  createdBy: string;
}

/** The user columns of a query joined to `users` (sessions, tokens), prefixed so they cannot clash. */
export const joinedUserColumns = [
  'users.name as user_name',
  'users.role as user_role',
  'users.must_change_password as user_must_change_password',
  'users.created_by as user_created_by',
  'users.created_at as user_created_at',
  'users.updated_at as user_updated_at',
  'users.version as user_version',
] as const;

/** The user of a row selected with {@link joinedUserColumns} (and `user_id`). */
export function joinedUser(row: {
  user_id: string;
  user_name: string;
  user_role: string;
  user_must_change_password: UsersTable['must_change_password'];
  user_created_by: string;
  user_created_at: string;
  user_updated_at: string;
  user_version: number;
}): User {
  return toUser({
    id: row.user_id,
    name: row.user_name,
    role: row.user_role as Role,
    must_change_password: row.user_must_change_password,
    created_by: row.user_created_by,
    created_at: row.user_created_at,
    updated_at: row.user_updated_at,
    version: row.user_version,
  });
}

export function toUser(row: Omit<Selectable<UsersTable>, 'password_hash'>): User {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    mustChangePassword: Number(row.must_change_password) === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

// Every column but the hash: what leaves this module never carries it, except through readPasswordHash.
const userColumns = ['id', 'name', 'role', 'must_change_password', 'created_by', 'created_at', 'updated_at', 'version'] as const;

export async function createUser(db: Db, input: NewUser, at: string = nowIso()): Promise<User> {
  const id = newId('user');
  try {
    await db
      .insertInto('users')
      .values({
        id,
        name: input.name,
        role: input.role,
        password_hash: input.passwordHash,
        must_change_password: input.mustChangePassword ? 1 : 0,
        created_by: input.createdBy,
        created_at: at,
        updated_at: at,
      })
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`A user named "${input.name}" already exists. Choose another name.`);
    throw error;
  }
  return getUserById(db, id);
}

export async function getUserById(db: Db, id: string): Promise<User> {
  const row = await db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`The user ${id} no longer exists.`);
  return toUser(row);
}

export async function findUserByName(db: Db, name: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(userColumns).where('name', '=', name).executeTakeFirst();
  return row ? toUser(row) : undefined;
}

export async function getUserByName(db: Db, name: string): Promise<User> {
  const user = await findUserByName(db, name);
  if (!user) throw new NotFoundError(`No user named "${name}". See \`outflow user list\`.`);
  return user;
}

export async function listUsers(db: Db): Promise<User[]> {
  const rows = await db.selectFrom('users').select(userColumns).orderBy('name').execute();
  return rows.map(toUser);
}

export async function countUsers(db: Db, filter: { role?: Role } = {}): Promise<number> {
  let query = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'));
  if (filter.role) query = query.where('role', '=', filter.role);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The stored hash, for verifying a password; only the login path calls this. */
export async function readPasswordHash(db: Db, userId: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  return row?.password_hash;
}

/**
 * Changes the role and advances the user's version (a password change does not: no role edit can overwrite it).
 * With `expectedVersion`, a compare-and-set: only if the user is still at that version, else VersionMismatch.
 */
export async function updateUserRole(db: Db, userId: string, role: Role, at: string = nowIso(), expectedVersion?: number): Promise<User> {
  let query = db.updateTable('users').set({ role, updated_at: at, version: sql<number>`version + 1` }).where('id', '=', userId);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  if (Number((await query.executeTakeFirst()).numUpdatedRows) === 0) await throwMismatch(db, 'users', userId, `The user ${userId} no longer exists.`);
  return getUserById(db, userId);
}

export async function updateUserPassword(db: Db, userId: string, passwordHash: string, mustChangePassword: boolean, at: string = nowIso()): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, must_change_password: mustChangePassword ? 1 : 0, updated_at: at })
    .where('id', '=', userId)
    .execute();
}

/** Removes the user; with `expectedVersion`, only if it is still at that version (else VersionMismatch). */
export async function removeUser(db: Db, userId: string, expectedVersion?: number): Promise<void> {
  let query = db.deleteFrom('users').where('id', '=', userId);
  if (expectedVersion !== undefined) query = query.where('version', '=', expectedVersion);
  if (Number((await query.executeTakeFirst()).numDeletedRows) === 0 && expectedVersion !== undefined) {
    await throwMismatch(db, 'users', userId, `The user ${userId} no longer exists.`);
  }
}

/**
 * Counts administrators inside a transaction that may demote or remove one. On PostgreSQL it also locks
 * their rows until the transaction ends: otherwise two administrators demoting each other at once would
 * each see the other one left, and both succeed. (SQLite lets one writer at a time in; no lock needed.)
 */
export async function countAdminsForUpdate(tx: Db, dialect: 'sqlite' | 'postgres'): Promise<number> {
  let query = tx.selectFrom('users').select('id').where('role', '=', 'admin');
  if (dialect === 'postgres') query = query.forUpdate();
  return (await query.execute()).length;
}
