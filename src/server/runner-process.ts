import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Home } from '../app/home.ts';
import { recoverInterruptedRuns } from '../app/runs.ts';
import { queueResume } from '../app/exports.ts';
import { OutflowError } from '../domain/errors.ts';
import type { Actor, Run } from '../domain/model.ts';
import type { DryRunReport, RunObserver } from '../engine/run-export.ts';
import type { EngineMetrics } from '../engine/services.ts';
import type { LimiterState, RateLimiter } from '../lib/rate-limit.ts';
import type { QueueStatus, RunDispatcher } from '../queue/dispatcher.ts';
import type { ProfileStore, SyncTables } from '../store/profile/profile-store.ts';
import { deserializeError, type FromRunner, type SerializedError, type ToRunner } from './runner-protocol.ts';

/** bin/outflow.cjs of this package, from the sources (src/server) or from the bundle (dist). */
function findBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = path.join(dir, 'bin', 'outflow.cjs');
    if (fs.existsSync(bin)) return bin;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bin/outflow.cjs of the Outflow package was not found.');
    dir = parent;
  }
}
/** A runner that does not say it is ready within this long is killed and started again. */
const READY_TIMEOUT_MS = 60_000;
/** How long `stopAll` waits for the runner to interrupt its runs before it kills it. */
const STOP_TIMEOUT_MS = 30_000;
/** Restarts of a runner that keeps dying back off up to this long. */
const MAX_RESTART_DELAY_MS = 10_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export interface RunnerProcessOptions {
  concurrency: number;
  env?: NodeJS.ProcessEnv;
  onFinished?: (run: Run) => void;
  metrics?: EngineMetrics;
}

/**
 * The server's side of the runner process (see runner.ts): a RunDispatcher that hands runs to it, and a
 * ProfileStore whose every call goes to it. When the runner dies (SIGKILL, out of memory), its runs are marked
 * interrupted and queued again from their checkpoints, exactly as a server restart does, and a new runner
 * starts; calls in flight fail with an error that says so, calls made meanwhile wait for the new runner.
 */
export class RunnerProcess implements RunDispatcher {
  readonly mode = 'embedded' as const;
  readonly profiles: ProfileStore;
  readonly limiter: RateLimiter;
  private child: ChildProcess | null = null;
  private ready: Promise<ChildProcess> | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly chunks = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;
  private restarts = 0;
  private startedAt = 0;
  /** Resolves when the runner that was running is gone (tests wait on it). */
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly home: Home,
    private readonly options: RunnerProcessOptions,
  ) {
    this.profiles = this.profileProxy();
    const local = home.limiter;
    // Runs pace their requests in the runner; the server asks it for the state (`outflow status`).
    this.limiter = {
      acquire: (key, rate, signal) => local.acquire(key, rate, signal),
      pause: (key, ms) => local.pause(key, ms),
      state: async (key) => (await this.limiterStates()).find((s) => s.key === key) ?? null,
      states: () => this.limiterStates(),
    };
  }

  /** Starts the runner and resolves once it has opened the home. */
  async started(): Promise<void> {
    await this.connect();
  }

  /** The runner's process id (for tests and `outflow status`). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the current runner process has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  private connect(): Promise<ChildProcess> {
    if (this.stopped) return Promise.reject(new OutflowError('interrupted', 'The server is stopping.'));
    return (this.ready ??= this.spawn());
  }

  private spawn(): Promise<ChildProcess> {
    const env = { ...(this.options.env ?? process.env) };
    const child = fork(findBin(), ['__runner', '--home', this.home.dir, '--concurrency', String(this.options.concurrency)], {
      env,
      // Our own CLI entry: no test runner's or loader's flags.
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child = child;
    this.startedAt = Date.now();
    let onExit!: () => void;
    this.exited = new Promise<void>((resolve) => (onExit = resolve));
    return new Promise<ChildProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new OutflowError('internal', 'The runner process did not start within 60 s; see the home log.'));
        child.kill('SIGKILL');
      }, READY_TIMEOUT_MS);
      child.on('message', (message: FromRunner) => {
        if (message.t === 'ready') {
          clearTimeout(timer);
          resolve(child);
        } else this.receive(message);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new OutflowError('internal', `The runner process exited (${signal ?? `code ${code}`}) before it was ready; see the home log.`));
        onExit();
        if (this.child === child) this.lost(code, signal);
      });
      child.on('error', (error) => this.home.log.error({ err: error }, 'runner process error'));
    });
  }

  /** The runner died: fail what was in flight, recover its runs, start another one (unless we are stopping). */
  private lost(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = null;
    this.ready = null;
    const gone = new OutflowError('interrupted', 'The runner process stopped while answering this request; try again.');
    for (const p of [...this.pending.values(), ...this.chunks.values()]) p.reject(gone);
    this.pending.clear();
    this.chunks.clear();
    if (this.stopped) return;
    this.home.log.error({ code, signal }, 'the runner process died; resuming its runs from their checkpoints with a new one');
    // A runner that dies at once again and again (a broken home) is restarted less and less often.
    this.restarts = Date.now() - this.startedAt < 30_000 ? this.restarts + 1 : 0;
    const delay = Math.min(MAX_RESTART_DELAY_MS, this.restarts === 0 ? 0 : 500 * 2 ** (this.restarts - 1));
    setTimeout(() => {
      void (async () => {
        // Its runs are the only ones `running` in embedded mode: the same recovery as a server start.
        const recovered = await recoverInterruptedRuns(this.home, queueResume);
        if (recovered.length > 0) this.home.log.info({ runs: recovered.map((r) => ({ id: r.id, resumedFrom: r.resumedFrom })) }, 'resuming interrupted runs');
        if (!this.stopped) await this.connect();
      })().catch((error: unknown) => this.home.log.error({ err: error }, 'could not restart the runner process'));
    }, delay).unref();
  }

  private receive(message: FromRunner): void {
    switch (message.t) {
      case 'reply': {
        const p = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) p?.reject(deserializeError(message.error));
        else p?.resolve(message.value);
        return;
      }
      case 'chunk': {
        const p = this.chunks.get(message.id);
        this.chunks.delete(message.id);
        if (message.error) p?.reject(deserializeError(message.error));
        else p?.resolve({ done: message.done, value: message.value });
        return;
      }
      case 'finished':
        this.options.onFinished?.(message.run);
        return;
      case 'metric':
        this.options.metrics?.[message.name](message.destination);
        return;
      case 'log': {
        const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = message.entry as { level?: number; msg?: string } & Record<string, unknown>;
        const method = level && level >= 50 ? 'error' : level && level >= 40 ? 'warn' : level && level <= 20 ? 'debug' : 'info';
        this.home.log[method]({ ...rest, runner: this.child?.pid }, msg ?? '');
        return;
      }
      default:
        return;
    }
  }

  private async request<T>(message: (id: number) => ToRunner, onSent?: (id: number, child: ChildProcess) => void): Promise<T> {
    const child = await this.connect();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send(message(id), (error) => {
        if (error && this.pending.delete(id)) reject(error);
      });
      onSent?.(id, child);
    });
  }

  private post(message: ToRunner): void {
    void this.connect()
      .then((child) => child.send(message))
      .catch((error: unknown) => this.home.log.error({ err: error }, 'could not reach the runner process'));
  }

  private call<T>(method: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    return this.request<T>(
      (id) => ({ t: 'call', id, method, args }),
      (id, child) => {
        if (!signal) return;
        const abort = () => {
          if (this.pending.has(id)) child.send({ t: 'abort', id } satisfies ToRunner);
        };
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
      },
    );
  }

  /** An AsyncIterable read chunk by chunk from the runner: one chunk crosses the channel per `next()`. */
  private stream<T>(method: string, args: unknown[]): AsyncIterable<T> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        const child = await self.connect();
        const id = self.nextId++;
        child.send({ t: 'open', id, method, args } satisfies ToRunner);
        let done = false;
        try {
          while (!done) {
            const next = await new Promise<{ done: boolean; value: T }>((resolve, reject) => {
              self.chunks.set(id, { resolve: resolve as (v: unknown) => void, reject });
              child.send({ t: 'next', id } satisfies ToRunner);
            });
            done = next.done;
            if (!done) yield next.value;
          }
        } finally {
          if (!done && child.connected) child.send({ t: 'return', id } satisfies ToRunner);
        }
      },
    };
  }

  private profileProxy(): ProfileStore {
    const call = <T>(method: string, ...args: unknown[]) => this.call<T>(method, args);
    return {
      listEntities: () => call('listEntities'),
      getEntity: (name) => call('getEntity', name),
      sampleValues: (entity, perColumn) => call('sampleValues', entity, perColumn),
      loadEntity: (name, file, options) => call('loadEntity', name, file, options),
      attachEntity: (name, table, options) => call('attachEntity', name, table, options),
      refreshSegment: (segmentId, entity, filter) => call('refreshSegment', segmentId, entity, filter),
      dropSegment: (segmentId) => call('dropSegment', segmentId),
      countRows: (source) => call('countRows', source),
      copiesAtOnce: (source) => call('copiesAtOnce', source),
      copyCsv: (source, range, { signal, ...options }, target) => this.call('copyCsv', [source, range, options, target], signal),
      readMembers: (source, columns, afterKey, chunkRows) => this.stream('readMembers', [source, columns, afterKey, chunkRows]),
      useStreamingResources: () => call('useStreamingResources'),
      // The runner owns the DuckDB file: it writes the copy, on a connection of its own, while runs go on.
      backupTo: (file) => call('backupTo', file),
      segmentIsStale: (segmentId, entity) => call('segmentIsStale', segmentId, entity),
      sync: {
        hasTable: (name) => call('sync.hasTable', name),
        createSnapshot: (table, source, spec, base) => call('sync.createSnapshot', table, source, spec, base),
        countRows: (table) => call('sync.countRows', table),
        adoptState: (state, legacy) => call('sync.adoptState', state, legacy),
        countUnchanged: (snapshot, state) => call('sync.countUnchanged', snapshot, state),
        readRemovals: (snapshot, state, spec, afterKey, chunkRows) => this.stream('sync.readRemovals', [snapshot, state, spec, afterKey, chunkRows]),
        readChanges: (snapshot, state, spec, options, chunkRows) => this.stream('sync.readChanges', [snapshot, state, spec, options, chunkRows]),
        appendJournal: (journal, entries) => call('sync.appendJournal', journal, entries),
        commit: (entries) => call('sync.commit', entries),
        lastTarget: (prefix) => call('sync.lastTarget', prefix),
        dropTables: (prefix) => call('sync.dropTables', prefix),
      } satisfies SyncTables,
      // The runner owns the store and closes it when it stops.
      close: async () => {},
    };
  }

  /** A dry run reads every member: it runs in the runner, so the API's event loop never maps them. */
  dryRun(exportId: string, options: { fullResync?: boolean }): Promise<DryRunReport> {
    return this.request((id) => ({ t: 'dryRun', id, exportId, options }));
  }

  private limiterStates(): Promise<LimiterState[]> {
    return this.request((id) => ({ t: 'limiter', id }));
  }

  start(runId: string, actor: Actor, _observer?: RunObserver): void {
    // Progress reaches clients through the run record (the runner saves it), not through an observer.
    this.post({ t: 'start', runId, actor });
  }

  pump(): void {
    this.post({ t: 'pump' });
  }

  cancel(runId: string): Promise<boolean> {
    return this.request((id) => ({ t: 'cancel', id, runId }));
  }

  async notReady(): Promise<string | null> {
    if (this.stopped) return 'the server is stopping';
    let timer: NodeJS.Timeout | undefined;
    try {
      // Starts the runner if it is not running (it is started on first use, and again after it died).
      await Promise.race([this.connect(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('it is still starting')), 2000)))]);
      return null;
    } catch (error) {
      return `the runner process is not up: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  }

  status(): Promise<QueueStatus> {
    return this.request((id) => ({ t: 'status', id }));
  }

  /** Has the runner interrupt its runs at a batch boundary (checkpoints kept) and exit. */
  async stopAll(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = this.exited;
    if (child.connected) child.send({ t: 'stop' } satisfies ToRunner);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

export type { SerializedError };
