import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { idleProfileStore } from './lazy.ts';
import { openProfileStore } from './profile-store.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-idle-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('idleProfileStore (the runner process of outflow serve)', () => {
  it('opens the DuckDB file on use, closes it once idle (another process may then open it), and opens it again', async () => {
    const file = path.join(dir, 'profiles.duckdb');
    const csv = path.join(dir, 'people.csv');
    fs.writeFileSync(csv, 'profile_id,email\n1,a@example.com\n2,b@example.com\n');
    let opened = 0;
    let running = false;
    const store = idleProfileStore(
      async () => {
        opened++;
        return openProfileStore(file, { lockWaitMs: 1000 });
      },
      { idleMs: 0, keep: () => running },
    );
    try {
      expect(await store.closeIdle()).toBe(false); // nothing open yet
      await store.loadEntity('Customer', csv, { key: 'profile_id' });
      expect(opened).toBe(1);
      // While a run executes (keep), it stays open.
      running = true;
      expect(await store.closeIdle()).toBe(false);
      running = false;
      // So does a call in progress.
      const counting = store.countRows({ kind: 'entity', entity: 'Customer' });
      expect(await store.closeIdle()).toBe(false);
      expect(await counting).toBe(2);
      // Idle: closed, and the file is free for another store (here one more in this process, as another
      // process would: DuckDB's lock is gone).
      expect(await store.closeIdle()).toBe(true);
      const other = await openProfileStore(file, { lockWaitMs: 1000 });
      expect((await other.getEntity('Customer')).rows).toBe(2);
      await other.close();
      // The next call opens it again.
      expect((await store.getEntity('Customer')).rows).toBe(2);
      expect(opened).toBe(2);
    } finally {
      await store.close();
    }
  });
});
