import fs from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { authenticateToken, ensureFirstAdmin } from '../src/app/users.ts';
import { issueLocalToken, localTokenName } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';

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
