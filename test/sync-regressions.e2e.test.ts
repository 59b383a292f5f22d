import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { refreshSegments } from '../src/app/data.ts';
import { resumeRun, runExport } from '../src/app/exports.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

// Regressions for the mirror and resume defects of issue 8 ("Why"), against the Iterable fake.

const KEY = 'iterable-regressions-key-9d1e';

let home: string;
let work: string;
let iterable: IterableFake;

beforeAll(async () => {
  home = tempDir('sync-reg-home');
  work = tempDir('sync-reg-work');
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }] });
  const config = writeJson(work, 'iterable.json', { apiKey: KEY, baseUrl: iterable.url });
  expect((await outflow(home, 'connection', 'create', '--type', 'iterable', '--name', 'iterable', '--config', config, '--accept-privacy-terms')).code).toBe(0);
});

afterAll(async () => {
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** Writes `Customer` rows (id, e-mail, group) for the ids given; returns the file. */
function customers(name: string, rows: Array<[id: number, group: string]>, email = (id: number) => `person${id}@example.com`): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, ['profile_id,email,grp', ...rows.map(([id, group]) => `${id},${email(id)},${group}`)].join('\n') + '\n');
  return file;
}

const listMembers = (name: string) => (iterable.lists(KEY).find((l) => l.name === name)?.members ?? []).slice().sort();
const emails = (ids: number[]) => ids.map((id) => `person${id}@example.com`).sort();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('sync regressions', () => {
  it('mirror does not forget members when an export runs between `entity load` and `segment refresh`', async () => {
    expect((await outflow(home, 'entity', 'load', 'Customer', customers('a1.csv', range(1, 10).map((id) => [id, 'a'])))).code).toBe(0);
    expect((await outflow(home, 'segment', 'create', 'alpha', '--where', "grp = 'a'")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'alpha')).code).toBe(0);
    const config = writeJson(work, 'alpha.json', { mapping: { email: 'email' }, syncMode: 'mirror' });
    expect((await outflow(home, 'export', 'create', '--name', 'alpha-mirror', '--connection', 'iterable', '--segments', 'alpha', '--config', config)).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'alpha-mirror', '--json')).json()).toMatchObject({ status: 'succeeded', sent: 10 });

    // Profile 3 is deleted, profile 4 leaves the group; the segment is not refreshed before the run.
    const next = range(1, 10).filter((id) => id !== 3).map((id): [number, string] => [id, id === 4 ? 'b' : 'a']);
    expect((await outflow(home, 'entity', 'load', 'Customer', customers('a2.csv', next))).code).toBe(0);
    const run = (await outflow(home, 'export', 'run', 'alpha-mirror', '--json')).json();
    expect(run.status).toBe('succeeded');
    expect(listMembers('alpha')).toEqual(emails([1, 2, 5, 6, 7, 8, 9, 10]));

    // And nobody is left behind for good: after a refresh and another run the list is still the segment.
    expect((await outflow(home, 'segment', 'refresh', 'alpha')).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'alpha-mirror', '--json')).json().status).toBe('succeeded');
    expect(listMembers('alpha')).toEqual(emails([1, 2, 5, 6, 7, 8, 9, 10]));
  });

  it("mirror removes a member's old address when their e-mail changes", async () => {
    expect((await outflow(home, 'entity', 'load', 'Customer', customers('b1.csv', range(1, 5).map((id) => [id, 'a'])))).code).toBe(0);
    expect((await outflow(home, 'segment', 'create', 'beta', '--where', "grp = 'a'")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'beta')).code).toBe(0);
    const config = writeJson(work, 'beta.json', { mapping: { email: 'email' }, syncMode: 'mirror' });
    expect((await outflow(home, 'export', 'create', '--name', 'beta-mirror', '--connection', 'iterable', '--segments', 'beta', '--config', config)).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'beta-mirror', '--json')).json()).toMatchObject({ status: 'succeeded', sent: 5 });

    const renamed = (id: number) => (id === 2 ? 'moved2@example.com' : `person${id}@example.com`);
    expect((await outflow(home, 'entity', 'load', 'Customer', customers('b2.csv', range(1, 5).map((id) => [id, 'a']), renamed))).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'beta')).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'beta-mirror', '--json')).json().status).toBe('succeeded');
    expect(listMembers('beta')).toEqual(['moved2@example.com', ...emails([1, 3, 4, 5])].sort());
  });

  it('a resume after a `segment refresh` sends the membership its run started with, not a mix', async () => {
    // 3,000 profiles; the segment holds the 1,500 odd ids.
    const v1 = range(1, 3000).map((id): [number, string] => [id, id % 2 === 1 ? 'a' : 'b']);
    expect((await outflow(home, 'entity', 'load', 'Customer', customers('c1.csv', v1))).code).toBe(0);
    expect((await outflow(home, 'segment', 'create', 'gamma', '--where', "grp = 'a'")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'gamma', '--json')).json()).toEqual([{ name: 'gamma', members: 1500 }]);
    const config = writeJson(work, 'gamma.json', { mapping: { email: 'email' } });
    expect((await outflow(home, 'export', 'create', '--name', 'gamma-full', '--connection', 'iterable', '--segments', 'gamma', '--config', config)).code).toBe(0);

    // The key is refused from the second subscribe call on: the run fails after its first 1,000 members.
    let subscribes = 0;
    let failing = true;
    const flaky: typeof fetch = async (input, init) => {
      if (failing && String(input).includes('/api/lists/subscribe') && ++subscribes >= 2) {
        return new Response(JSON.stringify({ msg: 'Invalid API key', code: 'BadApiKey' }), { status: 401, headers: { 'content-type': 'application/json' } });
      }
      return fetch(input, init);
    };
    const h = await openHome({ dir: home, fetch: flaky });
    try {
      const failed = await runExport(h, 'gamma-full');
      expect(failed).toMatchObject({ status: 'failed', sent: 1000 });

      // Meanwhile even ids up to 1,000 join and odd ids above 2,500 leave, and the segment is refreshed.
      const v2 = range(1, 3000).map((id): [number, string] => [id, (id % 2 === 1 && id <= 2500) || (id % 2 === 0 && id <= 1000) ? 'a' : 'b']);
      await h.profiles.loadEntity('Customer', customers('c2.csv', v2), { key: 'profile_id' });
      // Through the same home: one process holds one DuckDB instance per file.
      expect(await refreshSegments(h, 'gamma')).toEqual([{ name: 'gamma', members: 1750 }]);

      failing = false;
      const resumed = await resumeRun(h, failed.id);
      expect(resumed).toMatchObject({ status: 'succeeded', sent: 1500, rowsTotal: 1500 });
      // Exactly the members the run started with: none of the snapshot skipped, no later joiner mixed in.
      expect(listMembers('gamma')).toEqual(emails(range(1, 3000).filter((id) => id % 2 === 1)));
      // The next run sends today's members.
      expect(await runExport(h, 'gamma-full')).toMatchObject({ status: 'succeeded', sent: 1750 });
    } finally {
      await h.close();
    }
    const current = range(1, 3000).filter((id) => (id % 2 === 1 && id <= 2500) || (id % 2 === 0 && id <= 1000));
    expect(listMembers('gamma')).toEqual(emails([...new Set([...current, ...range(1, 3000).filter((id) => id % 2 === 1)])]));
  });
});
