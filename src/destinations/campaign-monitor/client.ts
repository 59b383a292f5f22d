import { AuthError, ConfigError, RetryableError, UpstreamError, type OutflowError } from '../../domain/errors.ts';
import type { DestinationContext } from '../kit/define.ts';
import { createHttpClient, retryAfterMs, type HttpResponse } from '../kit/http.ts';
import { DEFAULT_REQUESTS_PER_SECOND, type CampaignMonitorConnection } from './connection.ts';

// The only module that knows Campaign Monitor's URLs, bodies and error codes.
// Reference: https://www.campaignmonitor.com/api/v3-3/subscribers/ and /lists/

const VENDOR = 'Campaign Monitor';

export type ConsentToTrack = 'Yes' | 'No' | 'Unchanged';

export interface CustomFieldValue {
  /** The custom field's key without brackets (`website`, not `[website]`). */
  Key: string;
  Value: string;
}

export interface ImportSubscriber {
  EmailAddress: string;
  Name?: string;
  CustomFields: CustomFieldValue[];
  ConsentToTrack: ConsentToTrack;
}

export interface ImportOptions {
  resubscribe: boolean;
  queueSubscriptionBasedAutoresponders: boolean;
  restartSubscriptionBasedAutoresponders: boolean;
}

export interface ImportFailure {
  EmailAddress: string;
  Code: number;
  Message: string;
}

export interface ImportResult {
  FailureDetails: ImportFailure[];
  TotalUniqueEmailsSubmitted: number;
  TotalExistingSubscribers: number;
  TotalNewSubscribers: number;
  DuplicateEmailsInSubmission: string[];
}

export interface ListDetails {
  ListID: string;
  Title: string;
  ConfirmedOptIn?: boolean;
  UnsubscribeSetting?: string;
}

/** A custom field of a list: `key` without brackets, in the list's own spelling (`website` for `[website]`). */
export interface CustomField {
  key: string;
  name: string;
}

export type RemovalOutcome = { ok: true; wasMember: boolean } | { ok: false; code: number; message: string };

export interface CampaignMonitorClient {
  listClients(): Promise<Array<{ ClientID: string; Name: string }>>;
  getList(listId: string): Promise<ListDetails>;
  /** The list's custom fields (GET lists/{listid}/customfields). */
  customFields(listId: string): Promise<CustomField[]>;
  /** Upserts at most 1,000 subscribers; a partial failure (400, code 210) resolves with its per-address details. */
  importSubscribers(listId: string, subscribers: ImportSubscriber[], options: ImportOptions): Promise<ImportResult>;
  /** Unsubscribes or deletes one address; per-address refusals resolve, whole-request failures throw. */
  removeSubscriber(listId: string, email: string, how: 'unsubscribe' | 'delete'): Promise<RemovalOutcome>;
}

interface ErrorEnvelope {
  Code?: unknown;
  Message?: unknown;
  ResultData?: unknown;
}

// 401 codes that are about the credential itself; any other 401 on a list's URL means the list id is not
// one this key can see (CM answers 401, not 404, for ids the caller does not own).
const CREDENTIAL_CODES = new Set([50, 100, 120, 121, 122]);
const CODE_INVALID_LIST = 101;
const CODE_IMPORT_PARTIAL = 210;
const CODE_SUBSCRIBER_NOT_IN_LIST = 203;

export function createCampaignMonitorClient(conn: CampaignMonitorConnection, ctx: DestinationContext): CampaignMonitorClient {
  const authorization = `Basic ${Buffer.from(`${conn.apiKey}:x`).toString('base64')}`;
  const http = createHttpClient({
    vendor: VENDOR,
    baseUrl: conn.baseUrl,
    ctx,
    rate: campaignMonitorRate(conn),
    headers: () => ({ authorization }),
  });
  const connection = ctx.connectionName;
  const listPath = (listId: string, rest = '') => `/lists/${encodeURIComponent(listId)}${rest}.json`;
  const subscribersPath = (listId: string, rest = '') => `/subscribers/${encodeURIComponent(listId)}${rest}.json`;

  function failure(res: HttpResponse, what: string, listId?: string): OutflowError {
    const { code, message } = envelope(res.body);
    const detail = code === undefined ? `HTTP ${res.status}` : `HTTP ${res.status}, code ${code}${message ? ` "${message}"` : ''}`;
    if (res.status === 401 && (listId === undefined || code === undefined || CREDENTIAL_CODES.has(code))) {
      return new AuthError(
        code === 121 ? 'token_expired' : 'auth_failed',
        code === 100
          ? `${VENDOR} rejected the API key of connection \`${connection}\` (${detail}): bad API key. Copy a current API key from Campaign Monitor (Account settings → API keys) into the connection, then run \`outflow connection verify\`.`
          : `${VENDOR} refused the credentials of connection \`${connection}\` while ${what} (${detail}). Update the connection's API key and run \`outflow connection verify\`.`,
      );
    }
    if (listId !== undefined && (res.status === 401 || res.status === 404 || code === CODE_INVALID_LIST)) {
      return listNotFound(listId, detail);
    }
    if (res.status === 403) {
      return new AuthError(
        'permission_denied',
        `${VENDOR} does not allow connection \`${connection}\` to ${what} (${detail}). Use an account-level API key with access to the list.`,
      );
    }
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      return new RetryableError(
        res.status === 429 ? 'rate_limited' : 'upstream_unavailable',
        res.status === 429
          ? `${VENDOR} is throttling connection \`${connection}\` while ${what} (${detail}).`
          : `${VENDOR} is unavailable while ${what} for connection \`${connection}\` (${detail}).`,
        { retryAfterMs: retryDelayMs(res.headers, ctx.now()) },
      );
    }
    return new UpstreamError(
      'upstream_rejected',
      `${VENDOR} rejected ${what} for connection \`${connection}\` (${detail}).${hintFor(code)}`,
      { status: res.status },
    );
  }

  function listNotFound(listId: string, detail: string): ConfigError {
    return new ConfigError(
      'list_not_found',
      `${VENDOR} has no list with id \`${listId}\` that connection \`${connection}\` can use (${detail}). Copy the list's API ID from the list's settings page in Campaign Monitor into the export's \`listId\`, or use an API key of the client that owns the list.`,
    );
  }

  function unexpected(what: string): UpstreamError {
    return new UpstreamError(
      'upstream_rejected',
      `${VENDOR} answered ${what} for connection \`${connection}\` with a body we do not understand. Check that the connection's baseUrl points at the API (it ends in /api/v3.3).`,
    );
  }

  return {
    async listClients() {
      const res = await http.request<unknown>('GET', '/clients.json');
      if (!res.ok) throw failure(res, 'listing clients');
      if (!Array.isArray(res.body)) throw unexpected('the client list');
      return res.body as Array<{ ClientID: string; Name: string }>;
    },

    async getList(listId) {
      const res = await http.request<unknown>('GET', listPath(listId));
      if (!res.ok) throw failure(res, `reading list \`${listId}\``, listId);
      if (!isObject(res.body) || typeof res.body.ListID !== 'string') throw unexpected(`list \`${listId}\``);
      return res.body as unknown as ListDetails;
    },

    async customFields(listId) {
      const res = await http.request<unknown>('GET', listPath(listId, '/customfields'));
      if (!res.ok) throw failure(res, `reading the custom fields of list \`${listId}\``, listId);
      if (!Array.isArray(res.body)) throw unexpected(`the custom fields of list \`${listId}\``);
      const fields: CustomField[] = [];
      for (const field of res.body) {
        if (!isObject(field) || typeof field.Key !== 'string') continue;
        const key = bareCustomFieldKey(field.Key);
        if (key.length > 0) fields.push({ key, name: typeof field.FieldName === 'string' ? field.FieldName : key });
      }
      return fields;
    },

    async importSubscribers(listId, subscribers, options) {
      const res = await http.request<unknown>('POST', subscribersPath(listId, '/import'), {
        json: {
          Subscribers: subscribers,
          Resubscribe: options.resubscribe,
          // CM's docs spell this key with a capital R and the official SDKs with a lower-case r; the API
          // accepts both. Restart… has a lower-case r in both.
          QueueSubscriptionBasedAutoResponders: options.queueSubscriptionBasedAutoresponders,
          RestartSubscriptionBasedAutoresponders: options.restartSubscriptionBasedAutoresponders,
        },
      });
      const what = `an import of ${subscribers.length} subscribers into list \`${listId}\``;
      if (res.ok) {
        if (!isImportResult(res.body)) throw unexpected(what);
        return res.body;
      }
      // A partial failure is a 400 whose ResultData lists the refused addresses; the other rows WERE imported.
      const body = isObject(res.body) ? (res.body as ErrorEnvelope) : undefined;
      if (res.status === 400 && body?.Code === CODE_IMPORT_PARTIAL && isImportResult(body.ResultData)) return body.ResultData;
      throw failure(res, what, listId);
    },

    async removeSubscriber(listId, email, how) {
      const res =
        how === 'delete'
          ? await http.request<unknown>('DELETE', subscribersPath(listId), { query: { email } })
          : await http.request<unknown>('POST', subscribersPath(listId, '/unsubscribe'), { json: { EmailAddress: email } });
      if (res.ok) return { ok: true, wasMember: true };
      const { code, message } = envelope(res.body);
      if (res.status === 400 && code === CODE_SUBSCRIBER_NOT_IN_LIST) return { ok: true, wasMember: false };
      if (res.status === 400 && code !== undefined && code !== CODE_INVALID_LIST) {
        return { ok: false, code, message: message ?? 'no message' };
      }
      throw failure(res, `${how === 'delete' ? 'deleting' : 'unsubscribing'} a subscriber of list \`${listId}\``, listId);
    },
  };
}

/** Pacing for one connection: `requestsPerSecond`, or the conservative default. */
export function campaignMonitorRate(conn: Pick<CampaignMonitorConnection, 'requestsPerSecond'>) {
  return { requests: conn.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 };
}

/** `[website]`, `website` and `Website` name the same custom field. */
export function normalizeCustomFieldKey(key: string): string {
  return bareCustomFieldKey(key).toLowerCase();
}

/** `[website]` → `website`: CM lists keys with brackets and imports take them without. */
export function bareCustomFieldKey(key: string): string {
  const trimmed = key.trim();
  return (trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed).trim();
}

/**
 * Retry-After when present; otherwise X-RateLimit-Reset, which CM documents as seconds until the window
 * resets (for /transactional, the only documented limit). A value that looks like a Unix time is read as
 * one, in case some endpoint sends that instead. Undefined lets the engine choose its own backoff.
 */
export function retryDelayMs(headers: Headers, now: Date): number | undefined {
  const fromRetryAfter = retryAfterMs(headers, now);
  if (fromRetryAfter !== undefined) return fromRetryAfter;
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (!Number.isFinite(reset) || reset < 0) return undefined;
  if (reset > 1_000_000_000) return Math.max(0, reset * 1000 - now.getTime());
  return reset * 1000;
}

/** CM's messages rarely quote an address, but one must never reach our logs or errors. */
export function scrubAddresses(text: string): string {
  return text.replace(/[^\s"'<>(),;:]+@[^\s"'<>(),;:]+/g, '<address>');
}

function envelope(body: unknown): { code: number | undefined; message: string | undefined } {
  if (!isObject(body)) return { code: undefined, message: undefined };
  const code = typeof body.Code === 'number' ? body.Code : Number.isFinite(Number(body.Code)) ? Number(body.Code) : undefined;
  const message = typeof body.Message === 'string' ? scrubAddresses(body.Message).slice(0, 300) : undefined;
  return { code, message };
}

function hintFor(code: number | undefined): string {
  switch (code) {
    case 209:
      return ' An import takes at most 1,000 subscribers; this is a bug in Outflow\'s batching, please report it.';
    case 212:
      return ' The import carried no subscribers; this is a bug in Outflow, please report it.';
    case 214:
    case 215:
      return ' Set the export\'s consentToTrack to Yes, No or Unchanged.';
    default:
      return ' Check the export\'s settings and the list in Campaign Monitor.';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isImportResult(value: unknown): value is ImportResult {
  return isObject(value) && Array.isArray(value.FailureDetails);
}
