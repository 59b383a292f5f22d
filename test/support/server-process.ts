import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/outflow.cjs');

/** `outflow serve` as a child process, so a test can SIGKILL it like a crash or a power loss would. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  /** stderr and stdout so far, for failure messages. */
  output(): string;
  request<T = any>(method: string, route: string): Promise<{ status: number; body: T }>;
  kill(): Promise<void>;
  /** SIGTERM, and waits for the process to end. */
  stop(): Promise<void>;
}

export async function startServerProcess(home: string, options: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--home', home, '--port', '0', ...(options.args ?? [])], {
    // The crash and scale-out suites poll the API every few milliseconds with one token, far above the API's
    // default limit (300 per 10 s): the limits are off here unless a test sets them (rate-limit.e2e does).
    env: {
      ...process.env,
      OUTFLOW_TEST_VIA_SERVER: '',
      OUTFLOW_URL: '',
      OUTFLOW_TOKEN: '',
      OUTFLOW_ADMIN_PASSWORD: 'crash-test-password-1',
      OUTFLOW_API_RATE_LIMIT_TOKEN: 'off',
      OUTFLOW_API_RATE_LIMIT_ADDRESS: 'off',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const file = path.join(home, 'server.json');
  const deadline = Date.now() + 60_000;
  let info: { url: string; token: string; pid: number } | null = null;
  while (!info) {
    if (child.exitCode !== null) throw new Error(`outflow serve exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`outflow serve did not start within 60 s:\n${output}`);
    try {
      const content = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (content.pid === child.pid) info = content;
    } catch {
      // not written yet
    }
    if (!info) await new Promise((r) => setTimeout(r, 50));
  }
  const { url, token } = info;
  const server: ServerProcess = {
    child,
    url,
    token,
    output: () => output,
    async request(method, route) {
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}` } });
          return { status: response.status, body: (await response.json()) as never };
        } catch (error) {
          // A keep-alive connection the server closed just as fetch reused it (Node closes idle ones after 5 s).
          const closed = (error as { cause?: { code?: string } }).cause?.code === 'UND_ERR_SOCKET';
          if (!closed || attempt >= 3 || child.exitCode !== null) throw new Error(`${method} ${route} failed: ${(error as Error).message}\nserver output:\n${output}`, { cause: error });
        }
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  return server;
}
