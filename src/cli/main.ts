import { Command, CommanderError } from 'commander';
import { FilterError } from '../store/profile/filter.ts';
import { AuthError, ConfigError, ConflictError, NotFoundError, OutflowError, PermissionError, StaleEditError, ValidationError } from '../domain/errors.ts';
import { registerConnectionCommands } from './commands/connection.ts';
import { registerDataCommands } from './commands/data.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerStatusCommand, registerWorkerCommand } from './commands/worker.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerDestinationCommands } from './commands/destinations.ts';
import { registerExportCommands, registerRefreshCommand } from './commands/export.ts';
import { registerRunCommands } from './commands/run.ts';
import { registerNotifyCommands } from './commands/notify.ts';
import { registerUserCommands } from './commands/users.ts';
import { registerScheduleCommands } from './commands/schedule.ts';
import { registerConfigCommands } from './commands/config.ts';
import { ExitCode, exitCodes } from './exit.ts';
import { ignoreClosedOutput, processIo, terminalSafe, type Io } from './output.ts';

export { ExitCode, exitCodes };

/*
 * Start-up cost (issue 13): every command module below is loaded on every start, for `--help` too, so a module
 * under src/cli/ imports statically only commander, the CLI's own helpers (output, common, options, exit), the
 * error classes, `import type`s and small zod-free modules. Everything else — the use cases (src/app), the
 * stores, DuckDB, the queue, the server, zod, a destination — is loaded in the action that needs it:
 *
 *   .action(async (opts, command: Command) => {
 *     const { startServer } = await import('../../server/serve.ts');
 *     …
 *   });
 *
 * Commands that go through `withClient` get this for free: the client opens the home (and its stores) only
 * when no server owns it. bin/build-cli.js turns each `await import()` into a chunk loaded on demand.
 * A new command group: write `registerXCommands(program, io)` in commands/x.ts and call it below.
 * test/cli-startup.e2e.test.ts fails, naming the package, if `--help` or `run list` through a server loads
 * more than commander; `npm run bench -- cli` prints the times.
 */

export function buildProgram(io: Io): Command {
  const program = new Command('outflow')
    .description('Export customer segments and entities to SFTP, Microsoft Advertising, Campaign Monitor, Iterable and Autopilot.')
    .option('--home <dir>', 'Outflow home directory (default: $OUTFLOW_HOME, else ./.outflow)')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();
  registerDataCommands(program, io);
  registerConnectionCommands(program, io);
  registerExportCommands(program, io);
  registerRunCommands(program, io);
  registerNotifyCommands(program, io);
  registerRefreshCommand(program, io);
  registerScheduleCommands(program, io);
  registerUserCommands(program, io);
  registerDestinationCommands(program, io);
  registerDemoCommand(program, io);
  registerServeCommand(program, io);
  registerWorkerCommand(program, io);
  registerStatusCommand(program, io);
  registerAuditCommand(program, io);
  registerConfigCommands(program, io);
  registerBackupCommands(program, io);
  // Every sub-command takes --home too, so it can stand anywhere on the line.
  const addHome = (command: Command) => {
    for (const sub of command.commands) {
      if (sub.commands.length > 0) addHome(sub);
      else if (!sub.options.some((o) => o.long === '--home')) sub.option('--home <dir>', 'Outflow home directory');
      sub.exitOverride();
    }
  };
  addHome(program);
  return program;
}

/** Runs the CLI; returns the exit code. Errors become one line on stderr (a stack trace with OUTFLOW_DEBUG=1). */
export async function main(argv: string[], rawIo: Io = processIo): Promise<number> {
  if (rawIo === processIo) ignoreClosedOutput();
  const io = terminalSafe(rawIo);
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return exitCodes.ok;
  } catch (error) {
    return reportError(io, error);
  }
}

function reportError(io: Io, error: unknown): number {
  if (error instanceof ExitCode) return error.code;
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return exitCodes.ok;
    return exitCodes.invalid;
  }
  if (process.env.OUTFLOW_DEBUG === '1' && error instanceof Error) io.err(error.stack ?? error.message);
  const message = error instanceof Error ? error.message : String(error);
  const [first, ...rest] = message.split('\n');
  io.err(`error: ${first}`);
  // The caret under a bad filter is worth the extra lines when someone is reading.
  if (error instanceof FilterError && io.interactive && rest.length > 0) io.err(rest.join('\n'));
  if (error instanceof NotFoundError) return exitCodes.notFound;
  if (error instanceof ConflictError || error instanceof StaleEditError) return exitCodes.conflict;
  if (error instanceof AuthError || error instanceof PermissionError) return exitCodes.denied;
  if (error instanceof ValidationError || error instanceof ConfigError) return exitCodes.invalid;
  if (error instanceof OutflowError && error.code === 'home_locked') return exitCodes.busy;
  if (error instanceof OutflowError) return exitCodes.runFailed;
  if (process.env.OUTFLOW_DEBUG !== '1') io.err('(set OUTFLOW_DEBUG=1 to see the stack trace)');
  return exitCodes.internal;
}
