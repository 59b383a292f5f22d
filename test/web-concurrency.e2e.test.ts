import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createExport, showExport, updateExport } from '../src/app/exports.ts';
import type { Home } from '../src/app/home.ts';
import { setSchedule, showSchedule } from '../src/app/schedule.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';

// Two people editing one export: the web app sends If-Match with its edit, so the one who saves second is told
// that someone else changed it first, and offered to reload it, instead of silently overwriting the other's
// change. Headless Chromium (Debian's package), as test/web.e2e.test.ts drives it.
const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM) || process.env.CI === 'true';
if (!available) console.warn(`web concurrency e2e tests skipped: ${CHROMIUM} is missing (scripts/install-system-packages.sh installs it).`);

const ADMIN_PASSWORD = 'web-concurrency-admin-password-1';

let dir: string;
let webRoot: string;
let server: RunningServer;
let browser: Browser;
let admin: Home;

beforeAll(async () => {
  if (!available) return;
  dir = tempDir('web-concurrency');
  webRoot = tempDir('web-concurrency-dist');
  // Built from the current sources, so the test never exercises a stale web/dist.
  await build({ configFile: path.resolve('web/vite.config.ts'), logLevel: 'warn', build: { outDir: webRoot, emptyOutDir: true } });
  server = await startServer({
    dir: path.join(dir, 'home'),
    port: 0,
    webRoot,
    env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  admin = { ...server.home, actor: { name: 'admin', role: 'admin', via: 'api' } };
  fs.writeFileSync(path.join(dir, 'c.csv'), 'profile_id,email\n1,a@example.com\n2,b@example.com\n');
  await admin.profiles.loadEntity('Customer', path.join(dir, 'c.csv'), { key: 'profile_id' });
  await createConnection(admin, { type: 'sftp', name: 'Partner SFTP', config: { host: 'sftp.example.com', username: 'u', password: 'pw-1', folder: '/out' }, acceptPrivacyTerms: true });
  await createExport(admin, { name: 'Daily files', connection: 'Partner SFTP', entities: ['Customer'] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const d of [dir, webRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

async function signIn(): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(server.url);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Exports' }).waitFor();
  return page;
}

describe.runIf(available)('editing what someone else changed first', () => {
  it('refuses the second save with "changed by someone else", keeps their change, and reloads on request', async () => {
    const page = await signIn();
    await page.goto(`${server.url}/exports/${encodeURIComponent('Daily files')}`);
    await page.getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit Daily files' });
    await dialog.getByLabel('Export name (required)').waitFor();

    // While the form is open, someone else saves a change to the export (the API, the CLI: the same use case).
    await updateExport(admin, 'Daily files', { config: { rowsPerFile: 50 } });

    await dialog.getByLabel('Export name (required)').fill('Daily files renamed');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const alert = dialog.getByRole('alert');
    await alert.getByText('Export "Daily files" was changed by someone else since you read it; nothing was saved.').waitFor();
    // Nothing was overwritten: their change stands, and the rename did not happen.
    expect((await showExport(admin, 'Daily files')).config.rowsPerFile).toBe(50);

    // "Reload" brings the current version into the form; saved from it, the edit goes through.
    await alert.getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => dialog.getByRole('alert').count(), { timeout: 30_000 }).toBe(0);
    await expect.poll(() => dialog.getByLabel('Export name (required)').inputValue(), { timeout: 30_000 }).toBe('Daily files');
    await dialog.getByLabel('Export name (required)').fill('Daily files renamed');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Daily files renamed' }).waitFor();
    const saved = await showExport(admin, 'Daily files renamed');
    expect(saved.config.rowsPerFile).toBe(50);
  });
});

describe.runIf(available)("changing the home's schedule that someone else changed first", () => {
  it('refuses the second save with "changed by someone else", keeps their schedule, and reloads on request', async () => {
    const page = await signIn();
    await page.goto(`${server.url}/schedule`);
    await page.getByRole('heading', { name: 'Scheduled refresh is off' }).waitFor();

    // While the page is open, someone else sets the schedule.
    await setSchedule(admin, { cron: '0 6 * * *', timeZone: 'UTC' });

    await page.getByLabel('Time zone (required)').fill('UTC');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText("The home's refresh schedule was changed by someone else since you read it; nothing was saved.").waitFor();
    expect((await showSchedule(admin)).cron).toEqual(['0 6 * * *']);

    // "Reload" shows their schedule; changed from it, the save goes through.
    await alert.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('heading', { name: 'Scheduled refresh is on' }).waitFor();
    await page.getByRole('button', { name: 'Turn off' }).click();
    await page.getByRole('heading', { name: 'Scheduled refresh is off' }).waitFor();
    expect((await showSchedule(admin)).enabled).toBe(false);
  });
});
