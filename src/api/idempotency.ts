import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { Home } from '../app/home.ts';
import type { Actor } from '../domain/model.ts';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  purgeIdempotencyKeys,
  releaseIdempotencyKey,
  type IdempotencyScope,
  type StoredAnswer,
} from '../store/metadata/idempotency.ts';
import { sendProblem } from './errors.ts';
import { problemResponse } from './routes/route.ts';

/**
 * Idempotency keys, after the IETF draft "The Idempotency-Key HTTP Header Field": a POST that creates or starts
 * something, sent with `Idempotency-Key`, is done once; a retry with the same key within 24 h gets the first
 * answer again (status, body, Location and the other headers below) and does nothing. Keys are scoped to the
 * caller (the user, whichever token or session carries them) and the operation; the same key with another
 * request (another path, query or body) is a 422; a retry while the first request still runs is a 409.
 *
 * Only answers below 400 are kept. An error answer means the request did nothing (the use cases check before
 * they write), so repeating it cannot do anything twice, and the key is given back: a retry after the cause is
 * gone (a run still going, a destination down, a name taken and since freed) runs anew instead of repeating a
 * stale error for a day. The draft allows either.
 */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on a replayed answer (Stripe's name for it; the draft names none), so a client can tell. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** The headers of the first answer that are replayed with it; the rest (Date, rate limits) are this answer's own. */
const KEPT_HEADERS = ['content-type', 'location', 'etag', 'link'];
const MAX_KEY_LENGTH = 255;
/**
 * A first request still pending after this long most likely died with its server. It is still never run
 * twice (its outcome is unknown): the 409 says to check and send a new key.
 */
const PENDING_STALE_MS = 15 * 60_000;
/** Expired keys are purged at most this often per server (a claim ignores an expired key by itself). */
const PURGE_EVERY_MS = 60 * 60_000;

/** The request header, as each operation that takes it documents it. */
export const IdempotencyHeaders = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string()
    .optional()
    .openapi({
      description:
        `A key of your choosing (a UUID) that makes a retry safe: the same request sent again with the same key within 24 h is not done again and gets the first answer, with \`${REPLAYED_HEADER}: true\`. ` +
        'Scoped to the caller and the operation; the same key with a different request is a 422, and a retry while the first request still runs a 409. ' +
        'Only successful answers are kept: after an error the key may be sent again. 1-255 printable ASCII characters; a structured-field string ("…") is taken too.',
      example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    }),
});

/**
 * Marks a route as taking an Idempotency-Key: the header is documented, with the 409 and 422 it can answer, and
 * the middleware below handles it for that operation. The route's own types are kept.
 */
export function idempotent<R extends { request?: object; responses: Record<string | number, unknown> }>(route: R): R {
  const responses: Record<string | number, unknown> = { ...route.responses };
  responses[409] = withReason(responses[409], 'the first request with this Idempotency-Key is still running');
  responses[422] = withReason(responses[422], 'this Idempotency-Key was first used with a different request');
  return { ...route, request: { ...route.request, headers: IdempotencyHeaders }, responses } as R;
}

function withReason(response: unknown, reason: string) {
  const description = (response as { description?: string } | undefined)?.description;
  return problemResponse(description ? `${description}; or ${reason}` : reason.charAt(0).toUpperCase() + reason.slice(1));
}

/** Whether the route declares the header (the document says which operations take a key). */
export function takesIdempotencyKey(route: { request?: { headers?: unknown } }): boolean {
  return route.request?.headers === IdempotencyHeaders;
}

/**
 * The middleware, for every API request after authentication. `operationOf` names the operation a request is
 * routed to when that operation takes a key (else null: the header is then ignored, as the draft allows).
 */
export function idempotencyMiddleware(options: { home: Home; operationOf(method: string, path: string): string | null }): MiddlewareHandler {
  const { home } = options;
  let lastPurge = 0;
  return async (c, next) => {
    const header = c.req.header(IDEMPOTENCY_HEADER);
    if (header === undefined || c.req.method !== 'POST') return next();
    const operation = options.operationOf(c.req.method, c.req.path);
    if (!operation) return next();
    const key = parseKey(header);
    if (!key) {
      return sendProblem(
        c,
        400,
        'invalid_request',
        `The ${IDEMPOTENCY_HEADER} header must be 1-${MAX_KEY_LENGTH} printable ASCII characters (a UUID is a good key), optionally as a quoted string.`,
        { issues: [{ path: IDEMPOTENCY_HEADER, message: 'not a valid key' }] },
      );
    }
    const now = home.now();
    if (now.getTime() - lastPurge > PURGE_EVERY_MS) {
      lastPurge = now.getTime();
      purgeIdempotencyKeys(home.db, now).catch((error: unknown) => home.log.warn({ err: error }, 'purging expired idempotency keys failed'));
    }
    const actor = c.get('actor') as Actor;
    const id: IdempotencyScope = { scope: `user:${actor.name}`, operation, key };
    const claim = await claimIdempotencyKey(home.db, home.box, id, await fingerprint(c), now);
    if (claim.kind === 'mismatch') {
      return sendProblem(
        c,
        422,
        'idempotency_key_reused',
        `The ${IDEMPOTENCY_HEADER} "${key}" was already used with a different request to ${operation} (another path, query or body). A key stands for one request: send a new key for a new request.`,
        { issues: [{ path: IDEMPOTENCY_HEADER, message: 'used with a different request' }] },
      );
    }
    if (claim.kind === 'pending') {
      const stale = now.getTime() - Date.parse(claim.since) > PENDING_STALE_MS;
      if (stale) {
        return sendProblem(
          c,
          409,
          'idempotency_key_in_progress',
          `The first request with the ${IDEMPOTENCY_HEADER} "${key}" (${operation}, ${claim.since}) never finished: its server may have stopped while it ran. It is not run twice: check whether it took effect, and send a new key to try again.`,
        );
      }
      c.header('Retry-After', '1');
      return sendProblem(c, 409, 'idempotency_key_in_progress', `A request with the ${IDEMPOTENCY_HEADER} "${key}" is still running (${operation}, since ${claim.since}): wait for it, then send it again to get its answer.`);
    }
    if (claim.kind === 'done') return replay(claim.answer);

    try {
      await next();
    } catch (error) {
      // Hono answers errors itself (onError); this is a failure outside of it. Nothing was answered.
      await releaseIdempotencyKey(home.db, id);
      throw error;
    }
    const response = c.res;
    if (response.status >= 400) {
      await releaseIdempotencyKey(home.db, id);
      return;
    }
    try {
      await completeIdempotencyKey(home.db, home.box, id, await capture(response), home.now());
    } catch (error) {
      // The request was done and its answer goes out; a retry will be told the key is still pending, never run twice.
      home.log.error({ err: error, operation }, 'keeping the answer of an idempotent request failed');
    }
  };
}

/** The key of the header: a bare token, or a structured-field string as the draft writes it. */
function parseKey(header: string): string | null {
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1).replace(/\\(["\\])/g, '$1');
  return key.length >= 1 && key.length <= MAX_KEY_LENGTH && /^[\x20-\x7e]+$/.test(key) ? key : null;
}

/**
 * What makes two requests the same one: the method, the path as routed (`/api/x` is `/api/v1/x`), the query
 * and the body. A JSON body is compared by its content, not its spelling (key order, spaces).
 */
async function fingerprint(c: Context): Promise<string> {
  const url = new URL(c.req.url);
  const query = [...url.searchParams.entries()].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1));
  // Hono keeps the body it read: the route's validator reads it again from that copy.
  const text = await c.req.text();
  let body = text;
  try {
    body = text ? canonicalJson(JSON.parse(text)) : '';
  } catch {
    // not JSON: the text itself
  }
  return createHash('sha256').update(JSON.stringify([c.req.method, c.req.path, query, body])).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function capture(response: Response): Promise<StoredAnswer> {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body: response.body ? await response.clone().text() : '' };
}

function replay(answer: StoredAnswer): Response {
  const body = answer.status === 204 || answer.status === 304 || answer.body === '' ? null : answer.body;
  return new Response(body, { status: answer.status, headers: { ...answer.headers, [REPLAYED_HEADER]: 'true' } });
}
