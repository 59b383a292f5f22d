import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport, runExport } from '../src/app/exports.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import { tempDir } from './support/cli.ts';

/**
 * Nothing a vendor does may hang a run: a server that accepts the connection and never answers, one that
 * stalls mid-way, and a folder that cannot be written all end the run `failed`, and the process exits. The
 * deadlines are short here (OUTFLOW_REQUEST_TIMEOUT_MS, readyTimeoutMs); each test is bounded by vitest's.
 */

const BIN = path.resolve('bin/outflow.cjs');
const PASSWORD = 'never-hang-password-1';

let home: Home;
let dir: string;
let sftp: FakeSftpServer;
let silent: { server: Server; sockets: Set<Socket>; port: number; accepted: number };

/** A TCP server that accepts every connection and never sends a byte. */
async function startSilentServer(): Promise<typeof silent> {
  const state = { sockets: new Set<Socket>(), accepted: 0 } as typeof silent;
  state.server = createServer((socket) => {
    state.accepted++;
    state.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

beforeAll(async () => {
  dir = tempDir('never-hang');
  sftp = await startFakeSftpServer({ username: 'u', password: PASSWORD });
  fs.mkdirSync(path.join(sftp.root, 'out'));
  silent = await startSilentServer();
  home = await openHome({ dir, env: { OUTFLOW_HOME: dir }, retry: { baseMs: 5, maxMs: 20, maxAttempts: 2 }, requestTimeoutMs: 1_000 });
  const csv = ['profile_id,email', ...Array.from({ length: 3_000 }, (_, i) => `${i + 1},member${i + 1}@example.com`)].join('\n');
  fs.writeFileSync(path.join(dir, 'customers.csv'), `${csv}\n`);
  await loadEntity(home, 'Customer', path.join(dir, 'customers.csv'), {});
  await createSegment(home, { name: 'everyone', where: 'profile_id > 0' });
  await refreshSegments(home);
});

afterAll(async () => {
  await home?.close();
  await sftp?.close();
  for (const socket of silent?.sockets ?? []) socket.destroy();
  await new Promise((resolve) => silent?.server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a vendor that never answers ends the run with `timeout`', () => {
  it('HTTP: a server that accepts the connection and never answers', async () => {
    await createConnection(home, { type: 'iterable', name: 'silent-iterable', config: { apiKey: 'k-123456', baseUrl: `http://127.0.0.1:${silent.port}` }, acceptPrivacyTerms: true });
    await createExport(home, { name: 'to-silent-iterable', connection: 'silent-iterable', segments: ['everyone'], config: { mapping: { email: 'email' } } });
    const accepted = silent.accepted;
    const run = await runExport(home, 'to-silent-iterable');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/^Iterable did not answer .* within 1 s\.$/) });
    // Tried, retried once (maxAttempts 2), then gave up.
    expect(silent.accepted - accepted).toBeGreaterThanOrEqual(2);
    expect(run.sent).toBe(0);
  });

  it('a run that makes no progress is stopped and recorded failed, whatever it waits on', async () => {
    // A request deadline far longer than the run's stall limit: the stall limit must stop the run first.
    Object.assign(home, { requestTimeoutMs: 120_000, runStallTimeoutMs: 300 });
    try {
      const run = await runExport(home, 'to-silent-iterable');
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/^The run made no progress for 300 ms and was stopped\./) });
    } finally {
      Object.assign(home, { requestTimeoutMs: 1_000, runStallTimeoutMs: undefined });
    }
  });

  it('SFTP: a TCP server that accepts and never speaks SSH', async () => {
    await createConnection(home, {
      type: 'sftp',
      name: 'silent-sftp',
      config: { host: '127.0.0.1', port: silent.port, username: 'u', password: PASSWORD, folder: '/out', readyTimeoutMs: 300 },
      acceptPrivacyTerms: true,
    });
    await createExport(home, { name: 'to-silent-sftp', connection: 'silent-sftp', entities: ['Customer'] });
    const run = await runExport(home, 'to-silent-sftp');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/within 300 ms/) });
  });

  describe('SFTP: a server that stops answering', () => {
    beforeAll(async () => {
      await createConnection(home, {
        type: 'sftp',
        name: 'stalling-sftp',
        config: { host: sftp.host, port: sftp.port, username: 'u', password: PASSWORD, folder: '/out', readyTimeoutMs: 2_000 },
        acceptPrivacyTerms: true,
      });
      await createExport(home, { name: 'to-stalling-sftp', connection: 'stalling-sftp', entities: ['Customer'], config: { rowsPerFile: 1_500 } });
    });

    it.each([
      ['the SFTP subsystem request', 'SFTP', /did not complete the SSH handshake, login and SFTP start within 2000 ms/],
      ['the folder check (STAT)', 'STAT', /did not answer within 1000 ms while trying to read `\/out`/],
      ['opening the upload (OPEN)', 'OPEN', /did not answer within 1000 ms while trying to upload `\/out\/\.Customer_.*\.partial`/],
      ['the upload itself (WRITE)', 'WRITE', /did not answer within 1000 ms while trying to upload `\/out\/\.Customer_.*\.partial`/],
      ['closing the uploaded file (CLOSE)', 'CLOSE', /did not answer within 1000 ms while trying to upload/],
      ['the final rename', 'POSIX-RENAME', /did not answer within 1000 ms while trying to rename onto `\/out\/Customer_/],
    ])('%s', async (_what, op, message) => {
      sftp.reset();
      sftp.configure({ stall: [op] });
      try {
        const run = await runExport(home, 'to-stalling-sftp');
        expect(run.status).toBe('failed');
        expect(run.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(message) });
        if (op === 'SFTP') expect(sftp.operations).toEqual([]);
        else expect(sftp.operations.map((o) => o.op)).toContain(op);
      } finally {
        sftp.configure({ stall: [] });
      }
    });
  });
});

/** Runs the real executable; kills it (and says so) if it has not exited after `boundMs`. */
function cli(home: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; boundMs?: number } = {}) {
  const child = spawn(process.execPath, [BIN, ...args, '--home', home], { env: { ...process.env, OUTFLOW_DEBUG: '', ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(options.input ?? '');
  let killed = false;
  const bound = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.boundMs ?? 45_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(bound);
      resolve({ code, stdout, stderr, hung: killed });
    });
  });
  return { child, done };
}

describe('the outflow executable after a failed or killed run', () => {
  let cliHome: string;

  beforeAll(async () => {
    cliHome = tempDir('never-hang-cli');
    fs.copyFileSync(path.join(dir, 'customers.csv'), path.join(cliHome, 'customers.csv'));
    const steps: Array<[string[], string?]> = [
      [['entity', 'load', 'Customer', path.join(cliHome, 'customers.csv')]],
      [['segment', 'create', 'everyone', '--entity', 'Customer', '--where', 'profile_id > 0']],
      [['segment', 'refresh']],
      [
        ['connection', 'create', '--type', 'sftp', '--name', 'partner', '--config', '-', '--accept-privacy-terms'],
        JSON.stringify({ host: sftp.host, port: sftp.port, username: 'u', password: PASSWORD, folder: '/out' }),
      ],
      [['export', 'create', '--name', 'members', '--connection', 'partner', '--segments', 'everyone', '--config', '-'], JSON.stringify({ rowsPerFile: 1_000 })],
    ];
    for (const [args, input] of steps) {
      const result = await cli(cliHome, args, { input }).done;
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
  });

  afterAll(() => {
    sftp.configure({ refuseWrites: false, stall: [] });
    fs.rmSync(cliHome, { recursive: true, force: true });
  });

  it('exits 1 when the folder cannot be written, with nothing left running or behind', async () => {
    sftp.configure({ refuseWrites: true });
    try {
      const result = await cli(cliHome, ['export', 'run', 'members', '--json']).done;
      expect(result.hung).toBe(false);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', error: { code: 'folder_not_writable' } });
      expect(scratchIn(path.join(cliHome, 'tmp'))).toEqual([]);
    } finally {
      sftp.configure({ refuseWrites: false });
    }
  });

  it('removes the scratch folder of a killed run when the home is next opened', async () => {
    sftp.reset();
    sftp.configure({ stall: ['WRITE'] });
    const { child, done } = cli(cliHome, ['export', 'run', 'members', '--json'], { env: { OUTFLOW_REQUEST_TIMEOUT_MS: '600000' } });
    const tmp = path.join(cliHome, 'tmp');
    // The run is stuck uploading its first parts: its scratch folder (named after its pid) holds their FIFOs.
    while (!sftp.operations.some((o) => o.op === 'WRITE')) await new Promise((resolve) => setTimeout(resolve, 50));
    const left = scratchIn(tmp);
    expect(left).toEqual([expect.stringMatching(new RegExp(`^parts-${child.pid}-`))]);
    child.kill('SIGKILL');
    await done;
    expect(scratchIn(tmp)).toEqual(left);
    sftp.configure({ stall: [] });

    const list = await cli(cliHome, ['run', 'list', '--json']).done;
    expect(list.code).toBe(0);
    expect(scratchIn(tmp)).toEqual([]);
  });
});

/** What runs left in a home's tmp/: DuckDB's spill folder (tmp/duckdb, issue 13) counts only when it holds something. */
function scratchIn(tmp: string): string[] {
  return fs.readdirSync(tmp).filter((name) => name !== 'duckdb' || fs.readdirSync(path.join(tmp, name)).length > 0);
}
