import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import { createSecretBox } from '../secret-box.ts';
import { createConnection, getConnection, readConnectionSecrets, updateConnection } from './connections.ts';
import type { MetadataStore } from './db.ts';
import { createExport, getExportById, updateExport } from './exports.ts';
import { createSegment, getSegment, recordSegmentRefresh, updateSegment } from './segments.ts';

const box = createSecretBox(randomBytes(32));
const backends = await metadataBackends('outflow_meta_updates');

const consent = { acceptedBy: 'ada', acceptedAt: '2026-11-23T10:00:00.000Z' };

describe.each(backends)('metadata edits on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;

  test('updates a connection: name, settings, secrets, usable-by and state in one go', async () => {
    const created = await createConnection(store.db, box, {
      name: 'edit-me', type: 'sftp', config: { host: 'a.example.com', port: 22 }, secrets: { password: 'old-secret-1' },
      usableBy: 'admins', consent, createdBy: 'ada',
    });
    const updated = await updateConnection(store.db, box, created.id, {
      name: 'edited', config: { host: 'b.example.com', port: 2222 }, secrets: { privateKey: 'KEY-TEXT' }, usableBy: 'admins-and-contributors', state: {},
    });
    expect(updated).toMatchObject({ id: created.id, name: 'edited', config: { host: 'b.example.com', port: 2222 }, secretKeys: ['privateKey'], usableBy: 'admins-and-contributors', state: {}, consent });
    expect(await readConnectionSecrets(store.db, box, created.id)).toEqual({ privateKey: 'KEY-TEXT' });
    const raw = await store.db.selectFrom('connections').select('secrets').where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(raw.secrets).not.toContain('KEY-TEXT');
    // Only what the patch names changes.
    expect(await updateConnection(store.db, box, created.id, { usableBy: 'admins' })).toMatchObject({ name: 'edited', config: { host: 'b.example.com' }, usableBy: 'admins' });
  });

  test('refuses to rename a connection onto another one and leaves both as they were', async () => {
    const a = await createConnection(store.db, box, { name: 'conn-a', type: 'iterable', config: { region: 'us' }, secrets: { apiKey: 'ka' }, usableBy: 'admins', consent, createdBy: 'ada' });
    await createConnection(store.db, box, { name: 'conn-b', type: 'iterable', config: { region: 'eu' }, secrets: { apiKey: 'kb' }, usableBy: 'admins', consent, createdBy: 'ada' });
    await expect(updateConnection(store.db, box, a.id, { name: 'conn-b', config: { region: 'eu' } })).rejects.toThrow(/A connection named "conn-b" already exists/);
    expect(await getConnection(store.db, box, a.id)).toEqual(a);
  });

  test('reports a connection removed meanwhile as not found', async () => {
    await expect(updateConnection(store.db, box, 'conn_gone', { usableBy: 'admins' })).rejects.toThrow(/was removed/);
  });

  test('updates an export, and refuses a rename onto another export', async () => {
    const exp = await createExport(store.db, { name: 'exp-a', connectionId: 'conn_1', sourceKind: 'segments', sources: ['vip'], config: { mapping: { email: 'email' } }, createdBy: 'ada' });
    await createExport(store.db, { name: 'exp-b', connectionId: 'conn_1', sourceKind: 'segments', sources: ['vip'], config: {}, createdBy: 'ada' });
    const updated = await updateExport(store.db, exp.id, { name: 'exp-a2', connectionId: 'conn_2', sourceKind: 'entities', sources: ['Customer'], config: { rowsPerFile: 10 } });
    expect(updated).toMatchObject({ id: exp.id, name: 'exp-a2', connectionId: 'conn_2', sourceKind: 'entities', sources: ['Customer'], config: { rowsPerFile: 10 }, createdBy: 'ada' });
    await expect(updateExport(store.db, exp.id, { name: 'exp-b', sources: ['x'] })).rejects.toThrow(/An export named "exp-b" already exists/);
    expect(await getExportById(store.db, exp.id)).toEqual(updated);
  });

  test('updates a segment definition together with its refresh counts', async () => {
    const segment = await createSegment(store.db, { name: 'seg-edit', entity: 'Customer', filter: 'age > 1', createdBy: 'ada' });
    await recordSegmentRefresh(store.db, segment.id, 10, '2026-11-23T11:00:00.000Z');
    const updated = await updateSegment(store.db, segment.id, { entity: 'Lead', filter: 'age > 2', members: 12_345_678_901, refreshedAt: '2026-11-24T11:00:00.000Z' });
    expect(updated).toMatchObject({ id: segment.id, name: 'seg-edit', entity: 'Lead', filter: 'age > 2', members: 12_345_678_901, refreshedAt: '2026-11-24T11:00:00.000Z' });
    await updateSegment(store.db, segment.id, { filter: 'age > 3', members: null, refreshedAt: null });
    expect(await getSegment(store.db, 'seg-edit')).toMatchObject({ entity: 'Lead', filter: 'age > 3', members: null, refreshedAt: null });
  });
});
