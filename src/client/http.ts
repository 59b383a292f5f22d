import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { AuthError, ConfigError, ConflictError, NotFoundError, OutflowError, PermissionError, RetryableError, RunConflictError, StaleEditError, UpstreamError, ValidationError, type ErrorCode } from '../domain/errors.ts';

/**
 * A thin JSON client for the Outflow REST API; turns error bodies back into the errors the use cases throw.
 * On node:http rather than fetch: loading fetch (undici) cost every CLI command ~60–170 ms before its first
 * request, more than the server takes to answer it (issue 13).
 */
export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  raw?: Readable;
  contentType?: string;
  timeoutMs?: number;
  /**
   * A POST that creates or starts something: sent with an Idempotency-Key, one per call, kept across the call's
   * own retries, so the server does it once however many times it arrives (see src/api/idempotency.ts).
   */
  idempotent?: boolean;
  /** An edit or removal only over this version (an ETag): the server refuses it, 412, when someone changed it since. */
  ifMatch?: string;
}

export interface Http {
  readonly url: string;
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** A GET whose answer is text streamed as it arrives (a CSV download); errors come back as the use cases' errors. */
  stream(path: string, options?: { accept?: string; idleTimeoutMs?: number }): Promise<AsyncIterable<string>>;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Sends of a keyed request whose connection dropped before its answer (or whose first send still runs). */
const IDEMPOTENT_TRIES = 4;
const IDEMPOTENT_RETRY_MS = 500;
/** Sends of one request the server's API rate limit may refuse before the CLI gives up. */
const API_LIMIT_TRIES = 4;
/** Longest wait the CLI accepts from a Retry-After of the API rate limit. */
const API_LIMIT_MAX_WAIT_MS = 60_000;

/**
 * The connection ended after the request went out and before its answer came (the server restarted, a proxy
 * dropped it): whether it was done is unknown. Not a refused connection: nothing was sent, the server is down.
 */
function droppedBeforeAnswer(error: unknown): boolean {
  if (!(error instanceof OutflowError) || error.code !== 'host_unreachable') return false;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code === 'ECONNRESET' || cause?.code === 'EPIPE' || /socket hang up/i.test(cause?.message ?? '');
}

/** The server's answer to a key whose first send it is still doing. */
function stillRunning(error: unknown): boolean {
  return error instanceof ConflictError && (error as { problemCode?: string }).problemCode === 'idempotency_key_in_progress';
}

/** How long to wait before sending again a request refused by the server's own API rate limit; else null. */
function apiLimitWait(error: unknown): number | null {
  if (!(error instanceof RetryableError) || error.code !== 'rate_limited' || !(error as { apiLimit?: boolean }).apiLimit) return null;
  return Math.min(API_LIMIT_MAX_WAIT_MS, Math.max(100, error.retryAfterMs ?? 1000));
}

/** Sends one request; resolves with the response once its head arrived. `signal` aborts either. */
async function send(target: URL, method: string, headers: Record<string, string>, body: string | Readable | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  // https only for a server behind a TLS proxy: its module (and TLS) is loaded only then.
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(target, { method, headers: typeof body === 'string' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers, signal }, resolve);
    req.once('error', reject);
    if (body === undefined || typeof body === 'string') req.end(body);
    else {
      body.once('error', (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

async function readText(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk as string;
  return text;
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const ok = (response: IncomingMessage) => response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;

export interface HttpOptions {
  /**
   * Gets a new token when the server refuses the current one (401): the CLI on the server's machine asks the
   * server for a fresh local token (see src/server/serve.ts). Called at most once per request.
   */
  renewToken?: () => Promise<string>;
}

/** A 401 from the Outflow server itself: the credential was refused (not a destination's refusal, a 422). */
function isUnauthenticated(error: unknown): boolean {
  return error instanceof AuthError && (error as { unauthenticated?: boolean }).unauthenticated === true;
}

export function createHttp(url: string, initialToken: string, httpOptions: HttpOptions = {}): Http {
  const base = url.replace(/\/+$/, '');
  let token = initialToken;
  let renewing: Promise<string> | undefined;
  /** The token to send again with after a 401, or null when there is no way to get one. */
  const renewed = async (): Promise<string | null> => {
    if (!httpOptions.renewToken) return null;
    renewing ??= httpOptions.renewToken().finally(() => (renewing = undefined));
    token = await renewing;
    return token;
  };
  return {
    url: base,
    async stream(path, options = {}) {
      const target = new URL(base + path);
      const idleMs = options.idleTimeoutMs ?? 60_000;
      // One live timer, re-armed on every chunk: a server that stops sending mid-download fails the command
      // after `idleMs` instead of hanging it; a long download that keeps flowing is never cut.
      const controller = new AbortController();
      let timer = setTimeout(() => controller.abort(), idleMs);
      const rearm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), idleMs);
      };
      const fail = (error: unknown): never => {
        clearTimeout(timer);
        if (error instanceof OutflowError) throw error;
        if (controller.signal.aborted) throw new RetryableError('timeout', `The Outflow server at ${base} stopped answering GET ${path}.`);
        throw new OutflowError('host_unreachable', `Cannot reach the Outflow server at ${base}: ${(error as Error).message}. Is \`outflow serve\` running?`, { cause: error });
      };
      let response!: IncomingMessage;
      for (let attempt = 1; ; attempt++) {
        try {
          response = await send(target, 'GET', { authorization: `Bearer ${token}`, accept: options.accept ?? 'text/csv' }, undefined, controller.signal);
          if (!ok(response)) {
            const text = await readText(response);
            throw errorFromResponse(response.statusCode ?? 0, text ? parseJson(text, response.statusCode ?? 0) : undefined, header(response, 'retry-after'));
          }
          break;
        } catch (error) {
          if (attempt === 1 && isUnauthenticated(error) && (await renewed().catch(() => null))) continue;
          return fail(error);
        }
      }
      return (async function* () {
        response.setEncoding('utf8');
        try {
          for await (const chunk of response) {
            rearm();
            if (chunk) yield chunk as string;
          }
        } catch (error) {
          fail(error);
        } finally {
          clearTimeout(timer);
          // A reader that stops early (an error while printing) must not leave the download open.
          response.destroy();
        }
      })();
    },
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const target = new URL(base + path);
      for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.idempotent) headers['idempotency-key'] = randomUUID();
      if (options.ifMatch) headers['if-match'] = options.ifMatch;
      let body: string | Readable | undefined;
      if (options.raw !== undefined) {
        body = options.raw;
        headers['content-type'] = options.contentType ?? 'application/octet-stream';
      } else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      // A body that is a stream cannot be sent twice.
      const replayable = body === undefined || typeof body === 'string';
      let renewedOnce = false;
      for (let attempt = 1; ; attempt++) {
        try {
          return await once<T>(method, path, target, token ? { ...headers, authorization: `Bearer ${token}` } : headers, body, options.timeoutMs);
        } catch (error) {
          // The token was revoked (or its administrator removed): where the server said how to get a new one,
          // get it and send again, once. A streamed body was consumed and cannot be sent again.
          if (isUnauthenticated(error) && !renewedOnce && replayable) {
            renewedOnce = true;
            if (await renewed().catch(() => null)) continue;
          }
          // The server's API rate limit (error.limit set): the request was not handled, so wait as it says
          // and send it again; a script keeps going at the pace the server allows instead of failing.
          // A keyed request can be sent again whatever became of the first send: the server does it once and
          // answers the retry with the first answer (or says the first send is still running).
          if (options.idempotent && replayable && attempt < IDEMPOTENT_TRIES && (droppedBeforeAnswer(error) || stillRunning(error))) {
            await new Promise((resolve) => setTimeout(resolve, IDEMPOTENT_RETRY_MS * attempt));
            continue;
          }
          const wait = apiLimitWait(error);
          if (wait === null || !replayable || attempt >= API_LIMIT_TRIES) throw error;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    },
  };

  async function once<T>(method: string, path: string, target: URL, headers: Record<string, string>, body: string | Readable | undefined, timeoutMs: number | undefined): Promise<T> {
    // A deadline held by a live timer (an AbortSignal.timeout inside AbortSignal.any can be collected on Node 20).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      const response = await send(target, method, headers, body, controller.signal);
      const text = await readText(response);
      const status = response.statusCode ?? 0;
      const json = text ? parseJson(text, status) : undefined;
      if (!ok(response)) throw errorFromResponse(status, json, header(response, 'retry-after'));
      return json as T;
    } catch (error) {
      if (error instanceof OutflowError) throw error;
      if (controller.signal.aborted) throw new RetryableError('timeout', `The Outflow server at ${base} did not answer ${method} ${path} in time.`);
      throw new OutflowError('host_unreachable', `Cannot reach the Outflow server at ${base}: ${(error as Error).message}. Is \`outflow serve\` running?`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new OutflowError('internal', `The Outflow server answered ${status} with a body that is not JSON.`);
  }
}

/** Codes of a destination refusing credentials or access (AuthError), which the CLI reports with exit code 5. */
const AUTH_CODES = new Set<string>(['auth_failed', 'token_expired', 'terms_not_accepted', 'host_key_mismatch', 'permission_denied']);

/** The members of the API's problem details (RFC 9457) the CLI reads. */
interface ProblemBody {
  code?: string;
  detail?: string;
  runId?: string;
  etag?: string;
  issues?: Array<{ path: string; message: string }>;
}

/** The inverse of the API's error mapping, so the CLI exits with the same code whether or not a server ran the command. */
export function errorFromResponse(status: number, json: unknown, retryAfter?: string): Error {
  const error = (json && typeof json === 'object' ? json : {}) as ProblemBody;
  const code = (error.code ?? 'internal') as ErrorCode;
  // The API's own message, shown as it is: the same words a local command prints.
  const message = error.detail ?? `The Outflow server answered ${status}.`;
  switch (status) {
    case 400:
      return new ValidationError(message, error.issues ?? []);
    case 401:
      return Object.assign(new AuthError('auth_failed', `${message} (OUTFLOW_TOKEN, or the credential the server wrote into the home)`), { unauthenticated: true });
    case 403:
      return new PermissionError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      if (code === 'edit_conflict') return new StaleEditError(message, error.etag ?? '', false);
      // The problem's code rides along: a client that sent an Idempotency-Key waits on idempotency_key_in_progress.
      return Object.assign(error.runId ? new RunConflictError(message, error.runId) : new ConflictError(message), { problemCode: code });
    case 412:
      return new StaleEditError(message, error.etag ?? '', true);
    case 413:
      return new ValidationError(message);
    case 422:
      if (code === 'invalid_input') return new ValidationError(message, error.issues ?? []);
      if (AUTH_CODES.has(code)) return new AuthError(code, message);
      return new ConfigError(code, message);
    case 429: {
      const seconds = Number(retryAfter);
      const throttled = new RetryableError('rate_limited', message, { retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined });
      // The server's own API rate limit names the limit it applied; other 429s (a destination's, sign-in) do not.
      return (error as { limit?: unknown } | undefined)?.limit ? Object.assign(throttled, { apiLimit: true }) : throttled;
    }
    case 502:
      return new UpstreamError(code, message, { status });
    default:
      return new OutflowError(code, message);
  }
}
