import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import type { Home } from '../src/app/home.ts';
import { showOverview } from '../src/app/overview.ts';
import { pauseExport, setSchedule } from '../src/app/schedule.ts';
import { createUser } from '../src/app/users.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { updateConnectionState } from '../src/store/metadata/connections.ts';
import { tempDir } from './support/cli.ts';

// The overview (the landing page's pictures), an export's chart of its runs and a segment's member history, in
// Debian's Chromium against a real server. The runs are rows written with known counts and times, so every
// number the page shows is known; the charts' text alternatives (the canvas's name and the numbers table) are
// read as a screen reader would, axe checks each view, and nothing scrolls sideways at 390 px.
const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM) || process.env.CI === 'true';
if (!available) console.warn(`web overview e2e tests skipped: ${CHROMIUM} is missing (scripts/install-system-packages.sh installs it).`);

const SHOTS = path.resolve('test-results/web');
/** Views whose 1280 px screenshot the README shows (refreshed with OUTFLOW_UPDATE_SCREENSHOTS=1). */
const README_SHOTS = ['overview', 'export-runs-chart', 'segment-history'];
const ADMIN_PASSWORD = 'web-overview-admin-password-1';

let dir: string;
let webRoot: string;
let server: RunningServer;
let admin: Home;
let browser: Browser;
const passwords: Record<string, string> = { admin: ADMIN_PASSWORD };
const cspReports: string[] = [];

/** Midnight UTC `n` days before today, plus `hours`: a day the window holds whenever the test runs. */
const daysAgo = (n: number, hours = 12) => new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - n) + hours * 3_600_000);
/** A UTC day as the page labels it in an en-US browser. */
const label = (at: Date) => at.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

let seq = 0;
async function run(exp: string, at: Date, status: string, counts: { sent?: number; rejected?: number; minutes?: number; resumedFrom?: string } = {}): Promise<string> {
  const row = await admin.db.selectFrom('exports').select(['id', 'connection_id']).where('name', '=', exp).executeTakeFirstOrThrow();
  const id = `run_web_overview_${++seq}`;
  const finished = new Date(at.getTime() + 1000 + (counts.minutes ?? 1) * 60_000).toISOString();
  await admin.db
    .insertInto('runs')
    .values({
      id,
      export_id: row.id,
      export_name: exp,
      connection_id: row.connection_id,
      status,
      trigger: counts.resumedFrom ? 'resume' : 'manual',
      started_by: 'admin',
      resumed_from: counts.resumedFrom ?? null,
      queued_at: at.toISOString(),
      started_at: new Date(at.getTime() + 1000).toISOString(),
      finished_at: finished,
      heartbeat_at: finished,
      rows_total: (counts.sent ?? 0) + (counts.rejected ?? 0),
      rows_done: (counts.sent ?? 0) + (counts.rejected ?? 0),
      sent: counts.sent ?? 0,
      rejected: counts.rejected ?? 0,
      not_attempted: 0,
      sources: '[]',
      checkpoint: null,
      warnings: '[]',
      error_code: status === 'failed' ? 'auth_failed' : null,
      error_message: status === 'failed' ? 'The SFTP server refused the password.' : null,
      cancel_requested_at: null,
    })
    .execute();
  return id;
}

beforeAll(async () => {
  if (!available) return;
  dir = tempDir('web-overview-home');
  webRoot = tempDir('web-overview-dist');
  // Build the app from the current sources, so the tests never exercise a stale web/dist.
  await build({ configFile: path.resolve('web/vite.config.ts'), logLevel: 'warn', build: { outDir: webRoot, emptyOutDir: true } });
  server = await startServer({ dir, port: 0, webRoot, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '' } });
  admin = { ...server.home, actor: { name: 'admin', role: 'admin', via: 'api' } };
  passwords.vic = (await createUser(admin, { name: 'vic', role: 'viewer' })).password;

  const csv = (rows: number) => {
    const file = path.join(dir, `customers-${rows}.csv`);
    fs.writeFileSync(file, ['profile_id,email,tier', ...Array.from({ length: rows }, (_, i) => `${i + 1},c${i + 1}@example.com,${i % 2 ? 'gold' : 'silver'}`)].join('\n') + '\n');
    return file;
  };
  // Segment "gold" refreshed three times as the customers grew: 10, then 25, then 40 members.
  await loadEntity(admin, 'Customer', csv(20), { key: 'profile_id' });
  await createSegment(admin, { name: 'gold', where: "tier = 'gold'" });
  await refreshSegments({ ...admin, now: () => daysAgo(3) }, 'gold');
  await loadEntity(admin, 'Customer', csv(50), { key: 'profile_id' });
  await refreshSegments({ ...admin, now: () => daysAgo(2) }, 'gold');
  await loadEntity(admin, 'Customer', csv(80), { key: 'profile_id' });
  await refreshSegments({ ...admin, now: () => daysAgo(1) }, 'gold');

  // Saving a connection contacts nothing; the states are what a verification would record.
  await createConnection(admin, { type: 'iterable', name: 'Iterable EU', config: { apiKey: 'web-overview-key', baseUrl: 'http://127.0.0.1:9' }, acceptPrivacyTerms: true });
  await createConnection(admin, { type: 'sftp', name: 'Partner files', config: { host: 'sftp.example.com', username: 'u', password: 'web-overview-pw', folder: '/out' }, acceptPrivacyTerms: true });
  const { id: iterableId } = await admin.db.selectFrom('connections').select('id').where('name', '=', 'Iterable EU').executeTakeFirstOrThrow();
  await updateConnectionState(admin.db, iterableId, { lastVerification: { ok: true, at: new Date().toISOString(), by: 'admin' } });
  await createExport(admin, { name: 'Gold to Iterable', connection: 'Iterable EU', segments: ['gold'], config: { mapping: { email: 'email' } } });
  await createExport(admin, { name: 'Weekly file', connection: 'Partner files', segments: ['gold'], config: {} });
  await createExport(admin, { name: 'Quiet list', connection: 'Iterable EU', segments: ['gold'], config: { mapping: { email: 'email' } } });

  await run('Gold to Iterable', daysAgo(5), 'succeeded', { sent: 1200, rejected: 30, minutes: 3 });
  const broken = await run('Gold to Iterable', daysAgo(4), 'failed', { sent: 400, rejected: 4 });
  await run('Gold to Iterable', daysAgo(4, 13), 'succeeded', { sent: 1250, rejected: 10, resumedFrom: broken, minutes: 2 });
  await run('Gold to Iterable', daysAgo(1), 'succeeded', { sent: 1300, rejected: 12, minutes: 4 });
  await run('Weekly file', daysAgo(6), 'succeeded', { sent: 900 });
  await run('Weekly file', daysAgo(1, 6), 'failed');
  await run('Quiet list', daysAgo(2), 'cancelled', { sent: 50 });
  await pauseExport(admin, 'Quiet list');
  await setSchedule(admin, { days: 'daily', times: '06:00', timeZone: 'UTC' });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--no-first-run'],
  });
  fs.mkdirSync(SHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const d of [dir, webRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** Signs in (choosing an own password where the account has a one-time one); fails on any page error or CSP report. */
async function signIn(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  // The server's Content-Security-Policy allows no inline styles or scripts: a chart must need neither.
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspReports.push(message.text());
  });
  await page.goto(server.url);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(passwords[name]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const choose = page.getByRole('heading', { name: 'Choose your password' });
  await choose.or(page.getByRole('link', { name: 'Overview' })).first().waitFor();
  if (await choose.isVisible()) {
    const own = `${name}-own-password-1`;
    await page.getByLabel('One-time password').fill(passwords[name]!);
    await page.getByLabel('New password', { exact: true }).fill(own);
    await page.getByLabel('New password again').fill(own);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    passwords[name] = own;
  }
  await page.getByRole('link', { name: 'Overview' }).waitFor();
  return page;
}

const axeSource = () => fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core: no serious or critical violations; then 1280 px and 390 px screenshots, nothing wider than 390 px. */
async function check(page: Page, slug: string): Promise<void> {
  await page.evaluate(axeSource());
  const violations = (await page.evaluate(`axe.run().then((result) => result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
  expect(violations, `accessibility on ${slug}`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `${slug}-1280.png`) });
  if (process.env.OUTFLOW_UPDATE_SCREENSHOTS === '1' && README_SHOTS.includes(slug)) fs.copyFileSync(path.join(SHOTS, `${slug}-1280.png`), path.resolve(`docs/screenshots/${slug}.png`));
  await page.setViewportSize({ width: 390, height: 844 });
  // Chart.js redraws on resize: wait until every canvas fits the narrow page before measuring.
  await page.waitForFunction(canvasesFit);
  const wide = (await page.evaluate(`document.documentElement.scrollWidth <= 390 ? [] : [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.table-wrap'))
    .map((e) => e.tagName.toLowerCase() + '.' + e.className).slice(0, 8)`)) as string[];
  expect(wide, `${slug}: elements wider than 390 px`).toEqual([]);
  await page.screenshot({ path: path.join(SHOTS, `${slug}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

// Run in the page (written as source: the test's tsconfig has no DOM types; functions, not strings, which the
// page's Content-Security-Policy would refuse to evaluate).
const canvasesFit = new Function("return [...document.querySelectorAll('canvas')].every((c) => c.getBoundingClientRect().right <= 390)") as () => boolean;
const painted = new Function(
  'c',
  `const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
   for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
   return false;`,
) as (c: unknown) => boolean;
const cells = new Function('trs', 'return trs.map((tr) => [...tr.children].map((c) => c.textContent.trim()))') as (trs: unknown[]) => string[][];

/** Whether Chart.js drew on the canvas named `name` (some pixel is not transparent). */
async function drawn(page: Page, name: string | RegExp): Promise<void> {
  const canvas = page.getByRole('img', { name });
  await canvas.waitFor();
  await expect.poll(() => canvas.evaluate(painted), { timeout: 30_000 }).toBe(true);
}

/** The cells of each body row of a table, as text. */
async function rows(page: Page, testId: string): Promise<string[][]> {
  return page.getByTestId(testId).locator('tbody tr').evaluateAll(cells);
}

describe.skipIf(!available)('the overview', () => {
  it('shows the last 30 days: runs by outcome per day, rows per destination, what needs attention and the next refresh', async () => {
    const page = await signIn('admin');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    const stats = page.getByRole('list', { name: 'The last 30 days in numbers' });
    // 7 runs; sent: 1200 + 1250 (the resume carried the failed run's 400 on) + 1300 + 900 + 50.
    await expect.poll(() => stats.innerText()).toMatch(/^7\s+Runs\s+4\s+Succeeded\s+2\s+Failed\s+4,700\s+Rows sent\s+52\s+Rows rejected$/);

    // The runs chart: its name carries the totals; the numbers table has one row per day, every day.
    const runsChart = 'Runs per day over the last 30 days: 7 runs — 4 succeeded, 2 failed, 1 cancelled, 0 queued or running.';
    await drawn(page, runsChart);
    const days = await rows(page, 'runs-by-day');
    expect(days).toHaveLength(30);
    expect(days.at(-1)![0]).toBe(label(daysAgo(0)));
    const day = (n: number) => days.find((r) => r[0] === label(daysAgo(n)))!.slice(1);
    expect(day(4)).toEqual(['1', '1', '0', '0']);
    expect(day(2)).toEqual(['0', '0', '1', '0']);
    expect(day(1)).toEqual(['1', '1', '0', '0']);
    expect(day(3)).toEqual(['0', '0', '0', '0']);

    await drawn(page, 'Rows per destination over the last 30 days: Iterable 3,800 sent, 52 rejected; SFTP 900 sent, 0 rejected.');
    expect(await rows(page, 'destinations')).toEqual([
      ['Iterable', '5', '3,800', '52'],
      ['SFTP', '2', '900', '0'],
    ]);

    const attention = page.locator('.attention li');
    await expect.poll(() => attention.allInnerTexts()).toEqual([
      expect.stringMatching(/^Last run failed Weekly file\nIts last run failed \(auth_failed\)\./),
      expect.stringMatching(/^Verify connection Weekly file\nConnection "Partner files" failed its last check|^Verify connection Weekly file\nConnection "Partner files" was never verified\./),
      expect.stringMatching(/^Paused Quiet list\nPaused by admin: its schedule does not start it\./),
    ]);
    // The home's refresh at 06:00 UTC every day: the next one, in the browser's zone (UTC here).
    const next = new Date((await showOverview(admin)).nextRefresh!.utc);
    expect(next.getUTCHours()).toBe(6);
    const year = next.getUTCFullYear();
    expect(await page.getByTestId('next-refresh').innerText()).toMatch(new RegExp(`^${label(next)}, ${year}, 6:00[\\s\u202f]AM$`));
    expect(await page.getByText('The scheduled refresh of every export without a schedule of its own (06:00 UTC).').count()).toBe(1);
    await check(page, 'overview');

    // An item leads to its export.
    await page.getByRole('link', { name: 'Weekly file' }).first().click();
    await page.getByRole('heading', { name: 'Weekly file' }).waitFor();
    await page.context().close();
  });

  it("charts an export's runs: rows sent and rejected, and how long each took", async () => {
    const page = await signIn('admin');
    await page.getByRole('link', { name: 'Exports' }).click();
    await page.getByRole('link', { name: 'Gold to Iterable' }).click();
    const name = /^The last 4 runs, oldest first\. The latest \(.+, succeeded\) sent 1,300 rows and rejected 12, in 4 min 0 s\. The longest took 4 min 0 s\.$/;
    await drawn(page, name);
    await page.getByText('The numbers').first().click();
    expect((await rows(page, 'runs-chart-numbers')).map((r) => r.slice(1))).toEqual([
      ['succeeded', '1,200', '30', '3 min 0 s'],
      ['failed', '400', '4', '1 min 0 s'],
      ['succeeded', '1,250', '10', '2 min 0 s'],
      ['succeeded', '1,300', '12', '4 min 0 s'],
    ]);
    await check(page, 'export-runs-chart');
    await page.context().close();
  });

  it("shows a segment's member count over its refreshes, to a viewer too", async () => {
    const page = await signIn('vic');
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('button', { name: 'Member history of gold' }).click();
    const dialog = page.getByRole('dialog', { name: 'Members of gold over time' });
    await drawn(page, /^gold had 40 members at its latest refresh \(.+\), and 10 at the first of the 3 refreshes shown \(.+\)\.$/);
    await dialog.getByText('The numbers').click();
    expect((await rows(page, 'segment-history-numbers')).map((r) => r[1])).toEqual(['10', '25', '40']);
    await check(page, 'segment-history');
    await page.context().close();
    expect(cspReports).toEqual([]);
  });
});
