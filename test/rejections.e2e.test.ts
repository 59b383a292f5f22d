import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { rejectionsCsv } from '../src/app/runs.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { iterateRunRejections } from '../src/store/metadata/runs.ts';
import { outflow, parseCsv, tempDir, writeJson } from './support/cli.ts';

const KEY = 'rejections-e2e-key-0b7d';
let home: string;
let work: string;
let iterable: IterableFake;
let runId: string;
/** Profile ids of the customers without a usable e-mail, some of them hostile to a CSV writer. */
const badKeys: string[] = [];

beforeAll(async () => {
  home = tempDir('rej-home');
  work = tempDir('rej-work');
  const tricky = ['a,b', 'say "hi"', "=HYPERLINK(\"http://evil\",\"x\")", '@SUM(A1)', ' padded '];
  const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
  const lines = ['profile_id,email'];
  for (let i = 1; i <= 1500; i++) {
    const id = i <= tricky.length ? tricky[i - 1]! : `p${String(i).padStart(4, '0')}`;
    // 1,250 rejections: far more than the 100 a run summary shows.
    const bad = i <= 1250;
    if (bad) badKeys.push(id);
    lines.push(`${quote(id)},${bad ? (i % 2 ? 'no-at-sign' : '') : `m${i}@example.com`}`);
  }
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }] });
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'), '--key', 'profile_id')).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'all', '--where', "profile_id <> ''")).code).toBe(0);
  expect((await outflow(home, 'segment', 'refresh', '--json')).json()).toEqual([{ name: 'all', members: 1500 }]);
  const conn = writeJson(work, 'c.json', { apiKey: KEY, baseUrl: iterable.url });
  expect((await outflow(home, 'connection', 'create', '--type', 'iterable', '--name', 'it', '--config', conn, '--accept-privacy-terms')).code).toBe(0);
  expect((await outflow(home, 'export', 'create', '--name', 'all-to-it', '--connection', 'it', '--segments', 'all', '--config', writeJson(work, 'e.json', { mapping: { email: 'email' } }))).code).toBe(0);
  const run = (await outflow(home, 'export', 'run', 'all-to-it', '--json')).json();
  expect(run).toMatchObject({ status: 'succeeded', sent: 250, rejected: 1250 });
  expect(run.rejections).toHaveLength(100);
  runId = run.id;
});

afterAll(async () => {
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('outflow run rejections', () => {
  it('prints every rejected record as CSV, quoted properly and defused for spreadsheets', async () => {
    const result = await outflow(home, 'run', 'rejections', runId);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = parseCsv(result.stdout.replace(/\r\n/g, '\n'));
    expect(rows[0]).toEqual(['key', 'segment', 'code', 'reason']);
    const records = rows.slice(1).filter((r) => r.length > 1);
    expect(records).toHaveLength(1250);
    const keys = records.map((r) => r[0]!);
    const expectedKeys = badKeys.map((k) => (/^[=@]/.test(k) ? `'${k}` : k));
    expect(keys.sort()).toEqual(expectedKeys.sort());
    expect(new Set(records.map((r) => r[1]))).toEqual(new Set(['all']));
    expect(new Set(records.map((r) => r[2]))).toEqual(new Set(['invalid_email', 'missing_email']));
    expect(records.every((r) => r[3]!.length > 0)).toBe(true);
    // RFC 4180: CRLF line ends, a quoted field keeps its comma and its doubled quotes.
    expect(result.stdout).toContain('\r\n"a,b",all,');
    expect(result.stdout).toContain('\r\n"say ""hi""",all,');
  });

  it('refuses viewers: rejections carry profile keys', async () => {
    process.env.OUTFLOW_ROLE = 'viewer';
    try {
      const result = await outflow(home, 'run', 'rejections', runId);
      expect(result.code).toBe(5);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/Viewers may not download rejected records/);
    } finally {
      delete process.env.OUTFLOW_ROLE;
    }
  });

  it('points the run summary at `run rejections` for the rest, not back at itself', async () => {
    // `run show` prints the summary it pointed to ("see `outflow run show …` for all rejections"): a loop.
    const shown = await outflow(home, 'run', 'show', runId);
    expect(shown.code).toBe(0);
    expect(shown.stdout.match(/^ {2}rejected /gm)).toHaveLength(10);
    expect(shown.stdout).toContain(`  … 1,240 more: \`outflow run rejections ${runId} > rejected.csv\` writes every rejected record of this run`);
    expect(shown.stdout).not.toContain(`see \`outflow run show ${runId}\``);
    const dry = await outflow(home, 'export', 'run', 'all-to-it', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('  … and 1,240 more (--json lists the first 100)');
  });

  it('says a finished run has nothing to cancel, in words that read', async () => {
    const result = await outflow(home, 'run', 'cancel', runId);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(`error: Run ${runId} has already ended (succeeded); there is nothing to cancel.\n`);
  });

  it('says which run does not exist', async () => {
    const result = await outflow(home, 'run', 'rejections', 'run_nope');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/No run with id "run_nope"/);
  });

  it('reads the store in pages, never the whole list at once', async () => {
    const opened = await openHome({ dir: home, env: { OUTFLOW_HOME: home } });
    try {
      const pages: number[] = [];
      for await (const page of iterateRunRejections(opened.db, runId, 500)) pages.push(page.length);
      expect(pages).toEqual([500, 500, 250]);
      const chunks: string[] = [];
      for await (const chunk of await rejectionsCsv(opened, runId, { pageSize: 300 })) chunks.push(chunk);
      expect(chunks).toHaveLength(1 + 5); // the header, then one chunk per page
      expect(chunks.join('').split('\r\n').length - 2).toBe(1250);
    } finally {
      await opened.close();
    }
  });
});

describe('outflow run list filters', () => {
  it('filters by state and by date, and refuses values it does not know with exit 2', async () => {
    const failed = await outflow(home, 'run', 'list', '--status', 'failed', '--json');
    expect(failed.json()).toEqual([]);
    const succeeded = (await outflow(home, 'run', 'list', '--status', 'succeeded', '--since', '2026-01-01', '--json')).json();
    expect(succeeded.map((r: { id: string }) => r.id)).toEqual([runId]);
    const later = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await outflow(home, 'run', 'list', '--since', later, '--json')).json()).toEqual([]);
    expect((await outflow(home, 'run', 'list', '--since', '2020-01-01T00:00:00Z', '--json')).json()).toHaveLength(1);

    const badStatus = await outflow(home, 'run', 'list', '--status', 'broken');
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/--status must be one of queued, running, succeeded, failed, cancelled, not "broken"/);
    for (const since of ['yesterday', '2026-02-30', '2026-11-01T08:00']) {
      const bad = await outflow(home, 'run', 'list', '--since', since);
      expect(bad.code, since).toBe(2);
      expect(bad.stderr).toMatch(/--since must be a date such as 2026-11-01/);
    }
  });
});
