import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../destinations/sftp/fake-sftp-server.ts';
import type { Actor } from '../domain/model.ts';
import { getConnectionByName } from '../store/metadata/connections.ts';
import * as exportStore from '../store/metadata/exports.ts';
import { createConnection } from './connections.ts';
import { createSegment, refreshSegments } from './data.ts';
import { createExport, runExport, updateExport } from './exports.ts';
import { openHome, type Home } from './home.ts';

const admin: Actor = { name: 'ada', role: 'admin' };
const PASSWORD = 'file-names-password';

let dir: string;
let work: string;
let home: Home;
let server: FakeSftpServer;

beforeAll(async () => {
  dir = tempDir('file-names');
  work = tempDir('file-names-work');
  server = await startFakeSftpServer({ username: 'partner', password: PASSWORD });
  fs.mkdirSync(path.join(server.root, 'out'));
  home = await openHome({ dir, actor: admin });
  fs.writeFileSync(`${work}/c.csv`, 'profile_id,email,country\n1,a@example.com,NL\n2,b@example.com,DE\n3,c@example.com,NL\n');
  await home.profiles.loadEntity('Customer', `${work}/c.csv`, { key: 'profile_id' });
  await createSegment(home, { name: 'a/b', where: "country = 'NL'" });
  await createSegment(home, { name: 'a:b', where: "country = 'DE'" });
  await createSegment(home, { name: 'A_B', where: "country = 'NL'" });
  await createSegment(home, { name: 'de', where: "country = 'DE'" });
  await refreshSegments(home);
  await createConnection(home, {
    type: 'sftp',
    name: 'files',
    config: { host: server.host, port: server.port, username: 'partner', password: PASSWORD, folder: '/out' },
    acceptPrivacyTerms: true,
  });
});

afterAll(async () => {
  await home?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('SFTP file names of one export', () => {
  it('refuses to save two segments whose files would share a name, naming both', async () => {
    await expect(createExport(home, { name: 'clash', connection: 'files', segments: ['a/b', 'a:b'] })).rejects.toThrow(
      /Segments "a\/b" and "a:b" would be written to the same files \(a_b_/,
    );
    // Case does not tell files apart on every SFTP server.
    await expect(createExport(home, { name: 'clash', connection: 'files', segments: ['a/b', 'A_B'] })).rejects.toThrow(/"a\/b" and "A_B"/);
    await createExport(home, { name: 'clash', connection: 'files', segments: ['a/b', 'de'] });
    await expect(updateExport(home, 'clash', { segments: ['a/b', 'de', 'a:b'] })).rejects.toThrow(/"a\/b" and "a:b"/);
    expect((await exportStore.getExport(home.db, 'clash')).sources).toEqual(['a/b', 'de']);
  });

  it('fails a run of such an export saved before the rule, before sending anything', async () => {
    const connection = await getConnectionByName(home.db, home.box, 'files');
    // As an older version saved it: straight into the store, past the check.
    await exportStore.createExport(home.db, { name: 'old-clash', connectionId: connection.id, sourceKind: 'segments', sources: ['a/b', 'a:b'], config: {}, createdBy: 'ada' });
    const run = await runExport(home, 'old-clash');
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('invalid_settings');
    expect(run.error?.message).toMatch(/Segments "a\/b" and "a:b" would be written to the same files/);
    expect(fs.readdirSync(path.join(server.root, 'out'))).toEqual([]);
  });
});
