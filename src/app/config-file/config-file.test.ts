import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/cli.ts';
import { freshDatabase } from '../../../test/support/scale-out.ts';
import { listAudit } from '../../store/metadata/audit.ts';
import { getConnectionByName, readConnectionSecrets } from '../../store/metadata/connections.ts';
import { getExport } from '../../store/metadata/exports.ts';
import { getSchedule } from '../../store/metadata/schedules.ts';
import { createConnection } from '../connections.ts';
import { createSegment, listSegments } from '../data.ts';
import { createExport } from '../exports.ts';
import { openHome, type Home } from '../home.ts';
import { applyConfig, exportConfig, mapResolver, planConfig, type ConfigInput } from './index.ts';
import { parseConfigText } from './source.ts';

let dir: string;
let work: string;
let home: Home;

const noSecrets = mapResolver({});

function input(text: string, extra: Partial<ConfigInput> = {}): ConfigInput {
  return { text, file: 'outflow.yaml', resolve: noSecrets, ...extra };
}

beforeAll(async () => {
  dir = tempDir('config-file-unit');
  work = tempDir('config-file-unit-work');
  home = await openHome({ dir, actor: { name: 'ada', role: 'admin' } });
  fs.writeFileSync(`${work}/c.csv`, 'profile_id,email,country\n1,a@example.com,NL\n2,b@example.com,DE\n3,c@example.com,NL\n');
  await home.profiles.loadEntity('Customer', `${work}/c.csv`, { key: 'profile_id' });
});

afterAll(async () => {
  await home?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const base = `version: 1
segments:
  - name: nl
    where: country = 'NL'
connections:
  - name: files
    type: sftp
    acceptPrivacyTerms: true
    config:
      host: sftp.example.com
      username: u
      password: \${env:SFTP_PASSWORD}
      folder: /out
exports:
  - name: to-files
    connection: files
    segments: [nl]
    config: { rowsPerFile: 1000 }
    schedule: { cron: "0 6 * * 1-5", timeZone: Europe/Amsterdam }
schedule: { days: mon-fri, times: ["07:00"], timeZone: UTC }
`;

describe('a configuration file', () => {
  it('points at the line and column of a YAML error, an unknown key (with a suggestion) and a duplicate name', async () => {
    const syntax = await planConfig(home, input('version: 1\nsegments:\n  - name: a\n    where: [unclosed\n'));
    expect(syntax.problems[0]).toMatchObject({ file: 'outflow.yaml', line: expect.any(Number), message: expect.stringMatching(/^YAML syntax/) });
    const unknown = await planConfig(home, input('version: 1\nsegments:\n  - name: a\n    wher: x\n'));
    expect(unknown.problems).toEqual([
      expect.objectContaining({ line: 3, column: 5, path: 'segments[0].where', message: '"where" is missing' }),
      expect.objectContaining({ line: 4, column: 5, path: 'segments[0].wher', message: 'unknown key "wher"; did you mean "where"?' }),
    ]);
    const twice = await planConfig(home, input('version: 1\nsegments:\n  - { name: a, where: "true" }\n  - { name: a, where: "true" }\n'));
    expect(twice.problems[0]).toMatchObject({ line: 4, path: 'segments[1].name', message: expect.stringContaining('listed twice') });
  });

  it('says which environment variable is unset, where, and changes nothing', async () => {
    const plan = await applyConfig(home, input(base));
    expect(plan.applied).toBe(false);
    expect(plan.problems).toEqual([expect.objectContaining({ line: 12, column: 17, message: expect.stringContaining('the environment variable SFTP_PASSWORD is not set') })]);
    expect(await listSegments(home)).toEqual([]);
  });

  it('plans without changing anything, never showing a secret, then applies all of it, audited with the file hash', async () => {
    const resolve = mapResolver({ '${env:SFTP_PASSWORD}': 'pw-secret-1' });
    const plan = await planConfig(home, input(base, { resolve }));
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual(['create connection files', 'create segment nl', 'create export to-files', 'create schedule refresh']);
    expect(JSON.stringify(plan)).not.toContain('pw-secret-1');
    expect(plan.changes[0]!.fields).toContainEqual({ field: 'config.password', secret: true, to: '(set)' });
    expect(await listSegments(home)).toEqual([]);

    const applied = await applyConfig(home, input(base, { resolve }));
    expect(applied).toMatchObject({ applied: true, problems: [] });
    const connection = await getConnectionByName(home.db, home.box, 'files');
    expect(await readConnectionSecrets(home.db, home.box, connection.id)).toEqual({ password: 'pw-secret-1' });
    expect(connection.consent.acceptedBy).toBe('ada');
    expect((await listSegments(home))[0]).toMatchObject({ name: 'nl', members: 2 });
    expect((await getExport(home.db, 'to-files')).config).toMatchObject({ rowsPerFile: 1000 });
    expect(await getSchedule(home.db, (await getExport(home.db, 'to-files')).id)).toMatchObject({ crons: ['0 6 * * 1-5'], timeZone: 'Europe/Amsterdam' });
    const audit = await listAudit(home.db, { action: 'export.create', limit: 1 });
    expect(audit[0]).toMatchObject({ via: 'apply', details: expect.objectContaining({ fileSha256: applied.hash }) });

    const again = await planConfig(home, input(base, { resolve }));
    expect(again).toMatchObject({ changes: [], problems: [] });
    const rotated = await planConfig(home, input(base, { resolve: mapResolver({ '${env:SFTP_PASSWORD}': 'pw-secret-2' }) }));
    expect(rotated.changes).toEqual([{ kind: 'connection', name: 'files', action: 'update', fields: [{ field: 'config.password', secret: true, from: '(set)', to: '(set)' }] }]);
  });

  it('is all or nothing: one refused item (a mapping to a missing column) leaves every other change unmade', async () => {
    const resolve = mapResolver({ '${env:SFTP_PASSWORD}': 'pw-secret-1' });
    const text = base.replace("where: country = 'NL'", "where: country = 'DE'").replace('config: { rowsPerFile: 1000 }', 'config: { rowsPerFile: 0 }');
    const plan = await applyConfig(home, input(text, { resolve }));
    expect(plan.applied).toBe(false);
    expect(plan.problems).toEqual([expect.objectContaining({ path: 'exports[0]', message: expect.stringContaining('rowsPerFile must be a positive whole number') })]);
    expect((await listSegments(home))[0]).toMatchObject({ filter: "country = 'NL'", members: 2 });
  });

  it('keeps what the file does not list unless --prune, and prunes in dependency order', async () => {
    await createSegment(home, { name: 'extra', where: "country = 'DE'" });
    const resolve = mapResolver({ '${env:SFTP_PASSWORD}': 'pw-secret-1' });
    const kept = await planConfig(home, input(base, { resolve }));
    expect(kept).toMatchObject({ changes: [], unlisted: [{ kind: 'segment', name: 'extra' }] });
    const pruned = await applyConfig(home, input(base, { resolve, prune: true }));
    expect(pruned.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual(['remove segment extra']);
    expect((await listSegments(home)).map((s) => s.name)).toEqual(['nl']);
  });

  it('refuses what the role may not do, through the same use cases', async () => {
    const contributor = { ...home, actor: { name: 'carol', role: 'contributor' as const } };
    const plan = await planConfig(contributor, input(base.replace('host: sftp.example.com', 'host: other.example.com'), { resolve: mapResolver({ '${env:SFTP_PASSWORD}': 'x' }) }));
    expect(plan.problems[0]).toMatchObject({ path: 'connections[0]', message: expect.stringContaining('Only administrators may edit connections') });
  });

  it('exports a home as a file that plans to no change, secrets as references', async () => {
    await createConnection(home, { type: 'iterable', name: 'Iterable EU', config: { apiKey: 'it-secret', baseUrl: 'http://127.0.0.1:9' }, acceptPrivacyTerms: true });
    await createExport(home, { name: 'to-iterable', connection: 'Iterable EU', segments: ['nl'], config: { mapping: { email: 'email' }, listName: 'NL' } }).catch(() => undefined);
    const { yaml, variables } = await exportConfig(home);
    expect(yaml).not.toContain('it-secret');
    expect(yaml).not.toContain('pw-secret-1');
    expect(variables).toEqual(expect.arrayContaining(['OUTFLOW_FILES_PASSWORD', 'OUTFLOW_ITERABLE_EU_API_KEY']));
    expect(() => parseConfigText(yaml, 'exported.yaml')).not.toThrow();
    const resolve = mapResolver({ '${env:OUTFLOW_FILES_PASSWORD}': 'pw-secret-1', '${env:OUTFLOW_ITERABLE_EU_API_KEY}': 'it-secret' });
    expect(await planConfig(home, input(yaml, { resolve }))).toMatchObject({ changes: [], problems: [] });
  });
});

describe('one apply at a time', () => {
  it('refuses a second apply on the same home while one runs', async () => {
    const text = 'version: 1\nsegments:\n  - name: concurrent\n    where: "country = \'NL\'"\n';
    const first = applyConfig(home, input(text));
    await expect(applyConfig(home, input(text))).rejects.toThrow('Another apply or plan is running on this home');
    expect(await first).toMatchObject({ applied: true });
  });
});

describe('on a PostgreSQL metadata store', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let pgHome: Home;
  let pgDir: string;

  beforeAll(async () => {
    database = await freshDatabase('config_apply');
    pgDir = tempDir('config-file-pg');
    pgHome = await openHome({ dir: pgDir, actor: { name: 'ada', role: 'admin' }, env: { ...process.env, OUTFLOW_DATABASE_URL: database.url, OUTFLOW_PROFILES_URL: '' } });
    await pgHome.profiles.loadEntity('Customer', `${work}/c.csv`, { key: 'profile_id' });
  });

  afterAll(async () => {
    await pgHome?.close();
    await database?.drop();
    fs.rmSync(pgDir, { recursive: true, force: true });
  });

  it('applies all or nothing: a refused item rolls back to its savepoint, the rest is never committed', async () => {
    const resolve = mapResolver({ '${env:SFTP_PASSWORD}': 'pw-pg' });
    const refused = await applyConfig(pgHome, input(base.replace('rowsPerFile: 1000', 'rowsPerFile: 0'), { resolve }));
    expect(refused).toMatchObject({ applied: false, problems: [expect.objectContaining({ path: 'exports[0]' })] });
    expect(await listSegments(pgHome)).toEqual([]);
    const applied = await applyConfig(pgHome, input(base, { resolve }));
    expect(applied).toMatchObject({ applied: true, problems: [] });
    expect((await listSegments(pgHome))[0]).toMatchObject({ name: 'nl', members: 2 });
    expect(await planConfig(pgHome, input(base, { resolve }))).toMatchObject({ changes: [], problems: [] });
  });

  it('refuses an apply while another server holds the apply lock of the shared database', async () => {
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query("SELECT pg_advisory_lock(hashtext('outflow:config-apply'))");
      await expect(applyConfig(pgHome, input('version: 1\nsegments: []\n'))).rejects.toThrow('Another apply is running on this home (on another server)');
    } finally {
      await other.end();
    }
  });
});

describe('with a PostgreSQL profile store', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let pgHome: Home;
  let pgDir: string;

  beforeAll(async () => {
    database = await freshDatabase('config_attach');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query("CREATE SCHEMA crm; CREATE TABLE crm.members (member_id int PRIMARY KEY, email text, country text); INSERT INTO crm.members VALUES (1, 'a@example.com', 'NL'), (2, 'b@example.com', 'DE')");
    await client.end();
    pgDir = tempDir('config-file-attach');
    pgHome = await openHome({ dir: pgDir, actor: { name: 'ada', role: 'admin' }, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: `${database.url}?schema=profiles` } });
  });

  afterAll(async () => {
    await pgHome?.close();
    await database?.drop();
    fs.rmSync(pgDir, { recursive: true, force: true });
  });

  it('attaches a live table and builds segments on it in one apply; a second plan has nothing to do', async () => {
    const text = 'version: 1\nentities:\n  - { name: Member, table: crm.members, key: member_id }\nsegments:\n  - { name: nl-members, entity: Member, where: "country = \'NL\'" }\n';
    const plan = await planConfig(pgHome, input(text));
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual(['create entity Member', 'create segment nl-members']);
    expect(plan.warnings).toEqual(['segment "nl-members" depends on an entity the file attaches: it is checked when applied.']);
    expect(await applyConfig(pgHome, input(text))).toMatchObject({ applied: true, problems: [] });
    expect((await listSegments(pgHome))[0]).toMatchObject({ name: 'nl-members', entity: 'Member', members: 1 });
    expect(await planConfig(pgHome, input(text))).toMatchObject({ changes: [], problems: [], warnings: [] });
  });
});

describe('webhooks', () => {
  it("plans an export's and the home's webhook URL as a secret, and changes nothing when only the stored URL is the same", async () => {
    const resolve = mapResolver({ '${env:SFTP_PASSWORD}': 'pw-secret-1', '${env:HOOK}': 'https://93.184.216.34/hooks/secret-part-1' });
    const withHooks = base
      .replace('config: { rowsPerFile: 1000 }', 'config: { rowsPerFile: 1000, notify: { url: "${env:HOOK}", on: [failed] } }')
      .concat('notify: { url: "${env:HOOK}", on: [failed, recovered] }\n');
    const plan = await applyConfig(home, input(withHooks, { resolve }));
    expect(plan.problems).toEqual([]);
    expect(plan.changes.find((c) => c.kind === 'export')!.fields).toEqual([{ field: 'config.notify', secret: true, to: '(set)' }]);
    expect(plan.changes.find((c) => c.kind === 'notify')).toMatchObject({ action: 'create', fields: [{ field: 'url', secret: true, to: '(set)' }, { field: 'on', to: ['failed', 'recovered'] }] });
    expect(JSON.stringify(plan)).not.toContain('secret-part-1');
    expect(await planConfig(home, input(withHooks, { resolve }))).toMatchObject({ changes: [], problems: [] });
    const rotated = await planConfig(home, input(withHooks, { resolve: mapResolver({ '${env:SFTP_PASSWORD}': 'pw-secret-1', '${env:HOOK}': 'https://93.184.216.34/hooks/secret-part-2' }) }));
    expect(rotated.changes.map((c) => `${c.kind}: ${c.fields.map((f) => f.field).join(',')}`)).toEqual(['export: config.notify', 'notify: url']);
  });
});
