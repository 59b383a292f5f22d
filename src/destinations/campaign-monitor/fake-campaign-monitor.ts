import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ContractFake, RecordedRequest } from '../kit/contract.case.ts';
import { listenOnLoopback } from '../kit/listen.ts';

// A small Campaign Monitor (createsend API v3.3) for tests and the benchmark: HTTP Basic auth by API key,
// clients → lists → subscribers, the bulk import with its partial-failure 400, unsubscribe, delete, list
// reads, and knobs for throttling, injected failures and latency. OAuth, list creation and campaign
// endpoints are left out: Outflow does not call them.

export type SubscriberState = 'Active' | 'Unsubscribed' | 'Deleted' | 'Bounced' | 'Unconfirmed';

export interface FakeListSeed {
  listId: string;
  title: string;
  /** Custom field names; each gets the key `[name]` (CM derives keys from names). */
  customFields?: string[];
  confirmedOptIn?: boolean;
}

export interface FakeClientSeed {
  clientId: string;
  name: string;
  lists: FakeListSeed[];
}

export interface FakeRateLimit {
  /** At most `requests` per API key in any `perMs` window (sliding). */
  requests: number;
  perMs: number;
  /** Add `Retry-After` to 429s (our addition; CM documents only X-RateLimit-*). Default true. */
  retryAfter?: boolean;
}

export interface CampaignMonitorFakeOptions {
  /** Keys accepted as the Basic user name. Default: one key, {@link FAKE_API_KEY}. */
  apiKeys?: string[];
  /** Default: one client with one list, {@link FAKE_LIST_ID}, holding the custom fields `website` and `plan`. */
  clients?: FakeClientSeed[];
  rateLimit?: FakeRateLimit;
  latencyMs?: number;
  /**
   * How an unknown list id is answered. Unconfirmed: CM answers 401 for ids the caller does not own
   * (documented for client ids, code 102), so the default is 401 with code 101 "Invalid ListID".
   */
  unknownListStatus?: 401 | 404;
  /** Loopback port to listen on; default: a free one. */
  port?: number;
}

export interface FakeSubscriberSeed {
  email: string;
  name?: string;
  state?: SubscriberState;
  customFields?: Record<string, string>;
}

/** A subscriber as the tests see it: CM's read shape plus `fields` keyed by bare custom field key. */
export interface FakeSubscriberView {
  EmailAddress: string;
  Name: string;
  State: SubscriberState;
  ConsentToTrack: string;
  CustomFields: Array<{ Key: string; Value: string }>;
  fields: Record<string, string>;
}

export interface AutoresponderEvent {
  listId: string;
  email: string;
  /** queued: a new subscriber entered subscription-based automations; restarted / resumed: a resubscribe. */
  action: 'queued' | 'restarted' | 'resumed';
}

export interface CampaignMonitorRequest extends RecordedRequest {
  query: Record<string, string>;
}

export interface FailOptions {
  /** Sent as Retry-After and X-RateLimit-Reset. */
  retryAfterS?: number;
  /** Sent as X-RateLimit-Reset only (CM's documented throttling header). */
  rateLimitResetS?: number;
  path?: string;
  /** Replaces the default `{ Code, Message }` body. */
  body?: unknown;
}

export interface CampaignMonitorFake extends ContractFake {
  /** Base URL to put in a connection's `baseUrl` (ends in `/api/v3.3`). */
  readonly url: string;
  readonly requests: CampaignMonitorRequest[];
  readonly autoresponderEvents: AutoresponderEvent[];
  /** Custom-field values longer than 250 characters that the fake cut, as we assume CM does. */
  readonly truncatedValues: number;
  /** Custom-field values sent for keys the list does not define (ignored). */
  readonly ignoredCustomFieldValues: number;
  failNext(status: number, options?: FailOptions): void;
  /** Imports (and removals) of these addresses fail with `code` (default 1, invalid e-mail address). */
  rejectEmails(emails: string[], code?: number): void;
  setRateLimit(limit: FakeRateLimit | undefined): void;
  setLatency(ms: number): void;
  seed(listId: string, subscribers: FakeSubscriberSeed[]): void;
  /** Deletes a custom field from a list, as someone might in CM's web app after an export was saved. */
  removeCustomField(listId: string, name: string): void;
  suppress(clientId: string, emails: string[]): void;
  member(listId: string, email: string): FakeSubscriberView | undefined;
  /** Members of a list, optionally only in one state, ordered by e-mail. */
  members(listId: string, state?: SubscriberState): FakeSubscriberView[];
  /** Parsed bodies of the import calls received, oldest first. */
  importBodies(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export const FAKE_API_KEY = 'cm-fake-api-key-5f2c9a';
export const FAKE_CLIENT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
export const FAKE_LIST_ID = 'e3c5f034d68744f7881fdccf13c2daee';

const PREFIX = '/api/v3.3';
const MAX_IMPORT = 1000;
const MAX_CUSTOM_VALUE = 250;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INACTIVE_CODES: Partial<Record<SubscriberState, number>> = { Deleted: 205, Unsubscribed: 206, Bounced: 207, Unconfirmed: 208 };

interface StoredSubscriber {
  email: string;
  name: string;
  state: SubscriberState;
  /** Keyed by the list's canonical key (`[website]`); several values for multi-select fields. */
  values: Map<string, string[]>;
  consentToTrack: string;
  date: string;
  joined: string;
}

interface StoredList {
  listId: string;
  clientId: string;
  title: string;
  confirmedOptIn: boolean;
  /** Normalised key (`website`) → field. */
  fields: Map<string, { name: string; key: string }>;
  /** Lower-cased e-mail → subscriber. */
  subscribers: Map<string, StoredSubscriber>;
}

interface Injection {
  status: number;
  options: FailOptions;
}

class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

const cmError = (status: number, code: number, message: string, headers?: Record<string, string>) =>
  new Reply(status, { Code: code, Message: message }, headers);

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startCampaignMonitorFake(options: CampaignMonitorFakeOptions = {}): Promise<CampaignMonitorFake> {
  const apiKeys = new Set(options.apiKeys ?? [FAKE_API_KEY]);
  const clientSeeds = options.clients ?? [
    { clientId: FAKE_CLIENT_ID, name: 'Outflow Test Client', lists: [{ listId: FAKE_LIST_ID, title: 'Newsletter', customFields: ['website', 'plan'] }] },
  ];
  const unknownListStatus = options.unknownListStatus ?? 401;
  let rateLimit = options.rateLimit;
  let latencyMs = options.latencyMs ?? 0;

  const clients = clientSeeds.map((c) => ({ clientId: c.clientId, name: c.name }));
  const suppression = new Map<string, Set<string>>(clientSeeds.map((c) => [c.clientId, new Set<string>()]));
  const lists = new Map<string, StoredList>();
  for (const client of clientSeeds) {
    for (const seed of client.lists) {
      lists.set(seed.listId, {
        listId: seed.listId,
        clientId: client.clientId,
        title: seed.title,
        confirmedOptIn: seed.confirmedOptIn ?? false,
        fields: new Map((seed.customFields ?? []).map((name) => [normalizeKey(name), { name, key: `[${name}]` }])),
        subscribers: new Map(),
      });
    }
  }

  const requests: CampaignMonitorRequest[] = [];
  const autoresponderEvents: AutoresponderEvent[] = [];
  const injections: Injection[] = [];
  const rejected = new Map<string, number>();
  const hits = new Map<string, number[]>();
  const counters = { truncatedValues: 0, ignoredCustomFieldValues: 0 };

  function findList(listId: string): StoredList | Reply {
    const list = lists.get(listId);
    if (list) return list;
    return unknownListStatus === 404 ? cmError(404, 404, 'Not Found') : cmError(401, 101, 'Invalid ListID');
  }

  function authenticate(header: string | undefined): string | Reply {
    if (!header) return cmError(401, 50, 'Must supply a valid HTTP Basic Authorization header');
    const [scheme, value = ''] = header.split(' ');
    if (scheme?.toLowerCase() === 'bearer') return cmError(401, 120, 'Invalid OAuth Token');
    if (scheme?.toLowerCase() !== 'basic') return cmError(401, 50, 'Must supply a valid HTTP Basic Authorization header');
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const key = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
    return apiKeys.has(key) ? key : cmError(401, 100, 'Invalid API Key');
  }

  function throttle(key: string): Reply | Record<string, string> {
    if (!rateLimit) return {};
    const now = Date.now();
    const recent = (hits.get(key) ?? []).filter((t) => t > now - rateLimit!.perMs);
    hits.set(key, recent);
    const resetS = (oldest: number | undefined) => String(Math.max(1, Math.ceil(((oldest ?? now) + rateLimit!.perMs - now) / 1000)));
    if (recent.length >= rateLimit.requests) {
      const reset = resetS(recent[0]);
      return cmError(429, 429, 'Rate limit exceeded', {
        'x-ratelimit-limit': String(rateLimit.requests),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': reset,
        ...(rateLimit.retryAfter === false ? {} : { 'retry-after': reset }),
      });
    }
    recent.push(now);
    return {
      'x-ratelimit-limit': String(rateLimit.requests),
      'x-ratelimit-remaining': String(rateLimit.requests - recent.length),
      'x-ratelimit-reset': resetS(recent[0]),
    };
  }

  function injected(path: string): Reply | undefined {
    const at = injections.findIndex((i) => i.options.path === undefined || path.includes(i.options.path));
    if (at < 0) return undefined;
    const [{ status, options: o }] = injections.splice(at, 1) as [Injection];
    const headers: Record<string, string> = {};
    if (o.retryAfterS !== undefined) {
      headers['retry-after'] = String(o.retryAfterS);
      headers['x-ratelimit-reset'] = String(o.retryAfterS);
    }
    if (o.rateLimitResetS !== undefined) headers['x-ratelimit-reset'] = String(o.rateLimitResetS);
    if (status === 429) Object.assign(headers, { 'x-ratelimit-limit': String(rateLimit?.requests ?? 60), 'x-ratelimit-remaining': '0' });
    if (o.body !== undefined) return new Reply(status, o.body, headers);
    if (status === 429) return cmError(429, 429, 'Rate limit exceeded', headers);
    if (status === 401) return cmError(401, 100, 'Invalid API Key', headers);
    if (status >= 500) return cmError(status, 500, 'Internal Server Error', headers);
    return cmError(status, status, 'Injected failure', headers);
  }

  function route(method: string, path: string, query: URLSearchParams, rawBody: string): Reply {
    const parts = path.slice(1).split('/');
    const [resource, id, sub] = parts;
    if (method === 'GET' && path === '/clients') return new Reply(200, clients.map((c) => ({ ClientID: c.clientId, Name: c.name })));
    if (method === 'GET' && resource === 'clients' && sub === 'lists' && parts.length === 3) {
      if (!suppression.has(id!)) return cmError(401, 102, 'Invalid ClientID');
      return new Reply(200, [...lists.values()].filter((l) => l.clientId === id).map((l) => ({ ListID: l.listId, Name: l.title })));
    }
    if (resource === 'lists' && id !== undefined) {
      const list = findList(id);
      if (list instanceof Reply) return list;
      if (method === 'GET' && parts.length === 2) return new Reply(200, listDetails(list));
      if (method === 'GET' && sub === 'customfields' && parts.length === 3) {
        return new Reply(
          200,
          [...list.fields.values()].map((f) => ({ FieldName: f.name, Key: f.key, DataType: 'Text', FieldOptions: [], VisibleInPreferenceCenter: true })),
        );
      }
      const state = sub ? STATE_ROUTES[sub] : undefined;
      if (method === 'GET' && state && parts.length === 3) return pagedMembers(list, state, query);
    }
    if (resource === 'subscribers' && id !== undefined) {
      const list = findList(id);
      if (list instanceof Reply) return list;
      if (method === 'POST' && sub === 'import' && parts.length === 3) return importSubscribers(list, rawBody);
      if (method === 'POST' && sub === 'unsubscribe' && parts.length === 3) {
        const body = parseJson(rawBody);
        if (body instanceof Reply) return body;
        return changeState(list, String((body as Record<string, unknown>).EmailAddress ?? ''), 'Unsubscribed');
      }
      if (parts.length === 2 && method === 'DELETE') return changeState(list, query.get('email') ?? '', 'Deleted');
      if (parts.length === 2 && method === 'GET') {
        const subscriber = list.subscribers.get((query.get('email') ?? '').trim().toLowerCase());
        return subscriber ? new Reply(200, readShape(subscriber)) : cmError(400, 203, 'Subscriber not in list or has already been removed.');
      }
    }
    return cmError(404, 404, 'Not Found');
  }

  function importSubscribers(list: StoredList, rawBody: string): Reply {
    const body = parseJson(rawBody);
    if (body instanceof Reply) return body;
    const input = body as Record<string, unknown>;
    const items = Array.isArray(input.Subscribers) ? (input.Subscribers as unknown[]) : [];
    if (items.length > MAX_IMPORT) return cmError(400, 209, 'Too many subscribers in this batch. You can only add 1000 subscribers in one call');
    if (items.length === 0) return cmError(400, 212, 'No subscribers were provided in this batch');
    const resubscribe = flag(input, 'Resubscribe');
    const queue = flag(input, 'QueueSubscriptionBasedAutoResponders');
    const restart = flag(input, 'RestartSubscriptionBasedAutoresponders');
    const suppressed = suppression.get(list.clientId)!;

    const failures: Array<{ EmailAddress: string; Code: number; Message: string }> = [];
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    let created = 0;
    let existing = 0;
    for (const raw of items) {
      const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const email = typeof item.EmailAddress === 'string' ? item.EmailAddress.trim() : '';
      // Unconfirmed whether CM compares duplicates case-insensitively; we do.
      const key = email.toLowerCase();
      const first = !seen.has(key);
      if (!first) duplicates.add(email);
      seen.add(key);
      const fail = (code: number, message: string) => failures.push({ EmailAddress: email, Code: code, Message: message });
      if (!EMAIL.test(email)) {
        fail(1, 'Invalid Email Address');
        continue;
      }
      const forced = rejected.get(key);
      if (forced !== undefined) {
        fail(forced, forced === 1 ? 'Invalid Email Address' : 'Rejected by the fake');
        continue;
      }
      const consent = item.ConsentToTrack;
      if (consent === undefined || consent === null || consent === '') {
        fail(214, 'Please provide a consent to track value');
        continue;
      }
      if (typeof consent !== 'string' || !['yes', 'no', 'unchanged'].includes(consent.toLowerCase())) {
        fail(215, 'Please provide a valid consent to track value');
        continue;
      }
      const current = list.subscribers.get(key);
      const inactiveCode = current ? INACTIVE_CODES[current.state] : undefined;
      if (!resubscribe && suppressed.has(key)) {
        fail(204, 'In Suppression List');
        continue;
      }
      if (!resubscribe && inactiveCode !== undefined) {
        fail(inactiveCode, INACTIVE_MESSAGES[inactiveCode]!);
        continue;
      }
      if (first) {
        if (current) existing += 1;
        else created += 1;
      }
      const now = timestamp();
      const subscriber: StoredSubscriber = current ?? { email, name: '', state: 'Active', values: new Map(), consentToTrack: 'Unchanged', date: now, joined: now };
      if (typeof item.Name === 'string') subscriber.name = item.Name;
      if (consent.toLowerCase() !== 'unchanged') subscriber.consentToTrack = consent.toLowerCase() === 'yes' ? 'Yes' : 'No';
      applyCustomFields(list, subscriber, item.CustomFields);
      const wasInactive = current !== undefined && current.state !== 'Active';
      suppressed.delete(key);
      subscriber.state = 'Active';
      list.subscribers.set(key, subscriber);
      if (wasInactive) autoresponderEvents.push({ listId: list.listId, email: key, action: restart ? 'restarted' : 'resumed' });
      else if (!current && queue) autoresponderEvents.push({ listId: list.listId, email: key, action: 'queued' });
    }
    const result = {
      FailureDetails: failures,
      TotalUniqueEmailsSubmitted: seen.size,
      TotalExistingSubscribers: existing,
      TotalNewSubscribers: created,
      DuplicateEmailsInSubmission: [...duplicates],
    };
    // A partial failure is a 400 although the good rows were imported.
    if (failures.length > 0) return new Reply(400, { Code: 210, Message: 'Subscriber Import had some failures', ResultData: result });
    return new Reply(201, result);
  }

  function applyCustomFields(list: StoredList, subscriber: StoredSubscriber, raw: unknown): void {
    if (!Array.isArray(raw)) return;
    const fresh = new Map<string, string[]>();
    for (const entry of raw as Array<Record<string, unknown>>) {
      // The import takes the key with or without brackets.
      const field = list.fields.get(normalizeKey(String(entry?.Key ?? '')));
      if (!field) {
        counters.ignoredCustomFieldValues += 1;
        continue;
      }
      if (entry.Clear === true) {
        subscriber.values.delete(field.key);
        continue;
      }
      let value = entry.Value === undefined || entry.Value === null ? '' : String(entry.Value);
      if (value.length > MAX_CUSTOM_VALUE) {
        counters.truncatedValues += 1;
        value = value.slice(0, MAX_CUSTOM_VALUE);
      }
      fresh.set(field.key, [...(fresh.get(field.key) ?? []), value]);
    }
    for (const [key, values] of fresh) subscriber.values.set(key, values);
  }

  function changeState(list: StoredList, email: string, state: 'Unsubscribed' | 'Deleted'): Reply {
    const key = email.trim().toLowerCase();
    if (!EMAIL.test(key)) return cmError(400, 1, 'Invalid Email Address');
    const forced = rejected.get(key);
    if (forced !== undefined) return cmError(400, forced, 'Rejected by the fake');
    const subscriber = list.subscribers.get(key);
    if (!subscriber) return cmError(400, 203, 'Subscriber not in list or has already been removed.');
    subscriber.state = state;
    return new Reply(200, undefined);
  }

  function pagedMembers(list: StoredList, state: SubscriberState, query: URLSearchParams): Reply {
    const page = Number(query.get('page') ?? 1);
    const pageSize = Number(query.get('pagesize') ?? 1000);
    const orderField = query.get('orderfield') ?? 'date';
    const direction = query.get('orderdirection') ?? 'asc';
    if (!Number.isInteger(page) || page < 1) return cmError(400, 800, 'Invalid page number');
    if (!Number.isInteger(pageSize) || pageSize < 10 || pageSize > 1000) return cmError(400, 801, 'Invalid page size');
    if (!['email', 'name', 'date'].includes(orderField)) return cmError(400, 802, 'Invalid order field');
    if (!['asc', 'desc'].includes(direction)) return cmError(400, 803, 'Invalid order direction');
    const sortKey = (s: StoredSubscriber) => (orderField === 'email' ? s.email.toLowerCase() : orderField === 'name' ? s.name : s.date);
    const all = [...list.subscribers.values()]
      .filter((s) => s.state === state)
      .sort((a, b) => sortKey(a).localeCompare(sortKey(b)) * (direction === 'asc' ? 1 : -1));
    const results = all.slice((page - 1) * pageSize, page * pageSize).map((s) => {
      const shape = readShape(s);
      if (query.get('includetrackingpreference') !== 'true') delete (shape as Partial<typeof shape>).ConsentToTrack;
      return shape;
    });
    return new Reply(200, {
      Results: results,
      ResultsOrderedBy: orderField,
      OrderDirection: direction,
      PageNumber: page,
      PageSize: pageSize,
      RecordsOnThisPage: results.length,
      TotalNumberOfRecords: all.length,
      NumberOfPages: Math.ceil(all.length / pageSize),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const method = req.method ?? 'GET';
    requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body });
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    let reply: Reply;
    let extraHeaders: Record<string, string> = {};
    const injection = injected(url.pathname);
    if (injection) {
      reply = injection;
    } else if (!url.pathname.startsWith(`${PREFIX}/`) || !url.pathname.endsWith('.json')) {
      reply = cmError(404, 404, 'Not Found');
    } else {
      const key = authenticate(req.headers.authorization);
      if (key instanceof Reply) {
        reply = key;
      } else {
        const throttled = throttle(key);
        if (throttled instanceof Reply) reply = throttled;
        else {
          extraHeaders = throttled;
          reply = route(method, url.pathname.slice(PREFIX.length, -'.json'.length), url.searchParams, body);
        }
      }
    }
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...extraHeaders,
      ...reply.headers,
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ Code: 500, Message: `Fake failure: ${error instanceof Error ? error.message : String(error)}` }));
    });
  });
  const port = await listenOnLoopback(server, options.port);

  function view(s: StoredSubscriber): FakeSubscriberView {
    const shape = readShape(s);
    const fields: Record<string, string> = {};
    for (const { Key, Value } of shape.CustomFields) fields[Key] = fields[Key] === undefined ? Value : `${fields[Key]}||${Value}`;
    return { ...shape, fields };
  }

  function requireList(listId: string): StoredList {
    const list = lists.get(listId);
    if (!list) throw new Error(`The fake has no list ${listId}`);
    return list;
  }

  return {
    url: `http://127.0.0.1:${port}${PREFIX}`,
    requests,
    autoresponderEvents,
    get truncatedValues() {
      return counters.truncatedValues;
    },
    get ignoredCustomFieldValues() {
      return counters.ignoredCustomFieldValues;
    },
    failNext(status, options = {}) {
      injections.push({ status, options });
    },
    rejectEmails(emails, code = 1) {
      rejected.clear();
      for (const email of emails) rejected.set(email.trim().toLowerCase(), code);
    },
    setRateLimit(limit) {
      rateLimit = limit;
      hits.clear();
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    seed(listId, subscribers) {
      const list = requireList(listId);
      for (const seed of subscribers) {
        const now = timestamp();
        const values = new Map<string, string[]>();
        for (const [name, value] of Object.entries(seed.customFields ?? {})) {
          const field = list.fields.get(normalizeKey(name));
          if (field) values.set(field.key, [value]);
        }
        list.subscribers.set(seed.email.toLowerCase(), {
          email: seed.email,
          name: seed.name ?? '',
          state: seed.state ?? 'Active',
          values,
          consentToTrack: 'Unchanged',
          date: now,
          joined: now,
        });
      }
    },
    removeCustomField(listId, name) {
      const list = requireList(listId);
      if (!list.fields.delete(normalizeKey(name))) throw new Error(`The fake's list ${listId} has no custom field ${name}`);
    },
    suppress(clientId, emails) {
      const set = suppression.get(clientId);
      if (!set) throw new Error(`The fake has no client ${clientId}`);
      for (const email of emails) set.add(email.toLowerCase());
    },
    member(listId, email) {
      const list = requireList(listId);
      const s = list.subscribers.get(email.toLowerCase());
      return s ? view(s) : undefined;
    },
    members(listId, state) {
      const list = requireList(listId);
      return [...list.subscribers.values()]
        .filter((s) => state === undefined || s.state === state)
        .sort((a, b) => a.email.localeCompare(b.email))
        .map((s) => view(s));
    },
    importBodies() {
      return requests.filter((r) => r.method === 'POST' && r.path.endsWith('/import.json')).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}

/** How many subscriber records one recorded request carried (for the contract suite). */
export function recordsInRequest(request: RecordedRequest): number | null {
  if (request.method === 'POST' && request.path.endsWith('/import.json')) {
    const body = JSON.parse(request.body) as { Subscribers?: unknown[] };
    return body.Subscribers?.length ?? 0;
  }
  if (request.method === 'POST' && request.path.endsWith('/unsubscribe.json')) return 1;
  if (request.method === 'DELETE' && request.path.includes('/subscribers/')) return 1;
  return null;
}

const STATE_ROUTES: Record<string, SubscriberState> = {
  active: 'Active',
  unsubscribed: 'Unsubscribed',
  deleted: 'Deleted',
  bounced: 'Bounced',
  unconfirmed: 'Unconfirmed',
};

const INACTIVE_MESSAGES: Record<number, string> = {
  205: 'Is Deleted',
  206: 'Is Unsubscribed',
  207: 'Is Bounced',
  208: 'Is Unconfirmed',
};

function listDetails(list: StoredList) {
  return {
    ListID: list.listId,
    Title: list.title,
    UnsubscribePage: '',
    UnsubscribeSetting: 'OnlyThisList',
    ConfirmedOptIn: list.confirmedOptIn,
    ConfirmationSuccessPage: '',
  };
}

function readShape(s: StoredSubscriber) {
  const customFields: Array<{ Key: string; Value: string }> = [];
  for (const [key, values] of s.values) {
    // Subscriber reads report keys without brackets.
    for (const value of values) customFields.push({ Key: key.slice(1, -1), Value: value });
  }
  return {
    EmailAddress: s.email,
    Name: s.name,
    Date: s.date,
    ListJoinedDate: s.joined,
    State: s.state,
    CustomFields: customFields,
    ReadsEmailWith: '',
    ConsentToTrack: s.consentToTrack,
  };
}

function parseJson(raw: string): unknown {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch {
    return cmError(400, 400, 'Failed to deserialize your request. Please check the documentation and try again.');
  }
}

/** The autoresponder flags are matched case-insensitively: the docs and the SDKs spell them differently. */
function flag(body: Record<string, unknown>, name: string): boolean {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key !== undefined && body[key] === true;
}

function normalizeKey(key: string): string {
  const trimmed = key.trim();
  return (trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed).trim().toLowerCase();
}

function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}
