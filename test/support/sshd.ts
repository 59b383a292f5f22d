import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';

export interface Sshd {
  host: string;
  port: number;
  /** The user sshd lets in: whoever runs the tests. */
  username: string;
  /** OpenSSH-format private key whose public half is the only authorized key. */
  privateKey: string;
  /** OpenSSH-style fingerprint of the server's only host key, `SHA256:…`. */
  hostKeySha256: string;
  /** An empty, absolute export folder, removed on `stop()`. */
  root: string;
  /** The sshd log so far (`-e` sends it to stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Whether the real-sshd integration tests can run here. Outside CI a missing sshd skips them (with this
 * reason); in CI (`CI=true`) it is a failure, because CI installs openssh-server on purpose
 * (scripts/install-system-packages.sh).
 */
export function sshdAvailability(): { available: true } | { available: false; reason: string } {
  if (existsSync(SSHD_PATH)) return { available: true };
  const reason = `${SSHD_PATH} is missing: install openssh-server (scripts/install-system-packages.sh) to run the SFTP integration tests`;
  if (process.env.CI === 'true') throw new Error(`CI must run the SFTP integration tests, but ${reason}`);
  return { available: false, reason };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** OpenSSH's `ssh-keygen -l -E sha256` fingerprint of a `.pub` line. */
function fingerprintOfPublicKey(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key line: ${line}`);
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * Starts a real OpenSSH sshd on a free loopback port, with its own host key, one authorized client key and
 * the internal SFTP server. Everything lives in one temporary folder that `stop()` removes.
 *
 * @example
 * const sshd = await startSshd()
 * const conn = { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, folder: sshd.root }
 * await sshd.stop()
 */
export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'outflow-sshd-'));
  let child: ChildProcess | undefined;
  let stderr = '';
  const killOnExit = () => child?.kill('SIGKILL');
  try {
    const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
    const clientKeyPath = join(dir, 'client_ed25519');
    const root = join(dir, 'export');
    await mkdir(root);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'outflow-test-host', '-f', hostKeyPath]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'outflow-test-client', '-f', clientKeyPath]);
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o600 });

    const host = '127.0.0.1';
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(
      configPath,
      [
        `ListenAddress ${host}`,
        `Port ${port}`,
        `HostKey ${hostKeyPath}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'Subsystem sftp internal-sftp',
        'PermitRootLogin prohibit-password',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );

    // sshd's privilege separation needs this when it runs as root; Debian creates it only from its service unit.
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

    child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    process.once('exit', killOnExit);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    let exited: number | null | undefined;
    const exitedPromise = new Promise<void>((resolve) =>
      child!.once('exit', (code, signal) => {
        exited = code ?? (signal ? -1 : null);
        resolve();
      }),
    );

    const deadline = Date.now() + 10_000;
    while (!(await canConnect(host, port))) {
      if (exited !== undefined) throw new Error(`sshd exited (${exited}) before listening:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${port} within 10 s:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const running = child;
    return {
      host,
      port,
      username: userInfo().username,
      privateKey: await readFile(clientKeyPath, 'utf8'),
      hostKeySha256: fingerprintOfPublicKey(await readFile(`${hostKeyPath}.pub`, 'utf8')),
      root,
      log: () => stderr,
      async stop() {
        if (exited === undefined) {
          running.kill('SIGTERM');
          await exitedPromise;
        }
        process.removeListener('exit', killOnExit);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child?.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
