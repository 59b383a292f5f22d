import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, resumeRun, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';

// Issue 13: a run of ~500k members to Iterable, cancelled through `outflow serve` after ~30k and resumed,
// failed at once with DuckDB's "Out of Memory Error: failed to pin block" under the 48 MB streaming cap.
// The cancelled run's sorted read was abandoned mid-stream, and DuckDB kept its buffers pinned until the
// JavaScript garbage collector happened to free the result: the resume's own sort found the cap used up.
// The home stays open between the two runs here, as the server keeps it. Record runs now read under
// OUTFLOW_DUCKDB_MEMORY, pinned here to 64 MB, where 250k members still reproduce the leak (verified).

const KEY = 'large-resume-key-5c1f';
const MEMBERS = 250_000;
const UNLIMITED = { requests: 1_000_000, perMs: 1000 };

let work: string;
let iterable: IterableFake;
let home: Home;
const savedCap = process.env.OUTFLOW_DUCKDB_MEMORY;

beforeAll(async () => {
  // A limit small enough for the leak to show, whatever the default becomes.
  process.env.OUTFLOW_DUCKDB_MEMORY = '64MB';
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-large-resume-'));
  iterable = await startIterableFake({
    projects: [{ apiKey: KEY }],
    rateLimits: { 'POST /api/lists/subscribe': UNLIMITED, 'GET /api/lists': UNLIMITED, 'POST /api/lists': UNLIMITED },
  });
  const file = path.join(work, 'customers.csv');
  const lines = ['profile_id,email,first_name'];
  for (let i = 1; i <= MEMBERS; i++) lines.push(`${i},member${i}@example.com,Name ${i}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  home = await openHome({ dir: path.join(work, 'home'), env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
  await loadEntity(home, 'Customer', file, { key: 'profile_id' });
  await createSegment(home, { name: 'everyone', where: 'profile_id > 0' });
  await refreshSegments(home, 'everyone');
  await createConnection(home, { type: 'iterable', name: 'iterable', config: { apiKey: KEY, baseUrl: iterable.url, requestsPerSecond: 1_000_000 }, acceptPrivacyTerms: true });
});

afterAll(async () => {
  await home?.close();
  await iterable?.close();
  if (savedCap === undefined) delete process.env.OUTFLOW_DUCKDB_MEMORY;
  else process.env.OUTFLOW_DUCKDB_MEMORY = savedCap;
  fs.rmSync(work, { recursive: true, force: true });
});

describe('resume of a large cancelled run', () => {
  it('sends the rest of a 250k-member mirror run after a cancel, in the process that ran it', async () => {
    const name = 'everyone-mirror';
    await createExport(home, { name, connection: 'iterable', segments: ['everyone'], config: { mapping: { email: 'email', firstName: 'first_name' }, syncMode: 'mirror' } });
    const cancel = new AbortController();
    const cancelled = await runExport(
      home,
      name,
      { onProgress: ({ rowsDone }) => rowsDone >= 30_000 && cancel.abort(new Error('cancelled')) },
      cancel.signal,
    );
    expect(cancelled.error?.message ?? 'cancelled').toMatch(/cancelled/);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.sent).toBeGreaterThanOrEqual(30_000);
    expect(cancelled.sent).toBeLessThan(MEMBERS);

    const resumed = await resumeRun(home, cancelled.id);
    expect(resumed.error).toBeNull();
    expect(resumed).toMatchObject({ status: 'succeeded', rowsTotal: MEMBERS });
    const list = iterable.lists(KEY).find((l) => l.name === 'everyone')!;
    expect(new Set(list.members).size).toBe(MEMBERS);
  });
});
