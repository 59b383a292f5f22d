import { constants as fsConstants, type Stats as FsStats } from 'node:fs';
import { mkdtemp, open, readdir, rename, rm, stat, lstat, mkdir, rmdir, unlink, chmod, type FileHandle } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import ssh2 from 'ssh2';
import type { Attributes, Connection, FileEntry, SFTPWrapper } from 'ssh2';
import type { ContractFake, RecordedRequest } from '../kit/contract.case.ts';
import { fingerprintOf } from './client.ts';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** What the fake does when a test asks it to misbehave. Every field can be changed with `configure`. */
export interface FakeSftpBehaviour {
  /** Refuse every write, create, rename and delete with PERMISSION_DENIED, like a read-only folder. */
  refuseWrites: boolean;
  /**
   * Answer WRITE with a disk-full failure once this many upload bytes (counted since start or `reset`) have
   * been written: SFTP v3 has no
   * status for it, so like ProFTPD's mod_sftp the fake sends FAILURE with the errno text. (ssh2's server
   * refuses to send v5's NO_SPACE_ON_FILESYSTEM.)
   */
  diskFullAfterBytes: number | undefined;
  /** Cut the TCP connection (no SSH goodbye) once this many upload bytes (since start or `reset`) have arrived; fires once. */
  dropAfterBytes: number | undefined;
  /** Announce and honour posix-rename@openssh.com, as OpenSSH does. */
  posixRename: boolean;
  /** Delay before every SFTP answer, to imitate a distant server in benchmarks. */
  latencyMs: number;
  /** Delay before the answers to some requests (`POSIX-RENAME`, `RENAME`, …), instead of `latencyMs`. */
  opLatencyMs: Record<string, number>;
  /**
   * Requests the fake records but never answers, like a hung server: SFTP request names (`STAT`, `OPEN`,
   * `WRITE`, `CLOSE`, `POSIX-RENAME`, …), or `SFTP` to leave the subsystem request itself unanswered.
   */
  stall: string[];
}

export interface FakeSftpOptions extends Partial<FakeSftpBehaviour> {
  /**
   * Apply a umask of 077 to what clients create or chmod (files 0600, folders 0700, whatever mode they ask
   * for), as a server configured so would: `outflow demo` serves a folder inside the home, where everything
   * must stay private.
   */
  private?: boolean;
  username?: string;
  /** The password the fake accepts for `username`. */
  password?: string;
  /** An OpenSSH public key line (`ssh-ed25519 AAAA…`) the fake also accepts for `username`. */
  authorizedKey?: string;
  /** The host private key (PEM or OpenSSH); a fresh ed25519 key when omitted. */
  hostKey?: string;
  /** Local folder that backs the server's `/`; a fresh temporary folder (removed on close) when omitted. */
  root?: string;
  /** Loopback port to listen on (any free one when omitted): restart on the same port to imitate a server whose host key changed. */
  port?: number;
}

export interface FakeSftpOperation {
  op: string;
  path?: string;
  /** Second path of RENAME / posix-rename. */
  to?: string;
  /** Data bytes of a WRITE. */
  bytes?: number;
  /** SFTP status the fake answered with, when not a handle, data or attributes. */
  status?: number;
}

export interface FakeSftpServer extends ContractFake {
  host: string;
  port: number;
  url: string;
  username: string;
  password: string;
  /** Fingerprint of the fake's host key, `SHA256:…`. */
  hostKeySha256: string;
  /** The local folder behind the server's `/` (and login folder). */
  root: string;
  /** Every SFTP request received, in order. */
  readonly operations: FakeSftpOperation[];
  /** Upload bytes accepted so far (what `diskFullAfterBytes` and `dropAfterBytes` count). */
  readonly uploadedBytes: number;
  /** SSH connections accepted so far. */
  readonly connections: number;
  /** Peak number of files open for writing at once. */
  readonly maxConcurrentUploads: number;
  configure(patch: Partial<FakeSftpBehaviour>): void;
  /** Forgets recorded operations and byte counts. */
  reset(): void;
  /** The local path of a server path. */
  localPath(serverPath: string): string;
  close(): Promise<void>;
}

const DISK_FULL_MESSAGE = 'No space left on device';

function toLocal(root: string, serverPath: string): string {
  return join(root, posix.normalize(posix.join('/', serverPath)));
}

function nodeOpenFlags(pflags: number): number {
  const readable = (pflags & OPEN_MODE.READ) !== 0;
  const writable = (pflags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
  let flags = readable && writable ? fsConstants.O_RDWR : writable ? fsConstants.O_WRONLY : fsConstants.O_RDONLY;
  if (pflags & OPEN_MODE.APPEND) flags |= fsConstants.O_APPEND;
  if (pflags & OPEN_MODE.CREAT) flags |= fsConstants.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= fsConstants.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= fsConstants.O_EXCL;
  return flags;
}

function statusOf(error: unknown): number {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return STATUS_CODE.NO_SUCH_FILE;
    case 'EACCES':
    case 'EPERM':
      return STATUS_CODE.PERMISSION_DENIED;
    default:
      return STATUS_CODE.FAILURE;
  }
}

function attrsOf(stats: FsStats): Attributes {
  return {
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

/** Reads the `string oldpath, string newpath` body of a posix-rename@openssh.com request. */
function twoStrings(data: Buffer): [string, string] {
  const firstLength = data.readUInt32BE(0);
  const first = data.subarray(4, 4 + firstLength).toString('utf8');
  const secondLength = data.readUInt32BE(4 + firstLength);
  const second = data.subarray(8 + firstLength, 8 + firstLength + secondLength).toString('utf8');
  return [first, second];
}

/**
 * ssh2's server answers INIT with a VERSION packet that lists no extensions and offers no hook to add any.
 * This swaps that one packet for one that announces `extensions`, so the client sees what OpenSSH shows.
 */
function announceExtensions(sftp: SFTPWrapper, extensions: Record<string, string>): void {
  const internals = sftp as unknown as {
    _protocol: { channelData(id: number, data: Buffer): void };
    outgoing: { id: number; window: number };
  };
  const protocol = internals._protocol;
  const channelData = protocol.channelData;
  const plainVersion = Buffer.from([0, 0, 0, 5, 2, 0, 0, 0, 3]);
  const parts: Buffer[] = [Buffer.from([2, 0, 0, 0, 3])];
  for (const [name, value] of Object.entries(extensions)) {
    for (const text of [name, value]) {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(text));
      parts.push(length, Buffer.from(text));
    }
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  const version = Buffer.concat([header, body]);
  let replaced = false;
  protocol.channelData = function (this: unknown, id: number, data: Buffer) {
    if (!replaced && id === internals.outgoing.id && data.equals(plainVersion)) {
      replaced = true;
      internals.outgoing.window -= version.length - data.length;
      return channelData.call(this, id, version);
    }
    return channelData.call(this, id, data);
  } as typeof channelData;
}

type OpenEntry = { kind: 'file'; file: FileHandle; path: string; writable: boolean } | { kind: 'dir'; path: string; listed: boolean };

/**
 * An ed25519 key pair in OpenSSH format that ssh2 itself can read back. About one in two hundred pairs
 * from `ssh2.utils.generateKeyPairSync('ed25519')` is rejected by ssh2's own parser ("Malformed OpenSSH
 * private key"), which made tests that need a fresh key fail at random; such a pair is drawn again.
 */
export function generateEd25519KeyPair(encryption?: { passphrase: string; cipher: string; rounds: number }): { private: string; public: string } {
  for (;;) {
    const pair = encryption ? utils.generateKeyPairSync('ed25519', encryption) : utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(pair.private, encryption?.passphrase);
    if (!(parsed instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

/**
 * An in-process SFTP server (ssh2's server API) backed by a real temporary folder, for the SFTP
 * destination's fault cases: password or key login, a chosen host key, read-only folders, a full disk,
 * a connection cut mid-upload and requests that are never answered. It records every SFTP request.
 *
 * @example
 * const fake = await startFakeSftpServer({ password: 'secret' })
 * fake.configure({ diskFullAfterBytes: 1024 })
 * await fake.close()
 */
export async function startFakeSftpServer(options: FakeSftpOptions = {}): Promise<FakeSftpServer> {
  const username = options.username ?? 'outflow';
  const password = options.password ?? 'fake-sftp-password';
  const hostKey = options.hostKey ?? generateEd25519KeyPair().private;
  const parsedHostKey = utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error) throw parsedHostKey;
  const authorizedKey = options.authorizedKey ? utils.parseKey(options.authorizedKey) : undefined;
  if (authorizedKey instanceof Error) throw authorizedKey;
  const masked = (mode: number) => (options.private ? mode & ~0o077 : mode);
  const ownsRoot = options.root === undefined;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'outflow-fake-sftp-')));

  const behaviour: FakeSftpBehaviour = {
    refuseWrites: options.refuseWrites ?? false,
    diskFullAfterBytes: options.diskFullAfterBytes,
    dropAfterBytes: options.dropAfterBytes,
    posixRename: options.posixRename ?? true,
    latencyMs: options.latencyMs ?? 0,
    stall: options.stall ?? [],
    opLatencyMs: options.opLatencyMs ?? {},
  };
  const operations: FakeSftpOperation[] = [];
  let uploadedBytes = 0;
  let connections = 0;
  let openUploads = 0;
  let maxConcurrentUploads = 0;
  let failNext: { status: number; path?: string } | undefined;
  const sockets = new Map<string, Socket>();
  const clients = new Set<Connection>();

  const ssh = new Server({ hostKeys: [hostKey] }, (client, info) => {
    connections++;
    clients.add(client);
    const socket = sockets.get(`${info.ip}:${info.port}`);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (auth) => {
      if (auth.username !== username) return auth.reject();
      if (auth.method === 'password' && auth.password === password) return auth.accept();
      if (auth.method === 'publickey' && authorizedKey && auth.key.algo === authorizedKey.type && auth.key.data.equals(authorizedKey.getPublicSSH())) {
        if (!auth.signature || !auth.blob) return auth.accept();
        return authorizedKey.verify(auth.blob, auth.signature, auth.hashAlgo) ? auth.accept() : auth.reject();
      }
      auth.reject(authorizedKey ? ['password', 'publickey'] : ['password']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          if (behaviour.stall.includes('SFTP')) return;
          const sftp = acceptSftp();
          if (behaviour.posixRename) announceExtensions(sftp, { 'posix-rename@openssh.com': '1' });
          serveSftp(sftp, () => socket?.destroy());
        });
      });
    });
  });

  function serveSftp(sftp: SFTPWrapper, dropConnection: () => void): void {
    const handles = new Map<string, OpenEntry>();
    let nextHandle = 0;
    const later = (answer: () => void, op?: string) => {
      const ms = (op !== undefined ? behaviour.opLatencyMs[op] : undefined) ?? behaviour.latencyMs;
      return ms > 0 ? setTimeout(answer, ms) : answer();
    };
    const status = (reqId: number, record: FakeSftpOperation, code: number, message?: string) => {
      record.status = code;
      later(() => sftp.status(reqId, code, message), record.op);
    };
    /** Records the request; answers it with a `failNext` status instead when one is armed for it. */
    const begin = (reqId: number, record: FakeSftpOperation): boolean => {
      operations.push(record);
      if (behaviour.stall.includes(record.op)) return false;
      if (failNext && (!failNext.path || [record.path, record.to].some((p) => p?.includes(failNext!.path!)))) {
        const code = failNext.status;
        failNext = undefined;
        status(reqId, record, code);
        return false;
      }
      return true;
    };
    const run = (reqId: number, record: FakeSftpOperation, work: () => Promise<void>) => {
      if (!begin(reqId, record)) return;
      work().catch((error: unknown) => status(reqId, record, statusOf(error), (error as Error).message));
    };
    const refused = (reqId: number, record: FakeSftpOperation): boolean => {
      if (!behaviour.refuseWrites) return false;
      status(reqId, record, STATUS_CODE.PERMISSION_DENIED, 'Permission denied');
      return true;
    };
    const handleFor = (entry: OpenEntry): Buffer => {
      const handle = Buffer.from(String(nextHandle++));
      handles.set(handle.toString(), entry);
      return handle;
    };
    const entryOf = (handle: Buffer): OpenEntry | undefined => handles.get(handle.toString());

    sftp.on('OPEN', (reqId, filename, flags, attrs) => {
      const record: FakeSftpOperation = { op: 'OPEN', path: filename };
      run(reqId, record, async () => {
        const writable = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT)) !== 0;
        if (writable && refused(reqId, record)) return;
        const file = await open(toLocal(root, filename), nodeOpenFlags(flags), masked(attrs.mode ?? 0o644));
        if (writable) maxConcurrentUploads = Math.max(maxConcurrentUploads, ++openUploads);
        const handle = handleFor({ kind: 'file', file, path: filename, writable });
        later(() => sftp.handle(reqId, handle));
      });
    });

    sftp.on('WRITE', (reqId, handle, offset, data) => {
      const entry = entryOf(handle);
      const record: FakeSftpOperation = { op: 'WRITE', path: entry?.path, bytes: data.length };
      run(reqId, record, async () => {
        if (entry?.kind !== 'file') return status(reqId, record, STATUS_CODE.FAILURE, 'Bad handle');
        if (behaviour.dropAfterBytes !== undefined && uploadedBytes + data.length > behaviour.dropAfterBytes) {
          behaviour.dropAfterBytes = undefined;
          dropConnection();
          return;
        }
        if (behaviour.diskFullAfterBytes !== undefined && uploadedBytes + data.length > behaviour.diskFullAfterBytes) {
          return status(reqId, record, STATUS_CODE.FAILURE, DISK_FULL_MESSAGE);
        }
        uploadedBytes += data.length;
        await entry.file.write(data, 0, data.length, offset);
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('READ', (reqId, handle, offset, length) => {
      const entry = entryOf(handle);
      const record: FakeSftpOperation = { op: 'READ', path: entry?.path, bytes: length };
      run(reqId, record, async () => {
        if (entry?.kind !== 'file') return status(reqId, record, STATUS_CODE.FAILURE, 'Bad handle');
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await entry.file.read(buffer, 0, length, offset);
        if (bytesRead === 0) return status(reqId, record, STATUS_CODE.EOF);
        later(() => sftp.data(reqId, buffer.subarray(0, bytesRead)));
      });
    });

    sftp.on('CLOSE', (reqId, handle) => {
      const entry = entryOf(handle);
      const record: FakeSftpOperation = { op: 'CLOSE', path: entry?.path };
      run(reqId, record, async () => {
        if (!entry) return status(reqId, record, STATUS_CODE.FAILURE, 'Bad handle');
        handles.delete(handle.toString());
        if (entry.kind === 'file') {
          if (entry.writable) openUploads--;
          await entry.file.close();
        }
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    const answerStat = (op: string, read: (path: string) => Promise<FsStats>) => (reqId: number, path: string) => {
      const record: FakeSftpOperation = { op, path };
      run(reqId, record, async () => {
        const attrs = attrsOf(await read(toLocal(root, path)));
        later(() => sftp.attrs(reqId, attrs));
      });
    };
    sftp.on('STAT', answerStat('STAT', stat));
    sftp.on('LSTAT', answerStat('LSTAT', lstat));

    sftp.on('FSTAT', (reqId, handle) => {
      const entry = entryOf(handle);
      const record: FakeSftpOperation = { op: 'FSTAT', path: entry?.path };
      run(reqId, record, async () => {
        if (!entry) return status(reqId, record, STATUS_CODE.FAILURE, 'Bad handle');
        const attrs = attrsOf(entry.kind === 'file' ? await entry.file.stat() : await stat(toLocal(root, entry.path)));
        later(() => sftp.attrs(reqId, attrs));
      });
    });

    sftp.on('FSETSTAT', (reqId, handle, attrs) => {
      const entry = entryOf(handle);
      const record: FakeSftpOperation = { op: 'FSETSTAT', path: entry?.path };
      run(reqId, record, async () => {
        if (entry?.kind !== 'file') return status(reqId, record, STATUS_CODE.FAILURE, 'Bad handle');
        if (attrs.mode !== undefined) await entry.file.chmod(masked(attrs.mode & 0o7777));
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('SETSTAT', (reqId, path, attrs) => {
      const record: FakeSftpOperation = { op: 'SETSTAT', path };
      run(reqId, record, async () => {
        if (refused(reqId, record)) return;
        if (attrs.mode !== undefined) await chmod(toLocal(root, path), masked(attrs.mode & 0o7777));
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('REMOVE', (reqId, path) => {
      const record: FakeSftpOperation = { op: 'REMOVE', path };
      run(reqId, record, async () => {
        if (refused(reqId, record)) return;
        await unlink(toLocal(root, path));
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('RENAME', (reqId, from, to) => {
      const record: FakeSftpOperation = { op: 'RENAME', path: from, to };
      run(reqId, record, async () => {
        if (refused(reqId, record)) return;
        // Like OpenSSH (link + unlink), plain RENAME never replaces an existing file.
        const target = toLocal(root, to);
        if (await stat(target).then(() => true, () => false)) return status(reqId, record, STATUS_CODE.FAILURE, 'Failure');
        await rename(toLocal(root, from), target);
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('EXTENDED', (reqId, name, data) => {
      if (name !== 'posix-rename@openssh.com' || !behaviour.posixRename) {
        const record: FakeSftpOperation = { op: `EXTENDED ${name}` };
        if (begin(reqId, record)) status(reqId, record, STATUS_CODE.OP_UNSUPPORTED);
        return;
      }
      const [from, to] = twoStrings(data);
      const record: FakeSftpOperation = { op: 'POSIX-RENAME', path: from, to };
      run(reqId, record, async () => {
        if (refused(reqId, record)) return;
        await rename(toLocal(root, from), toLocal(root, to));
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('MKDIR', (reqId, path, attrs) => {
      const record: FakeSftpOperation = { op: 'MKDIR', path };
      run(reqId, record, async () => {
        if (refused(reqId, record)) return;
        await mkdir(toLocal(root, path), { mode: masked(attrs.mode ?? 0o755) });
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('RMDIR', (reqId, path) => {
      const record: FakeSftpOperation = { op: 'RMDIR', path };
      run(reqId, record, async () => {
        if (refused(reqId, record)) return;
        await rmdir(toLocal(root, path));
        status(reqId, record, STATUS_CODE.OK);
      });
    });

    sftp.on('OPENDIR', (reqId, path) => {
      const record: FakeSftpOperation = { op: 'OPENDIR', path };
      run(reqId, record, async () => {
        if (!(await stat(toLocal(root, path))).isDirectory()) return status(reqId, record, STATUS_CODE.FAILURE, 'Not a directory');
        const handle = handleFor({ kind: 'dir', path, listed: false });
        later(() => sftp.handle(reqId, handle));
      });
    });

    sftp.on('READDIR', (reqId, handle) => {
      const entry = entryOf(handle);
      const record: FakeSftpOperation = { op: 'READDIR', path: entry?.path };
      run(reqId, record, async () => {
        if (entry?.kind !== 'dir') return status(reqId, record, STATUS_CODE.FAILURE, 'Bad handle');
        if (entry.listed) return status(reqId, record, STATUS_CODE.EOF);
        entry.listed = true;
        const local = toLocal(root, entry.path);
        const names: FileEntry[] = [];
        for (const filename of await readdir(local)) {
          const attrs = attrsOf(await lstat(join(local, filename)));
          names.push({ filename, longname: filename, attrs });
        }
        later(() => sftp.name(reqId, names));
      });
    });

    sftp.on('REALPATH', (reqId, path) => {
      const record: FakeSftpOperation = { op: 'REALPATH', path };
      run(reqId, record, async () => {
        const absolute = posix.normalize(posix.join('/', path));
        const attrs = attrsOf(await stat(toLocal(root, absolute)));
        later(() => sftp.name(reqId, [{ filename: absolute, longname: absolute, attrs }]));
      });
    });

    sftp.on('close', () => {
      for (const entry of handles.values()) {
        if (entry.kind === 'file') {
          if (entry.writable) openUploads--;
          void entry.file.close().catch(() => undefined);
        }
      }
      handles.clear();
    });
  }

  // Accepting TCP ourselves and injecting the sockets lets the fake cut a connection without SSH's goodbye.
  const tcp = createServer((socket) => {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    sockets.set(key, socket);
    socket.once('close', () => sockets.delete(key));
    ssh.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = tcp.address() as AddressInfo;
  const host = '127.0.0.1';

  return {
    host,
    port,
    url: `sftp://${host}:${port}`,
    username,
    password,
    hostKeySha256: fingerprintOf(parsedHostKey.getPublicSSH()),
    root,
    operations,
    get uploadedBytes() {
      return uploadedBytes;
    },
    get connections() {
      return connections;
    },
    get maxConcurrentUploads() {
      return maxConcurrentUploads;
    },
    get requests(): RecordedRequest[] {
      return operations.map((operation) => ({
        method: operation.op,
        path: operation.path ?? '',
        headers: {},
        body: operation.to ?? '',
      }));
    },
    /** `status` is an SFTP status code (e.g. 4 for FAILURE), answered to the next request (on `path`). */
    failNext(status, failOptions) {
      failNext = { status, path: failOptions?.path };
    },
    /** Files carry no per-record outcome: nothing to reject. */
    rejectEmails() {},
    configure(patch) {
      Object.assign(behaviour, patch);
    },
    reset() {
      operations.length = 0;
      uploadedBytes = 0;
      maxConcurrentUploads = 0;
      failNext = undefined;
    },
    localPath: (serverPath) => toLocal(root, serverPath),
    async close() {
      for (const client of clients) client.end();
      for (const socket of sockets.values()) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      if (ownsRoot) await rm(root, { recursive: true, force: true });
    },
  };
}
