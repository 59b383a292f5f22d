import type { Command } from 'commander';
import { outflowCommand } from '../../lib/shell.ts';
import { resumeRun } from '../../app/exports.ts';
import { listRunSummaries, reapStaleRuns, showRun } from '../../app/runs.ts';
import { printJson, printTable, type Io } from '../output.ts';
import { integerOption, withHome } from './common.ts';
import { printRunText, reportRun, runWithProgress } from './export.ts';

export function registerRunCommands(program: Command, io: Io): void {
  const run = program.command('run').description('Run history');
  run
    .command('list')
    .option('--export <name>', 'only runs of this export')
    .option('--limit <n>', 'how many', integerOption(), 50)
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const runs = await withHome(command, async (home) => {
        await reapStaleRuns(home);
        return listRunSummaries(home, { export: opts.export, limit: opts.limit });
      });
      const rows = runs.map((r) => ({
        name: r.id,
        id: r.id,
        export: r.exportName,
        status: r.status,
        startedBy: r.startedBy,
        rows: r.rowsTotal,
        sent: r.sent,
        rejected: r.rejected,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        ...(opts.json && r.error ? { error: r.error } : {}),
      }));
      if (opts.json) printJson(io, rows);
      else printTable(io, rows.map(({ name: _name, ...rest }) => rest), opts.export ? `No runs of export "${opts.export}" yet: start one with \`${outflowCommand('export', 'run', opts.export)}\`.` : 'No runs yet.');
    });
  run
    .command('show <id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts, command: Command) => {
      const summary = await withHome(command, (home) => showRun(home, id));
      if (opts.json) printJson(io, summary);
      else {
        io.out(`started by ${summary.startedBy} at ${summary.startedAt ?? '-'}`);
        printRunText(io, summary);
      }
    });
  run
    .command('resume <id>')
    .description('Continue a failed or cancelled run from its checkpoint')
    .option('--json', 'print one JSON summary when done')
    .action(async (id: string, opts, command: Command) => {
      await withHome(command, async (home) => {
        const result = await runWithProgress(io, Boolean(opts.json), (observer, signal) => resumeRun(home, id, observer, signal));
        await reportRun(home, io, result, Boolean(opts.json));
      });
    });
}
