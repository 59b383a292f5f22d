import type { PartRunner } from './files.ts';
import type { DestinationContext } from '../destinations/kit/define.ts';
import { getDestination } from '../destinations/index.ts';
import { PermissionError } from '../domain/errors.ts';
import type { Actor, Connection } from '../domain/model.ts';
import type { Logger } from '../lib/logger.ts';
import type { RateLimiter, SleepFn } from '../lib/rate-limit.ts';
import { readConnectionSecrets, updateConnectionSecrets, updateConnectionState } from '../store/metadata/connections.ts';
import type { Db } from '../store/metadata/db.ts';
import type { ProfileStore } from '../store/profile/profile-store.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { RetryPolicy } from './retry.ts';

/** Counters the server exposes on /metrics; the CLI has none. */
export interface EngineMetrics {
  destinationRequest(destination: string): void;
  destinationRetry(destination: string): void;
}

/** What the engine needs from the outside; the CLI (and later the API and workers) build one per process. */
export interface Services {
  metrics?: EngineMetrics;
  db: Db;
  box: SecretBox;
  profiles: ProfileStore;
  log: Logger;
  limiter: RateLimiter;
  fetch: typeof fetch;
  /** A private directory for FIFOs and other scratch files. */
  tmpDir: string;
  now: () => Date;
  retry: RetryPolicy;
  /** What retries wait on and measure with; unset: real time. Tests inject a clock so outages take no time. */
  retryClock?: { now: () => number; sleep: SleepFn };
  /** Deadline of one alert webhook post (`OUTFLOW_NOTIFY_TIMEOUT_MS`); unset: 10 s. */
  notifyTimeoutMs?: number;
  /**
   * Alert webhooks may point at loopback, private and link-local addresses (`OUTFLOW_WEBHOOKS_ALLOW_PRIVATE=1`,
   * set by whoever runs the server); unset: refused when saved and when sent.
   */
  allowPrivateWebhooks?: boolean;
  /** Deadline of one vendor request (`OUTFLOW_REQUEST_TIMEOUT_MS`); unset: each client's default. */
  requestTimeoutMs?: number;
  /** A run that makes no progress for this long is stopped as failed (`OUTFLOW_RUN_STALL_TIMEOUT_MS`). */
  runStallTimeoutMs?: number;
  /**
   * Who renders a file run's parts (`outflow worker`: every worker, through the `parts` queue); unset: the
   * process executing the run.
   */
  fileParts?: (runId: string) => PartRunner;
}

export function assertAdmin(actor: Pick<Actor, 'role'>, action: string): void {
  if (actor.role !== 'admin') throw new PermissionError(`Only administrators may ${action}. Ask an administrator.`);
}

/** Viewers read; everything that changes something needs a contributor or an administrator. */
export function assertNotViewer(actor: Pick<Actor, 'role'>, action: string): void {
  if (actor.role === 'viewer') throw new PermissionError(`Viewers may not ${action}: contributors and administrators may. Ask an administrator for the contributor role.`);
}

export function assertCanUse(actor: Actor, connection: Pick<Connection, 'name' | 'usableBy'>): void {
  if (actor.role === 'admin') return;
  assertNotViewer(actor, 'run or change exports');
  if (connection.usableBy !== 'admins-and-contributors') {
    throw new PermissionError(
      `Connection "${connection.name}" is usable by administrators only. Ask an administrator to allow contributors (usable-by admins-and-contributors) or to run this export.`,
    );
  }
}

/** The connection's full config (plain settings and decrypted secrets), parsed by its destination's schema. */
export async function resolveConnectionConfig(services: Services, connection: Connection): Promise<Record<string, unknown>> {
  const destination = getDestination(connection.type);
  const secrets = await readConnectionSecrets(services.db, services.box, connection.id);
  return destination.connection.schema.parse({ ...connection.config, ...secrets }) as Record<string, unknown>;
}

/**
 * The key under which the rate limiter paces one connection (one destination account): every request of every
 * run and worker that uses the connection shares it. `outflow status` reads the limiter's state under it.
 */
export function limiterKey(connectionId: string): string {
  return `connection:${connectionId}`;
}

export function destinationContext(
  services: Services,
  connection: Connection,
  options: { verifying?: boolean; acceptHostKey?: string; signal?: AbortSignal; warn?: (message: string) => void } = {},
): DestinationContext {
  const state = { ...connection.state };
  const log = services.log.child({ connection: connection.name, destination: connection.type });
  return {
    connectionName: connection.name,
    log,
    warn: options.warn ?? ((message) => log.warn(message)),
    signal: options.signal ?? new AbortController().signal,
    now: services.now,
    fetch: services.metrics ? countRequests(services.fetch, () => services.metrics!.destinationRequest(connection.type)) : services.fetch,
    limiter: services.limiter,
    limiterKey: limiterKey(connection.id),
    state,
    verifying: options.verifying ?? false,
    ...(options.acceptHostKey ? { acceptHostKey: options.acceptHostKey } : {}),
    requestTimeoutMs: services.requestTimeoutMs,
    async saveState(patch) {
      Object.assign(state, patch);
      await updateConnectionState(services.db, connection.id, patch);
    },
    async saveSecrets(patch) {
      await updateConnectionSecrets(services.db, services.box, connection.id, patch);
    },
  };
}

function countRequests(inner: typeof fetch, count: () => void): typeof fetch {
  return (input, init) => {
    count();
    return inner(input, init);
  };
}
