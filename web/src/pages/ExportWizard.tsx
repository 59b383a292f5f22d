import { useState, type FormEvent } from 'react';
import { apiAll, api, enc, type ApiError, type Connection, type Destination, type Entity, type Export, type ExportSchedule, type Segment } from '../api.ts';
import { fromConfig, SchemaFields, toConfig, type Values } from '../SchemaForm.tsx';
import { asApiError, Empty, ErrorBanner, Field, Loading, Modal, num, Message, useApi, useRevealError, when } from '../ui.tsx';
import { Samples } from './Samples.tsx';

/**
 * Add export: connection (grouped by type) → sources → field mapping → destination settings → sync mode →
 * schedule → Save. With `existing` the same steps edit that export (PATCH), its own schedule included.
 */
/**
 * Creates an export, or edits `existing`. An edit is saved only over the version shown (If-Match): when someone
 * else saved the export meanwhile, the refusal offers `onReload`, which loads the current version.
 */
export function ExportWizard({
  onClose,
  onSaved,
  onReload,
  existing,
  schedule,
}: {
  onClose: () => void;
  onSaved: (e: Export) => void;
  onReload?: () => void;
  existing?: Export;
  schedule?: ExportSchedule | undefined;
}) {
  const connections = useApi(() => apiAll<Connection>('/connections'));
  const destinations = useApi(() => api<Destination[]>('GET', '/destinations'));
  const segments = useApi(() => apiAll<Segment>('/segments'));
  const entities = useApi(() => api<Entity[]>('GET', '/entities'));
  const [connectionName, setConnectionName] = useState(existing?.connection ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [sourceKind, setSourceKind] = useState<'segments' | 'entities'>(existing?.entities ? 'entities' : 'segments');
  const [sources, setSources] = useState<string[]>(existing?.segments ?? existing?.entities ?? []);
  const [mapping, setMapping] = useState<Record<string, string>>(existing?.config.mapping ?? {});
  const [extra, setExtra] = useState<{ target: string; column: string }[]>([]);
  const [settings, setSettings] = useState<Values>({});
  const [settingsReady, setSettingsReady] = useState(!existing);
  const [syncMode, setSyncMode] = useState(String(existing?.config.syncMode ?? 'full'));
  const [ownSchedule, setOwnSchedule] = useState(Boolean(schedule?.cron));
  const [cron, setCron] = useState(schedule?.cron ?? '');
  const [zone, setZone] = useState(schedule?.timeZone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'));
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const target = existing;
  const formRef = useRevealError<HTMLFormElement>(error);
  const title = existing ? `Edit ${existing.name}` : 'Add export';

  const loadError = connections.error ?? destinations.error ?? segments.error ?? entities.error;
  const ready = connections.data && destinations.data && segments.data && entities.data;
  // Once the destinations are known, the stored settings fill the form, and mapped targets that are not fields
  // of the destination become extra-field rows.
  if (ready && !settingsReady && existing) {
    const d = destinations.data!.find((x) => x.id === existing.type);
    setSettings(d ? fromConfig(d.exportSettings, existing.config) : {});
    splitMapping(existing.config.mapping ?? {}, d);
    setSettingsReady(true);
  }
  /**
   * Mapped targets that are fields of destination `d` fill its rows; the others become extra-field rows. Split
   * again when another connection is picked: an export whose connection was removed loads with no destination
   * (every target would sit in an extra row, the e-mail included), and another type has other fields.
   */
  function splitMapping(all: Record<string, string>, d: Destination | undefined) {
    const known = d?.fields ?? {};
    setMapping(Object.fromEntries(Object.entries(all).filter(([t]) => known[t])));
    setExtra(Object.entries(all).filter(([t]) => !known[t]).map(([target, column]) => ({ target, column })));
  }
  if (!connections.data || !destinations.data || !segments.data || !entities.data || !settingsReady) {
    return (
      <Modal title={title} onClose={onClose}>
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
    const config: Record<string, unknown> = { ...toConfig(destination.exportSettings, settings), ...(isFiles ? {} : { mapping: fullMapping, syncMode }) };
    if (target) {
      // An edit merges over the stored config key by key: a setting emptied here is sent as null to remove it.
      for (const key of Object.keys(destination.exportSettings.properties ?? {})) if (!(key in config) && key in target.config) config[key] = null;
    }
    // The export and its own schedule are saved together, or neither is (the server checks the cron first).
    const scheduleChange = ownSchedule
      ? cron.trim() !== (schedule?.cron ?? '') || zone.trim() !== (schedule?.timeZone ?? '')
        ? { schedule: { cron: cron.trim(), timeZone: zone.trim() } }
        : {}
      : schedule?.cron
        ? { schedule: null }
        : {};
    let saved: Export;
    try {
      saved = target
        ? await api<Export>('PATCH', `/exports/${enc(target.name)}`, { name, connection: connection.name, [sourceKind]: sources, config, ...scheduleChange }, { ifMatch: target.etag })
        : await api<Export>('POST', '/exports', { name, connection: connection.name, [sourceKind]: sources, config, ...scheduleChange });
    } catch (e) {
      setError(asApiError(e));
      setBusy(false);
      return;
    }
    setBusy(false);
    onSaved(saved);
  };

  // Only types with at least one connection this user may use get a section.
  const byType = new Map<string, Connection[]>();
  for (const c of connections.data) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
  const titleOf = (type: string) => destinations.data?.find((d) => d.id === type)?.title ?? type;
  const toggle = (source: string) => setSources(sources.includes(source) ? sources.filter((s) => s !== source) : [...sources, source]);
  const sourceList = sourceKind === 'segments' ? segments.data.map((s) => ({ name: s.name, note: s.members == null ? `${s.entity} profiles, not counted yet` : `${num(s.members)} ${s.entity} profiles` })) : entities.data.map((e) => ({ name: e.name, note: `${num(e.rows)} rows` }));
  const placedPaths = ['cron', 'timeZone', 'name', 'connection', 'segments', 'entities', 'mapping', ...Object.keys(destination?.exportSettings.properties ?? {})];
  const unplaced = error && (error.issues.length === 0 || error.issues.some((i) => !placedPaths.some((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.endsWith(`.${p}`))));

  return (
    <Modal title={title} onClose={onClose}>
      {connections.data.length === 0 ? (
        <Empty title="No connections you may use yet.">An administrator adds one in Admin &gt; Connections and makes it usable by contributors.</Empty>
      ) : (
        <form onSubmit={save} noValidate ref={formRef}>
          {unplaced ? <ErrorBanner error={error} onReload={onReload} /> : null}
          <fieldset>
            <legend>1. Connection</legend>
            {[...byType].map(([type, list]) => (
              <div key={type} className="group" role="group" aria-label={titleOf(type)}>
                <p className="group-title">{titleOf(type)}</p>
                {list.map((c) => (
                  <div key={c.name} className="connection-choice">
                  <label className="radio">
                    <input
                      type="radio"
                      name="connection"
                      value={c.name}
                      checked={connectionName === c.name}
                      onChange={() => {
                        setConnectionName(c.name);
                        setSettings({});
                        const all: Record<string, string> = {};
                        for (const [target, column] of Object.entries(mapping)) if (column) all[target] = column;
                        for (const row of extra) if (row.target.trim() && row.column) all[row.target.trim()] = row.column;
                        splitMapping(all, destinations.data!.find((d) => d.id === c.type));
                        if (c.type !== 'sftp') setSourceKind('segments');
                      }}
                    />{' '}
                    {c.name}
                  </label>
                  {/* Whether it works and since when, so nobody picks a broken connection unawares (outside the label: the choice's name stays the connection's). */}
                  <span className="muted connection-state">
                    {c.lastVerification ? (c.lastVerification.ok ? `verified ${when(c.lastVerification.at)}` : `verification failed ${when(c.lastVerification.at)}`) : 'not verified yet'}
                    {c.createdAt ? ` · created ${when(c.createdAt)}` : ''}
                  </span>
                  </div>
                ))}
              </div>
            ))}
            {exactIssue(error, 'connection') ? <p className="field-error"><Message>{exactIssue(error, 'connection')!}</Message></p> : null}
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
                {error?.about(sourceKind) ? <p className="field-error"><Message>{error.about(sourceKind)!}</Message></p> : null}
              </fieldset>
              {destination.fields ? (
                <fieldset>
                  <legend>3. Field mapping</legend>
                  <p className="hint">Choose which column of {entity?.name ?? 'the entity'} fills each field of {destination.title}.</p>
                  {exactIssue(error, 'mapping') ? <p className="field-error"><Message>{exactIssue(error, 'mapping')!}</Message></p> : null}
                  {Object.entries(destination.fields).map(([target, spec]) => (
                    <Field
                      key={target}
                      label={`${spec.title}${spec.required ? ' (required)' : ''}`}
                      hint={
                        <>
                          {spec.description}
                          <Samples entity={entity?.name} column={mapping[target]} />
                        </>
                      }
                      error={error?.about(`mapping.${target}`) ?? error?.about(target)}
                    >
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
                          <Field label={`Extra field ${i + 1}: column`} hint={row.column ? <Samples entity={entity?.name} column={row.column} /> : undefined} error={row.target ? error?.about(`mapping.${row.target}`) : undefined}>
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
                      <p className="hint"><Message>{destination.extraFields.description}</Message></p>
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
              <fieldset>
                <legend>{destination.fields ? '5.' : '4.'} Schedule</legend>
                <label className="radio">
                  <input type="radio" name="schedule" checked={!ownSchedule} onChange={() => setOwnSchedule(false)} /> With the scheduled refresh (Admin &gt; Schedule)
                </label>
                <label className="radio">
                  <input type="radio" name="schedule" checked={ownSchedule} onChange={() => setOwnSchedule(true)} /> On a schedule of its own
                </label>
                {ownSchedule ? (
                  <div className="inline-fields">
                    <Field label="Cron expression (required)" hint="minute hour day-of-month month day-of-week, e.g. 30 2 * * * for 02:30 daily." error={error?.about('cron') ? error.message : undefined}>
                      {(p) => <input {...p} value={cron} onChange={(e) => setCron(e.target.value)} spellCheck={false} />}
                    </Field>
                    <Field label="Time zone (required)" hint="An IANA name such as Europe/Paris." error={error?.about('timeZone') ? error.message : undefined}>
                      {(p) => <input {...p} value={zone} onChange={(e) => setZone(e.target.value)} spellCheck={false} />}
                    </Field>
                  </div>
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
              <p className="hint">Saving does not run the export. The export and its schedule are saved together, or not at all.</p>
            </>
          ) : null}
        </form>
      )}
    </Modal>
  );
}

/** The message of an issue about exactly `path` (not one of its children, which have fields of their own). */
function exactIssue(error: ApiError | undefined, path: string): string | undefined {
  return error?.issues.find((i) => i.path === path)?.message;
}
