import { AuthError, ConfigError, ConflictError, NotFoundError, OutflowError, PermissionError, RetryableError, RunConflictError, UpstreamError, ValidationError, type ErrorCode } from '../domain/errors.ts';

/** A thin JSON client for the Outflow REST API; turns error bodies back into the errors the use cases throw. */
export interface Http {
  readonly url: string;
  request<T>(method: string, path: string, options?: { body?: unknown; query?: Record<string, string | number | boolean | undefined>; raw?: RequestInit["body"]; contentType?: string; timeoutMs?: number }): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export function createHttp(url: string, token: string, fetchFn: typeof fetch = globalThis.fetch): Http {
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    async request<T>(method: string, path: string, options: Parameters<Http['request']>[2] = {}): Promise<T> {
      const target = new URL(base + path);
      for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      let body: RequestInit["body"] | undefined;
      if (options.raw !== undefined) {
        body = options.raw;
        headers['content-type'] = options.contentType ?? 'application/octet-stream';
      } else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      // A deadline held by a live timer (an AbortSignal.timeout inside AbortSignal.any can be collected on Node 20).
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      let response: Response;
      try {
        response = await fetchFn(target, { method, headers, body, signal: controller.signal, ...(options.raw instanceof ReadableStream || isNodeStream(options.raw) ? { duplex: 'half' } : {}) } as RequestInit);
        const text = await response.text();
        const json = text ? parseJson(text, response.status) : undefined;
        if (!response.ok) throw errorFromResponse(response.status, json, response.headers);
        return json as T;
      } catch (error) {
        if (error instanceof OutflowError) throw error;
        if (controller.signal.aborted) throw new RetryableError('timeout', `The Outflow server at ${base} did not answer ${method} ${path} in time.`);
        throw new OutflowError('host_unreachable', `Cannot reach the Outflow server at ${base}: ${(error as Error).message}. Is \`outflow serve\` running?`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function isNodeStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
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

/** The inverse of the API's error mapping, so the CLI exits with the same code whether or not a server ran the command. */
export function errorFromResponse(status: number, json: unknown, headers: Headers): Error {
  const error = (json as { error?: { code?: string; message?: string; runId?: string; issues?: Array<{ path: string; message: string }> } })?.error;
  const code = (error?.code ?? 'internal') as ErrorCode;
  const message = error?.message ?? `The Outflow server answered ${status}.`;
  switch (status) {
    case 400:
      return new ValidationError(message, error?.issues ?? []);
    case 401:
      return new AuthError('auth_failed', `${message} (OUTFLOW_TOKEN, or the credential the server wrote into the home)`);
    case 403:
      return new PermissionError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      return error?.runId ? new RunConflictError(message, error.runId) : new ConflictError(message);
    case 413:
      return new ValidationError(message);
    case 422:
      if (code === 'invalid_input') return new ValidationError(message, error?.issues ?? []);
      if (AUTH_CODES.has(code)) return new AuthError(code, message);
      return new ConfigError(code, message);
    case 429: {
      const seconds = Number(headers.get('retry-after'));
      return new RetryableError('rate_limited', message, { retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined });
    }
    case 502:
      return new UpstreamError(code, message, { status });
    default:
      return new OutflowError(code, message);
  }
}
