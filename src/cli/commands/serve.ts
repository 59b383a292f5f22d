import type { Command } from 'commander';
import type { Io } from '../output.ts';
import { homeOption } from './common.ts';
import { parsePort } from './options.ts';
import { ValidationError } from '../../domain/errors.ts';

export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ValidationError(`--concurrency must be a whole number from 1 to 64 (it is "${value}").`);
  return n;
}

export function registerServeCommand(program: Command, io: Io): void {
  // The runner process `outflow serve` starts for itself (server/runner.ts); not for people to call.
  program
    .command('__runner', { hidden: true })
    .option('--concurrency <n>', 'runs executed at once', parseConcurrency, 2)
    .action(async (opts, command: Command) => {
      const { runRunner } = await import('../../server/runner.ts');
      await runRunner({ dir: homeOption(command), concurrency: opts.concurrency });
    });
  program
    .command('serve')
    .description('Run the Outflow server: it owns the home, serves the REST API and runs exports; the CLI then goes through it')
    .option('--port <port>', 'port to listen on', parsePort, 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--concurrency <n>', 'runs executed at once; the others wait in the queue', parseConcurrency, 2)
    .option('--public-url <url>', 'URL browsers reach this server at, behind a proxy (default $OUTFLOW_PUBLIC_URL, else the listening address); the Microsoft sign-in returns to <url>/api/oauth/microsoft/callback')
    .action(async (opts, command: Command) => {
      const { startServer } = await import('../../server/serve.ts');
      const server = await startServer({ dir: homeOption(command), port: opts.port, host: opts.host, concurrency: opts.concurrency, ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}) });
      if (server.firstAdmin) {
        io.err(
          server.firstAdmin.password
            ? `Created the first user, "${server.firstAdmin.name}" (administrator), with this one-time password; it is not shown again:\n\n  ${server.firstAdmin.password}\n`
            : `Created the first user, "${server.firstAdmin.name}" (administrator), with the password in OUTFLOW_ADMIN_PASSWORD.`,
        );
      }
      io.out(`Outflow server listening on ${server.url} (home ${server.home.dir}). The CLI on this machine now goes through it; stop it with Ctrl-C.`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.err('Stopping: runs in progress stop at a batch boundary and stay resumable…');
          void server.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
