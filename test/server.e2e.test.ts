import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { tempDir, writeJson } from './support/cli.ts';

const BIN = path.resolve('bin/outflow.cjs');
const ITERABLE_KEY = 'server-e2e-iterable-key-4b7d';
const ADMIN_PASSWORD = 'server-e2e-admin-password';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real executable in a child process, as a user at a second terminal would run it. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, OUTFLOW_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

let home: string;
let work: string;
let iterable: IterableFake;
let server: ChildProcess;
let serverErr = '';

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server said: ${serverErr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  home = tempDir('server-home');
  work = tempDir('server-work');
  // Slow enough that a run of 5,000 members (five batches) is still going while the other commands ask.
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }], latencyMs: 1500 });
  fs.writeFileSync(path.join(work, 'c.csv'), ['profile_id,email', ...Array.from({ length: 5000 }, (_, i) => `${i + 1},m${i + 1}@example.com`)].join('\n') + '\n');
  server = spawn(process.execPath, [BIN, 'serve', '--home', home, '--port', '0'], { env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  server.stderr!.setEncoding('utf8').on('data', (d: string) => (serverErr += d));
  await waitFor('server.json', () => (fs.existsSync(path.join(home, 'server.json')) ? true : undefined));
});

afterAll(async () => {
  if (server.exitCode === null) server.kill('SIGKILL');
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('outflow serve with the CLI as its client', () => {
  it('keeps its credential private and the home private', async () => {
    expect(fs.statSync(path.join(home, 'server.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(home, 'metadata.sqlite')).mode & 0o777).toBe(0o600);
    // server.json can be on disk before the server's stderr has reached this process (seen under CI load).
    await waitFor('the first-user message', () => (serverErr.includes('with the password in OUTFLOW_ADMIN_PASSWORD') ? true : undefined));
    expect(serverErr).not.toContain(ADMIN_PASSWORD);
  });

  it('answers reads from a second terminal while an export runs, and follows the run to its end', async () => {
    expect((await cli(['entity', 'load', 'Customer', path.join(work, 'c.csv'), '--home', home])).code).toBe(0);
    expect((await cli(['segment', 'create', 'all', '--where', 'profile_id > 0', '--home', home])).code).toBe(0);
    expect((await cli(['segment', 'refresh', '--home', home])).code).toBe(0);
    const connection = writeJson(work, 'it.json', { apiKey: ITERABLE_KEY, baseUrl: iterable.url });
    expect((await cli(['connection', 'create', '--type', 'iterable', '--name', 'it', '--config', connection, '--accept-privacy-terms', '--home', home])).code).toBe(0);
    const config = writeJson(work, 'exp.json', { mapping: { email: 'email' } });
    expect((await cli(['export', 'create', '--name', 'everyone', '--connection', 'it', '--segments', 'all', '--config', config, '--home', home])).code).toBe(0);

    const running = cli(['export', 'run', 'everyone', '--json', '--home', home]);
    const run = await waitFor('a running run', async () => {
      const list = await cli(['run', 'list', '--json', '--home', home]);
      expect(list.code, list.stderr).toBe(0);
      return (JSON.parse(list.stdout) as Array<{ id: string; status: string }>).find((r) => r.status === 'running');
    });
    // Reads while the run holds the profile store: never "the home is in use".
    const shown = await cli(['run', 'show', run.id, '--json', '--home', home]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: run.id, status: expect.stringMatching(/^(running|succeeded)$/) });
    const followed = await cli(['run', 'show', run.id, '--follow', '--json', '--home', home]);
    expect(followed.code).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({ id: run.id, status: 'succeeded', sent: 5000 });

    const finished = await running;
    expect(finished.code, finished.stderr).toBe(0);
    expect(JSON.parse(finished.stdout)).toMatchObject({ id: run.id, status: 'succeeded', startedBy: 'admin', sent: 5000 });
  });

  it('serves another machine with OUTFLOW_URL and a token, with that account’s role', async () => {
    const viewer = await cli(['user', 'create', 'vic', '--role', 'viewer', '--json', '--home', home]);
    expect(viewer.code).toBe(0);
    const token = JSON.parse((await cli(['token', 'create', 'vic', '--json', '--home', home])).stdout).token as string;
    const { url } = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')) as { url: string };
    const elsewhere = tempDir('elsewhere');
    const env = { OUTFLOW_URL: url, OUTFLOW_TOKEN: token, OUTFLOW_ROLE: 'admin', OUTFLOW_USER: 'root' };
    const list = await cli(['export', 'list', '--json', '--home', elsewhere], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((e: { name: string }) => e.name)).toEqual(['everyone']);
    // The environment grants nothing through a server: the token's account is a viewer.
    const refused = await cli(['export', 'run', 'everyone', '--home', elsewhere], env);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: Viewers may not/);
    const wrong = await cli(['export', 'list', '--home', elsewhere], { OUTFLOW_URL: url, OUTFLOW_TOKEN: 'of_not-a-token' });
    expect(wrong.code).toBe(5);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    const audit = JSON.parse((await cli(['audit', '--json', '--action', 'run.start', '--home', home])).stdout) as Array<{ actor: string; via: string; address: string; outcome: string }>;
    // Newest first: the viewer's refused start (refused writes are audited, issue 14.8), then the admin's run.
    expect(audit[0]).toMatchObject({ actor: 'vic', via: 'api', outcome: 'denied' });
    expect(audit[1]).toMatchObject({ actor: 'admin', via: 'api', outcome: 'ok', address: expect.stringMatching(/127\.0\.0\.1/) });
  });

  it('serves the built web app from the executable, as the README says', async () => {
    // bin/outflow.cjs runs a bundle in dist/, one folder less deep than src/api/: the web root was resolved
    // two folders up from it, outside the package, and every page answered "The web app is not built".
    expect(fs.existsSync(path.resolve('web/dist/index.html')), 'web/dist is missing: run `npm run build`').toBe(true);
    const { url } = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')) as { url: string };
    for (const page of ['/', '/exports']) {
      const response = await fetch(`${url}${page}`);
      const body = await response.text();
      expect(response.status, body).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(body).toContain('<div id="root">');
    }
  });

  it('refuses a second server on the same home (exit 6) and a port in use (exit 2), leaving the first one alone', async () => {
    const before = fs.readFileSync(path.join(home, 'server.json'), 'utf8');
    const { url, token } = JSON.parse(before) as { url: string; token: string };
    // A second server started, marked the first one's running runs interrupted (and resumed them), revoked
    // its CLI token and, when stopped, removed its server.json: the CLI then opened the home beside it.
    const second = await cli(['serve', '--home', home, '--port', '0']);
    expect(second.code, second.stderr).toBe(6);
    expect(second.stderr).toContain(`error: The home ${home} is already served by another \`outflow serve\` at ${url}`);
    expect(fs.readFileSync(path.join(home, 'server.json'), 'utf8')).toBe(before);
    expect((await fetch(`${url}/api/exports`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const port = new URL(url).port;
    const other = tempDir('server-other-home');
    const busy = await cli(['serve', '--home', other, '--port', port], { OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD });
    expect(busy.code, busy.stderr).toBe(2);
    expect(busy.stderr).toBe(`error: Port ${port} on 127.0.0.1 is already in use by another program. Pass another --port (--port 0 picks a free one), or stop that program.\n`);
    expect(fs.existsSync(path.join(other, 'server.json'))).toBe(false);
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('stops cleanly on SIGTERM and hands the home back to the CLI', async () => {
    server.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => server.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(home, 'server.json'))).toBe(false);
    const direct = await cli(['run', 'list', '--json', '--home', home]);
    expect(direct.code).toBe(0);
    expect(JSON.parse(direct.stdout)[0]).toMatchObject({ export: 'everyone', status: 'succeeded' });
  });
});
