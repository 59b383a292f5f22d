import { AuthError, ConfigError, RetryableError, UpstreamError, type OutflowError } from '../../domain/errors.ts';
import type { Rate } from '../../lib/rate-limit.ts';
import type { DestinationContext } from '../kit/define.ts';
import { classifyHttp, createHttpClient, retryAfterMs, type HttpResponse } from '../kit/http.ts';

// Wire format of the legacy Autopilot (Journeys) REST API v1: https://autopilot.docs.apiary.io/
// This file is the only place that knows its URLs, headers, payloads and error quirks.

const VENDOR = 'Autopilot';

/** Autopilot documents 429 without a Retry-After header; wait at least a second (its limit is per second). */
const DEFAULT_RETRY_AFTER_MS = 1000;

export const DEFAULT_BASE_URL = 'https://api2.autopilothq.com/v1';

export interface AutopilotConnection {
  apiKey: string;
  baseUrl: string;
  requestsPerSecond: number;
}

/** A contact as `POST /v1/contact(s)` takes it: PascalCase standard fields, custom fields under `custom`. */
export interface AutopilotContact {
  Email: string;
  FirstName?: string;
  LastName?: string;
  /** Keys are `<type>--<Field--Name>`; the value's JSON type matches the field's type. */
  custom?: Record<string, string | number | boolean>;
  /** Adds the upserted contact to this list in the same call (documented for the single-contact endpoint). */
  _autopilot_list?: string;
}

export interface AutopilotList {
  list_id: string;
  title: string;
}

/** A custom field defined in the account, as `GET /v1/contacts/custom_fields` lists it. */
export interface AutopilotCustomField {
  name: string;
  /** `string`, `integer`, `float`, `boolean`, `date`, … */
  fieldType: string;
}

/**
 * The vendor refused the records of one request (HTTP 400); `message` is free of e-mail addresses. On success,
 * `contactIds` maps each lower-cased e-mail the answer named to its `person_…` id.
 */
export type UpsertResult = { ok: true; contactIds: Map<string, string> } | { ok: false; message: string };

/**
 * `not_found`: Autopilot answered 404. On a membership route that means the contact is unknown, the contact is
 * not on the list, or the list itself is gone; Autopilot's wording for each is undocumented, so callers that
 * must tell them apart ask {@link AutopilotClient.listExists}.
 */
export type RemoveResult = { ok: true; outcome: 'removed' | 'not_member' | 'not_found' } | { ok: false; message: string };
export type AddResult = { ok: true; outcome: 'added' | 'already_member' | 'not_found' } | { ok: false; message: string };
/** `unknown`: Autopilot refused the question (HTTP 400, e.g. an address it considers invalid). */
export type Membership = 'member' | 'not_member' | 'unknown';

export interface AutopilotClient {
  getAccount(): Promise<unknown>;
  getLists(): Promise<AutopilotList[]>;
  /** `conflict` when Autopilot answers 409 (the early docs' behaviour for an existing name). */
  createList(name: string): Promise<{ listId: string } | { conflict: true }>;
  /** Bulk upsert of at most 100 contacts; a 400 answers for the whole request. */
  upsertContacts(contacts: AutopilotContact[]): Promise<UpsertResult>;
  upsertContact(contact: AutopilotContact): Promise<UpsertResult>;
  removeFromList(listId: string, email: string): Promise<RemoveResult>;
  /** `GET /v1/list/{list_id}/contact/{contact}`; `contact` is a `person_…` id or an e-mail. */
  membership(listId: string, contact: string): Promise<Membership>;
  /** `POST /v1/list/{list_id}/contact/{contact}`: puts an existing contact on the list. */
  addToList(listId: string, contact: string): Promise<AddResult>;
  /** Whether `GET /v1/lists` still lists this id (tells a deleted list from an unknown contact). */
  listExists(listId: string): Promise<boolean>;
  getCustomFields(): Promise<AutopilotCustomField[]>;
}

export function autopilotRate(conn: Pick<AutopilotConnection, 'requestsPerSecond'>): Rate {
  return { requests: conn.requestsPerSecond, perMs: 1000 };
}

export function createAutopilotClient(conn: AutopilotConnection, ctx: DestinationContext): AutopilotClient {
  const http = createHttpClient({
    vendor: VENDOR,
    baseUrl: conn.baseUrl,
    ctx,
    rate: autopilotRate(conn),
    headers: () => ({ autopilotapikey: conn.apiKey }),
  });
  const base = conn.baseUrl.replace(/\/+$/, '');

  async function call<T>(method: string, path: string, json?: unknown): Promise<HttpResponse<T>> {
    return http.request<T>(method, path, json === undefined ? {} : { json });
  }

  function fail(res: HttpResponse, method: string, path: string, refersToList = false): OutflowError {
    return classifyAutopilot(res, { method, route: routeOf(base, path), connection: ctx.connectionName, baseUrl: conn.baseUrl, refersToList });
  }

  return {
    async getAccount() {
      const res = await call('GET', '/account');
      if (!res.ok) throw fail(res, 'GET', '/account');
      return res.body;
    },

    async getLists() {
      const res = await call<{ lists?: AutopilotList[] }>('GET', '/lists');
      if (!res.ok) throw fail(res, 'GET', '/lists');
      return Array.isArray(res.body?.lists) ? res.body.lists : [];
    },

    async createList(name) {
      const res = await call<{ list_id?: string }>('POST', '/list', { name });
      if (res.status === 409) return { conflict: true };
      if (!res.ok) throw fail(res, 'POST', '/list');
      const listId = res.body?.list_id;
      if (typeof listId !== 'string' || listId === '') {
        throw new UpstreamError(
          'upstream_rejected',
          `Autopilot created the list for connection \`${ctx.connectionName}\` but returned no list_id (POST ${routeOf(base, '/list')}). Check the list in Autopilot and run the export again.`,
          { status: res.status },
        );
      }
      return { listId };
    },

    async upsertContacts(contacts) {
      const res = await call<{ contact_ids?: unknown; email_contact_map?: unknown }>('POST', '/contacts', { contacts });
      if (res.ok) return { ok: true, contactIds: contactIdsOf(res.body, contacts) };
      if (res.status === 400 && !isMissingKey(res)) return { ok: false, message: vendorMessage(res) };
      throw fail(res, 'POST', '/contacts', true);
    },

    async upsertContact(contact) {
      const res = await call<{ contact_id?: unknown }>('POST', '/contact', { contact });
      if (res.ok) {
        const id = res.body?.contact_id;
        return { ok: true, contactIds: new Map(typeof id === 'string' && id !== '' ? [[contact.Email.toLowerCase(), id]] : []) };
      }
      if (res.status === 400 && !isMissingKey(res)) return { ok: false, message: vendorMessage(res) };
      throw fail(res, 'POST', '/contact', true);
    },

    async membership(listId, contact) {
      const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(contact)}`;
      const res = await call('GET', path);
      if (res.ok) return 'member';
      // Autopilot's own 404 body: not on the list (or no such contact, or no such list: see listExists).
      if (res.status === 404 && isAutopilotError(res)) return 'not_member';
      if (res.status === 400 && !isMissingKey(res)) return 'unknown';
      throw fail(res, 'GET', `/list/${encodeURIComponent(listId)}/contact/{contact}`);
    },

    async addToList(listId, contact) {
      const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(contact)}`;
      const res = await call<{ not_modified?: boolean }>('POST', path);
      if (res.ok) return { ok: true, outcome: res.body?.not_modified ? 'already_member' : 'added' };
      if (res.status === 404 && isAutopilotError(res)) return { ok: true, outcome: 'not_found' };
      if (res.status === 400 && !isMissingKey(res)) return { ok: false, message: vendorMessage(res) };
      throw fail(res, 'POST', `/list/${encodeURIComponent(listId)}/contact/{contact}`);
    },

    async listExists(listId) {
      const res = await call<{ lists?: AutopilotList[] }>('GET', '/lists');
      if (!res.ok) throw fail(res, 'GET', '/lists');
      return Array.isArray(res.body?.lists) && res.body.lists.some((list) => list.list_id === listId);
    },

    async getCustomFields() {
      const res = await call<unknown>('GET', '/contacts/custom_fields');
      if (!res.ok) throw fail(res, 'GET', '/contacts/custom_fields');
      const items = Array.isArray(res.body) ? res.body : [];
      return items.flatMap((item: unknown) => {
        const { name, fieldType } = (item ?? {}) as { name?: unknown; fieldType?: unknown };
        return typeof name === 'string' && typeof fieldType === 'string' ? [{ name, fieldType }] : [];
      });
    },

    async removeFromList(listId, email) {
      const path = `/list/${encodeURIComponent(listId)}/contact/${encodeURIComponent(email)}`;
      const res = await call<{ not_modified?: boolean }>('DELETE', path);
      if (res.ok) return { ok: true, outcome: res.body?.not_modified ? 'not_member' : 'removed' };
      // Autopilot's 404 means the contact is unknown, or the list is gone: the caller asks listExists. Any other
      // 404 (an HTML page) is whatever answers at a retired address, classified below.
      if (res.status === 404 && isAutopilotError(res)) return { ok: true, outcome: 'not_found' };
      if (res.status === 400 && !isMissingKey(res)) return { ok: false, message: vendorMessage(res) };
      throw fail(res, 'DELETE', `/list/${encodeURIComponent(listId)}/contact/{contact}`);
    },
  };
}

/**
 * The bulk answer's `email_contact_map` (e-mail → contact id), else `contact_ids` by position when it holds
 * one id per contact sent. Keys are lower-cased e-mails.
 */
function contactIdsOf(body: { contact_ids?: unknown; email_contact_map?: unknown } | undefined, sent: AutopilotContact[]): Map<string, string> {
  const ids = new Map<string, string>();
  const map = body?.email_contact_map;
  if (typeof map === 'object' && map !== null) {
    for (const [email, id] of Object.entries(map)) if (typeof id === 'string' && id !== '') ids.set(email.toLowerCase(), id);
  }
  const list = body?.contact_ids;
  if (ids.size === 0 && Array.isArray(list) && list.length === sent.length) {
    list.forEach((id, i) => {
      if (typeof id === 'string' && id !== '') ids.set(sent[i]!.Email.toLowerCase(), id);
    });
  }
  return ids;
}

/** The list a run writes to was deleted in Autopilot meanwhile; the next run finds no list by that title and creates it. */
export function listNotFound(context: { method: string; route: string; connection: string; detail?: string }): ConfigError {
  return new ConfigError(
    'list_not_found',
    `Autopilot could not find what ${context.method} ${context.route} refers to for connection \`${context.connection}\`` +
      `${context.detail ? ` (HTTP 404: ${context.detail})` : ''}. ` +
      'The list may have been deleted in Autopilot while the export ran; run the export again to recreate it.',
  );
}

/**
 * Autopilot's quirks first, then the kit's classification:
 * - 400 "No autopilotapikey header provided." is an auth failure, not a bad record;
 * - 429 carries no documented Retry-After, so we wait a second unless the header is present;
 * - 410 anywhere, or 404 on a route that always exists, means the legacy API is gone for this account. Only a
 *   call that names a list (`refersToList`) can meet a genuine 404, and then Autopilot answers in its JSON shape.
 */
export function classifyAutopilot(
  res: Pick<HttpResponse, 'status' | 'headers' | 'body'>,
  context: { method: string; route: string; connection: string; baseUrl: string; refersToList?: boolean },
): OutflowError {
  const where = `${context.method} ${context.route}`;
  const detail = vendorMessage(res);
  if (res.status === 401 || isMissingKey(res)) {
    return new AuthError(
      'auth_failed',
      `Autopilot refused the API key of connection \`${context.connection}\` on ${where} (HTTP ${res.status}: ${detail}). ` +
        'Generate a key in Autopilot under Settings → Autopilot API, update the connection and run `outflow connection verify`.',
    );
  }
  if (res.status === 429) {
    return new RetryableError(
      'rate_limited',
      `Autopilot is throttling connection \`${context.connection}\` on ${where} (HTTP 429: ${detail}). ` +
        'Autopilot allows 5 requests per second per account; lower the connection\'s requestsPerSecond if other tools share the key.',
      { retryAfterMs: retryAfterMs(res.headers) ?? DEFAULT_RETRY_AFTER_MS },
    );
  }
  if (res.status === 410 || (res.status === 404 && !(context.refersToList && isAutopilotError(res)))) {
    return new ConfigError(
      'invalid_settings',
      `Autopilot answered HTTP ${res.status} on ${where} for connection \`${context.connection}\`: this Autopilot account or API ` +
        'appears retired (Autopilot Journeys became Ortto, whose API is different). Check the connection\'s baseUrl ' +
        `(now ${context.baseUrl}, default ${DEFAULT_BASE_URL}) and that the account still works in Autopilot Journeys.`,
    );
  }
  if (res.status === 404) return listNotFound({ method: context.method, route: context.route, connection: context.connection, detail });
  return classifyHttp(res, { vendor: VENDOR, connection: context.connection, detail: `${detail} on ${where}` });
}

function isMissingKey(res: Pick<HttpResponse, 'status' | 'body'>): boolean {
  return res.status === 400 && /autopilotapikey/i.test(rawMessage(res.body));
}

/**
 * Autopilot's own errors are JSON shaped `{"error":"Not Found","message":"…"}`. Anything else (an HTML page, an
 * empty body) comes from whatever now answers at the old address.
 */
function isAutopilotError(res: Pick<HttpResponse, 'body'>): boolean {
  const body = res.body as { error?: unknown; message?: unknown } | undefined;
  return typeof body === 'object' && body !== null && typeof body.error === 'string' && typeof body.message === 'string';
}

function rawMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  if (typeof body === 'object' && body !== null) {
    const { message, error } = body as { message?: unknown; error?: unknown };
    if (typeof message === 'string') return message;
    if (typeof error === 'string') return error;
  }
  return '';
}

/** The vendor's explanation, cut short and with any e-mail address masked (it may echo the record). */
export function vendorMessage(res: Pick<HttpResponse, 'status' | 'body'>): string {
  const text = rawMessage(res.body).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  const masked = text.replace(/[^\s"'<>(),;:]*@[^\s"'<>(),;:]*/g, '[email]');
  if (masked === '') return 'no explanation given';
  return masked.length > 200 ? `${masked.slice(0, 200)}…` : masked;
}

/** `/account` under `https://api2.autopilothq.com/v1` → `/v1/account`, for messages. */
function routeOf(base: string, path: string): string {
  try {
    return new URL(base).pathname.replace(/\/+$/, '') + path;
  } catch {
    return path;
  }
}
