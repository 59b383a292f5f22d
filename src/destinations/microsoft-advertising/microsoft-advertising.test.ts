import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, RetryableError } from '../../domain/errors.ts';
import { runContractSuite } from '../kit/contract.case.ts';
import type { ExportRecord } from '../kit/define.ts';
import { sha256Hex } from '../kit/fields.ts';
import { createTestContext, type TestContext } from '../kit/testing.ts';
import { authorizeMicrosoftAdvertising } from './authorize.ts';
import { createMicrosoftAdvertisingClient } from './client.ts';
import { customerMatch, emailHash, type CustomerListTarget } from './customer-match.ts';
import {
  FAKE_DEFAULTS,
  startMicrosoftAdvertisingFake,
  type FakeCall,
  type MicrosoftAdvertisingFake,
  type MicrosoftAdvertisingFakeOptions,
} from './fake-microsoft-advertising.ts';
import destination, { connectionSchema, type MicrosoftAdvertisingConnection } from './index.ts';

/** sha256("test@contoso.com"), as in Microsoft's Bulk docs example (the CustomerListUserData page's value is wrong). */
const TEST_VECTOR = 'f25ad364d33972379a7a4f4df33db142205f5c40eb19cfdb2fc5aaf117e10101';
const CONNECTION = 'msads-test';
const account = { customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId };
const settings = { ...account };

function configInput(fake: MicrosoftAdvertisingFake, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clientId: FAKE_DEFAULTS.clientId,
    clientSecret: FAKE_DEFAULTS.clientSecret,
    refreshToken: FAKE_DEFAULTS.refreshToken,
    developerToken: FAKE_DEFAULTS.developerToken,
    baseUrl: fake.baseUrl,
    authorityUrl: fake.authorityUrl,
    // Fast pacing keeps the tests quick; the default (1/s) is asserted separately.
    requestsPerSecond: 1000,
    ...overrides,
  };
}

function conn(fake: MicrosoftAdvertisingFake, overrides: Record<string, unknown> = {}): MicrosoftAdvertisingConnection {
  return connectionSchema.parse(configInput(fake, overrides));
}

function records(emails: string[]): ExportRecord[] {
  return emails.map((email, i) => ({ key: `p${i}`, fields: { email }, extra: {} }));
}

function calls(fake: MicrosoftAdvertisingFake, suffix: string): FakeCall[] {
  return fake.requests.filter((request) => request.path.endsWith(suffix));
}

function applyBodies(fake: MicrosoftAdvertisingFake): Array<Record<string, unknown> & { CustomerListItems: string[] }> {
  return calls(fake, '/CustomerListUserData/Apply').map((request) => JSON.parse(request.body).CustomerListUserData);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );
}

let fakes: MicrosoftAdvertisingFake[] = [];
async function startFake(options: MicrosoftAdvertisingFakeOptions = {}): Promise<MicrosoftAdvertisingFake> {
  const fake = await startMicrosoftAdvertisingFake({ callsPerMinute: null, ...options });
  fakes.push(fake);
  return fake;
}
afterEach(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  fakes = [];
});

/** A run: open a session and prepare one segment. */
async function run(fake: MicrosoftAdvertisingFake, ctx: TestContext, segment = 'VIP customers', overrides: Record<string, unknown> = {}) {
  const session = await customerMatch.open(conn(fake, overrides), ctx);
  const target = await session.prepare({ segment, settings, members: 10 });
  const send = (action: 'add' | 'remove', emails: string[]) => session.send({ action, records: records(emails), target, segment, settings });
  return { session, target, send };
}

runContractSuite({
  destination,
  async start() {
    const fake = await startMicrosoftAdvertisingFake();
    return {
      fake,
      config: configInput(fake, { ...account }),
      badCredentials: configInput(fake, { refreshToken: 'revoked-refresh-token-4567' }),
      settings,
      close: () => fake.close(),
    };
  },
  recordsIn: (request) =>
    request.path.endsWith('/CustomerListUserData/Apply') ? JSON.parse(request.body).CustomerListUserData.CustomerListItems.length : null,
});

describe('microsoft-advertising declaration', () => {
  it('declares e-mail as its only field, 1,000-record batches and removal', () => {
    expect(destination.id).toBe('microsoft-advertising');
    expect(destination.export).toBe(customerMatch);
    expect(Object.keys(customerMatch.fields)).toEqual(['email']);
    expect(customerMatch.fields.email).toMatchObject({ type: 'email', required: true, acceptsSha256: true });
    expect(customerMatch.extraFields).toBeUndefined();
    expect(customerMatch.limits).toMatchObject({ batchSize: 1000, maxProfilesPerExport: 500_000, concurrency: 2 });
    expect(customerMatch.supportsRemove).toBe(true);
  });

  it('defaults to the production REST URL, the common authority and one request a second', () => {
    const parsed = connectionSchema.parse({ clientId: 'c', refreshToken: 'r-token', developerToken: 'd-token' });
    expect(parsed.baseUrl).toBe('https://campaign.api.bingads.microsoft.com/CampaignManagement/v13');
    expect(parsed.authorityUrl).toBe('https://login.microsoftonline.com/common');
    expect(parsed.clientSecret).toBeUndefined();
    expect(customerMatch.rate(parsed)).toEqual({ requests: 1, perMs: 1000 });
    expect(customerMatch.rate({ ...parsed, requestsPerSecond: 4 })).toEqual({ requests: 4, perMs: 1000 });
  });

  it('takes customer and account ids as digit strings or numbers and refuses anything else', () => {
    expect(customerMatch.settings.parse({ customerId: 123, accountId: '456' })).toEqual({ customerId: '123', accountId: '456' });
    expect(customerMatch.settings.safeParse({ customerId: 'abc', accountId: '456' }).success).toBe(false);
    expect(customerMatch.settings.safeParse({ customerId: '123' }).success).toBe(false);
  });
});

describe('microsoft-advertising customer lists', () => {
  it('creates one customer list named exactly after the segment and finds it again on the next run', async () => {
    const fake = await startFake();
    fake.createAudience('VIP customers (old)');
    fake.createAudience('vip customers');
    const ctx = createTestContext({ connectionName: CONNECTION });

    const first = await run(fake, ctx);
    const created = fake.audiences(account).filter((a) => a.name === 'VIP customers');
    expect(created).toHaveLength(1);
    expect(first.target).toEqual({ audienceId: created[0]!.id, name: 'VIP customers' });
    expect(calls(fake, '/Audiences/QueryByIds').map((r) => JSON.parse(r.body))).toEqual([{ AudienceIds: [], Type: 'CustomerList' }]);
    const add = calls(fake, '/Audiences');
    expect(add.map((r) => [r.method, JSON.parse(r.body)])).toEqual([
      ['POST', { Audiences: [{ Name: 'VIP customers', Type: 'CustomerList', ParentId: account.accountId, Scope: 'Account' }] }],
    ]);
    expect(created[0]).toMatchObject({ scope: 'Account', parentId: account.accountId });
    expect(add[0]!.headers).toMatchObject({
      authorization: expect.stringMatching(/^Bearer access-/),
      developertoken: FAKE_DEFAULTS.developerToken,
      customerid: account.customerId,
      customeraccountid: account.accountId,
    });

    const again = await first.session.prepare({ segment: 'VIP customers', settings, members: 10 });
    expect(again).toEqual(first.target);
    expect(calls(fake, '/Audiences/QueryByIds')).toHaveLength(1);

    const second = await run(fake, createTestContext({ connectionName: CONNECTION }));
    expect(second.target).toEqual(first.target);
    expect(calls(fake, '/Audiences/QueryByIds')).toHaveLength(2);
    expect(calls(fake, '/Audiences')).toHaveLength(1);
    expect(fake.audiences(account)).toHaveLength(3);
  });

  it('has the fake refuse a customer list without ParentId and Scope, as the AddAudiences reference requires them', async () => {
    const fake = await startFake();
    const token = await createMicrosoftAdvertisingClient(conn(fake), createTestContext({ connectionName: CONNECTION })).accessToken();
    const add = async (audience: Record<string, unknown>) => {
      const response = await fetch(`${fake.baseUrl}/Audiences`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          Authorization: `Bearer ${token}`,
          DeveloperToken: FAKE_DEFAULTS.developerToken,
          CustomerId: account.customerId,
          CustomerAccountId: account.accountId,
        },
        body: JSON.stringify({ Audiences: [{ Name: 'Bare', Type: 'CustomerList', ...audience }] }),
      });
      return { status: response.status, body: (await response.json()) as { AudienceIds: unknown[]; PartialErrors: Array<{ ErrorCode: string; Index: number }> } };
    };
    for (const missing of [{}, { Scope: 'Account' }, { ParentId: account.accountId }, { Scope: 'Account', ParentId: '999' }]) {
      const { status, body } = await add(missing);
      expect(status).toBe(200);
      expect(body.AudienceIds).toEqual([null]);
      expect(body.PartialErrors).toEqual([expect.objectContaining({ Index: 0, ErrorCode: expect.stringMatching(/^Audience(ScopeRequired|ParentIdInvalid)$/) })]);
    }
    expect(fake.audiences()).toEqual([]);
    const shared = await add({ Scope: 'Customer', ParentId: account.customerId });
    expect(shared.body.PartialErrors).toEqual([]);
    expect(fake.audiences()).toEqual([expect.objectContaining({ name: 'Bare', scope: 'Customer', parentId: account.customerId })]);
  });

  it("prefers the account's own list over a manager-shared list with the same name", async () => {
    const fake = await startFake();
    // Seeded first, so the list query answers with the shared list ahead of the account's own.
    const sharedId = fake.createAudience('VIP customers', account, { scope: 'Customer' });
    const ownId = fake.createAudience('VIP customers', account);
    const { target, send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    expect(target.audienceId).toBe(ownId);
    await send('add', ['a@example.com']);
    expect(fake.members(ownId)).toEqual([sha256Hex('a@example.com')]);
    expect(fake.members(sharedId)).toEqual([]);
    expect(calls(fake, '/Audiences')).toHaveLength(0);
  });

  it('uses a manager-shared list of the segment name when the account has none of its own', async () => {
    const fake = await startFake();
    const sharedId = fake.createAudience('VIP customers', account, { scope: 'Customer' });
    const { target } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    expect(target.audienceId).toBe(sharedId);
    expect(calls(fake, '/Audiences')).toHaveLength(0);
  });

  it('accepts audience ids that come back as JSON numbers', async () => {
    const fake = await startFake({ idsAsNumbers: true });
    const ctx = createTestContext({ connectionName: CONNECTION });
    const { target, send } = await run(fake, ctx, 'Numbers');
    expect(target.audienceId).toMatch(/^\d+$/);
    const reused = await run(fake, ctx, 'Numbers');
    expect(reused.target.audienceId).toBe(target.audienceId);
    await send('add', ['ann@example.com']);
    expect(applyBodies(fake)[0]!.AudienceId).toBe(target.audienceId);
    expect(fake.members(target.audienceId)).toEqual([sha256Hex('ann@example.com')]);
  });

  it('refuses a segment name longer than 128 characters before calling Microsoft', async () => {
    const fake = await startFake();
    const session = await customerMatch.open(conn(fake), createTestContext({ connectionName: CONNECTION }));
    const error = await failure(session.prepare({ segment: 'x'.repeat(129), settings, members: 1 }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_settings');
    expect(error.message).toContain('128');
    expect(fake.requests).toHaveLength(0);
  });

  it('throws list_not_found when the customer list no longer exists', async () => {
    const fake = await startFake();
    const session = await customerMatch.open(conn(fake), createTestContext({ connectionName: CONNECTION }));
    const target: CustomerListTarget = { audienceId: '999999', name: 'Gone' };
    const error = await failure(session.send({ action: 'add', records: records(['a@example.com']), target, segment: 'Gone', settings }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('list_not_found');
    expect(error.message).toContain(CONNECTION);
  });
});

describe('microsoft-advertising members', () => {
  it('hashes e-mails with SHA-256 and passes pre-hashed values through lower-cased, never hashed twice', async () => {
    expect(emailHash('test@contoso.com')).toBe(TEST_VECTOR);
    expect(emailHash(TEST_VECTOR.toUpperCase())).toBe(TEST_VECTOR);

    const fake = await startFake();
    const { target, send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    const preHashed = sha256Hex('someone@example.org');
    const outcome = await send('add', ['test@contoso.com', TEST_VECTOR.toUpperCase(), 'other@example.com', preHashed.toUpperCase()]);

    expect(outcome).toEqual({ rejected: [] });
    const [body] = applyBodies(fake);
    expect(body).toEqual({
      ActionType: 'Add',
      AudienceId: target.audienceId,
      CustomerListItemSubType: 'Email',
      CustomerListItems: [TEST_VECTOR, sha256Hex('other@example.com'), preHashed],
      AcceptCustomerMatchTerm: true,
    });
    expect(calls(fake, '/CustomerListUserData/Apply')[0]!.body).not.toContain('@');
    expect(fake.members(target.audienceId).sort()).toEqual([TEST_VECTOR, sha256Hex('other@example.com'), preHashed].sort());
  });

  it('removes members with ActionType Remove', async () => {
    const fake = await startFake();
    const { target, send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    await send('add', ['a@example.com', 'b@example.com', 'c@example.com']);
    const outcome = await send('remove', ['b@example.com', sha256Hex('c@example.com')]);
    expect(outcome).toEqual({ rejected: [] });
    expect(applyBodies(fake)[1]).toMatchObject({ ActionType: 'Remove', CustomerListItems: [sha256Hex('b@example.com'), sha256Hex('c@example.com')] });
    expect(fake.members(target.audienceId)).toEqual([sha256Hex('a@example.com')]);
  });

  it('maps PartialErrors back to every record that shared the rejected hash', async () => {
    const fake = await startFake();
    const { target, send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    fake.rejectEmails(['a@example.com', 'c@example.com']);
    const emails = ['a@example.com', 'b@example.com', 'a@example.com', 'c@example.com', sha256Hex('b@example.com'), 'd@example.com', sha256Hex('c@example.com')];
    const outcome = await send('add', emails);

    expect(applyBodies(fake)[0]!.CustomerListItems).toEqual(['a', 'b', 'c', 'd'].map((x) => sha256Hex(`${x}@example.com`)));
    expect(outcome.rejected.map((r) => r.index)).toEqual([0, 2, 3, 6]);
    for (const rejection of outcome.rejected) {
      expect(rejection.code).toBe('upstream_rejected');
      expect(rejection.message).toContain('90014');
      expect(rejection.message).not.toMatch(/@|[0-9a-f]{64}/);
    }
    expect(fake.members(target.audienceId).sort()).toEqual([sha256Hex('b@example.com'), sha256Hex('d@example.com')].sort());
  });

  it('rejects a malformed e-mail without sending it', async () => {
    const fake = await startFake();
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    const outcome = await send('add', ['ok@example.com', 'not an e-mail']);
    expect(outcome.rejected).toEqual([{ index: 1, code: 'invalid_email', message: expect.stringContaining('malformed') }]);
    expect(applyBodies(fake)[0]!.CustomerListItems).toEqual([sha256Hex('ok@example.com')]);
  });

  it('runs two batches at once with a single token refresh', async () => {
    const fake = await startFake();
    let clock = Date.now();
    const ctx = createTestContext({ connectionName: CONNECTION, now: () => new Date(clock) });
    const { target, send } = await run(fake, ctx);
    clock += 3600_000;
    const outcomes = await Promise.all([send('add', ['a@example.com']), send('add', ['b@example.com'])]);
    expect(outcomes).toEqual([{ rejected: [] }, { rejected: [] }]);
    expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(2);
    expect(fake.members(target.audienceId)).toHaveLength(2);
  });
});

describe('microsoft-advertising OAuth', () => {
  it('saves a rotated refresh token through ctx.saveSecrets, and the saved one works on the next run', async () => {
    const fake = await startFake({ revokeUsedRefreshTokens: true });
    const ctx = createTestContext({ connectionName: CONNECTION });
    await run(fake, ctx);

    const rotated = fake.issuedRefreshTokens();
    expect(rotated).toHaveLength(1);
    expect(ctx.savedSecrets).toEqual({ refreshToken: rotated[0] });
    expect(fake.isRefreshTokenValid(FAKE_DEFAULTS.refreshToken)).toBe(false);

    const next = createTestContext({ connectionName: CONNECTION });
    const { send } = await run(fake, next, 'VIP customers', { refreshToken: ctx.savedSecrets.refreshToken });
    expect(await send('add', ['a@example.com'])).toEqual({ rejected: [] });
    expect(next.savedSecrets.refreshToken).toBe(fake.issuedRefreshTokens()[1]);
    const tokenBodies = calls(fake, '/oauth2/v2.0/token').map((r) => new URLSearchParams(r.body));
    expect(tokenBodies.map((b) => b.get('refresh_token'))).toEqual([FAKE_DEFAULTS.refreshToken, rotated[0]]);
    expect(tokenBodies[0]!.get('scope')).toBe('https://ads.microsoft.com/msads.manage offline_access');
    expect(tokenBodies[0]!.get('client_secret')).toBe(FAKE_DEFAULTS.clientSecret);
  });

  it('keeps the stored refresh token when Microsoft does not rotate it', async () => {
    const fake = await startFake({ rotateRefreshTokens: false });
    let clock = Date.now();
    const ctx = createTestContext({ connectionName: CONNECTION, now: () => new Date(clock) });
    const { send } = await run(fake, ctx);
    clock += 3600_000;
    await send('add', ['a@example.com']);
    expect(ctx.savedSecrets).toEqual({});
    const used = calls(fake, '/oauth2/v2.0/token').map((r) => new URLSearchParams(r.body).get('refresh_token'));
    expect(used).toEqual([FAKE_DEFAULTS.refreshToken, FAKE_DEFAULTS.refreshToken]);
  });

  it('refreshes an access token that Microsoft calls expired mid-run and retries the request once', async () => {
    const fake = await startFake();
    const ctx = createTestContext({ connectionName: CONNECTION });
    const { target, send } = await run(fake, ctx);
    await send('add', ['a@example.com']);
    fake.expireAccessTokens();
    const outcome = await send('add', ['b@example.com']);

    expect(outcome).toEqual({ rejected: [] });
    const tail = fake.requests.slice(-3).map((r) => [r.path.split('/').pop(), r.status]);
    expect(tail).toEqual([
      ['Apply', 401],
      ['token', 200],
      ['Apply', 200],
    ]);
    expect(fake.members(target.audienceId).sort()).toEqual([sha256Hex('a@example.com'), sha256Hex('b@example.com')].sort());
  });

  it('renews the access token shortly before expires_in instead of waiting for a 401', async () => {
    const fake = await startFake();
    let clock = Date.now();
    const ctx = createTestContext({ connectionName: CONNECTION, now: () => new Date(clock) });
    const { send } = await run(fake, ctx);
    clock += 3000_000;
    await send('add', ['a@example.com']);
    expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(1);
    clock += (3600 - 3000 - 60) * 1000;
    await send('add', ['b@example.com']);
    expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(2);
    expect(fake.requests.filter((r) => r.status === 401)).toEqual([]);
  });

  it('turns a revoked refresh token into token_expired that names `outflow connection authorize`', async () => {
    const fake = await startFake();
    fake.revokeRefreshTokens();
    const ctx = createTestContext({ connectionName: CONNECTION });
    const error = await failure(run(fake, ctx));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('token_expired');
    expect(error.message).toContain(`outflow connection authorize ${CONNECTION}`);
    expect(error.message).toContain('AADSTS70008');

    const result = await destination.connection.check(conn(fake), ctx);
    expect(result).toMatchObject({ ok: false, code: 'token_expired', message: expect.stringContaining(`outflow connection authorize ${CONNECTION}`) });
  });

  it('says how to sign in when a connection was saved without a refresh token, and calls nothing', async () => {
    const fake = await startFake();
    const result = await destination.connection.check(conn(fake, { refreshToken: undefined }), createTestContext({ connectionName: CONNECTION }));
    expect(result).toMatchObject({ ok: false, code: 'auth_failed', message: expect.stringContaining('is not signed in to Microsoft yet') });
    expect(result.ok ? '' : result.message).toContain('Sign in with Microsoft Advertising');
    expect(result.ok ? '' : result.message).toContain(`outflow connection authorize ${CONNECTION}`);
    expect(fake.requests).toHaveLength(0);
  });

  it('reports a wrong client secret and a public client that sends a secret as auth_failed', async () => {
    const fake = await startFake({ refreshTokens: [{ token: 'public-refresh-token', clientId: FAKE_DEFAULTS.publicClientId }] });
    const ctx = createTestContext({ connectionName: CONNECTION });
    const wrongSecret = await destination.connection.check(conn(fake, { clientSecret: 'wrong-secret-value', refreshToken: 'public-refresh-token' }), ctx);
    expect(wrongSecret).toMatchObject({ ok: false, code: 'auth_failed', message: expect.stringContaining('client id or client secret') });

    const publicWithSecret = await destination.connection.check(
      conn(fake, { clientId: FAKE_DEFAULTS.publicClientId, refreshToken: 'public-refresh-token' }),
      ctx,
    );
    expect(publicWithSecret).toMatchObject({ ok: false, code: 'auth_failed', message: expect.stringContaining('Remove clientSecret') });

    const publicClient = await destination.connection.check(
      conn(fake, { clientId: FAKE_DEFAULTS.publicClientId, clientSecret: undefined, refreshToken: 'public-refresh-token' }),
      ctx,
    );
    expect(publicClient).toEqual({ ok: true, details: { signedIn: true } });
    expect(new URLSearchParams(calls(fake, '/oauth2/v2.0/token').at(-1)!.body).has('client_secret')).toBe(false);
  });

  it('stops with auth_failed when Microsoft refuses the developer token even with a fresh access token', async () => {
    const fake = await startFake();
    const ctx = createTestContext({ connectionName: CONNECTION });
    const error = await failure(run(fake, ctx, 'VIP customers', { developerToken: 'sandbox-developer-token' }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('auth_failed');
    expect(error.message).toContain('developerToken');
    expect(error.message).toMatch(/TrackingId [0-9a-f-]{36}/);
    expect(calls(fake, '/Audiences/QueryByIds').map((r) => r.status)).toEqual([401, 401]);
    expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(2);
  });
});

describe('microsoft-advertising 401 answers that a new token cannot fix', () => {
  for (const [label, faultCode, expected] of [
    ['120 UserLoginAccessDenied', 120, /120 UserLoginAccessDenied: Failure forced by the test/],
    ['no fault in the body', null, /no fault details, HTTP 401/],
  ] as const) {
    it(`fails with auth_failed and Microsoft's answer, without refreshing the token, on a 401 with ${label}`, async () => {
      const fake = await startFake();
      const ctx = createTestContext({ connectionName: CONNECTION });
      fake.failNext(401, { faultCode });
      const error = await failure(run(fake, ctx));
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe('auth_failed');
      expect(error.message).toMatch(expected);
      expect(error.message).toContain(`outflow connection verify ${CONNECTION}`);
      expect(calls(fake, '/Audiences/QueryByIds').map((r) => r.status)).toEqual([401]);
      expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(1);
    });
  }

  it('still refreshes once on 109 AuthenticationTokenExpired and carries on', async () => {
    const fake = await startFake();
    fake.failNext(401, { faultCode: 109 });
    const { target } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    expect(target.audienceId).toMatch(/^\d+$/);
    expect(calls(fake, '/Audiences/QueryByIds').map((r) => r.status)).toEqual([401, 200]);
    expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(2);
  });
});

describe('microsoft-advertising check()', () => {
  it('signs in and reads the customer lists of the configured account', async () => {
    const fake = await startFake();
    fake.createAudience('Existing');
    const result = await destination.connection.check(conn(fake, account), createTestContext({ connectionName: CONNECTION, verifying: true }));
    expect(result).toEqual({ ok: true, details: { signedIn: true, customerLists: 1 } });
    expect(calls(fake, '/Audiences/QueryByIds')).toHaveLength(1);
  });

  it('only signs in when the connection names no account', async () => {
    const fake = await startFake();
    const result = await destination.connection.check(conn(fake), createTestContext({ connectionName: CONNECTION }));
    expect(result).toEqual({ ok: true, details: { signedIn: true } });
    expect(fake.requests.map((r) => r.path)).toEqual(['/common/oauth2/v2.0/token']);
  });

  it('reports an account the user cannot reach as permission_denied', async () => {
    const fake = await startFake();
    const result = await destination.connection.check(conn(fake, { customerId: '1000001', accountId: '9999999' }), createTestContext({ connectionName: CONNECTION }));
    expect(result).toMatchObject({ ok: false, code: 'permission_denied', message: expect.stringContaining('9999999') });
  });

  it('asks for both customerId and accountId when only one is set', async () => {
    const fake = await startFake();
    const result = await destination.connection.check(conn(fake, { customerId: '1000001' }), createTestContext({ connectionName: CONNECTION }));
    expect(result).toMatchObject({ ok: false, code: 'invalid_settings', message: expect.stringContaining('accountId') });
    expect(fake.requests).toHaveLength(0);
  });

  it('reports fault 116 (missing headers) as invalid_settings', async () => {
    const fake = await startFake();
    fake.failNext(400, { faultCode: 116 });
    const result = await destination.connection.check(conn(fake, account), createTestContext({ connectionName: CONNECTION }));
    expect(result).toMatchObject({ ok: false, code: 'invalid_settings', message: expect.stringContaining('customerId and accountId') });
  });

  it('reports a token endpoint outage as upstream_unavailable', async () => {
    const fake = await startFake();
    fake.failNext(503, { path: '/oauth2/v2.0/token' });
    const result = await destination.connection.check(conn(fake), createTestContext({ connectionName: CONNECTION }));
    expect(result).toMatchObject({ ok: false, code: 'upstream_unavailable' });
  });
});

describe('microsoft-advertising terms and faults', () => {
  it('accepts the Customer Match terms through AcceptCustomerMatchTerm on an account that never accepted them', async () => {
    const fake = await startFake();
    expect(fake.terms(account.accountId)).toBe('not-accepted');
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    expect(await send('add', ['a@example.com'])).toEqual({ rejected: [] });
    expect(fake.terms(account.accountId)).toBe('accepted');
  });

  it('explains 8003 when Microsoft will not create the customer list', async () => {
    const fake = await startFake();
    fake.setTerms(account.accountId, 'ui-only');
    const error = await failure(run(fake, createTestContext({ connectionName: CONNECTION })));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('terms_not_accepted');
    expect(error.message).toContain('accept the Customer Match terms');
    expect(error.message).toContain(CONNECTION);
    expect(fake.audiences(account)).toEqual([]);
  });

  for (const style of ['fault', 'partial'] as const) {
    it(`explains 8003 from Apply when it comes as ${style === 'fault' ? 'a fault' : 'a PartialError on HTTP 200'}`, async () => {
      const fake = await startFake({ applyTermsError: style });
      const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
      fake.setTerms(account.accountId, 'ui-only');
      const error = await failure(send('add', ['a@example.com', 'b@example.com']));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('terms_not_accepted');
      expect(error.message).toContain('accept the Customer Match terms');
    });
  }

  it('reads a fault nested under ApplicationFault', async () => {
    const fake = await startFake();
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    fake.failNext(400, { faultCode: 8003, nested: true });
    const error = await failure(send('add', ['a@example.com']));
    expect((error as ConfigError).code).toBe('terms_not_accepted');
  });

  it('turns HTTP 429 with fault 117 into rate_limited, waiting 60 s unless Retry-After says otherwise', async () => {
    const fake = await startFake();
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    fake.setRateLimit({ callsPerMinute: 1, windowMs: 60_000 });
    await send('add', ['a@example.com']);

    const error = await failure(send('add', ['b@example.com']));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('rate_limited');
    expect((error as RetryableError).retryAfterMs).toBe(60_000);
    expect(error.message).toContain('117 CallRateExceeded');
    expect(calls(fake, '/CustomerListUserData/Apply').map((r) => r.status)).toEqual([200, 429]);

    fake.setRateLimit({ callsPerMinute: 0, retryAfterS: 2 });
    const withHeader = await failure(send('add', ['b@example.com']));
    expect((withHeader as RetryableError).retryAfterMs).toBe(2000);
  });

  it('treats fault 117 under another HTTP status as throttling too', async () => {
    const fake = await startFake();
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    fake.failNext(400, { faultCode: 117 });
    const error = await failure(send('add', ['a@example.com']));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('rate_limited');
    expect((error as RetryableError).retryAfterMs).toBe(60_000);
  });

  it('turns a server error into upstream_unavailable with the TrackingId', async () => {
    const fake = await startFake();
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    fake.failNext(503);
    const error = await failure(send('add', ['a@example.com']));
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as RetryableError).code).toBe('upstream_unavailable');
    expect(error.message).toMatch(/TrackingId [0-9a-f-]{36}/);
    expect(calls(fake, '/CustomerListUserData/Apply').map((r) => r.status)).toEqual([503]);
  });

  it('rejects more than 1,000 items in one Apply call as the fake and Microsoft do', async () => {
    const fake = await startFake();
    const { send } = await run(fake, createTestContext({ connectionName: CONNECTION }));
    const emails = Array.from({ length: 1001 }, (_, i) => `m${i}@example.com`);
    const error = await failure(send('add', emails));
    expect(error.message).toContain('CustomerListItemsArrayExceedsLimit');
    expect(calls(fake, '/CustomerListUserData/Apply').map((r) => r.status)).toEqual([400]);
  });
});

describe('microsoft-advertising authorize', () => {
  it('signs in with PKCE on a loopback redirect and returns a refresh token that works', async () => {
    const fake = await startFake();
    let page = '';
    const { refreshToken } = await authorizeMicrosoftAdvertising({
      clientId: FAKE_DEFAULTS.publicClientId,
      authorityUrl: fake.authorityUrl,
      connectionName: CONNECTION,
      async onAuthorizeUrl(url) {
        const parsed = new URL(url);
        expect(parsed.origin + parsed.pathname).toBe(`${fake.authorityUrl}/oauth2/v2.0/authorize`);
        expect(Object.fromEntries(parsed.searchParams)).toMatchObject({
          client_id: FAKE_DEFAULTS.publicClientId,
          response_type: 'code',
          scope: 'https://ads.microsoft.com/msads.manage offline_access',
          code_challenge_method: 'S256',
          code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
          state: expect.stringMatching(/^[A-Za-z0-9_-]{16,}$/),
          redirect_uri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/),
        });
        // Stands in for the browser: the fake's authorize page redirects straight to the loopback server.
        page = await (await fetch(url)).text();
      },
    });

    expect(page).toContain('Signed in');
    expect(fake.issuedRefreshTokens()).toEqual([refreshToken]);
    expect(fake.codeExchanges).toEqual([{ clientId: FAKE_DEFAULTS.publicClientId, pkce: 'verified' }]);
    const exchange = new URLSearchParams(calls(fake, '/oauth2/v2.0/token')[0]!.body);
    expect(exchange.get('grant_type')).toBe('authorization_code');
    expect(exchange.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(exchange.has('client_secret')).toBe(false);

    const check = await destination.connection.check(
      conn(fake, { clientId: FAKE_DEFAULTS.publicClientId, clientSecret: undefined, refreshToken, ...account }),
      createTestContext({ connectionName: CONNECTION }),
    );
    expect(check).toEqual({ ok: true, details: { signedIn: true, customerLists: 0 } });
  });

  it('sends the client secret of a confidential client and ignores a redirect with the wrong state', async () => {
    const fake = await startFake();
    const { refreshToken } = await authorizeMicrosoftAdvertising({
      clientId: FAKE_DEFAULTS.clientId,
      clientSecret: FAKE_DEFAULTS.clientSecret,
      authorityUrl: fake.authorityUrl,
      connectionName: CONNECTION,
      async onAuthorizeUrl(url) {
        const redirect = new URL(url).searchParams.get('redirect_uri')!;
        const forged = await fetch(`${redirect}?code=stolen&state=wrong`);
        expect(forged.status).toBe(400);
        expect((await fetch(`${redirect}favicon.ico`)).status).toBe(404);
        await fetch(url);
      },
    });
    expect(fake.isRefreshTokenValid(refreshToken)).toBe(true);
    expect(new URLSearchParams(calls(fake, '/oauth2/v2.0/token')[0]!.body).get('client_secret')).toBe(FAKE_DEFAULTS.clientSecret);
    expect(fake.codeExchanges).toEqual([{ clientId: FAKE_DEFAULTS.clientId, pkce: 'verified' }]);
  });

  it('refuses a blank clientId or a malformed authorityUrl before it starts the sign-in', async () => {
    let opened = 0;
    for (const [clientId, authorityUrl] of [['  ', undefined], [FAKE_DEFAULTS.publicClientId, 'login.example.com/common']] as const) {
      const error = await failure(authorizeMicrosoftAdvertising({ clientId, authorityUrl, connectionName: CONNECTION, onAuthorizeUrl: () => void opened++ }));
      expect(error).toMatchObject({ code: 'invalid_settings' });
      expect(error.message).toMatch(/no clientId|authorityUrl that is not an http\(s\) URL/);
    }
    expect(opened).toBe(0);
  });

  it('fails with auth_failed when the user declines consent', async () => {
    const fake = await startFake();
    fake.denyNextConsent();
    const error = await failure(
      authorizeMicrosoftAdvertising({
        clientId: FAKE_DEFAULTS.publicClientId,
        authorityUrl: fake.authorityUrl,
        connectionName: CONNECTION,
        onAuthorizeUrl: async (url) => void (await fetch(url)),
      }),
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('access_denied');
    expect(error.message).toContain(`outflow connection authorize ${CONNECTION}`);
    expect(calls(fake, '/oauth2/v2.0/token')).toHaveLength(0);
  });

  it('gives up after its timeout when no browser comes back', async () => {
    let redirect = '';
    const error = await failure(
      authorizeMicrosoftAdvertising({
        clientId: 'any',
        authorityUrl: 'http://127.0.0.1:9/common',
        connectionName: CONNECTION,
        timeoutMs: 150,
        onAuthorizeUrl: (url) => void (redirect = new URL(url).searchParams.get('redirect_uri')!),
      }),
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('No sign-in came back');
    const closed = await fetch(redirect).then(
      () => 'open',
      () => 'closed',
    );
    expect(closed).toBe('closed');
  });
});

describe('microsoft-advertising secrets', () => {
  it('never writes a credential or a token into a log line or an error message', async () => {
    const fake = await startFake();
    const ctx = createTestContext({ connectionName: CONNECTION });
    const messages: string[] = [];
    const { send } = await run(fake, ctx);
    await send('add', ['a@example.com']);
    fake.expireAccessTokens();
    await send('add', ['b@example.com']);
    messages.push((await failure(run(fake, ctx, 'Other', { developerToken: 'wrong-developer-token' }))).message);
    const check = await destination.connection.check(conn(fake, { clientSecret: 'wrong-client-secret' }), ctx);
    if (!check.ok) messages.push(check.message);
    fake.revokeRefreshTokens();
    messages.push((await failure(run(fake, ctx))).message);

    const everything = [...messages, ...ctx.logLines].join('\n');
    expect(messages).toHaveLength(3);
    expect(ctx.logLines.some((line) => line.includes('new refresh token'))).toBe(true);
    const secrets = [
      FAKE_DEFAULTS.clientSecret,
      FAKE_DEFAULTS.refreshToken,
      FAKE_DEFAULTS.developerToken,
      'wrong-developer-token',
      'wrong-client-secret',
      ...fake.issuedRefreshTokens(),
      ...fake.issuedAccessTokens(),
    ];
    expect(secrets.length).toBeGreaterThan(6);
    for (const value of secrets) expect(everything).not.toContain(value);
  });
});
