import { useState, type FormEvent } from 'react';
import { apiAll, api, enc, type ApiError, type Connection, type Destination, type Export, type User, type VerifyResult } from '../api.ts';
import { fromConfig, SchemaFields, toConfig, type Values } from '../SchemaForm.tsx';
import { SignInButton, SignInResultBanner, SignInStatus } from '../MicrosoftSignIn.tsx';
import { asApiError, Badge, Empty, ErrorBanner, Field, Loading, Modal, PageHeader, Message, Unavailable, useApi, useRevealError, when } from '../ui.tsx';

const USABLE_BY = { admins: 'Administrators', 'admins-and-contributors': 'Administrators and contributors' } as const;

export function ConnectionsPage({ user }: { user: User }) {
  const connections = useApi(() => apiAll<Connection>('/connections'));
  const destinations = useApi(() => api<Destination[]>('GET', '/destinations'));
  const exports = useApi(() => apiAll<Export>('/exports'));
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Connection>();
  const [removing, setRemoving] = useState<Connection>();
  const isAdmin = user.can.createConnection.allowed;
  const reload = () => {
    connections.reload();
    exports.reload();
  };
  const titleOf = (type: string) => destinations.data?.find((d) => d.id === type)?.title ?? type;
  const usedBy = (name: string) => (exports.data ?? []).filter((e) => e.connection === name).map((e) => e.name);
  // The server says per connection what this user may do; the actions column shows only when some row has one.
  const anyAction = (connections.data ?? []).some((c) => Object.values(c.actions).some((a) => a.allowed));
  const first = connections.data?.[0];

  return (
    <>
      <PageHeader title="Connections">
        {isAdmin ? (
          <button type="button" className="primary" onClick={() => setAdding(true)} disabled={!destinations.data}>
            Add connection
          </button>
        ) : null}
      </PageHeader>
      <p className="lead">A connection links Outflow to one destination account. Its credentials are encrypted and never shown again.</p>
      <SignInResultBanner />
      <ErrorBanner error={connections.error} />
      {!connections.data ? (
        connections.error ? null : <Loading />
      ) : connections.data.length === 0 ? (
        <Empty title={isAdmin ? 'No connections yet.' : 'No connections you may use yet.'}>
          {isAdmin
            ? 'Add one with “Add connection”: choose the destination type, fill in its settings, agree to the data privacy terms, then verify it.'
            : 'An administrator adds connections and chooses which ones contributors may use.'}
        </Empty>
      ) : (
        <>
        {first ? (
          <Unavailable
            actions={[
              ['Verify', first.actions.verify],
              ['Edit', first.actions.edit],
              ['Remove', first.actions.remove],
            ]}
          />
        ) : null}
        {/* Focusable, so keyboard users can scroll it at phone width when no button in it takes focus (a contributor's view). */}
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Connections">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Who can use it</th>
                <th scope="col">Last verified</th>
                <th scope="col">Created</th>
                <th scope="col">Exports</th>
                {anyAction ? <th scope="col"><span className="sr-only">Actions</span></th> : null}
              </tr>
            </thead>
            <tbody>
              {connections.data.map((c) => (
                <ConnectionRow key={c.name} connection={c} title={titleOf(c.type)} exports={usedBy(c.name)} actionsColumn={anyAction} onEdit={() => setEditing(c)} onRemove={() => setRemoving(c)} onVerified={reload} />
              ))}
            </tbody>
          </table>
        </div>
        </>
      )}
      {adding && destinations.data ? (
        <ConnectionDialog destinations={destinations.data} onClose={() => setAdding(false)} onSaved={() => (setAdding(false), reload())} />
      ) : null}
      {editing && destinations.data ? (
        <ConnectionDialog
          // A new version (after "Reload") starts the form again from what is saved now.
          key={editing.etag}
          destinations={destinations.data}
          existing={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => (setEditing(undefined), reload())}
          onReload={() => {
            reload();
            api<Connection>('GET', `/connections/${enc(editing.name)}`).then(setEditing, () => setEditing(undefined));
          }}
        />
      ) : null}
      {removing ? (
        <RemoveDialog connection={removing} exports={usedBy(removing.name)} onClose={() => setRemoving(undefined)} onRemoved={() => (setRemoving(undefined), reload())} onReload={() => (setRemoving(undefined), reload())} />
      ) : null}
    </>
  );
}

function ConnectionRow(props: { connection: Connection; title: string; exports: string[]; actionsColumn: boolean; onEdit: () => void; onRemove: () => void; onVerified: () => void }) {
  const { connection: c } = props;
  const [result, setResult] = useState<VerifyResult | ApiError>();
  const [busy, setBusy] = useState(false);
  const verify = async (acceptHostKey?: string) => {
    setBusy(true);
    try {
      setResult(await api<VerifyResult>('POST', `/connections/${enc(c.name)}/verify`, acceptHostKey ? { acceptHostKey } : {}));
      props.onVerified();
    } catch (e) {
      setResult(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const v = c.lastVerification;
  const can = c.actions;
  return (
    <>
      <tr>
        <th scope="row">{c.name}</th>
        <td>
          {props.title}
          {c.sandbox ? (
            <>
              {' '}
              <span title="This connection's API runs on the Outflow machine: a local stand-in of the vendor, such as the demo's sandboxes. Nothing it receives reaches a real account.">
                <Badge tone="info">Local sandbox</Badge>
              </span>
            </>
          ) : null}
          {c.type === 'microsoft-advertising' && can.signIn.allowed ? (
            <>
              <br />
              <SignInStatus connection={c} />
            </>
          ) : null}
        </td>
        <td>{USABLE_BY[c.usableBy]}</td>
        <td>{v ? <>{v.ok ? <Badge tone="ok">OK</Badge> : <Badge tone="bad">Failed</Badge>} <span className="muted">{when(v.at)}</span></> : <span className="muted">Never</span>}</td>
        <td>{c.createdAt ? when(c.createdAt) : <span className="muted">—</span>}</td>
        <td>{props.exports.length ? props.exports.join(', ') : <span className="muted">None</span>}</td>
        {props.actionsColumn ? (
          <td className="row-actions">
            {c.type === 'microsoft-advertising' && can.signIn.allowed ? <SignInButton connection={c} /> : null}
            {can.verify.allowed ? (
              <button type="button" onClick={() => verify()} disabled={busy} aria-label={`Verify ${c.name}`}>
                {busy ? 'Verifying…' : 'Verify'}
              </button>
            ) : null}
            {can.edit.allowed ? (
              <button type="button" onClick={props.onEdit} aria-label={`Edit ${c.name}`}>
                Edit
              </button>
            ) : null}
            {can.remove.allowed ? (
              <button type="button" className="danger" onClick={props.onRemove} aria-label={`Remove ${c.name}`}>
                Remove
              </button>
            ) : null}
          </td>
        ) : null}
      </tr>
      {result ? (
        <tr className="detail-row">
          <td colSpan={props.actionsColumn ? 7 : 6}>
            <VerifyOutcome result={result} hostKey={c.hostKeySha256} onAccept={(key) => verify(key)} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** The outcome of Verify, in place: for SFTP the host key fingerprint to compare with the server's. */
function VerifyOutcome({ result, hostKey, onAccept }: { result: VerifyResult | ApiError; hostKey: string | undefined; onAccept: (key: string) => void }) {
  if (!('ok' in result)) return (
      <div className="banner error" role="alert">
        <Message>{result.message}</Message>
      </div>
    );
  const fingerprint = (result.details?.hostKeySha256 as string | undefined) ?? hostKey;
  const offered = result.details?.offeredHostKeySha256 as string | undefined;
  return (
    <div className={`banner ${result.ok ? 'ok' : 'error'}`} role="status">
      <strong>{result.ok ? 'Verified: the connection works.' : 'Verification failed.'}</strong> <Message>{result.message ?? ''}</Message>
      {fingerprint && result.ok ? (
        <p>
          Host key fingerprint: <code className="fingerprint">{fingerprint}</code>. Compare it with the one the server's administrator gives you (<code>ssh-keygen -l -E sha256</code>).
        </p>
      ) : null}
      {offered && !result.ok ? (
        <p>
          The server now offers <code className="fingerprint">{offered}</code>.{' '}
          <button type="button" onClick={() => onAccept(offered)}>
            Trust this key
          </button>
        </p>
      ) : null}
    </div>
  );
}

function ConnectionDialog({
  destinations,
  existing,
  onClose,
  onSaved,
  onReload,
}: {
  destinations: Destination[];
  existing?: Connection;
  onClose: () => void;
  onSaved: () => void;
  /** Loads the version saved now, after an edit was refused because someone else changed the connection first. */
  onReload?: () => void;
}) {
  const [type, setType] = useState(existing?.type ?? '');
  const destination = destinations.find((d) => d.id === type);
  const [name, setName] = useState(existing?.name ?? '');
  const [values, setValues] = useState<Values>(() => (existing && destination ? fromConfig(destination.connection, existing.config) : {}));
  const [usableBy, setUsableBy] = useState<Connection['usableBy']>(existing?.usableBy ?? 'admins');
  const [agreed, setAgreed] = useState(false);
  const [checked, setChecked] = useState<VerifyResult>();
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<ApiError>();
  const formRef = useRevealError<HTMLFormElement>(error);
  const [busy, setBusy] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!destination) return;
    setBusy(true);
    setError(undefined);
    try {
      const config = toConfig(destination.connection, values);
      if (existing) {
        // PATCH merges, so send only what changed: an unchanged SFTP host sent again would still count as a
        // change (and forget the recorded host key). A cleared field is removed with null; secrets are sent
        // only when a new value was typed.
        const before = toConfig(destination.connection, fromConfig(destination.connection, existing.config));
        const patch: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(config)) if (JSON.stringify(before[key]) !== JSON.stringify(value)) patch[key] = value;
        for (const key of Object.keys(before)) if (!(key in config)) patch[key] = null;
        // Saved only over the version shown: a change someone else saved meanwhile is refused, not overwritten.
        await api(
          'PATCH',
          `/connections/${enc(existing.name)}`,
          {
            ...(name !== existing.name ? { name } : {}),
            ...(Object.keys(patch).length ? { config: patch } : {}),
            ...(usableBy !== existing.usableBy ? { usableBy } : {}),
          },
          { ifMatch: existing.etag },
        );
      } else {
        await api('POST', '/connections', { type, name, config, usableBy, acceptPrivacyTerms: agreed });
      }
      onSaved();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  // Verify before Save: the same check as a saved connection's, on what the form holds; nothing is stored.
  const verifyDraft = async () => {
    if (!destination) return;
    setChecking(true);
    setError(undefined);
    setChecked(undefined);
    try {
      setChecked(await api<VerifyResult>('POST', '/connection-checks', { type, name, config: toConfig(destination.connection, values) }));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setChecking(false);
    }
  };

  if (!destination) {
    return (
      <Modal title="Add connection" onClose={onClose}>
        <fieldset className="choices">
          <legend>Choose the destination type</legend>
          {destinations.map((d) => (
            <button type="button" key={d.id} className="choice" onClick={() => setType(d.id)}>
              <strong>{d.title}</strong>
              <span className="muted">{d.exports}</span>
            </button>
          ))}
        </fieldset>
      </Modal>
    );
  }

  const consentError = error?.code === 'privacy_terms_not_accepted' ? 'Tick “I agree” to save: a connection sends customer data to a third party.' : undefined;
  const nameError = error?.about('name') ?? (error?.code === 'conflict' ? error.message : undefined);
  const placed = consentError || nameError || error?.issues.some((i) => i.path in (destination.connection.properties ?? {}) || i.path.replace(/^config\./, '') in (destination.connection.properties ?? {}));
  return (
    <Modal title={existing ? `Edit ${existing.name}` : `Add ${destination.title} connection`} onClose={onClose}>
      <form ref={formRef} onSubmit={save} noValidate>
        {error && !placed ? <ErrorBanner error={error} onReload={onReload} /> : null}
        <Field label="Display name (required)" error={nameError}>
          {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <SchemaFields schema={destination.connection} values={values} onChange={setValues} error={error} {...(existing?.config ? { stored: existing.config } : {})} />
        <Field label="Who can use this connection">
          {(p) => (
            <select {...p} value={usableBy} onChange={(e) => setUsableBy(e.target.value as Connection['usableBy'])}>
              <option value="admins">{USABLE_BY.admins}</option>
              <option value="admins-and-contributors">{USABLE_BY['admins-and-contributors']}</option>
            </select>
          )}
        </Field>
        {existing ? (
          existing.privacyConsent ? (
            <p className="hint">
              Data privacy terms accepted by {existing.privacyConsent.acceptedBy} on {when(existing.privacyConsent.acceptedAt)}.
            </p>
          ) : null
        ) : (
          <section className={`consent${consentError ? ' has-error' : ''}`} aria-labelledby="consent-title">
            <h3 id="consent-title">Data privacy and compliance</h3>
            <p>
              Exports through this connection send personal data of your customers (such as e-mail addresses and names) to {destination.title}, a third party. Confirm that your
              organisation may share this data with it under your privacy policy and the customers' consent, and that a data processing agreement is in place where the law
              requires one.
            </p>
            <label className="checkbox">
              <input type="checkbox" checked={agreed} onChange={(e) => setAgreed(e.target.checked)} aria-describedby={consentError ? 'consent-error' : undefined} /> I agree
            </label>
            {consentError ? (
              <p className="field-error" id="consent-error">
                {consentError}
              </p>
            ) : null}
          </section>
        )}
        {existing ? null : (
          <section className="verify-draft" aria-labelledby="verify-title">
            <h3 id="verify-title">Check the settings</h3>
            <p className="hint">Verify connects with these settings now, before anything is saved. You can still save without verifying; runs then fail if a setting is wrong.</p>
            <button type="button" onClick={() => void verifyDraft()} disabled={checking}>
              {checking ? 'Verifying…' : 'Verify'}
            </button>
            {checked ? <VerifyOutcome result={checked} hostKey={undefined} onAccept={() => undefined} /> : null}
          </section>
        )}
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : checked?.ok || existing ? 'Save' : 'Save without verifying'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function RemoveDialog({ connection, exports, onClose, onRemoved, onReload }: { connection: Connection; exports: string[]; onClose: () => void; onRemoved: () => void; onReload: () => void }) {
  const [error, setError] = useState<ApiError>();
  const remove = async () => {
    try {
      await api('DELETE', `/connections/${enc(connection.name)}${exports.length ? '?force=true' : ''}`, undefined, { ifMatch: connection.etag });
      onRemoved();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <Modal title={`Remove ${connection.name}?`} onClose={onClose}>
      <ErrorBanner error={error} onReload={onReload} />
      {exports.length ? (
        <>
          <p>These exports use this connection; their runs will fail until each gets another connection:</p>
          <ul>
            {exports.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </>
      ) : (
        <p>No export uses this connection.</p>
      )}
      <p>Its stored credentials are deleted. This cannot be undone.</p>
      <div className="form-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={remove}>
          Remove connection
        </button>
      </div>
    </Modal>
  );
}
