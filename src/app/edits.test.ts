import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import type { Actor } from '../domain/model.ts';
import { getConnectionByName, readConnectionSecrets, updateConnectionState } from '../store/metadata/connections.ts';
import { listAudit } from '../store/metadata/audit.ts';
import * as exportStore from '../store/metadata/exports.ts';
import { getExport } from '../store/metadata/exports.ts';
import { getSegment, recordSegmentRefresh } from '../store/metadata/segments.ts';
import { createConnection, removeConnection, updateConnection } from './connections.ts';
import { createSegment, removeSegment, updateSegment } from './data.ts';
import { createExport, removeExport, updateExport } from './exports.ts';
import { openHome, type Home } from './home.ts';

const admin: Actor = { name: 'ada', role: 'admin' };
const viewer: Actor = { name: 'vic', role: 'viewer' };
const contributor: Actor = { name: 'carol', role: 'contributor' };

let dir: string;
let work: string;
let home: Home;

/** Nothing here reaches a destination: connections point at a closed port, and every check refuses first. */
const UNREACHABLE = 'http://127.0.0.1:9';

beforeAll(async () => {
  dir = tempDir('edits-unit');
  work = tempDir('edits-unit-work');
  home = await openHome({ dir, actor: admin });
  fs.writeFileSync(`${work}/c.csv`, 'profile_id,email,country\n1,a@example.com,NL\n2,b@example.com,DE\n3,c@example.com,NL\n');
  await home.profiles.loadEntity('Customer', `${work}/c.csv`, { key: 'profile_id' });
  await createSegment(home, { name: 'nl', where: "country = 'NL'" });
  await createConnection(home, { type: 'sftp', name: 'files', config: { host: 'sftp.example.com', username: 'u', password: 'pw-1', folder: '/out' }, acceptPrivacyTerms: true });
  await createConnection(home, {
    type: 'microsoft-advertising',
    name: 'ms',
    config: { clientId: 'c', refreshToken: 'r', developerToken: 'd', baseUrl: UNREACHABLE, authorityUrl: UNREACHABLE },
    acceptPrivacyTerms: true,
  });
});

afterAll(async () => {
  await home?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function as<T>(actor: Actor, fn: () => Promise<T>): Promise<T> {
  const previous = home.actor;
  home.actor = actor;
  return fn().finally(() => {
    home.actor = previous;
  });
}

describe('updateConnection', () => {
  it('records in the audit log only the settings whose value changed, never a value', async () => {
    await updateConnection(home, 'files', { config: { host: 'sftp.example.com', folder: '/audited', password: 'pw-1' } });
    const [entry] = await listAudit(home.db, { action: 'connection.update', limit: 1 });
    expect(entry?.details).toEqual({ changed: ['folder'] });
    expect(JSON.stringify(entry)).not.toContain('pw-1');
  });

  it('replaces only the secrets given and forgets verification and host key when the SFTP identity changes', async () => {
    const connection = await getConnectionByName(home.db, home.box, 'files');
    await updateConnectionState(home.db, connection.id, { hostKeySha256: 'SHA256:recorded', lastVerification: { ok: true }, other: 1 });
    const view = await updateConnection(home, 'files', { config: { privateKey: 'KEY', folder: '/in' } });
    expect(await readConnectionSecrets(home.db, home.box, connection.id)).toEqual({ password: 'pw-1', privateKey: 'KEY' });
    expect(view.config).toMatchObject({ password: 'set', privateKey: 'set', folder: '/in' });
    expect((await getConnectionByName(home.db, home.box, 'files')).state).toEqual({ other: 1 });
  });

  it('keeps the recorded host key for a change that is not about the server (the folder) but still clears verification', async () => {
    const connection = await getConnectionByName(home.db, home.box, 'files');
    await updateConnectionState(home.db, connection.id, { hostKeySha256: 'SHA256:recorded', lastVerification: { ok: true } });
    await updateConnection(home, 'files', { config: { folder: '/elsewhere' } });
    expect((await getConnectionByName(home.db, home.box, 'files')).state).toEqual({ hostKeySha256: 'SHA256:recorded', other: 1 });
  });

  it('refuses viewers and contributors, and an unknown key, changing nothing', async () => {
    const before = await getConnectionByName(home.db, home.box, 'files');
    await expect(as(viewer, () => updateConnection(home, 'files', { usableBy: 'admins-and-contributors' }))).rejects.toThrow('Only administrators may edit connections. Ask an administrator.');
    await expect(as(contributor, () => updateConnection(home, 'files', { name: 'x' }))).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(updateConnection(home, 'files', { config: { hots: 'x' } })).rejects.toThrow('The SFTP connection config is invalid: unknown key "hots", did you mean "host"?');
    await expect(updateConnection(home, 'files', { config: ['host'] })).rejects.toThrow('The connection config must be a JSON object.');
    expect(await getConnectionByName(home.db, home.box, 'files')).toEqual(before);
  });
});

describe('updateExport', () => {
  it("refuses at save time a segment above the destination's per-export limit, with the run's message", async () => {
    const segment = await getSegment(home.db, 'nl');
    await recordSegmentRefresh(home.db, segment.id, 600_000, home.now().toISOString());
    try {
      await expect(createExport(home, { name: 'big', connection: 'ms', segments: ['nl'], config: { mapping: { email: 'email' }, customerId: '1', accountId: '2' } })).rejects.toThrow(
        `Export "big" is over Microsoft Advertising (Customer Match)'s limit of 500,000 profiles per export: segment "nl" has 600,000 (600,000 in all). Narrow the segment or split it across several exports; nothing was sent.`,
      );
    } finally {
      await recordSegmentRefresh(home.db, segment.id, 2, home.now().toISOString());
    }
  });

  it('keeps only the mapping and sync mode when the export moves to another destination type', async () => {
    await createExport(home, { name: 'to-files', connection: 'files', segments: ['nl'], config: { rowsPerFile: 5 } });
    // Moving to Microsoft reaches its validate hook, which cannot connect; the config it was given is what matters.
    const error = await updateExport(home, 'to-files', { connection: 'ms', config: { mapping: { email: 'email' }, customerId: '1', accountId: '2' } }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toMatch(/rowsPerFile/);
    expect(error).not.toMatchObject({ code: 'invalid_input' });
    const unchanged = await getExport(home.db, 'to-files');
    expect(unchanged.config).toEqual({ rowsPerFile: 5, mapping: {}, syncMode: 'full' });
  });

  it('moves an export whose connection was removed to another destination type, keeping only the mapping and sync mode', async () => {
    await createConnection(home, { type: 'campaign-monitor', name: 'cm', config: { apiKey: 'k', baseUrl: UNREACHABLE }, acceptPrivacyTerms: true });
    await createConnection(home, { type: 'iterable', name: 'it', config: { apiKey: 'k', baseUrl: UNREACHABLE }, acceptPrivacyTerms: true });
    const cm = await getConnectionByName(home.db, home.box, 'cm');
    // Saved as Campaign Monitor's validate hook would have let it through (it reads the list's fields).
    await exportStore.createExport(home.db, {
      name: 'former-cm',
      connectionId: cm.id,
      sourceKind: 'segments',
      sources: ['nl'],
      config: { listId: 'L1', resubscribe: true, mapping: { email: 'email' }, syncMode: 'upsert' },
      createdBy: 'ada',
    });
    await removeConnection(home, 'cm', { force: true });
    const moved = await updateExport(home, 'former-cm', { connection: 'it' });
    expect(moved).toMatchObject({ connection: 'it', type: 'iterable', config: { mapping: { email: 'email' }, syncMode: 'upsert' } });
    expect(moved.config).not.toHaveProperty('listId');
    expect(moved.warnings).toContain('Moving to Iterable left out what only the previous destination used: listId, resubscribe.');

    // Repaired onto the same type again, the export keeps the settings that type knows.
    await createConnection(home, { type: 'iterable', name: 'it2', config: { apiKey: 'k', baseUrl: UNREACHABLE }, acceptPrivacyTerms: true });
    await updateExport(home, 'former-cm', { config: { updateExistingUsersOnly: true } });
    await removeConnection(home, 'it', { force: true });
    expect((await updateExport(home, 'former-cm', { connection: 'it2' })).config).toEqual({ mapping: { email: 'email' }, syncMode: 'upsert', updateExistingUsersOnly: true });
    await removeExport(home, 'former-cm');
  });

  it('leaves the repair of an export whose connection was removed to administrators', async () => {
    await createConnection(home, { type: 'sftp', name: 'gone', config: { host: 'h', username: 'u', password: 'p', folder: '/x' }, acceptPrivacyTerms: true, usableBy: 'admins-and-contributors' });
    await createConnection(home, { type: 'sftp', name: 'open', config: { host: 'h', username: 'u', password: 'p', folder: '/x' }, acceptPrivacyTerms: true, usableBy: 'admins-and-contributors' });
    await createExport(home, { name: 'orphan', connection: 'gone', entities: ['Customer'] });
    await removeConnection(home, 'gone', { force: true });
    const before = await getExport(home.db, 'orphan');
    await expect(as(contributor, () => updateExport(home, 'orphan', { connection: 'open' }))).rejects.toThrow(
      'Only administrators may repair an export whose connection was removed. Ask an administrator.',
    );
    expect(await getExport(home.db, 'orphan')).toEqual(before);
    expect(await updateExport(home, 'orphan', { connection: 'open' })).toMatchObject({ connection: 'open', entities: ['Customer'] });
  });

  it('refuses viewers', async () => {
    await expect(as(viewer, () => updateExport(home, 'to-files', { segments: ['nl'] }))).rejects.toThrow('Viewers may not run or change exports: contributors and administrators may. Ask an administrator for the contributor role.');
    await expect(as(viewer, () => createExport(home, { name: 'v', connection: 'files', segments: ['nl'] }))).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(as(viewer, () => removeExport(home, 'to-files'))).rejects.toThrow('Viewers may not run or change exports: contributors and administrators may. Ask an administrator for the contributor role.');
    expect((await getExport(home.db, 'to-files')).name).toBe('to-files');
  });
});

describe('updateSegment and removeSegment', () => {
  it('refreshes the membership under the new filter and records its count', async () => {
    const updated = await updateSegment(home, 'nl', { where: "country = 'DE'" });
    expect(updated).toMatchObject({ name: 'nl', filter: "country = 'DE'", members: 1, refreshedAt: expect.any(String) });
    expect(await home.profiles.countRows({ kind: 'segment', segmentId: updated.id, segment: 'nl', entity: 'Customer' })).toBe(1);
    await updateSegment(home, 'nl', { where: "country = 'NL'" });
  });

  it('refuses viewers, and contributors on a segment of somebody else\'s export, changing nothing', async () => {
    const before = await getSegment(home.db, 'nl');
    await expect(as(viewer, () => updateSegment(home, 'nl', { where: 'true' }))).rejects.toThrow('Viewers may not change segments: contributors and administrators may. Ask an administrator for the contributor role.');
    await expect(as(contributor, () => updateSegment(home, 'nl', { where: 'true' }))).rejects.toThrow(/^Segment "nl" is used by export "to-files" of ada, so only an administrator may change it\./);
    await expect(as(contributor, () => removeSegment(home, 'nl'))).rejects.toThrow(/so only an administrator may remove it/);
    expect(await getSegment(home.db, 'nl')).toEqual(before);
    // An unused segment is anyone's (but a viewer's) to change.
    await createSegment(home, { name: 'free', where: "country = 'DE'" });
    expect(await as(contributor, () => updateSegment(home, 'free', { where: "country = 'NL'" }))).toMatchObject({ members: 2 });
    await as(contributor, () => removeSegment(home, 'free'));
    await expect(getSegment(home.db, 'free')).rejects.toMatchObject({ code: 'not_found' });
  });
});
