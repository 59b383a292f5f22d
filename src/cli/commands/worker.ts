import type { Command } from 'commander';
import type { StatusView } from '../../app/status.ts';
import { printJson, type Io } from '../output.ts';
import { homeOption, withClient } from './common.ts';
import { parseConcurrency } from './serve.ts';

/** `outflow worker`: executes runs from the queue in Redis (scale-out deployments). */
export function registerWorkerCommand(program: Command, io: Io): void {
  program
    .command('worker')
    .description('Execute runs from the queue in Redis, next to `outflow serve` and other workers (needs OUTFLOW_REDIS_URL, OUTFLOW_DATABASE_URL and OUTFLOW_PROFILES_URL)')
    .option('--concurrency <n>', 'runs executed at once by this worker', parseConcurrency, 2)
    .action(async (opts, command: Command) => {
      const { startWorker } = await import('../../server/worker.ts');
      const worker = await startWorker({ dir: homeOption(command), concurrency: opts.concurrency });
      io.out(`Outflow worker ${worker.id} taking runs from the queue (${opts.concurrency} at once). Stop it with Ctrl-C: its runs stop at a batch boundary and go back to the queue.`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.err('Stopping: runs in progress stop at a batch boundary, keep their checkpoint and go back to the queue…');
          void worker.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

/** `outflow status`: the queue and the workers executing runs. */
export function registerStatusCommand(program: Command, io: Io): void {
  program
    .command('status')
    .description('Show the run queue (waiting, executing, delayed) and the workers alive with their runs')
    .option('--json', 'machine-readable output')
    .action(async (opts, command: Command) => {
      const view = await withClient(command, (client) => client.status());
      if (opts.json) printJson(io, view);
      else printStatus(io, view);
    });
}

function printStatus(io: Io, view: StatusView): void {
  io.out(view.mode === 'distributed' ? 'Mode: distributed (runs go through the queue in Redis to `outflow worker` processes)' : 'Mode: embedded (the server executes runs itself)');
  io.out(`Queue: ${view.queue.waiting} waiting, ${view.queue.active} executing, ${view.queue.delayed} delayed`);
  if (view.note) io.out(view.note);
  if (view.workers.length === 0) {
    if (view.mode === 'distributed') io.out('Workers: none alive. Start one with `outflow worker`; queued runs wait until then.');
  } else {
    io.out(`Workers: ${view.workers.length}`);
    for (const w of view.workers) {
      const runs = w.runs.length === 0 ? 'idle' : w.runs.map((r) => `${r.id}${r.export ? ` (${r.export})` : ''}`).join(', ');
      io.out(`  ${w.id}  ${w.host} pid ${w.pid}  ${w.runs.length}/${w.concurrency} busy  ${runs}  (seen ${w.seenAt})`);
    }
  }
  if (view.limiter.length > 0) {
    io.out(`Rate limits (${view.limiter[0]!.backend === 'redis' ? 'shared in Redis' : 'in this server'}):`);
    for (const l of view.limiter) {
      const what = l.connection ? `${l.connection} (${l.type})` : l.key;
      const rate = l.requestsPerSecond === null ? '' : `${l.requestsPerSecond}/s`;
      const pause = l.pausedUntil ? `, paused by the vendor until ${l.pausedUntil}` : '';
      io.out(`  ${what}  ${rate}  next request waits ${l.waitMs} ms${pause}`);
    }
  }
}
