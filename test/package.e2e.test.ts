import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/cli.ts';
import { until } from './support/scale-out.ts';

// A release that installs as a package (issue 18): `npm pack` of this checkout, then `npm install -g` of the
// tarball into a fresh prefix with the install scripts the README names, then the installed `outflow` — no
// source checkout, no build tools — answers --help, runs the demo and serves the web app.

const run = promisify(execFile);
const root = path.resolve('.');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
/** The install scripts the README tells people to allow (npm 11 skips any it is not told about by name). */
const ALLOW_SCRIPTS = 'better-sqlite3,ssh2,cpu-features,msgpackr-extract';

let work: string;
let tarball: string;
let prefix: string;
let outflowBin: string;
let files: string[];

beforeAll(async () => {
  work = tempDir('package');
  // `npm pack` runs the prepare script first: the web app and the CLI bundle are built from these sources.
  const packed = await run('npm', ['pack', '--pack-destination', work, '--json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, info!.filename);
  files = info!.files.map((f) => f.path);

  // better-sqlite3's install script downloads a prebuilt binary from GitHub, or compiles SQLite (minutes). This
  // machine reaches only the package registry, so the test hands prebuild-install the binary this checkout
  // already has, under the name it would download (its documented local-prebuilds lookup); every other
  // package, and better-sqlite3's own install script, come from the registry as for any user.
  const version = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version as string;
  const stage = path.join(work, 'stage');
  fs.mkdirSync(path.join(stage, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(path.join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), path.join(stage, 'build', 'Release', 'better_sqlite3.node'));
  const prebuilds = path.join(work, 'prebuilds');
  fs.mkdirSync(prebuilds);
  await run('tar', ['czf', path.join(prebuilds, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`), '-C', stage, 'build']);

  prefix = path.join(work, 'prefix');
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `--allow-scripts=${ALLOW_SCRIPTS}`, tarball], {
    cwd: work,
    env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds },
    maxBuffer: 64 * 1024 * 1024,
  });
  outflowBin = path.join(prefix, 'bin', 'outflow');
}, 240_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

const cleanEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_URL: '', OUTFLOW_TOKEN: '' };
  delete env.OUTFLOW_HOME;
  return env;
};

describe('the packed release', () => {
  it('holds the built web app and the CLI bundle, and neither the tests nor the sources', () => {
    expect(tarball).toMatch(new RegExp(`${pkg.name}-${pkg.version}\\.tgz$`));
    expect(files).toContain('web/dist/index.html');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('bin/outflow.cjs');
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.endsWith('.test.ts') || f.startsWith('bench/'))).toEqual([]);
  });

  it('installs without build tools: tsx, esbuild, vite and vitest are not installed with it', () => {
    const modules = path.join(prefix, 'lib', 'node_modules', pkg.name, 'node_modules');
    for (const tool of ['tsx', 'esbuild', 'vite', 'vitest', 'typescript']) expect(fs.existsSync(path.join(modules, tool)), tool).toBe(false);
    expect(fs.existsSync(path.join(modules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
  });

  it('outflow --help lists every command', async () => {
    const { stdout } = await run(outflowBin, ['--help'], { env: cleanEnv() });
    for (const command of ['connection', 'export', 'run', 'serve', 'demo', 'backup', 'restore', 'worker']) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('runs the demo: a real export to the demo SFTP server', async () => {
    const cwd = tempDir('package-demo');
    try {
      const { stdout } = await run(outflowBin, ['demo', '--rows', '2000'], { cwd, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });
      expect(stdout).toMatch(/Customer_\S+_1of1\.csv\.gz {2}2,000 rows/);
      expect(stdout).toContain('Done. The files are in');
      const exported = path.join(cwd, '.outflow-demo', 'demo', 'sftp-server', 'exports');
      expect(fs.readdirSync(exported).filter((f) => /^Customer_.*\.csv\.gz$/.test(f))).toHaveLength(1);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);

  it('outflow serve serves the web app at / and the API', async () => {
    const home = tempDir('package-home');
    const child = spawn(outflowBin, ['serve', '--home', home, '--port', '0'], { env: { ...cleanEnv(), OUTFLOW_ADMIN_PASSWORD: 'package-admin-password-1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      await until('the server to listen', () => /listening on (http:\/\/\S+)/.test(output), 60_000, () => output);
      const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root">|<script type="module"/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);
});
