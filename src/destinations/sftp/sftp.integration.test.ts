import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sshdAvailability, startSshd, type Sshd } from '../../../test/support/sshd.ts';
import type { FileExportDefinition, FileSink } from '../kit/define.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { generateEd25519KeyPair } from './fake-sftp-server.ts';
import sftp, { type SftpConnection } from './index.ts';

const files = sftp.export as FileExportDefinition<SftpConnection>;
const availability = sshdAvailability();
if (!availability.available) console.warn(`Skipping the SFTP integration tests: ${availability.reason}`);

/** CSV text of about `bytes` bytes, in the shape the engine renders. */
function csvOf(bytes: number): Buffer {
  const lines = ['email,first_name,last_name,token'];
  // Random tokens keep gzip from shrinking the file to almost nothing.
  const tokens = randomBytes(Math.ceil(bytes / 4)).toString('hex');
  let size = lines[0]!.length + 1;
  for (let i = 0; size < bytes; i++) {
    const token = tokens.slice((i * 24) % (tokens.length - 24), ((i * 24) % (tokens.length - 24)) + 24);
    const line = `member${i}@example.com,First${i},Last${i},${token}`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function bodyOf(data: Buffer, chunkBytes: number, pauseMs = 0): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < data.length; at += chunkBytes) {
        if (pauseMs > 0) await sleep(pauseMs);
        yield data.subarray(at, at + chunkBytes);
      }
    })(),
    { objectMode: false },
  );
}

describe.skipIf(!availability.available)('sftp destination against a real OpenSSH sshd', () => {
  let sshd: Sshd;
  let ctx: TestContext;
  let sink: FileSink | undefined;

  const connection = (overrides: Record<string, unknown> = {}): SftpConnection =>
    sftp.connection.schema.parse({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, folder: sshd.root, ...overrides });
  const listing = async () => (await readdir(sshd.root)).sort();

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  beforeEach(() => {
    ctx = createTestContext({ connectionName: 'it-sftp', state: { hostKeySha256: sshd.hostKeySha256 } });
  });
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
    for (const name of await readdir(sshd.root)) await rm(`${sshd.root}/${name}`, { force: true });
  });

  it('logs in with a key while verifying and records the host key fingerprint', async () => {
    const verifying = createTestContext({ connectionName: 'it-sftp', verifying: true });
    const result = await sftp.connection.check(connection(), verifying);
    expect(result, sshd.log()).toEqual({ ok: true, details: { hostKeySha256: sshd.hostKeySha256 } });
    expect(verifying.savedState).toEqual({ hostKeySha256: sshd.hostKeySha256 });
    expect(await listing()).toEqual([]);

    const later = createTestContext({ connectionName: 'it-sftp', state: verifying.savedState });
    expect(await sftp.connection.check(connection(), later)).toMatchObject({ ok: true });
  });

  it('refuses the server when its host key is not the recorded one', async () => {
    const stale = createTestContext({ connectionName: 'it-sftp', state: { hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' } });
    const result = await sftp.connection.check(connection(), stale);
    expect(result).toMatchObject({ ok: false, code: 'host_key_mismatch' });
    if (!result.ok) expect(result.message).toContain(sshd.hostKeySha256);
  });

  it('reports a key the server does not authorize as auth_failed', async () => {
    const stranger = generateEd25519KeyPair().private;
    const result = await sftp.connection.check(connection({ privateKey: stranger }), ctx);
    expect(result).toMatchObject({ ok: false, code: 'auth_failed' });
    if (!result.ok) expect(result.message).toContain('refused the private key');
  });

  it('uploads a plain CSV of a few MiB that lands byte-identical after commit', async () => {
    const csv = csvOf(5 * 1024 * 1024);
    sink = await files.open(connection(), ctx);
    const staged = await sink.stage('members.csv', bodyOf(csv, 64 * 1024));
    expect(staged.bytes).toBe(csv.length);
    await sink.commit([staged]);
    expect(await listing()).toEqual(['members.csv']);
    expect((await readFile(`${sshd.root}/members.csv`)).equals(csv)).toBe(true);
  });

  it('uploads a gzip CSV of a few MiB that lands byte-identical after commit', async () => {
    const csv = csvOf(8 * 1024 * 1024);
    const gz = gzipSync(csv);
    expect(gz.length).toBeGreaterThan(2 * 1024 * 1024);
    sink = await files.open(connection({ compression: 'gzip' }), ctx);
    // zlib hands out 16 KiB chunks.
    const staged = await sink.stage('members.csv.gz', bodyOf(gz, 16 * 1024));
    expect(staged.bytes).toBe(gz.length);
    await sink.commit([staged]);
    const landed = await readFile(`${sshd.root}/members.csv.gz`);
    expect(landed.equals(gz)).toBe(true);
    expect(gunzipSync(landed).equals(csv)).toBe(true);
  });

  it('never shows a part under its final name before commit', async () => {
    const csv = csvOf(3 * 1024 * 1024);
    sink = await files.open(connection(), ctx);
    const seen = new Set<string>();
    let staging = true;
    const watcher = (async () => {
      while (staging) {
        for (const name of await readdir(sshd.root)) seen.add(name);
        await sleep(2);
      }
    })();
    const staged = await sink.stage('watched.csv', bodyOf(csv, 64 * 1024, 1));
    staging = false;
    await watcher;

    const tempName = staged.tempPath.slice(sshd.root.length + 1);
    expect(tempName).toMatch(/^\.watched\.csv\.[0-9a-f]{12}\.partial$/);
    expect([...seen]).toEqual([tempName]);
    expect(await listing()).toEqual([tempName]);

    await sink.commit([staged]);
    expect(await listing()).toEqual(['watched.csv']);
    expect((await readFile(`${sshd.root}/watched.csv`)).equals(csv)).toBe(true);
  });

  it('replaces yesterday\'s file in one rename and stages two parts at once', async () => {
    await writeFile(`${sshd.root}/part-0.csv`, 'yesterday\n');
    sink = await files.open(connection(), ctx);
    const parts = [csvOf(2 * 1024 * 1024), csvOf(3 * 1024 * 1024)];
    const staged = await Promise.all(parts.map((data, i) => sink!.stage(`part-${i}.csv`, bodyOf(data, 64 * 1024))));
    expect(await readFile(`${sshd.root}/part-0.csv`, 'utf8')).toBe('yesterday\n');
    await sink.commit(staged);
    expect(await listing()).toEqual(['part-0.csv', 'part-1.csv']);
    for (const [i, data] of parts.entries()) expect((await readFile(`${sshd.root}/part-${i}.csv`)).equals(data)).toBe(true);
  });

  it('discards staged parts and leaves the folder as it was', async () => {
    await writeFile(`${sshd.root}/keep.csv`, 'keep\n');
    sink = await files.open(connection(), ctx);
    const staged = await Promise.all(['a.csv', 'b.csv'].map((name) => sink!.stage(name, bodyOf(csvOf(512 * 1024), 64 * 1024))));
    expect((await listing()).length).toBe(3);
    await sink.discard(staged);
    expect(await listing()).toEqual(['keep.csv']);
  });
});
