import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { outflow, tempDir, writeJson } from './support/cli.ts';

const SFTP_PASSWORD = 'sftp-config-as-code-5512';
const ITERABLE_KEY = 'iterable-config-as-code-77ab';

let source: string;
let target: string;
let work: string;
let sftp: FakeSftpServer;
let iterable: IterableFake;

/** What `list --json` shows of a home, without what differs between two homes by nature (ids and ETags, times, who). */
async function configurationOf(home: string) {
  const strip = (items: Array<Record<string, unknown>>) =>
    items.map(({ id: _id, etag: _etag, createdAt: _c, createdBy: _b, updatedAt: _u, refreshedAt: _r, privacyConsent: _consent, lastVerification: _v, ...rest }) => rest);
  return {
    segments: strip((await outflow(home, 'segment', 'list', '--json')).json()),
    connections: strip((await outflow(home, 'connection', 'list', '--json')).json()),
    exports: strip((await outflow(home, 'export', 'list', '--json')).json()),
    schedule: (({ next: _n, updatedAt: _u, updatedBy: _b, exports, ...rest }) => ({ ...rest, exports: exports.map(({ next: _x, ...e }: any) => e) }))(
      (await outflow(home, 'schedule', 'show', '--json')).json(),
    ),
  };
}

beforeAll(async () => {
  source = tempDir('config-source');
  target = tempDir('config-target');
  work = tempDir('config-work');
  sftp = await startFakeSftpServer({ username: 'partner', password: SFTP_PASSWORD });
  fs.mkdirSync(path.join(sftp.root, 'drop'));
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  const lines = ['profile_id,email,country'];
  for (let i = 1; i <= 9; i++) lines.push(`${i},member${i}@example.com,${i <= 5 ? 'NL' : 'DE'}`);
  fs.writeFileSync(path.join(work, 'customers.csv'), `${lines.join('\n')}\n`);
  for (const home of [source, target]) expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'))).code).toBe(0);

  // The source home, set up one command at a time as a team does today.
  const ok = async (...args: string[]) => {
    const result = await outflow(source, ...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  };
  await ok('segment', 'create', 'nl', '--where', "country = 'NL'");
  await ok('segment', 'create', 'de', '--where', "country = 'DE'");
  await ok('connection', 'create', '--type', 'sftp', '--name', 'Partner files', '--accept-privacy-terms', '--config',
    writeJson(work, 'sftp.json', { host: sftp.host, port: sftp.port, username: 'partner', password: SFTP_PASSWORD, folder: '/drop' }));
  await ok('connection', 'create', '--type', 'iterable', '--name', 'Iterable', '--accept-privacy-terms', '--usable-by', 'admins-and-contributors', '--config',
    writeJson(work, 'iterable.json', { apiKey: ITERABLE_KEY, baseUrl: iterable.url }));
  await ok('export', 'create', '--name', 'nl-files', '--connection', 'Partner files', '--segments', 'nl,de');
  await ok('export', 'create', '--name', 'nl-iterable', '--connection', 'Iterable', '--segments', 'nl', '--config',
    writeJson(work, 'export.json', { mapping: { email: 'email' }, syncMode: 'upsert' }));
  await ok('export', 'update', 'nl-iterable', '--schedule', '30 5 * * *', '--tz', 'Europe/Amsterdam');
  await ok('export', 'pause', 'nl-files');
  await ok('schedule', 'set', '--days', 'mon-fri', '--times', '06:00', '--tz', 'Europe/Amsterdam');
  await ok('segment', 'refresh');
});

afterAll(async () => {
  await Promise.all([sftp?.close(), iterable?.close()]);
  for (const dir of [source, target, work]) fs.rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Outflow as code', () => {
  it('exports a home, re-creates it in an empty home with one apply, and a second apply changes nothing', async () => {
    const file = path.join(work, 'outflow.yaml');
    const exported = await outflow(source, 'config', 'export', '--file', file);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('OUTFLOW_PARTNER_FILES_PASSWORD');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(SFTP_PASSWORD);
    expect(text).not.toContain(ITERABLE_KEY);
    expect(text).toContain('${env:OUTFLOW_ITERABLE_API_KEY}');

    // Without the secrets' variables: an error per reference, at its line and column, and nothing changes.
    const missing = await outflow(target, 'plan', '--file', file);
    expect(missing.code).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('${env:OUTFLOW_PARTNER_FILES_PASSWORD}')) + 1;
    expect(missing.stderr).toMatch(new RegExp(`outflow.yaml:${line}:\\d+: connections\\[\\d\\]\\.config\\.password: the environment variable OUTFLOW_PARTNER_FILES_PASSWORD is not set`));

    vi.stubEnv('OUTFLOW_PARTNER_FILES_PASSWORD', SFTP_PASSWORD);
    vi.stubEnv('OUTFLOW_ITERABLE_API_KEY', ITERABLE_KEY);
    const plan = await outflow(target, 'plan', '--file', file);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('+ connection "Partner files"');
    expect(plan.stdout).toContain('config.password: set (secret, not shown)');
    expect(plan.stdout).toContain('Plan: 7 to create, 0 to change, 0 to remove.');
    expect(plan.stdout + plan.stderr).not.toContain(SFTP_PASSWORD);
    expect((await outflow(target, 'segment', 'list', '--json')).json()).toEqual([]);

    const apply = await outflow(target, 'apply', '--file', file, '--yes');
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/Applied: 7 created, 0 changed, 0 removed \(file sha256 [0-9a-f]{12}\)\./);
    expect(await configurationOf(target)).toEqual(await configurationOf(source));

    const again = await outflow(target, 'plan', '--file', file);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain('No changes: the home matches');
    expect((await outflow(target, 'apply', '--file', file, '--yes')).stdout).toContain('No changes');

    // The secrets arrived: the re-created export runs.
    const run = await outflow(target, 'export', 'run', 'nl-iterable', '--json');
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ status: 'succeeded', sent: 5, rejected: 0 });

    const audit = (await outflow(target, 'audit', '--json')).json() as Array<{ action: string; via: string; details: Record<string, unknown> }>;
    expect(audit.find((e) => e.action === 'connection.create')).toMatchObject({ via: 'apply', details: expect.objectContaining({ fileSha256: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
  });

  it('plans field by field, refuses a bad edit as a whole with its position, and removes only with --prune', async () => {
    vi.stubEnv('OUTFLOW_PARTNER_FILES_PASSWORD', SFTP_PASSWORD);
    vi.stubEnv('OUTFLOW_ITERABLE_API_KEY', ITERABLE_KEY);
    const file = path.join(work, 'edited.yaml');
    const original = (await outflow(target, 'config', 'export')).stdout;
    const edited = original
      .replace("where: country = 'DE'", "where: country = 'BE'")
      .replace(/  - name: de\n    entity: Customer\n    where: country = 'BE'\n/, "  - name: de\n    entity: Customer\n    where: country = 'BE'\n  - name: be\n    where: country = 'BE'\n");
    fs.writeFileSync(file, edited);
    const plan = await outflow(target, 'plan', '--file', file);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`~ segment "de"\n    where: "country = 'DE'" → "country = 'BE'"`);
    expect(plan.stdout).toContain('+ segment "be"');

    // A mapping to a column the entity lacks refuses the whole file: the segment edit above is not made either.
    const broken = edited.replace('email: email', 'email: e_mail');
    fs.writeFileSync(file, broken);
    const refused = await outflow(target, 'apply', '--file', file, '--yes');
    expect(refused.code).toBe(1);
    const line = broken.split('\n').findIndex((l) => l.includes('email: e_mail')) + 1;
    expect(refused.stderr).toContain(`edited.yaml:${line}:`);
    expect(refused.stderr).toContain('has no such column');
    expect(refused.stderr).toContain('nothing was changed');
    expect((await outflow(target, 'segment', 'list', '--json')).json().map((s: { name: string; filter: string }) => `${s.name}: ${s.filter}`)).toEqual([
      "de: country = 'DE'",
      "nl: country = 'NL'",
    ]);

    // An item the file leaves out stays unless --prune.
    fs.writeFileSync(file, original.replace(/  - name: de\n    entity: Customer\n    where: country = 'DE'\n/, ''));
    const kept = await outflow(target, 'plan', '--file', file);
    expect(kept.stdout).toContain('segment "de" is not in the file: kept (--prune removes it)');
    const pruned = await outflow(target, 'apply', '--file', file, '--yes', '--prune');
    // nl-files still sends "de": pruning it is refused, so nothing is removed.
    expect(pruned.code).toBe(1);
    expect(pruned.stderr).toMatch(/exports\[0\]\.segments\[1\]: segment "de" is not in the file, so --prune would remove it/);
    expect((await outflow(target, 'segment', 'list', '--json')).json()).toHaveLength(2);
  });

  it('names an unknown key with a suggestion, and prints the JSON Schema for editors', async () => {
    const file = path.join(work, 'typo.yaml');
    fs.writeFileSync(file, 'version: 1\nsegments:\n  - name: x\n    where: "country = \'NL\'"\n    entitty: Customer\n');
    const result = await outflow(target, 'plan', '--file', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('typo.yaml:5:5: segments[0].entitty: unknown key "entitty"; did you mean "entity"?');
    const schema = (await outflow(target, 'config', 'schema')).json();
    expect(schema.properties.connections.items.oneOf.map((s: { properties: { type: { const: string } } }) => s.properties.type.const)).toEqual([
      'sftp',
      'microsoft-advertising',
      'campaign-monitor',
      'iterable',
      'autopilot',
    ]);
  });
});
