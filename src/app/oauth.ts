import type { CheckResult } from '../destinations/kit/define.ts';
import { exchangeSignInCode, newSignInRequest, signInAuthority, signInRefused, signInUrl } from '../destinations/microsoft-advertising/authorize.ts';
import { AuthError, NotFoundError, OutflowError, PermissionError, ValidationError } from '../domain/errors.ts';
import { assertAdmin } from '../engine/services.ts';
import { sha256 } from '../lib/credentials.ts';
import * as store from '../store/metadata/connections.ts';
import { createPendingSignIn, prunePendingSignIns, takePendingSignIn } from '../store/metadata/oauth-sign-ins.ts';
import { findUserByName } from '../store/metadata/users.ts';
import { audit } from './audit.ts';
import { permit } from './refusals.ts';
import { afterSignIn } from './connections.ts';
import type { Home } from './home.ts';

// "Sign in with Microsoft Advertising" in the web app: the OAuth authorization-code flow with PKCE, like
// `outflow connection authorize`, but the browser comes back to the server's own callback URL instead of a
// loopback listener. What only the server may know (the PKCE verifier, the client secret, the tokens) stays on
// the server; the browser carries only the random `state`, which names the pending sign-in.

/** Where the authority sends the browser back; the app registration lists `<public URL>` + this as a Web redirect URI. */
export const MICROSOFT_CALLBACK_PATH = '/api/oauth/microsoft/callback';
/** How long a started sign-in may take before its callback is refused. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

const SIGN_IN_AGAIN = 'Start again with “Sign in with Microsoft Advertising” in Admin > Connections.';

/** The callback URL under the server's public URL (which may carry a path prefix behind a proxy). */
export function microsoftCallbackUrl(publicUrl: string): string {
  return new URL(MICROSOFT_CALLBACK_PATH.slice(1), publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`).toString();
}

export interface StartedSignIn {
  connection: string;
  /** The authority's sign-in page; the web app sends the browser there. Carries the state and the PKCE challenge, never the verifier. */
  authorizationUrl: string;
  /** The callback the authority will send the browser back to (to check against the app registration). */
  redirectUri: string;
  expiresAt: string;
}

/**
 * Starts a sign-in for a Microsoft Advertising connection (administrators). Keeps the state (as its hash),
 * the PKCE verifier (sealed) and the caller's name server-side for SIGN_IN_TTL_MS, and returns the URL of the
 * authority's sign-in page. The authority URL and client id come from the connection's settings.
 */
export async function startMicrosoftSignIn(home: Home, name: string, options: { publicUrl: string }): Promise<StartedSignIn> {
  await permit(home, 'connection.authorize', { type: 'connection', name }, () => assertAdmin(home.actor, 'sign connections in to Microsoft Advertising'));
  const connection = await store.getConnectionByName(home.db, home.box, name);
  if (connection.type !== 'microsoft-advertising') {
    throw new ValidationError(`Connection "${name}" is ${connection.type}; only Microsoft Advertising connections sign in with Microsoft.`);
  }
  const clientId = typeof connection.config.clientId === 'string' ? connection.config.clientId : '';
  const authorityUrl = typeof connection.config.authorityUrl === 'string' ? connection.config.authorityUrl : undefined;
  const authority = signInAuthority({ clientId, authorityUrl, connectionName: name });
  const redirectUri = microsoftCallbackUrl(options.publicUrl);
  const request = newSignInRequest();
  const now = home.now();
  const expiresAt = new Date(now.getTime() + SIGN_IN_TTL_MS).toISOString();
  // Abandoned sign-ins (a closed tab) would otherwise stay; each start sweeps the expired ones.
  await prunePendingSignIns(home.db, now.toISOString());
  await createPendingSignIn(home.db, home.box, sha256(request.state), {
    connectionId: connection.id,
    userName: home.actor.name,
    verifier: request.verifier,
    redirectUri,
    createdAt: now.toISOString(),
    expiresAt,
  });
  home.log.info({ connection: name, by: home.actor.name }, 'Microsoft sign-in started');
  return { connection: name, authorizationUrl: signInUrl(authority, { clientId, redirectUri, request }), redirectUri, expiresAt };
}

export type SignInOutcome =
  | { ok: true; connection: string; verification: CheckResult }
  | { ok: false; connection?: string; code: string; message: string };

/**
 * Finishes a sign-in from the authority's redirect (`code` and `state`, or `error`). The callback carries no
 * session (the browser arrives from another site, and the session cookie is SameSite=Strict): the pending
 * sign-in the state names says who started it, and that user must still be an administrator. Takes the state
 * whatever happens (single use), exchanges the code with the PKCE verifier, stores the refresh token encrypted
 * as `connection authorize` does, audits the outcome and verifies the connection. Never throws for a refused
 * sign-in: the outcome says what went wrong, for the page the browser is sent back to.
 */
export async function completeMicrosoftSignIn(home: Home, params: URLSearchParams, options: { fetch?: typeof fetch } = {}): Promise<SignInOutcome> {
  const state = params.get('state') ?? '';
  const pending = state ? await takePendingSignIn(home.db, home.box, sha256(state)) : undefined;
  if (!pending) {
    home.log.warn({ address: home.actor.address }, 'Microsoft sign-in callback with an unknown or used state refused');
    return {
      ok: false,
      code: 'auth_failed',
      message: `This sign-in answer does not match a sign-in in progress: it was already used, or it was not started here. ${SIGN_IN_AGAIN}`,
    };
  }
  const user = await findUserByName(home.db, pending.userName);
  // From here on the sign-in acts as the user who started it, and the audit log says so.
  const as: Home = { ...home, actor: { name: pending.userName, role: user?.role ?? 'viewer', via: 'api', ...(home.actor.address ? { address: home.actor.address } : {}) } };
  // Named in the audit entry and on the page even when the sign-in is refused; gone if it was removed meanwhile.
  const connectionName = (await store.connectionLabels(home.db, [pending.connectionId])).get(pending.connectionId)?.name;
  try {
    if (pending.expiresAt <= home.now().toISOString()) {
      throw new AuthError('auth_failed', `The sign-in took longer than ${SIGN_IN_TTL_MS / 60_000} minutes and has expired. ${SIGN_IN_AGAIN}`);
    }
    if (!user || user.role !== 'admin') {
      throw new PermissionError(`The sign-in was started by "${pending.userName}", who is no longer an administrator; an administrator must sign the connection in.`);
    }
    if (!connectionName) throw new NotFoundError('The connection this sign-in was started for was removed meanwhile. Nothing was stored.');
    const connection = await store.getConnection(home.db, home.box, pending.connectionId);
    if (params.get('error')) throw signInRefused(params, connection.name, SIGN_IN_AGAIN);
    const code = params.get('code');
    if (!code) throw new AuthError('auth_failed', `Microsoft sent the browser back without a sign-in code for connection \`${connection.name}\`. ${SIGN_IN_AGAIN}`);
    const secrets = await store.readConnectionSecrets(home.db, home.box, connection.id);
    const clientId = String(connection.config.clientId ?? '');
    const authority = signInAuthority({ clientId, authorityUrl: typeof connection.config.authorityUrl === 'string' ? connection.config.authorityUrl : undefined, connectionName: connection.name });
    const { refreshToken } = await exchangeSignInCode({
      clientId,
      clientSecret: secrets.clientSecret,
      authority,
      code,
      redirectUri: pending.redirectUri,
      verifier: pending.verifier,
      connectionName: connection.name,
      signInAgain: SIGN_IN_AGAIN,
      fetch: options.fetch,
    });
    const verification = await storeSignIn(as, connection.name, refreshToken, 'web');
    return { ok: true, connection: connection.name, verification };
  } catch (error) {
    const outflow = error instanceof OutflowError ? error : undefined;
    const code = outflow?.code ?? 'internal';
    const message = outflow ? outflow.message : 'The sign-in failed unexpectedly; the server log has the details.';
    if (!outflow) home.log.error({ err: error, connection: connectionName }, 'Microsoft sign-in failed');
    else home.log.warn({ connection: connectionName, code }, 'Microsoft sign-in refused');
    await audit(as, 'connection.authorize', { type: 'connection', name: connectionName ?? null }, { via: 'web', code }, 'failed');
    return { ok: false, ...(connectionName ? { connection: connectionName } : {}), code, message };
  }
}

/**
 * Stores a fresh refresh token on a connection (encrypted with its other secrets), records who signed it in,
 * audits `connection.authorize` and verifies the connection again. Shared by `outflow connection authorize`
 * (`via: 'cli'`) and the web app's callback (`via: 'web'`).
 */
export async function storeSignIn(home: Home, name: string, refreshToken: string, via: 'cli' | 'web'): Promise<CheckResult & { connection: string }> {
  await permit(home, 'connection.authorize', { type: 'connection', name }, () => assertAdmin(home.actor, 'sign connections in'));
  const connection = await store.getConnectionByName(home.db, home.box, name);
  await store.updateConnectionSecrets(home.db, home.box, connection.id, { refreshToken });
  await store.updateConnectionState(home.db, connection.id, { signedIn: { at: home.now().toISOString(), by: home.actor.name } });
  home.log.info({ connection: name, by: home.actor.name, via }, 'connection signed in');
  await audit(home, 'connection.authorize', { type: 'connection', name }, { via });
  return afterSignIn(home, name);
}
