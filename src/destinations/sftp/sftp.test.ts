import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, OutflowError, RetryableError, UpstreamError } from '../../domain/errors.ts';
import { runContractSuite } from '../kit/contract.case.ts';
import type { FileExportDefinition, FileSink, StagedFile } from '../kit/define.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { isDiskFull } from './client.ts';
import { generateEd25519KeyPair, startFakeSftpServer, type FakeSftpServer } from './fake-sftp-server.ts';
import sftp, { type SftpConnection } from './index.ts';

const files = sftp.export as FileExportDefinition<SftpConnection>;
const PASSWORD = 'correct-horse-battery';

runContractSuite({
  destination: sftp,
  async start() {
    const fake = await startFakeSftpServer({ password: PASSWORD });
    const config = { host: fake.host, port: fake.port, username: fake.username, password: PASSWORD, folder: '/' };
    return { fake, config, badCredentials: { ...config, password: 'not-the-password' }, close: () => fake.close() };
  },
});

/** A body that yields `data` in chunks of `chunkBytes`, like the engine's CSV renderer. */
function bodyOf(data: Buffer, chunkBytes = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += chunkBytes) yield data.subarray(at, at + chunkBytes);
    })(),
    { objectMode: false },
  );
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejectionOf(promise: Promise<unknown>): Promise<OutflowError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutflowError);
  return error as OutflowError;
}

describe('sftp destination against the in-process server', () => {
  let fake: FakeSftpServer;
  let ctx: TestContext;
  let folder: string;
  let testNumber = 0;

  const connection = (overrides: Record<string, unknown> = {}): SftpConnection =>
    sftp.connection.schema.parse({ host: fake.host, port: fake.port, username: fake.username, password: PASSWORD, folder, ...overrides });
  const localFiles = async () => (await readdir(fake.localPath(folder))).sort();

  beforeAll(async () => {
    fake = await startFakeSftpServer({ password: PASSWORD });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    folder = `/exports-${++testNumber}`;
    await mkdir(fake.localPath(folder));
    ctx = createTestContext({ connectionName: 'test-sftp' });
  });
  afterEach(() => {
    fake.configure({ refuseWrites: false, diskFullAfterBytes: undefined, dropAfterBytes: undefined, posixRename: true, latencyMs: 0 });
    fake.reset();
  });

  describe('connection settings', () => {
    it('refuses a config with neither a password nor a private key', () => {
      const result = sftp.connection.schema.safeParse({ host: 'h', username: 'u', folder: '/x' });
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message)).toContain('Set a password or a private key (CLI: password, privateKey or privateKeyFile).');
    });

    it('defaults to port 22, a comma and no compression, and reports them as the file format', () => {
      const conn = sftp.connection.schema.parse({ host: 'h', username: 'u', password: 'pw', folder: 'out' });
      expect(conn.port).toBe(22);
      expect(files.format(conn)).toEqual({ delimiter: ',', compression: 'none', formulaEscaping: 'none' });
      const tabbed = sftp.connection.schema.parse({ host: 'h', username: 'u', password: 'pw', folder: 'out', delimiter: '\t', compression: 'gzip' });
      expect(files.format(tabbed)).toEqual({ delimiter: '\t', compression: 'gzip', formulaEscaping: 'none' });
    });

    it('stores the folder normalized: no doubled or trailing slashes, no "." segments', () => {
      const folderOf = (folder: string) => sftp.connection.schema.parse({ host: 'h', username: 'u', password: 'pw', folder }).folder;
      expect(folderOf('//exports//partner/')).toBe('/exports/partner');
      expect(folderOf(' exports/./partner// ')).toBe('exports/partner');
      expect(folderOf('/')).toBe('/');
      expect(folderOf('.')).toBe('.');
    });

    it('refuses a folder with ".." segments and says what to give instead', () => {
      for (const folder of ['/exports/../etc', '../outside', 'exports/..', 'exports\\..\\x']) {
        const result = sftp.connection.schema.safeParse({ host: 'h', username: 'u', password: 'pw', folder });
        expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
          ['folder', expect.stringMatching(/^must not contain "\.\." segments: give the export folder itself/)],
        ]);
      }
      expect(sftp.connection.schema.safeParse({ host: 'h', username: 'u', password: 'pw', folder: '/exports/..data' }).success).toBe(true);
    });

    it('refuses a host key pin that is not a SHA-256 fingerprint', () => {
      const result = sftp.connection.schema.safeParse({ host: 'h', username: 'u', password: 'pw', folder: 'out', hostKeySha256: 'MD5:ab:cd' });
      expect(result.success).toBe(false);
    });
  });

  it('recognises a full disk in SFTP v3 failure texts and in the status codes of later SFTP versions', () => {
    const status = (code: number, message: string) => Object.assign(new Error(message), { code });
    expect(isDiskFull(status(4, 'No space left on device'))).toBe(true);
    expect(isDiskFull(status(4, 'Disk quota exceeded'))).toBe(true);
    expect(isDiskFull(status(14, 'No space on filesystem'))).toBe(true);
    expect(isDiskFull(status(15, 'Quota exceeded'))).toBe(true);
    expect(isDiskFull(status(4, 'Failure'))).toBe(false);
    expect(isDiskFull(status(3, 'No space left on device'))).toBe(false);
  });

  describe('check()', () => {
    it('logs in with a password, writes and deletes a probe file, and reports and records the host key on first use', async () => {
      const result = await sftp.connection.check(connection(), ctx);
      expect(result).toEqual({ ok: true, details: { hostKeySha256: fake.hostKeySha256 } });
      const probeOps = fake.operations.filter((op) => op.path?.includes('.outflow-check-'));
      expect(probeOps.map((op) => op.op)).toEqual(expect.arrayContaining(['OPEN', 'WRITE', 'CLOSE', 'REMOVE']));
      expect(await localFiles()).toEqual([]);
      expect(ctx.savedState).toEqual({ hostKeySha256: fake.hostKeySha256 });
    });

    it('accepts a folder relative to the login folder', async () => {
      const result = await sftp.connection.check(connection({ folder: folder.slice(1) }), ctx);
      expect(result.ok).toBe(true);
    });

    it('logs in with an encrypted private key and its passphrase', async () => {
      const keys = generateEd25519KeyPair({ passphrase: 'key-passphrase', cipher: 'aes256-ctr', rounds: 4 });
      const keyed = await startFakeSftpServer({ authorizedKey: keys.public, root: fake.root });
      try {
        const conn = sftp.connection.schema.parse({ host: keyed.host, port: keyed.port, username: keyed.username, privateKey: keys.private, passphrase: 'key-passphrase', folder });
        expect(await sftp.connection.check(conn, ctx)).toMatchObject({ ok: true });

        const wrong = await sftp.connection.check({ ...conn, passphrase: 'wrong-passphrase' }, ctx);
        expect(wrong).toMatchObject({ ok: false, code: 'auth_failed' });
        if (!wrong.ok) {
          expect(wrong.message).toContain('passphrase does not open it');
          expect(wrong.message).not.toContain('wrong-passphrase');
        }
      } finally {
        await keyed.close();
      }
    });

    it('reports a wrong password as auth_failed, naming the server, the user and the connection', async () => {
      const result = await sftp.connection.check(connection({ password: 'wrong-password' }), ctx);
      expect(result).toMatchObject({ ok: false, code: 'auth_failed' });
      if (!result.ok) {
        expect(result.message).toContain(`${fake.host}:${fake.port}`);
        expect(result.message).toContain(`\`${fake.username}\``);
        expect(result.message).toContain('`test-sftp`');
        expect(result.message).not.toContain('wrong-password');
      }
      expect(fake.operations).toEqual([]);
    });

    it('reports a closed port as host_unreachable with host:port', async () => {
      const port = await closedPort();
      const result = await sftp.connection.check(connection({ port }), ctx);
      expect(result).toMatchObject({ ok: false, code: 'host_unreachable' });
      if (!result.ok) expect(result.message).toContain(`127.0.0.1:${port}`);
    });

    it('reports a host name that does not resolve as host_unreachable with host:port', async () => {
      const result = await sftp.connection.check(connection({ host: 'no-such-host.invalid', port: 2222 }), ctx);
      expect(result).toMatchObject({ ok: false, code: 'host_unreachable' });
      if (!result.ok) expect(result.message).toContain('no-such-host.invalid:2222');
    });

    it('reports a server that never completes the handshake as timeout', async () => {
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      try {
        const started = Date.now();
        const result = await sftp.connection.check(connection({ port, readyTimeoutMs: 300 }), ctx);
        expect(result).toMatchObject({ ok: false, code: 'timeout' });
        if (!result.ok) expect(result.message).toContain('300 ms');
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        silent.close();
      }
    });

    it('reports a server that stops answering during the folder check as timeout', async () => {
      fake.configure({ latencyMs: 1_000 });
      const result = await sftp.connection.check(connection({ readyTimeoutMs: 300 }), ctx);
      expect(result).toMatchObject({ ok: false, code: 'timeout' });
      if (!result.ok) expect(result.message).toContain(`checking folder \`${folder}\``);
    });

    it('reports a missing folder as folder_missing', async () => {
      const result = await sftp.connection.check(connection({ folder: '/does-not-exist' }), ctx);
      expect(result).toMatchObject({ ok: false, code: 'folder_missing' });
      if (!result.ok) expect(result.message).toContain('`/does-not-exist`');
    });

    it('reports a folder that is a file as folder_missing', async () => {
      await writeFile(fake.localPath(`${folder}/plain.txt`), 'x');
      const result = await sftp.connection.check(connection({ folder: `${folder}/plain.txt` }), ctx);
      expect(result).toMatchObject({ ok: false, code: 'folder_missing' });
      if (!result.ok) expect(result.message).toContain('is a file, not a folder');
    });

    it('reports a read-only folder as folder_not_writable', async () => {
      fake.configure({ refuseWrites: true });
      const result = await sftp.connection.check(connection(), ctx);
      expect(result).toMatchObject({ ok: false, code: 'folder_not_writable' });
      if (!result.ok) expect(result.message).toContain(`folder \`${folder}\``);
    });

    it('records the host key fingerprint while verifying a never-verified connection', async () => {
      const verifying = createTestContext({ connectionName: 'test-sftp', verifying: true });
      const result = await sftp.connection.check(connection(), verifying);
      expect(result).toEqual({ ok: true, details: { hostKeySha256: fake.hostKeySha256 } });
      expect(verifying.savedState).toEqual({ hostKeySha256: fake.hostKeySha256 });
    });

    it('refuses a changed host key while verifying, and records it only when accepted explicitly', async () => {
      const old = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
      const verifying = createTestContext({ connectionName: 'test-sftp', verifying: true, state: { hostKeySha256: old } });
      const refused = await sftp.connection.check(connection(), verifying);
      expect(refused).toMatchObject({ ok: false, code: 'host_key_mismatch', details: { offeredHostKeySha256: fake.hostKeySha256, recordedHostKeySha256: old } });
      expect(verifying.savedState).toEqual({});
      const accepting = createTestContext({ connectionName: 'test-sftp', verifying: true, state: { hostKeySha256: old } });
      const accepted = await sftp.connection.check(connection(), { ...accepting, acceptHostKey: fake.hostKeySha256 });
      expect(accepted).toEqual({ ok: true, details: { hostKeySha256: fake.hostKeySha256 } });
      expect(accepting.savedState).toEqual({ hostKeySha256: fake.hostKeySha256 });
    });

    it('refuses a server whose host key differs from the recorded one, before logging in', async () => {
      const other = await startFakeSftpServer({ password: PASSWORD, root: fake.root });
      try {
        const recorded = createTestContext({ connectionName: 'test-sftp', state: { hostKeySha256: fake.hostKeySha256 } });
        const result = await sftp.connection.check(connection({ port: other.port }), recorded);
        expect(result).toMatchObject({ ok: false, code: 'host_key_mismatch' });
        if (!result.ok) {
          expect(result.message).toContain(other.hostKeySha256);
          expect(result.message).toContain(fake.hostKeySha256);
          expect(result.message).toContain('outflow connection verify test-sftp');
        }
        expect(other.operations).toEqual([]);
        expect(recorded.savedState).toEqual({});
      } finally {
        await other.close();
      }
    });

    it('holds the server to a pinned fingerprint even while verifying, and accepts the pin without its prefix', async () => {
      const other = await startFakeSftpServer({ password: PASSWORD, root: fake.root });
      try {
        const verifying = createTestContext({ connectionName: 'test-sftp', verifying: true });
        const result = await sftp.connection.check(connection({ port: other.port, hostKeySha256: fake.hostKeySha256 }), verifying);
        expect(result).toMatchObject({ ok: false, code: 'host_key_mismatch' });
        if (!result.ok) expect(result.message).toContain('hostKeySha256');
        expect(verifying.savedState).toEqual({});

        const bare = `${fake.hostKeySha256.replace('SHA256:', '')}=`;
        expect(await sftp.connection.check(connection({ hostKeySha256: bare }), ctx)).toMatchObject({ ok: true });
      } finally {
        await other.close();
      }
    });
  });

  describe('file sink', () => {
    let sink: FileSink | undefined;
    afterEach(async () => {
      await sink?.close();
      sink = undefined;
    });

    it('stages a part under a hidden temporary name and commits it atomically to its final name', async () => {
      sink = await files.open(connection(), ctx);
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const staged = await sink.stage('segment.part-0001.csv', bodyOf(data, 16 * 1024));

      expect(staged).toMatchObject({ name: 'segment.part-0001.csv', path: `${folder}/segment.part-0001.csv`, bytes: data.length });
      expect(staged.tempPath).toMatch(new RegExp(`^${folder}/\\.segment\\.part-0001\\.csv\\.[0-9a-f]{12}\\.partial$`));
      expect(await localFiles()).toEqual([staged.tempPath.slice(folder.length + 1)]);

      await sink.commit([staged]);
      expect(await localFiles()).toEqual(['segment.part-0001.csv']);
      expect((await readFile(fake.localPath(staged.path))).equals(data)).toBe(true);
      expect(fake.operations.filter((op) => op.op === 'POSIX-RENAME')).toEqual([{ op: 'POSIX-RENAME', path: staged.tempPath, to: staged.path, status: 0 }]);
    });

    it('stages an empty part as an empty file', async () => {
      sink = await files.open(connection(), ctx);
      const staged = await sink.stage('empty.csv', bodyOf(Buffer.alloc(0)));
      expect(staged.bytes).toBe(0);
      await sink.commit([staged]);
      expect(await localFiles()).toEqual(['empty.csv']);
      expect((await readFile(fake.localPath(staged.path))).length).toBe(0);
    });

    it('cuts uploads into WRITE requests no larger than the server takes', async () => {
      sink = await files.open(connection(), ctx);
      const data = randomBytes(1024 * 1024);
      await sink.stage('cut.csv', bodyOf(data, 1024 * 1024));
      const writes = fake.operations.filter((op) => op.op === 'WRITE').map((op) => op.bytes!);
      expect(writes.reduce((a, b) => a + b, 0)).toBe(data.length);
      // ssh2 takes ~31 KiB per WRITE from servers that do not announce OpenSSH's limits extension.
      expect(Math.max(...writes)).toBeLessThanOrEqual(31_952);
      expect(writes.length).toBe(Math.ceil(data.length / 31_952));
    });

    it('gathers small chunks (a FIFO gives 64 KiB at a time) into WRITE requests of the largest size the server takes', async () => {
      sink = await files.open(connection(), ctx);
      const data = randomBytes(1024 * 1024 + 100);
      const staged = await sink.stage('gathered.csv', bodyOf(data, 4 * 1024));
      const writes = fake.operations.filter((op) => op.op === 'WRITE').map((op) => op.bytes!);
      expect(writes.length).toBe(Math.ceil(data.length / 31_952));
      expect(writes.slice(0, -1).every((bytes) => bytes === 31_952)).toBe(true);
      await sink.commit([staged]);
      expect((await readFile(fake.localPath(staged.path))).equals(data)).toBe(true);
    });

    it('sends chunks of any size intact through its one reused gathering buffer', async () => {
      sink = await files.open(connection(), ctx);
      const max = 31_952;
      // A request filled across chunks, a chunk bigger than two requests while some bytes wait (copied), one
      // that finds nothing waiting (sent without a copy), exact fits and a short tail.
      const sizes = [7, max * 2 + 5, 100, max - 112, max, max * 3, 40_000, 3];
      const chunks = sizes.map((size) => randomBytes(size));
      const data = Buffer.concat(chunks);
      const staged = await sink.stage('mixed.csv', Readable.from(chunks, { objectMode: false }));
      const writes = fake.operations.filter((op) => op.op === 'WRITE').map((op) => op.bytes!);
      expect(writes.slice(0, -1).every((bytes) => bytes === max)).toBe(true);
      expect(writes.reduce((sum, bytes) => sum + bytes, 0)).toBe(data.length);
      await sink.commit([staged]);
      expect((await readFile(fake.localPath(staged.path))).equals(data)).toBe(true);
    });

    it('replaces an existing file on commit', async () => {
      await writeFile(fake.localPath(`${folder}/daily.csv`), 'yesterday');
      sink = await files.open(connection(), ctx);
      const staged = await sink.stage('daily.csv', bodyOf(Buffer.from('today\n')));
      expect(await readFile(fake.localPath(`${folder}/daily.csv`), 'utf8')).toBe('yesterday');
      await sink.commit([staged]);
      expect(await readFile(fake.localPath(`${folder}/daily.csv`), 'utf8')).toBe('today\n');
      expect(await localFiles()).toEqual(['daily.csv']);
    });

    it('falls back to delete and rename on a server without posix-rename', async () => {
      fake.configure({ posixRename: false });
      await writeFile(fake.localPath(`${folder}/daily.csv`), 'yesterday');
      sink = await files.open(connection(), ctx);
      const staged = await sink.stage('daily.csv', bodyOf(Buffer.from('today\n')));
      await sink.commit([staged]);
      expect(await readFile(fake.localPath(`${folder}/daily.csv`), 'utf8')).toBe('today\n');
      const commitOps = fake.operations.filter((op) => op.op === 'REMOVE' || op.op === 'RENAME' || op.op === 'POSIX-RENAME');
      expect(commitOps).toEqual([
        { op: 'REMOVE', path: staged.path, status: 0 },
        { op: 'RENAME', path: staged.tempPath, to: staged.path, status: 0 },
      ]);
    });

    it('discards staged parts without leaving anything behind, and never throws', async () => {
      sink = await files.open(connection(), ctx);
      const first = await sink.stage('a.csv', bodyOf(Buffer.from('a\n')));
      const second = await sink.stage('b.csv', bodyOf(Buffer.from('b\n')));
      expect((await localFiles()).length).toBe(2);
      const gone: StagedFile = { ...first, tempPath: `${folder}/.never-existed.partial` };
      await expect(sink.discard([first, second, gone])).resolves.toBeUndefined();
      expect(await localFiles()).toEqual([]);
    });

    it('stages two parts at once on one connection', async () => {
      const before = fake.connections;
      sink = await files.open(connection(), ctx);
      const parts = [randomBytes(2 * 1024 * 1024), randomBytes(2 * 1024 * 1024 + 5)];
      const staged = await Promise.all(parts.map((data, i) => sink!.stage(`part-${i}.csv`, bodyOf(data))));
      await sink.commit(staged);
      expect(fake.connections - before).toBe(1);
      expect(fake.maxConcurrentUploads).toBe(2);
      for (const [i, data] of parts.entries()) {
        expect(staged[i]!.bytes).toBe(data.length);
        expect((await readFile(fake.localPath(`${folder}/part-${i}.csv`))).equals(data)).toBe(true);
      }
    });

    it('turns a refused write into folder_not_writable', async () => {
      sink = await files.open(connection(), ctx);
      fake.configure({ refuseWrites: true });
      const error = await rejectionOf(sink.stage('a.csv', bodyOf(randomBytes(1000))));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('folder_not_writable');
      expect(error.message).toContain(`\`${fake.username}\``);
      expect(await localFiles()).toEqual([]);
    });

    it('reports a full disk as disk_full and removes the partial upload', async () => {
      sink = await files.open(connection(), ctx);
      fake.configure({ diskFullAfterBytes: 200_000 });
      const error = await rejectionOf(sink.stage('big.csv', bodyOf(randomBytes(1024 * 1024))));
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error.code).toBe('disk_full');
      expect(error.message).toContain('out of disk space');
      expect(await localFiles()).toEqual([]);
    });

    it('reports a connection dropped mid-upload as connection_lost, leaves no final file, and discard removes the temp', async () => {
      sink = await files.open(connection(), ctx);
      const connectionsBefore = fake.connections;
      fake.configure({ dropAfterBytes: 300_000 });
      const error = await rejectionOf(sink.stage('dropped.csv', bodyOf(randomBytes(2 * 1024 * 1024))));
      expect(error).toBeInstanceOf(RetryableError);
      expect(error.code).toBe('connection_lost');
      const left = await localFiles();
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^\.dropped\.csv\.[0-9a-f]{12}\.partial$/);

      await sink.discard([]);
      expect(await localFiles()).toEqual([]);
      expect(fake.connections).toBe(connectionsBefore + 1);
    });

    it('reports an unexplained refusal as upstream_rejected with the status and the server\'s text', async () => {
      sink = await files.open(connection(), ctx);
      fake.failNext(4, { path: '.partial' });
      const error = await rejectionOf(sink.stage('refused.csv', bodyOf(Buffer.from('x\n'))));
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error.code).toBe('upstream_rejected');
      expect(error.message).toContain('with status 4');
      expect(fake.requests.find((request) => request.method === 'OPEN')?.path).toMatch(/\.refused\.csv\.[0-9a-f]{12}\.partial$/);
    });

    it('passes on the error of a failing body and removes the partial upload', async () => {
      sink = await files.open(connection(), ctx);
      const broken = new Readable({ read() {} });
      broken.push(randomBytes(100_000));
      setTimeout(() => broken.destroy(new Error('renderer crashed')), 50);
      await expect(sink.stage('broken.csv', broken)).rejects.toThrow('renderer crashed');
      expect(await localFiles()).toEqual([]);
    });

    it('refuses a file name that leaves the export folder', async () => {
      sink = await files.open(connection(), ctx);
      const error = await rejectionOf(sink.stage('../escape.csv', bodyOf(Buffer.from('x'))));
      expect(error.code).toBe('invalid_input');
      expect(fake.operations.filter((op) => op.op === 'OPEN')).toEqual([]);
    });

    it('refuses to open on a server whose host key differs from the recorded one', async () => {
      const recorded = createTestContext({ connectionName: 'test-sftp', state: { hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' } });
      const error = await rejectionOf(files.open(connection(), recorded));
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('host_key_mismatch');
    });

    it('refuses to open when the export folder is missing', async () => {
      const error = await rejectionOf(files.open(connection({ folder: '/nowhere' }), ctx));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('folder_missing');
    });
  });
});

describe('generateEd25519KeyPair', () => {
  // ssh2's own generator yields a pair its parser rejects about once in two hundred draws: 2000 draws
  // without a single unreadable pair would happen by chance about once in 20,000 runs.
  it('only returns key pairs that ssh2 can read back', async () => {
    const { utils } = (await import('ssh2')).default;
    for (let i = 0; i < 2000; i++) {
      const pair = generateEd25519KeyPair();
      expect(utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
    }
  });
});
