import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDestination } from '../src/app/destinations.ts';
import { createConnection, removeConnection } from '../src/app/connections.ts';
import { createExport } from '../src/app/exports.ts';
import { createUser } from '../src/app/users.ts';
import { startAutopilotFake, type AutopilotFake } from '../src/destinations/autopilot/fake-autopilot.ts';
import { FAKE_API_KEY as CM_KEY, startCampaignMonitorFake, type CampaignMonitorFake } from '../src/destinations/campaign-monitor/fake-campaign-monitor.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { outflow, tempDir } from './support/cli.ts';
import { startSshd, type Sshd } from './support/sshd.ts';

// The web app driven in headless Chromium (Debian's package; no browser download), against a real server and
// the destination fakes. Outside CI the suite skips, saying why, only when /usr/bin/chromium is missing.
const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM) || process.env.CI === 'true';
if (!available) console.warn(`web e2e tests skipped: ${CHROMIUM} is missing (scripts/install-system-packages.sh installs it).`);

const SHOTS = path.resolve('test-results/web');
const README_SHOTS = ['connections', 'export-wizard', 'export-detail', 'segment-filter-error', 'schedule', 'dry-run', 'manifest'];
const ADMIN_PASSWORD = 'web-admin-password-1';
const ITERABLE_KEY = 'iterable-web-key-5c1d9e';

let home: string;
let work: string;
let webRoot: string;
let server: RunningServer;
let iterable: IterableFake;
let campaignMonitor: CampaignMonitorFake;
let autopilot: AutopilotFake;
let sftp: Sshd;
let browser: Browser;
const passwords: Record<string, string> = { admin: ADMIN_PASSWORD };

/**
 * 300 customers; segment `gold` holds the 100 with tier gold, two of them without a usable e-mail. 142 more
 * with tier `lead` have no usable e-mail at all (segment `leads`): a run of them rejects more than the 100 a
 * run view lists.
 */
beforeAll(async () => {
  if (!available) return;
  home = tempDir('web-home');
  work = tempDir('web-work');
  webRoot = tempDir('web-dist');
  // Build the app from the current sources, so the tests never exercise a stale web/dist.
  await build({ configFile: path.resolve('web/vite.config.ts'), logLevel: 'warn', build: { outDir: webRoot, emptyOutDir: true } });

  const lines = ['profile_id,email,first_name,tier'];
  for (let i = 1; i <= 300; i++) lines.push(`${i},${i === 3 ? '' : i === 6 ? 'not-an-email' : `member${i}@example.com`},First${i},${['gold', 'silver', 'bronze'][i % 3]}`);
  for (let i = 301; i <= 442; i++) lines.push(`${i},lead-${i}-at-nowhere,Lead${i},lead`);
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'gold', '--where', "tier = 'gold'")).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'leads', '--where', "tier = 'lead'")).code).toBe(0);
  expect((await outflow(home, 'segment', 'refresh')).code).toBe(0);

  // A little latency per request, so that the run is visibly in progress for a moment.
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }], latencyMs: 150 });
  [campaignMonitor, autopilot] = await Promise.all([startCampaignMonitorFake(), startAutopilotFake()]);
  // The real OpenSSH server the SFTP tests use (key login), on a loopback port.
  sftp = await startSshd();
  server = await startServer({ dir: home, port: 0, webRoot, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
  passwords.casey = (await createUser(admin, { name: 'casey', role: 'contributor' })).password;
  passwords.vic = (await createUser(admin, { name: 'vic', role: 'viewer' })).password;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--no-first-run'],
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await Promise.all([iterable?.close(), campaignMonitor?.close(), autopilot?.close(), sftp?.stop()]);
  for (const dir of [home, work, webRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function signIn(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(server.url);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(passwords[name]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Accounts created by an administrator start with a one-time password: the app asks for one of the user's own.
  const choose = page.getByRole('heading', { name: 'Choose your password' });
  await choose.or(page.getByRole('link', { name: 'Exports' })).first().waitFor();
  if (await choose.isVisible()) {
    const own = `${name}-own-password-1`;
    await page.getByLabel('One-time password').fill(passwords[name]!);
    await page.getByLabel('New password', { exact: true }).fill(own);
    await page.getByLabel('New password again').fill('not the same password');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.getByText('The two new passwords differ.').waitFor();
    await page.getByLabel('New password again').fill(own);
    await check(page, 'change-password');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    passwords[name] = own;
  }
  // The overview is the landing page; these tests start from the exports.
  await page.getByRole('link', { name: 'Exports' }).click();
  await page.getByRole('heading', { name: 'Exports', level: 1 }).waitFor();
  return page;
}

const axeSource = fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core in the page: no serious or critical violations. Then screenshots at 1280×800 and 390 px wide. */
async function check(page: Page, slug: string): Promise<void> {
  await page.evaluate(axeSource);
  // Run in the page, where axe and the DOM live (the test's own tsconfig has no DOM types).
  const violations = (await page.evaluate(`axe.run().then((result) => result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
  expect(violations, `accessibility on ${slug}`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `${slug}-1280.png`) });
  // `OUTFLOW_UPDATE_SCREENSHOTS=1 npx vitest run test/web.e2e.test.ts` refreshes the README's images.
  if (process.env.OUTFLOW_UPDATE_SCREENSHOTS === '1' && README_SHOTS.includes(slug)) fs.copyFileSync(path.join(SHOTS, `${slug}-1280.png`), path.resolve(`docs/screenshots/${slug}.png`));
  await page.setViewportSize({ width: 390, height: 844 });
  // Nothing may make the page itself scroll sideways at phone width (tables scroll inside their box).
  const wide = (await page.evaluate(`document.documentElement.scrollWidth <= 390 ? [] : [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.table-wrap'))
    .map((e) => e.tagName.toLowerCase() + '.' + e.className).slice(0, 8)`)) as string[];
  expect(wide, `${slug}: elements wider than 390 px`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `${slug}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

// Run in the page on one element (written as source: the test's tsconfig has no DOM types).
const isFocused = new Function('e', 'return e === document.activeElement') as (e: unknown) => boolean;
const onScreen = new Function('e', 'const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;') as (e: unknown) => boolean;

/** The JSON answer; of a list, its items (the lists here are short: one page). */
async function api(pathname: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  const response = await apiResponse(pathname, init);
  const body = (await response.json()) as unknown;
  const page = body as { items?: unknown; nextCursor?: unknown };
  if (page && typeof page === 'object' && Array.isArray(page.items) && 'nextCursor' in page) {
    expect(page.nextCursor, `${pathname} fits one page`).toBeNull();
    return page.items;
  }
  return body;
}

async function apiResponse(pathname: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const token = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')).token as string;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${server.url}/api${pathname}`, { method: init.method ?? 'GET', headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
}

/** Waits (without a clock) until the run has ended, polling the API. */
async function runEnded(id: string): Promise<{ status: string; rejected: number }> {
  let run: { status: string; rejected: number };
  await expect.poll(async () => (run = (await api(`/runs/${id}`)) as { status: string; rejected: number }).status, { timeout: 60_000 }).toMatch(/succeeded|failed|cancelled/);
  return run!;
}

describe('the JSON Schema the connection forms are built from', () => {
  it('marks secret fields writeOnly, and only them', () => {
    const properties = describeDestination('sftp').connection.properties as Record<string, { writeOnly?: boolean }>;
    const writeOnly = Object.entries(properties).filter(([, field]) => field.writeOnly === true).map(([key]) => key);
    expect(writeOnly.sort()).toEqual(['passphrase', 'password', 'privateKey']);
    expect((describeDestination('iterable').connection.properties as Record<string, { writeOnly?: boolean }>).apiKey?.writeOnly).toBe(true);
  });
});

describe.skipIf(!available)('the web app in Chromium', () => {
  let adminPage: Page;
  let contributorPage: Page;

  it('serves the app for any path outside /api, and JSON 404 inside it', async () => {
    const page = await fetch(`${server.url}/exports/some/deep/link`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<div id="root">');
    const token = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')).token as string;
    const missing = await fetch(`${server.url}/api/nothing-here`, { headers: { authorization: `Bearer ${token}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('not_found');
    const escape = await fetch(`${server.url}/..%2f..%2fpackage.json`);
    expect(await escape.text()).toContain('<div id="root">');
  });

  it('signs an administrator in, with a clear error for a wrong password first', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await check(page, 'sign-in');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/password/i);
    await context.close();

    // The keyboard alone signs in: the user name field has focus, Tab moves on, Enter submits.
    adminPage = await browser.newContext({ viewport: { width: 1280, height: 800 } }).then((c) => c.newPage());
    adminPage.setDefaultTimeout(30_000);
    await adminPage.goto(server.url);
    await adminPage.getByLabel('User name').focus();
    await adminPage.keyboard.type('admin');
    await adminPage.keyboard.press('Tab');
    await adminPage.keyboard.type(ADMIN_PASSWORD);
    await adminPage.keyboard.press('Enter');
    await adminPage.getByRole('button', { name: 'Sign out' }).waitFor();
    // The overview is the landing page (issue 15.10); the exports are one click away.
    await adminPage.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await adminPage.getByRole('link', { name: 'Exports' }).click();
    await adminPage.getByRole('heading', { name: 'Exports' }).waitFor();
    // The list arrives after the heading: wait for it, never read the page between the two.
    await adminPage.getByText('No exports yet.').waitFor();
    await check(adminPage, 'exports-empty');
  });

  it('adds an SFTP connection: consent must be ticked, Verify shows the host key fingerprint', async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByText('No connections yet.').waitFor();
    await page.getByRole('button', { name: 'Add connection' }).click();
    await page.getByRole('button', { name: /^SFTP/ }).click();
    await page.getByLabel('Display name (required)').fill('Partner SFTP');
    await page.getByLabel('Host (required)').fill(sftp.host);
    await page.getByLabel('Port').fill(String(sftp.port));
    await page.getByLabel('Username (required)').fill(sftp.username);
    await page.getByLabel('Private key', { exact: true }).fill(sftp.privateKey);
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('type')).toBe('password');
    // People's words for every setting, not its key: no "Ready timeout ms", no "privateKey", no literal backticks.
    const form = (await page.getByRole('dialog').textContent())!;
    for (const developerWord of ['Ready timeout ms', 'privateKey', 'Private key file (', '`']) {
      if (developerWord === 'Private key file (') expect(form).toContain(developerWord);
      else expect(form).not.toContain(developerWord);
    }
    await page.getByLabel('Connection timeout (milliseconds)').waitFor();
    await check(page, 'connection-form');

    // Verify before Save: a wrong password is found in the form, and nothing is stored.
    await page.getByLabel('Private key', { exact: true }).fill('');
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByLabel('Folder (required)').fill(sftp.root);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByText('Verification failed.').waitFor();
    await page.getByRole('button', { name: 'Save without verifying' }).waitFor();
    expect(await api('/connections')).toEqual([]);
    await page.getByLabel('Password', { exact: true }).fill('');
    await page.getByLabel('Private key', { exact: true }).fill(sftp.privateKey);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.getByText('Verified: the connection works.').waitFor();
    expect(await page.getByRole('dialog').locator('.fingerprint').textContent()).toBe(sftp.hostKeySha256);
    expect(await api('/connections')).toEqual([]);
    await page.getByLabel('Folder (required)').fill('');

    await page.getByRole('button', { name: 'Save' }).click();
    // Each refusal appears next to what it concerns: first the consent, then the missing folder.
    await page.getByText('Tick “I agree” to save').waitFor();
    expect(await api('/connections')).toEqual([]);
    await page.getByLabel('I agree').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Required: fill this in.').waitFor();
    expect(await page.getByLabel('Folder (required)').getAttribute('aria-invalid')).toBe('true');
    expect(await api('/connections')).toEqual([]);
    await page.getByLabel('Folder (required)').fill(sftp.root);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /Partner SFTP/ }).waitFor();
    await page.getByRole('button', { name: 'Verify Partner SFTP' }).click();
    await page.getByText('Verified: the connection works.').waitFor();
    expect(await page.locator('.fingerprint').first().textContent()).toBe(sftp.hostKeySha256);
    const keyLine = sftp.privateKey.split('\n')[1]!;
    expect(await page.content()).not.toContain(keyLine);
    expect(JSON.stringify(await api('/connections/Partner%20SFTP'))).not.toContain(keyLine);
  });

  it('adds an Iterable connection for administrators only; its API key is never echoed', async () => {
    const page = adminPage;
    await page.getByRole('button', { name: 'Add connection' }).click();
    await page.getByRole('button', { name: /^Iterable/ }).click();
    await page.getByLabel('Display name (required)').fill('Iterable prod');
    await page.getByLabel('API key (required)').fill(ITERABLE_KEY);
    await page.getByLabel('Base URL').fill(iterable.url);
    expect(await page.getByLabel('Who can use this connection').inputValue()).toBe('admins');
    await page.getByLabel('I agree').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Verify Iterable prod' }).click();
    await expect.poll(() => page.getByRole('row', { name: /Iterable prod/ }).first().textContent()).toMatch(/OK/);
    await check(page, 'connections');

    await page.getByRole('button', { name: 'Edit Iterable prod' }).click();
    const key = page.getByLabel('API key (required)');
    expect(await key.inputValue()).toBe('');
    expect(await key.getAttribute('placeholder')).toBe('set');
    expect(await page.content()).not.toContain(ITERABLE_KEY);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('a contributor sees no connection until it is opened to contributors, then creates and runs an export', async () => {
    contributorPage = await signIn('casey');
    const page = contributorPage;
    expect(await page.getByRole('link', { name: 'Connections' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Add export' }).click();
    await page.getByText('No connections you may use yet.').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();

    // The administrator opens Iterable prod to contributors.
    await adminPage.getByRole('button', { name: 'Edit Iterable prod' }).click();
    await adminPage.getByLabel('Who can use this connection').selectOption('admins-and-contributors');
    await adminPage.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => adminPage.getByRole('row', { name: /Iterable prod/ }).first().textContent()).toMatch(/Administrators and contributors/);
    // Only what changed was sent: the audit entry names no setting.
    const [update] = (await api('/audit?action=connection.update')) as { details: Record<string, unknown> }[];
    expect(update!.details).toEqual({ usableBy: 'admins-and-contributors' });

    await page.getByRole('button', { name: 'Add export' }).click();
    await page.getByRole('radio', { name: 'Iterable prod' }).check();
    expect(await page.getByRole('radio', { name: 'Partner SFTP' }).count()).toBe(0);
    // Member counts formatted for people, with what they count.
    await page.getByRole('checkbox', { name: 'leads (142 Customer profiles)' }).waitFor();
    await page.getByRole('checkbox', { name: /gold/ }).check();
    await page.getByLabel('Export name (required)').fill('Gold to Iterable');
    // Without the e-mail mapping the API refuses, and says so next to the field.
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.field-error, .banner.error').first().waitFor();
    expect(await api('/exports')).toEqual([]);
    await page.getByLabel('E-mail (required)').selectOption('email');
    // The mapping step shows a few values of the chosen column, from the API, so the choice can be checked.
    const samples = page.getByTestId('samples').first();
    await expect.poll(() => samples.textContent()).toMatch(/member\d+@example\.com/);
    expect((await samples.locator('.sample').allTextContents()).length).toBeLessThanOrEqual(3);
    await check(page, 'export-wizard');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Gold to Iterable' }).waitFor();
    await page.getByText('Not run yet.').waitFor();
    expect(await api('/runs')).toEqual([]);

    // A double click: the second request is refused (a run is already going on) and the page follows that run.
    await page.getByRole('button', { name: 'Run now' }).dblclick();
    const live = page.locator('section.live');
    await live.waitFor();
    await expect.poll(() => live.getByRole('status').textContent()).toMatch(/rows/);
    // The panel follows the run to its end without a reload, then the history shows it.
    await live.waitFor({ state: 'detached', timeout: 60_000 });
    const row = page.getByRole('row', { name: /run_/ }).first();
    await expect.poll(() => row.textContent()).toMatch(/succeeded/);
    // No stale "already has run … running" banner once that run succeeded (it used to stay for good).
    await expect.poll(() => page.locator('.banner.error').count()).toBe(0);
    const runs = (await api('/runs')) as { id: string; sent: number; rejected: number }[];
    expect(runs).toHaveLength(1);
    expect(runs[0]!.sent + runs[0]!.rejected).toBe(100);
    const list = iterable.lists(ITERABLE_KEY).find((l) => l.name.includes('gold'));
    expect(list, 'a list named after the segment').toBeDefined();
    expect(iterable.listMembers(list!.id, ITERABLE_KEY)).toHaveLength(runs[0]!.sent);

    await row.getByRole('button').click();
    await page.getByText(/sent · .* rejected/).waitFor();
    await check(page, 'export-detail');
  });

  it('cancels a running export from its page', async () => {
    const page = contributorPage;
    // Iterable now answers slowly, so the run is still going when Cancel is pressed.
    iterable.setLatency(5_000);
    try {
      await page.getByRole('button', { name: 'Run now' }).click();
      const live = page.locator('section.live');
      // While it runs, its history row shows the counts the progress line shows, not those of when it was queued.
      await expect.poll(() => live.getByRole('status').textContent(), { timeout: 15_000 }).toMatch(/^0 of 100 rows/);
      await expect.poll(async () => (await page.getByRole('row', { name: /run_/ }).first().locator('td').allTextContents()).slice(3, 5), { timeout: 15_000 }).toEqual(['100', '0']);
      await live.getByRole('button', { name: 'Cancel run' }).click();
      await live.waitFor({ state: 'detached', timeout: 60_000 });
      await expect.poll(() => page.getByRole('row', { name: /run_/ }).first().textContent()).toMatch(/cancelled/);
      const runs = (await api('/runs')) as { id: string; status: string; rows: number; rowsDone: number }[];
      expect(runs.map((r) => r.status)).toEqual(['cancelled', 'succeeded']);
      // "Rows" and "Done" mean what `run list` says: rows to handle, rows handled.
      const cells = await page.getByRole('row', { name: /run_/ }).first().locator('td').allTextContents();
      expect(cells.slice(3, 5)).toEqual([String(runs[0]!.rows), String(runs[0]!.rowsDone)]);
      const cli = (await outflow(home, 'run', 'list', '--export', 'Gold to Iterable', '--json')).json() as { id: string; rows: number; rowsDone: number }[];
      expect(cli[0]).toMatchObject({ id: runs[0]!.id, rows: 100, rowsDone: runs[0]!.rowsDone });
      const table = (await outflow(home, 'run', 'list', '--export', 'Gold to Iterable')).stdout.split('\n');
      expect(table[0]).toMatch(/ROWS\s+DONE\s+SENT/);
    } finally {
      iterable.setLatency(0);
    }
  });

  it('resumes the cancelled run from its page, and the resumed run finishes', async () => {
    const page = contributorPage;
    const [cancelled] = (await api('/runs')) as { id: string; status: string }[];
    expect(cancelled!.status).toBe('cancelled');
    await page.getByRole('row', { name: new RegExp(cancelled!.id) }).getByRole('button', { name: cancelled!.id }).click();
    await page.getByRole('button', { name: 'Resume this run' }).click();
    const live = page.locator('section.live');
    await live.waitFor();
    await live.waitFor({ state: 'detached', timeout: 60_000 });
    await expect.poll(async () => ((await api('/runs')) as { status: string }[]).map((r) => r.status)).toEqual(['succeeded', 'cancelled', 'succeeded']);
    const [resumed] = (await api('/runs')) as { id: string }[];
    expect(await api(`/runs/${resumed!.id}`)).toMatchObject({ status: 'succeeded', resumedFrom: cancelled!.id, trigger: 'resume' });
    // The cancelled run now names the run that continues it, and offers no second resume.
    await page.getByText(`Resumed as run ${resumed!.id}.`).waitFor();
    expect(await page.getByRole('button', { name: 'Resume this run' }).count()).toBe(0);
    expect(await api(`/runs/${cancelled!.id}`)).toMatchObject({ resumedBy: resumed!.id, resumable: false });
  });

  it('a dry run shows what a run would add, update, remove and reject, and sends nothing', async () => {
    const page = contributorPage;
    const list = iterable.lists(ITERABLE_KEY).find((l) => l.name.includes('gold'))!;
    const before = iterable.listMembers(list.id, ITERABLE_KEY).length;
    await page.getByRole('button', { name: 'Dry run' }).click();
    const panel = page.locator('section.dry-run');
    const gold = panel.getByRole('table', { name: 'What a run would do' }).getByRole('row', { name: /^gold/ });
    await gold.waitFor();
    // gold: 100 members, two of them without a usable e-mail (rows 3 and 6), so a run would reject those two.
    const cells = await gold.locator('td').allTextContents();
    expect(cells[0]).toBe('100');
    expect(cells[4]).toBe('2');
    expect(Number(cells[1]) + Number(cells[2]) + Number(cells[5])).toBe(98);
    const reasons = await panel.getByRole('table').nth(1).locator('tbody tr').allTextContents();
    expect(reasons).toHaveLength(2);
    expect(reasons.join(' ')).toMatch(/e-?mail/i);
    expect(iterable.listMembers(list.id, ITERABLE_KEY)).toHaveLength(before);
    expect(((await api('/runs')) as unknown[]).length).toBe(3);
    await check(page, 'dry-run');
    await panel.getByRole('button', { name: 'Close dry run' }).click();
  });

  it('pauses and resumes an export from its page', async () => {
    const page = contributorPage;
    const fact = page.getByTestId('export-schedule');
    await page.getByRole('button', { name: 'Pause scheduled runs' }).click();
    await expect.poll(() => fact.textContent()).toMatch(/Paused/);
    const paused = (await api('/schedule')) as { exports: { name: string; paused: boolean }[] };
    expect(paused.exports).toEqual([expect.objectContaining({ name: 'Gold to Iterable', paused: true })]);
    await page.getByRole('button', { name: 'Resume scheduled runs' }).click();
    await expect.poll(() => fact.textContent()).not.toMatch(/Paused/);
    expect(((await api('/schedule')) as { exports: unknown[] }).exports).toEqual([]);
  });

  it('edits an export in a dialog that keeps focus and closes on Escape: its own schedule, errors next to the field', async () => {
    const page = contributorPage;
    const edit = page.getByRole('button', { name: 'Edit' });
    await edit.click();
    const dialog = page.getByRole('dialog', { name: 'Edit Gold to Iterable' });
    await dialog.waitFor();
    await expect.poll(() => dialog.getByLabel('E-mail (required)').inputValue()).toBe('email');
    expect(await dialog.getByRole('checkbox', { name: /gold/ }).isChecked()).toBe(true);
    // Tab and Shift+Tab cycle inside the dialog; Escape closes it and gives focus back to Edit.
    for (let i = 0; i < 40; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(`!!document.activeElement.closest('[role=dialog]')`)).toBe(true);
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(`!!document.activeElement.closest('[role=dialog]')`)).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.evaluate(`document.activeElement.textContent`)).toBe('Edit');

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('radio', { name: 'On a schedule of its own' }).check();
    await dialog.getByLabel('Cron expression (required)').fill('30 2 * *');
    await dialog.getByLabel('Time zone (required)').fill('Europe/Paris');
    await check(page, 'export-edit');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await dialog.getByLabel('Cron expression (required)').getAttribute('aria-invalid')) ?? '').toBe('true');
    expect(await dialog.locator('.field-error').first().textContent()).toMatch(/cron/i);
    // All or nothing: with its schedule refused, the edit saved nothing (no half-saved export).
    expect(((await api('/schedule')) as { exports: { name: string }[] }).exports).toEqual([]);
    const untouched = await apiResponse('/exports', { method: 'POST', body: { name: 'Half saved', connection: 'Iterable prod', segments: ['gold'], config: { mapping: { email: 'email' } }, schedule: { cron: 'every 2 minutes', timeZone: 'UTC' } } });
    expect(untouched.status).toBe(422);
    expect(((await api('/exports/Half%20saved')) as { code?: string }).code).toBe('not_found');
    await dialog.getByLabel('Cron expression (required)').fill('30 2 * * *');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('export-schedule').textContent()).toMatch(/Own schedule: 30 2 \* \* \* \(Europe\/Paris\) · next .*02:30/);
    const own = ((await api('/schedule')) as { exports: { name: string; cron?: string; timeZone?: string }[] }).exports;
    expect(own).toEqual([expect.objectContaining({ name: 'Gold to Iterable', cron: '30 2 * * *', timeZone: 'Europe/Paris' })]);
    // The mapping and the segments were kept as they were.
    const exp = (await api('/exports/Gold%20to%20Iterable')) as { segments: string[]; config: { mapping: Record<string, string> } };
    expect(exp.segments).toEqual(['gold']);
    expect(exp.config.mapping).toEqual({ email: 'email' });
  });

  it('downloads every rejection of a run as the API’s own rejections.csv, the same as `outflow run rejections`', async () => {
    const page = contributorPage;
    const created = await apiResponse('/exports', { method: 'POST', body: { name: 'Leads to Iterable', connection: 'Iterable prod', segments: ['leads'], config: { mapping: { email: 'email' } } } });
    expect(created.status).toBe(201);
    const queued = (await api('/exports/Leads%20to%20Iterable/runs', { method: 'POST' })) as { id: string };
    expect(await runEnded(queued.id)).toMatchObject({ status: 'succeeded', rejected: 142 });
    try {
      await page.goto(`${server.url}/exports/Leads%20to%20Iterable`);
      await page.getByRole('button', { name: queued.id }).click();
      await page.getByRole('heading', { name: /Rejections \(first 100 of 142\)/ }).waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all rejections (CSV)' }).click()]);
      const downloaded = fs.readFileSync((await download.path())!, 'utf8');
      // All 142 and the CLI's header: the page builds no CSV of its own from the 100 the run view lists.
      const lines = downloaded.trimEnd().split(/\r?\n/);
      expect(lines[0]).toBe('key,segment,code,reason');
      expect(lines).toHaveLength(143);
      expect(downloaded).toBe(await (await apiResponse(`/runs/${queued.id}/rejections.csv`)).text());
      const cli = await outflow(home, 'run', 'rejections', queued.id);
      expect(cli.stdout.trimEnd().split(/\r?\n/)).toEqual(lines);
    } finally {
      expect((await apiResponse('/exports/Leads%20to%20Iterable', { method: 'DELETE' })).status).toBeLessThan(300);
      await page.goto(`${server.url}/exports/Gold%20to%20Iterable`);
    }
  });

  it('offers every fix it suggests as a button: refresh a segment, move an export off a removed connection, remove a segment', async () => {
    const page = contributorPage;
    expect((await apiResponse('/segments', { method: 'POST', body: { name: 'fresh', where: "tier = 'bronze'" } })).status).toBe(201);
    expect(((await api('/segments')) as { name: string; members: number | null }[]).find((x) => x.name === 'fresh')?.members).toBeNull();
    expect((await apiResponse('/connections', { method: 'POST', body: { type: 'iterable', name: 'Iterable spare', config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, usableBy: 'admins-and-contributors', acceptPrivacyTerms: true } })).status).toBe(201);
    expect((await apiResponse('/exports', { method: 'POST', body: { name: 'Fresh to Iterable', connection: 'Iterable spare', segments: ['fresh'], config: { mapping: { email: 'email' } } } })).status).toBe(201);
    expect((await apiResponse('/connections/Iterable%20spare?force=true', { method: 'DELETE' })).status).toBeLessThan(300);

    // Its connection is gone: the page says so; a contributor is told who moves it, an administrator gets the button.
    await page.goto(`${server.url}/exports/Fresh%20to%20Iterable`);
    await page.getByText('The connection of this export was removed').waitFor();
    await page.getByText('An administrator moves it to another connection.').waitFor();
    expect(await page.getByRole('button', { name: 'Move to another connection' }).count()).toBe(0);
    const admin = adminPage;
    await admin.goto(`${server.url}/exports/Fresh%20to%20Iterable`);
    await admin.getByText('The connection of this export was removed').waitFor();
    await check(admin, 'export-connection-removed');
    await admin.getByRole('button', { name: 'Move to another connection' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Edit Fresh to Iterable' });
    await dialog.getByRole('radio', { name: 'Iterable prod' }).check();
    // The mapping is re-drawn for the picked destination: read it once it is there, not in between.
    await expect.poll(() => dialog.getByLabel('E-mail (required)').inputValue()).toBe('email');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => ((await api('/exports/Fresh%20to%20Iterable')) as { connection: string }).connection).toBe('Iterable prod');
    await expect.poll(() => admin.getByText('The connection of this export was removed').count()).toBe(0);
    await page.reload();

    // A dry run of a segment never refreshed is refused with a button that refreshes it, then it works.
    await page.getByRole('button', { name: 'Dry run' }).click();
    const refresh = page.getByRole('button', { name: 'Refresh segment fresh' });
    await refresh.waitFor();
    expect(await page.getByRole('alert').first().textContent()).not.toContain('`');
    await refresh.click();
    await refresh.waitFor({ state: 'detached' });
    await expect.poll(async () => ((await api('/segments')) as { name: string; members: number | null }[]).find((x) => x.name === 'fresh')?.members).toBe(100);
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.locator('section.dry-run').getByRole('row', { name: /^fresh/ }).waitFor();

    // Segments: Refresh and Remove in place; a segment an export sends cannot be removed, and the dialog links the export.
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('button', { name: 'Refresh fresh' }).click();
    await page.getByRole('button', { name: 'Refresh fresh' }).and(page.locator(':enabled')).waitFor();
    await page.getByRole('button', { name: 'Remove fresh' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove fresh?' });
    await remove.getByRole('link', { name: 'Fresh to Iterable' }).waitFor();
    await expect.poll(() => remove.getByRole('button', { name: 'Remove segment' }).isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    expect((await apiResponse('/exports/Fresh%20to%20Iterable', { method: 'DELETE' })).status).toBeLessThan(300);
    await page.reload();
    await page.getByRole('button', { name: 'Remove fresh' }).click();
    await remove.getByText('No export sends this segment.').waitFor();
    await remove.getByRole('button', { name: 'Remove segment' }).click();
    await remove.waitFor({ state: 'detached' });
    await expect.poll(async () => ((await api('/segments')) as { name: string }[]).map((x) => x.name)).not.toContain('fresh');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('link', { name: 'Gold to Iterable' }).click();
    await page.getByRole('heading', { name: 'Gold to Iterable' }).waitFor();
  });

  it('puts a refusal next to the field it is about, scrolled into view with focus there (a wrong list id, a limit)', async () => {
    const page = adminPage;
    const added = ['CM newsletter', 'Autopilot small'];
    for (const body of [
      { type: 'campaign-monitor', name: 'CM newsletter', config: { apiKey: CM_KEY, baseUrl: campaignMonitor.url }, acceptPrivacyTerms: true },
      // An allowance of 50 profiles: segment gold (100 members) is over it.
      { type: 'autopilot', name: 'Autopilot small', config: { apiKey: autopilot.apiKey, baseUrl: autopilot.url, maxProfiles: 50 }, acceptPrivacyTerms: true },
    ]) {
      expect((await apiResponse('/connections', { method: 'POST', body })).status).toBe(201);
    }
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await page.setViewportSize({ width: 1280, height: 600 });
    try {
      await page.getByRole('button', { name: 'Add export' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add export' });
      await dialog.getByRole('radio', { name: 'CM newsletter' }).check();
      await dialog.getByRole('checkbox', { name: /gold/ }).check();
      await dialog.getByLabel('E-mail (required)').selectOption('email');
      await dialog.getByLabel('Export name (required)').fill('Gold to CM');
      await dialog.getByLabel('List ID (required)').fill('0000000000000000000000000000dead');
      await dialog.getByRole('button', { name: 'Save' }).click();
      const listId = dialog.getByLabel('List ID (required)');
      await expect.poll(async () => (await listId.getAttribute('aria-invalid')) ?? '').toBe('true');
      // The message is the field's description, the field has focus, and it is on screen (not above a Save button).
      const describedBy = (await listId.getAttribute('aria-describedby'))!.split(' ');
      expect(await page.locator(`[id="${describedBy.at(-1)}"]`).textContent()).toMatch(/0000000000000000000000000000dead/);
      // Focus and scrolling follow the error's render (an effect after it is painted): wait for them.
      await expect.poll(() => listId.evaluate(isFocused)).toBe(true);
      await expect.poll(() => listId.evaluate(onScreen)).toBe(true);
      expect(await dialog.locator('.banner.error').count()).toBe(0);
      expect(((await api('/exports')) as { name: string }[]).map((e) => e.name)).not.toContain('Gold to CM');

      // Over Autopilot's allowance: said under the segments, with focus on the first of them.
      await dialog.getByRole('radio', { name: 'Autopilot small' }).check();
      await dialog.getByLabel('E-mail (required)').selectOption('email');
      await dialog.getByRole('button', { name: 'Save' }).click();
      const limit = dialog.locator('fieldset', { hasText: 'What to export' }).locator('.field-error');
      await expect.poll(() => limit.textContent()).toMatch(/allows at most 50/);
      await expect.poll(() => dialog.getByRole('checkbox', { name: /^gold/ }).evaluate(isFocused)).toBe(true);
      await expect.poll(() => limit.evaluate(onScreen)).toBe(true);
    } finally {
      await page.keyboard.press('Escape');
      await page.setViewportSize({ width: 1280, height: 800 });
      for (const name of added) await apiResponse(`/connections/${encodeURIComponent(name)}`, { method: 'DELETE' });
    }
  });

  it('words refusals for people, in the API that the CLI and the web app share', async () => {
    const refused = (await (await apiResponse('/segments', { method: 'POST', body: { name: '', where: "tier = 'gold'" } })).json()) as { detail: string; issues?: { path: string; message: string }[] };
    expect(refused.issues).toContainEqual({ path: 'name', message: 'Required: fill this in.' });
    expect(JSON.stringify(refused)).not.toMatch(/Too small|expected string|>=/);
  });

  it('lets an administrator set the refresh schedule and see its next fire times', async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Schedule' }).click();
    await page.getByText('Nothing runs on its own yet.').waitFor();
    await page.getByRole('checkbox', { name: 'Saturday' }).check();
    await page.getByLabel('Times (required)').fill('06:00, 18:30');
    await page.getByLabel('Time zone (required)').fill('Europe/Pariss');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    // The server's refusal lands under the field it is about, with its suggestion.
    await expect.poll(async () => (await page.getByLabel('Time zone (required)').getAttribute('aria-invalid')) ?? '').toBe('true');
    expect(await page.locator('.field-error').textContent()).toMatch(/did you mean Europe\/Paris/);
    await page.getByLabel('Time zone (required)').fill('Europe/Paris');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByRole('heading', { name: 'Scheduled refresh is on' }).waitFor();
    const times = await page.getByRole('list', { name: 'Next fire times' }).locator('time').allTextContents();
    expect(times).toHaveLength(5);
    for (const t of times) expect(t).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat), .* (06:00|18:30) \(\d\d:\d\d UTC\)$/);
    const schedule = (await api('/schedule')) as { days: string; times: string[]; timeZone: string; next: { utc: string }[] };
    expect(schedule).toMatchObject({ days: 'mon-sat', times: ['06:00', '18:30'], timeZone: 'Europe/Paris' });
    expect(await page.getByRole('list', { name: 'Next fire times' }).locator('time').evaluateAll((e) => e.map((x) => x.getAttribute('datetime')))).toEqual(schedule.next.map((n) => n.utc));
    // The export with its own schedule is listed with it.
    await page.getByRole('row', { name: /Gold to Iterable.*30 2 \* \* \*/ }).waitFor();
    await page.evaluate('scrollTo(0, 0)');
    await check(page, 'schedule');

    // A cron expression instead of days and times; then off, leaving the export's own schedule alone.
    await page.getByRole('radio', { name: 'Cron expression' }).check();
    await page.getByLabel('Cron expression (required)').fill('0 7 * * 1-5');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Next fire times' }).locator('time').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(Mon|Tue|Wed|Thu|Fri), .* 07:00 \(06:00 UTC\)$/)]),
    );
    expect(await api('/schedule')).toMatchObject({ cron: ['0 7 * * 1-5'], timeZone: 'Europe/Paris' });
    await page.getByRole('button', { name: 'Turn off' }).click();
    await page.getByRole('heading', { name: 'Scheduled refresh is off' }).waitFor();
    expect(await api('/schedule')).toMatchObject({ enabled: false, exports: [expect.objectContaining({ name: 'Gold to Iterable', cron: '30 2 * * *' })] });
  });

  it('shows the data manifest of an export, printable, and the same as JSON', async () => {
    const page = await signIn('vic');
    await page.getByRole('link', { name: 'Gold to Iterable' }).click();
    await page.getByRole('link', { name: 'Data manifest' }).click();
    await page.getByRole('heading', { name: 'Data manifest: Gold to Iterable' }).waitFor();
    const manifest = (await api('/exports/Gold%20to%20Iterable/manifest')) as { fields: { column: string }[]; lastRuns: { sent: number }[]; consent: { acceptedBy: string } };
    expect(manifest.fields.map((f) => f.column)).toEqual(['email']);
    expect(await page.getByRole('row', { name: /email/ }).count()).toBe(1);
    expect(await page.getByTestId('manifest-consent').textContent()).toMatch(/accepted by admin/);
    expect(await page.getByTestId('manifest-schedule').textContent()).toMatch(/own schedule: 30 2 \* \* \* \(Europe\/Paris\)/i);
    const runRows = page.getByRole('table').last().locator('tbody tr');
    expect(await runRows.count()).toBe(manifest.lastRuns.length);
    expect(await runRows.first().textContent()).toContain(String(manifest.lastRuns[0]!.sent));
    expect(await page.content()).not.toContain(ITERABLE_KEY);
    await check(page, 'manifest');
    // Printed, only the document remains: no navigation, no buttons.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#sidebar').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Print' }).isVisible()).toBe(false);
    expect(await page.getByRole('heading', { name: 'Fields that leave' }).isVisible()).toBe(true);
    await page.pdf({ path: path.join(SHOTS, 'manifest.pdf') });
    await page.context().close();
  });

  it('a viewer sees exports and runs but cannot change anything', async () => {
    const page = await signIn('vic');
    await page.getByRole('link', { name: 'Gold to Iterable' }).waitFor();
    expect(await page.getByRole('button', { name: 'Add export' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await check(page, 'exports');
    await page.getByRole('link', { name: 'Gold to Iterable' }).click();
    await page.getByRole('heading', { name: 'Run history' }).waitFor();
    expect(await page.getByRole('button', { name: 'Run now' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Remove' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('row', { name: /gold/ }).waitFor();
    // A new page puts keyboard focus at its content, not on the link that led there.
    expect(await page.evaluate('document.activeElement.id')).toBe('main');
    expect(await page.getByRole('button', { name: 'Create segment' }).count()).toBe(0);
    // The schedule can be read by anyone who opens its address, changed only by administrators.
    await page.goto(`${server.url}/schedule`);
    await page.getByText('Only administrators change the schedule.').waitFor();
    expect(await page.getByRole('button', { name: 'Save schedule' }).count()).toBe(0);
    await page.context().close();
  });

  it('shows a filter error at its position, then saves the segment with its member count', async () => {
    const page = contributorPage;
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.getByLabel('Name (required)').fill('silver');
    await page.getByLabel('Filter (required)').fill("tier = 'silver' AND AND");
    await page.getByRole('button', { name: 'Save and count members' }).click();
    await page.locator('.filter-pointer').waitFor();
    expect(await page.locator('.filter-pointer mark').textContent()).toBe('A');
    await check(page, 'segment-filter-error');
    await page.getByLabel('Filter (required)').fill("tier = 'silver'");
    // The count comes before saving: nothing exists until Save.
    await page.getByRole('button', { name: 'Count members', exact: true }).click();
    await page.getByText('100 Customer profiles match this filter now.').waitFor();
    expect(((await api('/segments')) as { name: string }[]).map((s) => s.name)).not.toContain('silver');
    await page.getByRole('button', { name: 'Save and count members' }).click();
    await page.getByText('Saved “silver”: 100 members.').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('row', { name: /silver/ }).waitFor();
    await check(page, 'segments');
  });

  it('lets an administrator create a user (password shown once), and read the audit log filtered', async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByLabel('User name (required)').fill('robin');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const secret = await page.getByTestId('one-time-secret').textContent();
    expect(secret).toMatch(/^[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$/);
    // One click copies it: what the clipboard holds is the password shown.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('row', { name: /robin/ }).waitFor();
    expect(await page.content()).not.toContain(secret!);
    await page.getByLabel('Role of robin').selectOption('viewer');
    await expect.poll(async () => ((await api('/users')) as { name: string; role: string }[]).find((u) => u.name === 'robin')?.role).toBe('viewer');
    await check(page, 'users');

    // Removing a connection lists the exports it would leave without one, before anything is removed.
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Remove Iterable prod' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Iterable prod?' });
    // The affected exports are fetched when the dialog opens: wait for them rather than read an empty list.
    await expect.poll(() => dialog.getByRole('listitem').allTextContents()).toEqual(['Gold to Iterable']);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(((await api('/connections')) as { name: string }[]).map((c) => c.name).sort()).toEqual(['Iterable prod', 'Partner SFTP']);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('What').fill('connection.');
    await page.getByRole('button', { name: 'Filter' }).click();
    // Until the filtered page arrives the table may be empty, and `every` of nothing is true: wait for rows too.
    await expect
      .poll(async () => {
        const rows = await page.locator('tbody tr').allTextContents();
        return rows.length >= 4 && rows.every((t) => t.includes('connection.'));
      })
      .toBe(true);
    await check(page, 'audit');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });
});

describe.skipIf(!available)('moving an export whose connection was removed, in Chromium', () => {
  it('keeps the e-mail mapping in its own field (not an extra field) and saves the move', async () => {
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    await createConnection(admin, { type: 'iterable', name: 'Iterable old', config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, acceptPrivacyTerms: true });
    await createExport(admin, { name: 'Moved gold', connection: 'Iterable old', segments: ['gold'], config: { mapping: { email: 'email', firstName: 'first_name' } } });
    await removeConnection(admin, 'Iterable old', { force: true });
    await createConnection(admin, { type: 'iterable', name: 'Iterable new', config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, acceptPrivacyTerms: true });

    const page = await signIn('admin');
    await page.getByRole('link', { name: 'Moved gold' }).click();
    await page.getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit Moved gold' });
    await dialog.getByRole('radio', { name: 'Iterable new' }).check();
    expect(await dialog.getByLabel('E-mail (required)').inputValue()).toBe('email');
    expect(await dialog.getByLabel('Extra field 1: name at Iterable').inputValue()).toBe('firstName');
    expect(await dialog.getByLabel('Extra field 2: name at Iterable').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const moved = (await api('/exports/Moved%20gold')) as { connection: string; config: Record<string, unknown> };
    expect(moved.connection).toBe('Iterable new');
    expect(moved.config.mapping).toEqual({ email: 'email', firstName: 'first_name' });
    await page.context().close();
  });
});

describe.skipIf(!available)('Sign in with Microsoft Advertising in Chromium', () => {
  it('an admin saves a Microsoft connection unsigned, signs it in at the fake authority, and comes back signed in and verified', async () => {
    const microsoft = await startMicrosoftAdvertisingFake();
    const page = await signIn('admin');
    try {
      // Every address the browser visits: the token, the PKCE verifier and the secrets must be in none of them.
      const visited: string[] = [];
      page.on('request', (request) => void visited.push(request.url()));
      await page.getByRole('link', { name: 'Connections' }).click();
      await page.getByRole('button', { name: 'Add connection' }).click();
      await page.getByRole('button', { name: /^Microsoft Advertising/ }).click();
      await page.getByLabel('Display name (required)').fill('MS Ads');
      await page.getByLabel('Client ID (required)').fill(FAKE_DEFAULTS.clientId);
      await page.getByLabel('Client secret').fill(FAKE_DEFAULTS.clientSecret);
      await page.getByLabel('Developer token (required)').fill(FAKE_DEFAULTS.developerToken);
      await page.getByLabel('Base URL').fill(microsoft.baseUrl);
      await page.getByLabel('Authority URL').fill(microsoft.authorityUrl);
      await page.getByLabel('Customer ID').fill(FAKE_DEFAULTS.customerId);
      await page.getByLabel('Account ID').fill(FAKE_DEFAULTS.accountId);
      await page.getByLabel('I agree').check();
      await page.getByRole('button', { name: 'Save' }).click();
      const row = page.getByRole('row', { name: /MS Ads/ });
      await row.getByText('Not signed in').waitFor();

      // Declined at the authority: the page says so, with what to do, and nothing is stored.
      microsoft.denyNextConsent();
      await page.getByRole('button', { name: 'Sign in with Microsoft Advertising: MS Ads' }).click();
      const refused = page.getByRole('alert').filter({ hasText: 'Signing in “MS Ads” with Microsoft Advertising failed.' });
      await refused.waitFor();
      expect(await refused.textContent()).toMatch(/access_denied.*Start again with “Sign in with Microsoft Advertising”/);
      await row.getByText('Not signed in').waitFor();
      await refused.getByRole('button', { name: 'Dismiss' }).click();
      await refused.waitFor({ state: 'detached' });

      await page.getByRole('button', { name: 'Sign in with Microsoft Advertising: MS Ads' }).click();
      // The fake authority approves at once and sends the browser to the server's callback, which sends it back here.
      await page.waitForURL((url) => url.pathname === '/connections' && visited.filter((v) => v.includes('/api/oauth/microsoft/callback')).length === 2);
      const banner = page.getByRole('status').filter({ hasText: 'Signed in: “MS Ads” has a new Microsoft Advertising sign-in.' });
      await banner.waitFor();
      await row.getByText('Signed in', { exact: true }).waitFor();
      expect(await row.locator('.signin-status').getAttribute('title')).toMatch(/^Signed in by admin, /);
      // The outcome is shown once: the address loses its query, so a reload does not show it again.
      expect(new URL(page.url()).search).toBe('');
      await check(page, 'microsoft-sign-in');

      expect(visited.some((v) => v.startsWith(`${microsoft.authorityUrl}/oauth2/v2.0/authorize?`))).toBe(true);
      expect(microsoft.codeExchanges).toEqual([{ clientId: FAKE_DEFAULTS.clientId, pkce: 'verified' }]);
      const connection = ((await api('/connections')) as Array<{ name: string; config: Record<string, unknown>; signedIn?: unknown; lastVerification?: { ok: boolean } }>).find((c) => c.name === 'MS Ads')!;
      expect(connection.config.refreshToken).toBe('set');
      expect(connection.signedIn).toMatchObject({ by: 'admin' });
      expect(connection.lastVerification).toMatchObject({ ok: true });
      const exchange = new URLSearchParams(microsoft.requests.find((r) => r.body.includes('grant_type=authorization_code'))!.body);
      const secrets = [exchange.get('code_verifier')!, FAKE_DEFAULTS.clientSecret, FAKE_DEFAULTS.developerToken, ...microsoft.issuedRefreshTokens(), ...microsoft.issuedAccessTokens()];
      expect(secrets.length).toBeGreaterThanOrEqual(5);
      const html = await page.content();
      for (const secret of secrets) {
        expect(html).not.toContain(secret);
        for (const url of visited) expect(url).not.toContain(secret);
      }
      // The page reloads and verifies against the fake with the stored token.
      await page.reload();
      await page.getByRole('button', { name: 'Verify MS Ads' }).click();
      await page.getByText('Verified: the connection works.').waitFor();
    } finally {
      await page.context().close();
      await microsoft.close();
    }
  }, 60_000);
});

describe.skipIf(!available)('destructive clicks on tokens and users in Chromium', () => {
  it("asks first, and revoking the server's own CLI token does not lock the CLI out", async () => {
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    await createUser(admin, { name: 'leaving', role: 'viewer' });
    const page = await signIn('admin');
    await page.getByRole('link', { name: 'Users' }).click();

    await page.getByRole('button', { name: 'Remove leaving' }).click();
    const removeDialog = page.getByRole('dialog', { name: 'Remove leaving?' });
    await removeDialog.getByRole('button', { name: 'Cancel' }).click();
    await removeDialog.waitFor({ state: 'detached' });
    expect(((await api('/users')) as { name: string }[]).map((u) => u.name)).toContain('leaving');
    await page.getByRole('button', { name: 'Remove leaving' }).click();
    await removeDialog.getByRole('button', { name: 'Remove user' }).click();
    await page.getByRole('row', { name: /leaving/ }).waitFor({ state: 'detached' });

    const local = ((await api('/tokens')) as { name: string }[]).find((t) => t.name.startsWith('local-cli-'))!;
    await page.getByRole('button', { name: `Revoke token ${local.name}` }).click();
    const revokeDialog = page.getByRole('dialog', { name: `Revoke token ${local.name}?` });
    expect(await revokeDialog.textContent()).toMatch(/gets a new one by itself/);
    await page.keyboard.press('Escape');
    await revokeDialog.waitFor({ state: 'detached' });
    expect(((await api('/tokens')) as { name: string }[]).map((t) => t.name)).toContain(local.name);
    await page.getByRole('button', { name: `Revoke token ${local.name}` }).click();
    await revokeDialog.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByRole('row', { name: new RegExp(local.name) }).waitFor({ state: 'detached' });

    // The CLI on this machine gets a new token by itself (and writes it into server.json for the next command).
    const list = await outflow(home, 'user', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(((await api('/tokens')) as { name: string }[]).map((t) => t.name)).toContain(local.name);
    await page.context().close();
  });
});
