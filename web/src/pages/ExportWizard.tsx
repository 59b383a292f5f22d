import { useState, type FormEvent } from 'react';
import { api, type ApiError, type Connection, type Destination, type Entity, type Export, type Segment } from '../api.ts';
import { SchemaFields, toConfig, type Values } from '../SchemaForm.tsx';
import { asApiError, Empty, ErrorBanner, Field, Loading, Modal, useApi } from '../ui.tsx';

/** Add export: connection (grouped by type) → sources → field mapping → destination settings → sync mode → Save. */
export function ExportWizard({ onClose, onSaved }: { onClose: () => void; onSaved: (e: Export) => void }) {
  const connections = useApi(() => api<Connection[]>('GET', '/connections'));
  const destinations = useApi(() => api<Destination[]>('GET', '/destinations'));
  const segments = useApi(() => api<Segment[]>('GET', '/segments'));
  const entities = useApi(() => api<Entity[]>('GET', '/entities'));
  const [connectionName, setConnectionName] = useState('');
  const [name, setName] = useState('');
  const [sourceKind, setSourceKind] = useState<'segments' | 'entities'>('segments');
  const [sources, setSources] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [extra, setExtra] = useState<{ target: string; column: string }[]>([]);
  const [settings, setSettings] = useState<Values>({});
  const [syncMode, setSyncMode] = useState('full');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const loadError = connections.error ?? destinations.error ?? segments.error ?? entities.error;
  if (!connections.data || !destinations.data || !segments.data || !entities.data) {
    return (
      <Modal title="Add export" onClose={onClose}>
        {loadError ? <ErrorBanner error={loadError} /> : <Loading />}
      </Modal>
    );
  }
  const connection = connections.data.find((c) => c.name === connectionName);
  const destination = destinations.data.find((d) => d.id === connection?.type);
  const isFiles = connection?.type === 'sftp';
  const chosenSegments = segments.data.filter((s) => sourceKind === 'segments' && sources.includes(s.name));
  const entity = entities.data.find((e) => e.name === (chosenSegments[0]?.entity ?? 'Customer')) ?? entities.data[0];
  const columns = entity?.columns.map((c) => c.name) ?? [];

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!connection || !destination) return;
    setBusy(true);
    setError(undefined);
    const fullMapping: Record<string, string> = {};
    for (const [target, column] of Object.entries(mapping)) if (column) fullMapping[target] = column;
    for (const { target, column } of extra) if (target.trim() && column) fullMapping[target.trim()] = column;
    const config = { ...toConfig(destination.exportSettings, settings), ...(isFiles ? {} : { mapping: fullMapping, syncMode }) };
    try {
      onSaved(await api<Export>('POST', '/exports', { name, connection: connection.name, [sourceKind]: sources, config }));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };

  // Only types with at least one connection this user may use get a section.
  const byType = new Map<string, Connection[]>();
  for (const c of connections.data) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  const titleOf = (type: string) => destinations.data?.find((d) => d.id === type)?.title ?? type;
  const toggle = (source: string) => setSources(sources.includes(source) ? sources.filter((s) => s !== source) : [...sources, source]);
  const sourceList = sourceKind === 'segments' ? segments.data.map((s) => ({ name: s.name, note: `${s.entity}, ${s.members ?? '?'} members` })) : entities.data.map((e) => ({ name: e.name, note: `${e.rows.toLocaleString()} rows` }));
  const placedPaths = ['name', 'connection', 'segments', 'entities', 'mapping', ...Object.keys(destination?.exportSettings.properties ?? {})];
  const unplaced = error && (error.issues.length === 0 || error.issues.some((i) => !placedPaths.some((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.endsWith(`.${p}`))));

  return (
    <Modal title="Add export" onClose={onClose}>
      {connections.data.length === 0 ? (
        <Empty title="No connections you may use yet.">An administrator adds one in Admin &gt; Connections and makes it usable by contributors.</Empty>
      ) : (
        <form onSubmit={save} noValidate>
          {unplaced ? <ErrorBanner error={error} /> : null}
          <fieldset>
            <legend>1. Connection</legend>
            {[...byType].map(([type, list]) => (
              <div key={type} className="group" role="group" aria-label={titleOf(type)}>
                <p className="group-title">{titleOf(type)}</p>
                {list.map((c) => (
                  <label key={c.name} className="radio">
                    <input
                      type="radio"
                      name="connection"
                      value={c.name}
                      checked={connectionName === c.name}
                      onChange={() => {
                        setConnectionName(c.name);
                        setSettings({});
                        if (c.type !== 'sftp') setSourceKind('segments');
                      }}
                    />{' '}
                    {c.name}
                  </label>
                ))}
              </div>
            ))}
          </fieldset>
          {connection && destination ? (
            <>
              <fieldset>
                <legend>2. What to export</legend>
                {isFiles ? (
                  <div className="segmented" role="radiogroup" aria-label="Source kind">
                    {(['segments', 'entities'] as const).map((kind) => (
                      <label key={kind} className="radio">
                        <input type="radio" name="sourceKind" checked={sourceKind === kind} onChange={() => (setSourceKind(kind), setSources([]))} /> {kind === 'segments' ? 'Segments' : 'Whole entities'}
                      </label>
                    ))}
                  </div>
                ) : null}
                {sourceList.length === 0 ? (
                  <Empty title={sourceKind === 'segments' ? 'No segments yet.' : 'No entities loaded.'}>{sourceKind === 'segments' ? 'Create one in Data > Segments first.' : 'Load one with `outflow entity load`.'}</Empty>
                ) : (
                  sourceList.map((s) => (
                    <label key={s.name} className="checkbox">
                      <input type="checkbox" checked={sources.includes(s.name)} onChange={() => toggle(s.name)} /> {s.name} <span className="muted">({s.note})</span>
                    </label>
                  ))
                )}
                {error?.about(sourceKind) ? <p className="field-error">{error.about(sourceKind)}</p> : null}
              </fieldset>
              {destination.fields ? (
                <fieldset>
                  <legend>3. Field mapping</legend>
                  <p className="hint">Choose which column of {entity?.name ?? 'the entity'} fills each field of {destination.title}.</p>
                  {Object.entries(destination.fields).map(([target, spec]) => (
                    <Field key={target} label={`${spec.title}${spec.required ? ' (required)' : ''}`} hint={spec.description} error={error?.about(`mapping.${target}`) ?? error?.about(target)}>
                      {(p) => (
                        <select {...p} required={spec.required} value={mapping[target] ?? ''} onChange={(e) => setMapping({ ...mapping, [target]: e.target.value })}>
                          <option value="">— not sent —</option>
                          {columns.map((c) => (
                            <option key={c} value={c}>
                              {c}
                            </option>
                          ))}
                        </select>
                      )}
                    </Field>
                  ))}
                  {destination.extraFields ? (
                    <>
                      {extra.map((row, i) => (
                        <div className="inline-fields" key={i}>
                          <Field label={`Extra field ${i + 1}: name at ${destination.title}`}>
                            {(p) => <input {...p} value={row.target} onChange={(e) => setExtra(extra.map((r, j) => (j === i ? { ...r, target: e.target.value } : r)))} />}
                          </Field>
                          <Field label={`Extra field ${i + 1}: column`} error={row.target ? error?.about(`mapping.${row.target}`) : undefined}>
                            {(p) => (
                              <select {...p} value={row.column} onChange={(e) => setExtra(extra.map((r, j) => (j === i ? { ...r, column: e.target.value } : r)))}>
                                <option value="">—</option>
                                {columns.map((c) => (
                                  <option key={c} value={c}>
                                    {c}
                                  </option>
                                ))}
                              </select>
                            )}
                          </Field>
                        </div>
                      ))}
                      <button type="button" onClick={() => setExtra([...extra, { target: '', column: '' }])}>
                        Add another field
                      </button>
                      <p className="hint">{destination.extraFields.description}</p>
                    </>
                  ) : null}
                </fieldset>
              ) : null}
              <fieldset>
                <legend>{destination.fields ? '4.' : '3.'} Settings</legend>
                <Field label="Export name (required)" error={error?.about('name') ?? (error?.code === 'conflict' ? error.message : undefined)}>
                  {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
                </Field>
                <SchemaFields schema={destination.exportSettings} values={settings} onChange={setSettings} error={error} />
                {!isFiles ? (
                  <Field label="Sync mode" hint="Full adds or updates every member on each run; mirror also removes those who left the segment." error={error?.about('syncMode')}>
                    {(p) => (
                      <select {...p} value={syncMode} onChange={(e) => setSyncMode(e.target.value)}>
                        <option value="full">Full</option>
                        <option value="mirror">Mirror</option>
                      </select>
                    )}
                  </Field>
                ) : null}
              </fieldset>
              <div className="form-actions">
                <button type="button" onClick={onClose}>
                  Cancel
                </button>
                <button type="submit" className="primary" disabled={busy}>
                  {busy ? 'Saving…' : 'Save'}
                </button>
              </div>
              <p className="hint">Saving does not run the export.</p>
            </>
          ) : null}
        </form>
      )}
    </Modal>
  );
}
