import { createRequire } from 'node:module';
import type { SingleBar as SingleBarType } from 'cli-progress';
import type { RunObserver } from '../engine/run-export.ts';
import { escapeUnsafe } from '../lib/text.ts';

const require = createRequire(import.meta.url);

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether a person is watching stderr (progress bars, colours, carets). */
  interactive: boolean;
  /** Writes raw text to stdout and waits while the reader is behind (long streams); unset: `out`. */
  write?: (text: string) => Promise<void>;
  /** Prints lines of data (CSV meant for a file) as they are, where `out` escapes; unset: `out`. */
  outData?: (text: string) => void;
}

const closed = { stdout: false, stderr: false };

function writeTo(name: 'stdout' | 'stderr', text: string): void {
  if (closed[name]) return;
  process[name].write(text.endsWith('\n') ? text : `${text}\n`);
}

export const processIo: Io = {
  out: (text) => writeTo('stdout', text),
  err: (text) => writeTo('stderr', text),
  interactive: Boolean(process.stderr.isTTY),
  write: (text) =>
    new Promise<void>((resolve) => {
      // Waiting for the callback (flushed or queued below the high-water mark) keeps a long stream from piling
      // up in memory. A reader that went away (`| head`) is handled like for `out`: the rest is dropped quietly.
      if (closed.stdout) return resolve();
      process.stdout.write(text, () => resolve());
    }),
};

/**
 * `outflow export run … | head -1`: once the reader goes away, writes fail with EPIPE, which Node raises as
 * an 'error' event and, unhandled, a crash with a stack trace. The output has no reader left, so it is
 * dropped quietly and the command finishes its work (a run still ends and is recorded as it should).
 */
export function ignoreClosedOutput(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    if (!process[name].listeners('error').includes(onOutputError[name])) process[name].on('error', onOutputError[name]);
  }
}

const onOutputError = {
  stdout: (error: NodeJS.ErrnoException) => outputFailed('stdout', error),
  stderr: (error: NodeJS.ErrnoException) => outputFailed('stderr', error),
};

function outputFailed(name: 'stdout' | 'stderr', error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
    closed[name] = true;
    return;
  }
  throw error;
}

/**
 * `io` whose text output shows control and bidirectional-text characters as `\uXXXX` escapes, keeping only
 * line breaks and tabs: names and values stored by others (or before names were checked) must not send escape
 * sequences to the reader's terminal or show another text than they hold. JSON output stays valid JSON (the
 * escapes are JSON's own). `write` (CSV streams meant for files) is left as it is.
 */
export function terminalSafe(io: Io): Io {
  return { ...io, out: (text) => io.out(escapeUnsafe(text, '\n\t')), err: (text) => io.err(escapeUnsafe(text, '\n\t')), outData: io.outData ?? io.out };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** A plain aligned table; empty lists print a hint instead. */
export function printTable(io: Io, rows: Array<Record<string, unknown>>, empty: string): void {
  if (rows.length === 0) {
    io.out(empty);
    return;
  }
  const headers = Object.keys(rows[0]!);
  const cells = rows.map((row) => headers.map((h) => formatCell(row[h])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out([line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join('\n'));
}

/** One line per row whatever a value holds: a newline or tab in a stored name is shown escaped. */
function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return value.toLocaleString('en-US');
  if (Array.isArray(value)) return escapeUnsafe(value.join(','));
  return escapeUnsafe(String(value));
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A progress bar on stderr (rows written, rows/s, ETA) when a person watches; otherwise nothing, so that
 * `--json` output and logs stay clean.
 */
export function progressObserver(io: Io, enabled: boolean): RunObserver & { stop(): void } {
  if (!enabled || !io.interactive) {
    return { onWarning: (m) => io.err(`warning: ${m}`), onRetry: () => {}, stop: () => {} };
  }
  // Required on first use: `--help`, `--json` and scripts never draw a bar.
  const { SingleBar } = require('cli-progress') as { SingleBar: typeof SingleBarType };
  const bar = new SingleBar(
    {
      format: '  {bar} {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 50,
      formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? formatNumber(v) : String(v)),
    },
    undefined,
  );
  const started = Date.now();
  let running = false;
  return {
    onProgress({ rowsDone, rowsTotal }) {
      const speed = formatNumber(Math.round(rowsDone / Math.max(0.001, (Date.now() - started) / 1000)));
      if (!running) {
        bar.start(rowsTotal ?? 0, rowsDone, { speed });
        running = true;
      } else {
        if (rowsTotal !== null) bar.setTotal(rowsTotal);
        bar.update(rowsDone, { speed });
      }
    },
    onWarning(message) {
      io.err(`warning: ${message}`);
    },
    onRetry(message, delayMs) {
      if (!running) io.err(`retrying in ${(delayMs / 1000).toFixed(1)} s: ${message}`);
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
