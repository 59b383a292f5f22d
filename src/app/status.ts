import type { QueueStatus, RunDispatcher, WorkerView } from '../queue/dispatcher.ts';
import type { Home } from './home.ts';
import { limiterKey } from '../engine/services.ts';

/** One process executing runs, with the export of each of its runs. */
export interface StatusWorker extends Omit<WorkerView, 'runs'> {
  runs: Array<{ id: string; export: string | null }>;
}

/** How one destination account is paced now (the limiter's state for it). */
export interface LimiterView {
  /** The limiter's key: `connection:<id>`. */
  key: string;
  /** The connection's name and type, for accounts whose connection the caller may see; else null. */
  connection: string | null;
  type: string | null;
  /** `memory`: paced inside the server (embedded mode); `redis`: one schedule shared by every worker. */
  backend: 'memory' | 'redis';
  /** Requests allowed per second, as the latest request was paced. */
  requestsPerSecond: number | null;
  /** How long a request asked for now would wait for its turn (a vendor's 429 pause included). */
  waitMs: number;
  /** Until when a vendor's 429 (Retry-After) holds every request to the account; null when none does. */
  pausedUntil: string | null;
}

/** The `--json` shape of `outflow status` and `GET /api/status`. */
export interface StatusView {
  /** `embedded`: `outflow serve` executes runs itself; `distributed`: `outflow worker` processes take them from Redis. */
  mode: QueueStatus['mode'];
  /** Runs waiting for a worker, executing, and waiting for a retry. */
  queue: QueueStatus['queue'];
  workers: StatusWorker[];
  /** Every destination account paced lately. */
  limiter: LimiterView[];
  /** Said when something about the figures needs explaining. */
  note?: string;
}

/**
 * What executes runs now: the queue's depth and the workers alive with their runs. Any signed-in account may
 * look (it shows run ids and export names, which every role can list anyway).
 */
export async function showStatus(home: Home, dispatcher: Pick<RunDispatcher, 'status'>): Promise<StatusView> {
  return { ...(await withExportNames(home, await dispatcher.status())), limiter: await limiterViews(home) };
}

/**
 * The limiter's state per account. Connection names follow the roles' view of connections: administrators see
 * every one, contributors those usable by contributors, viewers none (they see the opaque key only).
 */
async function limiterViews(home: Home): Promise<LimiterView[]> {
  const states = await home.limiter.states();
  if (states.length === 0) return [];
  const rows = await home.db.selectFrom('connections').select(['id', 'name', 'type', 'usable_by']).execute();
  const visible = new Map(
    rows
      .filter((r) => home.actor.role === 'admin' || (home.actor.role === 'contributor' && r.usable_by === 'admins-and-contributors'))
      .map((r) => [limiterKey(r.id), r]),
  );
  return states.map((state) => {
    const connection = visible.get(state.key);
    return {
      key: state.key,
      connection: connection?.name ?? null,
      type: connection?.type ?? null,
      backend: state.backend,
      requestsPerSecond: state.rate ? Math.round((state.rate.requests * 1000 * 1000) / state.rate.perMs) / 1000 : null,
      waitMs: Math.max(0, Math.round(state.waitMs)),
      pausedUntil: state.pausedUntil ? state.pausedUntil.toISOString() : null,
    };
  });
}

/**
 * `outflow status` without a server: the queue in Redis when the deployment has one, else the run records (each
 * run then executes in the CLI process that started it).
 */
export async function showStatusWithoutServer(home: Home, env: NodeJS.ProcessEnv = process.env): Promise<StatusView> {
  // BullMQ loads only when there is a queue to read.
  const { BullRunQueue, queueSettings } = await import('../queue/bull.ts');
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
    // This process's in-memory limiter paced nothing: the runs that execute pace themselves.
    limiter: [],
    note: 'No server is running for this home: each run executes in the command that started it, and queued runs wait for `outflow serve`.',
  };
}

async function withExportNames(home: Home, status: QueueStatus): Promise<Omit<StatusView, 'limiter'>> {
  const ids = status.workers.flatMap((w) => w.runs);
  const rows = ids.length > 0 ? await home.db.selectFrom('runs').select(['id', 'export_name']).where('id', 'in', ids).execute() : [];
  const names = new Map(rows.map((r) => [r.id, r.export_name]));
  return { ...status, workers: status.workers.map((w) => ({ ...w, runs: w.runs.map((id) => ({ id, export: names.get(id) ?? null })) })) };
}
