import type { Command } from 'commander';
import { printJson, printTable, type Io } from '../output.ts';
import { parsePositiveInt } from './options.ts';
import { withClient } from './common.ts';

export function registerAuditCommand(program: Command, io: Io): void {
  program
    .command('audit')
    .description('The audit log: who changed, ran or signed in to what, when and from where (administrators)')
    .option('--since <date>', 'entries at or after this date or time, e.g. 2026-11-01')
    .option('--until <date>', 'entries before this date or time')
    .option('--actor <name>', 'only this user')
    .option('--action <action>', 'only this action, e.g. connection.update, or a prefix such as connection.')
    .option('--limit <n>', 'how many, newest first', parsePositiveInt, 100)
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const entries = await withClient(command, (client) =>
        client.listAudit({ since: opts.since, until: opts.until, actor: opts.actor, action: opts.action, limit: opts.limit }),
      );
      if (opts.json) printJson(io, entries.map((e) => ({ name: e.id, ...e })));
      else
        printTable(
          io,
          entries.map((e) => ({
            at: e.at,
            actor: e.actor,
            via: e.address ? `${e.via} ${e.address}` : e.via,
            action: e.action,
            target: e.target ?? '-',
            outcome: e.outcome,
            details: Object.keys(e.details).length ? JSON.stringify(e.details) : '',
          })),
          'No audit entries match.',
        );
    });
}
