import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outflow, tempDir, writeJson } from './support/cli.ts';
import './support/server.ts';

// `--if-match` on the CLI's edits and removals: a script that read an export or a connection (`show --json`) and
// edits it afterwards is refused (exit 4) when someone changed it in between, instead of overwriting that
// change; the same words and exit code with or without a server (this suite also runs via-server).

let home: string;
let work: string;

beforeAll(async () => {
  home = tempDir('edit-versions-home');
  work = tempDir('edit-versions-work');
  fs.writeFileSync(path.join(work, 'customers.csv'), 'profile_id,email\n1,a@example.com\n2,b@example.com\n');
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  const config = writeJson(work, 'files.json', { host: 'sftp.example.com', username: 'u', password: 'pw-1', folder: '/out' });
  expect((await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'files', '--config', config, '--accept-privacy-terms')).code).toBe(0);
  expect((await outflow(home, 'export', 'create', '--name', 'daily', '--connection', 'files', '--entities', 'Customer')).code).toBe(0);
});

afterAll(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const rows = (n: number) => writeJson(work, `rows-${n}.json`, { rowsPerFile: n });

describe('--if-match', () => {
  it('refuses an export edit made from an older version, keeps the other change, and accepts the current version', async () => {
    const read = (await outflow(home, 'export', 'show', 'daily', '--json')).json() as { etag: string };
    expect(read.etag).toMatch(/^"exp_\w+\.\d+"$/);
    // Someone else edits it after the read.
    expect((await outflow(home, 'export', 'update', 'daily', '--config', rows(100))).code).toBe(0);

    const stale = await outflow(home, 'export', 'update', 'daily', '--config', rows(5), '--if-match', read.etag);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toBe('error: Export "daily" was changed by someone else since you read it; nothing was saved. Reload it to see the current version, then make your change again.\n');
    const now = (await outflow(home, 'export', 'show', 'daily', '--json')).json() as { etag: string; config: { rowsPerFile: number } };
    expect(now.config.rowsPerFile).toBe(100);

    // The quotes are optional on the command line.
    const fresh = await outflow(home, 'export', 'update', 'daily', '--config', rows(5), '--if-match', now.etag.slice(1, -1));
    expect(fresh.stderr).toBe('');
    expect(fresh.code).toBe(0);
    expect(((await outflow(home, 'export', 'show', 'daily', '--json')).json() as { config: { rowsPerFile: number } }).config.rowsPerFile).toBe(5);
  });

  it('refuses a removal of an older version, and says when the ETag is not one', async () => {
    const read = (await outflow(home, 'export', 'show', 'daily', '--json')).json() as { etag: string };
    expect((await outflow(home, 'export', 'update', 'daily', '--config', rows(7))).code).toBe(0);
    const stale = await outflow(home, 'export', 'remove', 'daily', '--if-match', read.etag);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toMatch(/^error: Export "daily" was changed by someone else since you read it; nothing was saved\./);
    expect((await outflow(home, 'export', 'show', 'daily', '--json')).code).toBe(0);

    const bad = await outflow(home, 'export', 'remove', 'daily', '--if-match', 'two words');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--if-match takes an ETag as `show --json` prints it');
  });

  it('refuses a connection edit made from an older version', async () => {
    const read = (await outflow(home, 'connection', 'show', 'files', '--json')).json() as { etag: string };
    expect((await outflow(home, 'connection', 'update', 'files', '--usable-by', 'admins-and-contributors')).code).toBe(0);
    const stale = await outflow(home, 'connection', 'update', 'files', '--usable-by', 'admins', '--if-match', read.etag);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toMatch(/^error: Connection "files" was changed by someone else since you read it/);
    expect(((await outflow(home, 'connection', 'show', 'files', '--json')).json() as { usableBy: string }).usableBy).toBe('admins-and-contributors');
    expect((await outflow(home, 'connection', 'remove', 'files', '--force', '--if-match', read.etag)).code).toBe(4);
  });
});
