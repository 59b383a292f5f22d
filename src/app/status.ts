import type { QueueStatus, RunDispatcher, WorkerView } from '../queue/dispatcher.ts';
import { BullRunQueue, queueSettings } from '../queue/bull.ts';
import type { Home } from './home.ts';

/** One process executing runs, with the export of each of its runs. */
export interface StatusWorker extends Omit<WorkerView, 'runs'> {
  runs: Array<{ id: string; export: string | null }>;
}

/** The `--json` shape of `outflow status` and `GET /api/status`. */
export interface StatusView {
  /** `embedded`: `outflow serve` executes runs itself; `distributed`: `outflow worker` processes take them from Redis. */
  mode: QueueStatus['mode'];
  /** Runs waiting for a worker, executing, and waiting for a retry. */
  queue: QueueStatus['queue'];
  workers: StatusWorker[];
  /** Said when something about the figures needs explaining. */
  note?: string;
}

/**
 * What executes runs now: the queue's depth and the workers alive with their runs. Any signed-in account may
 * look (it shows run ids and export names, which every role can list anyway).
 */
export async function showStatus(home: Home, dispatcher: Pick<RunDispatcher, 'status'>): Promise<StatusView> {
  return withExportNames(home, await dispatcher.status());
}

/**
 * `outflow status` without a server: the queue in Redis when the deployment has one, else the run records (each
 * run then executes in the CLI process that started it).
 */
export async function showStatusWithoutServer(home: Home, env: NodeJS.ProcessEnv = process.env): Promise<StatusView> {
  const settings = queueSettings(env);
  if (settings) {
    const queue = new BullRunQueue(home, settings, { poll: false });
    try {
      return await showStatus(home, queue);
    } finally {
      await queue.stopAll();
    }
  }
  const counts = await home.db.selectFrom('runs').select(['status']).select((eb) => eb.fn.countAll<string | number>().as('n')).where('status', 'in', ['queued', 'running']).groupBy('status').execute();
  const count = (status: string) => Number(counts.find((c) => c.status === status)?.n ?? 0);
  return {
    mode: 'embedded',
    queue: { waiting: count('queued'), active: count('running'), delayed: 0 },
    workers: [],
    note: 'No server is running for this home: each run executes in the command that started it, and queued runs wait for `outflow serve`.',
  };
}

async function withExportNames(home: Home, status: QueueStatus): Promise<StatusView> {
  const ids = status.workers.flatMap((w) => w.runs);
  const rows = ids.length > 0 ? await home.db.selectFrom('runs').select(['id', 'export_name']).where('id', 'in', ids).execute() : [];
  const names = new Map(rows.map((r) => [r.id, r.export_name]));
  return { ...status, workers: status.workers.map((w) => ({ ...w, runs: w.runs.map((id) => ({ id, export: names.get(id) ?? null })) })) };
}
