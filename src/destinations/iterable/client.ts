import { AuthError, ConfigError, RetryableError, UpstreamError, type OutflowError } from '../../domain/errors.ts';
import type { DestinationContext } from '../kit/define.ts';
import { classifyHttp, createHttpClient, retryAfterMs, type HttpResponse } from '../kit/http.ts';
import { baseUrlOf, rateOf, type IterableConnection } from './connection.ts';

// Wire formats: https://api.iterable.com/api/docs (lists and users sections) and the facts file
// /work/shared/destinations/iterable.md.

export interface IterableList {
  id: number;
  name: string;
  description?: string;
  createdAt?: number;
  /** "Standard" (static), "Dynamic", "Suppression" or "Internal". */
  listType?: string;
}

export interface Subscriber {
  email?: string;
  userId?: string;
  dataFields?: Record<string, unknown>;
}

export interface SubscribeRequest {
  listId: number;
  subscribers: Subscriber[];
  updateExistingUsersOnly: boolean;
}

export interface UnsubscribeRequest {
  listId: number;
  subscribers: Subscriber[];
  /** Always false for audience removal: true unsubscribes the user from the list's whole channel. */
  channelUnsubscribe: false;
}

export interface FailedUpdates {
  invalidEmails?: string[];
  invalidUserIds?: string[];
  notFoundEmails?: string[];
  notFoundUserIds?: string[];
  conflictEmails?: string[];
  conflictUserIds?: string[];
  forgottenEmails?: string[];
  forgottenUserIds?: string[];
  invalidDataEmails?: string[];
  invalidDataUserIds?: string[];
}

/** Iterable's UserBulkUpdateListResponse: HTTP 200 even when some users failed; failures are named in the arrays. */
export interface BulkListResponse {
  successCount: number;
  failCount: number;
  invalidEmails?: string[];
  invalidUserIds?: string[];
  createdFields?: string[];
  filteredOutFields?: string[];
  failedUpdates?: FailedUpdates;
}

export interface IterableClient {
  getLists(): Promise<IterableList[]>;
  createList(name: string, description: string): Promise<number>;
  subscribe(request: SubscribeRequest): Promise<BulkListResponse>;
  unsubscribe(request: UnsubscribeRequest): Promise<BulkListResponse>;
}

const VENDOR = 'Iterable';

export function createIterableClient(conn: IterableConnection, ctx: DestinationContext): IterableClient {
  const http = createHttpClient({
    vendor: VENDOR,
    baseUrl: baseUrlOf(conn),
    ctx,
    rate: rateOf(conn),
    headers: () => ({ 'Api-Key': conn.apiKey }),
  });

  const call = async <T>(method: string, path: string, json?: unknown, listId?: number): Promise<HttpResponse<T>> => {
    const response = await http.request<T>(method, path, json === undefined ? {} : { json });
    if (!response.ok) throw toError(response, { conn, ctx, request: `${method} ${path}`, listId });
    return response;
  };

  const bulk = async (path: string, body: SubscribeRequest | UnsubscribeRequest): Promise<BulkListResponse> => {
    const response = await call<unknown>('POST', path, body, body.listId);
    if (!isBulkListResponse(response.body)) throw unexpected(`POST ${path}`, ctx);
    return response.body;
  };

  return {
    async getLists() {
      const response = await call<unknown>('GET', '/api/lists');
      const lists = (response.body as { lists?: unknown } | undefined)?.lists;
      if (!Array.isArray(lists)) throw unexpected('GET /api/lists', ctx);
      return lists.filter((list): list is IterableList => typeof list?.id === 'number' && typeof list?.name === 'string');
    },
    async createList(name, description) {
      const response = await call<unknown>('POST', '/api/lists', { name, description });
      const listId = (response.body as { listId?: unknown } | undefined)?.listId;
      if (typeof listId !== 'number') throw unexpected('POST /api/lists', ctx);
      return listId;
    },
    subscribe: (request) => bulk('/api/lists/subscribe', request),
    unsubscribe: (request) => bulk('/api/lists/unsubscribe', request),
  };
}

interface Envelope {
  msg?: string;
  code?: string;
}

/**
 * Iterable sometimes answers an error status with `code: "Success"` in the body, so the status decides the
 * class and the envelope only adds detail; the one exception is a missing list (see below).
 */
function toError(
  response: HttpResponse,
  context: { conn: IterableConnection; ctx: DestinationContext; request: string; listId: number | undefined },
): OutflowError {
  const { status } = response;
  const { ctx, conn, request } = context;
  const envelope: Envelope = typeof response.body === 'object' && response.body !== null ? (response.body as Envelope) : {};
  const code = typeof envelope.code === 'string' ? envelope.code : undefined;
  const msg = typeof envelope.msg === 'string' ? envelope.msg : '';
  const label = code ? `HTTP ${status} ${code}` : `HTTP ${status}`;
  const connection = `\`${ctx.connectionName}\``;

  if (status === 401) {
    return new AuthError(
      'auth_failed',
      `Iterable refused the API key of connection ${connection} on ${request} (${label}). Create a server-side API key ` +
        `(Integrations → API keys) in the Iterable project of the ${conn.region.toUpperCase()} data center ` +
        `(${baseUrlOf(conn)}), update the connection and run \`outflow connection verify\`.`,
    );
  }
  if (status === 403) {
    return new AuthError(
      'auth_failed',
      `Iterable refused ${request} for connection ${connection} (${label}). The key may be a client-side or ` +
        `JWT-enabled key: create a server-side API key and update the connection.`,
    );
  }
  if (status === 429) {
    const waitMs = retryAfterMs(response.headers, ctx.now());
    return new RetryableError(
      'rate_limited',
      `Iterable is throttling connection ${connection} on ${request} (${label}${waitMs === undefined ? '' : `, retry after ${waitMs / 1000} s`}). ` +
        `If this repeats, lower the connection's requestsPerSecond.`,
      { retryAfterMs: waitMs },
    );
  }
  // The list is gone: final whatever the status, because Iterable answers a deleted list inside a 5xx as well
  // as a 400, and retrying a 5xx would only end in "unavailable" (block/iterable-go treats the message alike).
  if (msg.includes('error.lists.invalidListId')) {
    return new ConfigError(
      'list_not_found',
      `Iterable has no list ${context.listId ?? ''} in the project of connection ${connection} (${request}, ${label}); ` +
        `it was probably deleted during the run. Run the export again: Outflow recreates the list named after the segment.`,
    );
  }
  if (status === 408 || status >= 500) {
    return new RetryableError('upstream_unavailable', `Iterable is unavailable on ${request} (${label}).`, {
      retryAfterMs: retryAfterMs(response.headers, ctx.now()),
    });
  }
  if (code === 'BatchTooLarge') {
    return new UpstreamError(
      'upstream_rejected',
      `Iterable refused a ${response.requestBytes}-byte request body on ${request} for connection ${connection} as too large (${label}). ` +
        `Map fewer or smaller data fields.`,
      { status },
    );
  }
  return classifyHttp(response, { vendor: VENDOR, connection: ctx.connectionName, detail: detailOf(request, code, msg) });
}

const EMAIL_LIKE = /[^\s@"'<>]+@[^\s@"'<>]+/g;

/** Iterable's messages can quote the identifier they refused; keep record content out of ours. */
function detailOf(request: string, code: string | undefined, msg: string): string {
  const cleaned = msg.replace(EMAIL_LIKE, '<e-mail>').slice(0, 200);
  return [request, code, cleaned].filter((part) => part).join(' ');
}

function unexpected(request: string, ctx: DestinationContext): UpstreamError {
  return new UpstreamError(
    'upstream_rejected',
    `The server behind connection \`${ctx.connectionName}\` answered ${request} with a body that is not Iterable's. ` +
      `Check the connection's region and baseUrl.`,
  );
}

function isBulkListResponse(body: unknown): body is BulkListResponse {
  if (typeof body !== 'object' || body === null) return false;
  const { successCount, failCount } = body as Record<string, unknown>;
  return typeof successCount === 'number' && typeof failCount === 'number';
}
