import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, tempDir } from './support/cli.ts';

const ITERABLE_KEY = 'schedule-e2e-iterable-key-31c8';

let home: string;
let work: string;
let iterable: IterableFake;

beforeAll(async () => {
  home = tempDir('schedule-home');
  work = tempDir('schedule-work');
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  fs.writeFileSync(path.join(work, 'customers.csv'), ['profile_id,email', ...Array.from({ length: 8 }, (_, i) => `${i + 1},user${i + 1}@example.com`)].join('\n') + '\n');
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  expect((await outflow(home, 'segment', 'create', 'everyone', '--where', 'profile_id > 0')).code).toBe(0);
  fs.writeFileSync(path.join(work, 'iterable.json'), JSON.stringify({ apiKey: ITERABLE_KEY, baseUrl: iterable.url }));
  fs.writeFileSync(path.join(work, 'export.json'), JSON.stringify({ mapping: { email: 'email' } }));
  for (const name of ['a-first', 'b-orphan', 'c-paused', 'd-last']) {
    expect((await outflow(home, 'connection', 'create', '--type', 'iterable', '--name', `conn-${name}`, '--config', path.join(work, 'iterable.json'), '--accept-privacy-terms')).code).toBe(0);
    expect((await outflow(home, 'export', 'create', '--name', name, '--connection', `conn-${name}`, '--segments', 'everyone', '--config', path.join(work, 'export.json'))).code).toBe(0);
  }
});

afterAll(async () => {
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('outflow schedule', () => {
  it('sets days/times in a zone, shows the next 5 fire times in the zone and in UTC, and turns off', async () => {
    const set = await outflow(home, 'schedule', 'set', '--days', 'mon-fri', '--times', '06:00,18:00', '--tz', 'Europe/Paris', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(set.json()).toMatchObject({ enabled: true, days: 'mon-fri', times: ['06:00', '18:00'], cron: ['0 6,18 * * 1-5'], timeZone: 'Europe/Paris' });

    const shown = await outflow(home, 'schedule', 'show', '--json');
    const next = shown.json().next as Array<{ local: string; utc: string }>;
    expect(next).toHaveLength(5);
    for (const at of next) {
      // The same instant twice: the wall clock in Paris (CET/CEST) and UTC.
      expect(Date.parse(at.local)).toBe(Date.parse(at.utc));
      expect(at.local).toMatch(/T(06|18):00:00\+0[12]:00$/);
      expect([1, 2, 3, 4, 5]).toContain(new Date(at.utc).getUTCDay());
    }
    const text = await outflow(home, 'schedule', 'show');
    expect(text.stdout).toContain('Refresh: mon-fri at 06:00, 18:00 (Europe/Paris)');
    // Nothing has fired yet: the moment it was set is not a handled slot.
    expect(shown.json().lastFiredAt).toBeNull();
    expect(text.stdout).not.toContain('Last handled slot');

    const cron = await outflow(home, 'schedule', 'set', '--cron', '30 1 * * *', '--tz', 'America/New_York', '--json');
    expect(cron.json()).toMatchObject({ cron: ['30 1 * * *'], timeZone: 'America/New_York' });

    const off = await outflow(home, 'schedule', 'off', '--json');
    expect(off.json()).toMatchObject({ enabled: false, next: [] });
  });

  it('exits 2 with a clear message on a bad zone, a bad cron expression or bad times, and changes nothing', async () => {
    const zone = await outflow(home, 'schedule', 'set', '--days', 'mon-fri', '--times', '06:00', '--tz', 'Europe/Pariss');
    expect(zone.code).toBe(2);
    expect(zone.stderr).toMatch(/"Europe\/Pariss" is not an IANA time zone; did you mean Europe\/Paris\?/);
    const cron = await outflow(home, 'schedule', 'set', '--cron', '0 6 * *', '--tz', 'UTC');
    expect(cron.code).toBe(2);
    expect(cron.stderr).toMatch(/is not a cron expression Outflow takes.*5 fields/);
    const times = await outflow(home, 'schedule', 'set', '--days', 'mon-fri', '--times', '25:00', '--tz', 'UTC');
    expect(times.code).toBe(2);
    expect(times.stderr).toMatch(/"25:00" is not a time of day/);
    const both = await outflow(home, 'schedule', 'set', '--days', 'mon', '--times', '06:00', '--cron', '0 6 * * *', '--tz', 'UTC');
    expect(both.code).toBe(2);
    expect((await outflow(home, 'schedule', 'show', '--json')).json()).toMatchObject({ enabled: false });
  });

  it('retires `refresh --every` with a pointer to `outflow schedule set`', async () => {
    const result = await outflow(home, 'refresh', '--every', '60');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--every` is retired.*outflow schedule set/);
    expect(result.stdout).toBe('');
  });

  it('gives an export its own schedule, pauses and resumes it', async () => {
    const own = await outflow(home, 'export', 'update', 'd-last', '--schedule', '0 12 * * *', '--tz', 'Europe/Paris', '--json');
    expect(own.code, own.stderr).toBe(0);
    expect(own.json()).toMatchObject({ name: 'd-last', paused: false, cron: '0 12 * * *', timeZone: 'Europe/Paris' });
    expect((await outflow(home, 'export', 'update', 'd-last', '--schedule', '0 12 * *', '--tz', 'UTC')).code).toBe(2);
    expect((await outflow(home, 'export', 'update', 'd-last', '--schedule', 'off', '--json')).json()).toEqual({ name: 'd-last', paused: false, next: [] });

    expect((await outflow(home, 'export', 'pause', 'c-paused', '--json')).json()).toMatchObject({ name: 'c-paused', paused: true });
    expect((await outflow(home, 'schedule', 'show', '--json')).json().exports).toEqual([{ name: 'c-paused', paused: true, next: [] }]);
    expect((await outflow(home, 'export', 'resume', 'c-paused', '--json')).json()).toMatchObject({ name: 'c-paused', paused: false });
    expect((await outflow(home, 'export', 'pause', 'no-such-export')).code).toBe(3);
  });
});

describe('outflow refresh', () => {
  // Before: the first export that failed before its run existed aborted the refresh; the others never ran
  // and nothing was printed for them.
  it('refreshes every segment, runs every export but paused ones, and records a failed run for one that cannot start', async () => {
    expect((await outflow(home, 'connection', 'remove', 'conn-b-orphan', '--force')).code).toBe(0);
    expect((await outflow(home, 'export', 'pause', 'c-paused')).code).toBe(0);
    const result = await outflow(home, 'refresh', '--json');
    expect(result.code).toBe(1);
    const { segments, runs } = result.json();
    expect(segments).toEqual([{ name: 'everyone', members: 8 }]);
    expect(runs.map((r: { export: string; status: string; trigger: string }) => [r.export, r.status, r.trigger])).toEqual([
      ['a-first', 'succeeded', 'refresh'],
      ['b-orphan', 'failed', 'refresh'],
      ['d-last', 'succeeded', 'refresh'],
    ]);
    expect(runs[1].error.message).toMatch(/The connection of export "b-orphan" was removed/);
    const history = (await outflow(home, 'run', 'list', '--export', 'b-orphan', '--json')).json();
    expect(history[0]).toMatchObject({ status: 'failed' });
    expect((await outflow(home, 'run', 'list', '--export', 'c-paused', '--json')).json()).toEqual([]);
  });
});

describe('outflow export manifest', () => {
  it('prints which fields leave, to which account, under whose consent and how often; --json gives the API’s document', async () => {
    const json = await outflow(home, 'export', 'manifest', 'a-first', '--json');
    expect(json.code, json.stderr).toBe(0);
    const m = json.json();
    expect(m).toMatchObject({
      export: 'a-first',
      destination: { type: 'iterable', title: 'Iterable', connection: 'conn-a-first', account: { baseUrl: iterable.url } },
      fields: [{ entity: 'Customer', column: 'email', target: 'email' }],
      sources: [{ kind: 'segment', name: 'everyone', entity: 'Customer', filter: 'profile_id > 0' }],
      consent: { acceptedBy: expect.any(String), acceptedAt: expect.any(String) },
      schedule: { mode: expect.stringMatching(/^(refresh|manual)$/), paused: false },
    });
    expect(Array.isArray(m.lastRuns)).toBe(true);
    const text = await outflow(home, 'export', 'manifest', 'a-first');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Destination:  Iterable, connection "conn-a-first"');
    expect(text.stdout).toMatch(/Consent: +privacy terms accepted by \S+ at /);
    expect(text.stdout).toMatch(/Fields that leave:[\s\S]*email/);
    for (const out of [json.stdout, text.stdout]) expect(out).not.toContain(ITERABLE_KEY);
    expect((await outflow(home, 'export', 'manifest', 'no-such-export')).code).toBe(3);
  });
});
