import { z } from '@hono/zod-openapi';
import { PROBLEM_JSON } from '../errors.ts';
import { Problem } from '../schemas.ts';

/** A JSON response entry for a route's `responses`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description };
}

/** A JSON request body entry for a route's `request`. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { content: { 'application/json': { schema } }, required: true as const } };
}

/** An error answer: RFC 9457 problem details (see errors.ts). */
export function problemResponse(description: string) {
  return { content: { [PROBLEM_JSON]: { schema: Problem } }, description };
}

const error = problemResponse;

/** The error answers every authenticated route can give. */
export const commonErrors = {
  400: error('The request does not match the schema'),
  401: error('No valid token or session'),
  403: error('The caller may not do this'),
  413: error('The request body is larger than the API takes'),
  415: error('A JSON body not sent as application/json'),
  429: error('Too many requests from this token, session or address (OUTFLOW_API_RATE_LIMIT_*): wait Retry-After seconds'),
} as const;

export const notFound = { 404: error('No such resource') } as const;
export const unprocessable = { 422: error('The request is well-formed but refused: the message says why and what to do') } as const;
export const conflict = { 409: error('A name that exists, or a resource still in use') } as const;
/** An edit or removal that sent If-Match with a version that is no longer the current one. */
export const preconditionFailed = {
  412: error("If-Match names a version that is no longer the current one: someone else changed it first. Nothing was saved; the problem's etag member (and the ETag header) is the current version"),
} as const;
/** The 409 of an edit: a name clash, or another edit saved while this one was being checked (edit_conflict). */
export const editConflict = {
  409: error('A name that exists, or another edit saved while this one was being checked (edit_conflict: nothing was saved; its etag member is the current version)'),
} as const;
export const upstream = { 502: error('The destination refused or could not be reached') } as const;

/** The `Location` of an answer that queued a run: the run, to follow with GET. */
export const RunLocation = z.object({ Location: z.string().openapi({ description: 'The queued run: GET it to follow its progress', example: '/api/v1/runs/run_0mwt1ab2c3d4e5f6' }) });
export const runLocation = (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}`;

export const security: Array<Record<string, string[]>> = [{ bearer: [] }, { session: [] }];
