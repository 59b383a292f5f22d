import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outflow, tempDir, type CliResult } from './support/cli.ts';

let home: string;
const savedEnv = { user: process.env.OUTFLOW_USER, role: process.env.OUTFLOW_ROLE };

/** Every output of every command, except the one-time outputs of `user create` and `token create`. */
const transcript: string[] = [];
async function run(...args: string[]): Promise<CliResult> {
  const result = await outflow(home, ...args);
  transcript.push(result.stdout, result.stderr);
  return result;
}

beforeAll(() => {
  home = tempDir('accounts-cli');
  // Without a server the CLI acts as the home's owner, an administrator.
  process.env.OUTFLOW_USER = 'owner';
  delete process.env.OUTFLOW_ROLE;
});
afterAll(() => {
  process.env.OUTFLOW_USER = savedEnv.user;
  if (savedEnv.user === undefined) delete process.env.OUTFLOW_USER;
  if (savedEnv.role !== undefined) process.env.OUTFLOW_ROLE = savedEnv.role;
  fs.rmSync(home, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []));
}

describe('outflow user and token', () => {
  const secrets: string[] = [];

  it('creates users, printing each one-time password once, and lists them without it', async () => {
    const created = await outflow(home, 'user', 'create', 'ada', '--role', 'admin', '--json');
    expect(created.code).toBe(0);
    const ada = created.json();
    expect(ada).toEqual({ name: 'ada', role: 'admin', password: expect.any(String) });
    expect(ada.password.length).toBeGreaterThanOrEqual(16);
    secrets.push(ada.password);

    const text = await outflow(home, 'user', 'create', 'cy', '--role', 'contributor');
    expect(text.code).toBe(0);
    const [line1, line2] = text.stdout.trim().split('\n');
    expect(line1).toBe('Created user "cy" (contributor).');
    expect(line2).toMatch(/^One-time password, shown only now: [A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$/);
    secrets.push(line2!.split(': ')[1]!);

    const list = await run('user', 'list', '--json');
    expect(list.json()).toEqual([
      { id: expect.stringMatching(/^user_/), name: 'ada', role: 'admin', mustChangePassword: true, createdBy: 'owner', createdAt: expect.any(String), updatedAt: expect.any(String), etag: expect.stringMatching(/^"user_\w+\.1"$/) },
      { id: expect.stringMatching(/^user_/), name: 'cy', role: 'contributor', mustChangePassword: true, createdBy: 'owner', createdAt: expect.any(String), updatedAt: expect.any(String), etag: expect.stringMatching(/^"user_\w+\.1"$/) },
    ]);
    const table = await run('user', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+CREATEDBY\s+CREATED$/);
    expect(table.stdout).toMatch(/^cy\s+contributor\s+owner\s+/m);
  });

  it('refuses a bad role and a taken name with the right exit codes', async () => {
    const bad = await run('user', 'create', 'dee', '--role', 'superuser');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('error: Invalid role "superuser": use one of admin, contributor, viewer.');
    const taken = await run('user', 'create', 'ada', '--role', 'viewer');
    expect(taken.code).toBe(4);
    expect(taken.stderr).toMatch(/A user named "ada" already exists/);
  });

  it('changes roles, but never demotes the last administrator', async () => {
    const last = await run('user', 'set-role', 'ada', 'viewer');
    expect(last.code).toBe(4);
    expect(last.stderr).toMatch(/^error: Cannot demote "ada": it is the last administrator/);
    const promoted = await run('user', 'set-role', 'cy', 'admin');
    expect(promoted.code).toBe(0);
    expect(promoted.stdout.trim()).toBe('"cy" is now an administrator.');
    expect((await run('user', 'set-role', 'cy', 'contributor', '--json')).json()).toMatchObject({ name: 'cy', role: 'contributor' });
  });

  it('creates a token once, lists it by prefix, and revokes it by name or id', async () => {
    const created = await outflow(home, 'token', 'create', 'ada', '--name', 'laptop', '--json');
    expect(created.code).toBe(0);
    const token = created.json();
    expect(token).toEqual({ token: expect.stringMatching(/^of_[A-Za-z0-9_-]{43}$/), id: expect.stringMatching(/^tok_/), name: 'laptop', user: 'ada', prefix: token.token.slice(0, 9), createdAt: expect.any(String) });
    secrets.push(token.token);

    const text = await outflow(home, 'token', 'create', 'cy');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Created token "token-1" \(tok_\w+\) for "cy"\.\nToken, shown only now: of_[A-Za-z0-9_-]{43}\n$/);
    secrets.push(text.stdout.match(/of_[A-Za-z0-9_-]{43}/)![0]);

    const list = await run('token', 'list', '--json');
    expect(list.json()).toEqual([
      { id: token.id, name: 'laptop', user: 'ada', prefix: token.prefix, createdBy: 'owner', createdAt: token.createdAt, lastUsedAt: null },
      expect.objectContaining({ name: 'token-1', user: 'cy' }),
    ]);
    const table = await run('token', 'list');
    expect(table.stdout).toContain(`${token.id}  laptop   ada   ${token.prefix}…`);

    const mine = await run('token', 'create');
    expect(mine.code).toBe(3);
    expect(mine.stderr).toMatch(/You act as "owner", which is not an Outflow user/);

    const revoked = await run('token', 'revoke', 'laptop');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout.trim()).toBe(`Revoked token "laptop" (${token.id}) of "ada".`);
    expect((await run('token', 'revoke', token.id)).code).toBe(3);
    expect((await run('token', 'list', '--json')).json().map((t: { name: string }) => t.name)).toEqual(['token-1']);
  });

  it('answers a contributor at the keyboard that only administrators manage users', async () => {
    process.env.OUTFLOW_ROLE = 'contributor';
    try {
      const denied = await run('user', 'list');
      expect(denied.code).toBe(5);
      expect(denied.stderr.trim()).toBe('error: Only administrators may list users. Ask an administrator.');
    } finally {
      delete process.env.OUTFLOW_ROLE;
    }
  });

  it('resets a password, printing the new one-time password once', async () => {
    const reset = await outflow(home, 'user', 'reset-password', 'cy', '--json');
    expect(reset.code).toBe(0);
    const { password } = reset.json();
    expect(reset.json()).toEqual({ name: 'cy', role: 'contributor', password: expect.stringMatching(/^[A-Za-z2-9-]{23}$/) });
    expect(secrets).not.toContain(password);
    secrets.push(password);
  });

  it('removes a user, revoking their tokens', async () => {
    const removed = await run('user', 'remove', 'cy');
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim()).toBe('Removed user "cy"; revoked 1 token(s) and ended 0 session(s).');
    expect((await run('token', 'list', '--json')).json()).toEqual([]);
    expect((await run('user', 'remove', 'cy')).code).toBe(3);
    expect((await run('user', 'remove', 'ada')).code).toBe(4);
  });

  it('never prints a password or token outside the one-time create output, nor stores or logs one', async () => {
    expect(secrets).toHaveLength(5);
    const everything = transcript.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    for (const file of filesUnder(home)) {
      const bytes = fs.readFileSync(file);
      for (const secret of secrets) expect(bytes.includes(secret), `${secret.slice(0, 3)}… found in ${path.relative(home, file)}`).toBe(false);
    }
  });
});
