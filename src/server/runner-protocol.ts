import * as errors from '../domain/errors.ts';
import { FilterError } from '../store/profile/filter.ts';
import type { Actor, Run } from '../domain/model.ts';
import type { QueueStatus } from '../queue/dispatcher.ts';
import type { LimiterState } from '../lib/rate-limit.ts';
import type { DryRunReport } from '../engine/run-export.ts';

/**
 * The messages between `outflow serve` and its runner process (Node's IPC channel, `advanced` serialization,
 * so Dates and nested objects cross as they are). Requests carry an id; the runner answers each with a `reply`
 * (or, for a stream, `chunk`s on demand).
 */
export type ToRunner =
  | { t: 'start'; runId: string; actor: Actor }
  | { t: 'pump' }
  | { t: 'cancel'; id: number; runId: string }
  | { t: 'status'; id: number }
  | { t: 'limiter'; id: number }
  /** A ProfileStore method (`countRows`, `sync.commit`…); `copyCsv`'s AbortSignal becomes an `abort` message. */
  | { t: 'call'; id: number; method: string; args: unknown[] }
  | { t: 'abort'; id: number }
  /** An AsyncIterable method of the store: the runner sends one chunk per `next`, so the reader sets the pace. */
  | { t: 'open'; id: number; method: string; args: unknown[] }
  | { t: 'next'; id: number }
  | { t: 'return'; id: number }
  | { t: 'dryRun'; id: number; exportId: string; options: { fullResync?: boolean } }
  | { t: 'stop' };

export type FromRunner =
  | { t: 'ready'; pid: number }
  | { t: 'reply'; id: number; value?: unknown; error?: SerializedError }
  | { t: 'chunk'; id: number; value?: unknown; done: boolean; error?: SerializedError }
  | { t: 'finished'; run: Run }
  | { t: 'metric'; name: 'destinationRequest' | 'destinationRetry'; destination: string }
  | { t: 'log'; entry: Record<string, unknown> }
  | { t: 'stopped' };

export type StatusReply = QueueStatus;
export type LimiterReply = LimiterState[];
export type DryRunReply = DryRunReport;

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  fields: Record<string, unknown>;
  stack?: string;
}

/** The classes an error keeps across the channel, so `instanceof` and the API's status mapping still hold. */
const classes: Record<string, new (...args: never[]) => Error> = {
  OutflowError: errors.OutflowError,
  ConfigError: errors.ConfigError,
  AuthError: errors.AuthError,
  RetryableError: errors.RetryableError,
  UpstreamError: errors.UpstreamError,
  NotFoundError: errors.NotFoundError,
  ConflictError: errors.ConflictError,
  RunConflictError: errors.RunConflictError,
  ValidationError: errors.ValidationError,
  PermissionError: errors.PermissionError,
  RateLimitedError: errors.RateLimitedError,
  FilterError,
};

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'cause' || typeof value === 'function') continue;
    try {
      structuredClone(value);
      fields[key] = value;
    } catch {
      // Not cloneable (a socket, a stream): left out.
    }
  }
  return { name: error.name, message: error.message, fields, ...(error.stack ? { stack: error.stack } : {}) };
}

export function deserializeError(data: SerializedError): Error {
  const Class = classes[data.name] ?? Error;
  const error = Object.create(Class.prototype) as Error;
  Object.defineProperty(error, 'message', { value: data.message, writable: true, configurable: true });
  Object.assign(error, data.fields);
  if (data.name in classes) Object.defineProperty(error, 'name', { value: data.name, writable: true, configurable: true, enumerable: false });
  if (data.stack) Object.defineProperty(error, 'stack', { value: data.stack, writable: true, configurable: true });
  return error;
}
