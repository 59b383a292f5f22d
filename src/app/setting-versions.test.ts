import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import { homeMetadataBackends } from '../../test/support/postgres.ts';
import { StaleEditError } from '../domain/errors.ts';
import { getSchedule } from '../store/metadata/schedules.ts';
import { settingVersion, VersionMismatch, writeSetting } from '../store/metadata/versions.ts';
import { createConnection } from './connections.ts';
import { createExport, showExport, updateExport } from './exports.ts';
import { openHome, type Home } from './home.ts';
import { homeNotifyETag, removeHomeNotify, setHomeNotify, showHomeNotify } from './notify.ts';
import { setExportSchedule, setSchedule, showSchedule, turnScheduleOff } from './schedule.ts';

// The home's settings (refresh schedule, alert webhook) at a version, like the edits of src/app/versions.test.ts:
// a change made from an older read is refused and saves nothing, on both metadata stores. Turning a setting off
// is a change too, so an ETag read before an off-and-on never matches the new setting.

const backends = await homeMetadataBackends('outflow_setting_versions');

async function refusal(promise: Promise<unknown>): Promise<StaleEditError> {
  const error = await promise.then(
    () => new Error('the change was saved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StaleEditError);
  return error as StaleEditError;
}

const HOOK = 'https://93.184.216.34/services/secret';

describe.each(backends)('settings at a version, on %s', (name, env, available) => {
  let home: Home;
  const test = available ? it : it.skip;

  beforeAll(async () => {
    if (!available) return;
    const dir = tempDir('setting-versions');
    home = await openHome({ dir: path.join(dir, 'home'), actor: { name: 'ada', role: 'admin' }, env: { ...process.env, OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '', ...env } });
    expect(home.metadata.dialect).toBe(name === 'PostgreSQL' ? 'postgres' : 'sqlite');
    fs.writeFileSync(path.join(dir, 'c.csv'), 'profile_id,email\n1,a@example.com\n');
    await home.profiles.loadEntity('Customer', path.join(dir, 'c.csv'), { key: 'profile_id' });
  });

  test('the refresh schedule: a stale set or turn-off is refused with the current ETag; a fresh one, `*` and none are accepted', async () => {
    const read = (await showSchedule(home)).etag;
    expect(read).toMatch(/^"schedule\.\d+"$/);
    const theirs = await setSchedule(home, { cron: '0 6 * * *', timeZone: 'UTC' }, { ifMatch: [read] });
    expect(theirs.etag).not.toBe(read);

    const stale = await refusal(setSchedule(home, { cron: '0 7 * * *', timeZone: 'UTC' }, { ifMatch: [read] }));
    expect(stale.message).toBe("The home's refresh schedule was changed by someone else since you read it; nothing was saved. Reload it to see the current version, then make your change again.");
    expect(stale.etag).toBe(theirs.etag);
    expect(stale.precondition).toBe(true);
    await refusal(turnScheduleOff(home, { ifMatch: [read] }));
    expect((await showSchedule(home)).cron).toEqual(['0 6 * * *']);

    // Off and on again: the first read still does not match, though the setting looks like it did then.
    const off = await turnScheduleOff(home, { ifMatch: [theirs.etag] });
    expect(off.enabled).toBe(false);
    await refusal(setSchedule(home, { cron: '0 8 * * *', timeZone: 'UTC' }, { ifMatch: [theirs.etag] }));
    expect(await getSchedule(home.db, 'home')).toBeNull();

    expect((await setSchedule(home, { cron: '0 9 * * *', timeZone: 'UTC' }, { ifMatch: '*' })).cron).toEqual(['0 9 * * *']);
    expect((await setSchedule(home, { cron: '0 10 * * *', timeZone: 'UTC' })).cron).toEqual(['0 10 * * *']);
  });

  test('the alert webhook: a stale set or removal is refused with the current ETag; the ETag exists when none is set', async () => {
    const read = await homeNotifyETag(home);
    expect(await showHomeNotify(home)).toBeNull();
    const theirs = await setHomeNotify(home, { url: HOOK, on: ['failed'] }, { ifMatch: [read] });
    expect(theirs.etag).not.toBe(read);
    expect(theirs.etag).toBe(await homeNotifyETag(home));

    const stale = await refusal(setHomeNotify(home, { url: HOOK, on: ['recovered'] }, { ifMatch: [read] }));
    expect(stale.etag).toBe(theirs.etag);
    expect(stale.message).toMatch(/^The home's alert webhook was changed by someone else since you read it; nothing was saved/);
    await refusal(removeHomeNotify(home, { ifMatch: [read] }));
    expect((await showHomeNotify(home))!.on).toEqual(['failed']);

    const removed = await removeHomeNotify(home, { ifMatch: [theirs.etag] });
    expect(removed.removed).toBe(true);
    expect(removed.etag).not.toBe(theirs.etag);
    await refusal(setHomeNotify(home, { url: HOOK }, { ifMatch: [theirs.etag] }));
    expect(await showHomeNotify(home)).toBeNull();
    expect((await setHomeNotify(home, { url: HOOK })).on).toEqual(['failed', 'recovered']);
  });

  test("an export's own schedule honours the export's If-Match", async () => {
    await createConnection(home, { type: 'sftp', name: 'files', config: { host: 'sftp.example.com', username: 'u', password: 'pw-1', folder: '/out' }, acceptPrivacyTerms: true });
    await createExport(home, { name: 'daily', connection: 'files', entities: ['Customer'] });
    const read = (await showExport(home, 'daily')).etag;
    await updateExport(home, 'daily', { config: { rowsPerFile: 10 } }, { ifMatch: [read] });
    await refusal(setExportSchedule(home, 'daily', { cron: '0 6 * * *', timeZone: 'UTC' }, { ifMatch: [read] }));
    await refusal(setExportSchedule(home, 'daily', null, { ifMatch: [read] }));
    const current = (await showExport(home, 'daily')).etag;
    expect((await setExportSchedule(home, 'daily', { cron: '0 6 * * *', timeZone: 'UTC' }, { ifMatch: [current] })).cron).toBe('0 6 * * *');
  });

  test('the store: of 3 changes from the same version exactly one is saved; the others find the version it made', async () => {
    const from = await settingVersion(home.db, 'notify');
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => writeSetting(home.db, 'notify', from, async () => n)));
    const saved = outcomes.filter((o) => o.status === 'fulfilled');
    expect(saved).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected')) {
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(VersionMismatch);
      expect(((o as PromiseRejectedResult).reason as VersionMismatch).current).toBe(from + 1);
    }
    expect(await settingVersion(home.db, 'notify')).toBe(from + 1);
    // A write that fails leaves the version where it was (one transaction).
    await expect(writeSetting(home.db, 'notify', from + 1, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await settingVersion(home.db, 'notify')).toBe(from + 1);
  });
});
