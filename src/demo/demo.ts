import fs from 'node:fs';
import path from 'node:path';
import { createConnection, verifyConnection } from '../app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../app/data.ts';
import { createExport, runExport } from '../app/exports.ts';
import { openHome } from '../app/home.ts';
import { summarizeRun, type RunSummary } from '../app/runs.ts';
import type { RunObserver } from '../engine/run-export.ts';
import { ValidationError } from '../domain/errors.ts';
import { outflowCommand } from '../lib/shell.ts';
import { DEMO_DEFAULT_ROWS, writeCustomersCsv } from './generate.ts';
import { SANDBOX_CREDENTIALS, startSandboxes } from './sandboxes.ts';

const MARKER = '.outflow-demo';
/** The demo's defaults; the README's description of what the demo makes is checked against them. */
export { DEMO_DEFAULT_ROWS };
export const DEMO_ROWS_PER_FILE = 25_000;
/** The demo's connections: two to the SFTP sandbox, one to each marketing sandbox. */
export const DEMO_CONNECTIONS = ['Demo partner SFTP', 'Demo partner SFTP (gzip)', 'Iterable sandbox', 'Campaign Monitor sandbox', 'Microsoft Advertising sandbox', 'Autopilot sandbox'];
/** The demo's exports, in the order it runs them: one to each of the five destinations at least. */
export const DEMO_EXPORTS = ['segments-daily', 'customers-full', 'regulars-to-iterable', 'regulars-to-campaign-monitor', 'regulars-to-microsoft', 'regulars-to-autopilot'];

export interface DemoOptions {
  home: string;
  rows: number;
  say: (line: string) => void;
  observer: (label: string) => RunObserver & { stop(): void };
}

/**
 * The README's first command: generates profiles, loads them, defines segments, starts sandboxes of the five
 * destinations on loopback that the demo owns (an in-process SSH server over a local folder, and the four
 * marketing vendors' stand-ins), exports to each and says what went where. The demo home is wiped and rebuilt each time; it refuses to wipe a folder it did
 * not create.
 */
export async function runDemo(options: DemoOptions): Promise<RunSummary[]> {
  const { say } = options;
  if (!Number.isSafeInteger(options.rows) || options.rows < 1) throw new ValidationError(`The demo needs a positive whole number of rows, not ${options.rows}.`);
  const home = path.resolve(options.home);
  if (fs.existsSync(home) && fs.readdirSync(home).length > 0) {
    if (!fs.existsSync(path.join(home, MARKER))) throw new Error(`${home} exists and was not made by the demo; pass another --home.`);
    fs.rmSync(home, { recursive: true, force: true });
  }
  // The home holds customer profiles (the generated CSV, the files the demo's SFTP server receives): like
  // everything Outflow creates in a home, folders are 0700 and files 0600.
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, MARKER), 'Made by `outflow demo`; removed and rebuilt by the next demo run.\n', { mode: 0o600 });
  const input = path.join(home, 'demo', 'customers.csv');
  const sftpRoot = path.join(home, 'demo', 'sftp-server');
  fs.mkdirSync(path.dirname(input), { recursive: true, mode: 0o700 });

  say(`Generating ${options.rows.toLocaleString('en-US')} customer profiles…`);
  await writeCustomersCsv(input, options.rows, undefined, 0o600);

  const sandboxes = await startSandboxes(home, { reuse: false });
  const outflow = await openHome({ dir: home, env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
  try {
    const entity = await loadEntity(outflow, 'Customer', input, { key: 'profile_id' });
    say(`Loaded ${entity.rows.toLocaleString('en-US')} profiles into Customer (${entity.columns.length} columns).`);

    await createSegment(outflow, { name: 'high-value', where: 'lifetime_value >= 1500' });
    await createSegment(outflow, { name: 'dutch-regulars', where: "country = 'NL' and orders >= 5" });
    await createSegment(outflow, { name: 'vip-or-recent', where: "vip = true or signup_date >= '2025-06-01'" });
    for (const { name, members } of await refreshSegments(outflow)) say(`Segment ${name}: ${members.toLocaleString('en-US')} members.`);

    say('Started local sandboxes of the five destinations (stand-ins that answer as the vendors document; nothing leaves this machine):');
    for (const line of sandboxes.describe()) say(`  ${line}`);
    const { sftp } = sandboxes;
    const credentials = SANDBOX_CREDENTIALS;
    const sftpConfig = { host: sftp.host, port: sftp.port, ...credentials.sftp };
    await createConnection(outflow, { type: 'sftp', name: 'Demo partner SFTP', config: { ...sftpConfig, folder: '/exports', compression: 'none', delimiter: ',' }, acceptPrivacyTerms: true });
    await createConnection(outflow, { type: 'sftp', name: 'Demo partner SFTP (gzip)', config: { ...sftpConfig, folder: '/exports', compression: 'gzip', delimiter: ';' }, acceptPrivacyTerms: true });
    // The marketing sandboxes' connections are named so, and their base URLs on this machine mark them as
    // sandboxes wherever a connection is shown (`sandbox` in its view).
    await createConnection(outflow, { type: 'iterable', name: 'Iterable sandbox', config: { ...credentials.iterable, baseUrl: sandboxes.iterable.url }, acceptPrivacyTerms: true });
    await createConnection(outflow, { type: 'campaign-monitor', name: 'Campaign Monitor sandbox', config: { apiKey: credentials.campaignMonitor.apiKey, baseUrl: sandboxes.campaignMonitor.url }, acceptPrivacyTerms: true });
    await createConnection(outflow, {
      type: 'microsoft-advertising',
      name: 'Microsoft Advertising sandbox',
      config: {
        clientId: credentials.microsoft.clientId,
        clientSecret: credentials.microsoft.clientSecret,
        refreshToken: credentials.microsoft.refreshToken,
        developerToken: credentials.microsoft.developerToken,
        baseUrl: sandboxes.microsoft.baseUrl,
        authorityUrl: sandboxes.microsoft.authorityUrl,
      },
      acceptPrivacyTerms: true,
    });
    await createConnection(outflow, { type: 'autopilot', name: 'Autopilot sandbox', config: { ...credentials.autopilot, baseUrl: sandboxes.autopilot.url }, acceptPrivacyTerms: true });
    for (const name of DEMO_CONNECTIONS) {
      const check = await verifyConnection(outflow, name);
      if (!check.ok) throw new Error(`The demo connection ${name} failed its check: ${check.message}`);
    }
    say(`Verified the connections; the SFTP sandbox's host key ${sftp.hostKeySha256} recorded.`);

    const people = { email: 'email', firstName: 'first_name', lastName: 'last_name' };
    await createExport(outflow, { name: 'segments-daily', connection: 'Demo partner SFTP', segments: ['high-value', 'dutch-regulars', 'vip-or-recent'] });
    await createExport(outflow, { name: 'customers-full', connection: 'Demo partner SFTP (gzip)', entities: ['Customer'], config: { rowsPerFile: DEMO_ROWS_PER_FILE } });
    await createExport(outflow, { name: 'regulars-to-iterable', connection: 'Iterable sandbox', segments: ['dutch-regulars'], config: { mapping: { email: 'email', firstName: 'first_name' }, syncMode: 'mirror' } });
    await createExport(outflow, {
      name: 'regulars-to-campaign-monitor',
      connection: 'Campaign Monitor sandbox',
      segments: ['dutch-regulars'],
      config: { mapping: { ...people, city: 'city' }, listId: credentials.campaignMonitor.listId, syncMode: 'mirror' },
    });
    await createExport(outflow, {
      name: 'regulars-to-microsoft',
      connection: 'Microsoft Advertising sandbox',
      segments: ['dutch-regulars'],
      config: { mapping: { email: 'email' }, customerId: credentials.microsoft.customerId, accountId: credentials.microsoft.accountId },
    });
    await createExport(outflow, { name: 'regulars-to-autopilot', connection: 'Autopilot sandbox', segments: ['dutch-regulars'], config: { mapping: people } });

    const summaries: RunSummary[] = [];
    for (const name of DEMO_EXPORTS) {
      say(`Running export ${name}…`);
      const observer = options.observer(name);
      const run = await runExport(outflow, name, observer).finally(() => observer.stop());
      const summary = await summarizeRun(outflow, run);
      summaries.push(summary);
      if (summary.status !== 'succeeded') throw new Error(`Export ${name} ${summary.status}: ${summary.error?.message ?? ''}`);
      for (const source of summary.entities) {
        for (const file of source.files ?? []) {
          say(`  ${path.join(sftpRoot, file.path)}  ${file.rows.toLocaleString('en-US')} rows`);
        }
        if (!source.files) say(`  ${source.name}: ${(source.sent ?? 0).toLocaleString('en-US')} sent, ${(source.rejected ?? 0).toLocaleString('en-US')} rejected`);
      }
    }
    say('');
    say(`Done. The files are in ${path.join(sftpRoot, 'exports')}; the marketing sandboxes hold what they were sent until the demo ends.`);
    // Inside the working folder the relative path is shortest; outside it (`--demo-home /tmp/x`) a path that
    // climbs out with `../../..` is harder to read and to reuse elsewhere than the absolute one.
    const relative = path.relative(process.cwd(), home);
    const shown = relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? home : relative;
    say(`Explore: npx ${outflowCommand('--home', shown, 'run', 'list')}, or the web app: npx ${outflowCommand('serve', '--home', shown)}`);
    // The sandboxes lived in this process: the home's connections point at ports nobody listens on now.
    say(`The sandboxes stopped with the demo. To run the demo's exports again, start them first: npx ${outflowCommand('sandbox', '--home', shown)}`);
    return summaries;
  } finally {
    await outflow.close();
    await sandboxes.close();
  }
}
