import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { DestinationContext, FileExportDefinition, FileSink, StagedFile } from '../destinations/kit/define.ts';
import type { PlannedCommit, SourceResult } from '../domain/model.ts';
import { ConfigError, OutflowError } from '../domain/errors.ts';
import { createHash } from 'node:crypto';
import { Readable as ReadableStream } from 'node:stream';
import type { ProfileStore, Source } from '../store/profile/profile-store.ts';
import type { SleepFn } from '../lib/rate-limit.ts';
import { Gather } from '../lib/gather.ts';
import { isProcessAlive, sweepDeadProcessDirs } from '../lib/scratch.ts';
import { withRetry, type Recovery, type RetryPolicy } from './retry.ts';

const execFileAsync = promisify(execFile);

export const MAX_PARTS = 5;
export const DEFAULT_ROWS_PER_PART = 1_000_000;
/**
 * Parts a run renders and uploads at once: all five of a large source. With fewer lanes than parts the last
 * part rendered alone at the end (two lanes, 10M rows: ~2.6 s of ~11 s, at ~75 % of a pair's throughput).
 * Measured on 2 cores, 10M rows, against two lanes for CSV and three for gzip: 0.87x the time uncompressed
 * (8 pairs), 0.98x gzipped (6 pairs), peak RSS ~250 MB; at 100M rows 0.98x (2 pairs). Fewer when the profile
 * store's streaming memory holds fewer (a wide entity), and the process-wide render slots bound the parts of
 * all runs together.
 */
const PARTS_AT_ONCE = MAX_PARTS;

/**
 * Parts this process renders at once, whichever runs they belong to (`outflow serve --concurrency` runs several):
 * DuckDB's COPY holds a libuv pool thread for the whole of a part, and gzip and the stores' other work need the
 * pool too. With every thread held by a COPY that waits for its FIFO to drain, and the FIFO waiting on zlib,
 * nothing would move, so two threads are kept for the rest. bin/outflow.cjs sizes the pool (16 unless
 * UV_THREADPOOL_SIZE says otherwise; libuv's default is 4).
 */
function renderSlots(): number {
  return Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 2);
}

const renders = { active: 0, waiting: [] as Array<() => void> };

/** Runs `render` once a render slot of this process is free; `signal` stops the wait. */
async function withRenderSlot<T>(signal: AbortSignal, render: () => Promise<T>): Promise<T> {
  if (renders.active < renderSlots()) renders.active++;
  else {
    // A slot that frees is handed to the first waiter as it is (`active` stays), so no newcomer can take it.
    await new Promise<void>((resolve, reject) => {
      const take = () => {
        signal.removeEventListener('abort', stop);
        resolve();
      };
      const stop = () => {
        renders.waiting.splice(renders.waiting.indexOf(take), 1);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      renders.waiting.push(take);
      signal.addEventListener('abort', stop, { once: true });
    });
  }
  try {
    return await render();
  } finally {
    const next = renders.waiting.shift();
    if (next) next();
    else renders.active--;
  }
}

/** Scratch folders of runs in the home's tmp/: `parts-<pid>-<random>`, holding the parts' FIFOs. */
const WORK_DIR_PREFIX = 'parts-';

/**
 * Removes the scratch folders that killed runs left in `tmpDir` (a run removes its own when it ends, but not
 * when it is killed): those whose process is gone, and those named before names carried a pid. Returns the
 * names removed.
 */
export function sweepWorkDirs(tmpDir: string, alive: (pid: number) => boolean = isProcessAlive): string[] {
  return sweepDeadProcessDirs(tmpDir, WORK_DIR_PREFIX, { alive, withoutPid: 'remove' });
}

export interface FileSource {
  /** The segment or entity name, used in file names. */
  name: string;
  source: Source;
}

export interface PartPlan {
  source: FileSource;
  index: number;
  total: number;
  from: number;
  to: number;
  fileName: string;
}

/** `20261123T101500Z`: the run's start in UTC, as the file contract spells it. */
export function fileStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** File-name-safe form of a segment or entity name. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * Sources of one export whose files would share a name: `a/b` and `a:b` both become `a_b_<stamp>_1of1.csv`,
 * and the second upload would replace the first one's file and manifest. Names that differ only in case clash
 * too, because many SFTP servers (Windows, some NAS and managed services) store files case-insensitively.
 * Returns the first clash, or null.
 */
export function fileNameClash(names: string[]): { first: string; second: string; file: string } | null {
  const seen = new Map<string, string>();
  for (const name of names) {
    const key = fileSafe(name).toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) return { first, second: name, file: fileSafe(name) };
    seen.set(key, name);
  }
  return null;
}

/** The refusal for a clash, in the words of whichever layer found it (saving the export or running it). */
export function fileNameClashMessage(clash: { first: string; second: string; file: string }, label: 'Segments' | 'Entities'): string {
  return (
    `${label} "${clash.first}" and "${clash.second}" would be written to the same files (${clash.file}_<time>_1of1.csv and ${clash.file}_<time>.manifest.json): ` +
    'file names keep only letters, digits, ".", "_" and "-" and ignore case, so one would overwrite the other. ' +
    `Export them in two exports, or give one of them another name.`
  );
}

/**
 * Splits `rows` into at most five parts balanced by rows: one part per `rowsPerPart` rows, so a small
 * entity is a single file.
 */
export function planParts(source: FileSource, rows: number, options: { stamp: string; extension: string; rowsPerPart?: number }): PartPlan[] {
  const rowsPerPart = options.rowsPerPart ?? DEFAULT_ROWS_PER_PART;
  const total = Math.min(MAX_PARTS, Math.max(1, Math.ceil(rows / rowsPerPart)));
  return Array.from({ length: total }, (_, i) => ({
    source,
    index: i + 1,
    total,
    from: Math.floor((i * rows) / total),
    to: Math.floor(((i + 1) * rows) / total),
    fileName: `${fileSafe(source.name)}_${options.stamp}_${i + 1}of${total}${options.extension}`,
  }));
}

export interface FileExportInput {
  kind: FileExportDefinition<any>;
  connection: Record<string, unknown>;
  ctx: DestinationContext;
  profiles: ProfileStore;
  sources: FileSource[];
  startedAt: Date;
  tmpDir: string;
  rowsPerPart?: number;
  /** A part whose upload fails for a passing reason (a dropped connection) is rendered and sent again. */
  retry: RetryPolicy;
  /** Rows rendered since the last call (an estimate while a part streams, corrected when it completes). */
  onRows?: (rows: number) => void;
  onPlanned?: (totalRows: number) => void;
  /** A part failed for a passing reason and is sent again after `delayMs`. */
  onRetry?: (message: string, delayMs: number) => void;
  /** A part went through after retries: the run says it waited, and for how long. */
  onRecovered?: (recovery: Recovery) => void;
  /** What retries wait on; unset: real time. */
  clock?: { now: () => number; sleep: SleepFn };
  /** Names the export in temporary file names, so that its next run removes what a crash left. */
  tempTag?: string;
  /**
   * Called with the renames once every part and manifest is staged, before the first rename: the caller
   * records it, so that a run interrupted among the renames is finished by its resume.
   */
  onCommitPlanned?: (plan: PlannedCommit) => Promise<void>;
  /** The renames an interrupted run planned: finish them instead of rendering anything. */
  planned?: PlannedCommit;
  /** Who renders and stages the parts; unset: this process, {@link PARTS_AT_ONCE} at a time. */
  parts?: PartRunner;
  /** What the sources are, for messages; unset: segments. */
  sourceLabel?: 'Segments' | 'Entities';
}

/** `<name>_<stamp>.manifest.json`, written last: the parts of a set, their rows, bytes and SHA-256. */
export interface Manifest {
  name: string;
  createdAt: string;
  parts: Array<{ file: string; rows: number; bytes: number; sha256: string }>;
  rows: number;
  bytes: number;
}

/**
 * Renders every part as CSV with DuckDB's COPY into a FIFO, optionally gzips it, and streams it to the
 * destination under a temporary name. Nothing passes through memory but a few buffers, and the parts run at
 * once so that every core works (DuckDB rendering, zlib and ssh2 encryption) until the end. Only when every
 * part of every source is staged are they renamed; any failure removes what was staged.
 */
export async function runFileExport(input: FileExportInput): Promise<SourceResult[]> {
  const format = input.kind.format(input.connection);
  const extension = format.compression === 'gzip' ? '.csv.gz' : '.csv';
  const stamp = fileStamp(input.startedAt);

  if (input.planned) {
    // Roll forward: every part was staged and the renames were recorded; only some of them happened.
    const sink = await input.kind.open(input.connection, input.ctx, { tempTag: input.tempTag });
    try {
      await sink.commit(input.planned.files, { resumed: true });
      await sink.sweep?.(input.sources.map((s) => fileSafe(s.name)));
    } finally {
      await sink.close().catch(() => {});
    }
    return input.planned.sources;
  }

  // Saving refuses such an export; one saved before that rule (or whose sources were renamed) stops here,
  // before anything is sent, rather than letting one source's files replace another's.
  const clash = fileNameClash(input.sources.map((s) => s.name));
  if (clash) throw new ConfigError('invalid_settings', fileNameClashMessage(clash, input.sourceLabel ?? 'Segments'));

  const plans: PartPlan[] = [];
  for (const source of input.sources) {
    const rows = await input.profiles.countRows(source.source);
    plans.push(...planParts(source, rows, { stamp, extension, rowsPerPart: input.rowsPerPart }));
  }
  input.onPlanned?.(plans.reduce((sum, p) => sum + (p.to - p.from), 0));
  // Each part of a wide entity holds more of the profile store's streaming memory: fewer render at once.
  const fits = input.parts ? [] : await Promise.all(input.sources.map((s) => input.profiles.copiesAtOnce(s.source)));
  const partsAtOnce = Math.max(1, Math.min(PARTS_AT_ONCE, ...fits));

  const sink = await input.kind.open(input.connection, input.ctx, { tempTag: input.tempTag });
  // What earlier runs of this export left (a crash, a cancel whose connection was gone, an outage).
  await sink.sweep?.(input.sources.map((s) => fileSafe(s.name)));
  const staged: StagedFile[] = [];
  const results = new Map<PartPlan, PartResult>();
  // The name carries our pid, so that a later process can tell the folder of a killed run from a live one's.
  const workDir = fs.mkdtempSync(path.join(input.tmpDir, `${WORK_DIR_PREFIX}${process.pid}-`));
  const runner: PartRunner = input.parts ?? {
    parallel: partsAtOnce,
    run: (plan, signal) => withRenderSlot(signal, () => stagePart(plan, input, sink, workDir, input)),
  };
  // A part that failed stops the others a distributed runner has in flight (the local one lets them finish).
  const stopParts = new AbortController();
  const partSignal = AbortSignal.any([input.ctx.signal, stopParts.signal]);
  let sources: SourceResult[];
  try {
    let next = 0;
    let failure: unknown = null;
    const worker = async () => {
      while (failure === null && next < plans.length) {
        const plan = plans[next++]!;
        try {
          const result = await runner.run(plan, partSignal, (rows) => input.onRows?.(rows));
          staged.push(result.file);
          results.set(plan, result);
        } catch (error) {
          failure ??= error;
          stopParts.abort(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(runner.parallel, plans.length) }, worker));
    if (failure !== null) throw failure;

    sources = input.sources.map((source) => {
      const parts = plans.filter((p) => p.source === source).map((p) => results.get(p)!);
      return {
        name: source.name,
        rows: parts.reduce((sum, p) => sum + p.rows, 0),
        files: parts.map((p) => ({ path: p.file.path, rows: p.rows, bytes: p.file.bytes })),
      };
    });
    // Manifests are staged like parts and renamed last: a reader who sees one sees a complete set.
    const manifests: PlannedCommit['manifests'] = [];
    const manifestFiles: StagedFile[] = [];
    for (const source of input.sources) {
      const parts = plans.filter((p) => p.source === source).map((p) => ({ plan: p, ...results.get(p)! }));
      const manifest: Manifest = {
        name: source.name,
        createdAt: input.startedAt.toISOString(),
        parts: parts.map((p) => ({ file: p.plan.fileName, rows: p.rows, bytes: p.file.bytes, sha256: p.sha256 })),
        rows: parts.reduce((sum, p) => sum + p.rows, 0),
        bytes: parts.reduce((sum, p) => sum + p.file.bytes, 0),
      };
      const name = `${fileSafe(source.name)}_${stamp}.manifest.json`;
      const content = `${JSON.stringify(manifest, null, 2)}\n`;
      const file = await sink.stage(name, ReadableStream.from([Buffer.from(content)]));
      staged.push(file);
      manifestFiles.push(file);
      manifests.push({ name: file.path, content });
    }
    const renames = [...staged.filter((f) => !manifestFiles.includes(f)), ...manifestFiles].map((f) => ({ tempPath: f.tempPath, path: f.path }));
    await input.onCommitPlanned?.({ files: renames, sources, manifests });
    await sink.commit(renames);
    // Parts that were sent again left temporary files the dropped connection could not remove.
    await sink.discard([]);
    // A worker killed mid-part left its upload under a temporary name; its part was staged again by another
    // one. Every part of this run is renamed now, so what still carries the export's tag is such a leftover.
    if (input.parts) await sink.sweep?.(input.sources.map((s) => fileSafe(s.name)));
  } catch (error) {
    await sink.discard(staged);
    if (input.parts) await sink.sweep?.(input.sources.map((s) => fileSafe(s.name)));
    throw error;
  } finally {
    await sink.close().catch(() => {});
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return sources;
}

/** One part, rendered and staged under its temporary name. */
export interface PartResult {
  rows: number;
  file: StagedFile;
  sha256: string;
}

/**
 * Renders and stages part after part ("render and stage part i"): the file pipeline calls `run` for every
 * part, `parallel` at once, and renames nothing until all of them came back. The local runner renders in
 * this process; src/queue/parts.ts hands each part to whichever `outflow worker` is free.
 */
export interface PartRunner {
  parallel: number;
  /**
   * `signal` aborts when the run is cancelled or another part failed; `onRows` reports rows rendered elsewhere
   * (negative when a part starts over), so that the run shows progress and is not taken for stalled.
   */
  run(plan: PartPlan, signal: AbortSignal, onRows: (rows: number) => void): Promise<PartResult>;
}

/** What rendering a part needs: the destination's format, the profiles, and progress and retry hooks. */
export type PartInput = Pick<FileExportInput, 'kind' | 'connection' | 'profiles' | 'retry' | 'clock' | 'onRows' | 'onRetry' | 'onRecovered'> & {
  ctx: Pick<DestinationContext, 'signal' | 'log'>;
};

/**
 * Renders one part into a FIFO, gzips it and stages it with `sink`; a part that fails for a passing reason
 * (a dropped connection) is rendered and sent again, as the retry policy says.
 */
export async function stagePart(plan: PartPlan, input: PartInput, sink: Pick<FileSink, 'stage'>, workDir: string, hooks: Pick<FileExportInput, 'onRetry' | 'onRecovered'> = input): Promise<PartResult> {
  const format = input.kind.format(input.connection);
  return withRetry(() => renderAndStage(plan, input, sink.stage.bind(sink), format.delimiter, format.compression, workDir), input.retry, {
    signal: input.ctx.signal,
    ...(input.clock ? { now: input.clock.now, sleep: input.clock.sleep } : {}),
    onRecovered: hooks.onRecovered,
    onRetry: (error, attempt, delayMs) => {
      input.ctx.log.warn({ file: plan.fileName, attempt, delayMs, code: error.code }, error.message);
      hooks.onRetry?.(error.message, delayMs);
    },
  });
}

async function renderAndStage(
  plan: PartPlan,
  input: PartInput,
  stage: (name: string, body: Readable) => Promise<StagedFile>,
  delimiter: string,
  compression: 'gzip' | 'none',
  workDir: string,
): Promise<{ rows: number; file: StagedFile; sha256: string }> {
  const fifo = path.join(workDir, `part-${plan.index}-${Math.random().toString(36).slice(2)}.fifo`);
  // Not execFileSync: the other part streams meanwhile, and a blocked event loop stalls its upload and renderer.
  await execFileAsync('mkfifo', ['-m', '600', fifo]);
  // What waits between the stages. Gzipped parts wait on zlib, and with 1 MiB here (three parts at once then)
  // their chunks lingered long enough to reach V8's old space: mark-compacts every ~100 ms in two of three
  // 10M-row runs (--trace-gc), none with 256 KiB (farm-bench: 0.95x the time; plain CSV at 256 KiB took 1.04x,
  // so it keeps 1 MiB; five CSV parts at once with 1 MiB: 2 mark-compacts a run, as in a run without storms).
  const bufferBytes = compression === 'gzip' ? 256 * 1024 : 1024 * 1024;
  // Progress counts line ends as they are read: cheap, and close enough for a progress bar (a value with a
  // line break in it counts twice); the exact count replaces the estimate when the part completes. Counted
  // before the pieces are gathered, or a part would show nothing until 512 KiB of it had been read.
  let reported = 0;
  let headerSeen = false;
  const countRows = (chunk: Buffer) => {
    let lines = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    const rows = !headerSeen && lines > 0 ? lines - 1 : lines;
    if (lines > 0) headerSeen = true;
    reported += rows;
    input.onRows?.(rows);
  };
  // zlib takes each chunk to a pool thread and back to the event loop, and a FIFO hands over 64 KiB a read.
  // Gathered into 512 KiB pieces first, gzipped 10M-row runs took 0.87x the time and 0.94x the CPU (farm-bench,
  // 10 pairs; 256 KiB pieces 0.90x, 1 MiB within the noise of 512 KiB; --trace-gc: 2 mark-compacts in each of
  // four runs). Plain CSV gains nothing from it (1.07x, 8 pairs): its sink gathers into SFTP requests anyway.
  const csv = readFifo(fifo, bufferBytes, { pieceBytes: compression === 'gzip' ? 512 * 1024 : undefined, onRead: countRows });
  const body = new PassThrough({ highWaterMark: bufferBytes });
  // A stop can destroy the body when no pipeline holds it: after the render finished it (the pipeline above
  // has let go) and before the sink has started reading it. Its error reaches us through `staging` then; an
  // 'error' event nobody listened to was an uncaught exception that killed the whole worker process.
  body.on('error', () => undefined);
  // The manifest's checksum, of the bytes as uploaded: read as they pass, not by a stream of its own (every
  // stage a chunk crosses costs the main thread, which also encrypts the upload).
  // Attached in the same tick as the pipe below, so it sees every chunk the pipe does (a 'data' listener on
  // `body` would start it flowing before the sink reads it).
  const hash = createHash('sha256');
  const gzip = compression === 'gzip' ? zlib.createGzip({ level: 1, chunkSize: 1 << 17 }) : null;
  (gzip ?? csv).on('data', (chunk: Buffer) => hash.update(chunk));
  const piping = gzip ? pipeline(csv, gzip, body) : pipeline(csv, body);

  // Aborted when the part fails, so that DuckDB stops rendering rows nobody will read.
  const stopCopy = new AbortController();
  const { formulaEscaping } = input.kind.format(input.connection);
  const copying = input.profiles
    .copyCsv(plan.source.source, { from: plan.from, to: plan.to }, { delimiter, formulaEscaping, signal: stopCopy.signal }, fifo)
    .catch((error: unknown) => {
      // DuckDB failed before or while writing: fail the body, so the upload stops instead of committing a
      // short file.
      body.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
  const staging = stage(plan.fileName, body).catch((error: unknown) => {
    // The upload failed: close our end so DuckDB's writes fail (EPIPE) rather than block forever.
    csv.destroy();
    throw error;
  });
  // A part stopped from outside (the run cancelled; in a worker, another part failed) fails its own body, so
  // that the sink removes its temporary file while its connection still stands.
  const signal = input.ctx.signal;
  const onStop = () => {
    stopCopy.abort();
    body.destroy(signal.reason instanceof Error ? signal.reason : new OutflowError('cancelled', 'The part was stopped.'));
  };
  if (signal.aborted) onStop();
  else signal.addEventListener('abort', onStop, { once: true });
  try {
    const [rows, file] = await Promise.all([copying, staging, piping.catch(() => undefined)]);
    input.onRows?.(rows - reported);
    return { rows, file, sha256: hash.digest('hex') };
  } catch (error) {
    input.onRows?.(-reported);
    stopCopy.abort();
    body.destroy();
    // Nothing may outlive the part: DuckDB's open() of a FIFO nobody reads never returns and holds a libuv
    // thread, and the process could never exit (the caller removes the FIFO's folder next, after which nobody
    // could meet it).
    await releaseFifo(fifo, copying);
    csv.destroy();
    // The sink removes its temporary file when the upload fails; let it finish before the next step.
    const stageError = await staging.then(
      () => undefined,
      (e: unknown) => e,
    );
    // An upload the server refused closes the FIFO, and the renderer's next write fails with EPIPE, sometimes
    // before the sink has said why (it removes its temporary file first): the server's verdict is the cause.
    if (!(error instanceof OutflowError) && stageError instanceof OutflowError) throw stageError;
    throw error;
  } finally {
    signal.removeEventListener('abort', onStop);
  }
}

/**
 * Makes sure DuckDB's COPY comes to an end after a failure. Opening a FIFO for writing blocks until it has a
 * reader, and DuckDB may be about to open it after our reader has gone (its open() would then wait for ever).
 * An O_RDWR open of a FIFO never blocks on Linux and counts as a reader, so holding one (and draining whatever
 * DuckDB still writes into it) lets that open() return; it is closed once DuckDB has finished.
 */
async function releaseFifo(fifo: string, copying: Promise<unknown>): Promise<void> {
  let guard: net.Socket | undefined;
  try {
    const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    guard = new net.Socket({ fd, readable: true, writable: false });
    guard.on('error', () => undefined);
    guard.resume();
  } catch {
    // The FIFO is gone: nobody can be waiting on it.
  }
  await copying.catch(() => undefined);
  guard?.destroy();
}

/**
 * Reads a FIFO through a pipe handle (epoll) rather than fs.createReadStream, which reads 64 KiB at a time
 * through the thread pool and measured ~35 % slower. The open does not wait for DuckDB to open the write end: a
 * blocking open() would hold a pool thread until then, and with as many parts waiting as the pool has threads
 * no COPY could start (every thread waited on a FIFO that only a COPY would open). A non-blocking open of a
 * FIFO for reading returns at once on Linux, and the pipe reads nothing, not even an end, until a writer has
 * come and gone. With `pieceBytes`, what it reads is passed on in pieces of at least that many bytes; `onRead`
 * sees every read as it comes.
 */
function readFifo(fifo: string, bufferBytes: number, options: { pieceBytes?: number; onRead?: (chunk: Buffer) => void } = {}): Readable {
  const out = options.pieceBytes ? new Gather(options.pieceBytes, bufferBytes) : new PassThrough({ highWaterMark: bufferBytes });
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const pipe = new net.Socket({ fd, readable: true, writable: false });
  pipe.once('error', (e) => out.destroy(e));
  out.once('close', () => pipe.destroy());
  if (options.onRead) pipe.on('data', options.onRead);
  pipe.pipe(out);
  return out;
}
