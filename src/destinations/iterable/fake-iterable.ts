import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Rate } from '../../lib/rate-limit.ts';
import type { ContractFake, RecordedRequest } from '../kit/contract.case.ts';
import { listenOnLoopback } from '../kit/listen.ts';

// A small Iterable imitation for tests and the benchmark: the /api/lists routes, per-project state, Iterable's
// error envelope, per-route token buckets and fault injection. Behaviour follows section 7 of
// /work/shared/destinations/iterable.md; where Iterable's behaviour is inferred there, so is the fake's.

export type Region = 'us' | 'eu';

/**
 * How a project identifies users (Iterable: Project Types and Unique Identifiers). `email`: by e-mail (unique);
 * a userId is a plain, non-unique attribute, and a request naming both is matched by e-mail and overwrites the
 * userId. `userId`: by userId (unique); the e-mail is a plain attribute and identifies nobody. `hybrid`: by
 * either, both unique. `updateExistingUsersOnly` is ignored by email-based projects.
 */
export type ProjectIdentity = 'email' | 'userId' | 'hybrid';

export type FieldType = 'string' | 'number' | 'boolean' | 'object' | 'array';

export type FakeRoute =
  | 'GET /api/lists'
  | 'POST /api/lists'
  | 'DELETE /api/lists/{listId}'
  | 'POST /api/lists/subscribe'
  | 'POST /api/lists/unsubscribe'
  | 'GET /api/lists/getUsers'
  | 'GET /api/lists/{listId}/size'
  | 'GET /api/lists/previewUsers';

/**
 * Documented per-project limits; Iterable states none for subscribe, unsubscribe, create and delete, so the
 * fake uses the client's assumed 5/s for the first two and a generous 10/s for the rest.
 */
export const DOCUMENTED_RATE_LIMITS: Record<FakeRoute, Rate> = {
  'GET /api/lists': { requests: 100, perMs: 1000 },
  'POST /api/lists': { requests: 10, perMs: 1000 },
  'DELETE /api/lists/{listId}': { requests: 10, perMs: 1000 },
  'POST /api/lists/subscribe': { requests: 5, perMs: 1000 },
  'POST /api/lists/unsubscribe': { requests: 5, perMs: 1000 },
  'GET /api/lists/getUsers': { requests: 5, perMs: 60_000 },
  'GET /api/lists/{listId}/size': { requests: 5, perMs: 60_000 },
  'GET /api/lists/previewUsers': { requests: 5, perMs: 60_000 },
};

export interface FakeProjectOptions {
  apiKey: string;
  region?: Region;
  identity?: ProjectIdentity;
}

export interface IterableFakeOptions {
  projects?: FakeProjectOptions[];
  /** Overrides of {@link DOCUMENTED_RATE_LIMITS}, per route. */
  rateLimits?: Partial<Record<FakeRoute, Rate>>;
  /** Request bodies above this answer 400 BatchTooLarge. Default 4,000,000 bytes. */
  maxBodyBytes?: number;
  /** Delay before every answer. */
  latencyMs?: number;
  /** Loopback port of the US data center's API; default: a free one (the EU's always is). */
  port?: number;
}

export interface FakeRequest extends RecordedRequest {
  region: Region;
  query: Record<string, string>;
  status?: number;
  /** When it arrived (Date.now()), so tests can count requests per second. */
  at: number;
}

export interface FakeUser {
  email?: string;
  userId?: string;
  dataFields: Record<string, unknown>;
  /** Channels the user unsubscribed from through `channelUnsubscribe: true`. */
  unsubscribedChannelIds: number[];
}

export interface FakeListView {
  id: number;
  name: string;
  listType: string;
  createdAt: number;
  channelId: number;
  /** Members' e-mails (or userIds for users without one), in the order they joined. */
  members: string[];
}

interface List {
  id: number;
  name: string;
  description?: string;
  listType: string;
  createdAt: number;
  channelId: number;
  members: Set<User>;
}

interface User {
  email?: string;
  userId?: string;
  dataFields: Record<string, unknown>;
  unsubscribedChannelIds: Set<number>;
}

interface Project {
  apiKey: string;
  region: Region;
  identity: ProjectIdentity;
  lists: Map<number, List>;
  /** Users by identifier; a set, because the non-identifying attribute of a project type need not be unique. */
  byEmail: Map<string, Set<User>>;
  byUserId: Map<string, Set<User>>;
  fieldTypes: Map<string, FieldType>;
  forgottenEmails: Set<string>;
  forgottenUserIds: Set<string>;
  listsInUse: Set<number>;
}

interface Failure {
  status: number;
  retryAfterS?: number;
  path?: string;
  body?: unknown;
}

/** Array names of Iterable's UserBulkUpdateListResponse that `rejectEmails` can put an address in. */
export type RejectionArray = 'invalidEmails' | 'forgottenEmails' | 'conflictEmails' | 'invalidDataEmails' | 'notFoundEmails';

export interface IterableFake extends ContractFake {
  /** The US data center's base URL (use as the connection's baseUrl). */
  readonly url: string;
  /** The EU data center's base URL. */
  readonly euUrl: string;
  readonly requests: FakeRequest[];
  close(): Promise<void>;
  failNext(status: number, options?: { retryAfterS?: number; path?: string; body?: unknown }): void;
  /**
   * The subscribe/unsubscribe answer names these addresses in `array` (default invalidEmails) and skips them
   * (subscribers identified by e-mail only).
   */
  rejectEmails(emails: string[], array?: RejectionArray): void;
  setRateLimit(route: FakeRoute, rate: Rate): void;
  setLatency(ms: number): void;
  setMaxBodyBytes(bytes: number): void;
  /** Seeds a list (e.g. a Dynamic one); returns its id. */
  addList(name: string, options?: { listType?: string; apiKey?: string }): number;
  /** Seeds a user. */
  addUser(user: { email?: string; userId?: string; dataFields?: Record<string, unknown> }, apiKey?: string): void;
  forget(identifier: { email?: string; userId?: string }, apiKey?: string): void;
  setFieldType(name: string, type: FieldType, apiKey?: string): void;
  /** Makes DELETE of this list answer 409. */
  markListInUse(listId: number, apiKey?: string): void;
  /**
   * The status of answers naming a list that does not exist (default 400). Iterable can answer a deleted
   * list with `error.lists.invalidListId` inside a 5xx as well.
   */
  setInvalidListStatus(status: number): void;
  lists(apiKey?: string): FakeListView[];
  listMembers(listId: number, apiKey?: string): string[];
  user(email: string, apiKey?: string): FakeUser | undefined;
  userByUserId(userId: string, apiKey?: string): FakeUser | undefined;
  fieldTypes(apiKey?: string): Record<string, FieldType>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const DEFAULT_CHANNEL_ID = 1;

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(readonly rate: Rate) {
    this.tokens = rate.requests;
    this.last = performance.now();
  }

  /** 0 when a token was taken, otherwise the milliseconds until one is available. */
  take(): number {
    const now = performance.now();
    const perMsRefill = this.rate.requests / this.rate.perMs;
    this.tokens = Math.min(this.rate.requests, this.tokens + (now - this.last) * perMsRefill);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / perMsRefill;
  }
}

class HttpFailure {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

const envelope = (msg: string, code: string, params: unknown = null) => ({ msg, code, params });

/**
 * Starts the fake on two loopback ports, one per data center. A project's key works only on its own.
 *
 * @example
 * const fake = await startIterableFake({ projects: [{ apiKey: 'k-us' }, { apiKey: 'k-eu', region: 'eu' }] })
 * const conn = { apiKey: 'k-us', baseUrl: fake.url }
 */
export async function startIterableFake(options: IterableFakeOptions = {}): Promise<IterableFake> {
  const projects = (options.projects ?? [{ apiKey: 'fake-iterable-key' }]).map(
    (p): Project => ({
      apiKey: p.apiKey,
      region: p.region ?? 'us',
      identity: p.identity ?? 'email',
      lists: new Map(),
      byEmail: new Map(),
      byUserId: new Map(),
      fieldTypes: new Map(),
      forgottenEmails: new Set(),
      forgottenUserIds: new Set(),
      listsInUse: new Set(),
    }),
  );
  const rateLimits: Record<FakeRoute, Rate> = { ...DOCUMENTED_RATE_LIMITS, ...options.rateLimits };
  const buckets = new Map<string, TokenBucket>();
  const failures: Failure[] = [];
  const rejected = new Map<string, RejectionArray>();
  const requests: FakeRequest[] = [];
  let maxBodyBytes = options.maxBodyBytes ?? 4_000_000;
  let latencyMs = options.latencyMs ?? 0;
  let nextListId = 100_001;
  let invalidListStatus = 400;

  const projectOf = (apiKey?: string): Project => {
    const project = apiKey === undefined ? projects[0] : projects.find((p) => p.apiKey === apiKey);
    if (!project) throw new Error(`fake-iterable: no project with that key`);
    return project;
  };

  const createList = (project: Project, name: string, listType = 'Standard', description?: string): List => {
    const list: List = { id: nextListId++, name, description, listType, createdAt: Date.now(), channelId: DEFAULT_CHANNEL_ID, members: new Set() };
    project.lists.set(list.id, list);
    return list;
  };

  const indexOf = (project: Project, field: Identifier) => (field === 'email' ? project.byEmail : project.byUserId);
  const lookup = (project: Project, field: Identifier, value: string): User | undefined =>
    indexOf(project, field).get(value)?.values().next().value;
  const isUnique = (project: Project, field: Identifier) => project.identity === 'hybrid' || project.identity === field;
  /** Whether `field` = `value` may be set on `user`: in a project where the field is unique, no one else may hold it. */
  const canSet = (project: Project, user: User | undefined, field: Identifier, value: string) => {
    const holder = lookup(project, field, value);
    return !holder || holder === user || !isUnique(project, field);
  };
  const setIdentifier = (project: Project, user: User, field: Identifier, value: string): void => {
    const index = indexOf(project, field);
    const old = user[field];
    if (old !== undefined) {
      index.get(old)?.delete(user);
      if (index.get(old)?.size === 0) index.delete(old);
    }
    user[field] = value;
    const holders = index.get(value) ?? new Set<User>();
    holders.add(user);
    index.set(value, holders);
  };
  const newUser = (): User => ({ dataFields: {}, unsubscribedChannelIds: new Set<number>() });

  const takeToken = (project: Project, route: FakeRoute): void => {
    const key = `${project.apiKey}\u0000${route}`;
    let bucket = buckets.get(key);
    if (!bucket || bucket.rate !== rateLimits[route]) {
      bucket = new TokenBucket(rateLimits[route]);
      buckets.set(key, bucket);
    }
    const waitMs = bucket.take();
    if (waitMs > 0) {
      throw new HttpFailure(429, envelope('Exceeded rate limit.', 'RateLimitExceeded'), {
        'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
      });
    }
  };

  const listOf = (project: Project, rawId: unknown): List => {
    const list = project.lists.get(Number(rawId));
    if (!list) {
      throw new HttpFailure(invalidListStatus, envelope(`error.lists.invalidListId: ${String(rawId)}`, invalidListStatus >= 500 ? 'GenericError' : 'BadParams'));
    }
    return list;
  };

  async function handle(region: Region, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
      body: raw.toString('utf8'),
      region,
      at: Date.now(),
    };
    requests.push(recorded);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      body = route(region, recorded, raw.length);
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      ({ status, body, headers } = error);
    }
    recorded.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      ...headers,
    });
    res.end(text);
  }

  function route(region: Region, request: FakeRequest, bytes: number): unknown {
    const failureAt = failures.findIndex((f) => f.path === undefined || request.path.includes(f.path));
    if (failureAt >= 0) {
      const [failure] = failures.splice(failureAt, 1);
      throw injected(failure!);
    }

    const apiKey = request.headers['api-key'];
    const project = projects.find((p) => p.apiKey === apiKey && p.region === region);
    if (!project) throw new HttpFailure(401, envelope('Invalid API key', 'BadApiKey'));

    const { method, path } = request;
    const sizeMatch = /^\/api\/lists\/(\d+)\/size$/.exec(path);
    const deleteMatch = /^\/api\/lists\/(\d+)$/.exec(path);
    const json = () => {
      if (bytes > maxBodyBytes) throw new HttpFailure(400, envelope(`Request body of ${bytes} bytes exceeds ${maxBodyBytes}`, 'BatchTooLarge'));
      try {
        return JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        throw new HttpFailure(400, envelope('Could not parse the JSON body', 'BadJsonBody'));
      }
    };

    if (method === 'GET' && path === '/api/lists') {
      takeToken(project, 'GET /api/lists');
      return {
        lists: [...project.lists.values()].map((l) => ({
          id: l.id,
          name: l.name,
          ...(l.description === undefined ? {} : { description: l.description }),
          createdAt: l.createdAt,
          listType: l.listType,
        })),
      };
    }
    if (method === 'POST' && path === '/api/lists') {
      takeToken(project, 'POST /api/lists');
      const body = json();
      if (typeof body.name !== 'string' || body.name === '') throw new HttpFailure(400, envelope('name is required', 'BadParams'));
      const list = createList(project, body.name, 'Standard', typeof body.description === 'string' ? body.description : undefined);
      return { listId: list.id };
    }
    if (method === 'POST' && path === '/api/lists/subscribe') {
      takeToken(project, 'POST /api/lists/subscribe');
      return subscribe(project, json());
    }
    if (method === 'POST' && path === '/api/lists/unsubscribe') {
      takeToken(project, 'POST /api/lists/unsubscribe');
      return unsubscribe(project, json());
    }
    if (method === 'GET' && path === '/api/lists/getUsers') {
      takeToken(project, 'GET /api/lists/getUsers');
      const list = listOf(project, request.query.listId);
      return memberLines(list, request.query.preferUserId === 'true').join('\n');
    }
    if (method === 'GET' && path === '/api/lists/previewUsers') {
      takeToken(project, 'GET /api/lists/previewUsers');
      const list = listOf(project, request.query.listId);
      const size = Math.min(5000, Number(request.query.size ?? 5000));
      return memberLines(list, false).slice(0, size).join('\n');
    }
    if (method === 'GET' && sizeMatch) {
      takeToken(project, 'GET /api/lists/{listId}/size');
      return String(listOf(project, sizeMatch[1]).members.size);
    }
    if (method === 'DELETE' && deleteMatch) {
      takeToken(project, 'DELETE /api/lists/{listId}');
      const list = listOf(project, deleteMatch[1]);
      if (project.listsInUse.has(list.id)) throw new HttpFailure(409, envelope('List is in use by a campaign', 'GenericError'));
      project.lists.delete(list.id);
      return envelope('Success', 'Success');
    }
    throw new HttpFailure(404, envelope(`No route ${method} ${path}`, 'NotFound'));
  }

  /**
   * Finds the user a subscriber names, the way the project type identifies users; `fail` names the
   * failedUpdates array when the identifiers point at two users or the project cannot identify by them.
   */
  function identify(
    project: Project,
    email: string | undefined,
    userId: string | undefined,
    preferUserId: boolean,
  ): { user: User | undefined; fail?: undefined } | { fail: string } {
    const by = byOf(project, email, userId);
    if (project.identity === 'email') {
      if (email !== undefined) return { user: lookup(project, 'email', email) };
      const user = lookup(project, 'userId', userId!);
      // Iterable answers an unknown userId with an error unless preferUserId asks it to create the user.
      return user || preferUserId ? { user } : { fail: `notFound${by}` };
    }
    if (project.identity === 'userId') {
      // The e-mail is a plain attribute here: an e-mail alone identifies nobody.
      if (userId === undefined) return { fail: 'notFoundEmails' };
      return { user: lookup(project, 'userId', userId) };
    }
    const byEmail = email !== undefined ? lookup(project, 'email', email) : undefined;
    const byUserId = userId !== undefined ? lookup(project, 'userId', userId) : undefined;
    if (byEmail && byUserId && byEmail !== byUserId) return { fail: `conflict${by}` };
    const user = byEmail ?? byUserId;
    if (user && email !== undefined && user.email !== undefined && user.email !== email) return { fail: `conflict${by}` };
    if (user && userId !== undefined && user.userId !== undefined && user.userId !== userId) return { fail: `conflict${by}` };
    return { user };
  }

  function subscribe(project: Project, body: Record<string, unknown>) {
    const list = listOf(project, body.listId);
    if (!Array.isArray(body.subscribers)) throw new HttpFailure(400, envelope('subscribers is required', 'BadParams'));
    if (list.listType !== 'Standard') throw new HttpFailure(400, envelope(`Cannot subscribe to a ${list.listType} list`, 'BadParams'));
    const skipUnknown = body.updateExistingUsersOnly === true && project.identity !== 'email';
    const result = new BulkResult();
    for (const subscriber of body.subscribers as Array<Record<string, unknown>>) {
      const email = typeof subscriber.email === 'string' ? subscriber.email : undefined;
      const userId = typeof subscriber.userId === 'string' ? subscriber.userId : undefined;
      const by = byOf(project, email, userId);
      const id = (by === 'Emails' ? email : userId) ?? '';
      if (email === undefined && userId === undefined) {
        result.fail('invalidEmails', '', true);
        continue;
      }
      if (email !== undefined && !EMAIL.test(email)) {
        result.fail('invalidEmails', email, true);
        continue;
      }
      if (userId !== undefined && userId.trim() === '') {
        result.fail('invalidUserIds', userId, true);
        continue;
      }
      const forced = email !== undefined && by === 'Emails' ? rejected.get(email) : undefined;
      if (forced) {
        result.fail(forced, id, forced === 'invalidEmails');
        continue;
      }
      if ((email !== undefined && project.forgottenEmails.has(email)) || (userId !== undefined && project.forgottenUserIds.has(userId))) {
        result.fail(`forgotten${by}`, id);
        continue;
      }
      const identified = identify(project, email, userId, subscriber.preferUserId === true);
      if (identified.fail !== undefined) {
        result.fail(identified.fail, id);
        continue;
      }
      const existing = identified.user;
      if (!existing && skipUnknown) {
        result.fail(`notFound${by}`, id);
        continue;
      }
      const given = isObject(subscriber.dataFields) ? subscriber.dataFields : {};
      // email and userId inside dataFields set the profile's identifier fields (Iterable documents
      // dataFields.userId for e-mail-based projects); everything else is a data field.
      const { email: fieldEmail, userId: fieldUserId, ...dataFields } = given;
      const attributes: Array<[Identifier, string]> = [];
      if (project.identity === 'email' && email !== undefined && userId !== undefined) attributes.push(['userId', userId]);
      if (project.identity === 'userId' && email !== undefined) attributes.push(['email', email]);
      if (project.identity === 'hybrid' && email !== undefined) attributes.push(['email', email]);
      if (project.identity === 'hybrid' && userId !== undefined) attributes.push(['userId', userId]);
      if (typeof fieldEmail === 'string') attributes.push(['email', fieldEmail]);
      if (typeof fieldUserId === 'string') attributes.push(['userId', fieldUserId]);
      if (attributes.some(([field, value]) => field === 'email' && !EMAIL.test(value))) {
        result.fail(`invalidData${by}`, id);
        continue;
      }
      if (attributes.some(([field, value]) => !canSet(project, existing, field, value))) {
        result.fail(`conflict${by}`, id);
        continue;
      }
      if (forgottenAttribute(project, attributes)) {
        result.fail(`forgotten${by}`, id);
        continue;
      }
      // Types fixed by earlier subscribers of the same request count too.
      const mismatch = Object.entries(dataFields).some(([name, value]) => {
        const known = project.fieldTypes.get(name);
        const type = typeOf(value);
        return known !== undefined && type !== undefined && known !== type;
      });
      if (mismatch) {
        result.fail(`invalidData${by}`, id);
        continue;
      }
      const user = existing ?? newUser();
      if (!existing) {
        if (project.identity === 'email' && email === undefined) setIdentifier(project, user, 'email', `${randomUUID()}@placeholder.email`);
        else if (project.identity === 'email' || (project.identity === 'hybrid' && email !== undefined)) setIdentifier(project, user, 'email', email!);
        if (project.identity !== 'email' && userId !== undefined) setIdentifier(project, user, 'userId', userId);
        if (project.identity === 'email' && email === undefined) setIdentifier(project, user, 'userId', userId!);
      }
      for (const [field, value] of attributes) setIdentifier(project, user, field, value);
      for (const [name, value] of Object.entries(dataFields)) {
        const type = typeOf(value);
        if (type !== undefined && !project.fieldTypes.has(name)) {
          project.fieldTypes.set(name, type);
          result.createdFields.push(name);
        }
        const current = user.dataFields[name];
        user.dataFields[name] = subscriber.mergeNestedObjects === true && isObject(current) && isObject(value) ? { ...current, ...value } : value;
      }
      list.members.add(user);
      result.successCount += 1;
    }
    return result.toJSON();
  }

  function unsubscribe(project: Project, body: Record<string, unknown>) {
    const list = listOf(project, body.listId);
    if (!Array.isArray(body.subscribers)) throw new HttpFailure(400, envelope('subscribers is required', 'BadParams'));
    const result = new BulkResult();
    for (const subscriber of body.subscribers as Array<Record<string, unknown>>) {
      const email = typeof subscriber.email === 'string' ? subscriber.email : undefined;
      const userId = typeof subscriber.userId === 'string' ? subscriber.userId : undefined;
      const by = byOf(project, email, userId);
      const id = (by === 'Emails' ? email : userId) ?? '';
      if (email === undefined && userId === undefined) {
        result.fail('invalidEmails', '', true);
        continue;
      }
      if (email !== undefined && !EMAIL.test(email)) {
        result.fail('invalidEmails', email, true);
        continue;
      }
      const forced = email !== undefined && by === 'Emails' ? rejected.get(email) : undefined;
      if (forced) {
        result.fail(forced, id, forced === 'invalidEmails');
        continue;
      }
      const identified = identify(project, email, userId, false);
      if (identified.fail !== undefined) {
        result.fail(identified.fail, id);
        continue;
      }
      // A user Iterable cannot find stays wherever it is: "not found", and nothing is removed.
      const { user } = identified;
      if (!user) {
        result.fail(`notFound${by}`, id);
        continue;
      }
      list.members.delete(user);
      if (body.channelUnsubscribe === true) user.unsubscribedChannelIds.add(list.channelId);
      result.successCount += 1;
    }
    return result.toJSON();
  }

  /** Setting an identifier field to a forgotten value re-creates a forgotten user. */
  function forgottenAttribute(project: Project, attributes: Array<[Identifier, string]>): boolean {
    return attributes.some(([field, value]) => (field === 'email' ? project.forgottenEmails : project.forgottenUserIds).has(value));
  }

  const usServer = await listen('us', options.port);
  const euServer = await listen('eu');
  const servers = [usServer, euServer];

  async function listen(region: Region, port = 0): Promise<Server> {
    const server = createServer((req, res) => {
      handle(region, req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(envelope(`fake-iterable crashed: ${String(error)}`, 'GenericError')));
      });
    });
    await listenOnLoopback(server, port);
    return server;
  }

  const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: urlOf(usServer),
    euUrl: urlOf(euServer),
    requests,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
    failNext(status, failure = {}) {
      failures.push({ status, ...failure });
    },
    rejectEmails(emails, array = 'invalidEmails') {
      rejected.clear();
      for (const email of emails) rejected.set(email, array);
    },
    setRateLimit(route, rate) {
      rateLimits[route] = rate;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setMaxBodyBytes(bytes) {
      maxBodyBytes = bytes;
    },
    addList(name, { listType, apiKey } = {}) {
      return createList(projectOf(apiKey), name, listType ?? 'Standard').id;
    },
    addUser({ email, userId, dataFields = {} }, apiKey) {
      const project = projectOf(apiKey);
      const existing = (email !== undefined ? lookup(project, 'email', email) : undefined) ?? (userId !== undefined ? lookup(project, 'userId', userId) : undefined);
      const user = existing ?? newUser();
      if (email !== undefined) setIdentifier(project, user, 'email', email);
      if (userId !== undefined) setIdentifier(project, user, 'userId', userId);
      Object.assign(user.dataFields, dataFields);
      for (const [name, value] of Object.entries(dataFields)) {
        const type = typeOf(value);
        if (type !== undefined && !project.fieldTypes.has(name)) project.fieldTypes.set(name, type);
      }
    },
    forget({ email, userId }, apiKey) {
      const project = projectOf(apiKey);
      if (email !== undefined) project.forgottenEmails.add(email);
      if (userId !== undefined) project.forgottenUserIds.add(userId);
    },
    setFieldType(name, type, apiKey) {
      projectOf(apiKey).fieldTypes.set(name, type);
    },
    markListInUse(listId, apiKey) {
      projectOf(apiKey).listsInUse.add(listId);
    },
    setInvalidListStatus(status) {
      invalidListStatus = status;
    },
    lists(apiKey) {
      return [...projectOf(apiKey).lists.values()].map((l) => ({
        id: l.id,
        name: l.name,
        listType: l.listType,
        createdAt: l.createdAt,
        channelId: l.channelId,
        members: memberLines(l, false),
      }));
    },
    listMembers(listId, apiKey) {
      const list = projectOf(apiKey).lists.get(listId);
      return list ? memberLines(list, false) : [];
    },
    user(email, apiKey) {
      return view(lookup(projectOf(apiKey), 'email', email));
    },
    userByUserId(userId, apiKey) {
      return view(lookup(projectOf(apiKey), 'userId', userId));
    },
    fieldTypes(apiKey) {
      return Object.fromEntries(projectOf(apiKey).fieldTypes);
    },
  };
}

type Identifier = 'email' | 'userId';

/** The array family (…Emails or …UserIds) that names a subscriber: the identifier the project matched it by. */
function byOf(project: { identity: ProjectIdentity }, email: string | undefined, userId: string | undefined): 'Emails' | 'UserIds' {
  if (project.identity === 'userId') return userId !== undefined ? 'UserIds' : 'Emails';
  return email !== undefined ? 'Emails' : 'UserIds';
}

function view(user: User | undefined): FakeUser | undefined {
  if (!user) return undefined;
  return {
    email: user.email,
    userId: user.userId,
    dataFields: structuredClone(user.dataFields),
    unsubscribedChannelIds: [...user.unsubscribedChannelIds],
  };
}

class BulkResult {
  successCount = 0;
  failCount = 0;
  invalidEmails: string[] = [];
  invalidUserIds: string[] = [];
  createdFields: string[] = [];
  failedUpdates: Record<string, string[]> = {
    invalidEmails: [],
    invalidUserIds: [],
    notFoundEmails: [],
    notFoundUserIds: [],
    conflictEmails: [],
    conflictUserIds: [],
    forgottenEmails: [],
    forgottenUserIds: [],
    invalidDataEmails: [],
    invalidDataUserIds: [],
  };

  /** Malformed identifiers are named both at the top level and under failedUpdates, as in Iterable's example. */
  fail(array: string, identifier: string, alsoTopLevel = false): void {
    this.failCount += 1;
    (this.failedUpdates[array] ??= []).push(identifier);
    if (alsoTopLevel && array === 'invalidEmails') this.invalidEmails.push(identifier);
    if (alsoTopLevel && array === 'invalidUserIds') this.invalidUserIds.push(identifier);
  }

  toJSON() {
    return {
      successCount: this.successCount,
      failCount: this.failCount,
      invalidEmails: this.invalidEmails,
      invalidUserIds: this.invalidUserIds,
      createdFields: this.createdFields,
      filteredOutFields: [],
      failedUpdates: this.failedUpdates,
    };
  }
}

function injected(failure: Failure): HttpFailure {
  const headers: Record<string, string> = failure.retryAfterS === undefined ? {} : { 'retry-after': String(failure.retryAfterS) };
  if (failure.body !== undefined) return new HttpFailure(failure.status, failure.body, headers);
  const body =
    failure.status === 429
      ? envelope('Exceeded rate limit.', 'RateLimitExceeded')
      : failure.status === 401
        ? envelope('Invalid API key', 'BadApiKey')
        : failure.status === 503
          ? envelope('Service temporarily unavailable, retry later', 'GenericError')
          : failure.status >= 500
            ? envelope('Internal server error', 'DatabaseError')
            : envelope('Bad request', 'BadParams');
  return new HttpFailure(failure.status, body, headers);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Iterable fixes a field's type on first use; null matches any type. */
function typeOf(value: unknown): FieldType | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'object') return type;
  return undefined;
}

function memberLines(list: List, preferUserId: boolean): string[] {
  return [...list.members].map((u) => (preferUserId ? (u.userId ?? u.email) : (u.email ?? u.userId)) ?? '');
}
