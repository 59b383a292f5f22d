import fs from 'node:fs';
import path from 'node:path';
import { createConnection, verifyConnection } from '../app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../app/data.ts';
import { createExport, runExport } from '../app/exports.ts';
import { openHome } from '../app/home.ts';
import { summarizeRun, type RunSummary } from '../app/runs.ts';
import type { RunObserver } from '../engine/run-export.ts';
import { startFakeSftpServer } from '../destinations/sftp/fake-sftp-server.ts';
import { ValidationError } from '../domain/errors.ts';
import { outflowCommand } from '../lib/shell.ts';
import { DEMO_DEFAULT_ROWS, writeCustomersCsv } from './generate.ts';

const MARKER = '.outflow-demo';
/** The demo's defaults; the README's description of what the demo makes is checked against them. */
export { DEMO_DEFAULT_ROWS };
export const DEMO_ROWS_PER_FILE = 25_000;

export interface DemoOptions {
  home: string;
  rows: number;
  say: (line: string) => void;
  observer: (label: string) => RunObserver & { stop(): void };
}

/**
 * The README's first command: generates profiles, loads them, defines segments, starts an SFTP server on
 * loopback that the demo owns (an in-process SSH server over a local folder), exports to it and says
 * where the files are. The demo home is wiped and rebuilt each time; it refuses to wipe a folder it did
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
  fs.mkdirSync(path.join(sftpRoot, 'exports'), { recursive: true, mode: 0o700 });

  say(`Generating ${options.rows.toLocaleString('en-US')} customer profiles…`);
  await writeCustomersCsv(input, options.rows, undefined, 0o600);

  const server = await startFakeSftpServer({ root: sftpRoot, username: 'partner', password: 'demo-password', private: true });
  const outflow = await openHome({ dir: home, env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
  try {
    const entity = await loadEntity(outflow, 'Customer', input, { key: 'profile_id' });
    say(`Loaded ${entity.rows.toLocaleString('en-US')} profiles into Customer (${entity.columns.length} columns).`);

    await createSegment(outflow, { name: 'high-value', where: 'lifetime_value >= 1500' });
    await createSegment(outflow, { name: 'dutch-regulars', where: "country = 'NL' and orders >= 5" });
    await createSegment(outflow, { name: 'vip-or-recent', where: "vip = true or signup_date >= '2025-06-01'" });
    for (const { name, members } of await refreshSegments(outflow)) say(`Segment ${name}: ${members.toLocaleString('en-US')} members.`);

    say(`Started an SFTP server on sftp://${server.host}:${server.port} (user partner), serving ${sftpRoot}.`);
    await createConnection(outflow, {
      type: 'sftp',
      name: 'Demo partner SFTP',
      config: { host: server.host, port: server.port, username: 'partner', password: 'demo-password', folder: '/exports', compression: 'none', delimiter: ',' },
      acceptPrivacyTerms: true,
    });
    await createConnection(outflow, {
      type: 'sftp',
      name: 'Demo partner SFTP (gzip)',
      config: { host: server.host, port: server.port, username: 'partner', password: 'demo-password', folder: '/exports', compression: 'gzip', delimiter: ';' },
      acceptPrivacyTerms: true,
    });
    for (const name of ['Demo partner SFTP', 'Demo partner SFTP (gzip)']) {
      const check = await verifyConnection(outflow, name);
      if (!check.ok) throw new Error(`The demo connection failed its check: ${check.message}`);
    }
    say(`Verified the connections; host key ${server.hostKeySha256} recorded.`);

    await createExport(outflow, { name: 'segments-daily', connection: 'Demo partner SFTP', segments: ['high-value', 'dutch-regulars', 'vip-or-recent'] });
    await createExport(outflow, { name: 'customers-full', connection: 'Demo partner SFTP (gzip)', entities: ['Customer'], config: { rowsPerFile: DEMO_ROWS_PER_FILE } });

    const summaries: RunSummary[] = [];
    for (const name of ['segments-daily', 'customers-full']) {
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
      }
    }
    say('');
    say(`Done. The files are in ${path.join(sftpRoot, 'exports')}.`);
    // Inside the working folder the relative path is shortest; outside it (`--demo-home /tmp/x`) a path that
    // climbs out with `../../..` is harder to read and to reuse elsewhere than the absolute one.
    const relative = path.relative(process.cwd(), home);
    const shown = relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? home : relative;
    say(`Explore: npx ${outflowCommand('--home', shown, 'run', 'list')}`);
    // The SFTP server lived in this process: the home's connections point at a port nobody listens on now.
    say(
      `The demo's SFTP server stopped with the demo, so running its exports again fails ("Nothing accepts connections"); ` +
        `point a connection at a server of yours with \`${outflowCommand('connection', 'update', 'Demo partner SFTP', '--config', '<file>')}\` to try more.`,
    );
    return summaries;
  } finally {
    await outflow.close();
    await server.close();
  }
}
