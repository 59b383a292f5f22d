import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startSshd, type Sshd } from '../test/support/sshd.ts';
import { sqlText, writeCustomersParquet } from './data.ts';
import {
  BenchError,
  codeVersion,
  type Cost,
  emptyFolder,
  folderBytes,
  formatCost,
  formatInt,
  formatMb,
  formatRatio,
  formatSeconds,
  printTable,
  runChecked,
  runChild,
  runOutflow,
  tempDir,
  timed,
} from './support.ts';

// `npm run bench -- sftp [--rows N] [--store duckdb|postgres] [--keep]`: Outflow's SFTP file export against
// the same job done with standard tools (DuckDB's COPY to CSV, or with the PostgreSQL profile store `psql
// \copy … to` a file; pigz or gzip; OpenSSH's sftp client), both uploading to a real OpenSSH server on
// loopback. See bench/README.md for how to read the output.

export const DEFAULT_ROWS = 10_000_000;

/** Orientation targets, printed with the results; missing one is reported, not a failure. */
const TARGETS = {
  // Issue 13: at most the standard tools run one after another (issue 10 had allowed 1.5x).
  maxRatio: 1.0,
  /** Issue 13: a 100M-row uncompressed run in under two minutes on the 2-core machine. */
  hundredMillionSeconds: 120,
  plainRowsPerSecond: 1_000_000,
  gzipRowsPerSecond: 400_000,
  maxPeakRssBytes: 300e6,
  peakRssAtRows: 10_000_000,
};

/** How often the child's VmHWM is read. */
const RSS_SAMPLE_MS = 50;

export interface SftpBenchOptions {
  rows: number;
  /** Rounds of every measurement; the table shows medians (and the largest peak RSS). */
  repeat: number;
  /** Keep the temporary folder (home, data, sshd files are removed with the sshd regardless). */
  keep: boolean;
  /** The profile store the export reads: the home's DuckDB file, or PostgreSQL (a schema dropped afterwards). */
  store?: 'duckdb' | 'postgres';
}

const BENCH_DATABASE_URL = process.env.OUTFLOW_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface BaselineResult {
  csvBytes: number;
  writeSeconds: number;
  writeCpu: number | null;
  plainUploadSeconds: number;
  plainUploadCpu: number | null;
  pigzSeconds: number;
  pigzCpu: number | null;
  pigzBytes: number;
  pigzUploadSeconds: number;
  pigzUploadCpu: number | null;
  gzipSeconds: number;
  gzipCpu: number | null;
  gzipBytes: number;
  gzipUploadSeconds: number;
  gzipUploadCpu: number | null;
}

interface OutflowResult {
  /** Spawn to exit of `outflow export run`, what a user or scheduler waits for. */
  seconds: number;
  /** startedAt → finishedAt of the run as Outflow records it (no process start-up). */
  runSeconds: number;
  /** The machine's busy CPU seconds from spawn to exit: Outflow, sshd and sftp-server together. */
  cpuSeconds: number | null;
  bytes: number;
  files: number;
  peakRssBytes: number | null;
}

const say = (line: string) => console.log(line);

export async function runSftpBench(options: SftpBenchOptions): Promise<void> {
  const { rows } = options;
  const postgres = options.store === 'postgres';
  const schema = `outflow_bench_${process.pid}`;
  const env: NodeJS.ProcessEnv = postgres ? { OUTFLOW_PROFILES_URL: `${BENCH_DATABASE_URL}?schema=${schema}` } : { OUTFLOW_PROFILES_URL: '' };
  const work = tempDir('sftp');
  let sshd: Sshd | undefined;
  try {
    const parquet = path.join(work, 'customers.parquet');
    say(`Generating ${formatInt(rows)} customer rows into ${parquet} (not timed)…`);
    const generated = await timed(() => writeCustomersParquet(parquet, rows));
    say(`  ${formatSeconds(generated.seconds)} s, ${formatMb(fs.statSync(parquet).size)} MB of Parquet`);

    const home = path.join(work, 'home');
    say(`Loading it with \`outflow entity load Customer\` into ${postgres ? `PostgreSQL (schema ${schema})` : 'DuckDB'} (not timed)…`);
    const load = await runOutflow(home, ['entity', 'load', 'Customer', parquet, '--json'], { env });
    const loaded = JSON.parse(load.stdout) as { rows: number };
    if (loaded.rows !== rows) throw new BenchError(`outflow entity load reported ${loaded.rows} rows, expected ${rows}.`);
    say(`  ${formatSeconds(load.seconds)} s`);
    fs.rmSync(parquet);

    sshd = await startSshd();
    const keyFile = path.join(work, 'client_ed25519');
    fs.writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    const sshVersion = (await runChild('ssh', ['-V'])).stderr.trim();
    say(`Started OpenSSH sshd on ${sshd.host}:${sshd.port} (${sshVersion}).`);

    const plainExport = await createOutflowExport(home, work, sshd, 'none', env);
    const gzipExport = await createOutflowExport(home, work, sshd, 'gzip', env);
    const writeCsv = postgres ? psqlCopy(schema) : duckDbCopy(path.join(home, 'profiles.duckdb'));
    const baselines: BaselineResult[] = [];
    const plains: OutflowResult[] = [];
    const gzips: OutflowResult[] = [];
    // Rounds interleave the variants so that a slow spell of a shared machine does not land on one of them.
    for (let round = 1; round <= options.repeat; round++) {
      const of = options.repeat > 1 ? ` (round ${round} of ${options.repeat})` : '';
      say(`Baseline${of}: ${writeCsv.label} to CSV, compression, sftp put…`);
      baselines.push(await measureBaseline(writeCsv, work, sshd, keyFile));
      say(`Outflow${of}: export run, uncompressed…`);
      plains.push(await runOutflowExport(home, plainExport, rows, env));
      say(`Outflow${of}: export run, gzip…`);
      gzips.push(await runOutflowExport(home, gzipExport, rows, env));
    }
    const baseline = medianOf(baselines);
    const plain = { ...medianOf(plains), peakRssBytes: maxPeak(plains) };
    const gzip = { ...medianOf(gzips), peakRssBytes: maxPeak(gzips) };
    report(rows, options.repeat, baseline, plain, gzip, writeCsv.label, postgres ? 'PostgreSQL' : 'DuckDB');
  } finally {
    await sshd?.stop();
    if (postgres) await runChild('psql', [BENCH_DATABASE_URL, '-qc', `DROP SCHEMA IF EXISTS "${schema}" CASCADE`]).catch(() => undefined);
    if (options.keep) say(`Kept ${work}.`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

/** `sftp -b` with one `put`; returns what the upload cost and checks the file arrived whole. */
async function sftpPut(local: string, remote: string, sshd: Sshd, keyFile: string, work: string): Promise<Cost> {
  const batch = path.join(work, 'sftp-batch');
  fs.writeFileSync(batch, `put "${local}" "${remote}"\n`);
  const result = await runChecked('sftp', [
    '-b',
    batch,
    '-i',
    keyFile,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
    '-P',
    String(sshd.port),
    `${sshd.username}@127.0.0.1`,
  ]);
  const sent = fs.statSync(local).size;
  const arrived = fs.statSync(remote).size;
  if (sent !== arrived) throw new BenchError(`sftp put of ${path.basename(local)} left ${arrived} of ${sent} bytes on the server.`);
  fs.rmSync(remote);
  return result;
}

interface CsvWriter {
  label: string;
  /** Writes the Customer entity as CSV with a header to `csv`; returns what it cost. */
  write(csv: string): Promise<Cost>;
}

/** The same rows Outflow exports: its own Customer table, read by the same DuckDB version. */
function duckDbCopy(storeFile: string): CsvWriter {
  return {
    label: 'DuckDB COPY',
    async write(csv) {
      const instance = await DuckDBInstance.create(storeFile, { access_mode: 'READ_ONLY' });
      try {
        const con = await instance.connect();
        try {
          return await timed(() => con.run(`COPY (SELECT * FROM "Customer") TO ${sqlText(csv)} (FORMAT csv, HEADER true)`));
        } finally {
          con.closeSync();
        }
      } finally {
        instance.closeSync();
      }
    },
  };
}

/** What a PostgreSQL user would type: `psql … -c "\copy (SELECT <columns> FROM …) to 'file' with csv header"`. */
function psqlCopy(schema: string): CsvWriter {
  return {
    label: 'psql \\copy',
    async write(csv) {
      const columns = (
        await runChecked('psql', [
          BENCH_DATABASE_URL,
          '-Atc',
          `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '${schema}' AND table_name = 'Customer' AND column_name <> '__outflow_row'`,
        ])
      ).stdout.trim();
      const copy = await runChecked('psql', [BENCH_DATABASE_URL, '-qc', `\\copy (SELECT ${columns} FROM "${schema}"."Customer") to '${csv}' with (format csv, header true)`]);
      return copy;
    },
  };
}

async function measureBaseline(writer: CsvWriter, work: string, sshd: Sshd, keyFile: string): Promise<BaselineResult> {
  const local = path.join(work, 'baseline');
  const remote = path.join(sshd.root, 'baseline');
  fs.mkdirSync(local);
  fs.mkdirSync(remote);
  const csv = path.join(local, 'customers.csv');
  const gz = `${csv}.gz`;

  const write = await writer.write(csv);
  const csvBytes = fs.statSync(csv).size;
  say(`  ${writer.label} to CSV: ${formatCost(write)}, ${formatMb(csvBytes)} MB`);
  const plainUpload = await sftpPut(csv, path.join(remote, 'customers.csv'), sshd, keyFile, work);
  say(`  sftp put CSV: ${formatCost(plainUpload)}`);

  const pigz = await runChecked('pigz', ['-1', '-k', '-f', csv]);
  const pigzBytes = fs.statSync(gz).size;
  say(`  pigz -1 (${os.availableParallelism()} threads): ${formatCost(pigz)}, ${formatMb(pigzBytes)} MB`);
  const pigzUpload = await sftpPut(gz, path.join(remote, 'customers.csv.gz'), sshd, keyFile, work);
  say(`  sftp put pigz output: ${formatCost(pigzUpload)}`);
  fs.rmSync(gz);

  const gzip = await runChecked('gzip', ['-1', '-k', '-f', csv]);
  const gzipBytes = fs.statSync(gz).size;
  say(`  gzip -1: ${formatCost(gzip)}, ${formatMb(gzipBytes)} MB`);
  const gzipUpload = await sftpPut(gz, path.join(remote, 'customers.csv.gz'), sshd, keyFile, work);
  say(`  sftp put gzip output: ${formatCost(gzipUpload)}`);

  fs.rmSync(local, { recursive: true, force: true });
  fs.rmSync(remote, { recursive: true, force: true });
  return {
    csvBytes,
    writeSeconds: write.seconds,
    writeCpu: write.cpuSeconds,
    plainUploadSeconds: plainUpload.seconds,
    plainUploadCpu: plainUpload.cpuSeconds,
    pigzSeconds: pigz.seconds,
    pigzCpu: pigz.cpuSeconds,
    pigzBytes,
    pigzUploadSeconds: pigzUpload.seconds,
    pigzUploadCpu: pigzUpload.cpuSeconds,
    gzipSeconds: gzip.seconds,
    gzipCpu: gzip.cpuSeconds,
    gzipBytes,
    gzipUploadSeconds: gzipUpload.seconds,
    gzipUploadCpu: gzipUpload.cpuSeconds,
  };
}

interface RunSummaryJson {
  status: string;
  rows: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  entities: Array<{ name: string; rows: number; files?: Array<{ path: string; rows: number; bytes: number }> }>;
  error?: { code: string; message: string };
}

interface OutflowExport {
  name: string;
  /** The export folder on the sshd, emptied after each run. */
  folder: string;
}

/** One SFTP connection (key auth, pinned host key) and one export of the whole Customer entity. */
async function createOutflowExport(home: string, work: string, sshd: Sshd, compression: 'none' | 'gzip', env: NodeJS.ProcessEnv): Promise<OutflowExport> {
  const name = `bench-${compression}`;
  const folder = path.join(sshd.root, name);
  fs.mkdirSync(folder);
  const configFile = path.join(work, `${name}.json`);
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
      hostKeySha256: sshd.hostKeySha256,
      folder,
      compression,
      delimiter: ',',
    }),
    { mode: 0o600 },
  );
  await runOutflow(home, ['connection', 'create', '--type', 'sftp', '--name', name, '--config', configFile, '--accept-privacy-terms', '--json'], { env });
  fs.rmSync(configFile);
  await runOutflow(home, ['export', 'create', '--name', name, '--connection', name, '--entities', 'Customer', '--json'], { env });
  return { name, folder };
}

async function runOutflowExport(home: string, { name, folder }: OutflowExport, rows: number, env: NodeJS.ProcessEnv): Promise<OutflowResult> {
  const run = await runOutflow(home, ['export', 'run', name, '--json'], { sampleRssMs: RSS_SAMPLE_MS, env });
  const summary = JSON.parse(run.stdout) as RunSummaryJson;
  if (summary.status !== 'succeeded') throw new BenchError(`Outflow run ${name} ${summary.status}: ${summary.error?.message ?? ''}`);
  const files = summary.entities.flatMap((e) => e.files ?? []);
  const fileRows = files.reduce((sum, f) => sum + f.rows, 0);
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  if (summary.rows !== rows || fileRows !== rows) throw new BenchError(`Outflow run ${name} wrote ${fileRows} rows (run says ${summary.rows}), expected ${rows}.`);
  // The run's files; the set's manifest (`*.manifest.json`) is not one of them.
  const onServer = folderBytes(folder) - fs.readdirSync(folder).filter((f) => f.endsWith('.manifest.json')).reduce((sum, f) => sum + fs.statSync(path.join(folder, f)).size, 0);
  if (onServer !== bytes) throw new BenchError(`Outflow run ${name} reported ${bytes} bytes, but the server holds ${onServer}.`);
  const leftovers = fs.readdirSync(folder).filter((f) => f.endsWith('.partial'));
  if (leftovers.length > 0) throw new BenchError(`Outflow run ${name} left temporary files on the server: ${leftovers.join(', ')}.`);
  const runSeconds = (Date.parse(summary.finishedAt ?? '') - Date.parse(summary.startedAt ?? '')) / 1000;
  say(
    `  ${formatCost(run)} (run itself ${formatSeconds(runSeconds)} s), ${files.length} file(s), ${formatMb(bytes)} MB, ` +
      `peak RSS ${run.peakRssBytes === null ? 'not sampled' : `${formatMb(run.peakRssBytes)} MB`}`,
  );
  emptyFolder(folder);
  return { seconds: run.seconds, runSeconds, cpuSeconds: run.cpuSeconds, bytes, files: files.length, peakRssBytes: run.peakRssBytes };
}

/** The median of every numeric field across rounds. */
function medianOf<T extends object>(results: T[]): T {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const first = results[0]!;
  return Object.fromEntries(
    Object.entries(first).map(([key, value]) => [key, typeof value === 'number' ? median(results.map((r) => (r as Record<string, number>)[key]!)) : value]),
  ) as T;
}

function maxPeak(results: OutflowResult[]): number | null {
  const peaks = results.map((r) => r.peakRssBytes).filter((p): p is number => p !== null);
  return peaks.length > 0 ? Math.max(...peaks) : null;
}

function report(rows: number, repeat: number, b: BaselineResult, plain: OutflowResult, gzip: OutflowResult, writer: string, store: string): void {
  // Issue 10 sets 1.2x for the PostgreSQL store against psql \copy; issue 13 1.0x for DuckDB.
  const maxRatio = store === 'PostgreSQL' ? 1.2 : TARGETS.maxRatio;
  const baselinePlain = b.writeSeconds + b.plainUploadSeconds;
  const baselinePigz = b.writeSeconds + b.pigzSeconds + b.pigzUploadSeconds;
  const baselineGzip = b.writeSeconds + b.gzipSeconds + b.gzipUploadSeconds;
  const rss = (bytes: number | null) => (bytes === null ? '—' : formatMb(bytes));
  // Busy CPU seconds of the whole machine over the steps (null when any step has none).
  const cpu = (...steps: Array<number | null>) => (steps.some((s) => s === null) ? null : steps.reduce<number>((sum, s) => sum + s!, 0));
  const cpuCell = (seconds: number | null) => (seconds === null ? '—' : formatSeconds(seconds));
  const row = (variant: string, secs: number, cpuSeconds: number | null, fileBytes: number, peak: string, ratio: string) => [
    variant,
    formatInt(rows),
    formatSeconds(secs),
    cpuCell(cpuSeconds),
    formatInt(rows / secs),
    formatMb(b.csvBytes / secs),
    formatMb(fileBytes),
    peak,
    ratio,
  ];

  say('');
  say(`SFTP export of ${formatInt(rows)} rows (${(b.csvBytes / rows).toFixed(0)} B/row as CSV) from the ${store} profile store to OpenSSH on loopback; ${os.availableParallelism()} cores; code ${codeVersion()}.`);
  if (repeat > 1) say(`Figures are medians of ${repeat} rounds; peak RSS is the largest of them.`);
  say(
    `Targets: Outflow within ${maxRatio}x of the baseline; ≥ ${formatInt(TARGETS.plainRowsPerSecond)} rows/s uncompressed; ` +
      `≥ ${formatInt(TARGETS.gzipRowsPerSecond)} rows/s gzip; peak RSS < ${TARGETS.maxPeakRssBytes / 1e6} MB at ${formatInt(TARGETS.peakRssAtRows)} rows.`,
  );
  say('');
  printTable(
    ['variant', 'rows', 'seconds', 'CPU s', 'rows/s', 'CSV MB/s', 'file MB', 'peak RSS MB', 'Outflow/baseline'],
    [
      row(`baseline CSV: ${writer} + sftp`, baselinePlain, cpu(b.writeCpu, b.plainUploadCpu), b.csvBytes, '—', '—'),
      row('Outflow CSV', plain.seconds, plain.cpuSeconds, plain.bytes, rss(plain.peakRssBytes), formatRatio(plain.seconds / baselinePlain)),
      row(`baseline gzip: ${writer} + pigz -1 + sftp`, baselinePigz, cpu(b.writeCpu, b.pigzCpu, b.pigzUploadCpu), b.pigzBytes, '—', '—'),
      row(`baseline gzip: ${writer} + gzip -1 + sftp`, baselineGzip, cpu(b.writeCpu, b.gzipCpu, b.gzipUploadCpu), b.gzipBytes, '—', '—'),
      row('Outflow gzip (zlib level 1)', gzip.seconds, gzip.cpuSeconds, gzip.bytes, rss(gzip.peakRssBytes), formatRatio(gzip.seconds / baselinePigz)),
    ],
  );
  say('');
  say(`Baseline CSV   = ${writer} write ${formatSeconds(b.writeSeconds)} s + upload ${formatSeconds(b.plainUploadSeconds)} s.`);
  say(`Baseline pigz  = ${writer} write ${formatSeconds(b.writeSeconds)} s + pigz -1 ${formatSeconds(b.pigzSeconds)} s + upload ${formatSeconds(b.pigzUploadSeconds)} s.`);
  say(`Baseline gzip  = ${writer} write ${formatSeconds(b.writeSeconds)} s + gzip -1 ${formatSeconds(b.gzipSeconds)} s + upload ${formatSeconds(b.gzipUploadSeconds)} s.`);
  say(
    `Outflow seconds are spawn-to-exit of \`outflow export run\`; the runs themselves took ${formatSeconds(plain.runSeconds)} s (CSV, ${plain.files} files) ` +
      `and ${formatSeconds(gzip.runSeconds)} s (gzip, ${gzip.files} files). Outflow gzip vs gzip -1 baseline: ${formatRatio(gzip.seconds / baselineGzip)}.`,
  );
  say('');
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  const peak = Math.max(plain.peakRssBytes ?? 0, gzip.peakRssBytes ?? 0);
  say(`Uncompressed: ${formatRatio(plain.seconds / baselinePlain)} of baseline (target ≤ ${maxRatio}x) ${verdict(plain.seconds / baselinePlain <= maxRatio)}; ` +
    `${formatInt(rows / plain.seconds)} rows/s (target ≥ ${formatInt(TARGETS.plainRowsPerSecond)}) ${verdict(rows / plain.seconds >= TARGETS.plainRowsPerSecond)}.`);
  say(`Gzip:         ${formatRatio(gzip.seconds / baselinePigz)} of baseline (target ≤ ${maxRatio}x) ${verdict(gzip.seconds / baselinePigz <= maxRatio)}; ` +
    `${formatInt(rows / gzip.seconds)} rows/s (target ≥ ${formatInt(TARGETS.gzipRowsPerSecond)}) ${verdict(rows / gzip.seconds >= TARGETS.gzipRowsPerSecond)}.`);
  const rssNote = rows === TARGETS.peakRssAtRows ? '' : ` (the target is stated for ${formatInt(TARGETS.peakRssAtRows)} rows; this run had ${formatInt(rows)})`;
  say(`Peak RSS:     ${formatMb(peak)} MB (target < ${TARGETS.maxPeakRssBytes / 1e6} MB) ${verdict(peak < TARGETS.maxPeakRssBytes)}${rssNote}.`);
  if (rows >= 100_000_000) {
    say(`100M rows:    uncompressed in ${formatSeconds(plain.seconds)} s (target < ${TARGETS.hundredMillionSeconds} s) ${verdict(plain.seconds < TARGETS.hundredMillionSeconds)}.`);
  }
}
