import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { AuthError, ConflictError, NotFoundError, PermissionError, RateLimitedError, RetryableError } from '../domain/errors.ts';
import type { Actor } from '../domain/model.ts';
import { LAST_USED_RESOLUTION_MS, SESSION_IDLE_TIMEOUT_MS, SESSION_MAX_AGE_MS, type AuthOptions } from './auth.ts';
import { openHome, type Home } from './home.ts';
import {
  authenticateSession,
  authenticateToken,
  changePassword,
  createToken,
  createUser,
  ensureFirstAdmin,
  listTokens,
  listUsers,
  login,
  logout,
  removeUser,
  resetPassword,
  revokeToken,
  setRole,
  unlockSignIns,
} from './users.ts';

const owner: Actor = { name: 'owner', role: 'admin' };
let dir: string;
let home: Home;
let clock: Date;
const clockOptions: AuthOptions = { now: () => clock };

/** The same home, with someone else at the keyboard (what the server does per request). */
function as(actor: Actor): Home {
  return { ...home, actor };
}

function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

beforeEach(async () => {
  dir = tempDir('accounts');
  clock = new Date('2026-11-29T10:00:00.000Z');
  const opened = await openHome({ dir, env: {}, actor: owner });
  home = { ...opened, now: () => clock };
});
afterEach(async () => {
  await home.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Creates users as the owner and returns each one's one-time password. */
async function seed(users: Record<string, 'admin' | 'contributor' | 'viewer'>): Promise<Record<string, string>> {
  const passwords: Record<string, string> = {};
  for (const [name, role] of Object.entries(users)) passwords[name] = (await createUser(home, { name, role })).password;
  return passwords;
}

describe('users', () => {
  it('creates a user with a readable one-time password of at least 16 characters that signs in', async () => {
    const created = await createUser(home, { name: 'ada', role: 'contributor' });
    expect(created).toEqual({ name: 'ada', role: 'contributor', password: expect.stringMatching(/^[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$/) });
    expect(created.password.replace(/-/g, '')).toHaveLength(20);
    expect(created.password).not.toMatch(/[01OlI]/);
    const session = await login(home.db, { name: 'ada', password: created.password, address: '10.0.0.1' }, clockOptions);
    expect(session.user).toEqual({ name: 'ada', role: 'contributor', mustChangePassword: true });
    // Two users never get the same password.
    expect((await createUser(home, { name: 'bob', role: 'viewer' })).password).not.toBe(created.password);
  });

  it('lists users without passwords or hashes', async () => {
    const passwords = await seed({ ada: 'admin', bob: 'viewer' });
    const users = await listUsers(home);
    expect(users).toEqual([
      { id: expect.stringMatching(/^user_/), name: 'ada', role: 'admin', mustChangePassword: true, createdBy: 'owner', createdAt: clock.toISOString(), updatedAt: clock.toISOString(), etag: expect.stringMatching(/^"user_\w+\.1"$/) },
      { id: expect.stringMatching(/^user_/), name: 'bob', role: 'viewer', mustChangePassword: true, createdBy: 'owner', createdAt: clock.toISOString(), updatedAt: clock.toISOString(), etag: expect.stringMatching(/^"user_\w+\.1"$/) },
    ]);
    expect(users[0]!.id).not.toBe(users[1]!.id);
    const text = JSON.stringify(users);
    expect(text).not.toMatch(/scrypt|hash/i);
    for (const password of Object.values(passwords)) expect(text).not.toContain(password);
  });

  it('refuses bad names and roles, and a name that exists', async () => {
    await expect(createUser(home, { name: '../etc', role: 'admin' })).rejects.toThrow(/Invalid user name/);
    await expect(createUser(home, { name: 'ada', role: 'Contributor' })).rejects.toThrow('Invalid role "Contributor": use one of admin, contributor, viewer.');
    await seed({ ada: 'viewer' });
    await expect(createUser(home, { name: 'ada', role: 'admin' })).rejects.toBeInstanceOf(ConflictError);
    await expect(createUser(home, { name: 'ADA', role: 'admin' })).rejects.toThrow('A user named "ada" already exists. Choose another name.');
    expect((await listUsers(home)).map((u) => [u.name, u.role])).toEqual([['ada', 'viewer']]);
  });

  it.each(['contributor', 'viewer'] as const)('lets a %s manage no users, saying who may, and changes nothing', async (role) => {
    await seed({ ada: 'admin', cy: role });
    const them = as({ name: 'cy', role });
    await expect(createUser(them, { name: 'eve', role: 'admin' })).rejects.toThrow(new PermissionError('Only administrators may create users. Ask an administrator.'));
    await expect(listUsers(them)).rejects.toThrow('Only administrators may list users.');
    await expect(removeUser(them, 'ada')).rejects.toThrow('Only administrators may remove users.');
    await expect(setRole(them, 'cy', 'admin')).rejects.toThrow('Only administrators may change roles.');
    expect((await listUsers(home)).map((u) => [u.name, u.role])).toEqual([['ada', 'admin'], ['cy', role]]);
  });

  it('never removes or demotes the last administrator', async () => {
    await seed({ ada: 'admin', bob: 'viewer' });
    await expect(removeUser(home, 'ada')).rejects.toThrow(new ConflictError('Cannot remove "ada": it is the last administrator. Make another user an administrator first (outflow user set-role <name> admin).'));
    await expect(setRole(home, 'ada', 'contributor')).rejects.toThrow(/Cannot demote "ada": it is the last administrator/);
    expect((await listUsers(home)).find((u) => u.name === 'ada')?.role).toBe('admin');

    expect(await setRole(home, 'bob', 'admin')).toMatchObject({ name: 'bob', role: 'admin' });
    expect(await setRole(home, 'ada', 'viewer')).toMatchObject({ name: 'ada', role: 'viewer' });
    await expect(removeUser(home, 'bob')).rejects.toThrow(/last administrator/);
    expect(await removeUser(home, 'ada')).toEqual({ removed: 'ada', tokensRevoked: 0, sessionsEnded: 0 });
    expect((await listUsers(home)).map((u) => u.name)).toEqual(['bob']);
  });

  it("removing a user revokes their tokens and ends their sessions, also for a new user of the same name", async () => {
    const passwords = await seed({ ada: 'admin', cy: 'contributor' });
    const { token } = await createToken(home, { user: 'cy' });
    const { sessionId } = await login(home.db, { name: 'cy', password: passwords.cy!, address: null }, clockOptions);
    expect(await authenticateToken(home.db, token, clockOptions)).toEqual({ name: 'cy', role: 'contributor' });

    expect(await removeUser(home, 'cy')).toEqual({ removed: 'cy', tokensRevoked: 1, sessionsEnded: 1 });
    expect(await authenticateToken(home.db, token, clockOptions)).toBeNull();
    expect(await authenticateSession(home.db, sessionId, clockOptions)).toBeNull();
    await seed({ cy: 'admin' });
    expect(await authenticateToken(home.db, token, clockOptions)).toBeNull();
    expect(await listTokens(home)).toEqual([]);
  });

  it('a role change applies to the next request made with an existing token', async () => {
    await seed({ ada: 'admin', cy: 'contributor' });
    const { token } = await createToken(home, { user: 'cy' });
    await setRole(home, 'cy', 'viewer');
    expect(await authenticateToken(home.db, token, clockOptions)).toEqual({ name: 'cy', role: 'viewer' });
  });
});

describe('tokens', () => {
  it('authenticates a token until it is revoked, storing only its hash', async () => {
    await seed({ ada: 'admin' });
    const created = await createToken(as({ name: 'ada', role: 'admin' }), { name: 'laptop' });
    expect(created).toEqual({ token: expect.stringMatching(/^of_[A-Za-z0-9_-]{43}$/), id: expect.stringMatching(/^tok_/), name: 'laptop', user: 'ada', prefix: created.token.slice(0, 9), createdAt: clock.toISOString() });
    const stored = await home.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(created.token);
    expect(JSON.stringify(stored)).not.toContain(created.token.slice(3));

    expect(await authenticateToken(home.db, created.token, clockOptions)).toEqual({ name: 'ada', role: 'admin' });
    expect(await authenticateToken(home.db, `${created.token}x`, clockOptions)).toBeNull();
    expect(await authenticateToken(home.db, 'not-a-token', clockOptions)).toBeNull();

    expect(await revokeToken(home, 'laptop')).toMatchObject({ id: created.id, name: 'laptop', user: 'ada' });
    expect(await authenticateToken(home.db, created.token, clockOptions)).toBeNull();
    await expect(revokeToken(home, 'laptop')).rejects.toThrow('No active token with id or name "laptop". See `outflow token list`.');
  });

  it('records when a token was last used, at most once a minute', async () => {
    await seed({ ada: 'admin' });
    const { token } = await createToken(home, { user: 'ada' });
    const lastUsed = async () => (await listTokens(home))[0]!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    await authenticateToken(home.db, token, clockOptions);
    const first = clock.toISOString();
    expect(await lastUsed()).toBe(first);
    advance(LAST_USED_RESOLUTION_MS - 1);
    await authenticateToken(home.db, token, clockOptions);
    expect(await lastUsed()).toBe(first);
    advance(1);
    await authenticateToken(home.db, token, clockOptions);
    expect(await lastUsed()).toBe(clock.toISOString());
  });

  it('lets administrators create tokens for anyone and everyone else only for themselves', async () => {
    await seed({ ada: 'admin', cy: 'contributor', vi: 'viewer' });
    const forCy = await createToken(home, { user: 'cy', name: 'from-admin' });
    const cyOwn = await createToken(as({ name: 'cy', role: 'contributor' }), {});
    expect(cyOwn).toMatchObject({ user: 'cy', name: 'token-2' });
    expect(await createToken(as({ name: 'vi', role: 'viewer' }), { user: 'vi' })).toMatchObject({ user: 'vi', name: 'token-1' });
    await expect(createToken(as({ name: 'cy', role: 'contributor' }), { user: 'vi' })).rejects.toThrow(
      new PermissionError('Only administrators may create tokens for other users (you may create one for yourself: outflow token create). Ask an administrator.'),
    );
    await expect(createToken(home, {})).rejects.toThrow(/You act as "owner", which is not an Outflow user/);
    await expect(createToken(home, { user: 'cy', name: 'from-admin' })).rejects.toThrow(/cy already has a token named "from-admin"/);

    // Listings: everyone's for administrators, one's own otherwise; never the token itself.
    const all = await listTokens(home);
    expect(all.map((t) => [t.user, t.name])).toEqual([['cy', 'from-admin'], ['cy', 'token-2'], ['vi', 'token-1']]);
    expect(JSON.stringify(all)).not.toContain(forCy.token);
    expect((await listTokens(as({ name: 'vi', role: 'viewer' }))).map((t) => t.name)).toEqual(['token-1']);
    expect(all[0]).toEqual({ id: forCy.id, name: 'from-admin', user: 'cy', prefix: forCy.prefix, createdBy: 'owner', createdAt: clock.toISOString(), lastUsedAt: null });

    // Revoking: one's own only, unless an administrator.
    // Another user's token answers like one that does not exist: nobody learns which ids and names others have.
    const othersToken = await revokeToken(as({ name: 'vi', role: 'viewer' }), forCy.id).catch((e) => e);
    const noSuchToken = await revokeToken(as({ name: 'vi', role: 'viewer' }), 'tok_nosuchtoken').catch((e) => e);
    expect(othersToken).toBeInstanceOf(NotFoundError);
    expect(othersToken.message).toBe(noSuchToken.message.replace('tok_nosuchtoken', forCy.id));
    await expect(revokeToken(as({ name: 'vi', role: 'viewer' }), 'from-admin')).rejects.toBeInstanceOf(NotFoundError);
    expect(await authenticateToken(home.db, forCy.token, clockOptions)).toEqual({ name: 'cy', role: 'contributor' });
    expect(await revokeToken(as({ name: 'cy', role: 'contributor' }), 'from-admin')).toMatchObject({ id: forCy.id });
    expect(await authenticateToken(home.db, forCy.token, clockOptions)).toBeNull();
  });

  it('asks for an id when a name matches tokens of several users', async () => {
    await seed({ ada: 'admin', cy: 'contributor' });
    const a = await createToken(home, { user: 'ada', name: 'ci' });
    const c = await createToken(home, { user: 'cy', name: 'ci' });
    await expect(revokeToken(home, 'ci')).rejects.toThrow(`Several tokens are named "ci" (${a.id} of ada, ${c.id} of cy). Revoke one by its id.`);
    // cy sees only their own "ci", so the name is enough for them.
    expect(await revokeToken(as({ name: 'cy', role: 'contributor' }), 'ci')).toMatchObject({ id: c.id });
    expect(await revokeToken(home, 'ci')).toMatchObject({ id: a.id });
  });
});

describe('sessions and sign-in', () => {
  it('signs in, checks the CSRF token, and logs out', async () => {
    const passwords = await seed({ ada: 'admin' });
    const result = await login(home.db, { name: 'ada', password: passwords.ada!, address: '10.0.0.1' }, clockOptions);
    expect(result).toEqual({
      sessionId: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      user: { name: 'ada', role: 'admin', mustChangePassword: true },
      expiresAt: new Date(clock.getTime() + SESSION_MAX_AGE_MS).toISOString(),
    });
    const stored = JSON.stringify(await home.db.selectFrom('sessions').selectAll().execute());
    expect(stored).not.toContain(result.sessionId);
    expect(stored).not.toContain(result.csrfToken);

    const session = await authenticateSession(home.db, result.sessionId, clockOptions);
    expect(session?.actor).toEqual({ name: 'ada', role: 'admin' });
    expect(session?.checkCsrf(result.csrfToken)).toBe(true);
    // Change the last character to one it is not, so the altered token always differs.
    const last = result.csrfToken.slice(-1);
    expect(session?.checkCsrf(`${result.csrfToken.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`)).toBe(false);
    expect(session?.checkCsrf('')).toBe(false);
    expect(session?.checkCsrf(undefined)).toBe(false);
    expect(await authenticateSession(home.db, result.csrfToken, clockOptions)).toBeNull();

    expect(await logout(home.db, result.sessionId)).toBe(true);
    expect(await authenticateSession(home.db, result.sessionId, clockOptions)).toBeNull();
    expect(await logout(home.db, result.sessionId)).toBe(false);
  });

  it('ends a session after 12 hours idle, and after 7 days however active', async () => {
    const passwords = await seed({ ada: 'admin' });
    const idle = await login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions);
    const busy = await login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions);
    const signedInAt = clock.getTime();
    advance(SESSION_IDLE_TIMEOUT_MS - 1000);
    expect(await authenticateSession(home.db, idle.sessionId, clockOptions)).not.toBeNull();
    // idle was just used, so it lives another 12 hours from here; busy was not, and ends now.
    advance(1000);
    expect(await authenticateSession(home.db, busy.sessionId, clockOptions)).toBeNull();
    expect(await authenticateSession(home.db, idle.sessionId, clockOptions)).not.toBeNull();

    // Used every 11 hours, the session still ends 7 days after sign-in.
    while (clock.getTime() + 11 * 3600_000 < signedInAt + SESSION_MAX_AGE_MS) {
      advance(11 * 3600_000);
      expect(await authenticateSession(home.db, idle.sessionId, clockOptions)).not.toBeNull();
    }
    clock = new Date(signedInAt + SESSION_MAX_AGE_MS);
    expect(await authenticateSession(home.db, idle.sessionId, clockOptions)).toBeNull();
    expect(await home.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });

  it('answers the same for an unknown user and a wrong password', async () => {
    await seed({ ada: 'admin' });
    const wrong = await login(home.db, { name: 'ada', password: 'nope', address: null }, clockOptions).catch((e) => e);
    const unknown = await login(home.db, { name: 'nobody', password: 'nope', address: null }, clockOptions).catch((e) => e);
    for (const error of [wrong, unknown]) {
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'auth_failed', message: 'Wrong name or password.' });
    }
    expect(await home.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });

  it('slows down whoever guesses an account\'s password, with growing delays, while its owner signs in from elsewhere', async () => {
    const passwords = await seed({ ada: 'admin' });
    const attacker = '203.0.113.66';
    const waits: number[] = [];
    for (let i = 0; i < 15; i++) {
      const outcome = await login(home.db, { name: i % 2 ? 'ADA' : 'ada', password: `guess-${i}`, address: attacker }, clockOptions).catch((e) => e);
      if (outcome instanceof RateLimitedError) {
        // Refused without checking the password, and not counted: waiting as told makes the next try count.
        expect(outcome).toBeInstanceOf(RetryableError);
        expect(outcome.retryAfterMs).toBe(outcome.retryAfterSeconds * 1000);
        expect(outcome.message).toBe(`Too many failed sign-ins for this account from this address. Try again in ${outcome.retryAfterSeconds} second${outcome.retryAfterSeconds === 1 ? '' : 's'}.`);
        waits.push(outcome.retryAfterSeconds);
        advance(outcome.retryAfterSeconds * 1000);
      } else {
        expect(outcome).toBeInstanceOf(AuthError);
      }
    }
    // 5 free failures, then each one doubles the wait before the next try (Retry-After on the API).
    expect(waits).toEqual([1, 2, 4, 8, 16]);

    // The account is not locked: its owner, from her own address, gets in at once, even while the guesser waits.
    expect((await login(home.db, { name: 'ada', password: passwords.ada!, address: '198.51.100.7' }, clockOptions)).user.name).toBe('ada');
    const stillWaiting = await login(home.db, { name: 'ada', password: passwords.ada!, address: attacker }, clockOptions).catch((e) => e);
    expect(stillWaiting).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 32 });
    // No hard lock anywhere: after the wait even that address signs in with the right password, which clears its count.
    advance(32_000);
    expect((await login(home.db, { name: 'ada', password: passwords.ada!, address: attacker }, clockOptions)).user.name).toBe('ada');
    await expect(login(home.db, { name: 'ada', password: 'guess', address: attacker }, clockOptions)).rejects.toBeInstanceOf(AuthError);
  });

  it('keeps the delays short and forgets failures a day after the last one', async () => {
    await seed({ ada: 'admin' });
    const options = { ...clockOptions, limits: { freeFailuresPerAccountAddress: 1 } };
    let wait = 0;
    for (let i = 0; i < 30; i++) {
      const outcome = await login(home.db, { name: 'ada', password: 'guess', address: '203.0.113.9' }, options).catch((e) => e);
      if (outcome instanceof RateLimitedError) {
        wait = outcome.retryAfterSeconds;
        advance(wait * 1000);
      }
    }
    expect(wait).toBe(300);
    advance(24 * 60 * 60 * 1000);
    // A day later the count starts over: one free failure, then a 1 s wait.
    await expect(login(home.db, { name: 'ada', password: 'guess', address: '203.0.113.9' }, options)).rejects.toBeInstanceOf(AuthError);
    await expect(login(home.db, { name: 'ada', password: 'guess', address: '203.0.113.9' }, options)).rejects.toMatchObject({ retryAfterSeconds: 1 });
  });

  it('lets a burst of parallel guesses try no more passwords than the free ones', async () => {
    const passwords = await seed({ ada: 'admin' });
    const guesses = Array.from({ length: 12 }, (_, i) => login(home.db, { name: 'ada', password: `guess-${i}`, address: null }, clockOptions).catch((e) => e));
    const outcomes = await Promise.all(guesses);
    expect(outcomes.filter((e) => e instanceof AuthError)).toHaveLength(5);
    expect(outcomes.filter((e) => e instanceof RateLimitedError)).toHaveLength(7);
    await expect(login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions)).rejects.toBeInstanceOf(RateLimitedError);
    advance(1000);
    expect((await login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions)).user.name).toBe('ada');
  });

  it('slows an address that tries many accounts, for every account, without locking it', async () => {
    const passwords = await seed({ ada: 'admin' });
    const options = { ...clockOptions, limits: { freeFailuresPerAddress: 3 } };
    for (const name of ['x', 'y', 'z']) {
      await expect(login(home.db, { name, password: 'guess', address: '192.0.2.7' }, options)).rejects.toBeInstanceOf(AuthError);
    }
    await expect(login(home.db, { name: 'ada', password: passwords.ada!, address: '192.0.2.7' }, options)).rejects.toThrow('Too many failed sign-ins from this address. Try again in 1 second.');
    expect((await login(home.db, { name: 'ada', password: passwords.ada!, address: '192.0.2.8' }, options)).user.name).toBe('ada');
    advance(1000);
    expect((await login(home.db, { name: 'ada', password: passwords.ada!, address: '192.0.2.7' }, options)).user.name).toBe('ada');
  });

  it('lets an administrator (the home\'s owner) lift the delays of an account or an address', async () => {
    const passwords = await seed({ ada: 'admin', cy: 'contributor' });
    const guess = (name: string, address: string) => login(home.db, { name, password: 'guess', address }, { ...clockOptions, limits: { freeFailuresPerAddress: 8 } }).catch((e) => e);
    for (let i = 0; i < 6; i++) await guess('ada', '203.0.113.66');
    for (let i = 0; i < 3; i++) await guess('nobody', '203.0.113.66');
    const right = () => login(home.db, { name: 'ada', password: passwords.ada!, address: '203.0.113.66' }, { ...clockOptions, limits: { freeFailuresPerAddress: 8 } }).catch((e) => e);
    expect(await right()).toBeInstanceOf(RateLimitedError);

    await expect(unlockSignIns(as({ name: 'cy', role: 'contributor' }), { user: 'ada' })).rejects.toBeInstanceOf(PermissionError);
    await expect(unlockSignIns(home, {})).rejects.toThrow(/Name the user whose sign-ins to unlock/);
    await expect(unlockSignIns(home, { address: 'not-an-address' })).rejects.toThrow(/is not an IP address/);
    await expect(unlockSignIns(home, { user: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
    // The account's delays go; the address still waits for its own (9 failures there, 8 free).
    expect(await unlockSignIns(home, { user: 'ada' })).toEqual({ user: 'ada', address: null, cleared: 1 });
    expect(await right()).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('from this address') });
    expect(await unlockSignIns(home, { address: '203.0.113.66' })).toEqual({ user: null, address: '203.0.113.66', cleared: 2 });
    expect((await right()).user.name).toBe('ada');
    const entries = await home.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.unlock').execute();
    expect(entries.map((e) => [e.actor, e.target_type, e.target, e.outcome])).toEqual([
      ['cy', 'user', 'ada', 'denied'],
      ['owner', 'user', 'ada', 'ok'],
      ['owner', 'address', '203.0.113.66', 'ok'],
    ]);
  });
});

describe('passwords', () => {
  it('changes one\'s own password with the current one, keeping the asking session and ending the others', async () => {
    const passwords = await seed({ ada: 'admin' });
    const here = await login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions);
    const elsewhere = await login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions);
    await expect(changePassword(home.db, { name: 'ada', currentPassword: passwords.ada!, newPassword: 'short' }, clockOptions)).rejects.toThrow('The new password must be at least 12 characters long.');
    await expect(changePassword(home.db, { name: 'ada', currentPassword: 'wrong-password', newPassword: 'a new long password' }, clockOptions)).rejects.toThrow('Wrong name or password.');

    expect(await changePassword(home.db, { name: 'ada', currentPassword: passwords.ada!, newPassword: 'a new long password', keepSessionId: here.sessionId }, clockOptions)).toEqual({ name: 'ada', role: 'admin', mustChangePassword: false });
    expect(await authenticateSession(home.db, here.sessionId, clockOptions)).not.toBeNull();
    expect(await authenticateSession(home.db, elsewhere.sessionId, clockOptions)).toBeNull();
    await expect(login(home.db, { name: 'ada', password: passwords.ada!, address: null }, clockOptions)).rejects.toBeInstanceOf(AuthError);
    expect((await login(home.db, { name: 'ada', password: 'a new long password', address: null }, clockOptions)).user.mustChangePassword).toBe(false);
  });

  it('lets administrators reset a password, which ends the user\'s sessions but keeps their tokens', async () => {
    const passwords = await seed({ ada: 'admin', cy: 'viewer' });
    const session = await login(home.db, { name: 'cy', password: passwords.cy!, address: null }, clockOptions);
    const { token } = await createToken(home, { user: 'cy' });
    await expect(resetPassword(as({ name: 'cy', role: 'viewer' }), 'ada')).rejects.toThrow('Only administrators may reset passwords.');

    const reset = await resetPassword(home, 'cy');
    expect(reset).toEqual({ name: 'cy', role: 'viewer', password: expect.stringMatching(/^[A-Za-z2-9-]{23}$/) });
    expect(reset.password).not.toBe(passwords.cy);
    expect(await authenticateSession(home.db, session.sessionId, clockOptions)).toBeNull();
    expect(await authenticateToken(home.db, token, clockOptions)).toEqual({ name: 'cy', role: 'viewer' });
    expect((await login(home.db, { name: 'cy', password: reset.password, address: null }, clockOptions)).user.mustChangePassword).toBe(true);
  });
});

describe('the first administrator', () => {
  it('is created once, with a generated one-time password returned to the caller', async () => {
    const first = await ensureFirstAdmin(home, {});
    expect(first).toEqual({ name: 'admin', role: 'admin', password: expect.stringMatching(/^[A-Za-z2-9-]{23}$/) });
    expect(await ensureFirstAdmin(home, {})).toBeNull();
    expect((await login(home.db, { name: 'admin', password: first!.password!, address: null }, clockOptions)).user).toEqual({ name: 'admin', role: 'admin', mustChangePassword: true });
    expect((await listUsers(home)).map((u) => u.name)).toEqual(['admin']);
    expect(fs.readFileSync(path.join(dir, 'logs', 'outflow.log'), 'utf8')).not.toContain(first!.password!);
  });

  it('takes OUTFLOW_ADMIN_PASSWORD when set, and does not echo it', async () => {
    await expect(ensureFirstAdmin(home, { OUTFLOW_ADMIN_PASSWORD: 'short' })).rejects.toThrow(/at least 12 characters/);
    expect(await ensureFirstAdmin(home, { OUTFLOW_ADMIN_PASSWORD: 'correct horse battery' })).toEqual({ name: 'admin', role: 'admin', password: null });
    expect((await login(home.db, { name: 'admin', password: 'correct horse battery', address: null }, clockOptions)).user).toEqual({ name: 'admin', role: 'admin', mustChangePassword: false });
  });

  it('is not created when users exist', async () => {
    await seed({ ada: 'admin' });
    expect(await ensureFirstAdmin(home, {})).toBeNull();
    expect((await listUsers(home)).map((u) => u.name)).toEqual(['ada']);
  });
});

describe('the last administrator on PostgreSQL, under concurrent changes', async () => {
  const { POSTGRES_URL, dropSchema, postgresAvailable, uniqueSchema } = await import('../../test/support/postgres.ts');
  const { openMetadataStore } = await import('../store/metadata/db.ts');
  const available = await postgresAvailable();
  const schema = uniqueSchema('outflow_accounts_race');
  const test = available ? it : it.skip;

  test('two administrators demoting each other at once leave one administrator', async () => {
    // Create the schema, then point a home at it through the URL (as OUTFLOW_DATABASE_URL would).
    await (await openMetadataStore({ url: POSTGRES_URL, pgSchema: schema })).close();
    const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const pgDir = tempDir('accounts-pg');
    const pgHome = await openHome({ dir: pgDir, env: { OUTFLOW_DATABASE_URL: url }, actor: owner });
    try {
      for (let round = 0; round < 3; round++) {
        await pgHome.db.deleteFrom('users').execute();
        await createUser(pgHome, { name: 'ada', role: 'admin' });
        await createUser(pgHome, { name: 'bob', role: 'admin' });
        const outcomes = await Promise.allSettled([setRole(pgHome, 'ada', 'viewer'), setRole(pgHome, 'bob', 'viewer')]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect((await listUsers(pgHome)).filter((u) => u.role === 'admin')).toHaveLength(1);
      }
    } finally {
      await pgHome.close();
      fs.rmSync(pgDir, { recursive: true, force: true });
      await dropSchema(schema);
    }
  });
});
