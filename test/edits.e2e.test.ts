import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openHome } from '../src/app/home.ts';
import { startAutopilotFake, type AutopilotFake } from '../src/destinations/autopilot/fake-autopilot.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { getConnectionByName } from '../src/store/metadata/connections.ts';
import { createExport as storeCreateExport } from '../src/store/metadata/exports.ts';
import { viaServer } from './support/server.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

const SFTP_PASSWORD = 'sftp-right-password-4821';
const ITERABLE_KEY = 'iterable-edits-key-93ac';

let home: string;
let work: string;
let sftp: FakeSftpServer;
let iterable: IterableFake;
let autopilot: AutopilotFake;
let microsoft: MicrosoftAdvertisingFake;

/** Ten customers: NL 1-4, DE 5-7, BE 8-10. */
beforeAll(async () => {
  home = tempDir('edits-home');
  work = tempDir('edits-work');
  sftp = await startFakeSftpServer({ username: 'partner', password: SFTP_PASSWORD });
  fs.mkdirSync(path.join(sftp.root, 'drop'));
  fs.mkdirSync(path.join(sftp.root, 'other'));
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  autopilot = await startAutopilotFake({ requestsPerSecond: null });
  microsoft = await startMicrosoftAdvertisingFake();
  const lines = ['profile_id,email,country,age'];
  for (let i = 1; i <= 10; i++) lines.push(`${i},member${i}@example.com,${i <= 4 ? 'NL' : i <= 7 ? 'DE' : 'BE'},${20 + i}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), lines.join('\n') + '\n');
  expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);
  for (const [name, where] of [['nl', "country = 'NL'"], ['de', "country = 'DE'"], ['be', "country = 'BE'"]]) {
    expect((await outflow(home, 'segment', 'create', name!, '--where', where!)).code).toBe(0);
  }
  expect((await outflow(home, 'segment', 'refresh', '--json')).json()).toEqual([
    { name: 'be', members: 3 },
    { name: 'de', members: 3 },
    { name: 'nl', members: 4 },
  ]);
});

afterAll(async () => {
  await Promise.all([sftp?.close(), iterable?.close(), autopilot?.close(), microsoft?.close()]);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function sftpConfig(overrides: Record<string, unknown> = {}) {
  return { host: sftp.host, port: sftp.port, username: 'partner', password: SFTP_PASSWORD, folder: '/drop', ...overrides };
}

async function connect(type: string, name: string, config: Record<string, unknown>, ...extra: string[]): Promise<void> {
  const result = await outflow(home, 'connection', 'create', '--type', type, '--name', name, '--config', writeJson(work, `${name}.json`, config), '--accept-privacy-terms', ...extra);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** The stored row itself (secrets still encrypted, updated_at included): equal rows mean nothing changed. */
function row(table: 'connections' | 'exports' | 'segments', name: string): Record<string, unknown> | undefined {
  const db = new BetterSqlite3(path.join(home, 'metadata.sqlite'), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} WHERE name = ?`).get(name) as Record<string, unknown> | undefined;
  } finally {
    db.close();
  }
}

async function secretsOf(name: string): Promise<Record<string, string>> {
  const h = await openHome({ dir: home });
  try {
    const { readConnectionSecrets } = await import('../src/store/metadata/connections.ts');
    return await readConnectionSecrets(h.db, h.box, (await getConnectionByName(h.db, h.box, name)).id);
  } finally {
    await h.close();
  }
}

function asContributor(name = 'carol') {
  vi.stubEnv('OUTFLOW_ROLE', 'contributor');
  vi.stubEnv('OUTFLOW_USER', name);
}

describe('outflow connection update', () => {
  it('merges --config over the settings, keeps an omitted secret, and keeps the verification for a format change', async () => {
    await connect('sftp', 'partner', sftpConfig());
    expect((await outflow(home, 'connection', 'verify', 'partner', '--json')).json()).toMatchObject({ ok: true });
    const before = (await outflow(home, 'connection', 'show', 'partner')).json();
    expect(before).toMatchObject({ hostKeySha256: sftp.hostKeySha256, lastVerification: { ok: true } });

    const result = await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'gzip.json', { compression: 'gzip' }), '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      name: 'partner',
      config: { host: sftp.host, port: sftp.port, folder: '/drop', compression: 'gzip', password: 'set' },
      hostKeySha256: sftp.hostKeySha256,
      lastVerification: before.lastVerification,
    });
    expect(await secretsOf('partner')).toEqual({ password: SFTP_PASSWORD });
  });

  it('clears the verification and the recorded host key when the password changes, and never prints it', async () => {
    const result = await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'pw.json', { password: 'rotated-password-7710' }));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Updated connection "partner". Check it with `outflow connection verify "partner"`.\n');
    const shown = await outflow(home, 'connection', 'show', 'partner');
    expect(shown.json().lastVerification).toBeUndefined();
    expect(shown.json().hostKeySha256).toBeUndefined();
    expect(shown.json().config.password).toBe('set');
    for (const output of [result.stdout, result.stderr, shown.stdout]) expect(output).not.toContain('rotated-password-7710');
    expect(fs.readFileSync(path.join(home, 'logs', 'outflow.log'), 'utf8')).not.toContain('rotated-password-7710');
    expect(await secretsOf('partner')).toEqual({ password: 'rotated-password-7710' });
    expect((await outflow(home, 'connection', 'verify', 'partner', '--json')).json()).toMatchObject({ ok: false, code: 'auth_failed' });
  });

  it('keeps the recorded host key when one is pinned, and null removes a setting again', async () => {
    await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'pw2.json', { password: SFTP_PASSWORD }));
    expect((await outflow(home, 'connection', 'verify', 'partner', '--json')).json()).toMatchObject({ ok: true });
    await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'pin.json', { hostKeySha256: sftp.hostKeySha256 }));
    const changed = (await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'user.json', { username: 'partner2' }), '--json')).json();
    expect(changed).toMatchObject({ hostKeySha256: sftp.hostKeySha256, config: { username: 'partner2', hostKeySha256: sftp.hostKeySha256 } });
    expect(changed.lastVerification).toBeUndefined();

    const unpinned = (await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'unpin.json', { hostKeySha256: null, username: 'partner' }), '--json')).json();
    expect(unpinned.config.hostKeySha256).toBeUndefined();
    expect(unpinned.hostKeySha256).toBeUndefined();
    expect((await outflow(home, 'connection', 'verify', 'partner', '--json')).json()).toMatchObject({ ok: true });
  });

  it('clears the verification of a marketing connection when its credential changes, not when its pace does', async () => {
    await connect('iterable', 'iterable-prod', { apiKey: ITERABLE_KEY, baseUrl: iterable.url });
    expect((await outflow(home, 'connection', 'verify', 'iterable-prod', '--json')).json()).toMatchObject({ ok: true });
    const paced = (await outflow(home, 'connection', 'update', 'iterable-prod', '--config', writeJson(work, 'rps.json', { requestsPerSecond: 3 }), '--json')).json();
    expect(paced).toMatchObject({ config: { requestsPerSecond: 3, apiKey: 'set' }, lastVerification: { ok: true } });
    const rekeyed = (await outflow(home, 'connection', 'update', 'iterable-prod', '--config', writeJson(work, 'key.json', { apiKey: 'another-key-5512' }), '--json')).json();
    expect(rekeyed.lastVerification).toBeUndefined();
    expect(await secretsOf('iterable-prod')).toEqual({ apiKey: 'another-key-5512' });
    await outflow(home, 'connection', 'update', 'iterable-prod', '--config', writeJson(work, 'key2.json', { apiKey: ITERABLE_KEY }));
  });

  it('renames a connection and changes who may use it; its exports follow', async () => {
    await connect('sftp', 'rename-me', sftpConfig());
    expect((await outflow(home, 'export', 'create', '--name', 'follows', '--connection', 'rename-me', '--segments', 'nl')).code).toBe(0);
    const result = await outflow(home, 'connection', 'update', 'rename-me', '--name', 'renamed', '--usable-by', 'admins-and-contributors', '--json');
    expect(result.json()).toMatchObject({ name: 'renamed', usableBy: 'admins-and-contributors' });
    expect((await outflow(home, 'export', 'show', 'follows')).json().connection).toBe('renamed');
    expect((await outflow(home, 'connection', 'show', 'rename-me')).code).toBe(3);
  });

  it('refuses a rename onto another connection (exit 4) and changes nothing', async () => {
    const before = row('connections', 'renamed');
    const result = await outflow(home, 'connection', 'update', 'renamed', '--name', 'partner', '--config', writeJson(work, 'c.json', { compression: 'gzip' }));
    expect(result.code).toBe(4);
    expect(result.stderr).toBe('error: A connection named "partner" already exists. Choose another name, or remove the old one first.\n');
    expect(row('connections', 'renamed')).toEqual(before);
  });

  it('refuses an unknown key with the closest known one, and an invalid value with the message create gives', async () => {
    const before = row('connections', 'partner');
    const typo = await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'typo.json', { compresion: 'gzip' }));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('error: The SFTP connection config is invalid: unknown key "compresion", did you mean "compression"?\n');
    const unknown = await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'colour.json', { colour: 'red' }));
    expect(unknown.stderr).toMatch(/^error: The SFTP connection config is invalid: unknown key "colour"\. Known keys: host, port, username, password, /);

    const bad = writeJson(work, 'bad-delimiter.json', { delimiter: ':' });
    const updated = await outflow(home, 'connection', 'update', 'partner', '--config', bad);
    const created = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'never', '--config', writeJson(work, 'bad-create.json', sftpConfig({ delimiter: ':' })), '--accept-privacy-terms');
    expect(updated.code).toBe(2);
    expect(updated.stderr).toMatch(/^error: The SFTP connection config is invalid: delimiter: /);
    expect(updated.stderr).toBe(created.stderr);

    // Dropping the only credential fails the same schema rule as a create without one.
    const noCredential = await outflow(home, 'connection', 'update', 'partner', '--config', writeJson(work, 'nopw.json', { password: null }));
    expect(noCredential.stderr).toBe('error: The SFTP connection config is invalid: password: Set a password or a private key (CLI: password, privateKey or privateKeyFile)..\n');
    expect(row('connections', 'partner')).toEqual(before);
    expect(await secretsOf('partner')).toEqual({ password: SFTP_PASSWORD });
  });

  it('refuses an unknown key on create as well', async () => {
    const result = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'typo', '--config', writeJson(work, 'typo-create.json', sftpConfig({ compresion: 'gzip' })), '--accept-privacy-terms');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('did you mean "compression"?');
    expect(row('connections', 'typo')).toBeUndefined();
  });

  it('is for administrators only, and needs something to change', async () => {
    const before = row('connections', 'partner');
    asContributor();
    const denied = await outflow(home, 'connection', 'update', 'partner', '--usable-by', 'admins-and-contributors');
    expect(denied.code).toBe(5);
    expect(denied.stderr).toBe('error: Only administrators may edit connections. Ask an administrator.\n');
    vi.unstubAllEnvs();
    const empty = await outflow(home, 'connection', 'update', 'partner');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/Nothing to change/);
    expect((await outflow(home, 'connection', 'update', 'nobody', '--name', 'x')).code).toBe(3);
    expect(row('connections', 'partner')).toEqual(before);
  });
});

describe('outflow export update', () => {
  it('repairs an export whose connection was removed', async () => {
    await connect('sftp', 'doomed', sftpConfig());
    expect((await outflow(home, 'export', 'create', '--name', 'orphan', '--connection', 'doomed', '--segments', 'nl')).code).toBe(0);
    expect((await outflow(home, 'connection', 'remove', 'doomed', '--force')).code).toBe(0);
    const failed = await outflow(home, 'export', 'run', 'orphan');
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe('error: The connection of export "orphan" was removed. Pick another one with `outflow export update orphan --connection <name>`.\n');
    const noConnection = await outflow(home, 'export', 'update', 'orphan', '--segments', 'de');
    expect(noConnection.stderr).toBe(failed.stderr);

    const repaired = await outflow(home, 'export', 'update', 'orphan', '--connection', 'partner');
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toBe('Updated export "orphan" to partner.\n');
    const run = (await outflow(home, 'export', 'run', 'orphan', '--json')).json();
    expect(run).toMatchObject({ status: 'succeeded', entities: [{ name: 'nl', rows: 4 }] });
  });

  it('changes the name, the sources and the config (merged; null removes a key)', async () => {
    const result = await outflow(home, 'export', 'update', 'orphan', '--name', 'benelux', '--segments', 'nl,be', '--config', writeJson(work, 'rows.json', { rowsPerFile: 2 }), '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ name: 'benelux', connection: 'partner', segments: ['nl', 'be'], config: { rowsPerFile: 2, mapping: {}, syncMode: 'full' } });
    const run = (await outflow(home, 'export', 'run', 'benelux', '--json')).json();
    expect(run.entities.map((e: { name: string; rows: number; files: unknown[] }) => [e.name, e.rows, e.files.length])).toEqual([['nl', 4, 2], ['be', 3, 2]]);
    const entities = (await outflow(home, 'export', 'update', 'benelux', '--entities', 'Customer', '--config', writeJson(work, 'rows-null.json', { rowsPerFile: null }), '--json')).json();
    expect(entities).toMatchObject({ entities: ['Customer'], config: { mapping: {}, syncMode: 'full' } });
    expect(entities.segments).toBeUndefined();
    expect(entities.config.rowsPerFile).toBeUndefined();
    // Runs keep the name they ran under.
    expect((await outflow(home, 'run', 'list', '--export', 'orphan', '--json')).json()).toHaveLength(1);
  });

  it('refuses duplicate sources, on create and on update, and changes nothing', async () => {
    const before = row('exports', 'benelux');
    const created = await outflow(home, 'export', 'create', '--name', 'twice', '--connection', 'partner', '--segments', 'nl,nl');
    expect(created.code).toBe(2);
    expect(created.stderr).toBe('error: Segment "nl" is listed more than once; name each segment once.\n');
    expect(row('exports', 'twice')).toBeUndefined();
    const updated = await outflow(home, 'export', 'update', 'benelux', '--entities', 'Customer,Customer');
    expect(updated.stderr).toBe('error: Entity "Customer" is listed more than once; name each entity once.\n');
    expect(row('exports', 'benelux')).toEqual(before);
  });

  it('refuses an unknown config key with the closest known one, and both kinds of sources at once', async () => {
    const before = row('exports', 'benelux');
    const typo = await outflow(home, 'export', 'update', 'benelux', '--config', writeJson(work, 'typo-exp.json', { rowsPerFlie: 10 }));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('error: The SFTP export config is invalid: unknown key "rowsPerFlie", did you mean "rowsPerFile"?\n');
    const onCreate = await outflow(home, 'export', 'create', '--name', 'typo', '--connection', 'partner', '--segments', 'nl', '--config', writeJson(work, 'typo-exp2.json', { synMode: 'full' }));
    expect(onCreate.stderr).toBe('error: The SFTP export config is invalid: unknown key "synMode", did you mean "syncMode"?\n');
    const both = await outflow(home, 'export', 'update', 'benelux', '--segments', 'nl', '--entities', 'Customer');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --segments a,b or --entities X,Y, not both/);
    expect((await outflow(home, 'export', 'update', 'benelux')).stderr).toMatch(/Nothing to change/);
    expect(row('exports', 'benelux')).toEqual(before);
  });

  it('validates the result like a create: moving an SFTP entity export to Iterable needs segments and an e-mail mapping', async () => {
    const before = row('exports', 'benelux');
    const entities = await outflow(home, 'export', 'update', 'benelux', '--connection', 'iterable-prod');
    expect(entities.stderr).toBe('error: Iterable exports take segments only: pass --segments instead of --entities.\n');
    const noMapping = await outflow(home, 'export', 'update', 'benelux', '--connection', 'iterable-prod', '--segments', 'nl');
    expect(noMapping.stderr).toMatch(/^error: Iterable needs the E-mail field mapped/);
    expect(row('exports', 'benelux')).toEqual(before);
    const moved = await outflow(home, 'export', 'update', 'benelux', '--connection', 'iterable-prod', '--segments', 'nl', '--config', writeJson(work, 'it.json', { mapping: { email: 'email' } }), '--json');
    expect(moved.json()).toMatchObject({ connection: 'iterable-prod', type: 'iterable', segments: ['nl'], config: { mapping: { email: 'email' }, syncMode: 'full' } });
  });

  it('lets contributors edit exports only between connections usable by contributors', async () => {
    await connect('sftp', 'shared', sftpConfig({ folder: '/other' }), '--usable-by', 'admins-and-contributors');
    expect((await outflow(home, 'export', 'create', '--name', 'shared-nl', '--connection', 'shared', '--segments', 'nl')).code).toBe(0);
    const adminOnly = row('exports', 'benelux');
    const shared = row('exports', 'shared-nl');
    asContributor();
    const onAdminOnly = await outflow(home, 'export', 'update', 'benelux', '--segments', 'de');
    expect(onAdminOnly.code).toBe(5);
    expect(onAdminOnly.stderr).toMatch(/^error: Connection "iterable-prod" is usable by administrators only/);
    const toAdminOnly = await outflow(home, 'export', 'update', 'shared-nl', '--connection', 'partner');
    expect(toAdminOnly.code).toBe(5);
    expect(toAdminOnly.stderr).toMatch(/^error: Connection "partner" is usable by administrators only/);
    expect(row('exports', 'benelux')).toEqual(adminOnly);
    expect(row('exports', 'shared-nl')).toEqual(shared);
    const allowed = await outflow(home, 'export', 'update', 'shared-nl', '--segments', 'de', '--json');
    expect(allowed.code).toBe(0);
    expect(allowed.json().segments).toEqual(['de']);
  });

  it("refuses at save time an export over Autopilot's allowance for the connection, with the run's message", async () => {
    await connect('autopilot', 'autopilot-small', { apiKey: autopilot.apiKey, baseUrl: autopilot.url, maxProfiles: 6, warnProfiles: 5 });
    const mapping = writeJson(work, 'ap.json', { mapping: { email: 'email' } });
    expect((await outflow(home, 'export', 'create', '--name', 'ap-nl', '--connection', 'autopilot-small', '--segments', 'nl', '--config', mapping)).code).toBe(0);
    const created = await outflow(home, 'export', 'create', '--name', 'ap-de', '--connection', 'autopilot-small', '--segments', 'de', '--config', mapping);
    expect(created.code).toBe(2);
    expect(created.stderr).toBe(
      "error: The connection's exports would hold 7 profiles (this export: 3; other exports of the connection: 4); Autopilot (Journeys) allows at most 6 per connection. Narrow the segments or remove an export; nothing was sent.\n",
    );
    expect(row('exports', 'ap-de')).toBeUndefined();
    const before = row('exports', 'ap-nl');
    const updated = await outflow(home, 'export', 'update', 'ap-nl', '--segments', 'nl,de');
    expect(updated.stderr).toBe(
      "error: The connection's exports would hold 7 profiles (this export: 7); Autopilot (Journeys) allows at most 6 per connection. Narrow the segments or remove an export; nothing was sent.\n",
    );
    expect(row('exports', 'ap-nl')).toEqual(before);
    // The export's own old sources do not count against it.
    expect((await outflow(home, 'export', 'update', 'ap-nl', '--segments', 'de', '--json')).json().segments).toEqual(['de']);

    // Lowering the allowance under what the exports hold would fail their next run: refused now, same words.
    const connectionBefore = row('connections', 'autopilot-small');
    const lowered = await outflow(home, 'connection', 'update', 'autopilot-small', '--config', writeJson(work, 'ap-low.json', { maxProfiles: 2 }));
    expect(lowered.code).toBe(2);
    expect(lowered.stderr).toBe(
      "error: The connection's exports would hold 3 profiles (this export: 3); Autopilot (Journeys) allows at most 2 per connection. Narrow the segments or remove an export; nothing was sent.\n",
    );
    expect(row('connections', 'autopilot-small')).toEqual(connectionBefore);
    expect((await outflow(home, 'connection', 'update', 'autopilot-small', '--config', writeJson(work, 'ap-ok.json', { maxProfiles: 3 }), '--json')).json().config.maxProfiles).toBe(3);
  });

  it('refuses at save time a Microsoft Advertising account the signed-in user cannot reach, with the message a run gives', async () => {
    await connect('microsoft-advertising', 'msads', {
      clientId: FAKE_DEFAULTS.clientId,
      clientSecret: FAKE_DEFAULTS.clientSecret,
      refreshToken: FAKE_DEFAULTS.refreshToken,
      developerToken: FAKE_DEFAULTS.developerToken,
      baseUrl: microsoft.baseUrl,
      authorityUrl: microsoft.authorityUrl,
      requestsPerSecond: 50,
    });
    const good = { mapping: { email: 'email' }, customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId };
    const wrong = { ...good, accountId: '2999999' };
    const created = await outflow(home, 'export', 'create', '--name', 'ms-nl', '--connection', 'msads', '--segments', 'nl', '--config', writeJson(work, 'ms-wrong.json', wrong));
    expect(created.code).toBe(5);
    expect(created.stderr).toMatch(/^error: The Microsoft user signed in on connection `msads` has no access to account 2999999 under customer 1000001 /);
    expect(row('exports', 'ms-nl')).toBeUndefined();
    // Saving checked the account and created nothing there.
    expect(microsoft.audiences()).toEqual([]);

    expect((await outflow(home, 'export', 'create', '--name', 'ms-nl', '--connection', 'msads', '--segments', 'nl', '--config', writeJson(work, 'ms-good.json', good))).code).toBe(0);
    const before = row('exports', 'ms-nl');
    const updated = await outflow(home, 'export', 'update', 'ms-nl', '--config', writeJson(work, 'ms-wrong-patch.json', { accountId: '2999999' }));
    expect(updated.code).toBe(5);
    expect(row('exports', 'ms-nl')).toEqual(before);

    // A run of such an export (saved before this check existed) fails with the same words.
    const h = await openHome({ dir: home });
    try {
      const connection = await getConnectionByName(h.db, h.box, 'msads');
      await storeCreateExport(h.db, { name: 'ms-legacy', connectionId: connection.id, sourceKind: 'segments', sources: ['nl'], config: { ...wrong, syncMode: 'full' }, createdBy: 'ada' });
    } finally {
      await h.close();
    }
    const run = (await outflow(home, 'export', 'run', 'ms-legacy', '--json')).json();
    const withoutTracking = (message: string) => message.replace(/ TrackingId \S+ identifies the call for Microsoft support\./, '').trim();
    expect(run.error.code).toBe('permission_denied');
    expect(withoutTracking(`error: ${run.error.message}`)).toBe(withoutTracking(created.stderr));
    expect(withoutTracking(updated.stderr)).toBe(withoutTracking(created.stderr));
  });
});

describe('outflow segment update', () => {
  it('compiles the new filter like create and refreshes the membership at once', async () => {
    const before = row('segments', 'be');
    const bad = await outflow(home, 'segment', 'update', 'be', '--where', "countri = 'BE'");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: Unknown column countri at position 0; did you mean country\?/);
    expect(row('segments', 'be')).toEqual(before);

    const result = await outflow(home, 'segment', 'update', 'be', '--where', "country = 'BE' and age >= 29", '--json');
    expect(result.code).toBe(0);
    expect(result.json()).toEqual({ name: 'be', entity: 'Customer', filter: "country = 'BE' and age >= 29", members: 2 });
    expect((await outflow(home, 'segment', 'list', '--json')).json().find((s: { name: string }) => s.name === 'be')).toMatchObject({ members: 2, refreshedAt: expect.any(String) });
    expect((await outflow(home, 'segment', 'update', 'be', '--where', "country = 'BE'")).stdout).toBe('Updated segment be on Customer: 3 members.\n');
    expect((await outflow(home, 'segment', 'update', 'nobody', '--where', 'age > 1')).code).toBe(3);
  });

  it("keeps contributors from changing or removing a segment another user's export uses", async () => {
    const before = row('segments', 'nl');
    asContributor('carol');
    const changed = await outflow(home, 'segment', 'update', 'nl', '--where', "country = 'NL' and age > 22");
    expect(changed.code).toBe(5);
    // Through a server, the administrator is the server's account; without one, the home's owner.
    const admin = viaServer ? 'admin' : os.userInfo().username;
    expect(changed.stderr).toBe(
      `error: Segment "nl" is used by export "benelux" of ${admin}, export "follows" of ${admin}, export "ms-legacy" of ada, export "ms-nl" of ${admin}, ` +
        `so only an administrator may change it. Ask an administrator, or ask ${admin} or ada to take "nl" out of those exports first.\n`,
    );
    const removed = await outflow(home, 'segment', 'remove', 'nl');
    expect(removed.code).toBe(5);
    expect(removed.stderr).toMatch(/so only an administrator may remove it/);
    expect(row('segments', 'nl')).toEqual(before);

    // Their own segment, used only by their own export, is theirs to change and remove.
    expect((await outflow(home, 'segment', 'create', 'carols', '--where', "country = 'DE'")).code).toBe(0);
    expect((await outflow(home, 'export', 'create', '--name', 'carols-export', '--connection', 'shared', '--segments', 'carols')).code).toBe(0);
    expect((await outflow(home, 'segment', 'update', 'carols', '--where', "country = 'NL'", '--json')).json()).toMatchObject({ members: 4 });
    vi.stubEnv('OUTFLOW_USER', 'dave');
    expect((await outflow(home, 'segment', 'remove', 'carols')).stderr).toMatch(/^error: Segment "carols" is used by export "carols-export" of carol, so only an administrator may remove it\. Ask an administrator, or ask carol to take "carols" out of that export first\./);
    vi.unstubAllEnvs();
    expect((await outflow(home, 'segment', 'update', 'nl', '--where', "country = 'NL'", '--json')).json()).toMatchObject({ members: 4 });
  });
});
