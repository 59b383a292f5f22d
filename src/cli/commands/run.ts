import type { Command } from 'commander';
import { printJson, printTable, progressObserver, type Io } from '../output.ts';
import { withClient } from './common.ts';
import { printRunText, reportSummary, runWithProgress } from './export.ts';

export function registerRunCommands(program: Command, io: Io): void {
  const run = program.command('run').description('Run history');
  run
    .command('list')
    .option('--export <name>', 'only runs of this export')
    .option('--limit <n>', 'how many', (v) => Number(v), 50)
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const runs = await withClient(command, (client) => client.listRuns({ export: opts.export, limit: opts.limit }));
      const rows = runs.map((r) => ({
        name: r.id,
        id: r.id,
        export: r.export,
        status: r.status,
        startedBy: r.startedBy,
        rows: r.rows,
        sent: r.sent,
        rejected: r.rejected,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        ...(opts.json && r.error ? { error: r.error } : {}),
      }));
      if (opts.json) printJson(io, rows);
      else printTable(io, rows.map(({ name: _name, ...rest }) => rest), 'No runs yet.');
    });
  run
    .command('show <id>')
    .option('--follow', 'wait until the run ends, showing its progress (Ctrl-C stops following, not the run)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts, command: Command) => {
      if (opts.follow) {
        const summary = await withClient(command, (client) => follow(io, Boolean(opts.json), (watch) => client.followRun(id, watch)));
        reportSummary(io, summary, Boolean(opts.json));
        return;
      }
      const summary = await withClient(command, (client) => client.showRun(id));
      if (opts.json) printJson(io, summary);
      else {
        io.out(`started by ${summary.startedBy} at ${summary.startedAt ?? '-'}`);
        printRunText(io, summary);
      }
    });
  run
    .command('resume <id>')
    .description('Continue a failed or cancelled run from its checkpoint (once; a newer successful run supersedes it)')
    .option('--json', 'print one JSON summary when done')
    .action(async (id: string, opts, command: Command) => {
      const summary = await withClient(command, (client) => runWithProgress(io, Boolean(opts.json), (observer, signal) => client.resumeRun(id, { observer, signal })));
      reportSummary(io, summary, Boolean(opts.json));
    });
  run
    .command('cancel <id>')
    .description('Stop a queued or running run within seconds; what was delivered stays delivered and is counted')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts, command: Command) => {
      const summary = await withClient(command, async (client) => {
        await client.cancelRun(id);
        // The run stops at its next step; wait for it to record how it ended (a few seconds at most).
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 30_000);
        try {
          return await client.followRun(id, { observer: {}, signal: controller.signal });
        } finally {
          clearTimeout(timer);
        }
      });
      if (opts.json) printJson(io, summary);
      else printRunText(io, summary);
    });
}

/** Follows a run with a progress bar; Ctrl-C stops following. */
async function follow<T>(io: Io, json: boolean, start: (watch: { observer: ReturnType<typeof progressObserver>; signal: AbortSignal }) => Promise<T>): Promise<T> {
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
