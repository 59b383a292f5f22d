import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/serve.ts';
import { SCHEMA_VERSION } from '../src/store/metadata/db.ts';
import { tempDir } from './support/cli.ts';
import { until } from './support/scale-out.ts';

// The operating recipes of issue 18, tried as far as this machine allows: the systemd unit (systemd-analyze
// verify), the Dockerfile (parsed and checked: hadolint is neither on npm nor in Debian, and building images
// needs a Docker daemon), OUTFLOW_LOG_FORMAT=json on standard output, and /readyz apart from /healthz.

const run = promisify(execFile);
const root = path.resolve('.');
const bin = path.join(root, 'bin', 'outflow.cjs');
const README = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const dirs: string[] = [];
const dir = (name: string) => {
  const d = tempDir(name);
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** `--allow-scripts=…` as written in a text: the install scripts a global install must be allowed to run. */
const allowScripts = (text: string) => /--allow-scripts=([a-z0-9,-]+)/.exec(text)?.[1];

function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

describe('the systemd unit (deploy/outflow.service)', () => {
  const unit = fs.readFileSync(path.join(root, 'deploy', 'outflow.service'), 'utf8');
  const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

  it('passes systemd-analyze verify without a warning', async () => {
    if (!hasSystemd) {
      console.warn('systemd-analyze is not installed: the unit is only checked for its settings.');
      return;
    }
    const work = dir('unit');
    // verify checks that the command exists: point it at this checkout's executable.
    fs.writeFileSync(path.join(work, 'outflow.service'), unit.replace('/usr/local/bin/outflow', `${process.execPath} ${bin}`));
    const result = spawnSync('systemd-analyze', ['verify', path.join(work, 'outflow.service')], { encoding: 'utf8' });
    expect(result.stderr.trim()).toBe('');
    expect(result.status).toBe(0);
    // And the check can fail: a unit with a mistake gets a message.
    fs.writeFileSync(path.join(work, 'broken.service'), unit.replace('Restart=on-failure', 'Restart=sometimes'));
    expect(spawnSync('systemd-analyze', ['verify', path.join(work, 'broken.service')], { encoding: 'utf8' }).stderr).toContain('sometimes');
  });

  it('restarts on failure, drains on SIGTERM within its stop timeout, keeps the home private and logs JSON', () => {
    const s = unitSettings(unit);
    expect(s.get('Restart')).toEqual(['on-failure']);
    expect(s.get('KillSignal')).toEqual(['SIGTERM']);
    // The server waits up to 30 s for its runner to interrupt its runs: the unit gives it more before SIGKILL.
    expect(Number.parseInt(s.get('TimeoutStopSec')![0]!, 10)).toBeGreaterThan(30);
    expect(s.get('StateDirectory')).toEqual(['outflow']);
    expect(s.get('StateDirectoryMode')).toEqual(['0700']);
    expect(s.get('Environment')).toEqual(expect.arrayContaining(['OUTFLOW_HOME=/var/lib/outflow', 'OUTFLOW_LOG_FORMAT=json']));
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp']) expect(s.get(key), key).toBeDefined();
    expect(allowScripts(unit)).toBe(allowScripts(README));
  });
});

describe('the Dockerfile', () => {
  const text = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
  const stages = instructions.reduce<Array<typeof instructions>>((acc, i) => (i.keyword === 'FROM' ? [...acc, [i]] : (acc.at(-1)!.push(i), acc)), []);
  const final = stages.at(-1)!;
  const last = (k: string) => final.filter((i) => i.keyword === k).at(-1)?.args;

  it('uses only known instructions, in stages that start FROM a pinned Node.js 20 image', () => {
    const known = ['FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'VOLUME', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'ENTRYPOINT', 'CMD', 'ARG', 'LABEL'];
    expect(instructions.filter((i) => !known.includes(i.keyword))).toEqual([]);
    expect(instructions[0]!.keyword).toBe('FROM');
    for (const stage of stages) expect(stage[0]!.args).toMatch(/^node:20-[a-z]+-slim( AS \w+)?$/);
  });

  it('copies only what the repository has, and leaves node_modules and homes out of the context', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      for (const source of copy.args.split(/\s+/).slice(0, -1)) if (source !== '.') expect(fs.existsSync(path.join(root, source)), source).toBe(true);
    }
    const ignored = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.outflow', '.outflow-demo', 'dist', 'web/dist']));
  });

  it('installs the packed release with the README’s install scripts, runs as a user of its own and serves on the exposed port', () => {
    expect(allowScripts(text)).toBe(allowScripts(README));
    const user = last('USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(last('ENTRYPOINT')).toBe('["outflow"]');
    const cmd = JSON.parse(last('CMD')!) as string[];
    expect(cmd.slice(0, 1)).toEqual(['serve']);
    expect(cmd[cmd.indexOf('--port') + 1]).toBe(last('EXPOSE'));
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0');
    const env = final.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toContain('OUTFLOW_HOME=/var/lib/outflow');
    expect(env).toContain('OUTFLOW_LOG_FORMAT=json');
    expect(JSON.parse(last('VOLUME')!)).toEqual(['/var/lib/outflow']);
    expect(last('HEALTHCHECK')).toContain(`http://127.0.0.1:${last('EXPOSE')}/readyz`);
    expect(last('STOPSIGNAL')).toBe('SIGTERM');
  });
});

describe('outflow serve for log collectors and orchestrators', () => {
  it('OUTFLOW_LOG_FORMAT=json writes the log as JSON lines on standard output, and /readyz says it is ready', async () => {
    const home = dir('ops-json');
    const child = spawn(process.execPath, [bin, 'serve', '--home', home, '--port', '0'], {
      env: { ...process.env, OUTFLOW_LOG_FORMAT: 'json', OUTFLOW_ADMIN_PASSWORD: 'ops-admin-password-1', OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await until('the server to listen', () => /listening on (http:\/\/\S+)/.test(stdout), 60_000, () => stdout + stderr);
      const url = /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
      const ready = await fetch(`${url}/readyz`);
      expect(await ready.json()).toEqual({ ready: true, checks: { metadata: 'ok', migrations: 'ok', profiles: 'ok', runner: 'ok' } });
      expect(ready.status).toBe(200);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    }
    const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) });
    expect(lines.map((l) => l.msg)).toContain('first administrator created');
    // Not also in the home's log file, and the password given in the environment appears nowhere.
    expect(fs.existsSync(path.join(home, 'logs', 'outflow.log'))).toBe(false);
    expect(stdout + stderr).not.toContain('ops-admin-password-1');
  }, 90_000);

  it('/readyz answers 503 and names what is not ready: runs stopped, a schema behind this version', async () => {
    const home = dir('ops-ready');
    const server = await startServer({ dir: home, port: 0, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: 'ops-admin-password-1', OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '' } });
    try {
      // Ready once the runner process is up (it starts on the first need, here the first /readyz).
      let last = '';
      await until('the server to be ready', async () => {
        const r = await fetch(`${server.url}/readyz`);
        last = await r.text();
        return r.status === 200;
      }, 60_000, () => last);
      // The runs stop (as on SIGTERM): no longer ready for work, still alive.
      await server.runs.stopAll();
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ ready: false, checks: { metadata: 'ok', migrations: 'ok', runner: 'the server is stopping' } });
      // The schema check names this version's schema when the store is behind.
      await server.home.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', SCHEMA_VERSION as never).execute();
      expect(((await (await fetch(`${server.url}/readyz`)).json()) as { checks: { migrations: string } }).checks.migrations).toContain(`this version needs ${SCHEMA_VERSION}`);
    } finally {
      await server.close();
    }
  });

  it('an unknown OUTFLOW_LOG_FORMAT is refused with the values it takes', async () => {
    const home = dir('ops-bad-format');
    const result = await run(process.execPath, [bin, 'run', 'list', '--home', home], { env: { ...process.env, OUTFLOW_LOG_FORMAT: 'yaml', OUTFLOW_URL: '' } }).catch((e: { code: number; stderr: string }) => e);
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr).toContain('OUTFLOW_LOG_FORMAT must be json');
  });
});
