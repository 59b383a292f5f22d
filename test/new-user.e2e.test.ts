import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../src/app/exports.ts';
import { openHome } from '../src/app/home.ts';
import { main } from '../src/cli/main.ts';
import type { Io } from '../src/cli/output.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { generateEd25519KeyPair, startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

/** What a new user runs first, and what went wrong for them (issue 6, items 14 and 15). */

let home: string;
let work: string;
let microsoft: MicrosoftAdvertisingFake;
let sftp: FakeSftpServer;

beforeAll(async () => {
  home = tempDir('newuser-home');
  work = tempDir('newuser-work');
  microsoft = await startMicrosoftAdvertisingFake({ callsPerMinute: null });
  sftp = await startFakeSftpServer({ username: 'partner', password: 'right-password-1234' });
  fs.mkdirSync(path.join(sftp.root, 'drop'));
  const lines = ['profile_id,email,tier'];
  for (let i = 1; i <= 3000; i++) lines.push(`${i},member${i}@example.com,${i % 2 ? 'gold' : 'silver'}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'gold', '--where', "tier = 'gold'")).code).toBe(0);
  expect((await outflow(home, 'segment', 'refresh')).code).toBe(0);
});

afterAll(async () => {
  await Promise.all([microsoft?.close(), sftp?.close()]);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function msConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clientId: FAKE_DEFAULTS.clientId,
    clientSecret: FAKE_DEFAULTS.clientSecret,
    developerToken: FAKE_DEFAULTS.developerToken,
    baseUrl: microsoft.baseUrl,
    authorityUrl: microsoft.authorityUrl,
    requestsPerSecond: 1000,
    customerId: FAKE_DEFAULTS.customerId,
    accountId: FAKE_DEFAULTS.accountId,
    ...overrides,
  };
}

/**
 * Runs the CLI in-process and plays the browser: when `connection authorize` prints the sign-in address,
 * it is opened (the fake's sign-in page redirects straight back to the loopback server).
 */
async function authorize(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; signInsStarted: number }> {
  let stdout = '';
  let stderr = '';
  let signInsStarted = 0;
  const io: Io = {
    out: (t) => (stdout += `${t}\n`),
    err: (t) => {
      stderr += `${t}\n`;
      const url = /https?:\/\/\S+\/oauth2\/v2\.0\/authorize\S*/.exec(t)?.[0];
      if (url) {
        signInsStarted++;
        void fetch(url).then((r) => r.text());
      }
    },
    interactive: false,
  };
  const code = await main(['node', 'outflow', 'connection', 'authorize', ...args, '--home', home], io);
  return { code, stdout, stderr, signInsStarted };
}

describe('connection authorize checks before the browser opens', () => {
  it('refuses a new connection without --accept-privacy-terms before any sign-in, and saves nothing', async () => {
    const config = writeJson(work, 'ms-new.json', msConfig());
    const result = await authorize('MS Ads', '--config', config);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Nothing was saved: .*--accept-privacy-terms/);
    expect(result.stderr).not.toContain('Open this address');
    expect(result.signInsStarted).toBe(0);
    expect(microsoft.requests.filter((r) => r.path.includes('/oauth2/'))).toEqual([]);
    expect((await outflow(home, 'connection', 'list', '--json')).json()).toEqual([]);
  }, 20_000);

  it('refuses invalid settings (no developerToken) before any sign-in', async () => {
    const config = writeJson(work, 'ms-bad.json', msConfig({ developerToken: undefined }));
    const result = await authorize('MS Ads', '--config', config, '--accept-privacy-terms');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: The Microsoft Advertising .*connection config is invalid: developerToken/);
    expect(result.signInsStarted).toBe(0);
  }, 20_000);
});

describe('a revoked token, and signing in again', () => {
  it('shows "needs sign-in" in connection list, suggests a quoted command, and a sign-in clears it with a fresh verification', async () => {
    const created = await authorize('MS Ads', '--config', writeJson(work, 'ms-ok.json', msConfig()), '--accept-privacy-terms');
    expect(created.stderr).toContain('Open this address');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Signed in and created connection "MS Ads".');
    const exportConfig = writeJson(work, 'ms-export.json', { mapping: { email: 'email' }, customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId });
    expect((await outflow(home, 'export', 'create', '--name', 'gold to ms', '--connection', 'MS Ads', '--segments', 'gold', '--config', exportConfig)).code).toBe(0);

    let list = await outflow(home, 'connection', 'list');
    expect(list.stdout).toMatch(/MS Ads\s+microsoft-advertising \(sandbox\)\s+admins\s+verified/);

    microsoft.revokeRefreshTokens();
    const run = await outflow(home, 'export', 'run', 'gold to ms', '--json');
    expect(run.code).toBe(1);
    expect(run.json().error.message).toContain('`outflow connection authorize "MS Ads"`');

    list = await outflow(home, 'connection', 'list');
    expect(list.stdout).toMatch(/MS Ads\s+microsoft-advertising \(sandbox\)\s+admins\s+needs sign-in/);
    expect(list.stdout).not.toMatch(/MS Ads.*verified/);

    const before = (await outflow(home, 'connection', 'show', 'MS Ads')).json();
    expect(before.attention).toMatchObject({ code: 'token_expired' });
    const again = await authorize('MS Ads');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Verified: connection "MS Ads" works.');
    const after = (await outflow(home, 'connection', 'show', 'MS Ads')).json();
    expect(after.attention).toBeUndefined();
    expect(after.lastVerification).toMatchObject({ ok: true });
    expect(Date.parse(after.lastVerification.at)).toBeGreaterThan(Date.parse(before.lastVerification.at));
    list = await outflow(home, 'connection', 'list');
    expect(list.stdout).toMatch(/MS Ads\s+microsoft-advertising \(sandbox\)\s+admins\s+verified/);
  }, 30_000);

  it('a cancelled record export says how many records were sent and that they stay at the destination', async () => {
    // 3,000 members are three batches of 1,000, two in flight at once: a cancel after the first one finishes
    // always stops the third before it is sent.
    expect((await outflow(home, 'segment', 'create', 'everyone', '--where', 'profile_id > 0')).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'everyone', '--json')).json()).toEqual([{ name: 'everyone', members: 3000 }]);
    const exportConfig = writeJson(work, 'ms-everyone.json', { mapping: { email: 'email' }, customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId });
    expect((await outflow(home, 'export', 'create', '--name', 'everyone to ms', '--connection', 'MS Ads', '--segments', 'everyone', '--config', exportConfig)).code).toBe(0);
    const outflowHome = await openHome({ dir: home });
    try {
      const controller = new AbortController();
      const run = await runExport(
        outflowHome,
        'everyone to ms',
        {
          onProgress: ({ rowsDone }) => {
            if (rowsDone > 0) controller.abort();
          },
        },
        controller.signal,
      );
      expect(run.status).toBe('cancelled');
      expect(run.sent).toBeGreaterThan(0);
      expect(run.sent).toBeLessThan(3000);
      expect(run.error?.message).toContain(`after ${run.sent.toLocaleString('en-US')} records were sent to Microsoft Advertising`);
      expect(run.error?.message).toContain('they stay there');
      expect(run.error?.message).toContain(`outflow run resume ${run.id}`);
      expect(run.error?.message).not.toMatch(/file/);
    } finally {
      await outflowHome.close();
    }
  }, 30_000);
});

describe('the demo, with its home outside the working folder', () => {
  it('prints the home to explore as an absolute path, and says how to start its sandboxes again', async () => {
    const demoHome = path.join(tempDir('newuser-demo'), 'demo-home');
    expect(path.relative(process.cwd(), demoHome).startsWith('..')).toBe(true);
    const result = await outflow(home, 'demo', '--rows', '300', '--demo-home', demoHome);
    expect(result.code, result.stderr).toBe(0);
    // It printed `--home ../../../tmp/…`, relative to wherever the demo was started.
    expect(result.stdout).toContain(`Explore: npx outflow --home ${demoHome} run list, or the web app: npx outflow serve --home ${demoHome}\n`);
    expect(result.stdout).not.toContain('--home ../');
    expect(result.stdout).toContain(`The sandboxes stopped with the demo. To run the demo's exports again, start them first: npx outflow sandbox --home ${demoHome}\n`);
    // Like everything Outflow creates in a home: the generated profiles, the SFTP folder and the files it
    // received are readable by their owner only.
    const open: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if ((fs.lstatSync(full).mode & 0o077) !== 0) open.push(`${path.relative(demoHome, full)} ${(fs.lstatSync(full).mode & 0o777).toString(8)}`);
        if (entry.isDirectory()) walk(full);
      }
    };
    walk(demoHome);
    expect(fs.readdirSync(path.join(demoHome, 'demo', 'sftp-server', 'exports')).length).toBeGreaterThan(0);
    expect(open).toEqual([]);
    expect(fs.statSync(demoHome).mode & 0o777).toBe(0o700);
    fs.rmSync(path.dirname(demoHome), { recursive: true, force: true });
  });
});

describe('options and names a new user gets wrong', () => {
  it('refuses non-numeric and out-of-range numbers with exit code 2 before touching the database', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', 'list', '--limit', 'abc'], /--limit <n>' argument 'abc' is invalid\. expected a positive whole number/],
      [['run', 'list', '--limit', '0'], /--limit <n>' argument '0' is invalid/],
      [['run', 'list', '--limit', '2.5'], /--limit <n>' argument '2\.5' is invalid/],
      [['demo', '--rows', 'abc', '--demo-home', path.join(work, 'demo')], /--rows <n>' argument 'abc' is invalid/],
      // --every is retired whatever it is given: it points to the schedule (the old --every 1h silently ran once).
      [['refresh', '--every', 'soon'], /`outflow refresh --every` is retired.*outflow schedule set/],
      [['connection', 'authorize', 'x', '--port', '70000'], /--port <port>' argument '70000' is invalid\. expected a whole number from 0 to 65535/],
    ];
    for (const [args, message] of cases) {
      const result = await outflow(home, ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/NaN|SQLITE|duckdb/i);
    }
    expect(fs.existsSync(path.join(work, 'demo'))).toBe(false);
  });

  it('suggests the destination type meant by a misspelt --type (exit 2)', async () => {
    const config = writeJson(work, 'typo-type.json', { host: '127.0.0.1', username: 'u', password: 'typo-type-secret-1' });
    const result = await outflow(home, 'connection', 'create', '--type', 'stfp', '--name', 'typo-type', '--config', config, '--accept-privacy-terms');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: Unknown destination type "stfp"; did you mean sftp? Known types: sftp, microsoft-advertising, campaign-monitor, iterable, autopilot.\n');
  });

  it('names the file a load refused by the name the user gave it, through a server too', async () => {
    const file = path.join(work, 'my customers.csv');
    fs.writeFileSync(file, 'profile_id,email\n1,a@example.com\n2,b@example.com,extra\n');
    const result = await outflow(home, 'entity', 'load', 'Ragged', file);
    expect(result.code).toBe(2);
    // Through a server it named the server's temporary copy: "Could not load upload-2909-1795946089659.csv".
    expect(result.stderr).toMatch(/^error: Could not load my customers\.csv into Ragged: row on line 3 has 3 field\(s\)/);
  });

  it('says that a --home which is a file is not a directory (exit 2)', async () => {
    const file = path.join(work, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    for (const dir of [file, path.join(file, 'below')]) {
      // Straight to main(), never through a test server: no server can own a home that is a file.
      let stderr = '';
      const code = await main(['node', 'outflow', 'run', 'list', '--home', dir], { out: () => {}, err: (t) => (stderr += `${t}\n`), interactive: false });
      const result = { code, stderr };
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toMatch(new RegExp(`^error: The Outflow home ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.* (is|lies under) a file, not a directory\\. Pass --home <dir>`));
    }
  });

  it('says there is no export named so instead of "No runs yet" (exit 3)', async () => {
    const result = await outflow(home, 'run', 'list', '--export', 'nope');
    expect(result.code).toBe(3);
    expect(result.stderr.trim()).toBe('error: No export named "nope". See `outflow export list`.');
    const runs = await outflow(home, 'run', 'list', '--export', 'gold to ms', '--json');
    expect(runs.code).toBe(0);
    expect(runs.json().length).toBeGreaterThan(0);
  });

  it('accepts --json on destinations spec', async () => {
    const result = await outflow(home, 'destinations', 'spec', 'sftp', '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ id: 'sftp', connection: { type: 'object' } });
  });

  it('quotes names in the commands it suggests', async () => {
    const config = writeJson(work, 'sftp.json', { host: sftp.host, port: sftp.port, username: 'partner', password: 'right-password-1234', folder: '/drop' });
    const created = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'Partner SFTP', '--config', config, '--accept-privacy-terms');
    expect(created.stdout).toContain('Check it with `outflow connection verify "Partner SFTP"`.');
    const exp = await outflow(home, 'export', 'create', '--name', "Ada's $5 list", '--connection', 'Partner SFTP', '--entities', 'Customer');
    expect(exp.stdout).toContain("Run it with `outflow export run 'Ada'\\''s $5 list'`.");
    const segment = await outflow(home, 'segment', 'create', 'gold vip', '--where', "tier = 'gold'");
    expect(segment.stdout).toContain('Run `outflow segment refresh "gold vip"` to count its members.');
  });
});

describe('a reader that stops early (`outflow … | head -1`)', () => {
  it('ends quietly: no EPIPE stack trace, and the run is still recorded as succeeded', async () => {
    expect((await outflow(home, 'export', 'create', '--name', 'epipe', '--connection', 'Partner SFTP', '--entities', 'Customer')).code).toBe(0);
    const child = spawn(process.execPath, [path.resolve('bin/outflow.cjs'), 'export', 'run', 'epipe', '--home', home], { env: { ...process.env, OUTFLOW_DEBUG: '' } });
    // The reader is gone before the first line: every write the CLI makes fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const runs = (await outflow(home, 'run', 'list', '--export', 'epipe', '--json')).json();
    expect(runs.map((r: { status: string }) => r.status)).toEqual(['succeeded']);
  }, 60_000);
});

describe('SFTP privateKeyFile', () => {
  it('reads the key file when the connection is saved, stores it encrypted as privateKey, and logs in with it', async () => {
    const keys = generateEd25519KeyPair();
    const keyed = await startFakeSftpServer({ authorizedKey: keys.public, root: sftp.root });
    try {
      const keyFile = path.join(work, 'id_ed25519');
      fs.writeFileSync(keyFile, keys.private, { mode: 0o600 });
      const config = writeJson(work, 'sftp-key.json', { host: keyed.host, port: keyed.port, username: keyed.username, privateKeyFile: keyFile, folder: '/drop' });
      const created = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'keyed', '--config', config, '--accept-privacy-terms', '--json');
      expect(created.code).toBe(0);
      expect(created.json().config).toMatchObject({ privateKey: 'set' });
      expect(created.json().config).not.toHaveProperty('privateKeyFile');
      // The key is stored, encrypted: removing the file does not break the connection.
      fs.rmSync(keyFile);
      const keyLine = keys.private.split('\n')[1]!;
      expect(fs.readFileSync(path.join(home, 'metadata.sqlite')).toString('latin1')).not.toContain(keyLine);
      expect(created.stdout).not.toContain(keyLine);
      expect((await outflow(home, 'connection', 'verify', 'keyed', '--json')).json()).toMatchObject({ ok: true });

      // `connection update` takes a new key file the same way: read now, stored as privateKey.
      const other = generateEd25519KeyPair();
      const otherFile = path.join(work, 'id_other');
      fs.writeFileSync(otherFile, other.private, { mode: 0o600 });
      const updated = await outflow(home, 'connection', 'update', 'keyed', '--config', writeJson(work, 'sftp-key-2.json', { privateKeyFile: otherFile }), '--json');
      expect(updated.code).toBe(0);
      expect(updated.json().config).not.toHaveProperty('privateKeyFile');
      const refused = await outflow(home, 'connection', 'verify', 'keyed', '--json');
      expect(refused.json()).toMatchObject({ ok: false, code: 'auth_failed' });
    } finally {
      await keyed.close();
    }
  });

  it('refuses a missing key file, or one given together with privateKey, with exit 2 and saves nothing', async () => {
    const missing = path.join(work, 'no-such-key');
    const config = writeJson(work, 'sftp-missing.json', { host: sftp.host, port: sftp.port, username: 'partner', privateKeyFile: missing, folder: '/drop' });
    const result = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'missing-key', '--config', config, '--accept-privacy-terms');
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`error: Cannot read the privateKeyFile ${missing}: no such file. Nothing was saved; check the path (relative paths start from the current directory).`);
    const keyFile = path.join(work, 'some-key');
    fs.writeFileSync(keyFile, 'key');
    const both = writeJson(work, 'sftp-both.json', { host: sftp.host, username: 'partner', privateKey: 'x', privateKeyFile: keyFile, folder: '/drop' });
    const twice = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'missing-key', '--config', both, '--accept-privacy-terms');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('Set privateKey or privateKeyFile, not both.');
    expect((await outflow(home, 'connection', 'list', '--json')).json().map((c: { name: string }) => c.name)).not.toContain('missing-key');
  });
});
