import { AuthError, RetryableError, UpstreamError, type OutflowError } from '../../domain/errors.ts';
import type { Rate } from '../../lib/rate-limit.ts';
import { createDeadline, DEFAULT_REQUEST_TIMEOUT_MS } from './deadline.ts';
import type { DestinationContext } from './define.ts';
import { redactUrls } from '../../lib/redact-url.ts';

export interface HttpResponse<T = unknown> {
  status: number;
  ok: boolean;
  headers: Headers;
  /** Parsed JSON when the body is JSON, the text otherwise, `undefined` when empty. */
  body: T;
  /** Number of bytes of the request body, for tests and logs. */
  requestBytes: number;
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Skip the connection's rate limiter (OAuth token calls go to another host). */
  unpaced?: boolean;
}

export interface HttpClient {
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<HttpResponse<T>>;
}

export interface HttpClientOptions {
  /** The vendor's name, for messages: "Iterable did not answer …". */
  vendor: string;
  baseUrl: string;
  ctx: DestinationContext;
  /** Headers added to every request; may be async (an OAuth access token). */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  rate?: Rate;
  /**
   * How long one request, its answer's body included, may take; default 60 s. The context's
   * `requestTimeoutMs` (OUTFLOW_REQUEST_TIMEOUT_MS), when set, takes precedence.
   */
  timeoutMs?: number;
}

const USER_AGENT = 'Outflow/0.1 (+https://github.com/outflow)';

/**
 * A small fetch wrapper: base URL, default headers, the connection's pacing, a timeout and the run's
 * abort signal. It never throws for an HTTP status (the client decides, usually via {@link classifyHttp});
 * it throws a {@link RetryableError} when the network fails or the request times out.
 *
 * @example
 * const http = createHttpClient({ vendor: 'Iterable', baseUrl, ctx, rate: { requests: 5, perMs: 1000 },
 *   headers: () => ({ 'Api-Key': conn.apiKey }) })
 * const res = await http.request('GET', '/api/lists')
 * if (!res.ok) throw classifyHttp(res, { vendor: 'Iterable', connection: ctx.connectionName })
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { ctx, vendor } = options;
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = ctx.requestTimeoutMs ?? options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  return {
    async request<T>(method: string, path: string, request: RequestOptions = {}): Promise<HttpResponse<T>> {
      const url = new URL(/^https?:\/\//.test(path) ? path : base + (path.startsWith('/') ? path : `/${path}`));
      for (const [key, value] of Object.entries(request.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const headers: Record<string, string> = {
        'user-agent': USER_AGENT,
        accept: 'application/json',
        ...(options.headers ? await options.headers() : {}),
        ...request.headers,
      };
      let body: string | undefined;
      if (request.json !== undefined) {
        body = JSON.stringify(request.json);
        headers['content-type'] = 'application/json; charset=utf-8';
      } else if (request.form) {
        body = new URLSearchParams(request.form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
      if (options.rate && !request.unpaced) await ctx.limiter.acquire(ctx.limiterKey, options.rate, ctx.signal);

      // One deadline for the whole exchange: a server that sends its headers and then stalls the body must
      // not hang the run either.
      const deadline = createDeadline(timeoutMs, ctx.signal);
      let response: Response;
      let text: string;
      try {
        response = await ctx.fetch(url, { method, headers, body, signal: deadline.signal });
        text = await response.text();
      } catch (cause) {
        if (ctx.signal.aborted && !deadline.expired) throw cause;
        throw new RetryableError(
          deadline.expired ? 'timeout' : 'connection_lost',
          deadline.expired
            ? `${vendor} did not answer ${method} ${redactPath(url.pathname)} within ${formatSeconds(timeoutMs)}.`
            : `Could not reach ${vendor} at ${url.origin} (${networkReason(cause)}). Check the connection's baseUrl and the network.`,
          { cause },
        );
      } finally {
        deadline.clear();
      }
      let parsed: unknown = undefined;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      ctx.log.debug({ vendor, method, path: redactPath(url.pathname), status: response.status }, 'http');
      return {
        status: response.status,
        ok: response.ok,
        headers: response.headers,
        body: parsed as T,
        requestBytes: body ? Buffer.byteLength(body) : 0,
      };
    },
  };
}

/** Some vendors put e-mail addresses in paths (Autopilot's `/contact/{email}`); logs get a placeholder. */
function redactPath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => (/@|%40/i.test(segment) ? '[email]' : segment))
    .join('/');
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

function networkReason(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  // fetch names the URL in some messages ("…a URL that includes credentials: https://user:pass@…").
  return redactUrls(inner?.code ?? inner?.message ?? (cause instanceof Error ? cause.message : 'network error'));
}

/** Reads `Retry-After` (seconds or an HTTP date) in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: Date = new Date()): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

/**
 * Turns a non-2xx answer into the error the engine knows how to handle: 401/403 → {@link AuthError},
 * 408/429/5xx → {@link RetryableError} (honouring Retry-After), any other status → {@link UpstreamError}.
 * Clients handle their vendor's quirks first and call this for the rest.
 *
 * @example
 * if (!res.ok) throw classifyHttp(res, { vendor: 'Autopilot', connection: ctx.connectionName, detail: res.body?.message })
 */
export function classifyHttp(
  response: Pick<HttpResponse, 'status' | 'headers'>,
  context: { vendor: string; connection: string; detail?: string; traceId?: string },
): OutflowError {
  const { status } = response;
  const detail = context.detail ? `: ${truncate(context.detail)}` : '';
  if (status === 401 || status === 403) {
    return new AuthError(
      'auth_failed',
      `${context.vendor} refused the credentials of connection \`${context.connection}\` (HTTP ${status}${detail}). Update the connection's credentials and run \`outflow connection verify\`.`,
    );
  }
  if (status === 408 || status === 429 || status >= 500) {
    return new RetryableError(
      status === 429 ? 'rate_limited' : 'upstream_unavailable',
      status === 429
        ? `${context.vendor} is throttling connection \`${context.connection}\` (HTTP 429${detail}).`
        : `${context.vendor} is unavailable (HTTP ${status}${detail}).`,
      { retryAfterMs: retryAfterMs(response.headers), status },
    );
  }
  return new UpstreamError(
    'upstream_rejected',
    `${context.vendor} rejected a request for connection \`${context.connection}\` (HTTP ${status}${detail}).`,
    { status, traceId: context.traceId },
  );
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
