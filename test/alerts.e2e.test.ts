import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, tempDir, writeJson, type CliResult } from './support/cli.ts';

// Alert webhooks, end to end: a local HTTP server receives the posts. The URLs carry secrets (a Slack-style
// path token and a query key) that must never show up in any output, log or audit entry, nor in the store
// unencrypted.

const KEY = 'alerts-e2e-key-93ab';
const HOME_SECRET = 'HOMEPATHTOKEN7d1e';
const QUERY_SECRET = 'QUERYKEY55c2';
const EXPORT_SECRET = 'EXPORTTOKEN0f9a';
let home: string;
let work: string;
let iterable: IterableFake;
let receiver: http.Server;
let base: string;
let mode: 'ok' | 'fail' | 'hang' = 'ok';
const received: Array<{ path: string; body: any; contentType: string | undefined }> = [];
const attempts: string[] = [];
const outputs: string[] = [];
const savedTimeout = process.env.OUTFLOW_NOTIFY_TIMEOUT_MS;
const savedAllowPrivate = process.env.OUTFLOW_WEBHOOKS_ALLOW_PRIVATE;

async function run(...args: string[]): Promise<CliResult> {
  const result = await outflow(home, ...args);
  outputs.push(result.stdout, result.stderr);
  return result;
}

beforeAll(async () => {
  // A short deadline for the receiver that never answers; set before any command (and any server) starts.
  process.env.OUTFLOW_NOTIFY_TIMEOUT_MS = '400';
  // The fake receiver listens on loopback, which webhooks may only reach when the server allows it.
  process.env.OUTFLOW_WEBHOOKS_ALLOW_PRIVATE = '1';
  home = tempDir('alerts-home');
  work = tempDir('alerts-work');
  receiver = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    attempts.push(req.url ?? '');
    if (mode === 'hang') return; // never answers: the sender's deadline must fire
    if (mode === 'fail') {
      res.writeHead(500).end('down');
      return;
    }
    received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')), contentType: req.headers['content-type'] });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const lines = ['profile_id,email'];
  for (let i = 1; i <= 100; i++) lines.push(`${i},${i % 10 === 0 ? 'not-an-address' : `m${i}@example.com`}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }] });
  expect((await run('entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await run('segment', 'create', 'all', '--where', 'profile_id > 0')).code).toBe(0);
  expect((await run('segment', 'refresh', '--json')).json()).toEqual([{ name: 'all', members: 100 }]);
  expect((await run('connection', 'create', '--type', 'iterable', '--name', 'it', '--config', writeJson(work, 'c.json', { apiKey: KEY, baseUrl: iterable.url }), '--accept-privacy-terms')).code).toBe(0);
  const created = await run('export', 'create', '--name', 'all-to-it', '--connection', 'it', '--segments', 'all', '--config', writeJson(work, 'e.json', { mapping: { email: 'email' } }));
  expect(created.code, created.stderr).toBe(0);
});

afterAll(async () => {
  if (savedAllowPrivate === undefined) delete process.env.OUTFLOW_WEBHOOKS_ALLOW_PRIVATE;
  else process.env.OUTFLOW_WEBHOOKS_ALLOW_PRIVATE = savedAllowPrivate;
  if (savedTimeout === undefined) delete process.env.OUTFLOW_NOTIFY_TIMEOUT_MS;
  else process.env.OUTFLOW_NOTIFY_TIMEOUT_MS = savedTimeout;
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

async function exportRun(): Promise<any> {
  const result = await run('export', 'run', 'all-to-it', '--json');
  return result.json();
}

/**
 * The alert is posted once the run has ended; through a server, `export run` can return before a failed delivery
 * is recorded. Waits (bounded by the test's timeout) until the run carries its warning.
 */
async function withAlertWarning(id: string): Promise<any> {
  for (;;) {
    const shown = (await run('run', 'show', id, '--json')).json();
    if (shown.warnings.length > 0) return shown;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Through a server the post can land just after `export run` returns; bounded by the test's timeout. */
async function receivedAtLeast(n: number): Promise<void> {
  while (received.length < n) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('alerts', () => {
  it('sets, shows and masks the home webhook', async () => {
    const set = await run('notify', 'set', '--url', `${base}/hooks/T01/B02/${HOME_SECRET}?key=${QUERY_SECRET}`, '--on', 'failed,recovered,rejections-above=5', '--json');
    expect(set.code).toBe(0);
    expect(set.json()).toMatchObject({ url: `${base}/hooks/***?***`, on: ['failed', 'recovered', { 'rejections-above': 5 }] });
    const shown = await run('notify', 'show');
    expect(shown.stdout).toContain(`Alerts go to ${base}/hooks/***?*** on failed,recovered,rejections-above=5`);

    const bad = await run('notify', 'set', '--url', 'ftp://example.com/x', '--on', 'failed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must start with https:\/\//);
    const badEvent = await run('notify', 'set', '--url', `${base}/x`, '--on', 'failed,sometimes');
    expect(badEvent.code).toBe(2);
    expect(badEvent.stderr).toMatch(/"on" takes "failed", "recovered" and \{"rejections-above": <percent>\}, not "sometimes"/);

    process.env.OUTFLOW_ROLE = 'contributor';
    try {
      const denied = await run('notify', 'show');
      expect(denied.code).toBe(5);
      expect(denied.stderr).toMatch(/Only administrators may see the alert webhook/);
    } finally {
      delete process.env.OUTFLOW_ROLE;
    }
  });

  it('posts when a run fails, then when the export recovers, with a Slack text and structured fields', async () => {
    iterable.failNext(401);
    const failed = await exportRun();
    expect(failed.status).toBe('failed');
    await receivedAtLeast(1);
    expect(received).toHaveLength(1);
    const alert = received[0]!;
    expect(alert.path).toBe(`/hooks/T01/B02/${HOME_SECRET}?key=${QUERY_SECRET}`);
    expect(alert.contentType).toBe('application/json');
    expect(alert.body).toMatchObject({
      events: ['failed'],
      export: 'all-to-it',
      runId: failed.id,
      status: 'failed',
      counts: { rows: 100, sent: 0, rejected: 0 },
      error: { code: 'auth_failed' },
    });
    expect(alert.body.text).toMatch(new RegExp(`^Outflow: export "all-to-it" failed \\(run ${failed.id}\\): Iterable`));

    const recovered = await exportRun();
    expect(recovered.status).toBe('succeeded');
    await receivedAtLeast(2);
    expect(received).toHaveLength(2);
    expect(received[1]!.body).toMatchObject({
      events: ['recovered', 'rejections-above'],
      runId: recovered.id,
      status: 'succeeded',
      counts: { rows: 100, sent: 90, rejected: 10, notAttempted: 0 },
      rejectedPercent: 10,
      threshold: 5,
    });
    expect(received[1]!.body.text).toContain(`recovered: run ${recovered.id} succeeded after the failed run ${failed.id}`);
    expect(received[1]!.body.text).toContain(`rejected 10 % of its records in run ${recovered.id} (10 of 100), above the 5 % threshold`);
    expect(recovered.warnings).toEqual([]);
  });

  it('stays quiet when nothing it listens for happens', async () => {
    expect((await run('notify', 'set', '--url', `${base}/hooks/T01/B02/${HOME_SECRET}?key=${QUERY_SECRET}`, '--on', 'failed,recovered,rejections-above=10')).code).toBe(0);
    const before = received.length;
    const quiet = await exportRun(); // succeeded after a success, 10 % rejected is not above 10 %
    expect(quiet.status).toBe('succeeded');
    expect(received).toHaveLength(before);
  });

  it("uses an export's own webhook over the home's, and keeps it when other keys change", async () => {
    const config = writeJson(work, 'notify.json', { notify: { url: `${base}/export-hook/${EXPORT_SECRET}`, on: [{ 'rejections-above': 2.5 }] } });
    const updated = await run('export', 'update', 'all-to-it', '--config', config, '--json');
    expect(updated.code).toBe(0);
    expect(updated.json().config.notify).toEqual({ url: `${base}/export-hook/***`, on: [{ 'rejections-above': 2.5 }] });
    expect((await run('export', 'update', 'all-to-it', '--config', writeJson(work, 'sync.json', { syncMode: 'full' }))).code).toBe(0);
    expect((await run('export', 'show', 'all-to-it', '--json')).json().config.notify.url).toBe(`${base}/export-hook/***`);

    const before = received.length;
    const result = await exportRun();
    await receivedAtLeast(before + 1);
    expect(received).toHaveLength(before + 1);
    expect(received.at(-1)!.path).toBe(`/export-hook/${EXPORT_SECRET}`);
    expect(received.at(-1)!.body).toMatchObject({ events: ['rejections-above'], runId: result.id, threshold: 2.5 });

    // The masked URL cannot be set as a new one.
    const masked = await run('export', 'update', 'all-to-it', '--config', writeJson(work, 'masked.json', { notify: { url: `${base}/other/***`, on: ['failed'] } }));
    expect(masked.code).toBe(2);
    expect(masked.stderr).toMatch(/is the masked address Outflow shows/);
  });

  it('records a failed delivery as a warning after a few attempts, never failing the run', { timeout: 30_000 }, async () => {
    mode = 'fail';
    const tried = attempts.length;
    const result = await withAlertWarning((await exportRun()).id);
    mode = 'ok';
    expect(result.status).toBe('succeeded');
    expect(attempts.length - tried).toBe(3);
    expect(result.warnings).toEqual([
      `The alert to ${base}/export-hook/*** was not delivered: it answered HTTP 500. The run itself is not affected; check the webhook with \`outflow notify show\`.`,
    ]);
  });

  it('gives up on a receiver that never answers, by a deadline that fires', async () => {
    mode = 'hang';
    const tried = attempts.length;
    const result = await withAlertWarning((await exportRun()).id);
    mode = 'ok';
    expect(result.status).toBe('succeeded');
    expect(attempts.length - tried).toBe(3);
    expect(result.warnings).toEqual([expect.stringContaining(`The alert to ${base}/export-hook/*** was not delivered: it did not answer within 0.4 s.`)]);
  }, 30_000);

  it('turns alerts off', async () => {
    expect((await run('export', 'update', 'all-to-it', '--config', writeJson(work, 'off.json', { notify: null }))).code).toBe(0);
    expect((await run('notify', 'off')).stdout).toContain('Alerts are off.');
    expect((await run('notify', 'show')).stdout).toContain('No alert webhook is set.');
    iterable.failNext(401);
    const before = received.length;
    expect((await exportRun()).status).toBe('failed');
    expect(received).toHaveLength(before);
  });

  it('never lets a secret of a webhook out: outputs, logs, audit, the store', async () => {
    const audit = await run('audit', '--json');
    expect(audit.json().map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['notify.set', 'notify.off']));
    const files = [...fs.readdirSync(path.join(home, 'logs')).map((f) => path.join(home, 'logs', f)), path.join(home, 'metadata.sqlite')].filter((f) => fs.existsSync(f));
    const everything = [...outputs, ...files.map((f) => fs.readFileSync(f).toString('latin1'))].join('\n');
    expect(everything).toContain('/hooks/***'); // the masked form is there, so the search looks in the right places
    for (const secret of [HOME_SECRET, QUERY_SECRET, EXPORT_SECRET]) expect(everything).not.toContain(secret);
  });
});
