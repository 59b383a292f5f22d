import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { homeMetadataBackends } from '../../test/support/postgres.ts';
import { StaleEditError } from '../domain/errors.ts';
import * as exportStore from '../store/metadata/exports.ts';
import * as segmentStore from '../store/metadata/segments.ts';
import { createConnection, removeConnection, showConnection as showAnyConnection, updateConnection, type ConnectionView } from './connections.ts';
import { createSegment, listSegmentViews, removeSegment, updateSegment } from './data.ts';
import { createExport, removeExport, showExport, updateExport } from './exports.ts';
import { openHome, type Home } from './home.ts';
import { createUser, listUsers, removeUser, setRole } from './users.ts';

// Optimistic concurrency in the use cases, which the CLI, the API and the web app share: an edit made from an
// older version (If-Match) is refused and saves nothing; an edit saved by someone else between an edit's read
// and its write is never overwritten, with or without If-Match. On both metadata stores.

const backends = await homeMetadataBackends('outflow_app_versions');

/** An administrator's view of a connection (these tests act as one). */
const showConnection = async (home: Home, name: string) => (await showAnyConnection(home, name)) as ConnectionView;

/** What a refused edit threw. */
async function refusal(promise: Promise<unknown>): Promise<StaleEditError> {
  const error = await promise.then(
    () => new Error('the edit was saved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StaleEditError);
  return error as StaleEditError;
}

describe.each(backends)('edits at a version, on %s', (_name, env, available) => {
  let dir: string;
  let home: Home;
  const test = available ? it : it.skip;

  beforeAll(async () => {
    if (!available) return;
    dir = tempDir('versions-unit');
    home = await openHome({ dir: path.join(dir, 'home'), actor: { name: 'ada', role: 'admin' }, env: { ...process.env, OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '', ...env } });
    expect(home.metadata.dialect).toBe(_name === 'PostgreSQL' ? 'postgres' : 'sqlite');
    fs.writeFileSync(path.join(dir, 'c.csv'), 'profile_id,email,country\n1,a@example.com,NL\n2,b@example.com,DE\n');
    await home.profiles.loadEntity('Customer', path.join(dir, 'c.csv'), { key: 'profile_id' });
    await createConnection(home, { type: 'sftp', name: 'files', config: { host: 'sftp.example.com', username: 'u', password: 'pw-1', folder: '/out' }, acceptPrivacyTerms: true });
    await createSegment(home, { name: 'nl', where: "country = 'NL'" });
    await createExport(home, { name: 'daily', connection: 'files', entities: ['Customer'] });
  });
  afterAll(async () => {
    await home?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an export edit from an older version is refused with the current ETag; from the current one it is saved', async () => {
    const read = await showExport(home, 'daily');
    expect(read.etag).toMatch(/^"exp_\w+\.\d+"$/);
    // Someone else saves first.
    const theirs = await updateExport(home, 'daily', { config: { rowsPerFile: 100 } }, { ifMatch: [read.etag] });
    expect(theirs.etag).not.toBe(read.etag);

    const stale = await refusal(updateExport(home, 'daily', { config: { rowsPerFile: 5 } }, { ifMatch: [read.etag] }));
    expect(stale).toMatchObject({ code: 'precondition_failed', precondition: true, etag: theirs.etag });
    expect(stale.message).toBe('Export "daily" was changed by someone else since you read it; nothing was saved. Reload it to see the current version, then make your change again.');
    expect((await showExport(home, 'daily')).config.rowsPerFile).toBe(100);

    // Any of several ETags may match (RFC 9110 If-Match lists); `*` asks only that it exist.
    const mine = await updateExport(home, 'daily', { config: { rowsPerFile: 5 } }, { ifMatch: [read.etag, theirs.etag] });
    expect(mine.config.rowsPerFile).toBe(5);
    expect((await updateExport(home, 'daily', { config: { rowsPerFile: 6 } }, { ifMatch: '*' })).config.rowsPerFile).toBe(6);
    // No precondition: applies to the current version, as before If-Match existed.
    expect((await updateExport(home, 'daily', { config: { rowsPerFile: 7 } })).config.rowsPerFile).toBe(7);
  });

  test('an edit saved between an export edit\'s read and its write is not overwritten, without If-Match too', async () => {
    const before = await exportStore.getExport(home.db, 'daily');
    // The edit checks its sources while someone else saves: the concurrent write lands in that window.
    const getEntity = home.profiles.getEntity.bind(home.profiles);
    home.profiles.getEntity = async (name) => {
      home.profiles.getEntity = getEntity;
      await exportStore.updateExport(home.db, before.id, { config: { ...before.config, rowsPerFile: 999 } });
      return getEntity(name);
    };
    const raced = await refusal(updateExport(home, 'daily', { config: { rowsPerFile: 1 } }));
    expect(raced).toMatchObject({ code: 'edit_conflict', precondition: false });
    expect(raced.message).toBe('Export "daily" was changed by someone else while this change was being saved; nothing was saved. Make your change again: it will apply to the current version.');
    expect(raced.etag).toBe((await showExport(home, 'daily')).etag);
    expect((await showExport(home, 'daily')).config.rowsPerFile).toBe(999);
  });

  test('an export removal from an older version is refused and removes nothing', async () => {
    await createExport(home, { name: 'weekly', connection: 'files', entities: ['Customer'] });
    const read = await showExport(home, 'weekly');
    await updateExport(home, 'weekly', { config: { rowsPerFile: 10 } });
    expect(await refusal(removeExport(home, 'weekly', { ifMatch: [read.etag] }))).toMatchObject({ code: 'precondition_failed' });
    expect((await showExport(home, 'weekly')).config.rowsPerFile).toBe(10);
    await removeExport(home, 'weekly', { ifMatch: [(await showExport(home, 'weekly')).etag] });
    await expect(showExport(home, 'weekly')).rejects.toThrow(/No export named "weekly"/);
  });

  test('a removed and recreated export of the same name does not match an ETag read before', async () => {
    await createExport(home, { name: 'again', connection: 'files', entities: ['Customer'] });
    const old = await showExport(home, 'again');
    await removeExport(home, 'again');
    await createExport(home, { name: 'again', connection: 'files', entities: ['Customer'] });
    expect(await refusal(updateExport(home, 'again', { config: { rowsPerFile: 3 } }, { ifMatch: [old.etag] }))).toMatchObject({ code: 'precondition_failed' });
  });

  test('connections: a stale edit or removal is refused; the current ETag is accepted', async () => {
    const read = await showConnection(home, 'files');
    const theirs = await updateConnection(home, 'files', { config: { folder: '/theirs' } }, { ifMatch: [read.etag] });
    expect(await refusal(updateConnection(home, 'files', { config: { folder: '/mine' } }, { ifMatch: [read.etag] }))).toMatchObject({ code: 'precondition_failed', etag: theirs.etag });
    expect((await showConnection(home, 'files')).config.folder).toBe('/theirs');
    expect(await refusal(removeConnection(home, 'files', { force: true }, { ifMatch: [read.etag] }))).toMatchObject({ code: 'precondition_failed' });
    expect((await updateConnection(home, 'files', { config: { folder: '/mine' } }, { ifMatch: [theirs.etag] })).config.folder).toBe('/mine');
  });

  test('segments: a stale edit is refused; an edit raced while it counted members is refused and the members recounted', async () => {
    const [read] = (await listSegmentViews(home)).filter((s) => s.name === 'nl');
    await updateSegment(home, 'nl', { where: "country = 'DE'" });
    expect(await refusal(updateSegment(home, 'nl', { where: "country = 'FR'" }, { ifMatch: [read!.etag] }))).toMatchObject({ code: 'precondition_failed' });
    expect(await refusal(removeSegment(home, 'nl', { ifMatch: [read!.etag] }))).toMatchObject({ code: 'precondition_failed' });

    // Someone saves another definition while this edit materializes its members (no If-Match).
    const segment = await segmentStore.getSegment(home.db, 'nl');
    const refresh = home.profiles.refreshSegment.bind(home.profiles);
    home.profiles.refreshSegment = async (...args) => {
      home.profiles.refreshSegment = refresh;
      const members = await refresh(...args);
      await segmentStore.updateSegment(home.db, segment.id, { filter: "country = 'NL'", members: null, refreshedAt: null });
      return members;
    };
    expect(await refusal(updateSegment(home, 'nl', { where: "country = 'DE' OR country = 'NL'" }))).toMatchObject({ code: 'edit_conflict' });
    // The saved definition is theirs, and the membership was rebuilt from it (1 NL profile), not from the refused one (2).
    const [now] = (await listSegmentViews(home)).filter((s) => s.name === 'nl');
    expect(now).toMatchObject({ filter: "country = 'NL'", members: 1 });
  });

  test('users: a role change or removal from an older version is refused', async () => {
    await createUser(home, { name: 'bo', role: 'viewer' });
    const read = (await listUsers(home)).find((u) => u.name === 'bo')!;
    const theirs = await setRole(home, 'bo', 'contributor', { ifMatch: [read.etag] });
    expect(await refusal(setRole(home, 'bo', 'admin', { ifMatch: [read.etag] }))).toMatchObject({ code: 'precondition_failed', etag: theirs.etag });
    expect(await refusal(removeUser(home, 'bo', { ifMatch: [read.etag] }))).toMatchObject({ code: 'precondition_failed' });
    expect((await listUsers(home)).find((u) => u.name === 'bo')?.role).toBe('contributor');
    await removeUser(home, 'bo', { ifMatch: [theirs.etag] });
  });
});
