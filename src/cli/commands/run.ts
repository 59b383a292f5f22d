import type { Command } from 'commander';
import { runStatuses } from '../../domain/run-state.ts';
import { ValidationError } from '../../domain/errors.ts';
import { outflowCommand } from '../../lib/shell.ts';
import { printJson, printTable, type Io } from '../output.ts';
import { integerOption, withClient } from './common.ts';
import { printRunText, reportRun, runWithProgress } from './export.ts';

/**
 * The use-case layer names a bad filter by its field (`status must be…`), as the API does; here it was given
 * as a flag, so say `--status must be…`. The error stays a ValidationError (exit code 2).
 */
function asFlagError(error: unknown, fields: string[]): unknown {
  if (!(error instanceof ValidationError)) return error;
  const field = error.issues[0]?.path;
  if (!field || !fields.includes(field) || !error.message.startsWith(`${field} `)) return error;
  return new ValidationError(`--${error.message}`, error.issues, { cause: error });
}

export function registerRunCommands(program: Command, io: Io): void {
  const run = program.command('run').description('Run history');
  run
    .command('list')
    .option('--export <name>', 'only runs of this export')
    .option('--limit <n>', 'how many', integerOption(), 50)
    .option('--status <state>', `only runs in this state (${runStatuses.join(', ')})`)
    .option('--since <date>', 'only runs queued at or after this date (midnight UTC) or ISO date-time')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const runs = await withClient(command, (client) => client.listRuns({ export: opts.export, limit: opts.limit, status: opts.status, since: opts.since })).catch((error: unknown) => {
        throw asFlagError(error, ['status', 'since']);
      });
      const rows = runs.map((r) => ({
        name: r.id,
        id: r.id,
        export: r.export,
        status: r.status,
        startedBy: r.startedBy,
        // The same counts as the web app's history: rows the run has to handle (known once it starts) and
        // rows handled so far (sent, rejected or unchanged), live while it runs.
        rows: r.rows,
        ...(opts.json ? { rowsDone: r.rowsDone } : { done: r.rowsDone }),
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
    .command('rejections <id>')
    .description('Every rejected record of a run as CSV (key, segment, code, reason); redirect it to a file')
    .action(async (id: string, _opts, command: Command) => {
      await withClient(command, async (client) => {
        const chunks = await client.runRejections(id);
        if (io.write) {
          for await (const chunk of chunks) await io.write(chunk);
          return;
        }
        // `out` prints lines: hand it whole lines only (a chunk from the network can end mid-line).
        let pending = '';
        for await (const chunk of chunks) {
          pending += chunk;
          const end = pending.lastIndexOf('\n');
          if (end >= 0) {
            (io.outData ?? io.out)(pending.slice(0, end + 1));
            pending = pending.slice(end + 1);
          }
        }
        if (pending) (io.outData ?? io.out)(pending);
      });
    });
  run
    .command('show <id>')
    .option('--follow', 'print progress until the run ends (Ctrl-C stops following, not the run)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts, command: Command) => {
      if (opts.follow) {
        const summary = await withClient(command, (client) => runWithProgress(io, Boolean(opts.json), (watch) => client.followRun(id, watch)));
        reportRun(io, summary, Boolean(opts.json));
        return;
      }
      const summary = await withClient(command, (client) => client.showRun(id));
      if (opts.json) printJson(io, summary);
      else {
        // A resumed run's counts include those of the runs it continues: say which, or they look doubled.
        const continues = summary.resumedFrom ? ` (${summary.trigger === 'recovery' ? 'resumed automatically after a crash:' : 'resuming'} run ${summary.resumedFrom})` : '';
        io.out(`started by ${summary.startedBy} at ${summary.startedAt ?? '-'}${continues}`);
        // Its own counts stop where it stopped: the run that continues it has the rest.
        if (summary.resumedBy) io.out(`resumed as run ${summary.resumedBy}`);
        printRunText(io, summary);
      }
    });
  run
    .command('resume <id>')
    .description('Continue a failed or cancelled run from its checkpoint (once; a newer successful run supersedes it)')
    .option('--json', 'print one JSON summary when done')
    .action(async (id: string, opts, command: Command) => {
      const summary = await withClient(command, (client) => runWithProgress(io, Boolean(opts.json), (watch) => client.resumeRun(id, watch)));
      reportRun(io, summary, Boolean(opts.json));
    });
  run
    .command('cancel <id>')
    .description('Stop a queued or running run within seconds; what was already delivered stays delivered and counted')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts, command: Command) => {
      const summary = await withClient(command, async (client) => {
        const asked = await client.cancelRun(id);
        if (asked.status !== 'queued' && asked.status !== 'running') return asked;
        // The run stops at its next step (a request in flight is abandoned): wait for it to record how it
        // ended, with exact counts, for a few seconds at most.
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 30_000);
        try {
          return await client.followRun(id, { observer: {}, signal: controller.signal });
        } finally {
          clearTimeout(timer);
        }
      });
      if (opts.json) printJson(io, summary);
      else if (summary.status === 'cancelled') printRunText(io, summary);
      else io.out(`Asked run ${summary.id} of "${summary.export}" to stop; it is still ${summary.status}. See \`${outflowCommand('run', 'show', summary.id)}\`.`);
    });
}
