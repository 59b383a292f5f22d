import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApi, type Authenticator } from '../api/app.ts';
import { createMetrics } from '../api/metrics.ts';
import { openHome, type Home, type OpenHomeOptions } from '../app/home.ts';
import { recoverInterruptedRuns } from '../app/runs.ts';
import { queueResume } from '../app/exports.ts';
import { authenticateSession, authenticateToken, createToken, ensureFirstAdmin, listTokens, revokeToken } from '../app/users.ts';
import { getConnection } from '../store/metadata/connections.ts';
import { RunManager } from './run-manager.ts';
import { BullRunQueue, queueSettings } from '../queue/bull.ts';
import type { RunDispatcher } from '../queue/dispatcher.ts';
import { Scheduler, SCHEDULER_ACTOR, type SchedulerClock } from './scheduler.ts';
import { writeServerFile, removeServerFile } from './server-file.ts';
import { listUsers } from '../store/metadata/users.ts';
import { ConfigError } from '../domain/errors.ts';

export interface ServerOptions extends OpenHomeOptions {
  port?: number;
  host?: string;
  /** The built web app to serve (default: web/dist of this package). */
  webRoot?: string;
  /** The scheduler's clock (tests move it by hand). */
  clock?: SchedulerClock;
  /** Runs executed at once (`--concurrency`); the others wait `queued`. Default 2. */
  concurrency?: number;
  /**
   * The URL browsers reach the server at, when that is not the address it listens on (a reverse proxy, TLS,
   * another host name); default `OUTFLOW_PUBLIC_URL`, else the listening address. The Microsoft sign-in's
   * redirect URI is `<public URL>/api/oauth/microsoft/callback`.
   */
  publicUrl?: string;
}

export interface RunningServer {
  url: string;
  home: Home;
  /** Set on the first start of a home without users: the `admin` account's one-time password. */
  firstAdmin: { name: string; password: string | null } | null;
  scheduler: Scheduler;
  runs: RunDispatcher;
  close(): Promise<void>;
}

const LOCAL_TOKEN_NAME = 'local-cli';

/**
 * Starts `outflow serve`: one process that owns the home (the DuckDB file takes one writer), serves the
 * REST API, /healthz and /metrics, and executes runs. It writes its address and a fresh local administrator
 * token into `<home>/server.json` (0600), so the CLI on this machine talks to it instead of opening the home.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // Checked before anything is opened or created: a bad value stops the start with nothing changed.
  const configuredPublicUrl = checkPublicUrl(options.publicUrl ?? (options.env ?? process.env).OUTFLOW_PUBLIC_URL);
  const system = { name: 'outflow', role: 'admin' as const, via: 'api' as const };
  // Scale-out mode (OUTFLOW_REDIS_URL): checked before anything opens, so a missing PostgreSQL says so at once.
  const distributed = queueSettings(options.env ?? process.env);
  const home = await openHome({ ...options, actor: system });
  let server: ServerType | undefined;
  try {
    const metrics = createMetrics(home.db);
    home.metrics = metrics;
    const firstAdmin = await ensureFirstAdmin(home, options.env ?? process.env);
    let runs: RunDispatcher;
    if (distributed) {
      // Runs execute in `outflow worker` processes, possibly right now: a `running` run is not this server's to
      // recover. A worker that dies has its job handed to another one by BullMQ, which recovers the run.
      runs = new BullRunQueue(home, distributed);
    } else {
      // Crash recovery: runs left `running` by a process that died are marked interrupted and resumed from
      // their checkpoint, as new queued runs, before anything new starts; queued runs wait for the pool.
      const recovered = await recoverInterruptedRuns(home, queueResume);
      if (recovered.length > 0) home.log.info({ runs: recovered.map((r) => ({ id: r.id, resumedFrom: r.resumedFrom })) }, 'resuming interrupted runs');
      runs = new RunManager(home, {
        concurrency: options.concurrency,
        onFinished: (run) => {
          void getConnection(home.db, home.box, run.connectionId)
            .then((c) => metrics.runFinished(run, c.type))
            .catch(() => metrics.runFinished(run, 'unknown'));
        },
      });
    }
    // Scheduled runs execute like API-started ones: in the background, through the RunManager.
    const scheduler = new Scheduler(home, { clock: options.clock, start: (run) => runs.start(run.id, SCHEDULER_ACTOR) });
    const auth: Authenticator = {
      byToken: (token) => authenticateToken(home.db, token),
      bySession: (sessionId) => authenticateSession(home.db, sessionId),
    };
    let url = '';
    const app = createApi({
      home,
      auth,
      runs,
      metrics,
      scheduler,
      publicUrl: () => configuredPublicUrl ?? url,
      ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    });

    const host = options.host ?? '127.0.0.1';
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, (info) => resolve(info));
      server.once('error', reject);
    });
    url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    const token = await issueLocalToken(home);
    writeServerFile(home.dir, { url, pid: process.pid, token });
    // A refresh missed while the server was down runs now, once; the server answers meanwhile.
    void scheduler.start();
    runs.pump();

    let closing: Promise<void> | undefined;
    return {
      url,
      home,
      firstAdmin: firstAdmin ? { name: firstAdmin.name, password: firstAdmin.password } : null,
      scheduler,
      runs,
      close() {
        closing ??= (async () => {
          removeServerFile(home.dir, process.pid);
          await new Promise<void>((resolve) => server!.close(() => resolve()));
          await scheduler.stop();
          // In-flight runs stop at a batch boundary and stay resumable from their checkpoint.
          await runs.stopAll();
          await home.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    server?.close();
    await home.close();
    throw error;
  }
}

/** A new token for the CLI of this machine, replacing the one the previous start wrote. */
async function issueLocalToken(home: Home): Promise<string> {
  const admin = (await listUsers(home.db)).find((u: { role: string }) => u.role === 'admin');
  if (!admin) throw new Error('The home has no administrator account; create one with `outflow user create <name> --role admin` (without a server running).');
  const asAdmin = { ...home, actor: { name: admin.name, role: 'admin' as const, via: 'api' as const } };
  for (const old of await listTokens(asAdmin)) {
    if (old.name === LOCAL_TOKEN_NAME) await revokeToken(asAdmin, old.id);
  }
  return (await createToken(asAdmin, { name: LOCAL_TOKEN_NAME })).token;
}

/** The public URL must be an absolute http(s) URL: a typo would only show when a sign-in comes back to nowhere. */
function checkPublicUrl(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) {
    throw new ConfigError(
      'invalid_settings',
      `The public URL (--public-url or OUTFLOW_PUBLIC_URL) must be the http(s) URL browsers reach this server at, such as https://outflow.example.com, not ${JSON.stringify(text)}.`,
    );
  }
  return text.replace(/\/+$/, '');
}
