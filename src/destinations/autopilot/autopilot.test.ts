import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, RetryableError } from '../../domain/errors.ts';
import { runContractSuite } from '../kit/contract.case.ts';
import type { ExportRecord } from '../kit/define.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { startAutopilotFake, type AutopilotFake, type AutopilotFakeOptions } from './fake-autopilot.ts';
import autopilot from './index.ts';
import { listMembership } from './list-membership.ts';

runContractSuite({
  destination: autopilot,
  async start() {
    const fake = await startAutopilotFake({ requestsPerSecond: null });
    return {
      fake,
      config: { apiKey: fake.apiKey, baseUrl: fake.url, requestsPerSecond: 100 },
      badCredentials: { apiKey: 'wrong-autopilot-key-1234', baseUrl: fake.url, requestsPerSecond: 100 },
      settings: {},
      close: () => fake.close(),
    };
  },
  recordsIn(request) {
    if (request.method === 'POST' && request.path === '/v1/contacts') return (JSON.parse(request.body) as { contacts: unknown[] }).contacts.length;
    if (request.method === 'POST' && request.path === '/v1/contact') return 1;
    if (request.method === 'DELETE' && /^\/v1\/list\/[^/]+\/contact\//.test(request.path)) return 1;
    return null;
  },
});

function records(count: number, offset = 0): ExportRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `p${offset + i}`,
    fields: { email: `person${offset + i}@example.com`, firstName: `Ada${offset + i}`, lastName: `Lovelace${offset + i}` },
    extra: {},
  }));
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

describe('autopilot destination', () => {
  let fake: AutopilotFake;
  let ctx: TestContext;

  async function setUp(options: AutopilotFakeOptions = { requestsPerSecond: null }, connection: Record<string, unknown> = {}) {
    fake = await startAutopilotFake(options);
    ctx = createTestContext({ connectionName: 'prod-autopilot' });
    const conn = autopilot.connection.schema.parse({ apiKey: fake.apiKey, baseUrl: fake.url, requestsPerSecond: 100, ...connection });
    return { conn, session: await listMembership.open(conn, ctx) };
  }

  const settings = {};
  const sent = (method: string, path: string | RegExp) =>
    fake.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));

  afterEach(async () => {
    await fake?.close();
  });

  describe('connection', () => {
    it('defaults to the documented host, 5 requests per second and a 100,000-profile allowance warned at 80,000', () => {
      const conn = autopilot.connection.schema.parse({ apiKey: 'k' });
      expect(conn).toMatchObject({ baseUrl: 'https://api2.autopilothq.com/v1', requestsPerSecond: 5, maxProfiles: 100_000, warnProfiles: 80_000 });
      expect(listMembership.rate(conn)).toEqual({ requests: 5, perMs: 1000 });
      expect(listMembership.connectionLimits!(conn)).toEqual({ maxProfiles: 100_000, warnProfiles: 80_000 });
    });

    it('never warns above the maximum when only maxProfiles is lowered', () => {
      const conn = autopilot.connection.schema.parse({ apiKey: 'k', maxProfiles: 50_000 });
      expect(listMembership.connectionLimits!(conn)).toEqual({ maxProfiles: 50_000, warnProfiles: 50_000 });
    });

    it('checks the key with GET /v1/account and the autopilotapikey header', async () => {
      const { conn } = await setUp();
      const result = await autopilot.connection.check(conn, ctx);
      expect(result).toEqual({ ok: true });
      const [request] = sent('GET', '/v1/account');
      expect(request?.headers.autopilotapikey).toBe(fake.apiKey);
    });

    it('reports a refused key as auth_failed with what to do, without throwing', async () => {
      const { conn } = await setUp();
      const result = await autopilot.connection.check({ ...conn, apiKey: 'not-the-key-98765' }, ctx);
      expect(result).toMatchObject({ ok: false, code: 'auth_failed' });
      if (!result.ok) {
        expect(result.message).toContain('prod-autopilot');
        expect(result.message).toContain('Settings → Autopilot API');
        expect(result.message).not.toContain('not-the-key-98765');
      }
    });

    it('reports an unreachable host from check() instead of throwing', async () => {
      const { conn } = await setUp();
      await fake.close();
      const result = await autopilot.connection.check(conn, ctx);
      expect(result).toMatchObject({ ok: false, code: 'connection_lost' });
    });
  });

  describe('retired service', () => {
    for (const status of [410, 404] as const) {
      it(`says the account or API appears retired when every route answers ${status}`, async () => {
        const { conn, session } = await setUp();
        fake.retire(status);
        const result = await autopilot.connection.check(conn, ctx);
        expect(result).toMatchObject({ ok: false, code: 'invalid_settings' });
        const message = result.ok ? '' : result.message;
        expect(message).toContain(`HTTP ${status} on GET /v1/account`);
        expect(message).toMatch(/appears retired \(Autopilot Journeys became Ortto/);
        expect(message).toContain('baseUrl');
        expect(message).toContain('prod-autopilot');

        const error = await session.prepare({ segment: 'VIP', settings, members: 1 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toContain('appears retired');
      });
    }

    it('reads a 404 on GET /v1/lists as retired even when the body looks like Autopilot\'s', async () => {
      const { session } = await setUp();
      fake.failNext(404, { path: '/v1/lists', body: { error: 'Not Found', message: 'Not found.' } });
      const error = await session.prepare({ segment: 'VIP', settings, members: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'invalid_settings' });
      expect((error as ConfigError).message).toContain('HTTP 404 on GET /v1/lists');
    });

    it('tells a deleted list apart from a retired service by Autopilot\'s own 404 body', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Doomed', settings, members: 3 });
      fake.lists.delete(target.listId);
      const error = await session.send({ action: 'add', records: records(3), target, segment: 'Doomed', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('list_not_found');
    });
  });

  describe('prepare', () => {
    it('creates the list named after the segment once and finds it again in a later run', async () => {
      const { conn, session } = await setUp();
      const first = await session.prepare({ segment: 'Churn risk', settings, members: 10 });
      const again = await session.prepare({ segment: 'Churn risk', settings, members: 10 });
      const nextRun = await (await listMembership.open(conn, ctx)).prepare({ segment: 'Churn risk', settings, members: 10 });
      expect(again).toEqual(first);
      expect(nextRun).toEqual(first);
      expect(first.listId).toMatch(/^contactlist_/);
      const creates = sent('POST', '/v1/list');
      expect(creates.map((r) => JSON.parse(r.body))).toEqual([{ name: 'Churn risk' }]);
      expect([...fake.lists.values()].map((l) => l.title)).toEqual(['Churn risk']);
    });

    it('reuses the first of several lists with exactly the segment title and ignores near matches', async () => {
      const { session } = await setUp();
      fake.seedList('vip');
      fake.seedList('VIP ');
      const firstVip = fake.seedList('VIP');
      fake.seedList('VIP');
      const target = await session.prepare({ segment: 'VIP', settings, members: 1 });
      expect(target.listId).toBe(firstVip);
      expect(sent('POST', '/v1/list')).toHaveLength(0);
      expect(fake.lists.size).toBe(4);
    });

    it('reads the lists again when Autopilot answers 409 because the list appeared meanwhile', async () => {
      const { session } = await setUp({ requestsPerSecond: null, duplicateListNames: 'conflict' });
      const existing = fake.seedList('Race');
      fake.failNext(200, { method: 'GET', path: '/v1/lists', body: { lists: [] } });
      const target = await session.prepare({ segment: 'Race', settings, members: 1 });
      expect(target.listId).toBe(existing);
      expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /v1/lists 200', 'POST /v1/list 409', 'GET /v1/lists 200']);
      expect(fake.lists.size).toBe(1);
    });
  });

  describe('adding contacts', () => {
    it('sends 250 contacts in three bulk calls of at most 100, each contact put on the list in the same call', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Newsletter', settings, members: 250 });
      const all = records(250);
      for (const batch of chunk(all, listMembership.limits.batchSize)) {
        const outcome = await session.send({ action: 'add', records: batch, target, segment: 'Newsletter', settings });
        expect(outcome).toEqual({ rejected: [] });
      }
      const bulks = sent('POST', '/v1/contacts');
      const bodies = bulks.map((r) => JSON.parse(r.body) as { contacts: Record<string, unknown>[] });
      expect(bodies.map((b) => b.contacts.length)).toEqual([100, 100, 50]);
      expect(bodies.flatMap((b) => b.contacts).every((c) => c._autopilot_list === target.listId)).toBe(true);
      expect(bodies[0]!.contacts[0]).toEqual({ Email: 'person0@example.com', FirstName: 'Ada0', LastName: 'Lovelace0', _autopilot_list: target.listId });
      expect(bulks.every((r) => r.headers.autopilotapikey === fake.apiKey && r.headers['content-type']?.startsWith('application/json'))).toBe(true);
      expect(sent('POST', '/v1/contact')).toHaveLength(0);
      expect(fake.contacts.size).toBe(250);
      expect(fake.membersOf(target.listId).sort()).toEqual(all.map((r) => r.fields.email).sort());
      expect([...fake.contacts.values()].every((c) => /^person_[0-9A-F-]{36}$/.test(c.contact_id))).toBe(true);
    });

    it('sends extra mapped fields as text custom fields keyed string--Field--Name', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Custom', settings, members: 2 });
      const batch: ExportRecord[] = [
        { key: 'a', fields: { email: 'ann@example.com' }, extra: { 'Favourite Colour': 'teal', Score: 42, Empty: null } },
        { key: 'b', fields: { email: 'bob@example.com', firstName: 'Bob' }, extra: {} },
      ];
      await session.send({ action: 'add', records: batch, target, segment: 'Custom', settings });
      const [body] = sent('POST', '/v1/contacts').map((r) => JSON.parse(r.body) as { contacts: Record<string, unknown>[] });
      expect(body!.contacts).toEqual([
        { Email: 'ann@example.com', custom: { 'string--Favourite--Colour': 'teal', 'string--Score': '42' }, _autopilot_list: target.listId },
        { Email: 'bob@example.com', FirstName: 'Bob', _autopilot_list: target.listId },
      ]);
      expect(fake.contacts.get('ann@example.com')?.custom).toEqual({ 'string--Favourite--Colour': 'teal', 'string--Score': '42' });
    });

    it('lands the good contacts of a refused batch and rejects the bad one at its index without its address', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Partial', settings, members: 100 });
      const batch = records(100);
      fake.rejectEmails([batch[37]!.fields.email!]);
      const outcome = await session.send({ action: 'add', records: batch, target, segment: 'Partial', settings });

      expect(outcome.rejected).toHaveLength(1);
      expect(outcome.rejected[0]).toMatchObject({ index: 37, code: 'upstream_rejected' });
      expect(outcome.rejected[0]!.message).toBe('Autopilot refused this contact: Invalid email address "[email]".');
      const members = fake.membersOf(target.listId);
      expect(members).toHaveLength(99);
      expect(members).not.toContain(batch[37]!.fields.email);
      // One refused bulk call, then halving: far fewer calls than one per contact.
      const writes = [...sent('POST', '/v1/contacts'), ...sent('POST', '/v1/contact')];
      expect(writes.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(100)));
      expect(sent('POST', '/v1/contact').map((r) => JSON.parse(r.body))).toEqual([
        { contact: { Email: batch[37]!.fields.email, FirstName: 'Ada37', LastName: 'Lovelace37', _autopilot_list: target.listId } },
      ]);
    });

    it('rejects every bad contact of a batch, in order', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Several', settings, members: 20 });
      const batch = records(20);
      fake.rejectEmails([batch[19]!.fields.email!, batch[0]!.fields.email!, batch[8]!.fields.email!, batch[9]!.fields.email!]);
      const outcome = await session.send({ action: 'add', records: batch, target, segment: 'Several', settings });
      expect(outcome.rejected.map((r) => r.index)).toEqual([0, 8, 9, 19]);
      expect(fake.membersOf(target.listId)).toHaveLength(16);
    });

    it('treats a 400 about a missing autopilotapikey header as an auth failure, not as bad records', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Keyless', settings, members: 5 });
      fake.failNext(400, { path: '/v1/contacts', body: { error: 'Bad Request', message: 'No autopilotapikey header provided.' } });
      const error = await session.send({ action: 'add', records: records(5), target, segment: 'Keyless', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe('auth_failed');
      expect(sent('POST', '/v1/contacts')).toHaveLength(1);
      expect(sent('POST', '/v1/contact')).toHaveLength(0);
    });

    it('turns a 429 without Retry-After into rate_limited with a one-second wait', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Busy', settings, members: 5 });
      fake.failNext(429, { path: '/v1/contacts' });
      const error = await session.send({ action: 'add', records: records(5), target, segment: 'Busy', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 1000 });
    });

    it('turns a 5xx into a retryable upstream_unavailable', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Down', settings, members: 5 });
      fake.failNext(503, { path: '/v1/contacts' });
      const error = await session.send({ action: 'add', records: records(5), target, segment: 'Down', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('upstream_unavailable');
      expect(fake.contacts.size).toBe(0);
    });
  });

  describe('removing contacts', () => {
    it('deletes each contact from the list, one call each, treating unknown contacts as already gone', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Mirror', settings, members: 5 });
      await session.send({ action: 'add', records: records(5), target, segment: 'Mirror', settings });
      const leaving = [...records(2, 0), ...records(1, 900)];
      const outcome = await session.send({ action: 'remove', records: leaving, target, segment: 'Mirror', settings });

      expect(outcome).toEqual({ rejected: [] });
      const deletes = sent('DELETE', /^\/v1\/list\//);
      expect(deletes.map((r) => decodeURIComponent(r.path))).toEqual([
        `/v1/list/${target.listId}/contact/person0@example.com`,
        `/v1/list/${target.listId}/contact/person1@example.com`,
        `/v1/list/${target.listId}/contact/person900@example.com`,
      ]);
      expect(deletes.map((r) => r.status)).toEqual([200, 200, 404]);
      expect(fake.membersOf(target.listId).sort()).toEqual(['person2@example.com', 'person3@example.com', 'person4@example.com']);
      expect(fake.contacts.has('person0@example.com')).toBe(true);
    });

    it('rejects a contact Autopilot refuses to remove at its index and removes the rest', async () => {
      const { session } = await setUp();
      const target = await session.prepare({ segment: 'Mirror', settings, members: 3 });
      const batch = records(3);
      await session.send({ action: 'add', records: batch, target, segment: 'Mirror', settings });
      fake.rejectEmails([batch[1]!.fields.email!]);
      const outcome = await session.send({ action: 'remove', records: batch, target, segment: 'Mirror', settings });
      expect(outcome.rejected).toHaveLength(1);
      expect(outcome.rejected[0]).toMatchObject({ index: 1, code: 'upstream_rejected' });
      expect(outcome.rejected[0]!.message).not.toContain('@');
      expect(fake.membersOf(target.listId)).toEqual(['person1@example.com']);
    });
  });

  describe('pacing', () => {
    it('keeps a burst of requests within the fake\'s 5 r/s token bucket at the documented rate', async () => {
      const { session } = await setUp({ requestsPerSecond: 5 }, { requestsPerSecond: 5 });
      const started = performance.now();
      const target = await session.prepare({ segment: 'Paced', settings, members: 10 });
      await session.send({ action: 'add', records: records(10), target, segment: 'Paced', settings });
      const outcome = await session.send({ action: 'remove', records: records(10), target, segment: 'Paced', settings });
      const elapsedMs = performance.now() - started;

      expect(outcome).toEqual({ rejected: [] });
      expect(fake.requests).toHaveLength(13);
      expect(fake.throttled).toBe(0);
      expect(fake.requests.every((r) => r.status === 200)).toBe(true);
      expect(elapsedMs).toBeGreaterThanOrEqual((12 / 5) * 1000 - 50);
    });

    it('would be throttled by that bucket without pacing (the check above can fail)', async () => {
      const { session } = await setUp({ requestsPerSecond: 5 }, { requestsPerSecond: 100 });
      const target = await session.prepare({ segment: 'Unpaced', settings, members: 10 });
      await session.send({ action: 'add', records: records(10), target, segment: 'Unpaced', settings });
      const error = await session.send({ action: 'remove', records: records(10), target, segment: 'Unpaced', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 1000 });
      expect(fake.throttled).toBe(1);
    });
  });

  describe('secrets', () => {
    it('keeps the API key out of every error message and log line', async () => {
      const { conn, session } = await setUp();
      const messages: string[] = [];
      const badCheck = await autopilot.connection.check({ ...conn, apiKey: 'wrong-key-5550123' }, ctx);
      if (!badCheck.ok) messages.push(badCheck.message);
      const badSession = await listMembership.open({ ...conn, apiKey: 'wrong-key-5550123' }, ctx);
      messages.push(String(await badSession.prepare({ segment: 'X', settings, members: 1 }).catch((e: Error) => e.message)));
      const target = await session.prepare({ segment: 'Y', settings, members: 2 });
      fake.failNext(429, { retryAfterS: 0 });
      messages.push(String(await session.send({ action: 'add', records: records(2), target, segment: 'Y', settings }).catch((e: Error) => e.message)));
      fake.retire(410);
      const retired = await autopilot.connection.check(conn, ctx);
      if (!retired.ok) messages.push(retired.message);

      expect(messages).toHaveLength(4);
      expect(messages[1]).toContain('HTTP 401');
      expect(ctx.logLines.length).toBeGreaterThan(0);
      const everything = [...messages, ...ctx.logLines].join('\n');
      expect(everything).not.toContain(fake.apiKey);
      expect(everything).not.toContain('wrong-key-5550123');
    });
  });
});
