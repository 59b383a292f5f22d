import { useState, type FormEvent } from 'react';
import { apiAll, api, enc, type AccountUser, type ApiError, type Role, type Token, type User } from '../api.ts';
import { asApiError, Empty, ErrorBanner, Field, Loading, Modal, PageHeader, useApi, when, useRevealError } from '../ui.tsx';

export function UsersPage({ user }: { user: User }) {
  const users = useApi(() => apiAll<AccountUser>('/users'));
  const tokens = useApi(() => apiAll<Token>('/tokens'));
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ title: string; value: string; note: string }>();
  const [error, setError] = useState<ApiError>();
  // A destructive click opens a dialog that says what happens; nothing changes until it is confirmed.
  const [confirming, setConfirming] = useState<{ title: string; body: string; action: string; run: () => Promise<unknown> }>();
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(asApiError(e));
    }
    users.reload();
    tokens.reload();
  };
  const createToken = () =>
    act(async () => {
      const t = await api<{ token: string; name: string }>('POST', '/tokens', {});
      setSecret({ title: 'API token created', value: t.token, note: 'Copy it now: it is shown only once. Send it as "Authorization: Bearer <token>".' });
    });
  return (
    <>
      <PageHeader title="Users">
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create user
        </button>
      </PageHeader>
      {/* Role changes and removals go only over the version listed; a refusal reloads the list (act), and Reload clears the message. */}
      <ErrorBanner error={error ?? users.error} onReload={() => (setError(undefined), users.reload())} />
      {!users.data ? (
        users.error ? null : <Loading />
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.name}>
                  <th scope="row">{u.name}</th>
                  <td>
                    <label className="sr-only" htmlFor={`role-${u.name}`}>
                      Role of {u.name}
                    </label>
                    <select id={`role-${u.name}`} value={u.role} disabled={u.name === user.name} onChange={(e) => act(() => api('PATCH', `/users/${enc(u.name)}`, { role: e.target.value as Role }, { ifMatch: u.etag }))}>
                      <option value="admin">Administrator</option>
                      <option value="contributor">Contributor</option>
                      <option value="viewer">Viewer</option>
                    </select>
                  </td>
                  <td>
                    {when(u.createdAt)} by {u.createdBy}
                  </td>
                  <td className="row-actions">
                    {u.name !== user.name ? (
                      <button type="button" className="danger" aria-label={`Remove ${u.name}`} onClick={() =>
                          setConfirming({
                            title: `Remove ${u.name}?`,
                            body: 'Their API tokens stop working and their sessions end now. Exports and runs they made stay. This cannot be undone.',
                            action: 'Remove user',
                            run: () => api('DELETE', `/users/${enc(u.name)}`, undefined, { ifMatch: u.etag }),
                          })
                        }
                      >
                        Remove
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="page-header">
        <h2>API tokens</h2>
        <button type="button" onClick={createToken}>
          Create token for me
        </button>
      </div>
      {!tokens.data ? (
        <Loading />
      ) : tokens.data.length === 0 ? (
        <Empty title="No API tokens.">Create one for scripts and for the CLI on another machine (OUTFLOW_TOKEN).</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">User</th>
                <th scope="col">Starts with</th>
                <th scope="col">Last used</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>{t.user ?? '—'}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{when(t.lastUsedAt)}</td>
                  <td className="row-actions">
                    <button type="button" className="danger" aria-label={`Revoke token ${t.name}`} onClick={() =>
                        setConfirming({
                          title: `Revoke token ${t.name}?`,
                          body: t.name.startsWith('local-cli')
                            ? "This is the token the server wrote for the CLI on its own machine (server.json). It stops working now; that CLI gets a new one by itself the next time it runs, since whoever can read the server's home owns it."
                            : 'Scripts and CLIs that send it are refused from now on. This cannot be undone: they need a new token.',
                          action: 'Revoke token',
                          run: () => api('DELETE', `/tokens/${enc(t.id)}`),
                        })
                      }
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating ? (
        <CreateUser
          onClose={() => setCreating(false)}
          onCreated={(u) => {
            setCreating(false);
            setSecret({ title: `User “${u.name}” created`, value: u.password, note: 'This one-time password is shown only now. Give it to them; they sign in with it.' });
            users.reload();
          }}
        />
      ) : null}
      {confirming ? (
        <Modal title={confirming.title} onClose={() => setConfirming(undefined)}>
          <p>{confirming.body}</p>
          <div className="form-actions">
            <button type="button" onClick={() => setConfirming(undefined)}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                const { run } = confirming;
                setConfirming(undefined);
                void act(run);
              }}
            >
              {confirming.action}
            </button>
          </div>
        </Modal>
      ) : null}
      {secret ? (
        <Modal title={secret.title} onClose={() => setSecret(undefined)}>
          <p>{secret.note}</p>
          <p>
            <code className="secret-value" data-testid="one-time-secret">
              {secret.value}
            </code>
          </p>
          <CopyButton value={secret.value} />
          <div className="form-actions">
            <button type="button" className="primary" onClick={() => setSecret(undefined)}>
              I have copied it
            </button>
          </div>
        </Modal>
      ) : null}
    </>
  );
}

function CreateUser({ onClose, onCreated }: { onClose: () => void; onCreated: (u: { name: string; password: string }) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('contributor');
  const [error, setError] = useState<ApiError>();
  const formRef = useRevealError<HTMLFormElement>(error);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      onCreated(await api<{ name: string; password: string }>('POST', '/users', { name, role }));
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <Modal title="Create user" onClose={onClose}>
      <form ref={formRef} onSubmit={submit} noValidate>
        {error && !error.about('name') && error.code !== 'conflict' ? <ErrorBanner error={error} /> : null}
        <Field label="User name (required)" error={error?.about('name') ?? (error?.code === 'conflict' ? error.message : undefined)}>
          {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Role" hint="Viewers read; contributors create and run exports on connections opened to them; administrators do everything.">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="viewer">Viewer</option>
              <option value="contributor">Contributor</option>
              <option value="admin">Administrator</option>
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Copies a value shown once (a one-time password, a token) to the clipboard, and says so. */
function CopyButton({ value }: { value: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  return (
    <p>
      <button type="button" onClick={() => void copy()}>
        Copy
      </button>{' '}
      <span role="status">{state === 'copied' ? 'Copied to the clipboard.' : state === 'failed' ? 'The browser did not allow copying: select the text and copy it.' : ''}</span>
    </p>
  );
}
