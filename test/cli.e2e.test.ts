import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { tempDir } from './support/cli.ts';
import { ensureServer, viaServer } from './support/server.ts';

const BIN = path.resolve('bin/outflow.cjs');

/**
 * Runs the real `outflow` executable, as a user would. Asynchronously: the SFTP server these tests talk to
 * lives in this process and must keep answering while the child runs.
 */
async function cli(home: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Run again with a server owning the home (OUTFLOW_TEST_VIA_SERVER=1), the child finds it in server.json.
  if (viaServer && args[0] !== '--help') await ensureServer(home);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--home', home], { env: { ...process.env, OUTFLOW_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

let home: string;
let work: string;
let server: FakeSftpServer;

beforeAll(async () => {
  home = tempDir('cli-home');
  work = tempDir('cli-work');
  server = await startFakeSftpServer({ username: 'partner', password: 'right-password-1234' });
  fs.mkdirSync(path.join(server.root, 'drop'));
  fs.writeFileSync(path.join(work, 'c.csv'), 'profile_id,email,age\n1,a@example.com,30\n2,b@example.com,40\n');
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the outflow executable', () => {
  it('prints help and exits 0', async () => {
    const result = await cli(home, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: outflow/);
    expect(result.stdout).toMatch(/connection/);
  });

  it('reports bad input in one line on stderr, without a stack trace, and a distinct exit code', async () => {
    const missing = await cli(home, ['entity', 'load', 'Customer', path.join(work, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: Cannot read .*nope\.csv: no such file\.$/)]);

    expect((await cli(home, ['entity', 'load', 'Customer', path.join(work, 'c.csv')])).code).toBe(0);
    const filter = await cli(home, ['segment', 'create', 'adults', '--where', 'agee >= 18']);
    expect(filter.code).toBe(2);
    expect(filter.stderr).toMatch(/agee.*position 0.*did you mean age/i);
    expect(filter.stderr).not.toMatch(/\n\s+at /);

    const unknown = await cli(home, ['export', 'run', 'nothing-here']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/No export named "nothing-here"/);
  });

  it('reads a connection config from standard input and never prints the password again', async () => {
    const config = JSON.stringify({ host: server.host, port: server.port, username: 'partner', password: 'wrong-password-5678', folder: '/drop' });
    const created = await cli(home, ['connection', 'create', '--type', 'sftp', '--name', 'partner', '--config', '-', '--accept-privacy-terms', '--json'], config);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'partner', type: 'sftp', usableBy: 'admins', config: { password: 'set', folder: '/drop' }, privacyConsent: { acceptedBy: expect.any(String) } });

    const verify = await cli(home, ['connection', 'verify', 'partner']);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/auth_failed/);
    for (const output of [created.stdout, created.stderr, verify.stdout, verify.stderr, (await cli(home, ['connection', 'list', '--json'])).stdout, (await cli(home, ['connection', 'show', 'partner'])).stdout]) {
      expect(output).not.toContain('wrong-password-5678');
    }
    const logs = fs.readFileSync(path.join(home, 'logs', 'outflow.log'), 'utf8');
    expect(logs).not.toContain('wrong-password-5678');
  });

  it('updates a connection from standard input, merging it over the settings', async () => {
    const updated = await cli(home, ['connection', 'update', 'partner', '--config', '-', '--json'], JSON.stringify({ password: 'another-wrong-password-99', compression: 'gzip' }));
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'partner', config: { host: server.host, folder: '/drop', compression: 'gzip', password: 'set' } });
    expect(updated.stdout).not.toContain('another-wrong-password-99');
  });

  it('names only the line and column of a malformed JSON config, never its text (file or standard input)', async () => {
    const secret = 'sk_live_Zq8v3RmT0pX2';
    // The password is missing its quotes: V8's own message would quote the text around it.
    const broken = `{\n  "host": "sftp.example.com",\n  "password": ${secret}\n}\n`;
    const file = path.join(work, 'broken.json');
    fs.writeFileSync(file, broken);
    const fromFile = await cli(home, ['connection', 'create', '--type', 'sftp', '--name', 'broken', '--config', file, '--accept-privacy-terms']);
    const fromStdin = await cli(home, ['connection', 'create', '--type', 'sftp', '--name', 'broken', '--config', '-', '--accept-privacy-terms'], broken);
    expect(fromFile.stderr.trim()).toBe(`error: The config in ${file} is not valid JSON: unexpected character at line 3, column 15. Fix it there and try again.`);
    expect(fromStdin.stderr.trim()).toBe('error: The config on standard input is not valid JSON: unexpected character at line 3, column 15. Fix it there and try again.');
    for (const result of [fromFile, fromStdin]) {
      expect(result.code).toBe(2);
      for (let i = 0; i + 3 <= secret.length; i++) expect(result.stderr + result.stdout).not.toContain(secret.slice(i, i + 3));
    }
  });

  it('refuses an SFTP folder with ".." when the connection is saved, and stores the folder normalized', async () => {
    const base = { host: server.host, port: server.port, username: 'partner', password: 'right-password-1234' };
    const dotted = await cli(home, ['connection', 'create', '--type', 'sftp', '--name', 'dotted', '--config', '-', '--accept-privacy-terms'], JSON.stringify({ ...base, folder: '/drop/../etc' }));
    expect(dotted.code).toBe(2);
    expect(dotted.stderr).toMatch(/^error: The SFTP connection config is invalid: folder: must not contain "\.\." segments: give the export folder itself/);
    const slashes = await cli(home, ['connection', 'create', '--type', 'sftp', '--name', 'slashes', '--config', '-', '--accept-privacy-terms', '--json'], JSON.stringify({ ...base, folder: '//drop//' }));
    expect(slashes.code).toBe(0);
    expect(JSON.parse(slashes.stdout).config.folder).toBe('/drop');
    expect((await cli(home, ['connection', 'list', '--json'])).stdout).not.toContain('"dotted"');
    expect((await cli(home, ['connection', 'remove', 'slashes'])).code).toBe(0);
  });

  it('runs an export and prints one JSON summary, and run list/show keep the history', async () => {
    const config = JSON.stringify({ host: server.host, port: server.port, username: 'partner', password: 'right-password-1234', folder: '/drop', delimiter: '|' });
    expect((await cli(home, ['connection', 'create', '--type', 'sftp', '--name', 'partner-ok', '--config', '-', '--accept-privacy-terms'], config)).code).toBe(0);
    expect((await cli(home, ['export', 'create', '--name', 'all', '--connection', 'partner-ok', '--entities', 'Customer'])).code).toBe(0);
    const run = await cli(home, ['export', 'run', 'all', '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(Object.keys(summary)).toEqual(expect.arrayContaining(['id', 'export', 'status', 'entities', 'startedAt', 'finishedAt']));
    expect(summary.entities[0].files[0]).toMatchObject({ rows: 2, bytes: 'profile_id|email|age\n1|a@example.com|30\n2|b@example.com|40\n'.length });
    expect(fs.readFileSync(path.join(server.root, summary.entities[0].files[0].path), 'utf8')).toBe('profile_id|email|age\n1|a@example.com|30\n2|b@example.com|40\n');

    const list = JSON.parse((await cli(home, ['run', 'list', '--json'])).stdout);
    expect(list[0]).toMatchObject({ name: summary.id, export: 'all', status: 'succeeded' });
    const shown = JSON.parse((await cli(home, ['run', 'show', summary.id, '--json'])).stdout);
    expect(shown).toMatchObject({ id: summary.id, status: 'succeeded', startedBy: expect.any(String) });
  });

  it('previews how many profiles a filter selects, saving nothing', async () => {
    const preview = await cli(home, ['segment', 'preview', '--where', 'age >= 35']);
    expect(preview).toMatchObject({ code: 0, stdout: '1 Customer profile match. Nothing was saved.\n' });
    expect(JSON.parse((await cli(home, ['segment', 'preview', '--where', 'age >= 18', '--json'])).stdout)).toEqual({ entity: 'Customer', members: 2 });
    const typo = await cli(home, ['segment', 'preview', '--where', 'agee >= 18']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('agee');
    expect(JSON.parse((await cli(home, ['segment', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('refreshes every segment and then runs every export on `outflow refresh`', async () => {
    expect((await cli(home, ['segment', 'create', 'forties', '--where', 'age >= 40'])).code).toBe(0);
    const result = await cli(home, ['refresh', '--json']);
    expect(result.code).toBe(0);
    const { segments, runs } = JSON.parse(result.stdout);
    expect(segments).toEqual([{ name: 'forties', members: 1 }]);
    expect(runs.map((r: { export: string; status: string; trigger: string }) => [r.export, r.status, r.trigger])).toEqual([['all', 'succeeded', 'refresh']]);
  });
});
