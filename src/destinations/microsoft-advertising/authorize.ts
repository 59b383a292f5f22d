import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, ConfigError, RetryableError } from '../../domain/errors.ts';
import { createDeadline } from '../kit/deadline.ts';
import { authorizeUrl, DEFAULT_AUTHORITY_URL, isRecord, OAUTH_SCOPE, tokenFailure, tokenUrl } from './client.ts';
import { outflowCommand } from '../../lib/shell.ts';

export interface AuthorizeOptions {
  clientId: string;
  /** Web (confidential) app registrations only; public clients send none. */
  clientSecret?: string | undefined;
  authorityUrl?: string | undefined;
  /** For messages: the connection being authorized. */
  connectionName: string;
  /** Receives the sign-in URL to open in a browser (the CLI prints it). */
  onAuthorizeUrl(url: string): void | Promise<void>;
  /** Loopback port for the redirect; 0 (default) lets the OS pick one. */
  port?: number;
  /** How long to wait for the browser to come back; default 5 minutes. */
  timeoutMs?: number;
  /** How long the token endpoint may take to answer the code exchange; default 30 s. */
  tokenTimeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** One sign-in attempt's secrets: `state` ties the redirect to the attempt, `verifier` proves the code is ours (PKCE, RFC 7636). */
export interface SignInRequest {
  state: string;
  verifier: string;
  challenge: string;
}

/** Fresh random state and PKCE verifier (32 bytes: a 43-character verifier) with its S256 challenge. */
export function newSignInRequest(): SignInRequest {
  const verifier = base64url(randomBytes(32));
  return { verifier, challenge: base64url(createHash('sha256').update(verifier).digest()), state: base64url(randomBytes(16)) };
}

/**
 * Checks the settings a sign-in depends on and returns the authority URL to use. Runs before the admin is
 * sent to a browser: a sign-in that cannot be completed wastes their time and leaves them a confusing page.
 */
export function signInAuthority(options: { clientId: string; authorityUrl?: string | undefined; connectionName: string }): string {
  const authority = options.authorityUrl ?? DEFAULT_AUTHORITY_URL;
  const connection = options.connectionName;
  if (!options.clientId.trim()) {
    throw new ConfigError('invalid_settings', `Connection \`${connection}\` has no clientId: set the Application (client) id of the Azure app registration.`);
  }
  if (!URL.canParse(authorizeUrl(authority)) || !/^https?:$/.test(new URL(authorizeUrl(authority)).protocol)) {
    throw new ConfigError('invalid_settings', `Connection \`${connection}\` has an authorityUrl that is not an http(s) URL (${JSON.stringify(authority)}); the default is ${DEFAULT_AUTHORITY_URL}.`);
  }
  return authority;
}

/** The authority's sign-in page for one attempt; the browser comes back to `redirectUri` with `code` and `state`. */
export function signInUrl(authority: string, options: { clientId: string; redirectUri: string; request: Pick<SignInRequest, 'state' | 'challenge'> }): string {
  const url = new URL(authorizeUrl(authority));
  url.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    response_mode: 'query',
    scope: OAUTH_SCOPE,
    state: options.request.state,
    code_challenge: options.request.challenge,
    code_challenge_method: 'S256',
    // Admins often hold several Microsoft accounts; let them pick the one that manages the ad account.
    prompt: 'select_account',
  }).toString();
  return url.toString();
}

/**
 * The error the authority put on the redirect (`error`, `error_description`), as an AuthError; Microsoft's
 * trace lines are cut off. `signInAgain` says how to retry, as a sentence.
 */
export function signInRefused(params: URLSearchParams, connection: string, signInAgain: string): AuthError {
  const error = params.get('error') ?? 'unknown_error';
  const description = (params.get('error_description') ?? '').split(/\r?\n| Trace ID:/)[0]?.slice(0, 200);
  return new AuthError('auth_failed', `Microsoft did not authorize connection \`${connection}\` (${error}${description ? `: ${description}` : ''}). ${signInAgain}`);
}

export interface CodeExchange {
  clientId: string;
  clientSecret?: string | undefined;
  authority: string;
  code: string;
  /** The redirect URI of the sign-in URL, sent again as the token endpoint demands. */
  redirectUri: string;
  verifier: string;
  connectionName: string;
  /** How to sign in again, as a sentence (the CLI names its command, the web app its button). */
  signInAgain?: string | undefined;
  /** How long the token endpoint may take to answer; default 30 s. */
  tokenTimeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch | undefined;
}

/** Trades the authorization code (and the PKCE verifier) for a refresh token at the token endpoint. Never logs either. */
export async function exchangeSignInCode(options: CodeExchange): Promise<{ refreshToken: string }> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const connection = options.connectionName;
  const tokenTimeoutMs = options.tokenTimeoutMs ?? 30_000;
  const form: Record<string, string> = {
    client_id: options.clientId,
    grant_type: 'authorization_code',
    code: options.code,
    redirect_uri: options.redirectUri,
    code_verifier: options.verifier,
    scope: OAUTH_SCOPE,
  };
  // A confidential (web) app registration needs its client secret for the code exchange.
  if (options.clientSecret) form.client_secret = options.clientSecret;
  const target = tokenUrl(options.authority);
  let response: Response;
  let text: string;
  // A timer we hold, not AbortSignal.timeout: see createDeadline. Covers the answer's body as well.
  const deadline = createDeadline(tokenTimeoutMs, options.signal);
  try {
    response = await doFetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: deadline.signal,
    });
    text = await response.text();
  } catch (cause) {
    if (deadline.expired) {
      throw new RetryableError(
        'timeout',
        `The Microsoft token endpoint at ${new URL(target).origin} did not answer within ${Math.round(tokenTimeoutMs / 1000)} s for connection \`${connection}\`. Check authorityUrl and the network, then sign in again.`,
        { cause },
      );
    }
    throw new RetryableError(
      'connection_lost',
      `Could not reach the Microsoft token endpoint at ${new URL(target).origin} for connection \`${connection}\`. Check authorityUrl and the network, then sign in again.`,
      { cause },
    );
  } finally {
    deadline.clear();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok) {
    throw tokenFailure({ status: response.status, headers: response.headers, body }, { connection, grant: 'authorization_code', ...(options.signInAgain ? { signInAgain: options.signInAgain } : {}) });
  }
  const refreshToken = isRecord(body) && typeof body.refresh_token === 'string' ? body.refresh_token : '';
  if (!refreshToken) {
    throw new AuthError(
      'auth_failed',
      `Microsoft signed connection \`${connection}\` in but returned no refresh token: the offline_access permission was not granted. Allow it on the consent page (or ask a tenant admin to) and sign in again.`,
    );
  }
  return { refreshToken };
}

/**
 * Signs an admin in to Microsoft (authorization-code flow with PKCE, RFC 7636) and returns a refresh token
 * for a new connection. The redirect lands on a short-lived HTTP server on 127.0.0.1 (RFC 8252 §7.3); the
 * app registration needs the redirect URI `http://127.0.0.1` under "Mobile and desktop applications" —
 * Microsoft ignores the port of loopback redirect URIs. The token is returned, never logged. The web app's
 * sign-in (src/app/oauth.ts) uses the same pieces with the server's own callback URL.
 *
 * @example
 * const { refreshToken } = await authorizeMicrosoftAdvertising({ ...conn, connectionName: 'msads',
 *   onAuthorizeUrl: (url) => console.log(`Open this URL to sign in:\n${url}`) })
 */
export async function authorizeMicrosoftAdvertising(options: AuthorizeOptions): Promise<{ refreshToken: string }> {
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const connection = options.connectionName;
  const authority = signInAuthority(options);
  const request = newSignInRequest();
  const { state } = request;
  const runAgain = `Run \`${outflowCommand('connection', 'authorize', connection)}\` again and accept the requested permissions.`;

  let settle: { resolve(code: string): void; reject(error: Error): void } | undefined;
  const callback = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The timeout or an abort may reject before the flow awaits the callback; that is not an unhandled rejection.
  callback.catch(() => {});
  const server = createServer((req, res) => onRequest(req, res));

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = url.searchParams;
    // Browsers also ask for /favicon.ico and the like; only an answer from the sign-in page counts.
    if (url.pathname !== '/' || (!params.has('code') && !params.has('error'))) {
      page(res, 404, 'Not found.');
      return;
    }
    if (params.get('state') !== state) {
      // A stale tab or a forged redirect: refuse it and keep waiting for the real one.
      page(res, 400, 'This sign-in answer does not belong to the running `outflow connection authorize`. Start the sign-in again from its URL.');
      return;
    }
    if (params.get('error')) {
      page(res, 400, 'Sign-in failed. See the terminal for details.');
      settle?.reject(signInRefused(params, connection, runAgain));
      return;
    }
    page(res, 200, 'Signed in. You can close this tab and return to the terminal.');
    settle?.resolve(params.get('code')!);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const timer = setTimeout(
    () =>
      settle?.reject(
        new AuthError(
          'auth_failed',
          `No sign-in came back within ${Math.round(timeoutMs / 1000)} s for connection \`${connection}\`. Run \`${outflowCommand('connection', 'authorize', connection)}\` again and open the URL it prints.`,
        ),
      ),
    timeoutMs,
  );
  const onAbort = () => settle?.reject(new AuthError('auth_failed', `Signing in connection \`${connection}\` was cancelled.`));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const { port } = server.address() as AddressInfo;
    const redirectUri = `http://127.0.0.1:${port}/`;
    await options.onAuthorizeUrl(signInUrl(authority, { clientId: options.clientId, redirectUri, request }));
    const code = await callback;
    return await exchangeSignInCode({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authority,
      code,
      redirectUri,
      verifier: request.verifier,
      connectionName: connection,
      tokenTimeoutMs: options.tokenTimeoutMs,
      signal: options.signal,
      fetch: options.fetch,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function page(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
  res.end(`<!doctype html><meta charset="utf-8"><title>Outflow</title><p>${text.replace(/[<>&]/g, '')}</p>`);
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}
