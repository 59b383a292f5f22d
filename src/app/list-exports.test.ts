import fs from 'node:fs';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import type { Actor } from '../domain/model.ts';
import { createConnection, removeConnection } from './connections.ts';
import { createExport, listExports } from './exports.ts';
import { openHome, type Home } from './home.ts';

const admin: Actor = { name: 'ada', role: 'admin' };
const EXPORTS = 30;

let dir: string;
let work: string;
let home: Home;

beforeAll(async () => {
  dir = tempDir('list-exports');
  work = tempDir('list-exports-work');
  home = await openHome({ dir, actor: admin });
  fs.writeFileSync(`${work}/c.csv`, 'profile_id,email\n1,a@example.com\n');
  await home.profiles.loadEntity('Customer', `${work}/c.csv`, { key: 'profile_id' });
  // Nothing here connects: saving an SFTP connection does not verify it.
  for (const name of ['files-a', 'files-b', 'gone']) {
    await createConnection(home, { type: 'sftp', name, config: { host: 'sftp.example.com', username: 'u', password: `pw-${name}`, folder: '/out' }, acceptPrivacyTerms: true });
  }
  for (let i = 0; i < EXPORTS; i++) {
    await createExport(home, { name: `e${String(i).padStart(2, '0')}`, connection: i === 0 ? 'gone' : i % 2 ? 'files-a' : 'files-b', entities: ['Customer'] });
  }
  await removeConnection(home, 'gone', { force: true });
});

afterAll(async () => {
  await home?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('listExports', () => {
  // GET /api/exports serves this on every request: it read each export's connection with its own query and
  // decrypted that connection's secrets, only to print its name and type (101 queries for 100 exports).
  it('labels every export with its connection in a fixed number of queries, without opening any secrets', async () => {
    let queries = 0;
    const counter: KyselyPlugin = {
      transformQuery: (args) => {
        queries++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const open = vi.spyOn(home.box, 'open');
    const views = await listExports({ ...home, db: home.db.withPlugin(counter) });
    open.mockRestore();

    expect(views).toHaveLength(EXPORTS);
    expect(views[0]).toMatchObject({ name: 'e00', connection: '(removed)', type: 'unknown', entities: ['Customer'] });
    expect(views[1]).toMatchObject({ name: 'e01', connection: 'files-a', type: 'sftp' });
    expect(views[2]).toMatchObject({ name: 'e02', connection: 'files-b', type: 'sftp' });
    expect(queries).toBeLessThanOrEqual(2);
    expect(open).not.toHaveBeenCalled();
  });
});
