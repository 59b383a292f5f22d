import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outflow, tempDir } from './support/cli.ts';
import { startServerProcess } from './support/server-process.ts';

// Issue 15.12: the demo exports to all five destinations, the four marketing ones through local sandboxes that
// answer as the vendors document, labelled as sandboxes; `outflow sandbox` starts them again afterwards, so the
// demo's exports run from the CLI (or `outflow serve`) without a vendor account.

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/outflow.cjs');
const MARKETING = ['iterable', 'campaign-monitor', 'microsoft-advertising', 'autopilot'];
const CHROMIUM = '/usr/bin/chromium';

let work: string;
let demoHome: string;

beforeAll(async () => {
  work = tempDir('demo-five');
  demoHome = path.join(work, 'demo-home');
  const result = await outflow(work, 'demo', '--rows', '2000', '--demo-home', demoHome);
  expect(result.code, result.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

interface Listed {
  name: string;
  type: string;
  sandbox?: true;
}

describe('the demo', () => {
  it('exports to all five destination types, each run succeeded, the marketing ones to sandboxes labelled so', async () => {
    const connections = (await outflow(demoHome, 'connection', 'list', '--json')).json<Listed[]>();
    expect(new Set(connections.map((c) => c.type))).toEqual(new Set(['sftp', ...MARKETING]));
    for (const c of connections) expect(c.sandbox === true, c.name).toBe(MARKETING.includes(c.type));
    const table = (await outflow(demoHome, 'connection', 'list')).stdout;
    for (const type of MARKETING) expect(table).toContain(`${type} (sandbox)`);
    expect(table).not.toContain('sftp (sandbox)');

    const runs = (await outflow(demoHome, 'run', 'list', '--json')).json<Array<{ export: string; status: string; sent?: number }>>();
    const exports = (await outflow(demoHome, 'export', 'list', '--json')).json<Array<{ name: string; connection: string }>>();
    const typeOf = new Map(connections.map((c) => [c.name, c.type]));
    const ran = new Set(runs.filter((r) => r.status === 'succeeded').map((r) => typeOf.get(exports.find((e) => e.name === r.export)!.connection)));
    expect(ran).toEqual(new Set(['sftp', ...MARKETING]));
  });

  it('`outflow sandbox` starts the sandboxes again on the ports the connections know, and the exports run', async () => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--home', demoHome], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OUTFLOW_URL: '', OUTFLOW_TOKEN: '' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('Stop them with Ctrl-C')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`outflow sandbox did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const name of ['regulars-to-iterable', 'regulars-to-campaign-monitor', 'regulars-to-microsoft', 'regulars-to-autopilot', 'segments-daily']) {
        const run = await outflow(demoHome, 'export', 'run', name, '--json');
        expect(run.code, `${name}: ${run.stderr}`).toBe(0);
        expect(run.json().status).toBe('succeeded');
      }
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 180_000);

  it('`outflow serve` on the demo home shows every destination in the web app, the sandboxes labelled so', async () => {
    const server = await startServerProcess(demoHome);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.setDefaultTimeout(30_000);
      await page.goto(server.url);
      await page.getByLabel('User name').fill('admin');
      await page.getByLabel('Password').fill('crash-test-password-1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: 'Connections' }).click();
      await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
      const rows = page.locator('tbody tr').filter({ has: page.locator('th[scope=row]') });
      await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(6);
      for (const name of ['Iterable sandbox', 'Campaign Monitor sandbox', 'Microsoft Advertising sandbox', 'Autopilot sandbox']) {
        expect(await rows.filter({ hasText: name }).getByText('Local sandbox').count(), name).toBe(1);
      }
      expect(await rows.filter({ hasText: 'Demo partner SFTP' }).getByText('Local sandbox').count()).toBe(0);
      // Each export has its run history.
      await page.getByRole('link', { name: 'Exports' }).click();
      await page.getByRole('link', { name: 'regulars-to-autopilot' }).click();
      await expect.poll(() => page.getByText('succeeded').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    } finally {
      await browser.close();
      await server.stop();
    }
  }, 180_000);

  it('`outflow sandbox` on a home the demo did not make says what to do', async () => {
    const other = tempDir('demo-none');
    try {
      const result = await outflow(other, 'sandbox');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/no sandboxes recorded.*Run `npm run demo` first/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
