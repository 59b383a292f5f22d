import { useState, type FormEvent } from 'react';
import { api, type Session } from '../api.ts';
import { asApiError, ErrorBanner, Field } from '../ui.tsx';
import type { ApiError } from '../api.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      onSignedIn(await api<Session>('POST', '/session', { name, password }));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form className="card" onSubmit={submit}>
        <h1>Sign in to Outflow</h1>
        <ErrorBanner error={error && !error.issues.length ? error : undefined} />
        <Field label="User name" error={error?.about('name')}>
          {(p) => <input {...p} autoComplete="username" required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Password" error={error?.about('password')}>
          {(p) => <input {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">No account? An administrator creates one in Admin &gt; Users (or with `outflow user create`).</p>
      </form>
    </main>
  );
}
