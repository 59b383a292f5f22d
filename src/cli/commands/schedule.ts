import type { Command } from 'commander';
import type { ExportScheduleView, ScheduleView } from '../../app/schedule.ts';
import { ValidationError } from '../../domain/errors.ts';
import { printJson, type Io } from '../output.ts';
import { withClient } from './common.ts';

export function registerScheduleCommands(program: Command, io: Io): void {
  const schedule = program.command('schedule').description('The refresh schedule that `outflow serve` runs (administrators change it)');

  schedule
    .command('set')
    .description('Refresh every segment and export at these times: --days + --times, or --cron, in the --tz zone')
    .option('--days <days>', 'mon-fri, mon,wed,fri, sat-sun or daily')
    .option('--times <times>', 'times of day on a 24-hour clock, e.g. 06:00,18:00')
    .option('--cron <expression>', '5-field cron: minute hour day-of-month month day-of-week, e.g. "0 6 * * 1-5"')
    .option('--tz <zone>', 'IANA time zone, e.g. Europe/Paris or America/New_York')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const view = await withClient(command, (client) => client.setSchedule({ days: opts.days, times: opts.times, cron: opts.cron, timeZone: opts.tz }));
      if (opts.json) printJson(io, view);
      else printSchedule(io, view);
    });

  schedule
    .command('show')
    .description('The schedule and its next 5 fire times, in its zone and in UTC')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const view = await withClient(command, (client) => client.showSchedule());
      if (opts.json) printJson(io, view);
      else printSchedule(io, view);
    });

  schedule
    .command('off')
    .description('Stop the scheduled refresh (exports with their own schedule keep it)')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const view = await withClient(command, (client) => client.turnScheduleOff());
      if (opts.json) printJson(io, view);
      else printSchedule(io, view);
    });
}

/** `export pause|resume <name>`, on the `export` command. */
export function registerExportScheduleCommands(exp: Command, io: Io): void {
  for (const action of ['pause', 'resume'] as const) {
    exp
      .command(`${action} <name>`)
      .description(action === 'pause' ? 'Leave the export out of scheduled refreshes until resumed (export run still runs it)' : 'Put a paused export back into scheduled refreshes')
      .option('--json', 'machine-readable output')
      .action(async (name: string, opts, command: Command) => {
        const view = await withClient(command, (client) => (action === 'pause' ? client.pauseExport(name) : client.resumeExport(name)));
        if (opts.json) printJson(io, view);
        else io.out(action === 'pause' ? `Paused export "${view.name}": scheduled refreshes leave it out until \`outflow export resume\`.` : `Resumed export "${view.name}".`);
      });
  }
}

/** `export update <name> --schedule "<cron>"|off --tz <zone>`: the export's own schedule. */
export async function updateExportSchedule(command: Command, io: Io, name: string, opts: { schedule?: string; tz?: string; json?: boolean }): Promise<ExportScheduleView> {
  const off = opts.schedule?.trim().toLowerCase() === 'off';
  if (off && opts.tz !== undefined) throw new ValidationError('--tz goes with a cron expression; `--schedule off` takes none.');
  const view = await withClient(command, (client) => client.setExportSchedule(name, off ? null : { cron: opts.schedule!, timeZone: opts.tz! }));
  if (!opts.json) io.out(view.cron ? `Export "${view.name}" runs on its own schedule: ${describeExport(view)}` : `Export "${view.name}" runs with the scheduled refresh again.`);
  return view;
}

function describeExport(view: ExportScheduleView): string {
  const next = view.next[0];
  return `${view.cron} (${view.timeZone})${view.paused ? ', paused' : ''}${next ? `; next ${next.local} (${next.utc})` : ''}`;
}

function printSchedule(io: Io, view: ScheduleView): void {
  if (!view.enabled) io.out('The scheduled refresh is off. Set it with `outflow schedule set --days mon-fri --times 06:00 --tz Europe/Paris`.');
  else {
    const form = view.days && view.times ? `${view.days} at ${view.times.join(', ')}` : `cron ${view.cron!.join(' | ')}`;
    io.out(`Refresh: ${form} (${view.timeZone})`);
    io.out('Next:');
    for (const at of view.next) io.out(`  ${at.local}   ${at.utc}`);
    if (view.lastFiredAt) io.out(`Last handled slot: ${view.lastFiredAt}`);
  }
  for (const exp of view.exports) io.out(`export ${exp.name}: ${exp.cron ? describeExport(exp) : 'paused'}`);
}
