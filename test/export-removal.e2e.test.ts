import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { queueRun } from '../src/app/exports.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

// Removing an export removes what incremental sync kept about its members in the profile store (delivered
// keys and addresses, run snapshots, journals): personal data that nothing reads once the export is gone.
// Direct only: the test reads the DuckDB file itself, which a server would hold open.

const KEY = 'iterable-removal-key-77a1';

let home: string;
let work: string;
let iterable: IterableFake;

beforeAll(async () => {
  home = tempDir('removal-home');
  work = tempDir('removal-work');
  iterable = await startIterableFake({ projects: [{ apiKey: KEY }] });
  const config = writeJson(work, 'iterable.json', { apiKey: KEY, baseUrl: iterable.url });
  expect((await outflow(home, 'connection', 'create', '--type', 'iterable', '--name', 'iterable', '--config', config, '--accept-privacy-terms')).code).toBe(0);
});

afterAll(async () => {
  await iterable?.close();
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** Every table of the profile store, and how many rows outside the entity itself hold each of `texts`, read from the file. */
async function profileStore(...texts: string[]): Promise<{ tables: string[]; mentions: number[] }> {
  const instance = await DuckDBInstance.create(path.join(home, 'profiles.duckdb'));
  const con = await instance.connect();
  try {
    const tables = (await con.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`)).getRows().map((r) => String(r[0]));
    const mentions: number[] = [];
    for (const text of texts) {
      let total = 0;
      for (const table of tables.filter((t) => t !== 'Customer')) {
        const quoted = `"${table.replace(/"/g, '""')}"`;
        total += Number((await con.runAndReadAll(`SELECT count(*) FROM ${quoted} t WHERE contains(CAST(t AS VARCHAR), $1)`, [text])).getRows()[0]![0]);
      }
      mentions.push(total);
    }
    return { tables, mentions };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

describe('export remove', () => {
  it('drops the delivered state, snapshots and journals of the export, and refuses while a run is queued', async () => {
    const file = path.join(work, 'customers.csv');
    fs.writeFileSync(file, ['profile_id,email,tier', ...Array.from({ length: 30 }, (_, i) => `${i + 1},person${i + 1}@example.com,${i < 20 ? 'gold' : 'silver'}`)].join('\n') + '\n');
    expect((await outflow(home, 'entity', 'load', 'Customer', file)).code).toBe(0);
    expect((await outflow(home, 'segment', 'create', 'gold', '--where', "tier = 'gold'")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', 'gold')).code).toBe(0);
    const config = writeJson(work, 'mirror.json', { mapping: { email: 'email' }, syncMode: 'mirror' });
    expect((await outflow(home, 'export', 'create', '--name', 'gold-mirror', '--connection', 'iterable', '--segments', 'gold', '--config', config)).code).toBe(0);
    expect((await outflow(home, 'export', 'run', 'gold-mirror', '--json')).json()).toMatchObject({ status: 'succeeded', sent: 20 });

    const before = await profileStore('person7@example.com');
    expect(before.tables.filter((t) => t.startsWith('_delivered_'))).toHaveLength(1);
    expect(before.mentions[0]).toBeGreaterThan(0);

    // A run still queued would write the state back: the removal waits for it to be cancelled.
    // (Queued as a server or the scheduler would: without a server `--detach` is refused.)
    const h = await openHome({ dir: home });
    const queued = await queueRun(h, 'gold-mirror').finally(() => h.close());
    const refused = await outflow(home, 'export', 'remove', 'gold-mirror');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`outflow run cancel ${queued.id}`);
    expect((await outflow(home, 'run', 'cancel', queued.id)).code).toBe(0);

    expect((await outflow(home, 'export', 'remove', 'gold-mirror')).code).toBe(0);
    const after = await profileStore('person7@example.com', '_delivered_');
    expect(after.tables.filter((t) => /^_(delivered|snap|journal)_/.test(t))).toEqual([]);
    // Neither the addresses nor the bookkeeping that named the export's state are left outside the entity.
    expect(after.mentions).toEqual([0, 0]);
  });
});
