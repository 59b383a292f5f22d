import { useState, type FormEvent } from 'react';
import { apiAll, api, enc, type ApiError, type Entity, type Export, type Segment, type User } from '../api.ts';
import { asApiError, Empty, ErrorBanner, Field, Loading, Message, Modal, num, PageHeader, Unavailable, useApi, useRevealError, when } from '../ui.tsx';
import { Link } from '../router.tsx';
import { SegmentHistoryDialog } from './History.tsx';

export function SegmentsPage({ user }: { user: User }) {
  const segments = useApi(() => apiAll<Segment>('/segments'));
  const exports = useApi(() => apiAll<Export>('/exports'));
  const [editing, setEditing] = useState<Segment | 'new'>();
  const [removing, setRemoving] = useState<Segment>();
  const [history, setHistory] = useState<string>();
  // Viewers create and change no segment; what a contributor may do to each one is its `actions`.
  const canEdit = user.can.createSegment.allowed;
  const usedBy = (name: string) => (exports.data ?? []).filter((e) => e.segments?.includes(name)).map((e) => e.name);
  const first = segments.data?.[0];
  const noAction = Boolean(segments.data?.length) && !segments.data!.some((s) => Object.values(s.actions).some((a) => a.allowed));
  return (
    <>
      <PageHeader title="Segments">
        {canEdit ? (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            Create segment
          </button>
        ) : null}
      </PageHeader>
      <p className="lead">A segment is the profiles of an entity that match a filter, such as <code>country = 'DE' AND age &gt;= 18</code>.</p>
      <ErrorBanner error={segments.error} />
      {first && noAction ? (
        <Unavailable
          actions={[
            ['Edit', first.actions.edit],
            ['Refresh', first.actions.refresh],
            ['Remove', first.actions.remove],
          ]}
        />
      ) : null}
      {!segments.data ? (
        segments.error ? null : <Loading />
      ) : segments.data.length === 0 ? (
        <Empty title="No segments yet.">{canEdit ? 'Create one with “Create segment”, then export it from Data > Exports.' : 'A contributor or an administrator creates them.'}</Empty>
      ) : (
        // Focusable, so keyboard users can scroll it at phone width when no button in it takes focus (a viewer's view).
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Segments">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Entity</th>
                <th scope="col">Filter</th>
                <th scope="col" className="num">Members</th>
                <th scope="col">Refreshed</th>
                <th scope="col">Exports</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {segments.data.map((s) => (
                <tr key={s.name}>
                  <th scope="row">{s.name}</th>
                  <td>{s.entity}</td>
                  <td>
                    <code>{s.filter}</code>
                  </td>
                  <td className="num">{num(s.members)}</td>
                  <td>{when(s.refreshedAt)}</td>
                  <td>{usedBy(s.name).join(', ') || <span className="muted">None</span>}</td>
                  <td className="row-actions">
                    <button type="button" onClick={() => setHistory(s.name)} aria-label={`Member history of ${s.name}`}>
                      History
                    </button>
                    {canEdit ? (
                      <>
                        {s.actions.edit.allowed ? (
                          <button type="button" onClick={() => setEditing(s)} aria-label={`Edit ${s.name}`}>
                            Edit
                          </button>
                        ) : null}
                        {s.actions.refresh.allowed ? <RefreshButton segment={s.name} onRefreshed={segments.reload} /> : null}
                        {/* Shown even when refused: its dialog names the exports that use the segment, which is why. */}
                        <button type="button" className="danger" onClick={() => setRemoving(s)} aria-label={`Remove ${s.name}`}>
                          Remove
                        </button>
                        {s.actions.edit.allowed ? null : (
                          // The server's reason (another user's export uses it), a click away so the row stays short.
                          <details className="why">
                            <summary>Why no Edit?</summary>
                            <Message>{s.actions.edit.reason ?? ''}</Message>
                          </details>
                        )}
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {history ? <SegmentHistoryDialog segment={history} onClose={() => setHistory(undefined)} /> : null}
      {removing ? (
        <RemoveSegmentDialog
          segment={removing}
          exports={usedBy(removing.name)}
          onClose={() => setRemoving(undefined)}
          onRemoved={() => (setRemoving(undefined), segments.reload())}
          onReload={() => (setRemoving(undefined), segments.reload())}
        />
      ) : null}
      {editing ? (
        <SegmentDialog
          // A new version (after "Reload") starts the form again from what is saved now.
          key={editing === 'new' ? 'new' : editing.etag}
          segment={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => (setEditing(undefined), segments.reload())}
          onReload={() => {
            const shown = editing === 'new' ? undefined : editing.name;
            segments.reload();
            apiAll<Segment>('/segments').then((all) => setEditing(all.find((x) => x.name === shown)), () => setEditing(undefined));
          }}
        />
      ) : null}
    </>
  );
}

/** Recomputes one segment's members now (the button for `outflow segment refresh <name>`). */
function RefreshButton({ segment, onRefreshed }: { segment: string; onRefreshed: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const refresh = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', `/segments/${enc(segment)}/refresh`);
      onRefreshed();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={() => void refresh()} disabled={busy} aria-label={`Refresh ${segment}`}>
        {busy ? 'Refreshing…' : 'Refresh'}
      </button>
      {error ? (
        <span className="field-error" role="alert">
          <Message>{error.message}</Message>
        </span>
      ) : null}
    </>
  );
}

/** Remove a segment; one that exports still use is refused, so the dialog says which, with links to them. */
function RemoveSegmentDialog({ segment, exports, onClose, onRemoved, onReload }: { segment: Segment; exports: string[]; onClose: () => void; onRemoved: () => void; onReload: () => void }) {
  const [error, setError] = useState<ApiError>();
  const remove = async () => {
    try {
      // Only the version shown: a segment someone else changed meanwhile is not removed unseen.
      await api('DELETE', `/segments/${enc(segment.name)}`, undefined, { ifMatch: segment.etag });
      onRemoved();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <Modal title={`Remove ${segment.name}?`} onClose={onClose}>
      <ErrorBanner error={error} onReload={onReload} />
      {exports.length ? (
        <>
          <p>These exports send this segment. Take it out of each of them (Edit on the export's page), then remove it:</p>
          <ul>
            {exports.map((e) => (
              <li key={e}>
                <Link to={`/exports/${enc(e)}`}>{e}</Link>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>No export sends this segment. Its member list is deleted; the profiles themselves stay.</p>
      )}
      <div className="form-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => void remove()} disabled={exports.length > 0}>
          Remove segment
        </button>
      </div>
    </Modal>
  );
}

function SegmentDialog({ segment, onClose, onSaved, onReload }: { segment?: Segment; onClose: () => void; onSaved: () => void; onReload: () => void }) {
  const entities = useApi(() => api<Entity[]>('GET', '/entities'));
  const [name, setName] = useState(segment?.name ?? '');
  const [entity, setEntity] = useState(segment?.entity ?? '');
  const [where, setWhere] = useState(segment?.filter ?? '');
  const [error, setError] = useState<ApiError>();
  const formRef = useRevealError<HTMLFormElement>(error);
  const [saved, setSaved] = useState<Segment>();
  const [preview, setPreview] = useState<{ where: string; entity: string; members: number }>();
  // Counts what the filter selects now, before anything is saved (the same query a refresh runs).
  const count = async () => {
    setError(undefined);
    try {
      const result = await api<{ entity: string; members: number }>('POST', '/segments/preview', { ...(entity ? { entity } : {}), where });
      setPreview({ where, ...result });
    } catch (e) {
      setPreview(undefined);
      setError(asApiError(e));
    }
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const body = { ...(entity ? { entity } : {}), where };
      // An edit is saved only over the version shown (If-Match): someone else's change is refused, not overwritten.
      const result = segment ? await api<Segment>('PATCH', `/segments/${enc(segment.name)}`, body, { ifMatch: segment.etag }) : await api<Segment>('POST', '/segments', { name, ...body });
      // Saving stores the filter; refreshing materializes the membership and gives the member count.
      const [counted] = await api<{ name: string; members: number }[]>('POST', `/segments/${enc(result.name)}/refresh`);
      setSaved({ ...result, members: counted?.members ?? result.members });
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const filterError = error?.code === 'invalid_filter' ? error : undefined;
  const entityColumns = entities.data?.find((e) => e.name === (entity || 'Customer'))?.columns ?? [];
  return (
    <Modal title={segment ? `Edit ${segment.name}` : 'Create segment'} onClose={onClose}>
      {saved ? (
        <>
          <div className="banner ok" role="status">
            Saved “{saved.name}”: {num(saved.members)} members.
          </div>
          <div className="form-actions">
            <button type="button" className="primary" onClick={onSaved}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form ref={formRef} onSubmit={save} noValidate>
          {error && !filterError && !error.about('name') ? <ErrorBanner error={error} onReload={onReload} /> : null}
          {!segment ? (
            <Field label="Name (required)" error={error?.about('name') ?? (error?.code === 'conflict' ? error.message : undefined)}>
              {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
            </Field>
          ) : null}
          <Field label="Entity" hint="Default: Customer">
            {(p) => (
              <select {...p} value={entity} onChange={(e) => setEntity(e.target.value)}>
                <option value="">Customer (default)</option>
                {(entities.data ?? []).map((e) => (
                  <option key={e.name} value={e.name}>
                    {e.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            label="Filter (required)"
            hint={entityColumns.length ? `Columns: ${entityColumns.map((c) => c.name).join(', ')}` : undefined}
            error={filterError ? filterError.message : error?.about('where')}
          >
            {(p) => <textarea {...p} rows={3} spellCheck={false} required value={where} onChange={(e) => setWhere(e.target.value)} />}
          </Field>
          {filterError?.position !== undefined ? <FilterPointer text={where} position={filterError.position} /> : null}
          {preview && preview.where === where && preview.entity === (entity || 'Customer') ? (
            <p className="hint" role="status">
              {num(preview.members)} {preview.entity} profile{preview.members === 1 ? '' : 's'} match this filter now.
            </p>
          ) : null}
          <div className="form-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="button" onClick={count} disabled={!where.trim()}>
              Count members
            </button>
            <button type="submit" className="primary">
              Save and count members
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

/** Shows where in the filter the error points: the text with a caret under the position. */
function FilterPointer({ text, position }: { text: string; position: number }) {
  const at = Math.max(0, Math.min(position, text.length));
  return (
    <pre className="filter-pointer" aria-label={`The error is at character ${at + 1}`}>
      {text.slice(0, at)}
      <mark>{text.slice(at, at + 1) || ' '}</mark>
      {text.slice(at + 1)}
      {'\n'}
      {' '.repeat(at)}^
    </pre>
  );
}
