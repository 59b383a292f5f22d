import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataBackends } from '../../../test/support/postgres.ts';
import { createSecretBox } from '../secret-box.ts';
import { createConnection, getConnection, removeConnection, updateConnection, updateConnectionSecrets, updateConnectionState } from './connections.ts';
import type { MetadataStore } from './db.ts';
import { createExport, getExportById, removeExport, updateExport } from './exports.ts';
import { createSegment, getSegmentById, recordSegmentRefresh, removeSegment, updateSegment } from './segments.ts';
import { createUser, getUserById, removeUser, updateUserRole } from './users.ts';
import { VersionMismatch } from './versions.ts';

// The compare-and-set under optimistic concurrency (src/app/versions.ts): an edit written "at version n" changes
// the row only if it is still at n, in the same statement, on both metadata stores.

const box = createSecretBox(randomBytes(32));
const backends = await metadataBackends('outflow_meta_versions');
const consent = { acceptedBy: 'ada', acceptedAt: '2026-12-01T10:00:00.000Z' };

describe.each(backends)('edit versions on %s', (_name, open, available) => {
  let store: MetadataStore;
  beforeAll(async () => {
    if (available) store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });
  const test = available ? it : it.skip;

  test('every edit of an export advances its version; a write at an older version changes nothing', async () => {
    const exp = await createExport(store.db, { name: 'v-exp', connectionId: 'conn_1', sourceKind: 'segments', sources: ['vip'], config: { syncMode: 'full' }, createdBy: 'ada' });
    expect(exp.version).toBe(1);
    const second = await updateExport(store.db, exp.id, { config: { syncMode: 'upsert' } }, 1);
    expect(second.version).toBe(2);
    // Someone who read version 1 saves after that: refused, with the version that is current.
    const stale = await updateExport(store.db, exp.id, { config: { syncMode: 'mirror' } }, 1).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(VersionMismatch);
    expect((stale as VersionMismatch).current).toBe(2);
    expect(await getExportById(store.db, exp.id)).toEqual(second);
    // Without an expected version (system writes, older callers) it still applies, and still advances.
    expect((await updateExport(store.db, exp.id, { sources: ['vip', 'new'] })).version).toBe(3);

    await expect(removeExport(store.db, exp.id, 2)).rejects.toBeInstanceOf(VersionMismatch);
    expect((await getExportById(store.db, exp.id)).version).toBe(3);
    await removeExport(store.db, exp.id, 3);
    await expect(getExportById(store.db, exp.id)).rejects.toThrow(/was removed/);
    // Removed meanwhile is "not found", not a version mismatch.
    await expect(updateExport(store.db, exp.id, { sources: ['x'] }, 3)).rejects.toThrow(/was removed/);
  });

  test('of two edits made from the same version, exactly one is saved', async () => {
    const exp = await createExport(store.db, { name: 'v-race', connectionId: 'conn_1', sourceKind: 'segments', sources: ['vip'], config: {}, createdBy: 'ada' });
    // Sent together: on PostgreSQL on two pooled connections, the second waits for the first's row lock and then
    // re-checks `version = 1` against the committed row (no lost update); SQLite takes one writer at a time.
    const outcomes = await Promise.allSettled([
      updateExport(store.db, exp.id, { config: { from: 'a' } }, 1),
      updateExport(store.db, exp.id, { config: { from: 'b' } }, 1),
      updateExport(store.db, exp.id, { config: { from: 'c' } }, 1),
    ]);
    const saved = outcomes.filter((o) => o.status === 'fulfilled');
    expect(saved).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(VersionMismatch);
    const now = await getExportById(store.db, exp.id);
    expect(now.version).toBe(2);
    expect(now.config).toEqual((saved[0] as PromiseFulfilledResult<{ config: unknown }>).value.config);
  });

  test('connections: edits advance the version; verification state and refreshed tokens do not', async () => {
    const conn = await createConnection(store.db, box, { name: 'v-conn', type: 'iterable', config: { region: 'us' }, secrets: { apiKey: 'k1' }, usableBy: 'admins', consent, createdBy: 'ada' });
    expect(conn.version).toBe(1);
    await updateConnectionState(store.db, conn.id, { lastVerification: { ok: true } });
    await updateConnectionSecrets(store.db, box, conn.id, { apiKey: 'k2' });
    expect((await getConnection(store.db, box, conn.id)).version).toBe(1);
    const edited = await updateConnection(store.db, box, conn.id, { usableBy: 'admins-and-contributors' }, 1);
    expect(edited.version).toBe(2);
    await expect(updateConnection(store.db, box, conn.id, { usableBy: 'admins' }, 1)).rejects.toBeInstanceOf(VersionMismatch);
    expect((await getConnection(store.db, box, conn.id)).usableBy).toBe('admins-and-contributors');
    await expect(removeConnection(store.db, conn.id, 1)).rejects.toBeInstanceOf(VersionMismatch);
    await removeConnection(store.db, conn.id, 2);
    await expect(getConnection(store.db, box, conn.id)).rejects.toThrow(/no longer exists/);
  });

  test('segments: a definition change advances the version; a refresh does not', async () => {
    const seg = await createSegment(store.db, { name: 'v-seg', entity: 'Customer', filter: "country = 'NL'", createdBy: 'ada' });
    expect(seg.version).toBe(1);
    await recordSegmentRefresh(store.db, seg.id, 42, '2026-12-01T11:00:00.000Z');
    expect((await getSegmentById(store.db, seg.id)).version).toBe(1);
    expect((await updateSegment(store.db, seg.id, { filter: "country = 'DE'" }, 1)).version).toBe(2);
    await expect(updateSegment(store.db, seg.id, { filter: "country = 'FR'" }, 1)).rejects.toBeInstanceOf(VersionMismatch);
    expect((await getSegmentById(store.db, seg.id)).filter).toBe("country = 'DE'");
    await expect(removeSegment(store.db, seg.id, 1)).rejects.toBeInstanceOf(VersionMismatch);
    await removeSegment(store.db, seg.id, 2);
    await expect(getSegmentById(store.db, seg.id)).rejects.toThrow(/was removed/);
  });

  test('users: a role change advances the version, and is refused at an older one', async () => {
    const user = await createUser(store.db, { name: 'v-user', role: 'viewer', passwordHash: 'x', mustChangePassword: true, createdBy: 'ada' });
    expect(user.version).toBe(1);
    expect((await updateUserRole(store.db, user.id, 'contributor', undefined, 1)).version).toBe(2);
    await expect(updateUserRole(store.db, user.id, 'admin', undefined, 1)).rejects.toBeInstanceOf(VersionMismatch);
    expect((await getUserById(store.db, user.id)).role).toBe('contributor');
    await expect(removeUser(store.db, user.id, 1)).rejects.toBeInstanceOf(VersionMismatch);
    await removeUser(store.db, user.id, 2);
    await expect(getUserById(store.db, user.id)).rejects.toThrow(/no longer exists/);
  });
});
