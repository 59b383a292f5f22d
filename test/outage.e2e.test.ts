import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';
import { startOutageProxy, type OutageProxy } from './support/outage-proxy.ts';

// Iterable goes down in the middle of a run: 503 for 30 s, or 429 with `Retry-After: 1` for 60 s. Retries are
// bounded by a time budget (15 minutes by default), so both runs wait the outage out and deliver everyone.
// The clock the retries wait on is injected: the outages pass in no wall time, and the proxy measures them on
// the same clock.

const KEY = 'outage-e2e-key-51c0';
let dir: string;
let work: string;
let iterable: IterableFake;
let proxy: OutageProxy;
let home: Home;
let clock: { t: number; now: () => number; sleep: (ms: number, signal?: AbortSignal) => Promise<void> };

beforeAll(async () => {
  dir = tempDir('outage-home');
  work = tempDir('outage-work');
  const lines = ['profile_id,email,tier'];
  for (let i = 1; i <= 600; i++) lines.push(`${i},member${i}@example.com,${i % 2 ? 'gold' : 'silver'}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }] });
  proxy = await startOutageProxy(iterable.url);
  expect((await outflow(dir, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(dir, 'segment', 'create', 'gold', '--where', "tier = 'gold'")).code).toBe(0);
  expect((await outflow(dir, 'segment', 'create', 'silver', '--where', "tier = 'silver'")).code).toBe(0);
  expect((await outflow(dir, 'segment', 'refresh', '--json')).json()).toEqual([
    { name: 'gold', members: 300 },
    { name: 'silver', members: 300 },
  ]);
  const conn = await outflow(dir, 'connection', 'create', '--type', 'iterable', '--name', 'iterable', '--config', writeJson(work, 'c.json', { apiKey: KEY, baseUrl: proxy.url }), '--accept-privacy-terms');
  expect(conn.code).toBe(0);
  const config = writeJson(work, 'e.json', { mapping: { email: 'email' } });
  for (const segment of ['gold', 'silver']) {
    expect((await outflow(dir, 'export', 'create', '--name', `${segment}-to-iterable`, '--connection', 'iterable', '--segments', segment, '--config', config)).code).toBe(0);
  }
  clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      clock.t += ms;
    },
  };
  home = await openHome({ dir, env: { OUTFLOW_HOME: dir }, retryClock: clock });
});

afterAll(async () => {
  await home?.close();
  await Promise.all([iterable?.close(), proxy?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function members(list: string): string[] {
  return (iterable.lists(KEY).find((l) => l.name === list)?.members ?? []).map(String).sort();
}

function expected(parity: number): string[] {
  const emails: string[] = [];
  for (let i = 1; i <= 600; i++) if (i % 2 === parity) emails.push(`member${i}@example.com`);
  return emails.sort();
}

describe('an outage costs a wait, never data', () => {
  it('waits out 30 s of 503 and delivers the whole segment, saying how long it waited', async () => {
    proxy.declare({ status: 503, forMs: 30_000, now: clock.now });
    const run = await runExport(home, 'gold-to-iterable');
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(proxy.refused).toBeGreaterThanOrEqual(5);
    expect(members('gold')).toEqual(expected(1));
    expect(run.sent).toBe(300);
    expect(run.warnings).toHaveLength(1);
    // Seen failing until its last refusal; waited until the retry that went through, at or after the end of the
    // outage. Each wait is at most about twice all earlier ones together (doubling, with jitter down to half), so
    // the last refusal came after about a third of the outage, not half of it (14 s was seen in CI).
    const [, failing, waited] = /^Iterable answered 503 for (\d+) s; the run waited (\d+) s \(\d+ retries\) and went on\.$/.exec(run.warnings[0]!) ?? [];
    expect(Number(failing)).toBeGreaterThanOrEqual(9);
    expect(Number(failing)).toBeLessThanOrEqual(30);
    expect(Number(waited)).toBeGreaterThanOrEqual(30);
  });

  it('honours Retry-After: 1 for 60 s of 429 and delivers the whole segment', async () => {
    const refusedBefore = proxy.refused;
    proxy.declare({ status: 429, forMs: 60_000, retryAfterS: 1, now: clock.now });
    const run = await runExport(home, 'silver-to-iterable');
    expect(run.status).toBe('succeeded');
    // One second apart, as asked: about 60 refusals, each followed by a wait of Retry-After.
    expect(proxy.refused - refusedBefore).toBeGreaterThanOrEqual(48);
    expect(proxy.refused - refusedBefore).toBeLessThanOrEqual(61);
    expect(members('silver')).toEqual(expected(0));
    expect(run.warnings).toEqual([expect.stringMatching(/^Iterable answered 429 for (59|60) s; the run waited (60|61) s \(\d+ retries\) and went on\.$/)]);
  });

  it('gives up once the retry budget is spent and says how long it waited', async () => {
    const short = await openHome({ dir, env: { OUTFLOW_HOME: dir, OUTFLOW_RETRY_BUDGET_MS: '120000' }, retryClock: clock });
    try {
      proxy.declare({ status: 503, forMs: 10 * 60_000, now: clock.now });
      const run = await runExport(short, 'gold-to-iterable');
      expect(run.status).toBe('failed');
      // How long it kept failing depends on the backoff's jitter (random), never more than the budget: "N s"
      // below 2 minutes, "2 min" when the last wait ended right at it (seen in CI).
      expect(run.error?.message).toMatch(/^Iterable is unavailable on .*\(HTTP 503 GenericError\)\. It kept failing for (\d+ s|2 min) and the retry budget is 2 min: the run stopped\. Resume it with/);
      expect(members('gold')).toEqual(expected(1)); // what was delivered before stays
    } finally {
      proxy.declare({ status: 503, forMs: 0, now: clock.now });
      await short.close();
    }
  });
});
