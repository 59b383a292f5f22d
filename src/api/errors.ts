import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AuthError, ConfigError, ConflictError, NotFoundError, OutflowError, PermissionError, RetryableError, ValidationError } from '../domain/errors.ts';
import { FilterError } from '../store/profile/filter.ts';
import type { Logger } from '../lib/logger.ts';

/** The API's only error body: `{ "error": { "code", "message", "issues"? } }`. */
export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

/**
 * The challenge every 401 carries (RFC 9110 requires one): how to authenticate, a bearer token. Browsers show no
 * dialog for it (they do for Basic), so the web app's sign-in page is not disturbed.
 */
export const WWW_AUTHENTICATE = 'Bearer realm="outflow"';

/** Our own authentication failed (no or a bad token/session): 401, unlike a destination refusing a key. */
export class Unauthenticated extends HTTPException {
  constructor(message: string) {
    super(401, { message });
  }
}

/** Maps a thrown error to its HTTP status and body, once, for every route (Hono's onError). */
export function toHttpError(error: unknown, log: Logger): { status: ContentfulStatusCode; body: ReturnType<typeof errorBody>; headers?: Record<string, string> } {
  if (error instanceof Unauthenticated) return { status: 401, body: errorBody('unauthenticated', error.message), headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } };
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    // zod-openapi refuses a JSON body sent without `Content-Type: application/json` with a bare
    // "Unsupported Media Type"; curl's -d sends form encoding by default, so say which header to send.
    if (status === 415) {
      return { status, body: errorBody('unsupported_media_type', 'This route takes a JSON body: send it with the header "Content-Type: application/json" (curl: -H \'content-type: application/json\').') };
    }
    const code = status === 413 ? 'payload_too_large' : status === 400 ? 'invalid_input' : 'http_error';
    return { status, body: errorBody(code, error.message || 'The request was refused.') };
  }
  if (error instanceof PermissionError) return { status: 403, body: errorBody(error.code, error.message) };
  if (error instanceof NotFoundError) return { status: 404, body: errorBody(error.code, error.message) };
  if (error instanceof ConflictError) {
    const runId = (error as ConflictError & { runId?: string }).runId;
    return { status: 409, body: errorBody(error.code, error.message, runId ? { runId } : {}) };
  }
  if (error instanceof ValidationError) {
    const issues = error.issues.length ? error.issues : fieldIssue(error);
    return { status: 422, body: errorBody(error.code, error.message, issues.length ? { issues } : {}) };
  }
  if (error instanceof FilterError) return { status: 422, body: errorBody('invalid_filter', error.message.split('\n')[0]!, { position: error.position }) };
  if (error instanceof ConfigError || error instanceof AuthError) {
    const issues = fieldIssue(error);
    return { status: 422, body: errorBody(error.code, error.message, issues.length ? { issues } : {}) };
  }
  if (error instanceof RetryableError && error.code === 'rate_limited') {
    const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000));
    return { status: 429, body: errorBody(error.code, error.message), headers: { 'Retry-After': String(seconds) } };
  }
  if (error instanceof OutflowError && error.code === 'home_locked') return { status: 503, body: errorBody(error.code, error.message) };
  if (error instanceof OutflowError) {
    const issues = fieldIssue(error);
    return { status: 502, body: errorBody(error.code, error.message, issues.length ? { issues } : {}) };
  }
  log.error({ err: error }, 'unexpected error in an API request');
  return { status: 500, body: errorBody('internal', 'Unexpected error on the server; its log has the details.') };
}

/** An error about one input (`error.field`) is reported as that input's issue, with the whole message. */
function fieldIssue(error: OutflowError): { path: string; message: string }[] {
  return error.field ? [{ path: error.field, message: error.message }] : [];
}

export function sendError(c: Context, error: unknown, log: Logger) {
  const { status, body, headers } = toHttpError(error, log);
  for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
  return c.json(body, status);
}
