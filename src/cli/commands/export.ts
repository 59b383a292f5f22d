import type { Command } from 'commander';
import type { RefreshSummary, RunWatch } from '../../client/client.ts';
import { registerExportScheduleCommands, updateExportSchedule } from './schedule.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { RunSummary } from '../../app/runs.ts';
import type { ExportManifest } from '../../app/exports.ts';
import { ExitCode, exitCodes } from '../exit.ts';
import { formatBytes, formatNumber, printJson, printTable, progressObserver, type Io } from '../output.ts';
import { IF_MATCH_HELP, ifMatchOption, readJsonConfig, splitList, withClient } from './common.ts';
import type { DryRunReport } from '../../engine/run-export.ts';
import { outflowCommand } from '../../lib/shell.ts';

export function registerExportCommands(program: Command, io: Io): void {
  const exp = program.command('export').description('Exports: what goes to which connection');
  registerExportScheduleCommands(exp, io);

  exp
    .command('create')
    .description('Save an export (saving never runs it)')
    .requiredOption('--name <name>', 'export name, unique')
    .requiredOption('--connection <name>', 'connection to send to')
    .option('--segments <list>', 'comma-separated segment names')
    .option('--entities <list>', 'comma-separated entity names (SFTP only)')
    .option('--config <file>', 'JSON: {"mapping": {...}, "syncMode": "full"|"upsert"|"mirror", ...destination settings}, or -')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const view = await withClient(command, (client) =>
        client.createExport({ name: opts.name, connection: opts.connection, segments: splitList(opts.segments), entities: splitList(opts.entities), config: readJsonConfig(opts.config) }),
      );
      // Warnings go to stderr so that --json keeps stdout a single JSON value (which lists them too).
      for (const warning of view.warnings) io.err(`warning: ${warning}`);
      if (opts.json) printJson(io, view);
      else io.out(`Saved export "${view.name}" to ${view.connection}. Run it with \`${outflowCommand('export', 'run', view.name)}\`.`);
    });

  exp
    .command('update <name>')
    .description('Edit an export (or give one whose connection was removed a new one); validated like a create')
    .option('--name <name>', 'new export name')
    .option('--connection <name>', 'connection to send to')
    .option('--segments <list>', 'comma-separated segment names (replaces the sources)')
    .option('--entities <list>', 'comma-separated entity names (SFTP only; replaces the sources)')
    .option('--config <file>', 'JSON merged over the current config (null removes a key; mapping is replaced whole), or -')
    .option('--schedule <cron>', 'its own schedule, a 5-field cron expression read in --tz (it then leaves the scheduled refresh); off: back to the refresh')
    .option('--tz <zone>', 'IANA time zone of --schedule, e.g. Europe/Paris')
    .option('--if-match <etag>', IF_MATCH_HELP)
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const ifMatch = ifMatchOption(opts.ifMatch);
      const editing = [opts.name, opts.connection, opts.segments, opts.entities, opts.config].some((v) => v !== undefined);
      if (!editing && opts.schedule === undefined) {
        if (opts.tz !== undefined) throw new ValidationError('--tz goes with --schedule "<cron>".');
        throw new ValidationError('Nothing to change: pass --name, --connection, --segments, --entities, --config or --schedule.');
      }
      if (opts.tz !== undefined && opts.schedule === undefined) throw new ValidationError('--tz goes with --schedule "<cron>".');
      // The version is the export's definition's; its own schedule alone is not versioned.
      if (!editing && ifMatch) throw new ValidationError('--if-match goes with a change of the export itself (--name, --connection, --segments, --entities or --config).');
      if (!editing) {
        const view = await updateExportSchedule(command, io, name, opts);
        if (opts.json) printJson(io, view);
        return;
      }
      const config = readJsonConfig(opts.config);
      const view = await withClient(command, (client) =>
        client.updateExport(name, { name: opts.name, connection: opts.connection, segments: splitList(opts.segments), entities: splitList(opts.entities), config }, { ifMatch }),
      );
      for (const warning of view.warnings) io.err(`warning: ${warning}`);
      const schedule = opts.schedule !== undefined ? await updateExportSchedule(command, io, view.name, { ...opts, json: true }) : undefined;
      if (opts.json) printJson(io, schedule ? { ...view, schedule } : view);
      else {
        io.out(`Updated export "${view.name}" to ${view.connection}.`);
        if (schedule) io.out(schedule.cron ? `It runs on its own schedule: ${schedule.cron} (${schedule.timeZone}).` : 'It runs with the scheduled refresh again.');
      }
    });

  exp
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const views = await withClient(command, (client) => client.listExports());
      if (opts.json) printJson(io, views);
      else printTable(io, views.map((v) => ({ name: v.name, connection: v.connection, type: v.type, sources: v.segments ?? v.entities })), 'No exports yet: create one with `outflow export create`.');
    });

  exp
    .command('show <name>')
    .option('--json', 'machine-readable output')
    .action(async (name: string, _opts, command: Command) => {
      printJson(io, await withClient(command, (client) => client.showExport(name)));
    });

  exp
    .command('manifest <name>')
    .description('The data manifest: which fields leave, to which destination and account, under whose consent, how often, and what the last runs sent')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const manifest = await withClient(command, (client) => client.exportManifest(name));
      if (opts.json) printJson(io, manifest);
      else printManifest(io, manifest);
    });

  exp
    .command('remove <name>')
    .option('--if-match <etag>', IF_MATCH_HELP)
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts, command: Command) => {
      const ifMatch = ifMatchOption(opts.ifMatch);
      const result = await withClient(command, (client) => client.removeExport(name, { ifMatch }));
      if (opts.json) printJson(io, result);
      else io.out(`Removed export "${name}". Its run history stays.`);
    });

  exp
    .command('run <name>')
    .description('Queue a run of an export and follow it; exits non-zero unless the run succeeded')
    .option('--detach', 'queue the run and print its id without waiting (needs `outflow serve`)')
    .option('--full-resync', 'send every member once, whatever was delivered before, and rebuild the delivered state (mirror, upsert)')
    .option('--dry-run', 'report what the run would add, update, remove and reject, and send nothing')
    .option('--json', 'print one JSON summary when done (with --detach: {"id": …})')
    .action(async (name: string, opts, command: Command) => {
      const options = { fullResync: Boolean(opts.fullResync) };
      if (opts.dryRun) {
        const report = await withClient(command, (client) => client.dryRunExport(name, options));
        if (opts.json) printJson(io, report);
        else printDryRun(io, report);
        return;
      }
      if (opts.detach) {
        const queued = await withClient(command, (client) => client.queueExport(name, options));
        if (opts.json) printJson(io, { id: queued.id });
        else io.out(`Queued run ${queued.id} of "${queued.export}". Follow it with \`outflow run show ${queued.id} --follow\`; stop it with \`outflow run cancel ${queued.id}\`.`);
        return;
      }
      const summary = await withClient(command, (client) => runWithProgress(io, Boolean(opts.json), (watch) => client.runExport(name, watch, options)));
      reportRun(io, summary, Boolean(opts.json));
    });
}

/** `outflow refresh`: one refresh now. Ctrl-C cancels the run in progress cleanly (staged files removed). */
export function registerRefreshCommand(program: Command, io: Io): void {
  program
    .command('refresh')
    .description('One refresh now (administrators): every segment, then every export that is not paused and has no schedule of its own')
    // Kept only to say where it went: the schedule runs inside `outflow serve`, through DST and restarts.
    .option('--every <minutes>', 'retired: use `outflow schedule set`')
    .option('--json', 'print one JSON object when done')
    .action(async (opts, command: Command) => {
      if (opts.every !== undefined) {
        throw new ValidationError(
          '`outflow refresh --every` is retired: the schedule now runs inside `outflow serve`. Set it with `outflow schedule set --days mon-fri --times 06:00,18:00 --tz Europe/Paris` ' +
            '(or --cron "<expression>" --tz <zone>), then keep `outflow serve` running. `outflow refresh` without --every does one refresh now.',
        );
      }
      const observer = progressObserver(io, false);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let result: RefreshSummary;
      try {
        result = await withClient(command, (client) => client.refresh({ observer, signal: controller.signal }));
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (opts.json) printJson(io, result);
      else {
        for (const s of result.segments) io.out(s.error ? `segment ${s.name}: not refreshed (${s.error})` : `segment ${s.name}: ${formatNumber(s.members ?? 0)} members`);
        for (const r of result.runs) io.out(`export ${r.export}: ${r.status}${r.error ? ` (${r.error.message})` : ''}`);
      }
      if (result.segments.some((s) => s.error) || result.runs.some((r) => r.status !== 'succeeded')) throw new ExitCode(exitCodes.runFailed);
    });
}

/**
 * Starts or follows a run with a progress bar on a terminal. Ctrl-C aborts the watch: a run this command
 * started is cancelled cleanly (staged files removed, what was sent stays counted); a run it only follows
 * keeps going.
 */
export async function runWithProgress(io: Io, json: boolean, start: (watch: RunWatch) => Promise<RunSummary>): Promise<RunSummary> {
  const observer = progressObserver(io, !json);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await start({ observer, signal: controller.signal });
  } finally {
    observer.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints a finished run (text, or one JSON value) and fails the command unless the run succeeded. */
export function reportRun(io: Io, summary: RunSummary, json: boolean): RunSummary {
  if (json) printJson(io, summary);
  else printRunText(io, summary);
  if (summary.status !== 'succeeded') throw new ExitCode(exitCodes.runFailed);
  return summary;
}

export function printDryRun(io: Io, report: DryRunReport): void {
  io.out(`Dry run of "${report.export}" (${report.syncMode}${report.fullResync ? ', full resync' : ''}): nothing was sent.`);
  for (const s of report.sources) {
    io.out(
      `  ${s.name}: ${formatNumber(s.members)} members: ${formatNumber(s.add)} to add, ${formatNumber(s.update)} to update, ${formatNumber(s.remove)} to remove, ` +
        `${formatNumber(s.reject)} to reject, ${formatNumber(s.unchanged)} unchanged`,
    );
  }
  const shown = report.rejections.slice(0, 10);
  for (const rejection of shown) io.out(`  would reject ${rejection.source}/${rejection.key}: ${rejection.code}: ${rejection.reason}`);
  if (report.reject > shown.length) io.out(`  … and ${formatNumber(report.reject - shown.length)} more (--json lists the first ${report.rejections.length})`);
  if (report.refusal) io.out(`  a run would be refused: ${report.refusal.message}`);
  for (const warning of report.warnings) io.out(`  warning: ${warning}`);
  for (const note of report.notes) io.out(`  note: ${note}`);
}

export function printRunText(io: Io, summary: RunSummary & { rejectionsTotal?: number }): void {
  const seconds = summary.startedAt && summary.finishedAt ? (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000 : null;
  io.out(`Run ${summary.id} of "${summary.export}" ${summary.status}${seconds !== null ? ` in ${seconds.toFixed(1)} s` : ''}.`);
  for (const source of summary.entities) {
    if (source.files) {
      io.out(`  ${source.name}: ${formatNumber(source.rows)} rows in ${source.files.length} file(s)`);
      for (const file of source.files) io.out(`    ${file.path}  ${formatNumber(file.rows)} rows  ${formatBytes(file.bytes)}`);
    } else {
      const removed = source.removed ? `, ${formatNumber(source.removed)} removed` : '';
      const unchanged = source.unchanged !== undefined ? `, ${formatNumber(source.unchanged)} unchanged` : '';
      io.out(`  ${source.name}: ${formatNumber(source.rows)} members, ${formatNumber(source.sent ?? 0)} sent, ${formatNumber(source.rejected ?? 0)} rejected${removed}${unchanged}`);
    }
  }
  if (summary.entities.length === 0 || !summary.entities[0]?.files) {
    if (summary.rejected > 0 || summary.notAttempted > 0) {
      io.out(`  sent ${formatNumber(summary.sent)}, rejected ${formatNumber(summary.rejected)}, not attempted ${formatNumber(summary.notAttempted)}`);
    }
  }
  const shown = summary.rejections.slice(0, 10);
  for (const rejection of shown) io.out(`  rejected ${rejection.source}/${rejection.key}: ${rejection.code}: ${rejection.reason}`);
  // `run show` prints this same summary, so it cannot be where the rest are: `run rejections` writes them all.
  // It writes the records of the chain this run reports (a resumed run's `rejected` counts those of the runs it
  // continues, and so does the CSV), so `rejected` is the count of them all.
  const listed = summary.rejectionsTotal ?? summary.rejected;
  if (listed === undefined ? summary.rejections.length > shown.length : listed > shown.length) {
    const more = listed === undefined ? 'more' : `${formatNumber(listed - shown.length)} more`;
    io.out(`  … ${more}: \`${outflowCommand('run', 'rejections', summary.id)} > rejected.csv\` writes every rejected record of this run`);
  }
  for (const warning of summary.warnings) io.out(`  warning: ${warning}`);
  if (summary.error) io.err(`error: ${summary.error.message}`);
}

function printManifest(io: Io, m: ExportManifest): void {
  const settings = (values: Record<string, unknown>) =>
    Object.entries(values)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ') || '(none)';
  io.out(`Data manifest of export "${m.export}" (generated ${m.generatedAt})`);
  io.out(`Destination:  ${m.destination.title}, connection "${m.destination.connection}"`);
  io.out(`Account:      ${settings(m.destination.account)}`);
  io.out(`Settings:     ${settings(m.destination.settings)}`);
  io.out(`Consent:      ${m.consent ? `privacy terms accepted by ${m.consent.acceptedBy} at ${m.consent.acceptedAt}` : 'unknown (the connection was removed)'}`);
  io.out(`Created:      by ${m.createdBy} at ${m.createdAt}`);
  for (const s of m.sources) {
    io.out(`Source:       ${s.kind} "${s.name}" of ${s.entity}${s.filter ? ` where ${s.filter}` : ''}${s.members != null ? ` (${formatNumber(s.members)} members)` : ''}`);
  }
  const how = m.schedule.mode === 'own' ? `own schedule ${m.schedule.cron!.join(', ')} (${m.schedule.timeZone})` : m.schedule.mode === 'refresh' ? `with the scheduled refresh, ${m.schedule.days ? `${m.schedule.days} at ${m.schedule.times!.join(',')}` : m.schedule.cron!.join(', ')} (${m.schedule.timeZone})` : 'only when someone runs it';
  io.out(`How often:    ${m.schedule.paused ? 'PAUSED; ' : ''}${how}${m.schedule.next[0] ? `; next ${m.schedule.next[0].local}` : ''}`);
  io.out('');
  io.out('Fields that leave:');
  printTable(io, m.fields.map((f) => ({ entity: f.entity, column: f.column, destinationField: f.title ? `${f.target} (${f.title})` : f.target })), '  (none)');
  io.out('');
  io.out('Last runs:');
  printTable(io, m.lastRuns.map((r) => ({ run: r.id, status: r.status, finished: r.finishedAt ?? '-', sent: r.sent, rejected: r.rejected })), '  Not run yet.');
}
