import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { RunSummary } from '../src/app/runs.ts';
import { remoteClient } from '../src/client/remote.ts';
import type { OutflowClient, RunWatch } from '../src/client/client.ts';
import { startServerProcess, type ServerProcess } from '../test/support/server-process.ts';
import { writeVersions } from './incremental.ts';
import { BenchError, codeVersion, formatInt, formatMb, formatSeconds, outflowEnv, printTable, REPO_ROOT, seconds, tempDir } from './support.ts';

// `npm run bench -- scale [--members N]`: every record-run path of issue 13 at N members (1M; 10M once),
// through `outflow serve` as a user drives it, to a lean Iterable fake without rate limit or latency (its own
// process, bench/scale-fake.ts): entity load, segment refresh, a full mirror run, an unchanged re-run, a
// dry run and a re-run after 1 % changed (joins, leaves and new e-mails, so removals too), and an upsert run
// cancelled at 10 % then resumed. Each step prints its time and the peak RSS of every process involved: the
// server and whatever processes it starts (a runner), and the fake. Peaks are per step: the kernel's
// high-water mark (VmHWM) is reset before each step (/proc/<pid>/clear_refs) and read every 100 ms.

export const DEFAULT_SCALE_MEMBERS = 1_000_000;
const API_KEY = 'bench-scale-key';
const SAMPLE_MS = 100;

/** Peak RSS (VmHWM) and current RSS of a live process, in bytes; null once it has exited. */
function memoryOf(pid: number): { peak: number; rss: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { peak: kib('VmHWM'), rss: kib('VmRSS') };
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** A short name for a process: `outflow serve`, `outflow __runner`, … from its command line. */
function labelOf(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const bin = argv.findIndex((a) => a.endsWith('outflow.cjs'));
    if (bin >= 0) return `outflow ${argv[bin + 1] ?? ''}`.trim();
    return path.basename(argv.find((a) => a.endsWith('.ts') || a.endsWith('.js')) ?? argv[0] ?? String(pid));
  } catch {
    return String(pid);
  }
}

/**
 * Watches the peak RSS of the server, every process it starts, and the fake, per step. A process that exits
 * between two samples keeps the peak last seen.
 */
class Watcher {
  private peaks = new Map<number, { label: string; peak: number }>();
  private timer: NodeJS.Timeout | undefined;

  /** `withChildren`: the processes the root starts count too (the server's runner), labelled by their command. */
  constructor(private readonly roots: Array<{ pid: number; label: string; withChildren: boolean }>) {}

  private pids(): Array<{ pid: number; label: string }> {
    const out: Array<{ pid: number; label: string }> = [];
    const walk = (pid: number, label: string, withChildren: boolean) => {
      out.push({ pid, label });
      if (withChildren) for (const child of childrenOf(pid)) walk(child, `${label} › ${labelOf(child)}`, true);
    };
    for (const root of this.roots) walk(root.pid, root.label, root.withChildren);
    return out;
  }

  private sample = () => {
    for (const { pid, label } of this.pids()) {
      const memory = memoryOf(pid);
      if (memory === null) continue;
      const seen = this.peaks.get(pid);
      this.peaks.set(pid, { label, peak: Math.max(seen?.peak ?? 0, memory.peak) });
    }
  };

  /** Starts a step: every high-water mark back to the current RSS. */
  start(): void {
    this.peaks.clear();
    for (const { pid } of this.pids()) {
      try {
        fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        // Not ours to reset (or gone): its peak then covers its whole life.
      }
    }
    this.sample();
    this.timer = setInterval(this.sample, SAMPLE_MS);
  }

  /** Ends a step: peak RSS per process label (several processes of one label: the largest). */
  stop(): Map<string, number> {
    clearInterval(this.timer);
    this.sample();
    const byLabel = new Map<string, number>();
    for (const { label, peak } of this.peaks.values()) byLabel.set(label, Math.max(byLabel.get(label) ?? 0, peak));
    return byLabel;
  }
}

interface Step {
  label: string;
  seconds: number;
  peaks: Map<string, number>;
  what: string;
}

async function startFake(): Promise<{ child: ChildProcess; url: string; stats(): Promise<{ requests: number; lists: Array<{ name: string; members: number }> }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench', 'scale-fake.ts')], {
    env: { ...process.env, SCALE_FAKE_API_KEY: API_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line!) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new BenchError(`the Iterable fake exited with ${code}`)));
  });
  return {
    child,
    url,
    async stats() {
      return (await (await fetch(`${url}/__stats`)).json()) as never;
    },
  };
}

const quiet = (signal?: AbortSignal, onProgress?: (done: number, total: number | null) => void): RunWatch => ({
  signal: signal ?? new AbortController().signal,
  observer: { onProgress: ({ rowsDone, rowsTotal }) => onProgress?.(rowsDone, rowsTotal) },
});

function describeRun(run: RunSummary): string {
  const s = run.entities[0];
  const counts = `sent ${formatInt(run.sent)} (added ${formatInt(s?.added ?? 0)}, updated ${formatInt(s?.updated ?? 0)}), removed ${formatInt(s?.removed ?? 0)}, unchanged ${formatInt(s?.unchanged ?? 0)}`;
  return `${run.status}: ${counts}`;
}

function succeeded(run: RunSummary, label: string): RunSummary {
  if (run.status !== 'succeeded') throw new BenchError(`${label}: the run ${run.status}: ${run.error?.message ?? ''}`);
  return run;
}

/**
 * `resumeFirst`: the mirror export's first run is the one cancelled at 10 % and resumed (its full-run time is
 * the two steps together), and there is no upsert export: at 10M members this saves a second full send
 * (about half an hour on a busy 2-core machine).
 */
export async function runScaleBench(options: { members: number; keep: boolean; resumeFirst?: boolean }): Promise<boolean> {
  const second = options.resumeFirst !== true;
  const work = tempDir('scale');
  const n = options.members;
  const steps: Step[] = [];
  let server: ServerProcess | undefined;
  let fake: Awaited<ReturnType<typeof startFake>> | undefined;
  let ok = true;
  try {
    let start = performance.now();
    const files = await writeVersions(work, n);
    console.log(`Generated ${formatInt(n)} members (+${formatInt(Math.round(n / 200))} who join later) in ${formatSeconds(seconds(start))} s.`);
    fake = await startFake();
    const home = path.join(work, 'home');
    server = await startServerProcess(home, { env: outflowEnv() });
    // A connection per request, as each CLI command makes: a kept-alive socket the server closes after 5 s idle
    // (Node's default) can be reused at the moment it closes, and the request then fails ECONNRESET.
    http.globalAgent = new http.Agent({ keepAlive: false });
    const client: OutflowClient = remoteClient(server.url, server.token);
    const watcher = new Watcher([
      { pid: server.child.pid!, label: 'outflow serve', withChildren: true },
      // Its own esbuild child (tsx) is the fake's tooling, not Outflow's.
      { pid: fake.child.pid!, label: 'Iterable fake', withChildren: false },
    ]);
    const step = async (label: string, work: () => Promise<string>) => {
      watcher.start();
      const t = performance.now();
      let peaks = new Map<string, number>();
      const what = await work().finally(() => (peaks = watcher.stop()));
      const result = { label, seconds: seconds(t), peaks, what };
      steps.push(result);
      const rss = [...peaks].map(([name, bytes]) => `${name} ${formatMb(bytes)} MB`).join(', ');
      console.log(`  ${label}: ${formatSeconds(result.seconds)} s; peak RSS ${rss}; ${what}`);
    };
    const listSize = async (name: string) => (await fake!.stats()).lists.find((l) => l.name === name)?.members ?? 0;
    // Members of version 2 (see writeVersions): those with profile_id % 1000 in 0..2 left, N/200 joined.
    const left = [0, 1, 2].reduce((sum, r) => sum + (r === 0 ? Math.floor(n / 1000) : n >= r ? Math.floor((n - r) / 1000) + 1 : 0), 0);
    const v2Members = n - left + Math.round(n / 200);

    console.log(`\nScale: ${formatInt(n)} members through \`outflow serve\` to a fake Iterable (no rate limit, no latency)`);
    await step('entity load (v1)', async () => `${formatInt((await client.loadEntity('Customer', files.v1, { key: 'profile_id' })).rows)} rows`);
    await client.createSegment({ name: 'members', where: 'member' });
    if (second) await client.createSegment({ name: 'members_b', where: 'member' });
    await step('segment refresh', async () => (await client.refreshSegments('members')).map((s) => `${formatInt(s.members)} members`).join(', '));
    if (second) await client.refreshSegments('members_b');
    await client.createConnection({ type: 'iterable', name: 'iterable', config: { apiKey: API_KEY, baseUrl: fake.url, requestsPerSecond: 1_000_000 }, acceptPrivacyTerms: true });
    const mapping = { email: 'email', firstName: 'first_name' };
    await client.createExport({ name: 'mirror', connection: 'iterable', segments: ['members'], config: { mapping, syncMode: 'mirror' } });
    if (second) await client.createExport({ name: 'upsert', connection: 'iterable', segments: ['members_b'], config: { mapping, syncMode: 'upsert' } });
    const cancelAndResume = async (name: string, segment: string, expected: number, what: string) => {
      let cancelled: RunSummary | undefined;
      await step(`${what}, cancelled at 10 %`, async () => {
        const abort = new AbortController();
        cancelled = await client.runExport(name, quiet(abort.signal, (done, total) => total && done >= total / 10 && abort.abort()));
        if (cancelled.status !== 'cancelled') throw new BenchError(`the run to cancel ended ${cancelled.status}: ${cancelled.error?.message ?? ''}`);
        return `${cancelled.status} after ${formatInt(cancelled.sent)} sent`;
      });
      await step('resume of the cancelled run', async () => {
        const run = succeeded(await client.resumeRun(cancelled!.id, quiet()), 'resume');
        const size = await listSize(segment);
        if (size !== expected) throw new BenchError(`resume: the list holds ${size}, expected ${expected}`);
        return describeRun(run);
      });
    };

    if (second) {
      await step('full run (mirror)', async () => {
        const run = succeeded(await client.runExport('mirror', quiet()), 'full run');
        if (run.sent !== n || (await listSize('members')) !== n) throw new BenchError(`full run: sent ${run.sent}, list holds ${await listSize('members')}, expected ${n}`);
        return describeRun(run);
      });
    } else {
      await cancelAndResume('mirror', 'members', n, 'full run (mirror)');
    }
    await step('unchanged re-run', async () => {
      const run = succeeded(await client.runExport('mirror', quiet()), 'unchanged re-run');
      if (run.sent !== 0) throw new BenchError(`unchanged re-run sent ${run.sent}`);
      return describeRun(run);
    });
    await step('entity load (v2: 1 % changed)', async () => `${formatInt((await client.loadEntity('Customer', files.v2, { key: 'profile_id' })).rows)} rows`);
    await step('segment refresh (v2)', async () => (await client.refreshSegments('members')).map((s) => `${formatInt(s.members)} members`).join(', '));
    if (second) await client.refreshSegments('members_b');
    await step('dry run (1 % changed)', async () => {
      const report = await client.dryRunExport('mirror');
      return `would add ${formatInt(report.add)}, update ${formatInt(report.update)}, remove ${formatInt(report.remove)}, unchanged ${formatInt(report.unchanged)}`;
    });
    await step('re-run, 1 % changed', async () => {
      const run = succeeded(await client.runExport('mirror', quiet()), '1 % re-run');
      const size = await listSize('members');
      if (size !== v2Members) throw new BenchError(`1 % re-run: the list holds ${size}, expected ${v2Members}`);
      return describeRun(run);
    });
    if (second) await cancelAndResume('upsert', 'members_b', v2Members, 'upsert run');
  } catch (error) {
    ok = false;
    console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    if (server) console.error(server.output().split('\n').slice(-20).join('\n'));
  } finally {
    await server?.stop();
    fake?.child.kill('SIGTERM');
    if (options.keep) console.log(`Kept ${work}.`);
    else fs.rmSync(work, { recursive: true, force: true });
  }

  const labels = [...new Set(steps.flatMap((s) => [...s.peaks.keys()]))];
  console.log('');
  console.log(`Scale, ${formatInt(n)} members, DuckDB limits: ${process.env.OUTFLOW_DUCKDB_MEMORY ?? 'default'} / streaming ${process.env.OUTFLOW_DUCKDB_STREAMING_MEMORY ?? 'default'}; code ${codeVersion()}.`);
  console.log('');
  printTable(
    ['step', 'seconds', ...labels.map((l) => `${l} MB`), 'result'],
    steps.map((s) => [s.label, formatSeconds(s.seconds), ...labels.map((l) => (s.peaks.has(l) ? formatMb(s.peaks.get(l)!) : '—')), s.what]),
  );
  return ok;
}
