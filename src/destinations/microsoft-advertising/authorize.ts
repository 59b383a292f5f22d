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

/**
 * Signs an admin in to Microsoft (authorization-code flow with PKCE, RFC 7636) and returns a refresh token
 * for a new connection. The redirect lands on a short-lived HTTP server on 127.0.0.1 (RFC 8252 §7.3); the
 * app registration needs the redirect URI `http://127.0.0.1` under "Mobile and desktop applications" —
 * Microsoft ignores the port of loopback redirect URIs. The token is returned, never logged.
 *
 * @example
 * const { refreshToken } = await authorizeMicrosoftAdvertising({ ...conn, connectionName: 'msads',
 *   onAuthorizeUrl: (url) => console.log(`Open this URL to sign in:\n${url}`) })
 */
export async function authorizeMicrosoftAdvertising(options: AuthorizeOptions): Promise<{ refreshToken: string }> {
  const authority = options.authorityUrl ?? DEFAULT_AUTHORITY_URL;
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const connection = options.connectionName;
  // Settings the sign-in depends on are checked before the loopback server starts and the admin is sent to
  // a browser: a sign-in that cannot be completed wastes the admin's time and leaves them a confusing page.
  if (!options.clientId.trim()) {
    throw new ConfigError('invalid_settings', `Connection \`${connection}\` has no clientId: set the Application (client) id of the Azure app registration.`);
  }
  if (!URL.canParse(authorizeUrl(authority)) || !/^https?:$/.test(new URL(authorizeUrl(authority)).protocol)) {
    throw new ConfigError('invalid_settings', `Connection \`${connection}\` has an authorityUrl that is not an http(s) URL (${JSON.stringify(authority)}); the default is ${DEFAULT_AUTHORITY_URL}.`);
  }
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(16));

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
    const error = params.get('error');
    if (error) {
      page(res, 400, 'Sign-in failed. See the terminal for details.');
      const description = (params.get('error_description') ?? '').split(/\r?\n| Trace ID:/)[0]?.slice(0, 200);
      settle?.reject(
        new AuthError(
          'auth_failed',
          `Microsoft did not authorize connection \`${connection}\` (${error}${description ? `: ${description}` : ''}). Run \`${outflowCommand('connection', 'authorize', connection)}\` again and accept the requested permissions.`,
        ),
      );
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
    const url = new URL(authorizeUrl(authority));
    url.search = new URLSearchParams({
      client_id: options.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      response_mode: 'query',
      scope: OAUTH_SCOPE,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      // Admins often hold several Microsoft accounts; let them pick the one that manages the ad account.
      prompt: 'select_account',
    }).toString();
    await options.onAuthorizeUrl(url.toString());
    const code = await callback;

    const form: Record<string, string> = {
      client_id: options.clientId,
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      scope: OAUTH_SCOPE,
    };
    if (options.clientSecret) form.client_secret = options.clientSecret;
    const target = tokenUrl(authority);
    let response: Response;
    let text: string;
    // A timer we hold, not AbortSignal.timeout: see createDeadline. Covers the answer's body as well.
    const deadline = createDeadline(options.tokenTimeoutMs ?? 30_000, options.signal);
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
          `The Microsoft token endpoint at ${new URL(target).origin} did not answer within ${Math.round((options.tokenTimeoutMs ?? 30_000) / 1000)} s for connection \`${connection}\`. Check authorityUrl and the network, then sign in again.`,
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
    if (!response.ok) throw tokenFailure({ status: response.status, headers: response.headers, body }, { connection, grant: 'authorization_code' });
    const refreshToken = isRecord(body) && typeof body.refresh_token === 'string' ? body.refresh_token : '';
    if (!refreshToken) {
      throw new AuthError(
        'auth_failed',
        `Microsoft signed connection \`${connection}\` in but returned no refresh token: the offline_access permission was not granted. Allow it on the consent page (or ask a tenant admin to) and sign in again.`,
      );
    }
    return { refreshToken };
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
