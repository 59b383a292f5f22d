import fs from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { authenticateToken, ensureFirstAdmin, listTokens, revokeToken } from '../src/app/users.ts';
import { issueLocalToken, localTokenName, startServer } from '../src/server/serve.ts';
import { readServerFile } from '../src/server/server-file.ts';
import { outflow, tempDir } from './support/cli.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

// Several servers may share one metadata store (scale-out on PostgreSQL). Each writes its own home's
// server.json with a CLI token; starting one must not revoke the token of another (CI saw two servers that
// started at once collide on the single name every server used).
it("gives each home's server a CLI token of its own, replacing only that home's previous one", async () => {
  const first = tempDir('local-token-a');
  const second = tempDir('local-token-b');
  dirs.push(first, second);
  const home = await openHome({ dir: first, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: 'local-token-admin-pw' } });
  try {
    await ensureFirstAdmin(home, { OUTFLOW_ADMIN_PASSWORD: 'local-token-admin-pw' });
    // The second home shares the first one's metadata store, as servers on one PostgreSQL database do.
    const other = { ...home, dir: second };
    expect(localTokenName(home)).not.toBe(localTokenName(other));
    const a = await issueLocalToken(home);
    const b = await issueLocalToken(other);
    expect(await authenticateToken(home.db, a)).not.toBeNull();
    expect(await authenticateToken(home.db, b)).not.toBeNull();
    // A restart of the first home's server replaces its own token only.
    const again = await issueLocalToken(home);
    expect(await authenticateToken(home.db, a)).toBeNull();
    expect(await authenticateToken(home.db, again)).not.toBeNull();
    expect(await authenticateToken(home.db, b)).not.toBeNull();
    // Both at once (two servers starting together) both succeed.
    const both = await Promise.all([issueLocalToken(home), issueLocalToken(other)]);
    for (const token of both) expect(await authenticateToken(home.db, token)).not.toBeNull();
  } finally {
    await home.close();
  }
});

// Revoking the server's CLI token (one click in the web app) must not lock the CLI of the server's machine
// out until a restart: whoever can read the home owns it, and the renew key in server.json gets a new token.
it('lets the CLI on the server\'s machine recover by itself when its token was revoked', async () => {
  const dir = tempDir('local-token-renew');
  dirs.push(dir);
  const server = await startServer({ dir, port: 0, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: 'local-token-admin-pw' } });
  try {
    const before = readServerFile(dir)!;
    expect(before.renewKey).toMatch(/^[\w-]{43}$/);
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    const [local] = (await listTokens(admin)).filter((t) => t.name === localTokenName(server.home));
    await revokeToken(admin, local!.id);
    expect(await authenticateToken(server.home.db, before.token)).toBeNull();

    // Any command works again, `token create` included, and the next one reads the new token from server.json.
    const list = await outflow(dir, 'export', 'list');
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const after = readServerFile(dir)!;
    expect(after.token).not.toBe(before.token);
    expect(after.renewKey).toBe(before.renewKey);
    expect(await authenticateToken(server.home.db, after.token)).toMatchObject({ role: 'admin' });
    const created = await outflow(dir, 'token', 'create', '--name', 'for-ci', '--json');
    expect(created.code, created.stderr).toBe(0);
    // Only the local token was renewed, once: the revoked one stays revoked.
    expect((await listTokens(admin)).filter((t) => t.name === localTokenName(server.home))).toHaveLength(1);

    // The key is the credential: without it nobody gets a token.
    const refused = await fetch(`${server.url}/api/v1/local-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ renewKey: 'guessed' }) });
    expect(refused.status).toBe(401);
    const renewed = await fetch(`${server.url}/api/v1/local-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ renewKey: before.renewKey }) });
    // The current token still works, so it is the one answered (two commands renewing at once get one token).
    expect(await renewed.json()).toEqual({ token: after.token });
  } finally {
    await server.close();
  }
});
