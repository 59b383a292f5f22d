import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, OutflowError, RetryableError, UpstreamError, ValidationError } from '../../domain/errors.ts';
import type { RunRejection, SourceResult, SyncMode } from '../../domain/model.ts';
import { runRecordExport } from '../../engine/records.ts';
import { openProfileStore, type ProfileStore } from '../../store/profile/profile-store.ts';
import { sleep } from '../../lib/rate-limit.ts';
import { runContractSuite } from '../kit/contract.case.ts';
import type { Batch, ExportRecord } from '../kit/define.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { connectionSchema, DEFAULT_REQUESTS_PER_SECOND } from './connection.ts';
import { DOCUMENTED_RATE_LIMITS, startIterableFake, type FakeRoute, type IterableFake, type IterableFakeOptions } from './fake-iterable.ts';
import iterable from './index.ts';
import { listMembership, MAX_REQUEST_BYTES, settingsSchema, type IterableSettings, type ListTarget } from './list-membership.ts';

const US_KEY = 'us-key-7c1d93f0a2b64e58';
const EU_KEY = 'eu-key-3e8b52c7d9a14f60';
const WRONG_KEY = 'wrong-key-0f9e8d7c6b5a';

const FAST: Partial<Record<FakeRoute, { requests: number; perMs: number }>> = Object.fromEntries(
  Object.keys(DOCUMENTED_RATE_LIMITS).map((route) => [route, { requests: 100_000, perMs: 1000 }]),
);

runContractSuite({
  destination: iterable,
  async start() {
    const fake = await startIterableFake({ projects: [{ apiKey: US_KEY }], rateLimits: FAST });
    return {
      fake,
      config: { apiKey: US_KEY, baseUrl: fake.url, requestsPerSecond: 1000 },
      badCredentials: { apiKey: WRONG_KEY, baseUrl: fake.url, requestsPerSecond: 1000 },
      settings: {},
      close: () => fake.close(),
    };
  },
  recordsIn: (request) =>
    request.path === '/api/lists/subscribe' || request.path === '/api/lists/unsubscribe'
      ? (JSON.parse(request.body) as { subscribers: unknown[] }).subscribers.length
      : null,
});

const fakes: IterableFake[] = [];
const contexts: TestContext[] = [];
/** Every error message the tests saw, checked for secrets at the end. */
const messages: string[] = [];

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function startFake(options: IterableFakeOptions = {}): Promise<IterableFake> {
  const fake = await startIterableFake({ projects: [{ apiKey: US_KEY }], rateLimits: FAST, ...options });
  fakes.push(fake);
  return fake;
}

function context(overrides: Parameters<typeof createTestContext>[0] = {}): TestContext {
  const ctx = createTestContext({ connectionName: 'prod-iterable', ...overrides });
  contexts.push(ctx);
  return ctx;
}

function connection(fake: IterableFake, extra: Record<string, unknown> = {}) {
  return connectionSchema.parse({ apiKey: US_KEY, baseUrl: fake.url, requestsPerSecond: 1000, ...extra });
}

function member(email: string, extra: Record<string, unknown> = {}, userId?: string): ExportRecord {
  return { key: email, fields: userId === undefined ? { email } : { email, userId }, extra };
}

function batch(
  target: ListTarget,
  records: ExportRecord[],
  action: 'add' | 'remove' = 'add',
  settings: IterableSettings = settingsSchema.parse({}),
): Batch<ListTarget, IterableSettings> {
  return { action, records, target, segment: target.listName, settings };
}

async function caught(promise: Promise<unknown>): Promise<OutflowError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OutflowError);
  messages.push((error as Error).message);
  return error as OutflowError;
}

const bodyOf = (request: { body: string }) => JSON.parse(request.body) as Record<string, unknown>;

// Whole runs through the engine (batching, retries, mirror state) against the fake, on a real profile store.
let storeDir: string;
let store: ProfileStore;

beforeAll(async () => {
  storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-iterable-'));
  store = await openProfileStore(path.join(storeDir, 'profiles.duckdb'));
  const lines = ['profile_id,email,user_id,plan'];
  // Profile 5 has no userId.
  for (let i = 1; i <= 6; i++) lines.push(`${i},person${i}@example.com,${i === 5 ? '' : `u-${i}`},${i % 2 === 0 ? 'pro' : 'free'}`);
  fs.writeFileSync(path.join(storeDir, 'customers.csv'), lines.join('\n') + '\n');
  await store.loadEntity('Customer', path.join(storeDir, 'customers.csv'), { key: 'profile_id' });
});

afterAll(async () => {
  await store?.close();
  fs.rmSync(storeDir, { recursive: true, force: true });
});

interface RunOutcome {
  results?: SourceResult[];
  error?: OutflowError;
  rejections: RunRejection[];
  retries: string[];
}

/** One run of an export of `segment` (members: profiles matching `where`), as `outflow export run` does it. */
async function runSegment(
  conn: ReturnType<typeof connection>,
  options: { segment: string; where: string; mapping?: Record<string, string>; syncMode?: SyncMode; ctx?: TestContext },
): Promise<RunOutcome> {
  const segmentId = `seg_${options.segment.replace(/\W+/g, '_')}`;
  const members = await store.refreshSegment(segmentId, 'Customer', { sql: options.where, params: [] });
  const outcome: RunOutcome = { rejections: [], retries: [] };
  try {
    outcome.results = await runRecordExport({
      kind: listMembership,
      connection: conn,
      ctx: options.ctx ?? context(),
      profiles: store,
      segments: [{ name: options.segment, source: { kind: 'segment', segmentId, segment: options.segment, entity: 'Customer' }, members, stateId: `exp_${segmentId}` }],
      mapping: options.mapping ?? { email: 'email' },
      settings: settingsSchema.parse({}),
      syncMode: options.syncMode ?? 'full',
      checkpoint: null,
      retry: { maxAttempts: 4, baseMs: 1, maxMs: 5, maxRetryAfterMs: 1000 },
      onBatch: async (_progress, rejections) => {
        outcome.rejections.push(...rejections);
      },
      onRetry: (message) => outcome.retries.push(message),
    });
  } catch (error) {
    if (!(error instanceof OutflowError)) throw error;
    messages.push(error.message);
    outcome.error = error;
  }
  return outcome;
}

describe('iterable connection', () => {
  it('derives the base URL from the region and has no profile limit unless the admin sets one', () => {
    const conn = connectionSchema.parse({ apiKey: US_KEY });
    expect(conn.region).toBe('us');
    expect(listMembership.rate(conn)).toEqual({ requests: DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 });
    expect(listMembership.connectionLimits?.(conn)).toEqual({});
    const limited = connectionSchema.parse({ apiKey: US_KEY, maxProfiles: '50000', requestsPerSecond: '2' });
    expect(listMembership.connectionLimits?.(limited)).toEqual({ maxProfiles: 50_000 });
    expect(listMembership.rate(limited)).toEqual({ requests: 2, perMs: 1000 });
    expect(connectionSchema.safeParse({ apiKey: US_KEY, region: 'apac' }).success).toBe(false);
  });

  it('sends EU connections to the EU data center when no baseUrl is set', async () => {
    const fake = await startFake({ projects: [{ apiKey: EU_KEY, region: 'eu' }] });
    const seen: string[] = [];
    // Stands in for DNS: the real EU host name resolves to the fake's EU port.
    const routed: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      seen.push(url.href);
      const target = url.origin === 'https://api.eu.iterable.com' ? fake.euUrl : url.origin === 'https://api.iterable.com' ? fake.url : url.origin;
      return globalThis.fetch(target + url.pathname + url.search, init);
    };
    const ctx = context({ fetch: routed });
    const conn = connectionSchema.parse({ apiKey: EU_KEY, region: 'eu', requestsPerSecond: 1000 });

    expect(await iterable.connection.check(conn, ctx)).toMatchObject({ ok: true, details: { region: 'eu', baseUrl: 'https://api.eu.iterable.com' } });
    const session = await listMembership.open(conn, ctx);
    const target = await session.prepare({ segment: 'EU buyers', settings: settingsSchema.parse({}), members: 1 });
    await session.send(batch(target, [member('eu@example.com')]));

    expect(seen).toEqual([
      'https://api.eu.iterable.com/api/lists',
      'https://api.eu.iterable.com/api/lists',
      'https://api.eu.iterable.com/api/lists',
      'https://api.eu.iterable.com/api/lists/subscribe',
    ]);
    expect(fake.requests.map((r) => r.region)).toEqual(['eu', 'eu', 'eu', 'eu']);
    expect(fake.requests.every((r) => r.headers['api-key'] === EU_KEY)).toBe(true);
    expect(fake.listMembers(target.listId, EU_KEY)).toEqual(['eu@example.com']);
  });

  it('reports a key from the other data center as refused, with advice to create a server-side key', async () => {
    const fake = await startFake({ projects: [{ apiKey: EU_KEY, region: 'eu' }] });
    const result = await iterable.connection.check(connection(fake, { apiKey: EU_KEY }), context());
    expect(result).toMatchObject({ ok: false, code: 'auth_failed' });
    if (!result.ok) {
      messages.push(result.message);
      expect(result.message).toContain('`prod-iterable`');
      expect(result.message).toContain('server-side API key');
      expect(result.message).toContain('US data center');
    }
    expect(fake.requests[0]).toMatchObject({ region: 'us', status: 401 });
  });

  it('gives a precise reason from check() for throttling, outages, foreign servers and unreachable hosts', async () => {
    const fake = await startFake();
    const conn = connection(fake);
    const ctx = context();

    fake.failNext(429, { retryAfterS: 3 });
    const throttled = await iterable.connection.check(conn, ctx);
    expect(throttled).toMatchObject({ ok: false, code: 'rate_limited' });

    fake.failNext(503);
    expect(await iterable.connection.check(conn, ctx)).toMatchObject({ ok: false, code: 'upstream_unavailable' });

    fake.failNext(200, { body: '<html>not an API</html>' });
    const foreign = await iterable.connection.check(conn, ctx);
    expect(foreign).toMatchObject({ ok: false, code: 'upstream_rejected' });
    if (!foreign.ok) expect(foreign.message).toContain('baseUrl');

    fake.failNext(404, { body: { msg: 'no such route', code: 'NotFound' } });
    expect(await iterable.connection.check(conn, ctx)).toMatchObject({ ok: false, code: 'upstream_rejected' });

    const closed = await startIterableFake();
    const gone = closed.url;
    await closed.close();
    const unreachable = await iterable.connection.check(connection(fake, { baseUrl: gone }), ctx);
    expect(unreachable).toMatchObject({ ok: false, code: 'connection_lost' });

    expect(await iterable.connection.check(conn, ctx)).toEqual({
      ok: true,
      details: { region: 'us', baseUrl: fake.url, lists: 0 },
    });
    for (const result of [throttled, foreign, unreachable]) if (!result.ok) messages.push(result.message);
  });
});

describe('iterable lists', () => {
  it('creates a static list named exactly after the segment and reuses it in the session and in later runs', async () => {
    const fake = await startFake();
    fake.addList('vip');
    fake.addList('VIP customers');
    const conn = connection(fake);
    const settings = settingsSchema.parse({});

    const first = await listMembership.open(conn, context());
    const target = await first.prepare({ segment: 'VIP', settings, members: 10 });
    expect(await first.prepare({ segment: 'VIP', settings, members: 10 })).toEqual(target);
    const second = await listMembership.open(conn, context());
    expect(await second.prepare({ segment: 'VIP', settings, members: 10 })).toEqual(target);

    const created = fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/lists');
    expect(created.map(bodyOf)).toEqual([{ name: 'VIP', description: expect.stringContaining('Outflow') }]);
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/lists')).toHaveLength(2);
    expect(fake.lists().map((l) => [l.name, l.listType])).toEqual([
      ['vip', 'Standard'],
      ['VIP customers', 'Standard'],
      ['VIP', 'Standard'],
    ]);
    expect(target).toEqual({ listId: fake.lists()[2]!.id, listName: 'VIP' });
  });

  it('uses an existing static list with the segment name instead of creating one', async () => {
    const fake = await startFake();
    const listId = fake.addList('Churn risk');
    const session = await listMembership.open(connection(fake), context());
    expect(await session.prepare({ segment: 'Churn risk', settings: settingsSchema.parse({}), members: 1 })).toEqual({ listId, listName: 'Churn risk' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/lists']);
  });

  it('refuses to fill a dynamic list that carries the segment name', async () => {
    const fake = await startFake();
    fake.addList('Engaged', { listType: 'Dynamic' });
    const session = await listMembership.open(connection(fake), context());
    const error = await caught(session.prepare({ segment: 'Engaged', settings: settingsSchema.parse({}), members: 1 }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('invalid_settings');
    expect(error.message).toContain('Dynamic list named "Engaged"');
    expect(fake.lists()).toHaveLength(1);
  });

  it('turns a list deleted during the run into list_not_found', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Short-lived', settings: settingsSchema.parse({}), members: 1 });
    const deleted = await fetch(`${fake.url}/api/lists/${target.listId}`, { method: 'DELETE', headers: { 'Api-Key': US_KEY } });
    expect(await deleted.json()).toMatchObject({ code: 'Success' });

    const error = await caught(session.send(batch(target, [member('a@example.com')])));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('list_not_found');
    expect(error.message).toContain(`list ${target.listId}`);
  });

  it('fails a run fast with list_not_found when a deleted list is answered inside a 5xx, and the next run creates the list again', async () => {
    const fake = await startFake();
    fake.setInvalidListStatus(500);
    const conn = connection(fake);
    let deletedListId: number | undefined;
    // Deletes the list in Iterable between the run's list lookup and its first subscribe.
    const deletingFetch: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (url.pathname === '/api/lists/subscribe' && deletedListId === undefined) {
        deletedListId = (JSON.parse(String(init?.body)) as { listId: number }).listId;
        const deleted = await globalThis.fetch(`${fake.url}/api/lists/${deletedListId}`, { method: 'DELETE', headers: { 'Api-Key': US_KEY } });
        expect(deleted.status).toBe(200);
      }
      return globalThis.fetch(input, init);
    };

    const failed = await runSegment(conn, { segment: 'Deleted mid-run', where: 'true', ctx: context({ fetch: deletingFetch }) });

    expect(failed.error).toBeInstanceOf(ConfigError);
    expect(failed.error?.code).toBe('list_not_found');
    expect(failed.error?.message).toContain(`list ${deletedListId}`);
    expect(failed.retries).toEqual([]);
    const subscribes = fake.requests.filter((r) => r.path === '/api/lists/subscribe');
    expect(subscribes.map((r) => r.status)).toEqual([500]);
    expect(fake.lists()).toEqual([]);

    const next = await runSegment(conn, { segment: 'Deleted mid-run', where: 'true' });

    expect(next.error).toBeUndefined();
    expect(next.results).toMatchObject([{ name: 'Deleted mid-run', sent: 6, rejected: 0 }]);
    const [recreated] = fake.lists();
    expect(recreated).toMatchObject({ name: 'Deleted mid-run', listType: 'Standard' });
    expect(recreated!.id).not.toBe(deletedListId);
    expect(recreated!.members).toEqual(['person1@example.com', 'person2@example.com', 'person3@example.com', 'person4@example.com', 'person5@example.com', 'person6@example.com']);
  });
});

describe('iterable send', () => {
  it('writes every extra mapped target into the users’ dataFields, and a userId there in an e-mail-based project', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Pro plan', settings: settingsSchema.parse({}), members: 2 });

    const outcome = await session.send(
      batch(target, [
        member('ann@example.com', { firstName: 'Ann', plan: 'pro', seats: 12, trial: false, phone: null }, 'u-ann'),
        member('bob@example.com', { firstName: 'Bob', plan: 'pro', seats: 3 }),
      ]),
    );

    expect(outcome).toEqual({ rejected: [] });
    const [subscribe] = fake.requests.filter((r) => r.path === '/api/lists/subscribe');
    expect(subscribe!.headers['api-key']).toBe(US_KEY);
    expect(bodyOf(subscribe!)).toEqual({
      listId: target.listId,
      subscribers: [
        { email: 'ann@example.com', dataFields: { firstName: 'Ann', plan: 'pro', seats: 12, trial: false, userId: 'u-ann' } },
        { email: 'bob@example.com', dataFields: { firstName: 'Bob', plan: 'pro', seats: 3 } },
      ],
      updateExistingUsersOnly: false,
    });
    expect(fake.user('ann@example.com')).toEqual({
      email: 'ann@example.com',
      userId: 'u-ann',
      dataFields: { firstName: 'Ann', plan: 'pro', seats: 12, trial: false },
      unsubscribedChannelIds: [],
    });
    expect(fake.listMembers(target.listId)).toEqual(['ann@example.com', 'bob@example.com']);
    expect(fake.fieldTypes()).toEqual({ firstName: 'string', plan: 'string', seats: 'number', trial: 'boolean' });
  });

  it('maps invalid, forgotten, conflicting and mistyped users back to their positions, duplicates included', async () => {
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'hybrid' }] });
    fake.forget({ email: 'gone@example.com' });
    fake.setFieldType('seats', 'number');
    fake.addUser({ email: 'owner@example.com', userId: 'u-owner' });
    fake.addUser({ email: 'thief@example.com', userId: 'u-thief' });
    const session = await listMembership.open(connection(fake, { projectType: 'hybrid' }), context());
    const target = await session.prepare({ segment: 'Mixed', settings: settingsSchema.parse({}), members: 7 });

    const outcome = await session.send(
      batch(target, [
        member('ok1@example.com', { seats: 1 }),
        member('not-an-email'),
        member('gone@example.com'),
        member('thief@example.com', {}, 'u-owner'),
        member('typo@example.com', { seats: 'twelve' }),
        member('gone@example.com'),
        member('ok2@example.com'),
      ]),
    );

    expect(outcome.rejected.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: 'invalid_email' },
      { index: 2, code: 'user_forgotten' },
      { index: 3, code: 'identity_conflict' },
      { index: 4, code: 'invalid_data_field' },
      { index: 5, code: 'user_forgotten' },
    ]);
    for (const rejection of outcome.rejected) {
      expect(rejection.message).not.toMatch(/@|gone|thief|typo|u-owner|twelve/);
    }
    expect(fake.listMembers(target.listId)).toEqual(['ok1@example.com', 'ok2@example.com']);
    expect(fake.user('typo@example.com')).toBeUndefined();
    expect(fake.userByUserId('u-owner')?.email).toBe('owner@example.com');
  });

  it('reports unknown users as not found when updateExistingUsersOnly is on', async () => {
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'hybrid' }] });
    fake.addUser({ email: 'known@example.com' });
    const session = await listMembership.open(connection(fake), context());
    const settings = settingsSchema.parse({ updateExistingUsersOnly: true });
    const target = await session.prepare({ segment: 'Existing only', settings, members: 2 });

    const outcome = await session.send(batch(target, [member('new@example.com'), member('known@example.com')], 'add', settings));

    expect(outcome.rejected).toEqual([{ index: 0, code: 'user_not_found', message: expect.stringContaining('updateExistingUsersOnly') }]);
    expect(bodyOf(fake.requests.at(-1)!)).toMatchObject({ updateExistingUsersOnly: true });
    expect(fake.listMembers(target.listId)).toEqual(['known@example.com']);
  });

  it('removes members in mirror mode through unsubscribe without unsubscribing them from the channel', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Mirror', settings: settingsSchema.parse({}), members: 3 });
    await session.send(batch(target, ['a@example.com', 'b@example.com', 'c@example.com'].map((e) => member(e, { plan: 'pro' }))));

    const outcome = await session.send(
      batch(target, [member('a@example.com', { plan: 'pro' }), member('c@example.com')], 'remove'),
    );

    expect(outcome).toEqual({ rejected: [] });
    const removal = fake.requests.at(-1)!;
    expect(`${removal.method} ${removal.path}`).toBe('POST /api/lists/unsubscribe');
    expect(bodyOf(removal)).toEqual({
      listId: target.listId,
      subscribers: [{ email: 'a@example.com' }, { email: 'c@example.com' }],
      channelUnsubscribe: false,
    });
    expect(fake.listMembers(target.listId)).toEqual(['b@example.com']);
    for (const email of ['a@example.com', 'c@example.com']) {
      expect(fake.user(email)).toMatchObject({ dataFields: { plan: 'pro' }, unsubscribedChannelIds: [] });
    }
  });

  it('reports every removal Iterable did not apply as a rejection, users it does not know included', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Mirror refusals', settings: settingsSchema.parse({}), members: 2 });
    await session.send(batch(target, [member('a@example.com'), member('b@example.com')]));
    fake.rejectEmails(['b@example.com'], 'invalidEmails');

    const outcome = await session.send(batch(target, [member('unknown@example.com'), member('b@example.com'), member('a@example.com')], 'remove'));

    expect(outcome.rejected).toEqual([
      { index: 0, code: 'user_not_found', message: expect.stringContaining('was not removed from the list') },
      { index: 1, code: 'invalid_email', message: expect.any(String) },
    ]);
    expect(outcome.rejected[0]!.message).toContain('projectType');
    expect(fake.listMembers(target.listId)).toEqual(['b@example.com']);
  });

  it('rejects every removal of a request when Iterable counts failures it does not name', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Unnamed failures', settings: settingsSchema.parse({}), members: 2 });
    fake.failNext(200, { path: 'unsubscribe', body: { successCount: 1, failCount: 1, failedUpdates: {} } });

    const outcome = await session.send(batch(target, [member('a@example.com'), member('b@example.com')], 'remove'));

    expect(outcome.rejected.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 0, code: 'removal_unconfirmed' },
      { index: 1, code: 'removal_unconfirmed' },
    ]);
  });

  it('splits a batch whose body would pass 3.5 MB into several requests under the cap and merges their rejections', async () => {
    const fake = await startFake({ maxBodyBytes: 4_000_000 });
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Big profiles', settings: settingsSchema.parse({}), members: 1000 });
    const bio = 'x'.repeat(5000);
    const records = Array.from({ length: 1000 }, (_, i) => member(`big${i}@example.com`, { bio }));
    fake.rejectEmails(['big3@example.com', 'big999@example.com'], 'invalidDataEmails');

    const outcome = await session.send(batch(target, records));

    const subscribes = fake.requests.filter((r) => r.path === '/api/lists/subscribe');
    expect(subscribes.length).toBe(2);
    for (const request of subscribes) {
      expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
      expect(request.status).toBe(200);
    }
    expect(subscribes.flatMap((r) => (bodyOf(r).subscribers as Array<{ email: string }>).map((s) => s.email))).toEqual(records.map((r) => r.fields.email));
    expect(outcome.rejected.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 3, code: 'invalid_data_field' },
      { index: 999, code: 'invalid_data_field' },
    ]);
    expect(fake.listMembers(target.listId)).toHaveLength(998);
  });

  it('rejects a single record too large for any request and sends the rest', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'One huge profile', settings: settingsSchema.parse({}), members: 3 });

    const outcome = await session.send(
      batch(target, [member('a@example.com'), member('huge@example.com', { notes: 'y'.repeat(MAX_REQUEST_BYTES) }), member('c@example.com')]),
    );

    expect(outcome.rejected.map(({ index, code }) => ({ index, code }))).toEqual([{ index: 1, code: 'record_too_large' }]);
    expect(fake.listMembers(target.listId)).toEqual(['a@example.com', 'c@example.com']);
  });

  it('explains a body the server refuses as too large', async () => {
    const fake = await startFake({ maxBodyBytes: 500 });
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Small cap', settings: settingsSchema.parse({}), members: 20 });

    const error = await caught(session.send(batch(target, Array.from({ length: 20 }, (_, i) => member(`m${i}@example.com`)))));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.message).toMatch(/refused a \d+-byte request body .* as too large \(HTTP 400 BatchTooLarge\)/);
    expect(fake.requests.at(-1)).toMatchObject({ path: '/api/lists/subscribe', status: 400 });
  });

  it('honours Retry-After when the subscribe limit is exceeded and succeeds after waiting', async () => {
    const fake = await startFake({ rateLimits: { ...FAST, 'POST /api/lists/subscribe': { requests: 1, perMs: 500 } } });
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Throttled', settings: settingsSchema.parse({}), members: 2 });
    await session.send(batch(target, [member('first@example.com')]));

    const error = await caught(session.send(batch(target, [member('second@example.com')])));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.code).toBe('rate_limited');
    expect((error as RetryableError).retryAfterMs).toBe(1000);
    expect(fake.requests.at(-1)).toMatchObject({ status: 429 });

    await sleep((error as RetryableError).retryAfterMs!);
    expect(await session.send(batch(target, [member('second@example.com')]))).toEqual({ rejected: [] });
    expect(fake.listMembers(target.listId)).toEqual(['first@example.com', 'second@example.com']);
  });

  it('paces requests at the connection’s requestsPerSecond so the fake’s limit is never hit', async () => {
    const limit = { requests: 5, perMs: 100 };
    const fake = await startFake({ rateLimits: { ...FAST, 'POST /api/lists/subscribe': limit } });
    const settings = settingsSchema.parse({});

    const paced = await listMembership.open(connection(fake, { requestsPerSecond: 50 }), context());
    const target = await paced.prepare({ segment: 'Paced', settings, members: 15 });
    for (let i = 0; i < 15; i++) await paced.send(batch(target, [member(`p${i}@example.com`)]));
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);

    // The same traffic unpaced trips the limit, so the assertion above can fail. Sent at once: one after
    // another, a loaded machine can be slow enough to stay under 5 per 100 ms by itself.
    const unpaced = await listMembership.open(connection(fake, { requestsPerSecond: 100_000 }), context());
    const error = await caught(Promise.all(Array.from({ length: 15 }, (_, i) => unpaced.send(batch(target, [member(`u${i}@example.com`)])))));
    expect(error).toBeInstanceOf(RetryableError);
  });

  it('classifies by HTTP status even when an error body says Success', async () => {
    const fake = await startFake();
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Outage', settings: settingsSchema.parse({}), members: 1 });

    fake.failNext(503, { body: { msg: 'Request timed out', code: 'Success', params: null }, path: 'subscribe' });
    const outage = await caught(session.send(batch(target, [member('a@example.com')])));
    expect(outage).toBeInstanceOf(RetryableError);
    expect(outage.code).toBe('upstream_unavailable');

    fake.failNext(500, { path: 'subscribe' });
    expect(await caught(session.send(batch(target, [member('a@example.com')])))).toBeInstanceOf(RetryableError);

    fake.failNext(400, { body: { msg: 'Bad value for invalid@example.com', code: 'Success' }, path: 'subscribe' });
    const rejected = await caught(session.send(batch(target, [member('a@example.com')])));
    expect(rejected).toBeInstanceOf(UpstreamError);
    expect(rejected.message).not.toContain('@example.com');

    fake.failNext(401, { path: 'subscribe' });
    const refused = await caught(session.send(batch(target, [member('a@example.com')])));
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused.message).toContain('server-side API key');
  });
});

describe('iterable project types', () => {
  const everyone = ['person1@example.com', 'person2@example.com', 'person3@example.com', 'person4@example.com', 'person5@example.com', 'person6@example.com'];
  const subscribersOf = (fake: IterableFake, route: string) =>
    fake.requests.filter((r) => r.path === route).flatMap((r) => bodyOf(r).subscribers as Array<Record<string, unknown>>);

  it('defaults to an e-mail-based project and checks at save time that a userId-based one maps userId', async () => {
    const fake = await startFake();
    expect(connectionSchema.parse({ apiKey: US_KEY }).projectType).toBe('email');
    expect(connectionSchema.safeParse({ apiKey: US_KEY, projectType: 'phone' }).success).toBe(false);
    const settings = settingsSchema.parse({});
    const validate = async (projectType: string, mapping: Record<string, string>) => {
      const conn = connection(fake, { projectType });
      const ctx = context();
      const session = await listMembership.open(conn, ctx);
      return listMembership.validate!({ connection: conn, settings, mapping, session, ctx }).then(
        () => 'ok',
        (error: unknown) => error,
      );
    };

    const refused = await validate('userId', { email: 'email', plan: 'plan' });
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([{ path: 'mapping.userId', message: expect.stringContaining('"userId"') }]);
    expect((refused as ValidationError).message).toContain('"userId": "<column>"');
    expect(await validate('userId', { email: 'email', userId: 'user_id' })).toBe('ok');
    expect(await validate('email', { email: 'email' })).toBe('ok');
    expect(await validate('hybrid', { email: 'email' })).toBe('ok');
    expect(fake.requests).toEqual([]);
  });

  it('e-mail-based: subscribes and unsubscribes by e-mail only, the userId written as a profile field', async () => {
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'email' }] });
    fake.addUser({ email: 'person1@example.com', userId: 'old-1' });
    const conn = connection(fake, { projectType: 'email' });
    const mapping = { email: 'email', userId: 'user_id', plan: 'plan' };

    const first = await runSegment(conn, { segment: 'Email project', where: 'true', mapping, syncMode: 'mirror' });
    expect(first.error).toBeUndefined();
    const added = subscribersOf(fake, '/api/lists/subscribe');
    expect(added).toHaveLength(6);
    expect(added[0]).toEqual({ email: 'person1@example.com', dataFields: { plan: 'free', userId: 'u-1' } });
    expect(added.every((s) => s.email !== undefined && s.userId === undefined)).toBe(true);
    expect(fake.user('person1@example.com')?.userId).toBe('u-1');
    const [list] = fake.lists();
    expect(list!.members).toEqual(everyone);

    const second = await runSegment(conn, { segment: 'Email project', where: 'profile_id <= 2', mapping, syncMode: 'mirror' });
    expect(second.error).toBeUndefined();
    expect(second.results).toMatchObject([{ removed: 4, rejected: 0 }]);
    expect(subscribersOf(fake, '/api/lists/unsubscribe')).toEqual(everyone.slice(2).map((email) => ({ email })));
    expect(fake.listMembers(list!.id)).toEqual(everyone.slice(0, 2));
  });

  it('userId-based: subscribes and unsubscribes by userId, the e-mail written as a profile field', async () => {
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'userId' }] });
    const conn = connection(fake, { projectType: 'userId' });
    const mapping = { email: 'email', userId: 'user_id', plan: 'plan' };

    const first = await runSegment(conn, { segment: 'UserId project', where: 'true', mapping, syncMode: 'mirror' });
    expect(first.error).toBeUndefined();
    // Profile 5 has no userId: the project cannot identify it, so it is rejected and never sent.
    expect(first.rejections).toEqual([{ source: 'UserId project', key: '5', code: 'missing_user_id', reason: expect.stringContaining('userId') }]);
    const added = subscribersOf(fake, '/api/lists/subscribe');
    expect(added[0]).toEqual({ userId: 'u-1', dataFields: { plan: 'free', email: 'person1@example.com' } });
    expect(added.map((s) => s.userId)).toEqual(['u-1', 'u-2', 'u-3', 'u-4', 'u-6']);
    expect(added.every((s) => s.email === undefined)).toBe(true);
    expect(fake.userByUserId('u-3')).toMatchObject({ email: 'person3@example.com', userId: 'u-3', dataFields: { plan: 'free' } });
    const [list] = fake.lists();
    expect(list!.members).toHaveLength(5);

    const second = await runSegment(conn, { segment: 'UserId project', where: 'profile_id <= 2', mapping, syncMode: 'mirror' });
    expect(second.error).toBeUndefined();
    expect(second.results).toMatchObject([{ removed: 3, rejected: 0 }]);
    expect(subscribersOf(fake, '/api/lists/unsubscribe')).toEqual([{ userId: 'u-3' }, { userId: 'u-4' }, { userId: 'u-6' }]);
    expect(fake.listMembers(list!.id)).toEqual(['person1@example.com', 'person2@example.com']);
  });

  it('userId-based: a removal Iterable cannot apply, or cannot be asked for, is a rejection with a reason', async () => {
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'userId' }] });
    const session = await listMembership.open(connection(fake, { projectType: 'userId' }), context());
    const target = await session.prepare({ segment: 'UserId removals', settings: settingsSchema.parse({}), members: 2 });
    await session.send(batch(target, [member('a@example.com', {}, 'u-a')]));

    const outcome = await session.send(batch(target, [member('b@example.com', {}, 'u-gone'), member('a@example.com'), member('a@example.com', {}, 'u-a')], 'remove'));

    expect(outcome.rejected).toEqual([
      { index: 0, code: 'user_not_found', message: expect.stringContaining('no user with this userId') },
      { index: 1, code: 'missing_user_id', message: expect.stringContaining('Remove the user from the list in Iterable') },
    ]);
    expect(subscribersOf(fake, '/api/lists/unsubscribe')).toEqual([{ userId: 'u-gone' }, { userId: 'u-a' }]);
    expect(fake.listMembers(target.listId)).toEqual([]);
  });

  it('an e-mail-only unsubscribe in a userId-based project is not found, and is reported instead of passing as removed', async () => {
    // A connection whose projectType does not match its userId-based project sends what Outflow sent before
    // projectType existed; the fake answers it as Iterable does.
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'userId' }] });
    const right = await listMembership.open(connection(fake, { projectType: 'userId' }), context());
    const target = await right.prepare({ segment: 'Mismatched', settings: settingsSchema.parse({}), members: 1 });
    await right.send(batch(target, [member('a@example.com', {}, 'u-a')]));
    expect(fake.listMembers(target.listId)).toEqual(['a@example.com']);

    const wrong = await listMembership.open(connection(fake, { projectType: 'email' }), context());
    const outcome = await wrong.send(batch(target, [member('a@example.com', {}, 'u-a')], 'remove'));

    expect(outcome.rejected).toEqual([{ index: 0, code: 'user_not_found', message: expect.stringContaining('projectType') }]);
    expect(bodyOf(fake.requests.at(-1)!)).toEqual({ listId: target.listId, subscribers: [{ email: 'a@example.com' }], channelUnsubscribe: false });
    expect(fake.listMembers(target.listId)).toEqual(['a@example.com']);
  });

  it('hybrid: identifies by userId when a member has one and by e-mail otherwise, when adding and when removing', async () => {
    const fake = await startFake({ projects: [{ apiKey: US_KEY, identity: 'hybrid' }] });
    const conn = connection(fake, { projectType: 'hybrid' });
    const mapping = { email: 'email', userId: 'user_id' };

    const first = await runSegment(conn, { segment: 'Hybrid project', where: 'true', mapping, syncMode: 'mirror' });
    expect(first.error).toBeUndefined();
    expect(first.results).toMatchObject([{ sent: 6, rejected: 0 }]);
    const added = subscribersOf(fake, '/api/lists/subscribe');
    expect(added).toEqual([
      { userId: 'u-1', dataFields: { email: 'person1@example.com' } },
      { userId: 'u-2', dataFields: { email: 'person2@example.com' } },
      { userId: 'u-3', dataFields: { email: 'person3@example.com' } },
      { userId: 'u-4', dataFields: { email: 'person4@example.com' } },
      { email: 'person5@example.com' },
      { userId: 'u-6', dataFields: { email: 'person6@example.com' } },
    ]);
    expect(fake.user('person6@example.com')?.userId).toBe('u-6');
    const [list] = fake.lists();
    expect(list!.members).toEqual(everyone);

    const second = await runSegment(conn, { segment: 'Hybrid project', where: 'profile_id <= 2', mapping, syncMode: 'mirror' });
    expect(second.error).toBeUndefined();
    expect(second.results).toMatchObject([{ removed: 4, rejected: 0 }]);
    expect(subscribersOf(fake, '/api/lists/unsubscribe')).toEqual([{ userId: 'u-3' }, { userId: 'u-4' }, { email: 'person5@example.com' }, { userId: 'u-6' }]);
    expect(fake.listMembers(list!.id)).toEqual(everyone.slice(0, 2));
  });
});

describe('iterable fake', () => {
  it('serves getUsers and size as text under their 5 per minute limit', async () => {
    const fake = await startFake({ rateLimits: { ...FAST, 'GET /api/lists/{listId}/size': DOCUMENTED_RATE_LIMITS['GET /api/lists/{listId}/size'] } });
    const session = await listMembership.open(connection(fake), context());
    const target = await session.prepare({ segment: 'Counted', settings: settingsSchema.parse({}), members: 2 });
    await session.send(batch(target, [member('a@example.com', {}, 'u-a'), member('b@example.com')]));
    const get = (path: string) => fetch(`${fake.url}${path}`, { headers: { 'Api-Key': US_KEY } });

    expect(await (await get(`/api/lists/getUsers?listId=${target.listId}`)).text()).toBe('a@example.com\nb@example.com');
    expect(await (await get(`/api/lists/getUsers?listId=${target.listId}&preferUserId=true`)).text()).toBe('u-a\nb@example.com');
    const sizes = [];
    for (let i = 0; i < 6; i++) sizes.push(await get(`/api/lists/${target.listId}/size`));
    expect(await sizes[0]!.text()).toBe('2');
    expect(sizes.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(sizes[5]!.headers.get('retry-after'))).toBeGreaterThan(1);
    expect(await sizes[5]!.json()).toEqual({ msg: 'Exceeded rate limit.', code: 'RateLimitExceeded', params: null });
  });
});

describe('iterable secrets', () => {
  // Declared last, so it runs after every test above has filled `messages` and the contexts' logs.
  it('never puts an API key in an error message or a log line', () => {
    const everything = [...messages, ...contexts.flatMap((ctx) => ctx.logLines)].join('\n');
    expect(messages.length).toBeGreaterThan(10);
    expect(contexts.flatMap((ctx) => ctx.logLines).length).toBeGreaterThan(20);
    for (const key of [US_KEY, EU_KEY, WRONG_KEY]) expect(everything).not.toContain(key);
  });
});
