import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, RetryableError } from '../../domain/errors.ts';
import { runContractSuite } from '../kit/contract.case.ts';
import type { ExportRecord } from '../kit/define.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { startAutopilotFake, type AutopilotFake, type AutopilotFakeOptions } from './fake-autopilot.ts';
import type { AutopilotContact } from './client.ts';
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
    it('fails with list_not_found when the list itself is gone, instead of counting removals as done', async () => {
      const { conn, session } = await setUp();
      const target = await session.prepare({ segment: 'Mirror', settings, members: 3 });
      await session.send({ action: 'add', records: records(3), target, segment: 'Mirror', settings });
      fake.lists.delete(target.listId);
      const error = await session.send({ action: 'remove', records: records(3), target, segment: 'Mirror', settings }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'list_not_found' });
      expect((error as ConfigError).message).toContain('run the export again to recreate it');
      expect(fake.requests.slice(-2).map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 404', 'GET 200']);
      // The next run finds no list with the segment's title and creates it again.
      const recreated = await (await listMembership.open(conn, ctx)).prepare({ segment: 'Mirror', settings, members: 3 });
      expect(recreated.listId).not.toBe(target.listId);
      expect(fake.lists.has(recreated.listId)).toBe(true);
    });

    it('has the fake answer both 404s as Autopilot does: a deleted list, and a contact it does not know', async () => {
      await setUp();
      const listId = fake.seedList('Kept');
      const del = async (list: string, contact: string) => {
        const res = await fetch(`${fake.url}/list/${list}/contact/${contact}`, { method: 'DELETE', headers: { autopilotapikey: fake.apiKey } });
        return [res.status, await res.json()];
      };
      expect(await del('contactlist_GONE', 'nobody@example.com')).toEqual([404, { error: 'Not Found', message: 'List could not be found.' }]);
      expect(await del(listId, 'nobody@example.com')).toEqual([404, { error: 'Not Found', message: 'Contact could not be found.' }]);
    });

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

  describe('list membership when the bulk upload honours or ignores _autopilot_list', () => {
    const memberships = (method: string) => sent(method, /^\/v1\/list\/[^/]+\/contact\/[^/]+$/);

    for (const mode of ['honour', 'ignore'] as const) {
      it(`leaves exactly the segment on the list when bulk upload ${mode}s the key, warning only when it is ignored`, async () => {
        const { session } = await setUp({ requestsPerSecond: null, bulkListKey: mode });
        const target = await session.prepare({ segment: 'Newsletter', settings, members: 250 });
        const all = records(250);
        for (const batch of chunk(all, listMembership.limits.batchSize)) {
          expect(await session.send({ action: 'add', records: batch, target, segment: 'Newsletter', settings })).toEqual({ rejected: [] });
        }

        expect(fake.membersOf(target.listId).sort()).toEqual(all.map((r) => r.fields.email).sort());
        expect(fake.contacts.size).toBe(250);
        if (mode === 'honour') {
          expect(ctx.warnings).toEqual([]);
          expect(memberships('POST')).toHaveLength(0);
          // Before and after the first upload, then one check after each later upload.
          expect(memberships('GET')).toHaveLength(4);
          expect(ctx.savedState.bulkListKey).toBe('honoured');
        } else {
          expect(ctx.warnings).toHaveLength(1);
          expect(ctx.warnings[0]).toContain('ignored the _autopilot_list key');
          // One explicit call per contact, by the id from the bulk answer's email_contact_map.
          const adds = memberships('POST').map((r) => decodeURIComponent(r.path.split('/').pop()!));
          expect(adds.sort()).toEqual([...fake.contacts.values()].map((c) => c.contact_id).sort());
          // The finding is remembered: no probing after the first batch.
          expect(memberships('GET')).toHaveLength(2);
          expect(ctx.savedState.bulkListKey).toBe('ignored');
        }
      });
    }

    it('keeps adding explicitly in a later run whose probe proves nothing because the contact is already on the list', async () => {
      const { conn, session } = await setUp({ requestsPerSecond: null, bulkListKey: 'ignore' });
      const target = await session.prepare({ segment: 'Daily', settings, members: 100 });
      await session.send({ action: 'add', records: records(100), target, segment: 'Daily', settings });
      expect(fake.membersOf(target.listId)).toHaveLength(100);

      const nextCtx = createTestContext({ connectionName: 'prod-autopilot', state: { ...ctx.savedState } });
      const next = await listMembership.open(conn, nextCtx);
      const again = await next.prepare({ segment: 'Daily', settings, members: 101 });
      const outcome = await next.send({ action: 'add', records: records(101), target: again, segment: 'Daily', settings });

      expect(outcome).toEqual({ rejected: [] });
      expect(fake.membersOf(target.listId).sort()).toEqual(records(101).map((r) => r.fields.email).sort());
      expect(nextCtx.warnings).toHaveLength(1);
    });

    it('still verifies in a new run: a recorded "ignored" gives way when the probe shows the key honoured', async () => {
      fake = await startAutopilotFake({ requestsPerSecond: null, bulkListKey: 'honour' });
      ctx = createTestContext({ connectionName: 'prod-autopilot', state: { bulkListKey: 'ignored' } });
      const conn = autopilot.connection.schema.parse({ apiKey: fake.apiKey, baseUrl: fake.url, requestsPerSecond: 100 });
      const session = await listMembership.open(conn, ctx);
      const target = await session.prepare({ segment: 'Fixed', settings, members: 150 });
      for (const batch of chunk(records(150), 100)) await session.send({ action: 'add', records: batch, target, segment: 'Fixed', settings });

      expect(fake.membersOf(target.listId)).toHaveLength(150);
      expect(memberships('POST')).toHaveLength(0);
      expect(ctx.warnings).toEqual([]);
      expect(ctx.savedState.bulkListKey).toBe('honoured');
    });

    it('reports a list deleted meanwhile as list_not_found, not as an ignored key', async () => {
      const { session } = await setUp({ requestsPerSecond: null, bulkListKey: 'ignore' });
      const target = await session.prepare({ segment: 'Gone', settings, members: 5 });
      fake.lists.delete(target.listId);
      const error = await session.send({ action: 'add', records: records(5), target, segment: 'Gone', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'list_not_found' });
      expect(ctx.warnings).toEqual([]);
      expect(ctx.savedState.bulkListKey).toBeUndefined();
    });

    it('makes a 429 on an explicit membership call retryable, and the retried batch leaves the list exact', async () => {
      const { session } = await setUp({ requestsPerSecond: null, bulkListKey: 'ignore' });
      const target = await session.prepare({ segment: 'Retry', settings, members: 20 });
      const batch = records(20);
      fake.failNext(429, { method: 'POST', path: '/contact/person_' });
      const error = await session.send({ action: 'add', records: batch, target, segment: 'Retry', settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 1000 });

      expect(await session.send({ action: 'add', records: batch, target, segment: 'Retry', settings })).toEqual({ rejected: [] });
      expect(fake.membersOf(target.listId).sort()).toEqual(batch.map((r) => r.fields.email).sort());
      expect(ctx.warnings).toHaveLength(1);
    });

    it('paces the extra membership calls with the connection\'s limiter at the documented rate', async () => {
      const { session } = await setUp({ requestsPerSecond: 5, bulkListKey: 'ignore' }, { requestsPerSecond: 5 });
      const target = await session.prepare({ segment: 'Paced', settings, members: 10 });
      const outcome = await session.send({ action: 'add', records: records(10), target, segment: 'Paced', settings });
      expect(outcome).toEqual({ rejected: [] });
      // lists, create, probe before, upload, probe after, lists (is the list still there?), 10 explicit adds
      expect(fake.requests).toHaveLength(16);
      expect(fake.throttled).toBe(0);
      expect(fake.membersOf(target.listId)).toHaveLength(10);
    });
  });

  describe('custom field types', () => {
    const account = [
      { name: 'Age', fieldType: 'integer' },
      { name: 'VIP', fieldType: 'boolean' },
      { name: 'Signed Up', fieldType: 'date' },
      { name: 'Score', fieldType: 'float' },
      { name: 'Favourite Colour', fieldType: 'string' },
    ];
    const person = (i: number, extra: Record<string, unknown>): ExportRecord => ({ key: `c${i}`, fields: { email: `custom${i}@example.com` }, extra });
    /** Every contact upserted, in bulk or (a batch of one) on its own. */
    const uploaded = () =>
      fake.requests
        .filter((r) => r.method === 'POST' && (r.path === '/v1/contacts' || r.path === '/v1/contact'))
        .flatMap((r) => {
          const body = JSON.parse(r.body) as { contacts?: AutopilotContact[]; contact?: AutopilotContact };
          return body.contacts ?? [body.contact!];
        });

    it('sends each value under the key of the account field\'s type, converted; unknown fields as text', async () => {
      const { session } = await setUp({ requestsPerSecond: null, customFields: account });
      const target = await session.prepare({ segment: 'Typed', settings, members: 3 });
      await session.send({
        action: 'add',
        records: [
          person(0, { Age: '42', VIP: 'true', 'Signed Up': '2025-12-31', Score: '3.50', 'Favourite Colour': 'teal', Nickname: 'Al' }),
          person(1, { age: 7, vip: false, 'signed up': '2025-06-01 10:30:00', score: 2 }),
        ],
        target,
        segment: 'Typed',
        settings,
      });
      await session.send({ action: 'add', records: [person(2, { Age: 30 })], target, segment: 'Typed', settings });

      expect(uploaded().map((c) => c.custom)).toEqual([
        { 'integer--Age': 42, 'boolean--VIP': true, 'date--Signed--Up': '2025-12-31T00:00:00.000Z', 'float--Score': 3.5, 'string--Favourite--Colour': 'teal', 'string--Nickname': 'Al' },
        { 'integer--Age': 7, 'boolean--VIP': false, 'date--Signed--Up': '2025-06-01T10:30:00.000Z', 'float--Score': 2 },
        { 'integer--Age': 30 },
      ]);
      expect(fake.contacts.get('custom1@example.com')?.custom).toEqual({ 'integer--Age': 7, 'boolean--VIP': false, 'date--Signed--Up': '2025-06-01T10:30:00.000Z', 'float--Score': 2 });
      // Read once for the session, not once per batch.
      expect(sent('GET', '/v1/contacts/custom_fields')).toHaveLength(1);
    });

    it('rejects a record whose value does not fit the field\'s type, with the reason and without the value, and sends the rest', async () => {
      const { session } = await setUp({ requestsPerSecond: null, customFields: account });
      const target = await session.prepare({ segment: 'Typed', settings, members: 5 });
      const outcome = await session.send({
        action: 'add',
        records: [
          person(0, { Age: 'forty' }),
          person(1, { Age: '41' }),
          person(2, { VIP: 'maybe' }),
          person(3, { 'Signed Up': '2025-02-30' }),
          person(4, { Age: 12.5 }),
        ],
        target,
        segment: 'Typed',
        settings,
      });

      expect(outcome.rejected.map((r) => [r.index, r.code])).toEqual([
        [0, 'invalid_value'],
        [2, 'invalid_value'],
        [3, 'invalid_value'],
        [4, 'invalid_value'],
      ]);
      expect(outcome.rejected[0]!.message).toBe(
        'Custom field "Age" is an integer field in Autopilot and this record\'s value is not a whole number (or is too large); fix the value in the data or map another column onto the field.',
      );
      expect(outcome.rejected[1]!.message).toContain('Custom field "VIP" is a boolean field');
      expect(outcome.rejected[2]!.message).toContain('is not a date');
      expect(outcome.rejected.map((r) => r.message).join('\n')).not.toMatch(/forty|maybe|2025-02-30|12\.5/);
      expect(uploaded().map((c) => c.Email)).toEqual(['custom1@example.com']);
      expect(fake.membersOf(target.listId)).toEqual(['custom1@example.com']);
    });

    it('prefers the typed field over a text twin of the same name, and does not read fields when none are mapped', async () => {
      const { session } = await setUp({ requestsPerSecond: null, customFields: [{ name: 'Age', fieldType: 'string' }, { name: 'Age', fieldType: 'integer' }] });
      const target = await session.prepare({ segment: 'Twins', settings, members: 2 });
      await session.send({ action: 'add', records: records(2), target, segment: 'Twins', settings });
      expect(sent('GET', '/v1/contacts/custom_fields')).toHaveLength(0);
      await session.send({ action: 'add', records: [person(0, { Age: '5' })], target, segment: 'Twins', settings });
      expect(sent('GET', '/v1/contacts/custom_fields')).toHaveLength(1);
      expect(uploaded().at(-1)?.custom).toEqual({ 'integer--Age': 5 });
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
      // lists, create, membership probe before and after the upload, the upload, 10 removals: all paced.
      expect(fake.requests).toHaveLength(15);
      expect(fake.throttled).toBe(0);
      expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 404, 200, 200, ...Array(10).fill(200)]);
      expect(elapsedMs).toBeGreaterThanOrEqual((14 / 5) * 1000 - 50);
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
