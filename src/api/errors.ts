import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AuthError, ConfigError, ConflictError, NotFoundError, OutflowError, PermissionError, RetryableError, StaleEditError, ValidationError, type Remedy } from '../domain/errors.ts';
import { FilterError } from '../store/profile/filter.ts';
import type { Logger } from '../lib/logger.ts';

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json';

/** Members a problem may carry beside the standard ones; each is declared in the OpenAPI `Problem` schema. */
export interface ProblemExtras {
  issues?: Array<{ path: string; message: string }>;
  position?: number;
  runId?: string;
  remedy?: Remedy;
  etag?: string;
  [member: string]: unknown;
}

/**
 * The API's only error body: RFC 9457 problem details. `type` names the problem (one URN per `code`, so a
 * client can switch on either), `title` is that type's fixed summary, `detail` this occurrence's message
 * (what went wrong and what to do: the CLI and the web app show it as it is), and `code`, `issues`,
 * `position`, `runId` are extension members.
 */
export function problem(status: number, code: string, detail: string, extra: ProblemExtras = {}) {
  return { type: `urn:outflow:problem:${code}`, title: problemTitle(code), status, code, detail, ...extra };
}

export type Problem = ReturnType<typeof problem>;

/** `not_found` → "Not found": the same title for every occurrence of a type, as RFC 9457 asks. */
function problemTitle(code: string): string {
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Answers a problem with its media type. */
export function sendProblem<S extends ContentfulStatusCode>(c: Context, status: S, code: string, detail: string, extra: ProblemExtras = {}) {
  return c.json(problem(status, code, detail, extra), status, { 'Content-Type': PROBLEM_JSON });
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

type HttpError = { status: ContentfulStatusCode; code: string; detail: string; extra?: ProblemExtras; headers?: Record<string, string> };

/** Maps a thrown error to its HTTP status and body, once, for every route (Hono's onError). */
export function toHttpError(error: unknown, log: Logger): HttpError {
  const mapped = mapError(error, log);
  // The step that fixes it, for clients that offer it as an action (the web app's buttons).
  if (error instanceof OutflowError && error.remedy) return { ...mapped, extra: { ...mapped.extra, remedy: error.remedy } };
  return mapped;
}

function mapError(error: unknown, log: Logger): HttpError {
  if (error instanceof Unauthenticated) return { status: 401, code: 'unauthenticated', detail: error.message, headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } };
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    // zod-openapi refuses a JSON body sent without `Content-Type: application/json` with a bare
    // "Unsupported Media Type"; curl's -d sends form encoding by default, so say which header to send.
    if (status === 415) {
      return { status, code: 'unsupported_media_type', detail: 'This route takes a JSON body: send it with the header "Content-Type: application/json" (curl: -H \'content-type: application/json\').' };
    }
    // 400 here is a body that is not JSON at all: the same meaning as a schema mismatch.
    const code = status === 413 ? 'payload_too_large' : status === 400 ? 'invalid_request' : 'http_error';
    return { status, code, detail: error.message || 'The request was refused.' };
  }
  if (error instanceof PermissionError) return { status: 403, code: error.code, detail: error.message };
  if (error instanceof NotFoundError) return { status: 404, code: error.code, detail: error.message };
  // An edit from an older version (If-Match): 412; another edit saved while this one was checked: 409. Both say
  // which version is current now, in the body and as the ETag, so a client can reload or retry knowingly.
  if (error instanceof StaleEditError) {
    return { status: error.precondition ? 412 : 409, code: error.code, detail: error.message, extra: { etag: error.etag }, headers: { ETag: error.etag } };
  }
  if (error instanceof ConflictError) {
    const runId = (error as ConflictError & { runId?: string }).runId;
    return { status: 409, code: error.code, detail: error.message, extra: runId ? { runId } : {} };
  }
  if (error instanceof ValidationError) {
    const issues = error.issues.length ? error.issues : fieldIssue(error);
    return { status: 422, code: error.code, detail: error.message, extra: issues.length ? { issues } : {} };
  }
  if (error instanceof FilterError) return { status: 422, code: 'invalid_filter', detail: error.message.split('\n')[0]!, extra: { position: error.position } };
  if (error instanceof ConfigError || error instanceof AuthError) {
    const issues = fieldIssue(error);
    return { status: 422, code: error.code, detail: error.message, extra: issues.length ? { issues } : {} };
  }
  if (error instanceof RetryableError && error.code === 'rate_limited') {
    const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000));
    return { status: 429, code: error.code, detail: error.message, headers: { 'Retry-After': String(seconds) } };
  }
  if (error instanceof OutflowError && error.code === 'home_locked') return { status: 503, code: error.code, detail: error.message };
  if (error instanceof OutflowError) {
    const issues = fieldIssue(error);
    return { status: 502, code: error.code, detail: error.message, extra: issues.length ? { issues } : {} };
  }
  log.error({ err: error }, 'unexpected error in an API request');
  return { status: 500, code: 'internal', detail: 'Unexpected error on the server; its log has the details.' };
}

/** An error about one input (`error.field`) is reported as that input's issue, with the whole message. */
function fieldIssue(error: OutflowError): { path: string; message: string }[] {
  return error.field ? [{ path: error.field, message: error.message }] : [];
}

export function sendError(c: Context, error: unknown, log: Logger) {
  const { status, code, detail, extra, headers } = toHttpError(error, log);
  for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
  return sendProblem(c, status, code, detail, extra);
}
