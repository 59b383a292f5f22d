import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ContractFake, RecordedRequest } from '../kit/contract.case.ts';
import { listenOnLoopback } from '../kit/listen.ts';

// A local stand-in for the Microsoft identity platform (token + authorize) and the Campaign Management REST
// v13 routes Outflow calls, following section 9 of /work/shared/destinations/microsoft-advertising.md.
// Where Microsoft documents no error code (array limits, duplicate names, the contract's rejected items) the
// fake uses codes of its own from 90001 up; the client treats any code it does not know as opaque.

/** `ui-only`: Microsoft insists on acceptance in its web UI (a user who never accepted there). */
export type TermsState = 'accepted' | 'not-accepted' | 'ui-only';

export interface FakeOAuthClient {
  clientId: string;
  /** Absent: a public (native) client, which must not send a secret. */
  clientSecret?: string;
}

export interface FakeAccount {
  customerId: string;
  accountId: string;
  terms?: TermsState;
}

export interface MicrosoftAdvertisingFakeOptions {
  clients?: FakeOAuthClient[];
  refreshTokens?: Array<{ token: string; clientId: string }>;
  developerToken?: string;
  accounts?: FakeAccount[];
  /** `expires_in` of issued access tokens; default 3600. */
  accessTokenTtlS?: number;
  /** Issue a new refresh token on every refresh; default true (Microsoft does). */
  rotateRefreshTokens?: boolean;
  /** Also revoke the refresh token that was just used; default false (Microsoft does not). */
  revokeUsedRefreshTokens?: boolean;
  /** Campaign Management calls per customer in `throttleWindowMs`; null: unlimited. */
  callsPerMinute?: number | null;
  throttleWindowMs?: number;
  /** Retry-After seconds on a throttled call; null (default): none, as Microsoft documents none. */
  throttleRetryAfterS?: number | null;
  latencyMs?: number;
  /** How Apply reports 8003: a 400 ApiFaultDetail (default) or HTTP 200 with PartialErrors. */
  applyTermsError?: 'fault' | 'partial';
  /** Send audience ids as JSON numbers instead of strings (Microsoft's docs quote them; some answers do not). */
  idsAsNumbers?: boolean;
  /** Loopback port to listen on; default: a free one. */
  port?: number;
  /** Keep every request in `requests` (default true; a long benchmark may turn it off). */
  recordRequests?: boolean;
}

export const FAKE_DEFAULTS = {
  clientId: 'fake-client-id',
  clientSecret: 'fake-client-secret-0123',
  publicClientId: 'fake-public-client-id',
  refreshToken: 'fake-refresh-token-0123',
  developerToken: 'fake-developer-token-0123',
  customerId: '1000001',
  accountId: '2000001',
  /**
   * Microsoft publishes no call rate; this stand-in allows twice the client's default pacing (1 request/s),
   * so the benchmark shows headroom rather than throttling.
   */
  callsPerMinute: 120,
} as const;

/** `Account`: owned by one ad account (ParentId = account id); `Customer`: shared by the manager account (ParentId = customer id). */
export type AudienceScope = 'Account' | 'Customer';

export interface FakeAudience {
  id: string;
  name: string;
  customerId: string;
  /** The account that created it; a `Customer`-scoped list is visible to every account of the customer. */
  accountId: string;
  scope: AudienceScope;
  parentId: string;
  members: string[];
}

export interface FakeCall extends RecordedRequest {
  status?: number;
}

export interface FailureOptions {
  retryAfterS?: number;
  path?: string;
  /** The fault code in the body; default 117 for 429, 109 for 401, 0 for 5xx; null: a body with no fault at all. */
  faultCode?: number | null;
  /** Wrap the fault as `{ ApplicationFault: … }`, the envelope of Microsoft's PHP REST migration guide. */
  nested?: boolean;
}

export interface MicrosoftAdvertisingFake extends ContractFake {
  readonly url: string;
  /** `${url}/common`: the connection's authorityUrl. */
  readonly authorityUrl: string;
  /** `${url}/CampaignManagement/v13`: the connection's baseUrl. */
  readonly baseUrl: string;
  readonly requests: FakeCall[];
  /** Every authorization-code exchange, and whether PKCE was checked. */
  readonly codeExchanges: Array<{ clientId: string; pkce: 'verified' | 'none' }>;
  close(): Promise<void>;
  /**
   * The next request (under /CampaignManagement, or whose path contains `path`) answers `status`. The token
   * endpoint stands for another host and only fails when `path` names it.
   */
  failNext(status: number, options?: FailureOptions): void;
  rejectEmails(emails: string[]): void;
  audiences(account?: { customerId: string; accountId: string }): FakeAudience[];
  /**
   * Seeds a customer list, as if someone created it in the web UI. `scope: 'Customer'` makes it a list the
   * manager account shares with all its accounts (ParentId = the customer id).
   */
  createAudience(name: string, account?: { customerId: string; accountId: string }, options?: { scope?: AudienceScope }): string;
  members(audienceId: string): string[];
  /** Deletes a customer list, as someone might in the web UI. */
  deleteAudience(audienceId: string): void;
  setTerms(accountId: string, terms: TermsState): void;
  terms(accountId: string): TermsState;
  addAccount(account: FakeAccount): void;
  addRefreshToken(token: string, clientId?: string): void;
  isRefreshTokenValid(token: string): boolean;
  revokeRefreshTokens(): void;
  /** Every access token issued so far answers 109 AuthenticationTokenExpired from now on. */
  expireAccessTokens(): void;
  /** Every access token issued so far, newest last (to prove none leaks). */
  issuedAccessTokens(): string[];
  /** Every refresh token issued so far by rotation or code exchange. */
  issuedRefreshTokens(): string[];
  setRateLimit(limit: { callsPerMinute: number | null; windowMs?: number; retryAfterS?: number | null }): void;
  setLatency(ms: number): void;
  /** The next visit to the authorize page redirects with error=access_denied. */
  denyNextConsent(): void;
}

interface Grant {
  clientId: string;
  revoked: boolean;
}

interface AuthCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  challenge: string | undefined;
  method: string | undefined;
}

interface Audience {
  id: string;
  name: string;
  customerId: string;
  accountId: string;
  scope: AudienceScope;
  members: Set<string>;
}

interface BatchError {
  Code: number;
  Details: string | null;
  ErrorCode: string;
  FieldPath: string | null;
  ForwardCompatibilityMap: null;
  Index: number;
  Message: string;
  Type: 'BatchError';
}

const MANAGE_SCOPE = 'https://ads.microsoft.com/msads.manage';
const SHA256_LOWER_HEX = /^[0-9a-f]{64}$/;

export async function startMicrosoftAdvertisingFake(options: MicrosoftAdvertisingFakeOptions = {}): Promise<MicrosoftAdvertisingFake> {
  const clients = new Map<string, FakeOAuthClient>(
    (options.clients ?? [
      { clientId: FAKE_DEFAULTS.clientId, clientSecret: FAKE_DEFAULTS.clientSecret },
      { clientId: FAKE_DEFAULTS.publicClientId },
    ]).map((client) => [client.clientId, client]),
  );
  const refreshTokens = new Map<string, Grant>(
    (options.refreshTokens ?? [{ token: FAKE_DEFAULTS.refreshToken, clientId: FAKE_DEFAULTS.clientId }]).map((entry) => [
      entry.token,
      { clientId: entry.clientId, revoked: false },
    ]),
  );
  const accessTokens = new Map<string, { expiresAtMs: number }>();
  const authCodes = new Map<string, AuthCode>();
  const developerToken = options.developerToken ?? FAKE_DEFAULTS.developerToken;
  const accounts = new Map<string, FakeAccount & { terms: TermsState }>();
  for (const account of options.accounts ?? [{ customerId: FAKE_DEFAULTS.customerId, accountId: FAKE_DEFAULTS.accountId }]) {
    accounts.set(account.accountId, { ...account, terms: account.terms ?? 'not-accepted' });
  }
  const audiences = new Map<string, Audience>();
  let nextAudienceId = 700_000_001;
  const accessTtlS = options.accessTokenTtlS ?? 3600;
  const rotate = options.rotateRefreshTokens ?? true;
  const revokeUsed = options.revokeUsedRefreshTokens ?? false;
  let callsPerMinute = options.callsPerMinute === undefined ? FAKE_DEFAULTS.callsPerMinute : options.callsPerMinute;
  let windowMs = options.throttleWindowMs ?? 60_000;
  let throttleRetryAfterS = options.throttleRetryAfterS ?? null;
  let latencyMs = options.latencyMs ?? 0;
  const recordRequests = options.recordRequests ?? true;
  const callTimes = new Map<string, number[]>();
  const forced: Array<FailureOptions & { status: number }> = [];
  let rejectedHashes = new Set<string>();
  let denyConsent = false;
  const requests: FakeCall[] = [];
  const codeExchanges: Array<{ clientId: string; pkce: 'verified' | 'none' }> = [];
  const issuedAccess: string[] = [];
  const issuedRefresh: string[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'fake_failure', error_description: String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const call: FakeCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: Object.fromEntries(Object.entries(req.headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(', ') : (value ?? '')])),
      body,
    };
    if (recordRequests) requests.push(call);
    res.on('finish', () => {
      call.status = res.statusCode;
    });
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    const isRest = url.pathname.startsWith('/CampaignManagement/');
    const forcedIndex = forced.findIndex((entry) => (entry.path ? url.pathname.includes(entry.path) : isRest));
    if (forcedIndex >= 0) {
      const [failure] = forced.splice(forcedIndex, 1);
      return isRest ? forcedRestFailure(res, failure!) : forcedTokenFailure(res, failure!);
    }

    if (/^\/[^/]+\/oauth2\/v2\.0\/authorize$/.test(url.pathname) && req.method === 'GET') return authorize(res, url.searchParams);
    if (/^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname) && req.method === 'POST') return token(res, new URLSearchParams(body));
    if (url.pathname.startsWith('/CampaignManagement/v13/')) return rest(req, res, url.pathname.slice('/CampaignManagement/v13'.length), body);
    json(res, 404, { message: 'no such route in the fake' });
  }

  // ---------------------------------------------------------------------------------------------------
  // Identity platform

  function authorize(res: ServerResponse, params: URLSearchParams): void {
    const redirectUri = params.get('redirect_uri') ?? '';
    const client = clients.get(params.get('client_id') ?? '');
    if (!client) return aadError(res, 400, 'unauthorized_client', 'AADSTS700016: Application was not found in the directory.');
    // Microsoft takes loopback http redirect URIs (native apps) and https ones (web apps, such as
    // `outflow serve`'s callback); plain http elsewhere is refused.
    if (!/^(http:\/\/(127\.0\.0\.1|localhost)(:\d+)?|https:\/\/[^/?#]+)\//.test(redirectUri)) {
      return aadError(res, 400, 'invalid_request', 'AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    }
    const back = new URL(redirectUri);
    const state = params.get('state');
    if (state !== null) back.searchParams.set('state', state);
    if (denyConsent) {
      denyConsent = false;
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
    } else if (params.get('response_type') !== 'code') {
      back.searchParams.set('error', 'unsupported_response_type');
    } else {
      const code = `code-${randomUUID()}`;
      authCodes.set(code, {
        clientId: client.clientId,
        redirectUri,
        scope: params.get('scope') ?? '',
        challenge: params.get('code_challenge') ?? undefined,
        method: params.get('code_challenge_method') ?? undefined,
      });
      back.searchParams.set('code', code);
    }
    // Stands in for the user's consent in a browser: straight back to the app's redirect URI.
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  function token(res: ServerResponse, form: URLSearchParams): void {
    const client = clients.get(form.get('client_id') ?? '');
    if (!client) return aadError(res, 400, 'unauthorized_client', "AADSTS700016: Application with the given identifier was not found in the directory.");
    const secret = form.get('client_secret');
    if (client.clientSecret === undefined && secret !== null) {
      return aadError(res, 400, 'invalid_request', "AADSTS700025: Public clients can't send a client secret.");
    }
    if (client.clientSecret !== undefined && secret === null) {
      return aadError(res, 401, 'invalid_client', "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (client.clientSecret !== undefined && secret !== client.clientSecret) {
      return aadError(res, 401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    const scope = form.get('scope') ?? '';
    if (!scope.split(' ').includes(MANAGE_SCOPE)) {
      return aadError(res, 400, 'invalid_scope', 'AADSTS70011: The provided request must include a valid scope.');
    }
    const grantType = form.get('grant_type');
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      if (!grant || grant.revoked || grant.clientId !== client.clientId) {
        return aadError(res, 400, 'invalid_grant', 'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.');
      }
      if (revokeUsed) grant.revoked = true;
      return issueTokens(res, client.clientId, rotate ? undefined : presented, scope);
    }
    if (grantType === 'authorization_code') {
      const code = authCodes.get(form.get('code') ?? '');
      authCodes.delete(form.get('code') ?? '');
      if (!code || code.clientId !== client.clientId) {
        return aadError(res, 400, 'invalid_grant', 'AADSTS70000: The provided authorization code is invalid or has expired.');
      }
      if (form.get('redirect_uri') !== code.redirectUri) {
        return aadError(res, 400, 'invalid_grant', 'AADSTS50011: The redirect URI does not match the one used for the authorization code.');
      }
      let pkce: 'verified' | 'none' = 'none';
      if (code.challenge !== undefined) {
        const verifier = form.get('code_verifier') ?? '';
        const expected = code.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
        if (!verifier || expected !== code.challenge) {
          return aadError(res, 400, 'invalid_grant', 'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.');
        }
        pkce = 'verified';
      }
      codeExchanges.push({ clientId: client.clientId, pkce });
      return issueTokens(res, client.clientId, undefined, code.scope.split(' ').includes('offline_access') ? scope : MANAGE_SCOPE);
    }
    aadError(res, 400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
  }

  /** `keepRefresh`: the refresh token to hand back unchanged; undefined issues a new one. */
  function issueTokens(res: ServerResponse, clientId: string, keepRefresh: string | undefined, scope: string): void {
    const accessToken = `access-${randomUUID()}`;
    accessTokens.set(accessToken, { expiresAtMs: Date.now() + accessTtlS * 1000 });
    issuedAccess.push(accessToken);
    const answer: Record<string, unknown> = { token_type: 'Bearer', scope, expires_in: accessTtlS, ext_expires_in: accessTtlS, access_token: accessToken };
    if (scope.split(' ').includes('offline_access')) {
      if (keepRefresh === undefined) {
        const refreshToken = `refresh-${randomUUID()}`;
        refreshTokens.set(refreshToken, { clientId, revoked: false });
        issuedRefresh.push(refreshToken);
        answer.refresh_token = refreshToken;
      }
    }
    json(res, 200, answer);
  }

  function aadError(res: ServerResponse, status: number, error: string, description: string): void {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const codes = /AADSTS(\d+)/.exec(description);
    json(res, status, {
      error,
      error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${new Date().toISOString()}`,
      error_codes: codes ? [Number(codes[1])] : [],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      correlation_id: correlationId,
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Campaign Management REST

  function rest(req: IncomingMessage, res: ServerResponse, route: string, text: string): void {
    const trackingId = randomUUID();
    res.setHeader('TrackingId', trackingId);
    const header = (name: string) => {
      const value = req.headers[name.toLowerCase()];
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    };
    const missing = ['Authorization', 'DeveloperToken', 'CustomerId', 'CustomerAccountId'].filter((name) => !header(name));
    if (missing.length > 0) {
      return adApiFault(res, 400, trackingId, 116, 'RequestMissingHeaders', `The request is missing the header(s) ${missing.join(', ')}.`);
    }
    const bearer = /^Bearer (.+)$/.exec(header('Authorization')!);
    const access = bearer ? accessTokens.get(bearer[1]!) : undefined;
    if (!access) return adApiFault(res, 401, trackingId, 105, 'InvalidCredentials', 'Authentication failed. Either supplied credentials are invalid or the account is inactive.');
    if (Date.now() >= access.expiresAtMs) return adApiFault(res, 401, trackingId, 109, 'AuthenticationTokenExpired', 'The OAuth access token has expired.');
    if (header('DeveloperToken') !== developerToken) {
      return adApiFault(res, 401, trackingId, 105, 'InvalidCredentials', 'Authentication failed. Either supplied credentials are invalid or the account is inactive.');
    }
    const account = accounts.get(header('CustomerAccountId')!);
    if (!account || account.customerId !== header('CustomerId')) {
      // Microsoft does not document the HTTP status of 106; the fake keeps it with the other auth faults.
      return adApiFault(res, 401, trackingId, 106, 'UserIsNotAuthorized', 'The user does not represent a authorized developer.');
    }
    if (callsPerMinute !== null) {
      const now = Date.now();
      const recent = (callTimes.get(account.customerId) ?? []).filter((at) => at > now - windowMs);
      if (recent.length >= callsPerMinute) {
        callTimes.set(account.customerId, recent);
        if (throttleRetryAfterS !== null) res.setHeader('Retry-After', String(throttleRetryAfterS));
        return adApiFault(res, 429, trackingId, 117, 'CallRateExceeded', 'You have exceeded the number of calls that you are allowed to make in one minute. Please reduce the number of calls that you make per minute.');
      }
      recent.push(now);
      callTimes.set(account.customerId, recent);
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = text.length > 0 ? JSON.parse(text) : {};
      body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return apiFault(res, 400, trackingId, 90001, 'InvalidRequestBody', 'The request body is not valid JSON.');
    }
    const key = `${req.method} ${route}`;
    if (key === 'POST /Audiences') return addAudiences(res, trackingId, account, body);
    if (key === 'POST /Audiences/QueryByIds') return queryAudiences(res, trackingId, account, body);
    if (key === 'PUT /Audiences') return updateAudiences(res, body);
    if (key === 'DELETE /Audiences') return deleteAudiences(res, trackingId, account, body);
    if (key === 'POST /CustomerListUserData/Apply') return apply(res, trackingId, account, body);
    json(res, 404, { TrackingId: trackingId, Type: 'AdApiFaultDetail', Errors: [{ Code: 90404, ErrorCode: 'NoSuchRoute', Message: `The fake does not serve ${key}.` }] });
  }

  function addAudiences(res: ServerResponse, trackingId: string, account: FakeAccount & { terms: TermsState }, body: Record<string, unknown>): void {
    const list = body.Audiences;
    if (!Array.isArray(list) || list.length === 0) return apiFault(res, 400, trackingId, 90002, 'AudiencesArrayShouldNotBeNullOrEmpty', 'Audiences must hold at least one audience.');
    if (list.length > 100) return apiFault(res, 400, trackingId, 90003, 'AudiencesArrayExceedsLimit', 'At most 100 audiences per call.');
    const ids: Array<string | number | null> = [];
    const errors: BatchError[] = [];
    list.forEach((item: unknown, index) => {
      const audience = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      const name = typeof audience.Name === 'string' ? audience.Name : '';
      let error: BatchError | undefined;
      if (audience.Type !== 'CustomerList') error = batchError(index, 90004, 'AudienceTypeNotSupportedByFake', 'The fake only creates customer lists.');
      else if (name.trim().length === 0) error = batchError(index, 90005, 'AudienceNameRequired', 'Name is required.');
      else if (name.length > 128) error = batchError(index, 90006, 'AudienceNameTooLong', 'Name exceeds 128 characters.');
      // The AddAudiences reference marks ParentId and Scope required on add. What the service answers when they
      // are missing is not documented (one production connector omits both and works), so the fake holds the
      // client to the reference and answers the way Microsoft reports most create failures: a BatchError.
      else if (audience.Scope !== 'Account' && audience.Scope !== 'Customer') {
        error = batchError(index, 90016, 'AudienceScopeRequired', 'Scope is required on add: Account or Customer.');
      } else if (audience.ParentId === undefined || audience.ParentId === null || String(audience.ParentId) !== (audience.Scope === 'Account' ? account.accountId : account.customerId)) {
        error = batchError(index, 90017, 'AudienceParentIdInvalid', 'ParentId is required on add and must be the account id (Scope Account) or the customer id (Scope Customer).');
      } else if (account.terms === 'ui-only') {
        error = batchError(index, 8003, 'CustomerListTermsAndConditionsNotAccepted', 'Customer Match terms and conditions have not been accepted.');
      } else if ([...audiences.values()].some((a) => parentOf(a) === String(audience.ParentId) && a.scope === audience.Scope && a.name === name)) {
        error = batchError(index, 90007, 'DuplicateAudienceName', 'An audience with this name already exists.');
      }
      if (error) {
        errors.push(error);
        ids.push(null);
        return;
      }
      ids.push(wireId(storeAudience(name, account, audience.Scope as AudienceScope)));
    });
    json(res, 200, { AudienceIds: ids, PartialErrors: errors });
  }

  function wireId(id: string): string | number {
    return options.idsAsNumbers ? Number(id) : id;
  }

  function audienceJson(audience: Audience): Record<string, unknown> {
    return {
      Id: wireId(audience.id),
      Name: audience.name,
      Type: 'CustomerList',
      Scope: audience.scope,
      ParentId: wireId(parentOf(audience)),
      Description: null,
      MembershipDuration: null,
      SearchSize: null,
      AudienceNetworkSize: null,
    };
  }

  function queryAudiences(res: ServerResponse, trackingId: string, account: FakeAccount, body: Record<string, unknown>): void {
    const types = typeof body.Type === 'string' ? body.Type.split(/[\s,]+/) : [];
    if (types.length === 0) return apiFault(res, 400, trackingId, 90008, 'AudienceTypeRequired', 'Type is required.');
    const requested = Array.isArray(body.AudienceIds) ? body.AudienceIds : [];
    if (requested.length > 100) return apiFault(res, 400, trackingId, 90009, 'AudienceIdsArrayExceedsLimit', 'At most 100 ids per call.');
    // No ids: "all customer- and account-scoped audiences", so lists the manager shares come back too.
    const own = [...audiences.values()].filter((a) => visibleTo(a, account) && types.includes('CustomerList'));
    if (requested.length === 0) return json(res, 200, { Audiences: own.map(audienceJson), PartialErrors: [] });
    const found: Array<Record<string, unknown> | null> = [];
    const errors: BatchError[] = [];
    requested.forEach((id: unknown, index) => {
      const audience = own.find((a) => a.id === String(id));
      found.push(audience ? audienceJson(audience) : null);
      if (!audience) errors.push(batchError(index, 8000, 'InvalidCustomerListId', 'The audience id is invalid or does not match the type.'));
    });
    json(res, 200, { Audiences: found, PartialErrors: errors });
  }

  function updateAudiences(res: ServerResponse, body: Record<string, unknown>): void {
    const list = Array.isArray(body.Audiences) ? body.Audiences : [];
    // Microsoft documents UpdateAudiences for remarketing lists and custom audiences only.
    json(res, 200, { PartialErrors: list.map((_, index) => batchError(index, 90010, 'CustomerListUpdateNotSupported', 'Customer lists cannot be updated.')) });
  }

  function deleteAudiences(res: ServerResponse, trackingId: string, account: FakeAccount, body: Record<string, unknown>): void {
    const ids = Array.isArray(body.AudienceIds) ? body.AudienceIds : [];
    if (ids.length === 0 || ids.length > 100) return apiFault(res, 400, trackingId, 90009, 'AudienceIdsArrayExceedsLimit', 'Send 1 to 100 ids.');
    const errors: BatchError[] = [];
    ids.forEach((id: unknown, index) => {
      const audience = audiences.get(String(id));
      if (audience && visibleTo(audience, account)) audiences.delete(audience.id);
      else errors.push(batchError(index, 8000, 'InvalidCustomerListId', 'The audience id is invalid.'));
    });
    json(res, 200, { PartialErrors: errors });
  }

  function apply(res: ServerResponse, trackingId: string, account: FakeAccount & { terms: TermsState }, body: Record<string, unknown>): void {
    const data = (typeof body.CustomerListUserData === 'object' && body.CustomerListUserData !== null ? body.CustomerListUserData : undefined) as
      | Record<string, unknown>
      | undefined;
    if (!data) return apiFault(res, 400, trackingId, 90011, 'CustomerListUserDataRequired', 'CustomerListUserData is required.');
    const items = data.CustomerListItems;
    if (!Array.isArray(items)) return apiFault(res, 400, trackingId, 90012, 'CustomerListItemsRequired', 'CustomerListItems is required.');
    if (items.length > 1000) return apiFault(res, 400, trackingId, 90013, 'CustomerListItemsArrayExceedsLimit', 'At most 1,000 customer list items per call.');
    const action = data.ActionType;
    if (action !== 'Add' && action !== 'Remove' && action !== 'Replace') {
      return apiFault(res, 400, trackingId, 8001, 'InvalidCustomerListActionType', 'The action type must be Add, Replace, or Delete.');
    }
    const subType = data.CustomerListItemSubType;
    if (subType !== 'Email' && subType !== 'CRM') {
      return apiFault(res, 400, trackingId, 8002, 'CustomerListItemSubTypeNotSupported', 'The customer list item sub type is not supported.');
    }
    const audience = audiences.get(String(data.AudienceId));
    if (!audience || !visibleTo(audience, account)) {
      return apiFault(res, 400, trackingId, 8000, 'InvalidCustomerListId', 'The customer list id is invalid.');
    }
    const accept = data.AcceptCustomerMatchTerm;
    if (accept === false || account.terms === 'ui-only' || (account.terms === 'not-accepted' && accept !== true)) {
      const message = 'Customer Match terms and conditions have not been accepted.';
      // How Apply reports 8003 is not documented; both shapes are modelled so the client is tested on each.
      if (options.applyTermsError === 'partial') {
        return json(res, 200, { PartialErrors: [batchError(0, 8003, 'CustomerListTermsAndConditionsNotAccepted', message)] });
      }
      return apiFault(res, 400, trackingId, 8003, 'CustomerListTermsAndConditionsNotAccepted', message);
    }
    if (accept === true) account.terms = 'accepted';

    const errors: BatchError[] = [];
    const valid: string[] = [];
    items.forEach((item: unknown, index) => {
      const value = typeof item === 'string' ? item : '';
      if (subType === 'Email' && !SHA256_LOWER_HEX.test(value)) {
        errors.push(batchError(index, 8004, 'EmailMustBeHashed', 'The email must be hashed with SHA-256 and sent as 64 lower-case hex characters.'));
      } else if (subType === 'CRM' && value.length === 0) {
        errors.push(batchError(index, 8006, 'EitherEmailOrCRMIDShouldBeProvided', 'Either an email or a CRM id must be provided.'));
      } else if (subType === 'CRM' && value.length > 100) {
        errors.push(batchError(index, 8005, 'CRMIdLengthExceedLimitation', 'The CRM id exceeds 100 characters.'));
      } else if (rejectedHashes.has(value)) {
        errors.push(batchError(index, 90014, 'CustomerListItemRejectedByFake', 'The fake was told to reject this item.'));
      } else {
        valid.push(value);
      }
    });
    if (action === 'Replace') audience.members.clear();
    for (const value of valid) {
      if (action === 'Remove') audience.members.delete(value);
      else audience.members.add(value);
    }
    json(res, 200, { PartialErrors: errors });
  }

  function forcedRestFailure(res: ServerResponse, failure: FailureOptions & { status: number }): void {
    const trackingId = randomUUID();
    res.setHeader('TrackingId', trackingId);
    if (failure.retryAfterS !== undefined) res.setHeader('Retry-After', String(failure.retryAfterS));
    if (failure.faultCode === null) return json(res, failure.status, {});
    const code = failure.faultCode ?? (failure.status === 429 ? 117 : failure.status === 401 ? 109 : failure.status >= 500 ? 0 : 90015);
    const names: Record<number, string> = {
      0: 'InternalError',
      105: 'InvalidCredentials',
      106: 'UserIsNotAuthorized',
      109: 'AuthenticationTokenExpired',
      117: 'CallRateExceeded',
      120: 'UserLoginAccessDenied',
      122: 'PersonalIdentityNotAvailable',
      8003: 'CustomerListTermsAndConditionsNotAccepted',
    };
    const fault = {
      TrackingId: trackingId,
      Type: 'ApiFaultDetail',
      BatchErrors: [],
      OperationErrors: [{ Code: code, Details: null, ErrorCode: names[code] ?? 'ForcedFailure', Message: 'Failure forced by the test.' }],
    };
    if (failure.nested) return json(res, failure.status, { ApplicationFault: fault });
    adApiFault(res, failure.status, trackingId, code, names[code] ?? 'ForcedFailure', 'Failure forced by the test.');
  }

  function forcedTokenFailure(res: ServerResponse, failure: FailureOptions & { status: number }): void {
    if (failure.retryAfterS !== undefined) res.setHeader('Retry-After', String(failure.retryAfterS));
    if (failure.status === 400) return aadError(res, 400, 'invalid_grant', 'AADSTS50173: The provided grant has expired due to it being revoked.');
    if (failure.status === 401) return aadError(res, 401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    aadError(res, failure.status, 'temporarily_unavailable', 'AADSTS90033: A transient error has occurred. Please try again.');
  }

  function storeAudience(name: string, account: FakeAccount, scope: AudienceScope = 'Account'): string {
    const id = String(nextAudienceId++);
    audiences.set(id, { id, name, customerId: account.customerId, accountId: account.accountId, scope, members: new Set() });
    return id;
  }

  function parentOf(audience: Audience): string {
    return audience.scope === 'Customer' ? audience.customerId : audience.accountId;
  }

  function visibleTo(audience: Audience, account: FakeAccount): boolean {
    return audience.scope === 'Customer' ? audience.customerId === account.customerId : audience.accountId === account.accountId;
  }

  const url = `http://127.0.0.1:${await listenOnLoopback(server, options.port)}`;
  const defaultAccount = () => {
    const first = accounts.values().next().value;
    if (!first) throw new Error('the fake has no account');
    return first;
  };

  return {
    url,
    authorityUrl: `${url}/common`,
    baseUrl: `${url}/CampaignManagement/v13`,
    requests,
    codeExchanges,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    failNext(status, failure = {}) {
      forced.push({ ...failure, status });
    },
    rejectEmails(emails) {
      rejectedHashes = new Set(emails.map((email) => createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex')));
    },
    audiences(account) {
      return [...audiences.values()]
        .filter((a) => !account || (a.customerId === account.customerId && a.accountId === account.accountId))
        .map((a) => ({ id: a.id, name: a.name, customerId: a.customerId, accountId: a.accountId, scope: a.scope, parentId: parentOf(a), members: [...a.members] }));
    },
    createAudience(name, account, options = {}) {
      return storeAudience(name, account ?? defaultAccount(), options.scope ?? 'Account');
    },
    members(audienceId) {
      return [...(audiences.get(audienceId)?.members ?? [])];
    },
    deleteAudience(audienceId) {
      audiences.delete(audienceId);
    },
    setTerms(accountId, terms) {
      const account = accounts.get(accountId);
      if (!account) throw new Error(`the fake has no account ${accountId}`);
      account.terms = terms;
    },
    terms(accountId) {
      const account = accounts.get(accountId);
      if (!account) throw new Error(`the fake has no account ${accountId}`);
      return account.terms;
    },
    addAccount(account) {
      accounts.set(account.accountId, { ...account, terms: account.terms ?? 'not-accepted' });
    },
    addRefreshToken(token, clientId = FAKE_DEFAULTS.clientId) {
      refreshTokens.set(token, { clientId, revoked: false });
    },
    isRefreshTokenValid(token) {
      const grant = refreshTokens.get(token);
      return grant !== undefined && !grant.revoked;
    },
    revokeRefreshTokens() {
      for (const grant of refreshTokens.values()) grant.revoked = true;
    },
    expireAccessTokens() {
      for (const access of accessTokens.values()) access.expiresAtMs = 0;
    },
    issuedAccessTokens: () => [...issuedAccess],
    issuedRefreshTokens: () => [...issuedRefresh],
    setRateLimit(limit) {
      callsPerMinute = limit.callsPerMinute;
      if (limit.windowMs !== undefined) windowMs = limit.windowMs;
      if (limit.retryAfterS !== undefined) throttleRetryAfterS = limit.retryAfterS;
      callTimes.clear();
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    denyNextConsent() {
      denyConsent = true;
    },
  };
}

function batchError(index: number, code: number, errorCode: string, message: string): BatchError {
  return { Code: code, Details: null, ErrorCode: errorCode, FieldPath: null, ForwardCompatibilityMap: null, Index: index, Message: message, Type: 'BatchError' };
}

function adApiFault(res: ServerResponse, status: number, trackingId: string, code: number, errorCode: string, message: string): void {
  json(res, status, { TrackingId: trackingId, Type: 'AdApiFaultDetail', Errors: [{ Code: code, Detail: null, ErrorCode: errorCode, Message: message }] });
}

function apiFault(res: ServerResponse, status: number, trackingId: string, code: number, errorCode: string, message: string): void {
  json(res, status, {
    TrackingId: trackingId,
    Type: 'ApiFaultDetail',
    BatchErrors: [],
    OperationErrors: [{ Code: code, Details: null, ErrorCode: errorCode, Message: message }],
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
