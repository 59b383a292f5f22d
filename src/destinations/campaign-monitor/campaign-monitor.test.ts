import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, RetryableError, UpstreamError } from '../../domain/errors.ts';
import { runContractSuite } from '../kit/contract.case.ts';
import type { BatchOutcome, ExportRecord, RecordSession } from '../kit/define.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { CAMPAIGN_MONITOR_BASE_URL, DEFAULT_REQUESTS_PER_SECOND, type CampaignMonitorConnection } from './connection.ts';
import {
  FAKE_API_KEY,
  FAKE_CLIENT_ID,
  FAKE_LIST_ID,
  recordsInRequest,
  startCampaignMonitorFake,
  type CampaignMonitorFake,
  type CampaignMonitorFakeOptions,
} from './fake-campaign-monitor.ts';
import campaignMonitor from './index.ts';
import { listSubscribers, listSubscribersSettings, type ListSubscribersSettings } from './list-subscribers.ts';

runContractSuite({
  destination: campaignMonitor,
  async start() {
    const fake = await startCampaignMonitorFake();
    return {
      fake,
      config: { apiKey: FAKE_API_KEY, baseUrl: fake.url, requestsPerSecond: 1000 },
      badCredentials: { apiKey: 'cm-wrong-key-8d41e0', baseUrl: fake.url, requestsPerSecond: 1000 },
      settings: { listId: FAKE_LIST_ID },
      close: () => fake.close(),
    };
  },
  recordsIn: recordsInRequest,
});

interface Harness {
  fake: CampaignMonitorFake;
  ctx: TestContext;
  conn: CampaignMonitorConnection;
  session: RecordSession<string, ListSubscribersSettings>;
  send(action: 'add' | 'remove', records: ExportRecord[], overrides?: Partial<ListSubscribersSettings>): Promise<BatchOutcome>;
}

const settingsWith = (overrides: Partial<ListSubscribersSettings> = {}) => listSubscribersSettings.parse({ listId: FAKE_LIST_ID, ...overrides });

function member(i: number, extra: Record<string, unknown> = {}, fields: Record<string, unknown> = {}): ExportRecord {
  return { key: `p${i}`, fields: { email: `member${i}@example.com`, ...fields }, extra };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (error: unknown) => error,
  );
}

describe('campaign-monitor', () => {
  let h: Harness;
  const started: CampaignMonitorFake[] = [];

  async function start(options: CampaignMonitorFakeOptions = {}, requestsPerSecond = 1000): Promise<Harness> {
    const fake = await startCampaignMonitorFake(options);
    started.push(fake);
    const ctx = createTestContext({ connectionName: 'cm-newsletter' });
    const conn = campaignMonitor.connection.schema.parse({ apiKey: FAKE_API_KEY, baseUrl: fake.url, requestsPerSecond });
    const session = await listSubscribers.open(conn, ctx);
    const target = await session.prepare({ segment: 'vip', settings: settingsWith(), members: 0 });
    return {
      fake,
      ctx,
      conn,
      session,
      send: (action, records, overrides) => session.send({ action, records, target, segment: 'vip', settings: settingsWith(overrides) }),
    };
  }

  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((fake) => fake.close()));
  });

  const validate = (settings: ListSubscribersSettings, mapping: Record<string, string> = { email: 'email' }) =>
    listSubscribers.validate!({ connection: h.conn, settings, mapping, session: h.session, ctx: h.ctx });

  describe('connection', () => {
    it('defaults baseUrl to the createsend v3.3 API and paces at a conservative 5 requests a second', () => {
      const conn = campaignMonitor.connection.schema.parse({ apiKey: 'k' });
      expect(conn.baseUrl).toBe(CAMPAIGN_MONITOR_BASE_URL);
      expect(listSubscribers.rate(conn)).toEqual({ requests: DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 });
      expect(listSubscribers.rate({ ...conn, requestsPerSecond: 2 })).toEqual({ requests: 2, perMs: 1000 });
    });

    it('checks the key with one GET /clients.json using HTTP Basic with the key as user name', async () => {
      const before = h.fake.requests.length;
      const result = await campaignMonitor.connection.check(h.conn, h.ctx);
      expect(result).toEqual({ ok: true, details: { clients: 1 } });
      const sent = h.fake.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v3.3/clients.json']);
      expect(sent[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`${FAKE_API_KEY}:x`).toString('base64')}`);
    });

    it('reports a refused key as auth_failed with a bad API key message naming the connection', async () => {
      const conn = campaignMonitor.connection.schema.parse({ apiKey: 'not-a-key-1234', baseUrl: h.fake.url });
      const result = await campaignMonitor.connection.check(conn, h.ctx);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('auth_failed');
      expect(result.message).toContain('bad API key');
      expect(result.message).toContain('code 100');
      expect(result.message).toContain('`cm-newsletter`');
    });

    it('reports an unreachable server from check() instead of throwing', async () => {
      const gone = await startCampaignMonitorFake();
      await gone.close();
      const conn = campaignMonitor.connection.schema.parse({ apiKey: FAKE_API_KEY, baseUrl: gone.url });
      const result = await campaignMonitor.connection.check(conn, h.ctx);
      expect(result).toMatchObject({ ok: false, code: 'connection_lost' });
    });
  });

  describe('list validation', () => {
    it('prepare confirms the list and returns its id', async () => {
      const before = h.fake.requests.length;
      const session = await listSubscribers.open(h.conn, h.ctx);
      await expect(session.prepare({ segment: 'vip', settings: settingsWith(), members: 10 })).resolves.toBe(FAKE_LIST_ID);
      expect(h.fake.requests.slice(before).map((r) => r.path)).toEqual([
        `/api/v3.3/lists/${FAKE_LIST_ID}.json`,
        `/api/v3.3/lists/${FAKE_LIST_ID}/customfields.json`,
      ]);
    });

    it('rejects an unknown list id on validate with list_not_found naming the id and what to do', async () => {
      const error = await errorOf(validate(settingsWith({ listId: 'no-such-list' })));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('list_not_found');
      expect((error as ConfigError).message).toContain('`no-such-list`');
      expect((error as ConfigError).message).toContain('listId');
      expect((error as ConfigError).message).toContain('`cm-newsletter`');
    });

    it('treats a 404 for the list as list_not_found too', async () => {
      const other = await start({ unknownListStatus: 404 });
      const error = await errorOf(other.session.prepare({ segment: 'vip', settings: settingsWith({ listId: 'gone' }), members: 0 }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('list_not_found');
    });

    it('accepts a known list on validate', async () => {
      await expect(validate(settingsWith())).resolves.toBeUndefined();
    });

    it('reads the custom fields of the list on validate and accepts mapped fields it defines, in any spelling', async () => {
      const before = h.fake.requests.length;
      await expect(validate(settingsWith(), { email: 'email', name: 'full_name', Website: 'site', '[plan]': 'tier' })).resolves.toBeUndefined();
      expect(h.fake.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /api/v3.3/lists/${FAKE_LIST_ID}.json`,
        `GET /api/v3.3/lists/${FAKE_LIST_ID}/customfields.json`,
      ]);
    });

    it('refuses on validate a mapped custom field the list does not define, naming it and the fields the list has', async () => {
      const error = await errorOf(validate(settingsWith(), { email: 'email', favouriteColour: 'colour', plan: 'tier', shoeSize: 'shoe' }));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('invalid_settings');
      const { message } = error as ConfigError;
      expect(message).toContain('custom fields `favouriteColour`, `shoeSize`');
      expect(message).toContain(`list \`${FAKE_LIST_ID}\``);
      expect(message).toContain("The list's custom fields: `website`, `plan`.");
      expect(message).not.toContain('`plan` to');
    });
  });

  describe('adding subscribers', () => {
    it('lands a 2,500-member send, cut into batches of 1,000, 1,000 and 500, in the list with names and custom fields', async () => {
      const records = Array.from({ length: 2500 }, (_, i) =>
        member(
          i,
          { website: `https://example.com/${i}`, '[plan]': i % 2 === 0 ? 'gold' : 'silver' },
          i % 2 === 0 ? { name: `Member ${i}` } : { firstName: `First${i}`, lastName: `Last${i}` },
        ),
      );
      const { batchSize } = listSubscribers.limits;
      for (let start = 0; start < records.length; start += batchSize) {
        const outcome = await h.send('add', records.slice(start, start + batchSize));
        expect(outcome.rejected).toEqual([]);
      }

      const bodies = h.fake.importBodies();
      expect(bodies.map((b) => (b.Subscribers as unknown[]).length)).toEqual([1000, 1000, 500]);
      expect(bodies[0]).toMatchObject({ Resubscribe: false, QueueSubscriptionBasedAutoResponders: false, RestartSubscriptionBasedAutoresponders: false });
      expect((bodies[0]!.Subscribers as unknown[])[1]).toEqual({
        EmailAddress: 'member1@example.com',
        Name: 'First1 Last1',
        CustomFields: [
          { Key: 'website', Value: 'https://example.com/1' },
          { Key: 'plan', Value: 'silver' },
        ],
        ConsentToTrack: 'Unchanged',
      });

      const active = h.fake.members(FAKE_LIST_ID, 'Active');
      expect(active).toHaveLength(2500);
      expect(h.fake.member(FAKE_LIST_ID, 'member0@example.com')).toMatchObject({
        Name: 'Member 0',
        fields: { website: 'https://example.com/0', plan: 'gold' },
      });
      expect(h.fake.member(FAKE_LIST_ID, 'member2499@example.com')).toMatchObject({
        Name: 'First2499 Last2499',
        fields: { website: 'https://example.com/2499', plan: 'silver' },
      });
      expect(h.fake.truncatedValues).toBe(0);
    });

    it('sends the consent-to-track value the export chooses with every subscriber', async () => {
      await h.send('add', [member(1), member(2)], { consentToTrack: 'Yes' });
      const [body] = h.fake.importBodies();
      expect((body!.Subscribers as Array<{ ConsentToTrack: string }>).map((s) => s.ConsentToTrack)).toEqual(['Yes', 'Yes']);
      expect(h.fake.member(FAKE_LIST_ID, 'member1@example.com')!.ConsentToTrack).toBe('Yes');
    });

    it('on a partial failure (400, code 210) rejects only the refused records, at every position of their address', async () => {
      h.fake.seed(FAKE_LIST_ID, [{ email: 'gone@example.com', name: 'Old Name', state: 'Unsubscribed' }]);
      h.fake.rejectEmails(['refused@example.com']);
      const batch = [
        member(0),
        { key: 'r1', fields: { email: 'refused@example.com' }, extra: {} },
        member(1),
        { key: 'g', fields: { email: 'gone@example.com', name: 'New Name' }, extra: {} },
        { key: 'r2', fields: { email: 'refused@example.com' }, extra: {} },
        member(2),
      ];
      const outcome = await h.send('add', batch);

      expect(outcome.rejected.map((r) => [r.index, r.code])).toEqual([
        [1, 'invalid_email'],
        [3, 'unsubscribed'],
        [4, 'invalid_email'],
      ]);
      for (const rejection of outcome.rejected) {
        expect(rejection.message).not.toContain('@');
        expect(rejection.message).toContain(FAKE_LIST_ID);
      }
      expect(outcome.rejected[1]!.message).toContain('resubscribe');
      expect(h.fake.members(FAKE_LIST_ID, 'Active').map((m) => m.EmailAddress)).toEqual([
        'member0@example.com',
        'member1@example.com',
        'member2@example.com',
      ]);
      expect(h.fake.member(FAKE_LIST_ID, 'gone@example.com')).toMatchObject({ State: 'Unsubscribed', Name: 'Old Name' });
      expect(h.fake.member(FAKE_LIST_ID, 'refused@example.com')).toBeUndefined();
    });

    describe('resubscribe', () => {
      const inactive = [
        { email: 'unsub@example.com', state: 'Unsubscribed' as const },
        { email: 'deleted@example.com', state: 'Deleted' as const },
        { email: 'bounced@example.com', state: 'Bounced' as const },
      ];
      const batch = () => [...inactive.map((s, i) => ({ key: `s${i}`, fields: { email: s.email, name: 'Back Again' }, extra: {} })), {
        key: 'sup',
        fields: { email: 'suppressed@example.com' },
        extra: {},
      }];

      beforeEach(() => {
        h.fake.seed(FAKE_LIST_ID, inactive);
        h.fake.suppress(FAKE_CLIENT_ID, ['suppressed@example.com']);
      });

      it('is off by default: unsubscribed, deleted, bounced and suppressed addresses are rejected and left as they are', async () => {
        const outcome = await h.send('add', batch());
        expect(outcome.rejected.map((r) => [r.index, r.code])).toEqual([
          [0, 'unsubscribed'],
          [1, 'deleted'],
          [2, 'bounced'],
          [3, 'suppressed'],
        ]);
        expect(h.fake.importBodies()[0]!.Resubscribe).toBe(false);
        expect(h.fake.members(FAKE_LIST_ID).map((m) => [m.EmailAddress, m.State, m.Name])).toEqual([
          ['bounced@example.com', 'Bounced', ''],
          ['deleted@example.com', 'Deleted', ''],
          ['unsub@example.com', 'Unsubscribed', ''],
        ]);
      });

      it('when the export asks, brings them all back as active subscribers', async () => {
        const outcome = await h.send('add', batch(), { resubscribe: true });
        expect(outcome.rejected).toEqual([]);
        expect(h.fake.importBodies()[0]!.Resubscribe).toBe(true);
        expect(h.fake.members(FAKE_LIST_ID, 'Active').map((m) => m.EmailAddress)).toEqual([
          'bounced@example.com',
          'deleted@example.com',
          'suppressed@example.com',
          'unsub@example.com',
        ]);
        expect(h.fake.member(FAKE_LIST_ID, 'unsub@example.com')!.Name).toBe('Back Again');
      });
    });

    it('never queues or restarts autoresponders unless the export asks', async () => {
      h.fake.seed(FAKE_LIST_ID, [{ email: 'returning@example.com', state: 'Unsubscribed' }]);
      const returning = { key: 'ret', fields: { email: 'returning@example.com' }, extra: {} };
      await h.send('add', [member(1), returning], { resubscribe: true });
      expect(h.fake.importBodies()[0]).toMatchObject({ QueueSubscriptionBasedAutoResponders: false, RestartSubscriptionBasedAutoresponders: false });
      expect(h.fake.autoresponderEvents).toEqual([{ listId: FAKE_LIST_ID, email: 'returning@example.com', action: 'resumed' }]);
    });

    it('sends both autoresponder flags as the export sets them', async () => {
      h.fake.seed(FAKE_LIST_ID, [{ email: 'returning@example.com', state: 'Unsubscribed' }]);
      const returning = { key: 'ret', fields: { email: 'returning@example.com' }, extra: {} };
      await h.send('add', [member(1), returning], {
        resubscribe: true,
        queueSubscriptionBasedAutoresponders: true,
        restartSubscriptionBasedAutoresponders: true,
      });
      expect(h.fake.importBodies()[0]).toMatchObject({ QueueSubscriptionBasedAutoResponders: true, RestartSubscriptionBasedAutoresponders: true });
      expect(h.fake.autoresponderEvents).toEqual([
        { listId: FAKE_LIST_ID, email: 'member1@example.com', action: 'queued' },
        { listId: FAKE_LIST_ID, email: 'returning@example.com', action: 'restarted' },
      ]);
    });

    it('rejects a record with a custom value over 250 characters before sending, and sends the rest untouched', async () => {
      const exactly250 = 'a'.repeat(250);
      const outcome = await h.send('add', [
        member(0, { website: exactly250 }),
        member(1, { plan: 'p'.repeat(251) }),
        member(2, { plan: ['gold', 'x'.repeat(300)] }),
        member(3, { plan: 'gold' }),
      ]);
      expect(outcome.rejected.map((r) => [r.index, r.code])).toEqual([
        [1, 'value_too_long'],
        [2, 'value_too_long'],
      ]);
      expect(outcome.rejected[0]!.message).toContain('`plan`');
      expect(outcome.rejected[0]!.message).toContain('251');
      expect(outcome.rejected[0]!.message).not.toContain('ppp');

      const [body] = h.fake.importBodies();
      expect((body!.Subscribers as Array<{ EmailAddress: string }>).map((s) => s.EmailAddress)).toEqual([
        'member0@example.com',
        'member3@example.com',
      ]);
      expect(h.fake.member(FAKE_LIST_ID, 'member0@example.com')!.fields.website).toBe(exactly250);
      expect(h.fake.member(FAKE_LIST_ID, 'member1@example.com')).toBeUndefined();
      expect(h.fake.truncatedValues).toBe(0);
    });

    it('makes no request when every record of a batch was rejected locally', async () => {
      const before = h.fake.requests.length;
      const outcome = await h.send('add', [member(0, { plan: 'p'.repeat(251) }), { key: 'x', fields: {}, extra: {} }]);
      expect(outcome.rejected.map((r) => r.code)).toEqual(['value_too_long', 'missing_email']);
      expect(h.fake.requests.length).toBe(before);
    });

    it('sends multi-select values as one entry per option and dates as yyyy/mm/dd, and skips empty values', async () => {
      await h.send('add', [member(0, { plan: ['gold', 'silver'], website: new Date(Date.UTC(2024, 1, 9)), empty: null })]);
      const [body] = h.fake.importBodies();
      expect((body!.Subscribers as Array<{ CustomFields: unknown }>)[0]!.CustomFields).toEqual([
        { Key: 'plan', Value: 'gold' },
        { Key: 'plan', Value: 'silver' },
        { Key: 'website', Value: '2024/02/09' },
      ]);
    });

    it('warns the run once when a mapped custom field is not defined on the list', async () => {
      await h.send('add', [member(0, { favouriteColour: 'red' }), member(1, { favouriteColour: 'blue' })]);
      await h.send('add', [member(2, { favouriteColour: 'green', website: 'https://example.com' })]);
      expect(h.ctx.warnings).toEqual([
        "Custom field `favouriteColour` is mapped, but list `e3c5f034d68744f7881fdccf13c2daee` in Campaign Monitor does not define it, so its values are likely dropped. The list's custom fields: `website`, `plan`. Create the field on the list again, or remove it from the export's mapping.",
      ]);
      const logged = h.ctx.logLines.filter((line) => line.includes('favouriteColour'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('"level":40');
      expect(h.fake.ignoredCustomFieldValues).toBe(3);
    });

    it('warns the run when a field the export was saved with was deleted from the list since', async () => {
      await expect(validate(settingsWith(), { email: 'email', plan: 'tier' })).resolves.toBeUndefined();
      h.fake.removeCustomField(FAKE_LIST_ID, 'plan');
      const ctx = createTestContext({ connectionName: 'cm-newsletter' });
      const session = await listSubscribers.open(h.conn, ctx);
      const target = await session.prepare({ segment: 'vip', settings: settingsWith(), members: 1 });
      const outcome = await session.send({ action: 'add', records: [member(0, { plan: 'gold' })], target, segment: 'vip', settings: settingsWith() });
      expect(outcome).toEqual({ rejected: [] });
      expect(ctx.warnings).toEqual([expect.stringMatching(/^Custom field `plan` is mapped, but list `\w+` in Campaign Monitor does not define it.*The list's custom fields: `website`\./)]);
      expect(h.fake.member(FAKE_LIST_ID, 'member0@example.com')?.fields).toEqual({});
    });
  });

  describe('mirror removal', () => {
    beforeEach(() => {
      h.fake.seed(FAKE_LIST_ID, [0, 1, 2, 3, 4].map((i) => ({ email: `member${i}@example.com`, name: `M${i}` })));
    });

    it('unsubscribes exactly the given addresses, one call each', async () => {
      const before = h.fake.requests.length;
      const outcome = await h.send('remove', [member(1), member(3), member(1), member(9)]);
      expect(outcome.rejected).toEqual([]);
      const calls = h.fake.requests.slice(before);
      expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill(`POST /api/v3.3/subscribers/${FAKE_LIST_ID}/unsubscribe.json`));
      expect(calls.map((r) => JSON.parse(r.body))).toEqual([
        { EmailAddress: 'member1@example.com' },
        { EmailAddress: 'member3@example.com' },
        { EmailAddress: 'member9@example.com' },
      ]);
      expect(h.fake.members(FAKE_LIST_ID).map((m) => [m.EmailAddress, m.State])).toEqual([
        ['member0@example.com', 'Active'],
        ['member1@example.com', 'Unsubscribed'],
        ['member2@example.com', 'Active'],
        ['member3@example.com', 'Unsubscribed'],
        ['member4@example.com', 'Active'],
      ]);
    });

    it('deletes instead when the export sets removal to delete', async () => {
      const before = h.fake.requests.length;
      await h.send('remove', [member(2)], { removal: 'delete' });
      const [call] = h.fake.requests.slice(before);
      expect(call).toMatchObject({ method: 'DELETE', path: `/api/v3.3/subscribers/${FAKE_LIST_ID}.json`, query: { email: 'member2@example.com' } });
      expect(h.fake.member(FAKE_LIST_ID, 'member2@example.com')!.State).toBe('Deleted');
    });

    it('paces removal calls at the connection rate', async () => {
      const slow = await start({}, 20);
      slow.fake.seed(FAKE_LIST_ID, [0, 1, 2, 3].map((i) => ({ email: `member${i}@example.com` })));
      const startedAt = performance.now();
      await slow.send('remove', [member(0), member(1), member(2), member(3)]);
      // 20 a second is one call every 50 ms or more; three gaps after the first call.
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(145);
    });

    it('rejects an address Campaign Monitor refuses without failing the batch', async () => {
      h.fake.rejectEmails(['member4@example.com']);
      const outcome = await h.send('remove', [member(0), member(4)]);
      expect(outcome.rejected).toEqual([{ index: 1, code: 'invalid_email', message: expect.not.stringContaining('@') }]);
      expect(h.fake.member(FAKE_LIST_ID, 'member0@example.com')!.State).toBe('Unsubscribed');
    });

    it('does not repeat calls for addresses already removed when a throttled batch is retried', async () => {
      h.fake.setRateLimit({ requests: 2, perMs: 60_000 });
      const batch = [member(0), member(1), member(2), member(3)];
      const error = await errorOf(h.send('remove', batch));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterMs).toBe(60_000);
      h.fake.setRateLimit(undefined);

      const before = h.fake.requests.length;
      const outcome = await h.send('remove', batch);
      expect(outcome.rejected).toEqual([]);
      expect(h.fake.requests.slice(before).map((r) => JSON.parse(r.body).EmailAddress)).toEqual(['member2@example.com', 'member3@example.com']);
      expect(h.fake.members(FAKE_LIST_ID, 'Unsubscribed')).toHaveLength(4);
    });
  });

  describe('whole-request failures', () => {
    it('takes the wait from X-RateLimit-Reset when a 429 has no Retry-After', async () => {
      h.fake.failNext(429, { rateLimitResetS: 3, path: '/import.json' });
      const error = await errorOf(h.send('add', [member(0)]));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('rate_limited');
      expect((error as RetryableError).retryAfterMs).toBe(3000);
    });

    it('leaves retryAfterMs undefined when a 429 carries neither header', async () => {
      h.fake.failNext(429, { path: '/import.json' });
      const error = await errorOf(h.send('add', [member(0)]));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterMs).toBeUndefined();
    });

    it("honours the fake's own rate limit headers when Retry-After is switched off", async () => {
      h.fake.setRateLimit({ requests: 1, perMs: 4000, retryAfter: false });
      await h.send('add', [member(0)]);
      const error = await errorOf(h.send('add', [member(1)]));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).retryAfterMs).toBe(4000);
      expect(h.fake.requests.at(-1)!.path).toContain('/import.json');
    });

    it('stays under a configured rate limit when the connection rate is below it', async () => {
      const paced = await start({}, 18);
      paced.fake.setRateLimit({ requests: 10, perMs: 500 });
      paced.fake.seed(FAKE_LIST_ID, Array.from({ length: 12 }, (_, i) => ({ email: `member${i}@example.com` })));
      const outcome = await paced.send('remove', Array.from({ length: 12 }, (_, i) => member(i)));
      expect(outcome.rejected).toEqual([]);
      expect(paced.fake.members(FAKE_LIST_ID, 'Unsubscribed')).toHaveLength(12);
    });

    it('turns a 5xx into a retryable upstream_unavailable carrying Retry-After', async () => {
      h.fake.failNext(503, { retryAfterS: 2, path: '/import.json' });
      const error = await errorOf(h.send('add', [member(0)]));
      expect(error).toBeInstanceOf(RetryableError);
      expect((error as RetryableError).code).toBe('upstream_unavailable');
      expect((error as RetryableError).retryAfterMs).toBe(2000);
    });

    it('fails an import over 1,000 subscribers (code 209) with an UpstreamError, not a partial success', async () => {
      const error = await errorOf(h.send('add', Array.from({ length: 1001 }, (_, i) => member(i))));
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).status).toBe(400);
      expect((error as UpstreamError).message).toContain('code 209');
      expect(h.fake.members(FAKE_LIST_ID)).toHaveLength(0);
    });

    it('fails an unexplained whole-request 400 with the vendor code and message', async () => {
      h.fake.failNext(400, { path: '/import.json', body: { Code: 999, Message: 'Something odd for someone@example.com' } });
      const error = await errorOf(h.send('add', [member(0)]));
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).message).toContain('code 999 "Something odd for <address>"');
    });

    it('fails with an AuthError when the key is refused during a send', async () => {
      h.fake.failNext(401, { path: '/import.json' });
      const error = await errorOf(h.send('add', [member(0)]));
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe('auth_failed');
      expect((error as AuthError).message).toContain('bad API key');
    });
  });

  it('never puts the API key or a member address in an error message or a log line', async () => {
    const key = 'cm-very-secret-key-7731';
    const fake = await startCampaignMonitorFake({ apiKeys: [key] });
    started.push(fake);
    const ctx = createTestContext({ connectionName: 'cm-secret' });
    const good = campaignMonitor.connection.schema.parse({ apiKey: key, baseUrl: fake.url, requestsPerSecond: 1000 });
    const bad = campaignMonitor.connection.schema.parse({ apiKey: `${key}-revoked`, baseUrl: fake.url, requestsPerSecond: 1000 });
    const messages: string[] = [];

    const refused = await campaignMonitor.connection.check(bad, ctx);
    if (!refused.ok) messages.push(refused.message);
    const badSession = await listSubscribers.open(bad, ctx);
    messages.push(String(((await errorOf(badSession.prepare({ segment: 's', settings: settingsWith(), members: 1 }))) as Error).message));

    const session = await listSubscribers.open(good, ctx);
    messages.push(((await errorOf(session.prepare({ segment: 's', settings: settingsWith({ listId: 'nope' }), members: 1 }))) as Error).message);
    const target = await session.prepare({ segment: 's', settings: settingsWith(), members: 1 });
    fake.rejectEmails(['member1@example.com']);
    const outcome = await session.send({ action: 'add', records: [member(0), member(1)], target, segment: 's', settings: settingsWith() });
    messages.push(...outcome.rejected.map((r) => r.message));
    fake.failNext(429, { retryAfterS: 1 });
    messages.push(((await errorOf(session.send({ action: 'remove', records: [member(0)], target, segment: 's', settings: settingsWith() }))) as Error).message);

    expect(messages).toHaveLength(5);
    const everything = [...messages, ...ctx.logLines].join('\n');
    expect(ctx.logLines.length).toBeGreaterThan(0);
    for (const secret of [key, Buffer.from(`${key}:x`).toString('base64'), 'member0@example.com', 'member1@example.com']) {
      expect(everything).not.toContain(secret);
    }
    for (const at of [0, 1, 2, 4]) expect(messages[at]).toContain('`cm-secret`');
  });

  describe('the fake', () => {
    it('accepts bracketed custom field keys and either casing of the autoresponder flag', async () => {
      const res = await fetch(`${h.fake.url}/subscribers/${FAKE_LIST_ID}/import.json`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${FAKE_API_KEY}:x`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          Subscribers: [{ EmailAddress: 'a@example.com', CustomFields: [{ Key: '[website]', Value: 'w' }], ConsentToTrack: 'yes' }],
          Resubscribe: false,
          QueueSubscriptionBasedAutoresponders: true,
        }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({
        FailureDetails: [],
        TotalUniqueEmailsSubmitted: 1,
        TotalExistingSubscribers: 0,
        TotalNewSubscribers: 1,
        DuplicateEmailsInSubmission: [],
      });
      expect(h.fake.member(FAKE_LIST_ID, 'a@example.com')!.fields).toEqual({ website: 'w' });
      expect(h.fake.autoresponderEvents).toEqual([{ listId: FAKE_LIST_ID, email: 'a@example.com', action: 'queued' }]);
    });

    it('answers a partial failure with 400, code 210 and ResultData, after importing the good rows', async () => {
      const res = await fetch(`${h.fake.url}/subscribers/${FAKE_LIST_ID}/import.json`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${FAKE_API_KEY}:x`).toString('base64')}` },
        body: JSON.stringify({
          Subscribers: [
            { EmailAddress: 'ok@example.com', ConsentToTrack: 'Unchanged' },
            { EmailAddress: 'broken@example', ConsentToTrack: 'Unchanged' },
            { EmailAddress: 'OK@example.com', ConsentToTrack: 'Unchanged' },
          ],
          Resubscribe: false,
        }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        Code: 210,
        Message: 'Subscriber Import had some failures',
        ResultData: {
          FailureDetails: [{ EmailAddress: 'broken@example', Code: 1, Message: 'Invalid Email Address' }],
          TotalUniqueEmailsSubmitted: 2,
          TotalExistingSubscribers: 0,
          TotalNewSubscribers: 1,
          DuplicateEmailsInSubmission: ['OK@example.com'],
        },
      });
      expect(h.fake.members(FAKE_LIST_ID, 'Active').map((m) => m.EmailAddress)).toEqual(['ok@example.com']);
    });

    it('pages active members with the fixture shape', async () => {
      h.fake.seed(FAKE_LIST_ID, Array.from({ length: 25 }, (_, i) => ({ email: `m${String(i).padStart(2, '0')}@example.com` })));
      const res = await fetch(`${h.fake.url}/lists/${FAKE_LIST_ID}/active.json?page=3&pagesize=10&orderfield=email`, {
        headers: { authorization: `Basic ${Buffer.from(`${FAKE_API_KEY}:x`).toString('base64')}` },
      });
      const page = (await res.json()) as { Results: Array<{ EmailAddress: string }>; NumberOfPages: number; TotalNumberOfRecords: number; RecordsOnThisPage: number };
      expect(page).toMatchObject({ NumberOfPages: 3, TotalNumberOfRecords: 25, RecordsOnThisPage: 5 });
      expect(page.Results.map((r) => r.EmailAddress)).toEqual(['m20@example.com', 'm21@example.com', 'm22@example.com', 'm23@example.com', 'm24@example.com']);
    });
  });
});

