import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { openMetadataStore } from './db.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-statements-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the SQLite metadata store keeps prepared statements', () => {
  it('answers a query again with its kept statement: new rows, new parameters, after a stream of the same SQL', async () => {
    const store = await openMetadataStore({ sqlitePath: path.join(dir, 'metadata.sqlite') });
    try {
      const db = store.db as unknown as Kysely<{ names: { name: string } }>;
      await sql`CREATE TABLE names (name TEXT NOT NULL)`.execute(db);
      await db.insertInto('names').values([{ name: 'ann' }, { name: 'bob' }, { name: 'cat' }]).execute();
      const users = () => db.selectFrom('names').select('name').orderBy('name');
      // Kysely holds SQLite's one connection for a stream, so a query never overlaps a stream of its own SQL;
      // a stream left early (its statement reset) and a later query of the same SQL share the kept statement.
      for await (const row of users().stream()) {
        expect(row.name).toBe('ann');
        break;
      }
      expect((await users().execute()).map((r) => r.name)).toEqual(['ann', 'bob', 'cat']);
      const seen: string[] = [];
      for await (const row of users().stream()) seen.push(row.name);
      expect(seen).toEqual(['ann', 'bob', 'cat']);
      await db.insertInto('names').values({ name: 'dan' }).execute();
      expect((await users().execute()).map((r) => r.name)).toEqual(['ann', 'bob', 'cat', 'dan']);
      // And the kept statement answers with new parameters and new rows.
      expect(await db.selectFrom('names').select('name').where('name', '=', 'bob').execute()).toEqual([{ name: 'bob' }]);
      expect(await db.selectFrom('names').select('name').where('name', '=', 'cat').execute()).toEqual([{ name: 'cat' }]);
    } finally {
      await store.close();
    }
  });
});
