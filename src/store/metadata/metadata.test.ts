import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import { createSecretBox } from '../secret-box.ts';
import { createConnection, getConnectionByName, listConnections, readConnectionSecrets, updateConnectionSecrets, updateConnectionState } from './connections.ts';
import type { MetadataStore } from './db.ts';
import { createExport, getExport, listExports } from './exports.ts';
import { addRunRejections, countRunRejections, createRun, getRun, listRunRejections, listRuns, saveRunProgress, transitionRun } from './runs.ts';
import { createSegment, getSegment, recordSegmentRefresh } from './segments.ts';

const box = createSecretBox(randomBytes(32));
const backends = await metadataBackends('outflow_meta_test');

describe.each(backends)('metadata store on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;

  test('stores a connection with its secrets encrypted and its consent recorded', async () => {
    const created = await createConnection(store.db, box, {
      name: 'Partner SFTP',
      type: 'sftp',
      config: { host: 'sftp.example.com', port: 22 },
      secrets: { password: 'hunter2-very-secret' },
      usableBy: 'admins',
      consent: { acceptedBy: 'ada', acceptedAt: '2026-11-23T10:00:00.000Z' },
      createdBy: 'ada',
    });
    expect(created).toMatchObject({ name: 'Partner SFTP', secretKeys: ['password'], consent: { acceptedBy: 'ada' } });
    const raw = await store.db.selectFrom('connections').select('secrets').where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(raw.secrets).not.toContain('hunter2');
    expect(await readConnectionSecrets(store.db, box, created.id)).toEqual({ password: 'hunter2-very-secret' });

    await updateConnectionSecrets(store.db, box, created.id, { password: 'rotated' });
    await updateConnectionState(store.db, created.id, { hostKeySha256: 'SHA256:abc' });
    expect(await readConnectionSecrets(store.db, box, created.id)).toEqual({ password: 'rotated' });
    expect((await getConnectionByName(store.db, box, 'Partner SFTP')).state).toEqual({ hostKeySha256: 'SHA256:abc' });
  });

  test('refuses a second connection with the same display name', async () => {
    const input = {
      name: 'Twice',
      type: 'iterable' as const,
      config: {},
      secrets: { apiKey: 'k' },
      usableBy: 'admins' as const,
      consent: { acceptedBy: 'ada', acceptedAt: '2026-11-23T10:00:00.000Z' },
      createdBy: 'ada',
    };
    await createConnection(store.db, box, input);
    await expect(createConnection(store.db, box, input)).rejects.toThrow(/already exists/);
    expect((await listConnections(store.db, box)).filter((c) => c.name === 'Twice')).toHaveLength(1);
  });

  test('keeps segments, exports and their JSON config', async () => {
    const segment = await createSegment(store.db, { name: 'vip', entity: 'Customer', filter: "tier = 'gold'", createdBy: 'ada' });
    await recordSegmentRefresh(store.db, segment.id, 12_345_678_901, '2026-11-23T11:00:00.000Z');
    expect(await getSegment(store.db, 'vip')).toMatchObject({ members: 12_345_678_901, refreshedAt: '2026-11-23T11:00:00.000Z' });
    await createExport(store.db, { name: 'vip-daily', connectionId: 'conn_x', sourceKind: 'segments', sources: ['vip'], config: { mapping: { email: 'email' } }, createdBy: 'ada' });
    expect(await getExport(store.db, 'vip-daily')).toMatchObject({ sources: ['vip'], config: { mapping: { email: 'email' } } });
    expect((await listExports(store.db, { connectionId: 'conn_x' })).map((e) => e.name)).toEqual(['vip-daily']);
  });

  test('moves runs only along the state table and keeps rejections in order', async () => {
    const run = await createRun(store.db, { exportId: 'exp_1', exportName: 'vip-daily', connectionId: 'conn_x', trigger: 'manual', startedBy: 'ada' });
    expect(run.status).toBe('queued');
    await expect(transitionRun(store.db, run.id, 'succeeded')).rejects.toThrow(/queued and cannot become succeeded/);
    await transitionRun(store.db, run.id, 'running');
    await saveRunProgress(store.db, run.id, { rowsTotal: 10, rowsDone: 4, sent: 3, rejected: 1, checkpoint: { sourceIndex: 0, phase: 'add', afterKey: '42' } });
    await addRunRejections(store.db, run.id, 0, [
      { source: 'vip', key: '7', code: 'invalid_email', reason: 'The e-mail address is malformed.' },
      { source: 'vip', key: '9', code: 'missing_email', reason: 'The e-mail field is empty.' },
    ]);
    const failed = await transitionRun(store.db, run.id, 'failed', { error: { code: 'connection_lost', message: 'dropped' } });
    expect(failed).toMatchObject({ status: 'failed', rowsDone: 4, sent: 3, checkpoint: { afterKey: '42' }, error: { code: 'connection_lost' } });
    expect(await countRunRejections(store.db, run.id)).toBe(2);
    expect((await listRunRejections(store.db, run.id)).map((r) => r.key)).toEqual(['7', '9']);
    await expect(transitionRun(store.db, run.id, 'running')).rejects.toThrow(/cannot become running/);

    const resumed = await createRun(store.db, { exportId: 'exp_1', exportName: 'vip-daily', connectionId: 'conn_x', trigger: 'resume', startedBy: 'ada', resumedFrom: failed });
    expect(resumed).toMatchObject({ resumedFrom: run.id, checkpoint: { afterKey: '42' } });
    expect((await listRuns(store.db, { exportId: 'exp_1' })).map((r) => r.id)).toEqual([resumed.id, run.id]);
    // The export filter applies before the limit: a newer run of another export does not hide these.
    await createRun(store.db, { exportId: 'exp_2', exportName: 'other', connectionId: 'conn_x', trigger: 'manual', startedBy: 'ada' });
    expect((await listRuns(store.db, { exportName: 'vip-daily', limit: 1 })).map((r) => r.id)).toEqual([resumed.id]);
    expect((await getRun(store.db, run.id)).finishedAt).not.toBeNull();
  });
});
