import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHome } from '../../app/home.ts';
import { ConfigError, OutflowError } from '../../domain/errors.ts';
import { DEFAULT_DUCKDB_MEMORY, duckDbMemoryFromEnv, duckDbSettings, parseSize, translateEngineError } from './duckdb-memory.ts';
import { openProfileStore, type ProfileStore } from './profile-store.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-duckdb-memory-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DuckDB memory settings', () => {
  it('defaults to a budget that fits a 1 GB machine and spills into the given folder', () => {
    const memory = duckDbMemoryFromEnv({}, path.join(dir, 'tmp', 'duckdb'));
    expect(memory).toEqual({ memoryLimit: '192MB', streamingMemoryLimit: '48MB', tempDirectory: path.join(dir, 'tmp', 'duckdb'), maxTempSize: null });
    expect(parseSize(memory.memoryLimit)! + parseSize(memory.streamingMemoryLimit)!).toBeLessThan(0.5e9);
  });

  it('opens DuckDB with the limit, the spill folder and an allocator that gives freed memory back', async () => {
    const memory = duckDbMemoryFromEnv({ OUTFLOW_DUCKDB_TEMP_MAX: '2GB' }, path.join(dir, 'spill'));
    // DuckDB refuses an unknown setting, so this also proves every name is one it knows.
    const instance = await DuckDBInstance.create(':memory:', duckDbSettings(memory));
    const con = await instance.connect();
    try {
      const names = ['memory_limit', 'temp_directory', 'max_temp_directory_size', 'allocator_flush_threshold', 'allocator_background_threads'];
      const row = (await con.runAndReadAll(`SELECT ${names.map((n) => `current_setting('${n}')::VARCHAR`).join(', ')}`)).getRows()[0]!.map(String);
      expect(row).toEqual([expect.stringMatching(/^18[0-9]\.\d+ MiB$/), path.join(dir, 'spill'), expect.stringMatching(/^1\.8 GiB$/), '16.0 MiB', 'true']);
    } finally {
      con.closeSync();
      instance.closeSync();
    }
  });

  it('takes sizes from the environment and refuses what DuckDB could not use, naming the setting', () => {
    const memory = duckDbMemoryFromEnv({ OUTFLOW_DUCKDB_MEMORY: '2GB', OUTFLOW_DUCKDB_STREAMING_MEMORY: ' 96 MiB ', OUTFLOW_DUCKDB_TEMP_MAX: '20GiB' }, null);
    expect(memory).toEqual({ memoryLimit: '2GB', streamingMemoryLimit: '96MiB', tempDirectory: null, maxTempSize: '20GiB' });
    expect(() => duckDbMemoryFromEnv({ OUTFLOW_DUCKDB_MEMORY: 'lots' }, null)).toThrow('OUTFLOW_DUCKDB_MEMORY must be a size such as 512MB or 2GB, not "lots".');
    expect(() => duckDbMemoryFromEnv({ OUTFLOW_DUCKDB_MEMORY: '512' }, null)).toThrow(ConfigError);
    expect(() => duckDbMemoryFromEnv({ OUTFLOW_DUCKDB_STREAMING_MEMORY: '8MB' }, null)).toThrow(/OUTFLOW_DUCKDB_STREAMING_MEMORY is 8MB, below the 24MB DuckDB needs to sort/);
  });

  it('fails opening a home with a malformed setting before any store opens', async () => {
    await expect(openHome({ dir: path.join(dir, 'home'), env: { OUTFLOW_DUCKDB_MEMORY: '1 gigabyte', OUTFLOW_DATABASE_URL: '' } })).rejects.toThrow(
      /OUTFLOW_DUCKDB_MEMORY must be a size/,
    );
    expect(fs.existsSync(path.join(dir, 'home', 'metadata.sqlite'))).toBe(false);
  });

  it('turns DuckDB out-of-memory and full-disk errors into messages that name what to change', () => {
    const memory = { ...DEFAULT_DUCKDB_MEMORY, tempDirectory: '/home/x/tmp/duckdb' };
    const oom = new Error('Out of Memory Error: failed to pin block of size 256.0 KiB (45.6 MiB/45.7 MiB used)');
    const streaming = translateEngineError(oom, memory, true) as OutflowError;
    expect(streaming).toBeInstanceOf(ConfigError);
    expect(streaming.message).toMatch(/ran out of memory while a file run streamed.*48MB \(OUTFLOW_DUCKDB_STREAMING_MEMORY\).*\/home\/x\/tmp\/duckdb.*OUTFLOW_DUCKDB_STREAMING_MEMORY=96MB/);
    expect(streaming.message).not.toMatch(/pin block|SET memory_limit/);
    expect((translateEngineError(oom, memory, false) as OutflowError).message).toMatch(/192MB \(OUTFLOW_DUCKDB_MEMORY\).*OUTFLOW_DUCKDB_MEMORY=384MB/);
    const temp = translateEngineError(new Error("Out of Memory Error: failed to offload data block of size 64.0 KiB. This limit was set by the 'max_temp_directory_size' setting."), memory, false) as OutflowError;
    expect(temp.code).toBe('disk_full');
    expect(temp.message).toMatch(/OUTFLOW_DUCKDB_TEMP_MAX/);
    expect((translateEngineError(new Error('IO Error: Could not write file "x": No space left on device'), memory, false) as OutflowError).code).toBe('disk_full');
    const appender = translateEngineError(new Error('Failed to append: Failed to commit: could not allocate block of size 256.0 KiB (22.7 MiB/22.8 MiB used)'), memory, true);
    expect((appender as Error).message).toMatch(/Raise OUTFLOW_DUCKDB_STREAMING_MEMORY/);
    const other = new Error('Binder Error: no such column');
    expect(translateEngineError(other, memory, false)).toBe(other);
  });
});

describe('the DuckDB store under a memory limit', () => {
  let store: ProfileStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function loaded(memory: Partial<typeof DEFAULT_DUCKDB_MEMORY>, rows: number): Promise<ProfileStore> {
    const tempDirectory = path.join(dir, 'spill');
    store = await openProfileStore(path.join(dir, 'profiles.duckdb'), { memory: { ...DEFAULT_DUCKDB_MEMORY, tempDirectory, ...memory } });
    const file = path.join(dir, 'customers.csv');
    fs.writeFileSync(file, `profile_id,email,city\n${Array.from({ length: rows }, (_, i) => `${i + 1},person${i + 1}@example.com,City ${i % 1000}`).join('\n')}\n`);
    await store.loadEntity('Customer', file, { key: 'profile_id' });
    await store.refreshSegment('seg_1', 'Customer', { sql: 'true', params: [] });
    return store;
  }

  it('spills a sort larger than the streaming cap into the temp folder instead of failing', async () => {
    const s = await loaded({ streamingMemoryLimit: '24MB' }, 300_000);
    await s.useStreamingResources();
    let rows = 0;
    let last = 0;
    let spilled = 0;
    for await (const chunk of s.readMembers({ kind: 'segment', segmentId: 'seg_1', segment: 's', entity: 'Customer' }, ['email', 'city'], null, 10_000)) {
      // While the sorted result streams, what did not fit sits in the temp folder.
      if (rows === 0) spilled = fs.readdirSync(path.join(dir, 'spill')).length;
      for (const row of chunk) {
        expect(Number(row.__key)).toBeGreaterThan(last);
        last = Number(row.__key);
      }
      rows += chunk.length;
    }
    expect(rows).toBe(300_000);
    expect(spilled).toBeGreaterThan(0);
  });

  it('reports a streaming read that does not fit by the setting to raise, never as a raw engine error', async () => {
    const s = await loaded({ streamingMemoryLimit: '8MB' }, 100_000);
    await s.useStreamingResources();
    const read = async () => {
      for await (const _ of s.readMembers({ kind: 'segment', segmentId: 'seg_1', segment: 's', entity: 'Customer' }, ['email', 'city'], null)) {
        // drain
      }
    };
    const error = await read().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^The profile store ran out of memory while a file run streamed .*Raise OUTFLOW_DUCKDB_STREAMING_MEMORY \(for example OUTFLOW_DUCKDB_STREAMING_MEMORY=16MB\)/);
  });

  it('starts streaming from a checkpointed database, so what set-based work wrote does not sit in the small cap', async () => {
    const s = await loaded({}, 20_000);
    const spec = { columns: ['email'], salt: 'm', hashColumns: ['email'], identityColumns: ['email'] };
    await s.sync.createSnapshot('_snap_a_0', { kind: 'segment', segmentId: 'seg_1', segment: 's', entity: 'Customer' }, spec);
    await s.sync.appendJournal('_journal_a_0', Array.from({ length: 20_000 }, (_, i) => ({ key: String(i + 1), op: 'delivered' as const, identity: `e${i}`, hash: '1', idhash: '2' })));
    await s.sync.commit([{ journal: '_journal_a_0', state: '_delivered_a_t_x', statePrefix: '_delivered_a', target: 'x' }]);
    const wal = () => (fs.existsSync(path.join(dir, 'profiles.duckdb.wal')) ? fs.statSync(path.join(dir, 'profiles.duckdb.wal')).size : 0);
    // Below DuckDB's automatic checkpoint threshold (16 MB of WAL), the commit's rows are still only in memory and the WAL.
    expect(wal()).toBeGreaterThan(0);
    await s.useStreamingResources();
    expect(wal()).toBe(0);
  });

  it('reports a load that does not fit by OUTFLOW_DUCKDB_MEMORY, not as a bad file, and keeps the previous data', async () => {
    const s = await loaded({}, 1000);
    await s.close();
    store = await openProfileStore(path.join(dir, 'profiles.duckdb'), { memory: { ...DEFAULT_DUCKDB_MEMORY, memoryLimit: '4MB', tempDirectory: path.join(dir, 'spill') } });
    const file = path.join(dir, 'big.csv');
    fs.writeFileSync(file, `profile_id,email,city\n${Array.from({ length: 300_000 }, (_, i) => `${i + 1},person${i + 1}@example.com,City ${i}`).join('\n')}\n`);
    const error = await store.loadEntity('Customer', file, { key: 'profile_id' }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/ran out of memory for a load.*\(OUTFLOW_DUCKDB_MEMORY\)/);
    expect((await store.getEntity('Customer')).rows).toBe(1000);
  });
});
