import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, verifyConnection } from '../src/app/connections.ts';
import { createSegment } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { createUser } from '../src/app/users.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { outflow, tempDir } from './support/cli.ts';

// The web app as each role sees it (issue 15, items 5, 7, 8 and 9), in Debian's Chromium against a real server:
// only the actions the server says a role may take are offered, the others are named with the server's reason;
// no page scrolls sideways at 1280 px or 390 px; axe finds no serious or critical violation.
const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM) || process.env.CI === 'true';
if (!available) console.warn(`web role e2e tests skipped: ${CHROMIUM} is missing (scripts/install-system-packages.sh installs it).`);

const ADMIN_PASSWORD = 'web-roles-admin-password-1';
const ITERABLE_KEY = 'iterable-web-roles-key-7a2c';
/** A Microsoft connection's name as people give them: long, with spaces and no break opportunity in its middle part. */
const LONG_NAME = 'Microsoft Advertising Contoso-Retail-Europe-North-Customer-Match-Account-2026 (primary)';
const WIDTHS = [1280, 390] as const;

let home: string;
let work: string;
let webRoot: string;
let server: RunningServer;
let iterable: IterableFake;
let microsoft: MicrosoftAdvertisingFake;
let browser: Browser;
const passwords: Record<string, string> = { admin: ADMIN_PASSWORD };

beforeAll(async () => {
  if (!available) return;
  home = tempDir('web-roles-home');
  work = tempDir('web-roles-work');
  webRoot = tempDir('web-roles-dist');
  // Built from the current sources, so the tests never exercise a stale web/dist.
  await build({ configFile: path.resolve('web/vite.config.ts'), logLevel: 'warn', build: { outDir: webRoot, emptyOutDir: true } });

  const lines = ['profile_id,email,tier'];
  for (let i = 1; i <= 60; i++) lines.push(`${i},member${i}@example.com,${i % 2 ? 'gold' : 'silver'}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'gold', '--where', "tier = 'gold'")).code).toBe(0);
  expect((await outflow(home, 'segment', 'refresh')).code).toBe(0);

  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  microsoft = await startMicrosoftAdvertisingFake();
  server = await startServer({ dir: home, port: 0, webRoot, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
  passwords.casey = (await createUser(admin, { name: 'casey', role: 'contributor' })).password;
  passwords.vic = (await createUser(admin, { name: 'vic', role: 'viewer' })).password;
  // A segment of the contributor's own, used by no export: theirs to edit (gold is used by the admin's exports).
  await createSegment({ ...server.home, actor: { name: 'casey', role: 'contributor' as const, via: 'api' as const } }, { name: 'casey-own', entity: 'Customer', where: "tier = 'gold'" });

  const iterableConfig = { apiKey: ITERABLE_KEY, baseUrl: iterable.url };
  await createConnection(admin, { type: 'iterable', name: 'Admins Iterable', config: iterableConfig, acceptPrivacyTerms: true });
  await createConnection(admin, { type: 'iterable', name: 'Shared Iterable', config: iterableConfig, acceptPrivacyTerms: true, usableBy: 'admins-and-contributors' });
  expect((await verifyConnection(admin, 'Shared Iterable')).ok).toBe(true);
  const microsoftConfig = {
    clientId: FAKE_DEFAULTS.clientId,
    clientSecret: FAKE_DEFAULTS.clientSecret,
    developerToken: FAKE_DEFAULTS.developerToken,
    baseUrl: microsoft.baseUrl,
    authorityUrl: microsoft.authorityUrl,
    customerId: FAKE_DEFAULTS.customerId,
    accountId: FAKE_DEFAULTS.accountId,
  };
  await createConnection(admin, { type: 'microsoft-advertising', name: LONG_NAME, config: microsoftConfig, acceptPrivacyTerms: true });
  const mapping = { mapping: { email: 'email' } };
  await createExport(admin, { name: 'admins-export', connection: 'Admins Iterable', segments: ['gold'], config: mapping });
  await createExport(admin, { name: 'shared-export', connection: 'Shared Iterable', segments: ['gold'], config: mapping });
  // A segment never refreshed: a run of its export is refused before it sends anything.
  await createSegment(admin, { name: 'never-refreshed', entity: 'Customer', where: "tier = 'silver'" });
  await createExport(admin, { name: 'refused-export', connection: 'Shared Iterable', segments: ['never-refreshed'], config: mapping });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await Promise.all([iterable?.close(), microsoft?.close()]);
  for (const dir of [home, work, webRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Signs `name` in (choosing an own password first when the account has a one-time one); a page at 1280×800. */
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
  const choose = page.getByRole('heading', { name: 'Choose your password' });
  await choose.or(page.getByRole('link', { name: 'Exports' })).first().waitFor();
  if (await choose.isVisible()) {
    const own = `${name}-own-roles-password-1`;
    await page.getByLabel('One-time password').fill(passwords[name]!);
    await page.getByLabel('New password', { exact: true }).fill(own);
    await page.getByLabel('New password again').fill(own);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    passwords[name] = own;
  }
  await page.getByRole('link', { name: 'Exports' }).waitFor();
  return page;
}

/** Opens an address of the app and waits until its data is in (no "Loading…" left). */
async function open(page: Page, pathname: string, heading: string | RegExp): Promise<void> {
  await page.goto(`${server.url}${pathname}`);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  await expect.poll(() => page.getByText('Loading…').count(), { timeout: 60_000 }).toBe(0);
}

const axeSource = fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

/** At each width: the page itself does not scroll sideways, and axe finds no serious or critical violation. */
async function checkLayout(page: Page, slug: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    // Run in the page (the test's tsconfig has no DOM types): the document's width, and what sticks out if too wide.
    const measured = (await page.evaluate(`(() => {
      const root = document.documentElement;
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > root.clientWidth + 1 && !e.closest('.table-wrap'))
        .map((e) => e.tagName.toLowerCase() + '.' + e.className).slice(0, 6);
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide };
    })()`)) as { scrollWidth: number; clientWidth: number; wide: string[] };
    expect(measured.scrollWidth, `${slug} at ${width} px scrolls sideways (${measured.wide.join(', ')})`).toBeLessThanOrEqual(measured.clientWidth);
    await page.evaluate(axeSource);
    const violations = (await page.evaluate(`axe.run().then((result) => result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
    expect(violations, `accessibility of ${slug} at ${width} px`).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

// Run in the page on one element (written as source: the test's tsconfig has no DOM types).
const fitsItsBox = new Function('e', 'return e.scrollWidth <= e.clientWidth') as (e: unknown) => boolean;

const EXPORT_BUTTONS = ['Run now', 'Dry run', 'Pause scheduled runs (manual only)', 'Edit', 'Remove'];

/** The export page's action buttons that are shown, and its note on what is unavailable (empty when none). */
async function exportPage(page: Page, name: string): Promise<{ buttons: string[]; note: string }> {
  await open(page, `/exports/${encodeURIComponent(name)}`, name);
  await page.getByTestId('export-schedule').getByText(/schedule|refresh|runs it/i).waitFor();
  const buttons: string[] = [];
  for (const label of EXPORT_BUTTONS) if ((await page.getByRole('button', { name: label, exact: true }).count()) > 0) buttons.push(label);
  const note = page.getByTestId('unavailable');
  return { buttons, note: (await note.count()) ? ((await note.textContent()) ?? '') : '' };
}

describe.skipIf(!available)('the web app for each role, in Chromium', () => {
  it('an administrator: every action on every export, every page fits 1280 and 390 px, the Connections table keeps its buttons in view', async () => {
    const page = await signIn('admin');
    for (const name of ['admins-export', 'shared-export']) {
      const seen = await exportPage(page, name);
      expect(seen.buttons, name).toEqual(EXPORT_BUTTONS);
      expect(seen.note).toBe('');
    }
    await checkLayout(page, 'admin export');

    await open(page, '/connections', 'Connections');
    const table = page.locator('.table-wrap').first();
    await page.getByRole('row', { name: /Contoso/ }).waitFor();
    // At 1280 px the Microsoft connection's long name wraps: the table fits its box, every Remove button in view.
    const box = (await table.boundingBox())!;
    expect(await table.evaluate(fitsItsBox)).toBe(true);
    const removes = page.getByRole('button', { name: /^Remove / });
    expect(await removes.count()).toBe(3);
    for (const button of await removes.all()) {
      const b = (await button.boundingBox())!;
      expect(b.x + b.width, (await button.getAttribute('aria-label')) ?? undefined).toBeLessThanOrEqual(box.x + box.width);
    }
    await checkLayout(page, 'connections');

    for (const [pathname, heading] of [['/', 'Overview'], ['/exports', 'Exports'], ['/segments', 'Segments'], ['/users', 'Users'], ['/schedule', 'Schedule'], ['/audit', 'Audit log']] as const) {
      await open(page, pathname, heading);
      await checkLayout(page, pathname);
    }
    await page.context().close();
  });

  it('a contributor: actions only on exports of connections open to contributors, the reason for the rest; verified state and creation date of a connection', async () => {
    const page = await signIn('casey');
    const adminsOnly = await exportPage(page, 'admins-export');
    expect(adminsOnly.buttons).toEqual([]);
    // The server's reason, word for word, for every action it refuses (issue 15.5: each ended in a 403 before).
    expect(adminsOnly.note).toContain('Not available to you: Run now, Dry run, Pause scheduled runs, Edit, Remove.');
    expect(adminsOnly.note).toContain('Connection "Admins Iterable" is usable by administrators only.');
    await checkLayout(page, 'contributor admins-only export');

    const shared = await exportPage(page, 'shared-export');
    expect(shared.buttons).toEqual(EXPORT_BUTTONS);
    expect(shared.note).toBe('');

    // The connection they may pick: verified, and since when (issue 15.7 saw "not verified" without a date).
    await open(page, '/exports', 'Exports');
    await page.getByRole('button', { name: 'Add export' }).click();
    const choice = page.locator('.connection-choice').filter({ has: page.getByRole('radio', { name: 'Shared Iterable' }) });
    expect(await choice.textContent()).toMatch(/verified .+ · created .+/);
    expect(await choice.textContent()).not.toMatch(/not verified/);
    expect(await page.getByRole('radio', { name: 'Admins Iterable' }).count()).toBe(0);
    await checkLayout(page, 'contributor export wizard');
    await page.keyboard.press('Escape');

    // Their Connections page, by its address: the state and the date, no button that would be refused.
    await open(page, '/connections', 'Connections');
    const row = page.getByRole('row', { name: /Shared Iterable/ });
    expect(await row.textContent()).toMatch(/OK/);
    expect(await row.getByRole('button').count()).toBe(0);
    expect(await page.getByRole('row', { name: /Contoso|Admins Iterable/ }).count()).toBe(0);
    expect(await page.getByTestId('unavailable').textContent()).toContain('Only administrators may verify connections.');
    await checkLayout(page, 'contributor connections');

    // A run refused before it sent anything offers no "Resume this run": there is nothing to resume.
    await open(page, '/exports/refused-export', 'refused-export');
    await page.getByRole('button', { name: 'Run now' }).click();
    const runRow = page.getByRole('row', { name: /run_/ }).first();
    await expect.poll(() => runRow.textContent(), { timeout: 60_000 }).toMatch(/failed/);
    await runRow.getByRole('button').click();
    await page.getByText('Nothing was sent. Fix what the message says, then press “Run now”.').waitFor();
    expect(await page.getByRole('button', { name: 'Resume this run' }).count()).toBe(0);

    // Segments: Edit only where the server allows it; where not, its reason a click away.
    await open(page, '/segments', 'Segments');
    await page.getByRole('button', { name: 'Edit casey-own' }).waitFor();
    expect(await page.getByRole('button', { name: 'Edit gold' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Refresh gold' }).count()).toBe(1);
    const why = page.getByRole('row', { name: /^gold/ }).locator('details.why');
    await why.getByText('Why no Edit?').click();
    expect(await why.textContent()).toContain('so only an administrator may change it');

    for (const [pathname, heading] of [['/', 'Overview'], ['/exports', 'Exports'], ['/segments', 'Segments'], ['/schedule', 'Schedule']] as const) {
      await open(page, pathname, heading);
      await checkLayout(page, pathname);
    }
    await page.context().close();
  });

  it('a viewer: no action on any export, with the reason; pages fit 1280 and 390 px', async () => {
    const page = await signIn('vic');
    for (const name of ['admins-export', 'shared-export']) {
      const seen = await exportPage(page, name);
      expect(seen.buttons, name).toEqual([]);
      expect(seen.note).toContain('Not available to you: Run now, Dry run, Pause scheduled runs, Edit, Remove.');
      expect(seen.note).toContain('Viewers may not');
    }
    await checkLayout(page, 'viewer export');
    await open(page, '/segments', 'Segments');
    expect(await page.getByRole('button', { name: /^(Edit|Refresh|Remove) / }).count()).toBe(0);
    expect(await page.getByTestId('unavailable').textContent()).toContain('Viewers may not');
    for (const [pathname, heading] of [['/', 'Overview'], ['/exports', 'Exports'], ['/segments', 'Segments'], ['/schedule', 'Schedule']] as const) {
      await open(page, pathname, heading);
      await checkLayout(page, pathname);
    }
    await page.context().close();
  });

  it('the schedule page says which exports each refresh runs, and which are manual only', async () => {
    const page = await signIn('admin');
    await open(page, '/schedule', 'Schedule');
    const refreshes = page.getByTestId('refreshes');
    expect(await refreshes.textContent()).toMatch(/runs these 3 exports: admins-export, refused-export, shared-export\./);
    // Paused from its page: the export is manual only and leaves the list.
    await exportPage(page, 'shared-export');
    await page.getByRole('button', { name: 'Pause scheduled runs (manual only)' }).click();
    await page.getByRole('button', { name: 'Resume scheduled runs' }).waitFor();
    await open(page, '/schedule', 'Schedule');
    await expect.poll(() => refreshes.textContent()).toMatch(/runs these 2 exports: admins-export, refused-export\./);
    expect(await refreshes.textContent()).toMatch(/Manual only \(paused, .*\): shared-export\./);
    await checkLayout(page, 'schedule');
    await page.context().close();
  });
});
