import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ConnectConfig, SFTPWrapper, Stats } from 'ssh2';
import { AuthError, ConfigError, OutflowError, RetryableError, UpstreamError } from '../../domain/errors.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../kit/deadline.ts';
import type { DestinationContext } from '../kit/define.ts';
import type { SftpConnection } from './index.ts';
import { outflowCommand } from '../../lib/shell.ts';

const { Client } = ssh2;
type SshClient = InstanceType<typeof Client>;

export const DEFAULT_READY_TIMEOUT_MS = 20_000;

// SFTP v3 status codes (draft-ietf-secsh-filexfer-02), plus the two of v5+ that some servers send in v3
// sessions anyway when a disk or quota is full.
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;
const SFTP_FAILURE = 4;
const SFTP_NO_SPACE_ON_FILESYSTEM = 14;
const SFTP_QUOTA_EXCEEDED = 15;

/** OpenSSH's text for the fingerprint of a host key blob: `SHA256:` and unpadded base64 of its SHA-256. */
export function fingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

/** Accepts a fingerprint with or without the `SHA256:` prefix and base64 padding, as people paste them. */
export function normalizeFingerprint(value: string): string {
  return `SHA256:${value.trim().replace(/^SHA256:/i, '').replace(/=+$/, '')}`;
}

interface HostKeyTrust {
  expected?: string;
  source?: 'pin' | 'recorded' | 'accepted';
  /** The fingerprint recorded by the last verify or first run, if any. */
  recorded?: string;
}

/**
 * The fingerprint the server must show: the connection's pin, else the key an admin accepts explicitly with
 * `verify --accept-host-key`, else the recorded one. Without any of them (a never-verified connection) any
 * key is accepted and recorded: trust on first use.
 */
function hostKeyTrust(conn: SftpConnection, ctx: DestinationContext): HostKeyTrust {
  if (conn.hostKeySha256) return { expected: normalizeFingerprint(conn.hostKeySha256), source: 'pin' };
  const state = ctx.state.hostKeySha256;
  const recorded = typeof state === 'string' && state.length > 0 ? normalizeFingerprint(state) : undefined;
  if (ctx.verifying && ctx.acceptHostKey) return { expected: normalizeFingerprint(ctx.acceptHostKey), source: 'accepted', recorded };
  if (recorded) return { expected: recorded, source: 'recorded', recorded };
  return {};
}

export function serverOf(conn: SftpConnection): string {
  return `${conn.host}:${conn.port}`;
}

type SshError = Error & { level?: string; code?: string | number };

/** A host key other than the trusted one: carries both fingerprints so that `verify` can show them. */
export class HostKeyMismatchError extends AuthError {
  constructor(
    message: string,
    readonly offered: string,
    readonly trusted: string,
    readonly recorded: string | undefined,
  ) {
    super('host_key_mismatch', message);
  }
}

function hostKeyMismatch(conn: SftpConnection, ctx: DestinationContext, seen: string, trust: HostKeyTrust): HostKeyMismatchError {
  const at = serverOf(conn);
  const name = ctx.connectionName;
  const accept = `confirm the new fingerprint with the server's administrator, then accept it with \`${outflowCommand('connection', 'verify', name, '--accept-host-key', seen)}\`.`;
  let message: string;
  if (trust.source === 'pin') {
    message =
      `The SFTP server at ${at} presented host key ${seen}, but connection \`${name}\` pins ${trust.expected}. Nothing was sent: this can be a ` +
      `man-in-the-middle attack. If the server's key was changed on purpose, update the connection's hostKeySha256 to the new fingerprint.`;
  } else if (trust.source === 'accepted') {
    message =
      `The SFTP server at ${at} presented host key ${seen}, not ${trust.expected} given with --accept-host-key ` +
      `(connection \`${name}\`${trust.recorded ? ` recorded ${trust.recorded}` : ''}). Nothing was sent and nothing was recorded. ` +
      `Check the fingerprint you were given; a key other than the one the server's administrator confirms can be a man-in-the-middle attack.`;
  } else {
    message =
      `The SFTP server at ${at} presented host key ${seen}, but connection \`${name}\` recorded ${trust.expected}. Nothing was sent: this ` +
      `can be a man-in-the-middle attack. If the server's key was changed on purpose, an admin must ${accept}`;
  }
  return new HostKeyMismatchError(message, seen, trust.expected!, trust.recorded);
}

function credentialsNamed(conn: SftpConnection): string {
  if (conn.password && conn.privateKey) return 'the private key and the password';
  return conn.privateKey ? 'the private key' : 'the password';
}

function connectError(error: SshError, conn: SftpConnection, ctx: DestinationContext, readyTimeoutMs: number): OutflowError {
  const at = serverOf(conn);
  const name = ctx.connectionName;
  if (ctx.signal.aborted) return new OutflowError('cancelled', `Connecting to ${at} for connection \`${name}\` was cancelled.`, { cause: error });
  if (error.level === 'client-authentication') {
    return new AuthError(
      'auth_failed',
      `The SFTP server at ${at} refused ${credentialsNamed(conn)} for user \`${conn.username}\` (connection \`${name}\`). ` +
        'Check the username and credentials, then update the connection.',
      { cause: error },
    );
  }
  if (error.level === 'client-timeout') {
    return new RetryableError(
      'timeout',
      `No SSH handshake from ${at} within ${readyTimeoutMs} ms (connection \`${name}\`). ` +
        'Check that host and port point at an SFTP server and that no firewall drops the traffic, or raise readyTimeoutMs.',
      { cause: error },
    );
  }
  switch (error.code) {
    case 'ENOTFOUND':
      return new ConfigError('host_unreachable', `The host name of ${at} does not resolve (connection \`${name}\`). Check the connection's host.`, {
        cause: error,
      });
    case 'EAI_AGAIN':
      return new RetryableError('host_unreachable', `The host name of ${at} could not be resolved right now (connection \`${name}\`); DNS did not answer.`, {
        cause: error,
      });
    case 'ECONNREFUSED':
      return new RetryableError(
        'host_unreachable',
        `Nothing accepts connections at ${at} (connection \`${name}\`). Check the host and port, and that the SFTP server is running.`,
        { cause: error },
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RetryableError('host_unreachable', `There is no network route to ${at} (connection \`${name}\`).`, { cause: error });
    case 'ETIMEDOUT':
      return new RetryableError('timeout', `Connecting to ${at} timed out (connection \`${name}\`).`, { cause: error });
    default:
      return new RetryableError(
        'connection_lost',
        `The SSH connection to ${at} failed before it was ready (connection \`${name}\`): ${error.message}.`,
        { cause: error },
      );
  }
}

/** ssh2 throws synchronously from `connect` when it cannot read the private key. */
function privateKeyError(error: Error, conn: SftpConnection, ctx: DestinationContext): AuthError {
  const reason = /passphrase|decrypt/i.test(error.message)
    ? conn.passphrase
      ? 'is encrypted and the passphrase does not open it'
      : 'is encrypted and the connection has no passphrase'
    : 'is not a PEM or OpenSSH private key that can be read';
  return new AuthError(
    'auth_failed',
    `The private key of connection \`${ctx.connectionName}\` ${reason}. Update the connection's privateKey or passphrase.`,
    { cause: error },
  );
}

/** The server's text after an SFTP status, only when it adds something to the status name. */
function serverSaid(error: SshError): string {
  return error.message && !/^(failure|permission denied|no such file or directory)$/i.test(error.message) ? ` (server said: ${error.message})` : '';
}

export function isDiskFull(error: SshError): boolean {
  return (
    error.code === SFTP_NO_SPACE_ON_FILESYSTEM ||
    error.code === SFTP_QUOTA_EXCEEDED ||
    (error.code === SFTP_FAILURE && /no space|disk full|quota|ENOSPC|EDQUOT/i.test(error.message))
  );
}

/**
 * A live SSH connection with its SFTP channel. Classifies every failure into an {@link OutflowError} that
 * names the server, the path and the connection.
 */
export class SftpSession {
  private closed = false;
  private transportError: Error | undefined;
  /** Set when a request or an upload outlived its deadline and the connection was given up for it. */
  private deadlineError: RetryableError | undefined;
  /** How long a request (or an upload waiting on the server) may go unanswered. */
  readonly timeoutMs: number;
  /**
   * Rejects when the connection closes. ssh2 never calls back a request whose channel has gone (a write
   * stream then neither finishes nor fails), so every wait on the server races this.
   */
  private readonly lost: Promise<never>;

  constructor(
    private readonly client: SshClient,
    readonly sftp: SFTPWrapper,
    readonly hostKeySha256: string,
    private readonly conn: SftpConnection,
    private readonly ctx: DestinationContext,
  ) {
    this.timeoutMs = ctx.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.lost = new Promise<never>((_, reject) => {
      client.once('close', () => {
        this.closed = true;
        reject(new Error(this.transportError?.message ?? 'the server closed the connection'));
      });
    });
    this.lost.catch(() => undefined);
    client.on('error', (error: SshError) => {
      this.transportError = error;
      ctx.log.warn({ server: serverOf(conn), sshLevel: error.level, error: error.message }, 'sftp connection error');
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the SSH transport failed or closed: any request error since then means the connection was lost. */
  get isTransportFailure(): boolean {
    return this.closed || this.transportError !== undefined;
  }

  /**
   * The largest WRITE the server takes in one request (OpenSSH announces ~255 KiB through its limits
   * extension; ssh2 assumes ~31 KiB otherwise). ssh2 splits a bigger chunk into requests sent one after
   * another, and sends a chunk smaller than this as a request of its own, so uploads are cut to this size.
   */
  get maxWriteBytes(): number {
    const limit = (this.sftp as unknown as { _maxWriteLen?: number })._maxWriteLen;
    return typeof limit === 'number' && limit > 0 ? limit : 31_952;
  }

  /** OpenSSH's extension: rename that replaces an existing target atomically, as POSIX rename(2) does. */
  get hasPosixRename(): boolean {
    // ssh2 keeps the extensions announced in the server's VERSION packet here and does not expose them otherwise.
    const extensions = (this.sftp as unknown as { _extensions?: Record<string, string> })._extensions;
    return extensions?.['posix-rename@openssh.com'] === '1';
  }

  /**
   * Turns a failed SFTP request into the error the engine acts on: a status code from the server is a
   * verdict (config, disk full, refusal); anything else means the transport went away.
   */
  classify(error: unknown, action: string, path: string): OutflowError {
    if (error instanceof OutflowError) return error;
    const err = error as SshError;
    const at = serverOf(this.conn);
    const name = this.ctx.connectionName;
    if (this.ctx.signal.aborted) {
      return new OutflowError('cancelled', `Stopped trying to ${action} \`${path}\` on ${at}: the run was cancelled (connection \`${name}\`).`, { cause: err });
    }
    // Whatever failed after we gave up on the connection failed because of that.
    if (this.deadlineError) return this.deadlineError;
    if (typeof err.code === 'number') {
      if (err.code === SFTP_PERMISSION_DENIED) {
        return new ConfigError(
          'folder_not_writable',
          `The SFTP server at ${at} denied permission to ${action} \`${path}\` for user \`${this.conn.username}\` (connection \`${name}\`). ` +
            `Grant the user write access to folder \`${this.conn.folder}\` or choose another folder.`,
          { cause: err },
        );
      }
      if (err.code === SFTP_NO_SUCH_FILE) {
        return new ConfigError(
          'folder_missing',
          `The SFTP server at ${at} has no \`${path}\` to ${action} (connection \`${name}\`). Check that folder \`${this.conn.folder}\` exists.`,
          { cause: err },
        );
      }
      if (isDiskFull(err)) {
        return new UpstreamError(
          'disk_full',
          `The SFTP server at ${at} is out of disk space or quota; it refused to ${action} \`${path}\`${serverSaid(err)} (connection \`${name}\`). ` +
            'Free space on the server or raise the quota, then run the export again.',
          { cause: err },
        );
      }
      return new UpstreamError(
        'upstream_rejected',
        `The SFTP server at ${at} refused to ${action} \`${path}\` with status ${err.code}${serverSaid(err)} (connection \`${name}\`).`,
        { cause: err },
      );
    }
    const reason = this.transportError?.message ?? err.message;
    return new RetryableError(
      'connection_lost',
      `The connection to ${at} dropped while trying to ${action} \`${path}\` (connection \`${name}\`): ${reason}.`,
      { cause: err },
    );
  }

  /** Waits for `work` unless the connection closes first, which rejects with a plain transport error. */
  untilLost<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost]);
  }

  /** {@link untilLost}, with failures classified. */
  async guard<T>(work: Promise<T>, action: string, path: string): Promise<T> {
    try {
      return await this.untilLost(work);
    } catch (error) {
      throw this.classify(error, action, path);
    }
  }

  private timeoutError(action: string, path: string): RetryableError {
    return new RetryableError(
      'timeout',
      `The SFTP server at ${serverOf(this.conn)} did not answer within ${this.timeoutMs} ms while trying to ${action} \`${path}\` ` +
        `(connection \`${this.ctx.connectionName}\`); the connection was closed.`,
    );
  }

  /**
   * Gives up on a server that stopped answering: closes the connection, so that every request and upload
   * waiting on it fails (with `error`) instead of waiting for ever. ssh2 has no per-request timeout.
   */
  abandon(error: RetryableError): void {
    this.deadlineError ??= error;
    this.ctx.log.warn({ server: serverOf(this.conn), code: error.code }, error.message);
    this.client.destroy();
  }

  private call<T>(action: string, path: string, run: (done: (error: Error | undefined | null, value?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(this.classify(new Error('the connection is closed'), action, path));
    let timer: NodeJS.Timeout | undefined;
    const work = new Promise<T>((resolve, reject) => {
      // A deadline we hold ourselves: ssh2 waits for an answer for ever.
      timer = setTimeout(() => {
        const error = this.timeoutError(action, path);
        this.abandon(error);
        reject(error);
      }, this.timeoutMs);
      run((error, value) => (error ? reject(error) : resolve(value as T)));
    });
    return this.guard(work, action, path).finally(() => clearTimeout(timer));
  }

  /** Fails with `folder_missing` unless the connection's folder exists and is a folder. */
  async assertFolder(): Promise<void> {
    const { conn, ctx } = this;
    const where = `(connection \`${ctx.connectionName}\`)`;
    let stats: Stats;
    try {
      stats = await this.stat(conn.folder);
    } catch (error) {
      if (error instanceof ConfigError && error.code === 'folder_missing') {
        throw new ConfigError(
          'folder_missing',
          `Folder \`${conn.folder}\` does not exist on ${serverOf(conn)} ${where}. Create it, or fix the connection's folder.`,
          { cause: error },
        );
      }
      throw error;
    }
    if (!stats.isDirectory()) {
      throw new ConfigError(
        'folder_missing',
        `\`${conn.folder}\` on ${serverOf(conn)} is a file, not a folder ${where}. Set the connection's folder to a folder.`,
      );
    }
  }

  stat(path: string): Promise<Stats> {
    return this.call('read', path, (done) => this.sftp.stat(path, done));
  }

  /** The names in a folder. */
  async list(path: string): Promise<string[]> {
    const entries = await this.call<Array<{ filename: string }>>('list', path, (done) => this.sftp.readdir(path, done));
    return entries.map((e) => e.filename);
  }

  unlink(path: string): Promise<void> {
    return this.call('delete', path, (done) => this.sftp.unlink(path, done));
  }

  writeFile(path: string, data: Buffer): Promise<void> {
    return this.call('write', path, (done) => this.sftp.writeFile(path, data, { mode: 0o644 }, done));
  }

  /**
   * Moves `from` onto `to`, replacing `to` if it exists. Plain SFTP v3 RENAME refuses an existing target
   * (OpenSSH implements it with link(2)), so without the posix-rename extension the old file is removed
   * first and readers can briefly see no file at all.
   */
  async replace(from: string, to: string): Promise<void> {
    if (this.hasPosixRename) {
      await this.call('rename onto', to, (done) => this.sftp.ext_openssh_rename(from, to, done));
      return;
    }
    await this.call<void>('delete', to, (done) =>
      this.sftp.unlink(to, (error) => done((error as SshError | undefined)?.code === SFTP_NO_SUCH_FILE ? undefined : error)),
    );
    await this.call('rename onto', to, (done) => this.sftp.rename(from, to, done));
  }

  /**
   * Uploads `body` into a new file at `path` with up to `windowBytes` of WRITE requests awaiting the server's
   * answer at any time, as OpenSSH's sftp does (64 requests of 32 KiB): ssh2's write stream sends what it has
   * buffered in one go and then waits for every answer before it sends more, so the upload stopped at each
   * such batch while the rows kept coming (issue 13: 1.18x the standard tools). Chunks are gathered into
   * requests of the server's largest WRITE (ssh2 copies each into its packets). When the server has requests
   * to answer and answers none for `timeoutMs`, the connection is abandoned and the upload fails with
   * `timeout`; time spent waiting for rows does not count.
   * Resolves with the bytes written once the server has closed the file (a full disk can surface only there).
   * Failures are the server's status errors (numeric `code`) or transport errors, for {@link classify}.
   */
  upload(path: string, body: Readable, windowBytes: number): Promise<number> {
    return this.untilLost(this.uploadTo(path, body, windowBytes));
  }

  private async uploadTo(path: string, body: Readable, windowBytes: number): Promise<number> {
    const handle = await this.call<Buffer>('upload', path, (done) => this.sftp.open(path, 'w', { mode: 0o644 }, done));
    const max = this.maxWriteBytes;
    let position = 0;
    let inFlight = 0;
    let answeredAt = Date.now();
    let failure: Error | undefined;
    /** The write callback held back while the window is full, and the final callback waiting for the last answers. */
    let resume: (() => void) | undefined;
    let drained: (() => void) | undefined;
    const onAnswer = (length: number) => (error: Error | null | undefined) => {
      inFlight -= length;
      answeredAt = Date.now();
      if (error) failure ??= error;
      if (resume && (inFlight < windowBytes || failure)) {
        const next = resume;
        resume = undefined;
        next();
      }
      if (inFlight === 0 && drained) drained();
    };
    const watch = setInterval(
      () => {
        if (inFlight === 0) answeredAt = Date.now();
        else if (Date.now() - answeredAt >= this.timeoutMs) {
          clearInterval(watch);
          this.abandon(this.timeoutError('upload', path));
        }
      },
      Math.max(10, Math.min(1_000, Math.floor(this.timeoutMs / 4))),
    );
    const sftp = this.sftp;
    // ssh2 writes every SSH packet (32 KiB here) to the socket on its own; corked, the packets of the requests
    // sent in one go leave in one writev instead of a system call each. ssh2 keeps its socket private.
    const socket = (this.client as unknown as { _sock?: { cork?: () => void; uncork?: () => void } })._sock;
    const send = (data: Buffer, offset: number, length: number) => {
      inFlight += length;
      // ssh2 holds on to what exceeds its largest WRITE and sends it after the first part's answer; the
      // gathering buffer below is reused at once, so such a request (only if the server's limit shrank
      // mid-upload) gets a copy of its own.
      if (length > this.maxWriteBytes) sftp.write(handle, Buffer.from(data.subarray(offset, offset + length)), 0, length, position, onAnswer(length));
      else sftp.write(handle, data, offset, length, position, onAnswer(length));
      position += length;
    };
    // Bytes not yet sent: a FIFO or a pipe hands over 64 KiB at a time, and a WRITE request per such chunk
    // halved the upload's speed (182 against 363 MB/s on loopback with requests of the server's largest size).
    // ssh2 copies a request's data into its packet before `write` returns, so one buffer gathers every request
    // in turn: a new one per request was 1.5 GB of allocations per 10M rows, and the garbage collections they
    // set off ran on the thread that also encrypts.
    const gather = Buffer.allocUnsafe(max);
    let gathered = 0;
    const writer = new Writable({
      // The window is the buffer: hold at most one chunk here.
      highWaterMark: max,
      write(chunk: Buffer, _encoding, callback) {
        if (failure) return callback(failure);
        if (inFlight === 0) answeredAt = Date.now();
        // Requests that fill while this chunk is taken in leave in one writev (see `socket`).
        socket?.cork?.();
        try {
          let offset = 0;
          while (offset < chunk.length) {
            // A whole request's worth that finds nothing gathered goes out as it is, without a copy.
            if (gathered === 0 && chunk.length - offset >= max) {
              send(chunk, offset, max);
              offset += max;
              continue;
            }
            const taken = chunk.copy(gather, gathered, offset);
            gathered += taken;
            offset += taken;
            if (gathered === max) {
              send(gather, 0, max);
              gathered = 0;
            }
          }
        } finally {
          socket?.uncork?.();
        }
        if (inFlight < windowBytes) callback();
        else resume = () => callback(failure);
      },
      final(callback) {
        if (gathered > 0 && !failure) {
          send(gather, 0, gathered);
          gathered = 0;
        }
        if (inFlight === 0) return callback(failure);
        drained = () => callback(failure);
      },
    });
    try {
      await pipeline(body, writer);
    } catch (error) {
      clearInterval(watch);
      // Best effort: the caller removes the file; an open handle would keep it on some servers.
      if (!this.closed) this.sftp.close(handle, () => undefined);
      throw error;
    }
    clearInterval(watch);
    await this.call('upload', path, (done) => this.sftp.close(handle, done));
    return position;
  }

  /** Ends the connection and waits (briefly) for the socket to close. Never throws. */
  async end(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 2_000);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }
}

/**
 * Opens an SSH connection, checks the server's host key against the pin or the recorded fingerprint,
 * authenticates and starts the SFTP subsystem. Throws a classified {@link OutflowError}.
 */
export function openSftpSession(conn: SftpConnection, ctx: DestinationContext): Promise<SftpSession> {
  const readyTimeoutMs = conn.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const trust = hostKeyTrust(conn, ctx);
  const client = new Client();
  let seen: string | undefined;
  let mismatch: AuthError | undefined;

  return new Promise<SftpSession>((resolve, reject) => {
    let settled = false;
    const onAbort = () => client.destroy();
    // ssh2's readyTimeout ends at authentication; starting the SFTP subsystem can stall as well. One
    // deadline, held by our own timer, covers everything from the TCP connect to a usable SFTP channel.
    const deadline = setTimeout(
      () =>
        settle(
          new RetryableError(
            'timeout',
            `The server at ${serverOf(conn)} did not complete the SSH handshake, login and SFTP start within ${readyTimeoutMs} ms (connection \`${ctx.connectionName}\`). ` +
              'Check that host and port point at an SFTP server and that no firewall drops the traffic, or raise readyTimeoutMs.',
          ),
        ),
      readyTimeoutMs,
    );
    const settle = (error: OutflowError | undefined, session?: SftpSession) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        ctx.signal.removeEventListener('abort', onAbort);
        client.destroy();
        reject(error);
      } else {
        client.once('close', () => ctx.signal.removeEventListener('abort', onAbort));
        resolve(session!);
      }
    };
    if (ctx.signal.aborted) {
      settle(new OutflowError('cancelled', `Connecting to ${serverOf(conn)} for connection \`${ctx.connectionName}\` was cancelled.`));
      return;
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const onError = (error: SshError) => settle(mismatch ?? connectError(error, conn, ctx, readyTimeoutMs));
    client.on('error', onError);
    client.once('close', () =>
      settle(
        mismatch ??
          new RetryableError('connection_lost', `The SSH connection to ${serverOf(conn)} closed before it was ready (connection \`${ctx.connectionName}\`).`),
      ),
    );
    // Servers set up for PAM often offer passwords only through keyboard-interactive.
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => conn.password ?? '')));
    client.once('ready', () => {
      // ssh2 write streams crawl at ~2 MB/s when Nagle's algorithm holds back their small packets.
      client.setNoDelay(true);
      client.sftp((error, sftp) => {
        if (error) {
          settle(
            new UpstreamError(
              'upstream_rejected',
              `The server at ${serverOf(conn)} accepted the login but refused to start SFTP (connection \`${ctx.connectionName}\`): ${error.message}. ` +
                'Check that its SSH server enables the sftp subsystem for this user.',
              { cause: error },
            ),
          );
          return;
        }
        client.removeListener('error', onError);
        const session = new SftpSession(client, sftp, seen!, conn, ctx);
        if (!trust.expected && !ctx.verifying) {
          // Trust on first use: record the key, so that a later change is refused as for a verified connection.
          ctx.log.info({ server: serverOf(conn), hostKeySha256: seen }, 'sftp host key recorded on first use');
          void ctx.saveState({ hostKeySha256: seen }).catch((error: unknown) => ctx.log.warn({ error: (error as Error).message }, 'could not record the sftp host key'));
        }
        settle(undefined, session);
      });
    });

    const config: ConnectConfig = {
      host: conn.host,
      port: conn.port,
      username: conn.username,
      password: conn.password,
      privateKey: conn.privateKey,
      passphrase: conn.passphrase,
      readyTimeout: readyTimeoutMs,
      tryKeyboard: conn.password !== undefined,
      // Detects a peer that vanished without closing the socket, mid-upload included.
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        if (trust.expected && trust.expected !== seen) {
          mismatch = hostKeyMismatch(conn, ctx, seen, trust);
          return false;
        }
        return true;
      },
    };
    try {
      client.connect(config);
    } catch (error) {
      settle(privateKeyError(error as Error, conn, ctx));
    }
  });
}
