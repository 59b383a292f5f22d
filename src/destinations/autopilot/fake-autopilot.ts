import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ContractFake, RecordedRequest } from '../kit/contract.case.ts';
import { listenOnLoopback } from '../kit/listen.ts';

// A local imitation of the legacy Autopilot REST API v1, covering what Outflow calls plus enough of the rest
// (contact reads, paging, membership checks) to inspect what a run did. Facts: /work/shared/destinations/autopilot.md §8.

export interface AutopilotFakeOptions {
  /** The only key the fake accepts in the `autopilotapikey` header. */
  apiKey?: string;
  /** Token bucket refill per key; Autopilot documents 5. `null` turns throttling off. */
  requestsPerSecond?: number | null;
  /** Token bucket size; defaults to one second's worth of requests. */
  burst?: number;
  /** Autopilot documents no Retry-After on 429; set this to add one (our addition, for retry tests). */
  throttleRetryAfterS?: number;
  /** Delay before every answer. */
  latencyMs?: number;
  /** What `POST /v1/list` does with a name that exists: the early docs' 409, or a second list (later behaviour). */
  duplicateListNames?: 'duplicate' | 'conflict';
  /** The early docs keep an existing FirstName/LastName on upsert (unconfirmed for later versions). */
  protectNames?: boolean;
  /**
   * What bulk `POST /v1/contacts` does with `_autopilot_list` on a contact. The vendor documents the key only on
   * `POST /v1/contact`; whether bulk honours it is unconfirmed. `ignore`: bulk neither checks nor applies it
   * (every call still answers 200). The single-contact endpoint always honours it.
   */
  bulkListKey?: 'honour' | 'ignore';
  /** Custom fields defined in the account (as if created in the Autopilot UI), e.g. `{ name: 'Age', fieldType: 'integer' }`. */
  customFields?: Array<{ name: string; fieldType: string }>;
  /** Loopback port to listen on; default: a free one. */
  port?: number;
}

export interface FakeContact {
  contact_id: string;
  Email: string;
  FirstName?: string;
  LastName?: string;
  custom: Record<string, unknown>;
  unsubscribed: boolean;
  created_at: string;
  updated_at: string;
}

export interface FakeList {
  list_id: string;
  title: string;
  /** Contact ids, in the order they joined. */
  members: Set<string>;
}

export interface AutopilotRecordedRequest extends RecordedRequest {
  /** The status the fake answered (set once it has answered). */
  status: number;
}

export interface AutopilotFake extends ContractFake {
  /** The base URL to configure (`http://127.0.0.1:<port>/v1`). */
  readonly url: string;
  readonly apiKey: string;
  readonly requests: AutopilotRecordedRequest[];
  readonly contacts: Map<string, FakeContact>;
  readonly lists: Map<string, FakeList>;
  /** How many requests the token bucket refused. */
  readonly throttled: number;
  /** Creates a list directly (as a user would in the Autopilot UI). */
  seedList(title: string): string;
  /** Defines a custom field in the account, as a user would in the Autopilot UI. */
  seedCustomField(name: string, fieldType: string): void;
  /** E-mail addresses of a list's members, lower-cased. */
  membersOf(listId: string): string[];
  /** The next request (whose path contains `path` and, if given, has `method`) answers `status` with `body`. */
  failNext(status: number, options?: { retryAfterS?: number; path?: string; method?: string; body?: unknown }): void;
  /** Every request answers `status` (410 or 404), as a retired service would; `false` restores service. */
  retire(status: 404 | 410 | 503 | false): void;
  setRateLimit(requestsPerSecond: number | null, burst?: number): void;
  setLatency(latencyMs: number): void;
  close(): Promise<void>;
}

const BULK_MAX = 100;
const PAGE_SIZE = 100;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface Failure {
  status: number;
  retryAfterS?: number;
  path?: string;
  method?: string;
  body?: unknown;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startAutopilotFake(options: AutopilotFakeOptions = {}): Promise<AutopilotFake> {
  const apiKey = options.apiKey ?? 'fake-autopilot-key-7f3c9a';
  const duplicateListNames = options.duplicateListNames ?? 'duplicate';
  const protectNames = options.protectNames ?? true;
  const bulkListKey = options.bulkListKey ?? 'honour';
  /** Account-defined custom fields, keyed `<type>--<Name>` like the values stored on contacts. */
  const definedFields = new Map<string, { name: string; fieldType: string }>();
  const defineField = (name: string, fieldType: string) => definedFields.set(`${fieldType}--${name.trim().replace(/\s+/g, '--')}`, { name, fieldType });
  for (const field of options.customFields ?? []) defineField(field.name, field.fieldType);
  let latencyMs = options.latencyMs ?? 0;
  let rate = options.requestsPerSecond === undefined ? 5 : options.requestsPerSecond;
  let burst = options.burst ?? rate ?? 0;
  let retiredStatus: number | false = false;
  let throttled = 0;

  const requests: AutopilotRecordedRequest[] = [];
  const contacts = new Map<string, FakeContact>();
  const lists = new Map<string, FakeList>();
  const failures: Failure[] = [];
  const rejected = new Set<string>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  function takeToken(key: string): boolean {
    if (rate === null) return true;
    const now = performance.now();
    const bucket = buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  function findContact(idOrEmail: string): FakeContact | undefined {
    const key = idOrEmail.toLowerCase();
    if (contacts.has(key)) return contacts.get(key);
    for (const contact of contacts.values()) if (contact.contact_id === idOrEmail) return contact;
    return undefined;
  }

  function checkContact(input: unknown, honourListKey = true): { email: string; contact: Record<string, unknown> } {
    if (typeof input !== 'object' || input === null) throw new HttpFailure(400, 'Invalid contact data.');
    const contact = input as Record<string, unknown>;
    if (typeof contact.Email !== 'string' || contact.Email.trim() === '') throw new HttpFailure(400, 'Contact Email is required.');
    const email = contact.Email.trim().toLowerCase();
    if (!EMAIL.test(email) || rejected.has(email)) throw new HttpFailure(400, `Invalid email address "${contact.Email}".`);
    if (!honourListKey) {
      const { _autopilot_list: _ignored, ...rest } = contact;
      return { email, contact: rest };
    }
    const listId = contact._autopilot_list;
    if (listId !== undefined && (typeof listId !== 'string' || !lists.has(listId))) throw new HttpFailure(404, 'List could not be found.');
    return { email, contact };
  }

  function upsert({ email, contact }: { email: string; contact: Record<string, unknown> }): FakeContact {
    const now = new Date().toISOString();
    let stored = contacts.get(email);
    if (!stored) {
      stored = { contact_id: `person_${randomUUID().toUpperCase()}`, Email: email, custom: {}, unsubscribed: false, created_at: now, updated_at: now };
      contacts.set(email, stored);
    }
    for (const name of ['FirstName', 'LastName'] as const) {
      const value = contact[name];
      if (typeof value === 'string' && !(protectNames && stored[name])) stored[name] = value;
    }
    if (typeof contact.custom === 'object' && contact.custom !== null) Object.assign(stored.custom, contact.custom);
    if (typeof contact.unsubscribed === 'boolean') stored.unsubscribed = contact.unsubscribed;
    const newEmail = typeof contact._NewEmail === 'string' ? contact._NewEmail.trim().toLowerCase() : undefined;
    if (newEmail && newEmail !== email && EMAIL.test(newEmail) && !contacts.has(newEmail)) {
      contacts.delete(email);
      stored.Email = newEmail;
      contacts.set(newEmail, stored);
    }
    stored.updated_at = now;
    if (typeof contact._autopilot_list === 'string') lists.get(contact._autopilot_list)!.members.add(stored.contact_id);
    return stored;
  }

  function present(contact: FakeContact): Record<string, unknown> {
    return {
      contact_id: contact.contact_id,
      Email: contact.Email,
      FirstName: contact.FirstName,
      LastName: contact.LastName,
      Name: [contact.FirstName, contact.LastName].filter(Boolean).join(' '),
      unsubscribed: contact.unsubscribed,
      created_at: contact.created_at,
      updated_at: contact.updated_at,
      api_originated: true,
      lists: [...lists.values()].filter((list) => list.members.has(contact.contact_id)).map((list) => list.list_id),
      custom_fields: Object.entries(contact.custom).map(([key, value]) => {
        const [fieldType, ...name] = key.split('--');
        return { kind: name.join(' '), value, fieldType };
      }),
    };
  }

  function page(all: FakeContact[], bookmark: string | undefined): Record<string, unknown> {
    const start = bookmark ? Number(Buffer.from(bookmark, 'base64url').toString()) || 0 : 0;
    const slice = all.slice(start, start + PAGE_SIZE);
    const next = start + PAGE_SIZE < all.length ? Buffer.from(String(start + PAGE_SIZE)).toString('base64url') : undefined;
    return { contacts: slice.map(present), total_contacts: all.length, ...(next ? { bookmark: next } : {}) };
  }

  function listOr404(listId: string): FakeList {
    const list = lists.get(listId);
    if (!list) throw new HttpFailure(404, 'List could not be found.');
    return list;
  }

  function membershipTarget(listId: string, idOrEmail: string): { list: FakeList; contact: FakeContact } {
    const list = listOr404(listId);
    if (idOrEmail.includes('@') && (!EMAIL.test(idOrEmail) || rejected.has(idOrEmail.toLowerCase()))) {
      throw new HttpFailure(400, `Invalid contact_id_or_email "${idOrEmail}".`);
    }
    const contact = findContact(idOrEmail);
    if (!contact) throw new HttpFailure(404, 'Contact could not be found.');
    return { list, contact };
  }

  function createList(title: string): string {
    const listId = `contactlist_${randomUUID().toUpperCase()}`;
    lists.set(listId, { list_id: listId, title, members: new Set() });
    return listId;
  }

  function route(method: string, segments: string[], body: unknown): [number, unknown] {
    const [head, a, b, c] = segments;
    const n = segments.length;
    if (method === 'GET' && head === 'account' && n === 1) {
      return [200, { instance_id: 'fake-instance', name: 'Outflow fake account', contacts: contacts.size }];
    }
    if (method === 'POST' && head === 'contact' && n === 1) {
      const stored = upsert(checkContact((body as { contact?: unknown } | undefined)?.contact));
      return [200, { contact_id: stored.contact_id }];
    }
    if (method === 'POST' && head === 'contacts' && n === 1) {
      const input = (body as { contacts?: unknown } | undefined)?.contacts;
      if (!Array.isArray(input)) throw new HttpFailure(400, 'Expected a contacts array.');
      if (input.length > BULK_MAX) throw new HttpFailure(400, `A maximum of ${BULK_MAX} contacts can be uploaded at once.`);
      // Unconfirmed what Autopilot does with one bad contact in a bulk upload; we assume the conservative case:
      // the whole request is refused, nothing is stored, and the message does not say which contact.
      const checked = input.map((contact) => checkContact(contact, bulkListKey === 'honour'));
      const stored = checked.map(upsert);
      return [200, { contact_ids: stored.map((s) => s.contact_id), email_contact_map: Object.fromEntries(stored.map((s) => [s.Email, s.contact_id])) }];
    }
    if (method === 'GET' && head === 'contacts' && a === 'custom_fields' && n === 2) {
      // Fields defined in the account, plus those Autopilot created when a contact first carried a new key.
      const fields = new Map(definedFields);
      for (const key of new Set([...contacts.values()].flatMap((contact) => Object.keys(contact.custom)))) {
        if (!fields.has(key)) fields.set(key, { name: key.split('--').slice(1).join(' '), fieldType: key.split('--')[0]! });
      }
      return [200, [...fields.values()].map((field) => ({ name: field.name, fieldType: field.fieldType }))];
    }
    if (method === 'GET' && head === 'contacts' && n <= 2) return [200, page([...contacts.values()], a)];
    if (head === 'contact' && a && n === 2) {
      const contact = findContact(a);
      if (!contact) throw new HttpFailure(404, 'Contact could not be found.');
      if (method === 'GET') return [200, present(contact)];
      if (method === 'DELETE') {
        contacts.delete(contact.Email);
        for (const list of lists.values()) list.members.delete(contact.contact_id);
        return [204, undefined];
      }
    }
    if (method === 'POST' && head === 'contact' && a && b === 'unsubscribe' && n === 3) {
      const contact = findContact(a);
      if (!contact) throw new HttpFailure(404, 'Contact could not be found.');
      contact.unsubscribed = true;
      return [200, {}];
    }
    if (method === 'GET' && head === 'lists' && n === 1) {
      return [200, { lists: [...lists.values()].map((list) => ({ list_id: list.list_id, title: list.title })) }];
    }
    if (method === 'POST' && head === 'list' && n === 1) {
      const name = (body as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || name.trim() === '') throw new HttpFailure(400, 'A list name is required.');
      if (duplicateListNames === 'conflict' && [...lists.values()].some((list) => list.title === name)) {
        throw new HttpFailure(409, 'A list with this name already exists.');
      }
      return [200, { list_id: createList(name) }];
    }
    if (head === 'list' && a && b === 'contacts' && method === 'GET' && n <= 4) {
      const list = listOr404(a);
      const members = [...contacts.values()].filter((contact) => list.members.has(contact.contact_id));
      return [200, page(members, c)];
    }
    if (head === 'list' && a && b === 'contact' && c && n === 4) {
      const { list, contact } = membershipTarget(a, c);
      const isMember = list.members.has(contact.contact_id);
      if (method === 'GET') {
        if (!isMember) throw new HttpFailure(404, 'Contact could not be found on this list.');
        return [200, {}];
      }
      if (method === 'POST') {
        list.members.add(contact.contact_id);
        return [200, isMember ? { not_modified: true } : {}];
      }
      if (method === 'DELETE') {
        list.members.delete(contact.contact_id);
        return [200, isMember ? {} : { not_modified: true }];
      }
    }
    throw new HttpFailure(404, 'Resource could not be found.');
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/html' : 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function errorBody(status: number, message: string): { error: string; message: string } {
    return { error: STATUS_CODES[status] ?? 'Error', message };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const recorded: AutopilotRecordedRequest = {
      method,
      path: url.pathname,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
      body: text,
      status: 0,
    };
    requests.push(recorded);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    const answer = (status: number, body: unknown, headers?: Record<string, string>) => {
      recorded.status = status;
      send(res, status, body, headers);
    };

    const failureAt = failures.findIndex((f) => (!f.path || url.pathname.includes(f.path)) && (!f.method || f.method === method));
    if (failureAt >= 0) {
      const [failure] = failures.splice(failureAt, 1) as [Failure];
      const body =
        failure.body ?? errorBody(failure.status, failure.status === 429 ? 'You have exceeded your request rate of 5 r/s.' : 'Injected failure.');
      return answer(failure.status, body, failure.retryAfterS === undefined ? {} : { 'retry-after': String(failure.retryAfterS) });
    }
    if (retiredStatus !== false) return answer(retiredStatus, `<html><body><h1>${STATUS_CODES[retiredStatus]}</h1></body></html>`);

    const key = req.headers.autopilotapikey;
    if (typeof key !== 'string' || key === '') return answer(400, errorBody(400, 'No autopilotapikey header provided.'));
    if (key !== apiKey) return answer(401, errorBody(401, 'Provided autopilotapikey not valid.'));
    if (!takeToken(key)) {
      throttled += 1;
      const headers: Record<string, string> = options.throttleRetryAfterS === undefined ? {} : { 'retry-after': String(options.throttleRetryAfterS) };
      return answer(429, errorBody(429, 'You have exceeded your request rate of 5 r/s.'), headers);
    }

    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments[0] !== 'v1') return answer(404, errorBody(404, 'Resource could not be found.'));
    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        return answer(400, errorBody(400, 'Request body is not valid JSON.'));
      }
    }
    try {
      const [status, payload] = route(method, segments.slice(1), body);
      answer(status, payload);
    } catch (error) {
      if (error instanceof HttpFailure) answer(error.status, errorBody(error.status, error.message));
      else answer(500, errorBody(500, error instanceof Error ? error.message : 'Internal error.'));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, errorBody(500, 'Internal error.'));
    });
  });
  const port = await listenOnLoopback(server, options.port);

  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    requests,
    contacts,
    lists,
    get throttled() {
      return throttled;
    },
    seedList: createList,
    seedCustomField: (name, fieldType) => void defineField(name, fieldType),
    membersOf(listId) {
      const members = lists.get(listId)?.members ?? new Set<string>();
      return [...contacts.values()].filter((contact) => members.has(contact.contact_id)).map((contact) => contact.Email);
    },
    failNext(status, failure = {}) {
      failures.push({ status, ...failure });
    },
    rejectEmails(emails) {
      rejected.clear();
      for (const email of emails) rejected.add(email.toLowerCase());
    },
    retire(status) {
      retiredStatus = status;
    },
    setRateLimit(requestsPerSecond, newBurst) {
      rate = requestsPerSecond;
      burst = newBurst ?? requestsPerSecond ?? 0;
      buckets.clear();
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
