import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../lib/loopback.ts';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createApi, type ApiDeps, type Authenticator } from '../api/app.ts';
import { createMetrics } from '../api/metrics.ts';
import { parseTrustedProxies } from '../api/client-address.ts';
import { openHome, type Home, type OpenHomeOptions } from '../app/home.ts';
import { recoverInterruptedRuns } from '../app/runs.ts';
import { queueResume } from '../app/exports.ts';
import { authenticateSession, authenticateToken, createToken, ensureFirstAdmin, listTokens, revokeToken } from '../app/users.ts';
import { getConnection } from '../store/metadata/connections.ts';
import { DEFAULT_CONCURRENCY } from './run-manager.ts';
import { RunnerProcess } from './runner-process.ts';
import { BullRunQueue, queueSettings, redisConnection } from '../queue/bull.ts';
import { memoryCounter, rateLimitsFromEnv, redisCounter } from '../api/rate-limit.ts';
import type { RunDispatcher } from '../queue/dispatcher.ts';
import { Scheduler, SCHEDULER_ACTOR, type SchedulerClock } from './scheduler.ts';
import { readServerFile, writeServerFile, removeServerFile } from './server-file.ts';
import { OutflowError, ValidationError } from '../domain/errors.ts';
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

const LEGACY_LOCAL_TOKEN_NAME = 'local-cli';

/**
 * Starts `outflow serve`: one process that owns the home (the DuckDB file takes one writer), serves the
 * REST API, /healthz and /metrics, and executes runs. It writes its address and a fresh local administrator
 * token into `<home>/server.json` (0600), so the CLI on this machine talks to it instead of opening the home.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // Checked before anything is opened or created: a bad value stops the start with nothing changed.
  const configuredPublicUrl = checkPublicUrl(options.publicUrl ?? (options.env ?? process.env).OUTFLOW_PUBLIC_URL);
  const trustedProxies = parseTrustedProxies((options.env ?? process.env).OUTFLOW_TRUSTED_PROXIES);
  const system = { name: 'outflow', role: 'admin' as const, via: 'api' as const };
  // Scale-out mode (OUTFLOW_REDIS_URL): checked before anything opens, so a missing PostgreSQL says so at once.
  const distributed = queueSettings(options.env ?? process.env);
  const rateLimits = rateLimitsFromEnv(options.env ?? process.env);
  let closeLimits = () => {};
  const home = await openHome({ ...options, actor: system, service: true });
  let server: ServerType | undefined;
  let dispatcher: RunDispatcher | undefined;
  try {
    // Before anything changes the home: a second server would mark the first one's running runs interrupted
    // and resume them (sending them twice), revoke its CLI token and, when stopped, remove its server.json.
    await refuseSecondServer(home.dir);
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
      // Runs execute in a runner process that owns the profile store; the server forwards its profile reads.
      const runner = new RunnerProcess(home, {
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        env: options.env ?? process.env,
        metrics,
        onFinished: (run) => {
          void getConnection(home.db, home.box, run.connectionId)
            .then((c) => metrics.runFinished(run, c.type))
            .catch(() => metrics.runFinished(run, 'unknown'));
        },
      });
      await runner.started();
      await home.profiles.close();
      home.profiles = runner.profiles;
      home.limiter = runner.limiter;
      home.offload = { dryRun: (exportId, opts) => runner.dryRun(exportId, opts) };
      runs = runner;
    }
    dispatcher = runs;
    // Scheduled runs execute like API-started ones: in the background, through the RunManager.
    const scheduler = new Scheduler(home, { clock: options.clock, start: (run) => runs.start(run.id, SCHEDULER_ACTOR) });
    const auth: Authenticator = {
      byToken: (token) => authenticateToken(home.db, token),
      bySession: (sessionId) => authenticateSession(home.db, sessionId),
    };
    let url = '';
    // The local CLI token and the key that renews it, both written into server.json (0600): a CLI that can read
    // the home gets a working token back after it was revoked, instead of being locked out until a restart.
    const renewKey = randomBytes(32).toString('base64url');
    let localToken = '';
    let renewing: Promise<string> | undefined;
    const localTokens: NonNullable<ApiDeps['localToken']> = {
      async renew(key) {
        if (!sameSecret(key, renewKey) || !url) return null;
        renewing ??= (async () => {
          // Several commands may find the token revoked at once: the first renews it, the others get the same one.
          const actor = await authenticateToken(home.db, localToken);
          if (actor?.role === 'admin') return localToken;
          localToken = await issueLocalToken(home);
          writeServerFile(home.dir, { url, pid: process.pid, token: localToken, renewKey });
          home.log.info({ token: localTokenName(home) }, 'local CLI token renewed');
          return localToken;
        })().finally(() => (renewing = undefined));
        return renewing;
      },
    };
    // API rate limits: counted in Redis when several servers may share the traffic, else in memory.
    const limitRedis = distributed ? redisConnection(distributed) : null;
    closeLimits = () => limitRedis?.disconnect();
    const app = createApi({
      home,
      auth,
      runs,
      metrics,
      rateLimits: { limits: rateLimits, counter: limitRedis && distributed ? redisCounter(limitRedis, distributed.prefix) : memoryCounter() },
      scheduler,
      localToken: localTokens,
      publicUrl: () => configuredPublicUrl ?? url,
      trustedProxies,
      metricsNeedToken: !isLoopbackHost(options.host ?? '127.0.0.1'),
      ...(options.webRoot ? { webRoot: options.webRoot } : {}),
    });

    const host = options.host ?? '127.0.0.1';
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, (info) => resolve(info));
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, options.port ?? 8080)));
    });
    url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    localToken = await issueLocalToken(home);
    writeServerFile(home.dir, { url, pid: process.pid, token: localToken, renewKey });
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
          closeLimits();
          await home.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    server?.close();
    await dispatcher?.stopAll();
    closeLimits();
    await home.close();
    throw error;
  }
}

/** Refuses to start when another live process serves this home (its server.json names it and it answers). */
async function refuseSecondServer(dir: string): Promise<void> {
  const other = readServerFile(dir);
  // The same process may run several in-process servers in tests; a dead pid's file is stale.
  if (!other || other.pid === process.pid) return;
  try {
    // A pid that the system reused for another program does not answer as an Outflow server.
    await fetch(`${other.url}/healthz`, { signal: AbortSignal.timeout(2000) });
  } catch {
    return;
  }
  throw new OutflowError(
    'home_locked',
    `The home ${dir} is already served by another \`outflow serve\` at ${other.url} (pid ${other.pid}). One server owns a home: stop that one first (Ctrl-C or SIGTERM), or pass another --home.`,
  );
}

/** Says what to do about an address the server cannot listen on, instead of a bare EADDRINUSE (exit 70). */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new ValidationError(`Port ${port} on ${host} is already in use by another program. Pass another --port (--port 0 picks a free one), or stop that program.`);
  }
  if (error.code === 'EACCES') return new ValidationError(`Listening on port ${port} of ${host} needs privileges this user does not have. Pass a port above 1023 with --port.`);
  if (error.code === 'EADDRNOTAVAIL') return new ValidationError(`${host} is not an address of this machine. Pass one of its addresses with --host (127.0.0.1, or 0.0.0.0 for every interface).`);
  return error;
}

/**
 * The name of the CLI token a server writes into its home's server.json: one per machine and home, because
 * several servers (other machines, other homes) may share one PostgreSQL metadata store, and each must replace
 * only its own token when it starts (two servers starting at once collided on one name, and the second one's
 * start revoked the first one's CLI token).
 */
export function localTokenName(home: Pick<Home, 'dir'>): string {
  return `${LEGACY_LOCAL_TOKEN_NAME}-${createHash('sha256').update(`${os.hostname()}\0${path.resolve(home.dir)}`).digest('hex').slice(0, 10)}`;
}

/** A new token for the CLI of this machine, replacing the one the previous start of this home's server wrote. */
export async function issueLocalToken(home: Home): Promise<string> {
  const admin = (await listUsers(home.db)).find((u: { role: string }) => u.role === 'admin');
  if (!admin) throw new Error('The home has no administrator account; create one with `outflow user create <name> --role admin` (without a server running).');
  const asAdmin = { ...home, actor: { name: admin.name, role: 'admin' as const, via: 'api' as const } };
  const name = localTokenName(home);
  for (const old of await listTokens(asAdmin)) {
    // Tokens of earlier versions had one name for every server; they are replaced too.
    if (old.name === name || old.name === LEGACY_LOCAL_TOKEN_NAME) await revokeToken(asAdmin, old.id);
  }
  return (await createToken(asAdmin, { name })).token;
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

/** Compares a presented secret with ours in constant time (their SHA-256s, so the lengths never differ). */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
