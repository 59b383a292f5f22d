import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileExportDefinition, StagedFile } from '../destinations/kit/define.ts';
import type { ProfileStore } from '../store/profile/profile-store.ts';
import { runFileExport, stagePart, type PartPlan } from './files.ts';
import { defaultRetryPolicy } from './retry.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const plan: PartPlan = { source: { name: 'customers', source: { kind: 'entity', entity: 'Customer' } as never }, index: 0, total: 1, from: 0, to: 3, fileName: 'customers.csv' };
const kind = { format: () => ({ delimiter: ',', compression: 'none', formulaEscaping: 'none' }) } as unknown as FileExportDefinition<unknown>;
const log = { warn: () => undefined, info: () => undefined, debug: () => undefined, error: () => undefined } as never;

/** A profile store whose COPY writes three rows into the FIFO at once. */
const profiles = {
  async copyCsv(_source: unknown, _range: unknown, _options: unknown, target: string): Promise<number> {
    await fs.promises.writeFile(target, 'id,email\n1,a@x.io\n2,b@x.io\n3,c@x.io\n');
    return 3;
  },
  copiesAtOnce: async () => 100,
} as unknown as ProfileStore;

describe('stagePart', () => {
  it('a part stopped after its rows were rendered but before the sink read them fails the part, not the process', async () => {
    // In a worker, a cancel arrives whenever it arrives: here the whole part is rendered into the body while
    // the sink is still opening its remote file. The stop destroys the body then; an error event nobody
    // listened to was an uncaught exception that killed the `outflow worker` process.
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-part-'));
    dirs.push(workDir);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const stop = new AbortController();
    let bodyDone!: () => void;
    const rendered = new Promise<void>((resolve) => (bodyDone = resolve));
    const sink = {
      async stage(name: string, body: Readable): Promise<StagedFile> {
        // The remote open is slow: the body is complete (its writable side finished) before anyone reads it.
        body.once('prefinish', () => bodyDone());
        await rendered;
        await new Promise((r) => setTimeout(r, 20));
        stop.abort(new Error('The run stopped this part.'));
        await new Promise((r) => setTimeout(r, 20));
        await pipeline(body, new Writable({ write: (_c, _e, cb) => cb() }));
        return { name, path: `/out/${name}`, tempPath: `/out/.${name}.partial`, bytes: 0 } as StagedFile;
      },
    };
    try {
      await expect(
        stagePart(plan, { kind, connection: {}, profiles, retry: { ...defaultRetryPolicy, maxAttempts: 1 }, ctx: { signal: stop.signal, log } }, sink, workDir),
      ).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('a part waiting for its renderer to open the FIFO holds no thread of the pool', async () => {
    // A renderer opens its FIFO when its own work reaches the pool (DuckDB's COPY runs there). If every pool
    // thread were held by a reader's open() waiting for a writer, no renderer could start: a hang, not an
    // error. Far more parts than the pool has threads (16 under vitest, 4 by default) must all complete.
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-part-'));
    dirs.push(workDir);
    const renderer = {
      async copyCsv(_source: unknown, _range: unknown, _options: unknown, target: string): Promise<number> {
        await fs.promises.access(target);
        await fs.promises.writeFile(target, 'id\n1\n');
        return 1;
      },
    } as unknown as ProfileStore;
    const sink = {
      async stage(name: string, body: Readable): Promise<StagedFile> {
        await pipeline(body, new Writable({ write: (_c, _e, cb) => cb() }));
        return { name, path: `/out/${name}`, tempPath: `/out/.${name}.partial`, bytes: 0 } as StagedFile;
      },
    };
    const input = () => ({ kind, connection: {}, profiles: renderer, retry: { ...defaultRetryPolicy, maxAttempts: 1 }, ctx: { signal: new AbortController().signal, log } });
    const parts = Promise.all(Array.from({ length: 40 }, (_, i) => stagePart({ ...plan, index: i + 1, fileName: `customers_${i + 1}.csv` }, input(), sink, workDir)));
    // 40 parts of one row take well under a second; a pool that stopped moving never ends. Then the FIFOs get a
    // writer (an O_RDWR open) here, so that the stuck open() calls return and the test fails instead of hanging.
    let stuck = false;
    const deadline = setTimeout(() => {
      stuck = true;
      for (const name of fs.readdirSync(workDir)) fs.openSync(path.join(workDir, name), fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    }, 20_000);
    const rows = await parts.finally(() => clearTimeout(deadline)).then((done) => done.map((p) => p.rows), () => []);
    expect(stuck).toBe(false);
    expect(rows).toEqual(Array(40).fill(1));
  });
});

describe('runFileExport', () => {
  /** Runs a five-part export through a sink that holds each upload until `wanted` are open at once (or 300 ms). */
  async function mostPartsAtOnce(compression: 'gzip' | 'none', wanted: number, copiesAtOnce = 100): Promise<number> {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-parts-'));
    dirs.push(tmpDir);
    let active = 0;
    let most = 0;
    const sink = {
      async stage(name: string, body: Readable): Promise<StagedFile> {
        active++;
        most = Math.max(most, active);
        for (const until = Date.now() + 300; active < wanted && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
        await pipeline(body, new Writable({ write: (_c, _e, cb) => cb() }));
        active--;
        return { name, path: `/out/${name}`, tempPath: `/out/.${name}.partial`, bytes: 0 } as StagedFile;
      },
      commit: async () => undefined,
      discard: async () => undefined,
      close: async () => undefined,
    };
    const fileKind = { format: () => ({ delimiter: ',', compression, formulaEscaping: 'none' }), open: async () => sink } as unknown as FileExportDefinition<unknown>;
    const store = { ...profiles, countRows: async () => 5_000_000, copiesAtOnce: async () => copiesAtOnce } as unknown as ProfileStore;
    await runFileExport({
      kind: fileKind,
      connection: {},
      ctx: { signal: new AbortController().signal, log } as never,
      profiles: store,
      sources: [{ name: 'customers', source: { kind: 'entity', entity: 'Customer' } as never }],
      startedAt: new Date(),
      tmpDir,
      retry: { ...defaultRetryPolicy, maxAttempts: 1 },
    });
    return most;
  }

  it('renders all five parts at once, gzipped or not (no part renders alone at the end)', async () => {
    expect(await mostPartsAtOnce('none', 5)).toBe(5);
    expect(await mostPartsAtOnce('gzip', 5)).toBe(5);
  });

  it('renders no more parts at once than the profile store\'s streaming memory holds (a wide entity: fewer)', async () => {
    expect(await mostPartsAtOnce('none', 5, 2)).toBe(2);
    expect(await mostPartsAtOnce('gzip', 5, 1)).toBe(1);
  });

  it('renders no more parts at once than the thread pool can spare, keeping two threads for zlib and the stores', async () => {
    // Each COPY holds a pool thread for its whole part; with every thread held, a gzipped part waits on zlib
    // for ever. The pool's size is what UV_THREADPOOL_SIZE said when it started (bin/outflow.cjs sets it).
    const before = process.env.UV_THREADPOOL_SIZE;
    try {
      process.env.UV_THREADPOOL_SIZE = '3';
      expect(await mostPartsAtOnce('gzip', 5)).toBe(1);
      process.env.UV_THREADPOOL_SIZE = '4';
      expect(await mostPartsAtOnce('gzip', 5)).toBe(2);
    } finally {
      if (before === undefined) delete process.env.UV_THREADPOOL_SIZE;
      else process.env.UV_THREADPOOL_SIZE = before;
    }
  });
});
