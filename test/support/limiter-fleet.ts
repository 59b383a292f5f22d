import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LimiterWorkerResult, LimiterWorkerSettings } from './limiter-worker.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'limiter-worker.ts');

export interface Arrival {
  /** Epoch ms, on the counting server's clock. */
  at: number;
  worker: string;
  status: number;
}

/**
 * A stand-in vendor that notes when each request arrives and from which worker; `answer` may turn a request
 * into a 429 (with its own headers, e.g. Retry-After).
 */
export async function startCountingServer(
  answer: (arrival: Arrival, index: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
) {
  const arrivals: Arrival[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/warm') {
      res.end('{}');
      return;
    }
    const arrival: Arrival = { at: Date.now(), worker: String(req.headers['x-worker'] ?? '?'), status: 200 };
    const reply = answer(arrival, arrivals.length);
    arrival.status = reply.status;
    arrivals.push(arrival);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.status === 200 ? '{"ok":true}' : '{"error":"slow down"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Starts one process per settings, waits until each has reached Redis, then lets them all go at once (process
 * start-up takes a second or more on a busy machine) and collects their results.
 */
export async function runLimiterWorkers(all: LimiterWorkerSettings[]): Promise<LimiterWorkerResult[]> {
  const children = all.map((settings) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const lines = readline.createInterface({ input: child.stdout });
    let resolveReady: () => void;
    const ready = new Promise<void>((resolve) => (resolveReady = resolve));
    let last = '';
    lines.on('line', (line) => {
      if (line === 'ready') resolveReady();
      else last = line;
    });
    const done = new Promise<LimiterWorkerResult>((resolve, reject) => {
      child.on('close', (code) => {
        if (code === 0 && last) resolve(JSON.parse(last) as LimiterWorkerResult);
        else reject(new Error(`limiter worker ${settings.name} exited with ${code}: ${stderr}`));
      });
    });
    return { child, ready: Promise.race([ready, done.then(() => undefined)]), done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const { child } of children) child.stdin.end('go\n');
  return Promise.all(children.map((c) => c.done));
}

/** The most requests any window of `windowMs` holds (sliding: every window that starts at a request). */
export function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** The most requests any calendar second (as a fixed-window vendor counts) holds. */
export function busiestSecond(times: number[]): number {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / 1000), (counts.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}
