import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { planParts } from '../src/engine/files.ts';
import { writeCustomersCsv } from '../src/demo/generate.ts';
import { tempDir } from './support/cli.ts';

let home: Home;
let dir: string;
let server: FakeSftpServer;

beforeAll(async () => {
  dir = tempDir('faults');
  server = await startFakeSftpServer({ username: 'u', password: 'p4ssword-for-faults' });
  home = await openHome({ dir, env: { OUTFLOW_HOME: dir }, retry: { baseMs: 5, maxMs: 20, maxAttempts: 3 } });
  await writeCustomersCsv(path.join(dir, 'customers.csv'), 20_000);
  await loadEntity(home, 'Customer', path.join(dir, 'customers.csv'), {});
  await createSegment(home, { name: 'nl', where: "country = 'NL'" });
  await refreshSegments(home);
  for (const compression of ['none', 'gzip'] as const) {
    await createConnection(home, {
      type: 'sftp',
      name: `fault-${compression}`,
      config: { host: server.host, port: server.port, username: 'u', password: 'p4ssword-for-faults', folder: '/out', compression },
      acceptPrivacyTerms: true,
    });
    await createExport(home, { name: `all-${compression}`, connection: `fault-${compression}`, entities: ['Customer'], config: { rowsPerFile: 4_000 } });
  }
});

beforeEach(() => {
  fs.rmSync(path.join(server.root, 'out'), { recursive: true, force: true });
  fs.mkdirSync(path.join(server.root, 'out'));
  server.configure({ refuseWrites: false, diskFullAfterBytes: undefined, dropAfterBytes: undefined });
  server.reset();
});

afterAll(async () => {
  await home?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The data files in the folder (each run also writes a manifest, `<name>_<stamp>.manifest.json`). */
const files = () => fs.readdirSync(path.join(server.root, 'out')).filter((f) => !f.endsWith('.manifest.json')).sort();

describe('file exports when the SFTP server misbehaves', () => {
  it('splits into at most five parts balanced by rows', () => {
    const source = { name: 'x', source: { kind: 'entity', entity: 'x' } as const };
    expect(planParts(source, 10, { stamp: 's', extension: '.csv' }).map((p) => p.to - p.from)).toEqual([10]);
    expect(planParts(source, 10_000_001, { stamp: 's', extension: '.csv' }).map((p) => p.to - p.from)).toEqual([2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_001]);
    expect(planParts(source, 0, { stamp: 's', extension: '.csv' })).toHaveLength(1);
  });

  it('uploads five gzip parts side by side, reporting progress as rows stream', async () => {
    const progress: Array<number> = [];
    const run = await runExport(home, 'all-gzip', { onProgress: ({ rowsDone }) => progress.push(rowsDone) });
    expect(progress.length).toBeGreaterThan(5);
    expect(progress.at(-1)).toBe(20_000);
    expect(run.status).toBe('succeeded');
    expect(run.sources[0]!.files!.map((f) => f.rows)).toEqual([4000, 4000, 4000, 4000, 4000]);
    expect(files()).toHaveLength(5);
    // All five parts at once (PARTS_AT_ONCE); how many overlap with parts this small is up to timing, so the
    // exact count is src/engine/files.test.ts's.
    expect(server.maxConcurrentUploads).toBeGreaterThanOrEqual(2);
    expect(server.maxConcurrentUploads).toBeLessThanOrEqual(5);
  });

  it('sends a part again when the connection drops mid-upload, and ends with complete files only', async () => {
    server.configure({ dropAfterBytes: 150_000 });
    const run = await runExport(home, 'all-none');
    expect(run.status).toBe('succeeded');
    expect(server.connections).toBeGreaterThan(1);
    expect(files()).toHaveLength(5);
    const rows = files().reduce((sum, f) => sum + fs.readFileSync(path.join(server.root, 'out', f), 'utf8').trimEnd().split('\n').length - 1, 0);
    expect(rows).toBeGreaterThanOrEqual(20_000);
  });

  it('fails a run on a full disk with a clear message and leaves no file behind', async () => {
    server.configure({ diskFullAfterBytes: 200_000 });
    const run = await runExport(home, 'all-none');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'disk_full' });
    expect(run.error!.message).toMatch(/space/i);
    expect(files()).toEqual([]);
  });

  it('fails a run on a read-only folder with what to do, and leaves no file behind', async () => {
    server.configure({ refuseWrites: true });
    const run = await runExport(home, 'all-gzip');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'folder_not_writable' });
    expect(files()).toEqual([]);
  });
});
