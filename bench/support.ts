import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, so that benchmarks run `bin/outflow.cjs` wherever they are started from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTFLOW_BIN = path.join(REPO_ROOT, 'bin', 'outflow.cjs');

/**
 * The environment of child `outflow` processes: the embedded SQLite metadata store, so a developer's
 * OUTFLOW_DATABASE_URL never points a benchmark home at a shared database. No UV_THREADPOOL_SIZE: the child
 * gets the thread pool `bin/outflow.cjs` gives every user (passing 16 here once hid that users got 4).
 */
export function outflowEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OUTFLOW_DATABASE_URL: '' };
  delete env.UV_THREADPOOL_SIZE;
  return env;
}

/** A benchmark failed in a way that makes its figures meaningless; main() prints it and exits non-zero. */
export class BenchError extends Error {}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `outflow-bench-${prefix}-`));
}

export function seconds(sinceMs: number): number {
  return (performance.now() - sinceMs) / 1000;
}

/**
 * Busy CPU seconds of the whole machine since boot, all cores together: user, nice, system, irq and softirq
 * from /proc/stat (not idle, iowait or steal). The difference across a step is what that step cost every
 * process involved (a server on loopback too), where wall time on a machine kept busy only says how long.
 * Other work on the machine counts too, so it is a figure for a quiet machine. Null where /proc is absent.
 */
export function machineBusySeconds(): number | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
    // The kernel counts in USER_HZ, 100 a second on every Linux architecture Node runs on.
    return (user + nice + system + irq + softirq) / 100;
  } catch {
    return null;
  }
}

const busySince = (start: number | null): number | null => {
  const now = machineBusySeconds();
  return start === null || now === null ? null : now - start;
};

/** Wall seconds of a step and the machine's busy CPU seconds meanwhile (null without /proc/stat). */
export interface Cost {
  seconds: number;
  cpuSeconds: number | null;
}

export async function timed<T>(work: () => Promise<T>): Promise<Cost & { value: T }> {
  const start = performance.now();
  const busy = machineBusySeconds();
  const value = await work();
  return { value, seconds: seconds(start), cpuSeconds: busySince(busy) };
}

export const formatInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const formatSeconds = (s: number) => s.toFixed(s < 10 ? 2 : 1);
export const formatMb = (bytes: number) => (bytes / 1e6).toFixed(1);
export const formatRatio = (r: number) => `${r.toFixed(2)}x`;
/** `12.5 s, CPU 22.1 s`: a step's wall time and the machine's busy CPU seconds meanwhile, where known. */
export const formatCost = ({ seconds, cpuSeconds }: Cost) =>
  `${formatSeconds(seconds)} s${cpuSeconds === null ? '' : `, CPU ${formatSeconds(cpuSeconds)} s`}`;

/** Prints rows under a header, numbers right-aligned, text left-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[-+]?[\d,.]+(x| s| MB)?$|^—$/.test(r[i] ?? '')));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** `seconds` from spawn to exit, and the machine's busy CPU seconds meanwhile (see {@link machineBusySeconds}). */
export interface ChildResult extends Cost {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Largest VmHWM seen in /proc/<pid>/status, in bytes; null when not sampled or never read. */
  peakRssBytes: number | null;
}

/** VmHWM (peak resident set size) of a live process, in bytes; null once it has exited. */
function readPeakRss(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kib === undefined ? null : Number(kib) * 1024;
  } catch {
    return null;
  }
}

/**
 * Runs a command to its end, capturing its output, timing it from spawn to exit and, with `sampleRssMs`,
 * reading its peak RSS (VmHWM) that often. VmHWM only grows, so the last sample misses at most the final
 * interval of the process's life.
 */
export function runChild(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; sampleRssMs?: number } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const busy = machineBusySeconds();
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const sample = () => {
      if (child.pid === undefined) return;
      const hwm = readPeakRss(child.pid);
      if (hwm !== null) peak = Math.max(peak ?? 0, hwm);
    };
    const sampler = options.sampleRssMs ? setInterval(sample, options.sampleRssMs) : undefined;
    child.once('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearInterval(sampler);
      const elapsed = seconds(start);
      const cpuSeconds = busySince(busy);
      // 'close' follows once the pipes are drained.
      child.once('close', () => resolve({ code, signal, stdout, stderr, seconds: elapsed, cpuSeconds, peakRssBytes: peak }));
    });
  });
}

/** Like {@link runChild}, but a non-zero exit is a {@link BenchError} that quotes the command's stderr. */
export async function runChecked(command: string, args: string[], options: Parameters<typeof runChild>[2] = {}): Promise<ChildResult> {
  const result = await runChild(command, args, options);
  if (result.code !== 0) {
    const shown = [command, ...args].map((a) => (a.length > 80 ? `${a.slice(0, 77)}…` : a)).join(' ');
    throw new BenchError(`\`${shown}\` exited with ${result.code ?? result.signal}:\n${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result;
}

/** Runs `outflow <args> --home <home>` as a child process, the way a user or a scheduler would. */
export function runOutflow(home: string, args: string[], options: { sampleRssMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ChildResult> {
  return runChecked(process.execPath, [OUTFLOW_BIN, ...args, '--home', home], { env: { ...outflowEnv(), ...options.env }, sampleRssMs: options.sampleRssMs });
}

/** Total size of the regular files directly in `dir`. */
export function folderBytes(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + fs.statSync(path.join(dir, e.name)).size, 0);
}

/** Empties `dir` without removing it. */
export function emptyFolder(dir: string): void {
  for (const entry of fs.readdirSync(dir)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
}

/** `abc1234` or `abc1234+changes`: the code a benchmark measured, for comparing runs later. */
export function codeVersion(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}
