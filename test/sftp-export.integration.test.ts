import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outflow, parseCsv, tempDir, writeJson } from './support/cli.ts';
import { sshdAvailability, startSshd, type Sshd } from './support/sshd.ts';

const availability = sshdAvailability();
const suite = availability.available ? describe : describe.skip;
if (!availability.available) console.warn(`Skipping OpenSSH export tests: ${availability.reason}`);

const TRICKY = [
  'plain',
  'semi;colon',
  'comma, too',
  'say "hi"',
  'two\nlines',
  'windows\r\nline',
  'lone\rcarriage',
  'Zürich – 東京 – 🚀',
  '  padded  ',
  '"',
  ';',
  '|pipe|',
];

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

interface SourceRow {
  profile_id: string;
  email: string;
  country: string;
  note: string;
  score: string;
}

function makeRows(count: number): SourceRow[] {
  return Array.from({ length: count }, (_, i) => ({
    profile_id: String(i + 1),
    email: `user${i + 1}@example.com`,
    country: ['NL', 'DE', 'FR', 'JP'][i % 4]!,
    note: i % 7 === 0 ? '' : `${TRICKY[i % TRICKY.length]} #${i}`,
    score: String((i * 37) % 1000),
  }));
}

/** Downloads every regular file in `folder` over SFTP, as OpenSSH serves it. */
async function downloadAll(sshd: Sshd, folder: string): Promise<Map<string, Buffer>> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey });
  });
  try {
    const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
    const entries = await new Promise<ssh2.FileEntry[]>((resolve, reject) => sftp.readdir(folder, (err, list) => (err ? reject(err) : resolve(list))));
    const files = new Map<string, Buffer>();
    for (const entry of entries) {
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        sftp.createReadStream(path.posix.join(folder, entry.filename)).on('data', (c: Buffer) => chunks.push(c)).on('end', resolve).on('error', reject);
      });
      files.set(entry.filename, Buffer.concat(chunks));
    }
    return files;
  } finally {
    client.end();
  }
}

suite('SFTP exports to a real OpenSSH server, end to end through the CLI', () => {
  let sshd: Sshd;
  let home: string;
  let work: string;
  const rows = makeRows(1_000);

  beforeAll(async () => {
    sshd = await startSshd();
    home = tempDir('home');
    work = tempDir('work');
    const csv = ['profile_id,email,country,note,score', ...rows.map((r) => [r.profile_id, r.email, r.country, r.note, r.score].map(csvField).join(','))].join('\n') + '\n';
    fs.writeFileSync(path.join(work, 'customers.csv'), csv);
    fs.mkdirSync(path.join(sshd.root, 'gz'));
    fs.mkdirSync(path.join(sshd.root, 'plain'));
  });
  afterAll(async () => {
    await sshd?.stop();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('loads, segments, verifies and exports so that every row arrives exactly once with every value intact', async () => {
    expect((await outflow(home, 'entity', 'load', 'Customer', path.join(work, 'customers.csv'), '--json')).json()).toMatchObject({ name: 'Customer', rows: 1000 });
    expect((await outflow(home, 'segment', 'create', 'europe', '--entity', 'Customer', '--where', "country in ('NL', 'DE') and score >= 0")).code).toBe(0);
    expect((await outflow(home, 'segment', 'refresh', '--json')).json()).toEqual([{ name: 'europe', members: 500 }]);

    const config = writeJson(work, 'sftp.json', {
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
      folder: path.join(sshd.root, 'gz'),
      compression: 'gzip',
      delimiter: ';',
    });
    const created = await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'OpenSSH partner', '--config', config, '--accept-privacy-terms', '--json');
    expect(created.code).toBe(0);
    expect(created.json().config.privateKey).toBe('set');
    expect(created.stdout).not.toContain('PRIVATE KEY');

    const verified = (await outflow(home, 'connection', 'verify', 'OpenSSH partner', '--json')).json();
    expect(verified).toMatchObject({ ok: true, details: { hostKeySha256: sshd.hostKeySha256 } });
    expect((await outflow(home, 'connection', 'show', 'OpenSSH partner', '--json')).json()).toMatchObject({ hostKeySha256: sshd.hostKeySha256 });

    const exportConfig = writeJson(work, 'export.json', { rowsPerFile: 300 });
    expect((await outflow(home, 'export', 'create', '--name', 'everything', '--connection', 'OpenSSH partner', '--entities', 'Customer', '--config', exportConfig)).code).toBe(0);
    expect((await outflow(home, 'export', 'create', '--name', 'eu', '--connection', 'OpenSSH partner', '--segments', 'europe')).code).toBe(0);
    // Saving never runs an export.
    expect(fs.readdirSync(path.join(sshd.root, 'gz'))).toEqual([]);

    const run = await outflow(home, 'export', 'run', 'everything', '--json');
    expect(run.code).toBe(0);
    const summary = run.json();
    expect(summary).toMatchObject({ export: 'everything', status: 'succeeded', entities: [{ name: 'Customer', rows: 1000 }] });
    expect(summary.entities[0].files).toHaveLength(4);
    for (const file of summary.entities[0].files) expect(file.path).toMatch(/Customer_\d{8}T\d{6}Z_[1-4]of4\.csv\.gz$/);
    expect(summary.entities[0].files.map((f: { rows: number }) => f.rows)).toEqual([250, 250, 250, 250]);

    expect((await outflow(home, 'export', 'run', 'eu', '--json')).json()).toMatchObject({ status: 'succeeded', entities: [{ name: 'europe', rows: 500 }] });

    const downloaded = await downloadAll(sshd, path.join(sshd.root, 'gz'));
    // Only final names: no temporary file was left behind.
    expect([...downloaded.keys()].every((name) => /^(Customer|europe)_\d{8}T\d{6}Z(_\dof\d\.csv\.gz|\.manifest\.json)$/.test(name))).toBe(true);

    // One manifest per set, naming every part with its rows, bytes and SHA-256 as they landed.
    const manifests = [...downloaded].filter(([name]) => name.endsWith('.manifest.json'));
    expect(manifests.map(([name]) => name.split('_')[0]).sort()).toEqual(['Customer', 'europe']);
    for (const [, content] of manifests) {
      const manifest = JSON.parse(content.toString('utf8'));
      expect(manifest.rows).toBe(manifest.name === 'Customer' ? 1000 : 500);
      expect(manifest.parts).toHaveLength(manifest.name === 'Customer' ? 4 : 1);
      for (const part of manifest.parts) {
        const data = downloaded.get(part.file)!;
        expect(part.bytes).toBe(data.length);
        expect(part.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      }
      expect(manifest.bytes).toBe(manifest.parts.reduce((sum: number, p: { bytes: number }) => sum + p.bytes, 0));
    }

    const seen = new Map<string, string[]>();
    let europe = 0;
    for (const [name, content] of downloaded) {
      if (name.endsWith('.manifest.json')) continue;
      const text = gunzipSync(content).toString('utf8');
      expect(text.charCodeAt(0)).not.toBe(0xfeff);
      const [header, ...records] = parseCsv(text, ';');
      expect(header).toEqual(['profile_id', 'email', 'country', 'note', 'score']);
      const file = summary.entities[0].files.find((f: { path: string }) => f.path.endsWith(name));
      if (name.startsWith('europe')) {
        europe += records.length;
        continue;
      }
      expect(records).toHaveLength(file.rows);
      for (const record of records) {
        expect(seen.has(record[0]!)).toBe(false);
        seen.set(record[0]!, record);
      }
    }
    expect(europe).toBe(500);
    expect(seen.size).toBe(rows.length);
    for (const row of rows) expect(seen.get(row.profile_id)).toEqual([row.profile_id, row.email, row.country, row.note, row.score]);
  });

  it('writes a header-only file for an empty segment and calls the run a success with 0 rows', async () => {
    await outflow(home, 'segment', 'create', 'nobody', '--where', "country = 'XX'");
    await outflow(home, 'segment', 'refresh', 'nobody');
    const config = writeJson(work, 'plain.json', { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, folder: path.join(sshd.root, 'plain') });
    await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'plain', '--config', config, '--accept-privacy-terms');
    await outflow(home, 'export', 'create', '--name', 'empty', '--connection', 'plain', '--segments', 'nobody');
    const summary = (await outflow(home, 'export', 'run', 'empty', '--json')).json();
    expect(summary).toMatchObject({ status: 'succeeded', entities: [{ name: 'nobody', rows: 0, files: [{ rows: 0 }] }] });
    const files = fs.readdirSync(path.join(sshd.root, 'plain')).filter((f) => !f.endsWith('.manifest.json'));
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(sshd.root, 'plain', files[0]!), 'utf8')).toBe('profile_id,email,country,note,score\n');
  });

  it('fails a run whose connection was removed, with a message saying what to do', async () => {
    const config = writeJson(work, 'doomed.json', { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, folder: path.join(sshd.root, 'plain') });
    await outflow(home, 'connection', 'create', '--type', 'sftp', '--name', 'doomed', '--config', config, '--accept-privacy-terms');
    await outflow(home, 'export', 'create', '--name', 'orphan', '--connection', 'doomed', '--entities', 'Customer');
    const refused = await outflow(home, 'connection', 'remove', 'doomed');
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/used by export\(s\) "orphan".*--force/);
    expect((await outflow(home, 'connection', 'remove', 'doomed', '--force')).code).toBe(0);
    const run = await outflow(home, 'export', 'run', 'orphan', '--json');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/connection of export "orphan" was removed/);
  });
});
