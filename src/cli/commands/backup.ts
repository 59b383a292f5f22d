import path from 'node:path';
import type { Command } from 'commander';
import { printJson, type Io } from '../output.ts';
import { homeOption, withClient } from './common.ts';

const formatBytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

/** `outflow backup <dir>` and `outflow restore <dir>`. */
export function registerBackupCommands(program: Command, io: Io): void {
  program
    .command('backup')
    .argument('<dir>', 'a new or empty folder to write the backup to (through a server: a folder on its machine)')
    .description('Back the home up while it runs: metadata, profile store and secret key, consistent, without stopping the server or its runs (administrators)')
    .option('--without-key', 'leave the secret key out of the backup (keep <home>/secret.key apart; restore needs it with --key-file)')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, opts, command: Command) => {
      // Resolved here: a server on this machine writes where the caller means, not relative to its own folder.
      const result = await withClient(command, (client) => client.backup({ target: path.resolve(dir), withoutKey: Boolean(opts.withoutKey) }));
      if (opts.json) return printJson(io, result);
      io.out(`Backed up the home into ${result.path} (schema ${result.schemaVersion}, taken ${result.takenAt}):`);
      for (const f of result.files) io.out(`  ${f.name.padEnd(18)} ${formatBytes(f.bytes)}`);
      if (result.runsInProgress.length > 0) {
        io.out(`Runs in progress were copied as they stood (${result.runsInProgress.join(', ')}): a restore marks them interrupted, and they resume from their checkpoint.`);
      }
      io.out(result.keyNote);
      io.out(`Restore it with: outflow restore ${result.path} --home <empty folder>`);
    });

  program
    .command('restore')
    .argument('<dir>', 'a folder written by `outflow backup`')
    .description('Restore a backup into an empty home (--home); the home must not be served while it is restored')
    .option('--force', "replace the data of a home that is not empty (its metadata, profiles and key are overwritten)")
    .option('--key-file <file>', 'the secret key, for a backup taken --without-key')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, opts, command: Command) => {
      const { restoreHome } = await import('../../app/backup.ts');
      const result = await restoreHome({ from: dir, dir: homeOption(command), force: Boolean(opts.force), keyFile: opts.keyFile });
      if (opts.json) return printJson(io, result);
      io.out(`Restored ${result.from} (taken ${result.takenAt}) into ${result.home}:`);
      io.out(`  ${result.connections} connections (their secrets decrypt), ${result.segments} segments, ${result.exports} exports, ${result.runs} runs`);
      if (result.interrupted.length > 0) {
        io.out(`Runs in progress when the backup was taken are marked interrupted: ${result.interrupted.join(', ')}. \`outflow serve\` resumes them when it starts (or \`outflow run resume <id>\`).`);
      }
    });
}
