import fs from 'node:fs';
import type { Command } from 'commander';
import type { NotifyView } from '../../app/notify.ts';
import { ValidationError } from '../../domain/errors.ts';
import { printJson, type Io } from '../output.ts';
import { withClient } from './common.ts';

function describe(view: NotifyView): string {
  const on = view.on.map((e) => (typeof e === 'string' ? e : `rejections-above=${e['rejections-above']}`)).join(',');
  return `Alerts go to ${view.url} on ${on} (set by ${view.updatedBy} at ${view.updatedAt}).`;
}

export function registerNotifyCommands(program: Command, io: Io): void {
  const notify = program.command('notify').description("The home's alert webhook, for every export without its own (administrators)");
  notify
    .command('set')
    .description('Post a JSON alert (Slack-compatible) when a run fails, an export recovers, or too many records are rejected')
    .requiredOption('--url <url>', 'the webhook; "-" reads it from standard input (keeps its secret out of shell history)')
    .option('--on <events>', 'failed, recovered, rejections-above=<percent of a run\'s records>', 'failed,recovered')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const url = opts.url === '-' ? fs.readFileSync(0, 'utf8').trim() : String(opts.url);
      const { parseEventList } = await import('../../engine/notify.ts');
      const on = parseEventList(String(opts.on));
      for (const event of on) {
        if (typeof event === 'object' && Number.isNaN((event as Record<string, number>)['rejections-above'])) {
          throw new ValidationError('--on rejections-above=<percent> takes a number, e.g. rejections-above=5.');
        }
      }
      const view = await withClient(command, (client) => client.setNotify({ url, on }));
      if (opts.json) printJson(io, view);
      else io.out(describe(view));
    });
  notify
    .command('show')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const view = await withClient(command, (client) => client.showNotify());
      if (opts.json) printJson(io, view);
      else io.out(view ? describe(view) : 'No alert webhook is set. Set one with `outflow notify set --url <webhook> --on failed,recovered`.');
    });
  notify
    .command('off')
    .description("Stop the home's alerts (exports with their own `notify` keep theirs)")
    .action(async (_opts, command: Command) => {
      const { removed } = await withClient(command, (client) => client.removeNotify());
      io.out(removed ? 'Alerts are off.' : 'No alert webhook was set.');
    });
}
