import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import type { MetadataStore } from './db.ts';
import { clearLoginFailures, clearLoginFailuresWhere, forgiveLoginAttempt, getLoginFailures, replaceLoginFailures } from './login-failures.ts';
import { createSession, findSession, pruneSessions, removeUserSessions, touchSession } from './sessions.ts';
import { countApiTokens, createApiToken, findActiveApiToken, listActiveApiTokens, revokeApiToken, revokeUserApiTokens, touchApiToken } from './tokens.ts';
import { countUsers, createUser, getUserByName, listUsers, readPasswordHash, removeUser, updateUserRole } from './users.ts';

const backends = await metadataBackends('outflow_accounts_test');

describe.each(backends)('accounts in the metadata store on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;

  test('keeps users with unique names, and returns them without the password hash', async () => {
    const ada = await createUser(store.db, { name: 'ada', role: 'admin', passwordHash: 'scrypt$1$1$1$salt$key', mustChangePassword: true, createdBy: 'outflow' }, '2026-11-29T10:00:00.000Z');
    expect(ada).toEqual({ id: ada.id, name: 'ada', role: 'admin', mustChangePassword: true, createdBy: 'outflow', createdAt: '2026-11-29T10:00:00.000Z', updatedAt: '2026-11-29T10:00:00.000Z', version: 1 });
    expect(JSON.stringify(await listUsers(store.db))).not.toContain('scrypt$');
    expect(await readPasswordHash(store.db, ada.id)).toBe('scrypt$1$1$1$salt$key');
    await expect(createUser(store.db, { name: 'ada', role: 'viewer', passwordHash: 'x', mustChangePassword: false, createdBy: 'ada' })).rejects.toThrow(/A user named "ada" already exists/);

    const bob = await createUser(store.db, { name: 'bob', role: 'viewer', passwordHash: 'h', mustChangePassword: false, createdBy: 'ada' });
    expect(await countUsers(store.db, { role: 'admin' })).toBe(1);
    expect(await updateUserRole(store.db, bob.id, 'admin', '2026-11-29T11:00:00.000Z')).toMatchObject({ role: 'admin', updatedAt: '2026-11-29T11:00:00.000Z', mustChangePassword: false });
    expect(await countUsers(store.db, { role: 'admin' })).toBe(2);
    await removeUser(store.db, bob.id);
    await expect(getUserByName(store.db, 'bob')).rejects.toThrow(/No user named "bob"/);
    expect((await listUsers(store.db)).map((u) => u.name)).toEqual(['ada']);
  });

  test('finds a token by its hash with its owner until it is revoked', async () => {
    const cy = await createUser(store.db, { name: 'cy', role: 'contributor', passwordHash: 'h', mustChangePassword: false, createdBy: 'ada' });
    const token = await createApiToken(store.db, { userId: cy.id, name: 'ci', tokenHash: 'a'.repeat(64), prefix: 'of_abcdef', createdBy: 'ada' }, '2026-11-29T10:00:00.000Z');
    expect(token).toMatchObject({ userName: 'cy', name: 'ci', prefix: 'of_abcdef', lastUsedAt: null, revokedAt: null });
    expect(await findActiveApiToken(store.db, 'a'.repeat(64))).toMatchObject({ token: { id: token.id }, user: { name: 'cy', role: 'contributor' } });
    await touchApiToken(store.db, token.id, '2026-11-29T10:05:00.000Z');
    expect((await listActiveApiTokens(store.db, { userId: cy.id }))[0]!.lastUsedAt).toBe('2026-11-29T10:05:00.000Z');

    await revokeApiToken(store.db, token.id, '2026-11-29T10:06:00.000Z');
    expect(await findActiveApiToken(store.db, 'a'.repeat(64))).toBeUndefined();
    expect(await listActiveApiTokens(store.db, { userId: cy.id })).toEqual([]);
    expect(await countApiTokens(store.db, cy.id)).toBe(1);

    await createApiToken(store.db, { userId: cy.id, name: 'one', tokenHash: 'b'.repeat(64), prefix: 'of_b', createdBy: 'ada' });
    await createApiToken(store.db, { userId: cy.id, name: 'two', tokenHash: 'c'.repeat(64), prefix: 'of_c', createdBy: 'ada' });
    await expect(createApiToken(store.db, { userId: cy.id, name: 'dup', tokenHash: 'c'.repeat(64), prefix: 'of_c', createdBy: 'ada' })).rejects.toThrow();
    expect(await revokeUserApiTokens(store.db, cy.id)).toBe(2);
    expect(await findActiveApiToken(store.db, 'b'.repeat(64))).toBeUndefined();
  });

  test('keeps sessions by id hash, ends a user\'s sessions, and prunes expired and idle ones', async () => {
    const dee = await createUser(store.db, { name: 'dee', role: 'viewer', passwordHash: 'h', mustChangePassword: false, createdBy: 'ada' });
    const base = { userId: dee.id, csrfTokenHash: 'f'.repeat(64), createdAt: '2026-11-29T10:00:00.000Z', address: '10.0.0.1' };
    await createSession(store.db, { ...base, idHash: '1'.repeat(64), expiresAt: '2026-12-06T10:00:00.000Z', lastSeenAt: '2026-11-29T10:00:00.000Z' });
    await createSession(store.db, { ...base, idHash: '2'.repeat(64), expiresAt: '2026-11-29T11:00:00.000Z', lastSeenAt: '2026-11-29T10:00:00.000Z' });
    await createSession(store.db, { ...base, idHash: '3'.repeat(64), expiresAt: '2026-12-06T10:00:00.000Z', lastSeenAt: '2026-11-29T10:00:00.000Z' });
    expect(await findSession(store.db, '1'.repeat(64))).toMatchObject({ session: { address: '10.0.0.1', userId: dee.id }, user: { name: 'dee', role: 'viewer' } });

    await touchSession(store.db, '1'.repeat(64), '2026-11-29T12:00:00.000Z');
    // At 12:30, with sessions idle since before 12:00 ending: #1 was seen at 12:00 exactly, which counts as idle too.
    await touchSession(store.db, '1'.repeat(64), '2026-11-29T12:10:00.000Z');
    expect(await pruneSessions(store.db, '2026-11-29T12:30:00.000Z', '2026-11-29T12:00:00.000Z')).toBe(2);
    expect(await findSession(store.db, '1'.repeat(64))).toMatchObject({ session: { lastSeenAt: '2026-11-29T12:10:00.000Z' } });
    expect(await findSession(store.db, '2'.repeat(64))).toBeUndefined();
    expect(await removeUserSessions(store.db, dee.id)).toBe(1);
    expect(await findSession(store.db, '1'.repeat(64))).toBeUndefined();
  });

  test('counts sign-in failures with a compare-and-set, so that of racing attempts exactly one takes a turn', async () => {
    const at = '2026-11-29T10:00:00.000Z';
    expect(await replaceLoginFailures(store.db, 'pair:eve|', undefined, { failures: 1, lastAttemptAt: at })).toBe(true);
    // A second "first" attempt lost the race: the row exists now.
    expect(await replaceLoginFailures(store.db, 'pair:eve|', undefined, { failures: 1, lastAttemptAt: at })).toBe(false);
    const seen = (await getLoginFailures(store.db, 'pair:eve|'))!;
    expect(seen).toEqual({ failures: 1, lastAttemptAt: at });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => replaceLoginFailures(store.db, 'pair:eve|', seen, { failures: 2, lastAttemptAt: '2026-11-29T10:00:01.000Z' })));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    await forgiveLoginAttempt(store.db, 'pair:eve|');
    expect(await getLoginFailures(store.db, 'pair:eve|')).toEqual({ failures: 1, lastAttemptAt: '2026-11-29T10:00:01.000Z' });
    // Back at zero, the count is gone.
    await forgiveLoginAttempt(store.db, 'pair:eve|');
    expect(await getLoginFailures(store.db, 'pair:eve|')).toBeUndefined();

    for (const key of ['pair:eve|10.0.0.1', 'pair:eve|10.0.0.2', 'pair:bob|10.0.0.1', 'address:10.0.0.1', 'pair:eve_|10.0.0.3']) {
      await replaceLoginFailures(store.db, key, undefined, { failures: 3, lastAttemptAt: at });
    }
    expect((await clearLoginFailuresWhere(store.db, (k) => k.startsWith('pair:eve|'))).sort()).toEqual(['pair:eve|10.0.0.1', 'pair:eve|10.0.0.2']);
    expect(await getLoginFailures(store.db, 'pair:eve_|10.0.0.3')).toBeDefined();
    await clearLoginFailures(store.db, 'pair:bob|10.0.0.1');
    expect(await getLoginFailures(store.db, 'pair:bob|10.0.0.1')).toBeUndefined();
  });
});
