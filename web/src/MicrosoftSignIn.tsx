import { useEffect, useState } from 'react';
import { api, enc, type ApiError, type Connection } from './api.ts';
import { asApiError, Badge, when } from './ui.tsx';

// "Sign in with Microsoft Advertising": the server starts the OAuth sign-in (state and PKCE verifier stay on the
// server) and answers with the authority's sign-in page; the browser goes there, and the authority sends it back
// to the server's callback, which stores the token and redirects here with ?signin=ok|failed.

const SIGN_IN_CODES = new Set(['token_expired', 'auth_failed']);

/** Whether a Microsoft Advertising connection holds a working sign-in, as far as the server knows. */
export function signInState(c: Connection): 'signed-in' | 'needs-sign-in' | 'not-signed-in' {
  if (c.config?.refreshToken !== 'set') return 'not-signed-in';
  return c.attention?.code && SIGN_IN_CODES.has(c.attention.code) ? 'needs-sign-in' : 'signed-in';
}

export function SignInStatus({ connection }: { connection: Connection }) {
  const state = signInState(connection);
  if (state === 'signed-in') {
    // Who signed in and when, on hover: the type column is narrow.
    return (
      <span className="signin-status" title={connection.signedIn ? `Signed in by ${connection.signedIn.by}, ${when(connection.signedIn.at)}` : undefined}>
        <Badge tone="ok">Signed in</Badge>
      </span>
    );
  }
  return <Badge tone="warn">{state === 'needs-sign-in' ? 'Needs sign-in' : 'Not signed in'}</Badge>;
}

/** Starts the sign-in and sends the browser to Microsoft; an error (e.g. no client id) shows next to the button. */
export function SignInButton({ connection }: { connection: Connection }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { authorizationUrl } = await api<{ authorizationUrl: string }>('POST', `/connections/${enc(connection.name)}/oauth/start`);
      location.assign(authorizationUrl);
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
    }
  };
  const label = busy ? 'Opening Microsoft…' : 'Sign in with Microsoft Advertising';
  return (
    <>
      {/* The accessible name starts with the visible text (WCAG 2.5.3) and names the connection of the row. */}
      <button type="button" onClick={start} disabled={busy} aria-label={`${label}: ${connection.name}`}>
        {label}
      </button>
      {error ? (
        <span className="field-error" role="alert">
          {error.message}
        </span>
      ) : null}
    </>
  );
}

interface SignInResult {
  ok: boolean;
  connection: string | null;
  message: string | null;
}

/**
 * The outcome the callback sent the browser back with (`/connections?signin=…`), shown once: the query is
 * removed from the address so a reload or a bookmark does not show it again.
 */
export function SignInResultBanner() {
  const [result, setResult] = useState<SignInResult>();
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    const signin = params.get('signin');
    if (signin !== 'ok' && signin !== 'failed') return;
    setResult({ ok: signin === 'ok', connection: params.get('connection'), message: params.get('message') });
    history.replaceState(history.state, '', location.pathname);
  }, []);
  if (!result) return null;
  const who = result.connection ? `“${result.connection}”` : 'the connection';
  return (
    <div className={`banner ${result.ok && !result.message ? 'ok' : 'error'}`} role={result.ok ? 'status' : 'alert'}>
      <strong>{result.ok ? `Signed in: ${who} has a new Microsoft Advertising sign-in.` : `Signing in ${who} with Microsoft Advertising failed.`}</strong>
      {result.message ? <p>{result.message}</p> : result.ok ? <p>Outflow verified the connection with it.</p> : null}
      <button type="button" onClick={() => setResult(undefined)}>
        Dismiss
      </button>
    </div>
  );
}
