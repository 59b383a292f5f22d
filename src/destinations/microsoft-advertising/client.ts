import { AuthError, ConfigError, OutflowError, RetryableError, UpstreamError } from '../../domain/errors.ts';
import type { Rate } from '../../lib/rate-limit.ts';
import type { DestinationContext } from '../kit/define.ts';
import { classifyHttp, createHttpClient, retryAfterMs, type HttpResponse } from '../kit/http.ts';
import { outflowCommand } from '../../lib/shell.ts';

// Wire facts: /work/shared/destinations/microsoft-advertising.md. Only the REST surface of Campaign Management
// v13 is used: Microsoft stops adding features to SOAP in Oct 2026 and retires it in Jan 2027
// (https://learn.microsoft.com/advertising/guides/migrate-to-rest).

export const VENDOR = 'Microsoft Advertising';
export const PRODUCTION_BASE_URL = 'https://campaign.api.bingads.microsoft.com/CampaignManagement/v13';
export const DEFAULT_AUTHORITY_URL = 'https://login.microsoftonline.com/common';
/** `offline_access` is what makes the token endpoint hand out refresh tokens. */
export const OAUTH_SCOPE = 'https://ads.microsoft.com/msads.manage offline_access';

/**
 * Microsoft publishes no call-rate numbers for Campaign Management, only that calls are counted per user and
 * per customer in a sliding 60-second window (https://learn.microsoft.com/advertising/guides/services-protocol).
 * One request a second (60 a minute, each carrying up to 1,000 hashes) is our conservative guess; a
 * connection raises it with `requestsPerSecond`. A 500,000-profile segment still uploads in about 9 minutes.
 */
export const DEFAULT_REQUESTS_PER_SECOND = 1;

/** Microsoft's fault code 117 says "wait 60 s and resubmit"; no Retry-After header is documented. */
const THROTTLE_WAIT_MS = 60_000;

export interface ClientConfig {
  clientId: string;
  clientSecret?: string | undefined;
  /** Absent until someone signs the connection in (the web app saves a connection first, then signs it in). */
  refreshToken?: string | undefined;
  developerToken: string;
  baseUrl: string;
  authorityUrl: string;
  requestsPerSecond?: number | undefined;
}

/** The manager account (CustomerId header) and the ad account (CustomerAccountId header) a call acts on. */
export interface Account {
  customerId: string;
  accountId: string;
}

export interface CustomerList {
  id: string;
  name: string;
  /** The account (Scope `Account`) or manager customer (Scope `Customer`) that owns the list, when Microsoft says. */
  parentId: string | undefined;
  scope: string | undefined;
}

/** One item of `PartialErrors` (Microsoft's BatchError), reduced to what we act on. */
export interface ItemError {
  index: number | undefined;
  code: number | undefined;
  errorCode: string | undefined;
  message: string | undefined;
}

export function rateFor(config: Pick<ClientConfig, 'requestsPerSecond'>): Rate {
  return { requests: config.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, perMs: 1000 };
}

export function tokenUrl(authorityUrl: string): string {
  return `${authorityUrl.replace(/\/+$/, '')}/oauth2/v2.0/token`;
}

export function authorizeUrl(authorityUrl: string): string {
  return `${authorityUrl.replace(/\/+$/, '')}/oauth2/v2.0/authorize`;
}

// Fault codes from https://learn.microsoft.com/advertising/guides/operation-error-codes
const CODE = {
  internalError: 0,
  invalidCredentials: 105,
  userIsNotAuthorized: 106,
  authenticationTokenExpired: 109,
  requestMissingHeaders: 116,
  callRateExceeded: 117,
  invalidCustomerListId: 8000,
  invalidCustomerListActionType: 8001,
  customerListItemSubTypeNotSupported: 8002,
  termsNotAccepted: 8003,
} as const;

/** Codes that describe the whole Apply request even when Microsoft lists them under PartialErrors. */
const REQUEST_LEVEL_CODES: ReadonlySet<number> = new Set([
  CODE.invalidCustomerListId,
  CODE.invalidCustomerListActionType,
  CODE.customerListItemSubTypeNotSupported,
  CODE.termsNotAccepted,
]);

export interface MicrosoftAdvertisingClient {
  /** A valid access token, refreshed (and the rotated refresh token saved) when needed. */
  accessToken(): Promise<string>;
  /** GetAudiencesByIds with no ids: every customer list the account can see, its own and those its manager shares. */
  findCustomerLists(account: Account): Promise<CustomerList[]>;
  /** AddAudiences with one customer list owned by the account (Scope `Account`); returns its id. */
  createCustomerList(account: Account, name: string): Promise<string>;
  /** ApplyCustomerListUserData; returns the per-item errors, throws for request-level ones. */
  applyEmailHashes(account: Account, input: { action: 'Add' | 'Remove'; audienceId: string; hashes: string[] }): Promise<ItemError[]>;
}

export function createMicrosoftAdvertisingClient(config: ClientConfig, ctx: DestinationContext): MicrosoftAdvertisingClient {
  const tokens = createTokenSource(config, ctx);
  const http = createHttpClient({ vendor: VENDOR, baseUrl: config.baseUrl, ctx, rate: rateFor(config) });

  async function call<T>(operation: string, path: string, account: Account, json: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.get();
      const response = await http.request<unknown>('POST', path, {
        json,
        headers: {
          Authorization: `Bearer ${token}`,
          DeveloperToken: config.developerToken,
          CustomerId: account.customerId,
          CustomerAccountId: account.accountId,
        },
      });
      if (response.ok) return (isRecord(response.body) ? response.body : {}) as T;
      const fault = readFault(response.body);
      const codes = fault.items.map((item) => item.code);
      // Only 105 InvalidCredentials and 109 AuthenticationTokenExpired can be about the access token. Any other
      // 401 (106 UserIsNotAuthorized, 120 UserLoginAccessDenied, a body without a fault, …) is not cured by a
      // new token, and refreshing would hide Microsoft's answer behind a second, identical failure.
      const tokenProblem = codes.includes(CODE.invalidCredentials) || codes.includes(CODE.authenticationTokenExpired);
      if (response.status === 401 && tokenProblem && attempt === 0) {
        // An access token can die before expires_in (revoked sessions, clock skew): refresh once and retry.
        tokens.invalidate(token);
        ctx.log.info({ operation, status: 401 }, 'Microsoft Advertising refused the access token; refreshing it once');
        continue;
      }
      throw faultError(response, fault, { operation, account, connection: ctx.connectionName, now: ctx.now() });
    }
  }

  return {
    accessToken: () => tokens.get(),

    async findCustomerLists(account) {
      const body = await call<{ Audiences?: unknown }>('GetAudiencesByIds', '/Audiences/QueryByIds', account, {
        AudienceIds: [],
        Type: 'CustomerList',
      });
      const audiences = Array.isArray(body.Audiences) ? body.Audiences : [];
      const lists: CustomerList[] = [];
      for (const audience of audiences) {
        if (!isRecord(audience)) continue;
        if (audience.Type !== undefined && audience.Type !== null && audience.Type !== 'CustomerList') continue;
        const id = idString(audience.Id);
        const scope = typeof audience.Scope === 'string' ? audience.Scope : undefined;
        if (id && typeof audience.Name === 'string') lists.push({ id, name: audience.Name, parentId: idString(audience.ParentId), scope });
      }
      return lists;
    },

    async createCustomerList(account, name) {
      // The AddAudiences reference marks ParentId and Scope required, and Microsoft's own customer-list sample
      // sends ParentId = the account id with Scope Account. Without them the service picks a scope it does not
      // document (https://learn.microsoft.com/advertising/campaign-management-service/addaudiences).
      const body = await call<{ AudienceIds?: unknown; PartialErrors?: unknown }>('AddAudiences', '/Audiences', account, {
        Audiences: [{ Name: name, Type: 'CustomerList', ParentId: account.accountId, Scope: 'Account' }],
      });
      // Microsoft answers 200 for most create failures and lists them under PartialErrors.
      const errors = readItemErrors(body.PartialErrors);
      if (errors.some((error) => error.code === CODE.termsNotAccepted)) throw termsError(account, ctx.connectionName);
      const id = Array.isArray(body.AudienceIds) ? idString(body.AudienceIds[0]) : undefined;
      if (errors.length > 0 || !id) {
        throw new UpstreamError(
          'upstream_rejected',
          `${VENDOR} did not create the customer list "${name}" in account ${account.accountId} for connection \`${ctx.connectionName}\`` +
            `${errors.length > 0 ? ` (${summarize(errors)})` : ' (no audience id came back)'}. Check the account in Microsoft Advertising, then run the export again.`,
          { status: 200 },
        );
      }
      return id;
    },

    async applyEmailHashes(account, input) {
      const body = await call<{ PartialErrors?: unknown }>('ApplyCustomerListUserData', '/CustomerListUserData/Apply', account, {
        CustomerListUserData: {
          ActionType: input.action,
          AudienceId: input.audienceId,
          CustomerListItemSubType: 'Email',
          CustomerListItems: input.hashes,
          // Outflow refuses to save a connection until an admin has recorded the data-privacy consent for it,
          // and that consent is what this flag asserts to Microsoft. Omitting it would fall back to terms
          // accepted in the web UI, which API-only users never see.
          AcceptCustomerMatchTerm: true,
        },
      });
      const errors = readItemErrors(body.PartialErrors);
      const requestLevel = errors.find(
        (error) =>
          (error.code !== undefined && REQUEST_LEVEL_CODES.has(error.code)) ||
          error.index === undefined ||
          error.index < 0 ||
          error.index >= input.hashes.length,
      );
      if (requestLevel) {
        throw requestError(requestLevel, { account, audienceId: input.audienceId, connection: ctx.connectionName, status: 200 });
      }
      return errors;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// OAuth: refresh-token grant with rotation.

interface TokenSource {
  get(): Promise<string>;
  invalidate(token: string): void;
}

function createTokenSource(config: ClientConfig, ctx: DestinationContext): TokenSource {
  const http = createHttpClient({ vendor: 'the Microsoft identity platform', baseUrl: config.authorityUrl, ctx, timeoutMs: 30_000 });
  let refreshToken = config.refreshToken;
  let cached: { token: string; renewAtMs: number } | undefined;
  // One refresh at a time: with concurrent batches, two refreshes would race to rotate the refresh token.
  let pending: Promise<string> | undefined;

  async function refresh(): Promise<string> {
    if (!refreshToken) {
      throw new AuthError(
        'auth_failed',
        `Connection \`${ctx.connectionName}\` is not signed in to Microsoft yet. Sign it in with “Sign in with Microsoft Advertising” in Admin > Connections, or run \`${outflowCommand('connection', 'authorize', ctx.connectionName)}\`.`,
      );
    }
    const form: Record<string, string> = {
      client_id: config.clientId,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: OAUTH_SCOPE,
    };
    if (config.clientSecret) form.client_secret = config.clientSecret;
    const response = await http.request<unknown>('POST', tokenUrl(config.authorityUrl), { form, unpaced: true });
    if (!response.ok) throw tokenFailure(response, { connection: ctx.connectionName, grant: 'refresh_token', now: ctx.now() });
    const body = isRecord(response.body) ? response.body : {};
    if (typeof body.access_token !== 'string' || body.access_token.length === 0) {
      throw new UpstreamError(
        'upstream_rejected',
        `The Microsoft token endpoint answered without an access token for connection \`${ctx.connectionName}\`. Check the connection's authorityUrl.`,
        { status: response.status },
      );
    }
    // Microsoft may rotate the refresh token on every use; it does not revoke the old one, but the new one
    // carries the longer lifetime, so the store must keep it. No new token: keep the one we have.
    if (typeof body.refresh_token === 'string' && body.refresh_token.length > 0 && body.refresh_token !== refreshToken) {
      refreshToken = body.refresh_token;
      await ctx.saveSecrets({ refreshToken });
      ctx.log.info('Microsoft issued a new refresh token; saved it on the connection');
    }
    const expiresInMs = (Number(body.expires_in) > 0 ? Number(body.expires_in) : 3600) * 1000;
    // Renew a little early (a tenth of the lifetime, at most two minutes) so no request leaves with a token
    // that dies in flight.
    const renewAtMs = ctx.now().getTime() + expiresInMs - Math.min(120_000, expiresInMs / 10);
    cached = { token: body.access_token, renewAtMs };
    return body.access_token;
  }

  return {
    get() {
      if (cached && ctx.now().getTime() < cached.renewAtMs) return Promise.resolve(cached.token);
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

/**
 * Turns an error answer of the Microsoft token endpoint (`{ error, error_description, error_codes, … }`)
 * into the error the engine and the CLI understand. Shared by the refresh grant and the sign-in flow.
 */
export function tokenFailure(
  response: Pick<HttpResponse, 'status' | 'headers' | 'body'>,
  context: {
    connection: string;
    grant: 'refresh_token' | 'authorization_code';
    now?: Date;
    /** How to sign in again, as a sentence; default: run `outflow connection authorize <name>`. The web app names its button. */
    signInAgain?: string;
  },
): OutflowError {
  const body = isRecord(response.body) ? response.body : {};
  const error = typeof body.error === 'string' ? body.error : undefined;
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  const aadCode = /AADSTS\d+/.exec(description)?.[0];
  const label = [error, aadCode].filter(Boolean).join(', ') || `HTTP ${response.status}`;
  const summary = firstSentence(description);
  const detail = summary ? `: ${summary}` : '';
  const { connection } = context;
  const signInAgain = context.signInAgain ?? `Sign in again with \`${outflowCommand('connection', 'authorize', connection)}\`.`;

  if (response.status === 429 || response.status >= 500 || error === 'temporarily_unavailable') {
    return new RetryableError(
      response.status === 429 ? 'rate_limited' : 'upstream_unavailable',
      `The Microsoft token endpoint is unavailable for connection \`${connection}\` (${label}). Outflow retries later.`,
      { retryAfterMs: retryAfterMs(response.headers, context.now) },
    );
  }
  if (error === 'invalid_grant') {
    return context.grant === 'refresh_token'
      ? new AuthError(
          'token_expired',
          `Microsoft no longer accepts the refresh token of connection \`${connection}\` (${label}): it expired or was revoked, for example by a password change or withdrawn consent. ${signInAgain}`,
        )
      : new AuthError(
          'auth_failed',
          `Microsoft refused the sign-in code for connection \`${connection}\` (${label}${detail}). ${signInAgain} Finish the sign-in within a few minutes.`,
        );
  }
  if (error === 'invalid_request' && /public client/i.test(description)) {
    return new AuthError(
      'auth_failed',
      `The app registration of connection \`${connection}\` is a public client, and public clients must not send a client secret (${label}). Remove clientSecret from the connection.`,
    );
  }
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    return new AuthError(
      'auth_failed',
      `Microsoft refused the client id or client secret of connection \`${connection}\` (${label}${detail}). Check clientId and clientSecret against the app registration in the Azure portal and update the connection.`,
    );
  }
  return new AuthError(
    'auth_failed',
    `The Microsoft token endpoint refused connection \`${connection}\` (${label}${detail}). Check clientId, clientSecret and authorityUrl; if they are right, ${signInAgain.charAt(0).toLowerCase()}${signInAgain.slice(1)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Faults. REST faults come as AdApiFaultDetail ({ Errors }) or ApiFaultDetail ({ OperationErrors, BatchErrors }),
// at the top level or, per Microsoft's PHP migration guide, nested under ApplicationFault
// (https://learn.microsoft.com/advertising/guides/php-sdk-migration-soap-to-rest). Which envelope is on the
// wire is not confirmed, so both are read.

interface Fault {
  trackingId: string | undefined;
  items: ItemError[];
}

function readFault(body: unknown): Fault {
  const roots = isRecord(body) ? [body, ...(isRecord(body.ApplicationFault) ? [body.ApplicationFault] : [])] : [];
  const items: ItemError[] = [];
  let trackingId: string | undefined;
  for (const root of roots) {
    trackingId ??= typeof root.TrackingId === 'string' ? root.TrackingId : undefined;
    for (const key of ['Errors', 'OperationErrors', 'BatchErrors']) items.push(...readItemErrors(root[key]));
  }
  return { trackingId, items };
}

function readItemErrors(value: unknown): ItemError[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((error) => ({
    index: integer(error.Index),
    code: integer(error.Code),
    errorCode: typeof error.ErrorCode === 'string' ? error.ErrorCode : undefined,
    message: typeof error.Message === 'string' ? error.Message : undefined,
  }));
}

function integer(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(number) ? number : undefined;
}

function faultError(
  response: HttpResponse<unknown>,
  fault: Fault,
  where: { operation: string; account: Account; connection: string; now: Date },
): OutflowError {
  const { account, connection, operation } = where;
  const trackingId = response.headers.get('TrackingId') ?? response.headers.get('x-ms-trackingid') ?? fault.trackingId;
  const tracking = trackingId ? ` TrackingId ${trackingId} identifies the call for Microsoft support.` : '';
  const codes = new Set(fault.items.map((item) => item.code));
  const found = `${summarize(fault.items) || 'no fault details'}, HTTP ${response.status}`;

  if (response.status === 429 || codes.has(CODE.callRateExceeded)) {
    return new RetryableError(
      'rate_limited',
      `${VENDOR} is throttling connection \`${connection}\` (${found}). Outflow waits and retries; lower requestsPerSecond on the connection if this keeps happening.`,
      { retryAfterMs: retryAfterMs(response.headers, where.now) ?? THROTTLE_WAIT_MS },
    );
  }
  if (codes.has(CODE.termsNotAccepted)) return termsError(account, connection);
  if (codes.has(CODE.authenticationTokenExpired) || codes.has(CODE.invalidCredentials)) {
    return new AuthError(
      'auth_failed',
      `${VENDOR} refused the credentials of connection \`${connection}\` for ${operation} even with a fresh access token (${found}). ` +
        `Check that developerToken is a production developer token (sandbox tokens fail against production, and the reverse) and that baseUrl matches it, then run \`${outflowCommand('connection', 'verify', connection)}\`.${tracking}`,
    );
  }
  if (codes.has(CODE.userIsNotAuthorized)) {
    return new AuthError(
      'permission_denied',
      `The Microsoft user signed in on connection \`${connection}\` has no access to account ${account.accountId} under customer ${account.customerId} (${found}). ` +
        `Check customerId and accountId, or sign in as a user of that account with \`${outflowCommand('connection', 'authorize', connection)}\`.${tracking}`,
    );
  }
  if (response.status === 401 || response.status === 403) {
    // Not a token problem (those are 105/109, handled above): a new access token would not help.
    return new AuthError(
      'auth_failed',
      `${VENDOR} refused connection \`${connection}\` for ${operation} (${found}). ` +
        `Check the connection's developerToken and that the signed-in Microsoft user may use the API for account ${account.accountId}, then run \`outflow connection verify ${connection}\`.${tracking}`,
    );
  }
  if (codes.has(CODE.requestMissingHeaders)) {
    return new ConfigError(
      'invalid_settings',
      `${VENDOR} says a required header is missing in ${operation} for connection \`${connection}\` (${found}). Check that the export sets customerId and accountId and the connection sets developerToken.${tracking}`,
    );
  }
  const requestLevel = fault.items.find((item) => item.code !== undefined && REQUEST_LEVEL_CODES.has(item.code));
  if (requestLevel) return requestError(requestLevel, { account, connection, status: response.status, trackingId });
  if (response.status >= 500 || codes.has(CODE.internalError)) {
    return new RetryableError('upstream_unavailable', `${VENDOR} failed ${operation} for connection \`${connection}\` (${found}). Outflow retries later.${tracking}`, {
      retryAfterMs: retryAfterMs(response.headers, where.now),
    });
  }
  return classifyHttp(response, {
    vendor: VENDOR,
    connection,
    detail: `${operation}: ${summarize(fault.items) || 'no fault details'}${trackingId ? `, TrackingId ${trackingId}` : ''}`,
    traceId: trackingId,
  });
}

function requestError(
  error: ItemError,
  where: { account: Account; connection: string; status: number; audienceId?: string; trackingId?: string | undefined },
): OutflowError {
  const { account, connection } = where;
  const tracking = where.trackingId ? ` TrackingId ${where.trackingId} identifies the call for Microsoft support.` : '';
  if (error.code === CODE.termsNotAccepted) return termsError(account, connection);
  if (error.code === CODE.invalidCustomerListId) {
    return new ConfigError(
      'list_not_found',
      `The customer list${where.audienceId ? ` ${where.audienceId}` : ''} no longer exists in account ${account.accountId} for connection \`${connection}\` (${summarize([error])}). Run the export again: Outflow creates the list anew.${tracking}`,
    );
  }
  return new UpstreamError(
    'upstream_rejected',
    `${VENDOR} rejected the whole ApplyCustomerListUserData request for account ${account.accountId} on connection \`${connection}\` (${summarize([error])}).${tracking}`,
    { status: where.status, traceId: where.trackingId },
  );
}

export function termsError(account: Account, connection: string): ConfigError {
  return new ConfigError(
    'terms_not_accepted',
    `${VENDOR} refuses customer data for account ${account.accountId} on connection \`${connection}\` because the Customer Match terms are not accepted (8003 CustomerListTermsAndConditionsNotAccepted). ` +
      `Sign in to Microsoft Advertising as the user of this connection, open Tools > Audiences, create a customer list and accept the Customer Match terms, then run the export again.`,
  );
}

/** "8004 EmailMustBeHashed: …" for up to three errors; vendor text is scrubbed of anything that looks like member data. */
export function summarize(errors: ItemError[]): string {
  const parts = errors.slice(0, 3).map((error) => {
    const head = [error.code, error.errorCode].filter((part) => part !== undefined).join(' ');
    const text = error.message ? scrub(firstSentence(error.message)) : '';
    return [head, text].filter(Boolean).join(': ');
  });
  const more = errors.length > 3 ? ` and ${errors.length - 3} more` : '';
  return parts.join('; ') + more;
}

/** Vendor messages may echo an item; never let an address or a hash reach a message. */
function scrub(text: string): string {
  return text.replace(/\S+@\S+/g, '[e-mail]').replace(/\b[0-9a-fA-F]{64}\b/g, '[hash]');
}

function firstSentence(text: string): string {
  const line = text.split(/\r?\n| Trace ID:/)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Microsoft's JSON templates quote long ids ("LongValueHere") but some answers carry numbers; accept both. */
export function idString(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d+$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
