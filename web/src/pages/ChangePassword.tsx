import { useState, type FormEvent } from 'react';
import { api, type ApiError, type User } from '../api.ts';
import { asApiError, ErrorBanner, Field } from '../ui.tsx';

/**
 * Shown right after signing in with a one-time password (a new account, or one an administrator reset): the
 * user picks a password of their own before anything else. Changing it ends the user's other sessions.
 */
export function ChangePassword({ user, onChanged, onSignOut }: { user: User; onChanged: (user: User) => void; onSignOut: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<ApiError>();
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setMismatch(next !== repeat);
    if (next !== repeat) return;
    setBusy(true);
    try {
      onChanged((await api<{ user: User }>('PUT', '/session/password', { currentPassword: current, newPassword: next })).user);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form className="card" onSubmit={submit}>
        <h1>Choose your password</h1>
        <p className="hint">
          You signed in as <strong>{user.name}</strong> with a one-time password. Choose one of your own (at least 12 characters) to go on.
        </p>
        <ErrorBanner error={error && !error.issues.length ? error : undefined} />
        <Field label="One-time password" error={error?.about('currentPassword')}>
          {(p) => <input {...p} type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />}
        </Field>
        <Field label="New password" error={error?.about('newPassword')}>
          {(p) => <input {...p} type="password" autoComplete="new-password" required minLength={12} value={next} onChange={(e) => setNext(e.target.value)} />}
        </Field>
        <Field label="New password again" error={mismatch ? 'The two new passwords differ.' : undefined}>
          {(p) => <input {...p} type="password" autoComplete="new-password" required value={repeat} onChange={(e) => {
            setRepeat(e.target.value);
            setMismatch(false);
          }} />}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save and continue'}
        </button>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </form>
    </main>
  );
}
