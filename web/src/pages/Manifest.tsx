import { api, apiUrl, enc, type ExportManifest } from '../api.ts';
import { Link } from '../router.tsx';
import { Empty, Loaded, num, PageHeader, StatusBadge, useApi, when } from '../ui.tsx';
import { formatFire } from './Schedule.tsx';

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The data manifest of one export, for a privacy officer; the print stylesheet leaves only the document. */
export function ManifestPage({ name }: { name: string }) {
  const manifest = useApi(() => api<ExportManifest>('GET', `/exports/${enc(name)}/manifest`), [name]);
  return (
    <article className="manifest">
      <p className="breadcrumb no-print">
        <Link to="/exports">Exports</Link> / <Link to={`/exports/${enc(name)}`}>{name}</Link> /
      </p>
      <PageHeader title={`Data manifest: ${name}`}>
        <button type="button" className="no-print" onClick={() => print()}>
          Print
        </button>
        <a className="button no-print" href={apiUrl(`/exports/${enc(name)}/manifest`)} download={`${name}-manifest.json`}>
          JSON
        </a>
      </PageHeader>
      <Loaded state={manifest} notFound={`No export named “${name}”.`}>
        {(m) => (
          <>
            <p className="lead">Generated {when(m.generatedAt)}. It lists what this export sends out of Outflow; no credentials and no profile data.</p>
            <section aria-labelledby="m-where">
              <h2 id="m-where">Where the data goes</h2>
              <dl className="facts">
                <dt>Destination</dt>
                <dd>{m.destination.title}</dd>
                <dt>Connection</dt>
                <dd>{m.destination.connection}</dd>
                <dt>Account</dt>
                <dd>
                  {Object.keys(m.destination.account).length ? (
                    Object.entries(m.destination.account).map(([k, v]) => (
                      <span key={k} className="pill">
                        {k}: {show(v)}
                      </span>
                    ))
                  ) : (
                    <span className="muted">—</span>
                  )}
                </dd>
                {Object.keys(m.destination.settings).length ? (
                  <>
                    <dt>Export settings</dt>
                    <dd>
                      {Object.entries(m.destination.settings).map(([k, v]) => (
                        <span key={k} className="pill">
                          {k}: {show(v)}
                        </span>
                      ))}
                    </dd>
                  </>
                ) : null}
                <dt>Consent</dt>
                <dd data-testid="manifest-consent">
                  {m.consent ? `Data privacy terms accepted by ${m.consent.acceptedBy} on ${when(m.consent.acceptedAt)}` : 'Unknown: the connection was removed.'}
                </dd>
                <dt>Usable by</dt>
                <dd>{m.usableBy === 'admins-and-contributors' ? 'Administrators and contributors' : m.usableBy === 'admins' ? 'Administrators' : '—'}</dd>
                <dt>Export created</dt>
                <dd>
                  {when(m.createdAt)} by {m.createdBy}
                </dd>
              </dl>
            </section>
            <section aria-labelledby="m-who">
              <h2 id="m-who">Whose data</h2>
              <ul className="plain">
                {m.sources.map((s) => (
                  <li key={s.name}>
                    {s.kind === 'segment' ? 'Segment' : 'Every row of entity'} <strong>{s.name}</strong>
                    {s.kind === 'segment' ? (
                      <>
                        {' '}
                        of {s.entity}
                        {s.filter ? (
                          <>
                            , where <code>{s.filter}</code>
                          </>
                        ) : null}
                        {s.members != null ? ` (${num(s.members)} members at the refresh of ${when(s.refreshedAt)})` : ''}
                      </>
                    ) : null}
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="m-fields">
              <h2 id="m-fields">Fields that leave</h2>
              {m.fields.length === 0 ? (
                <Empty title="No field is mapped.">Edit the export to map its fields.</Empty>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Entity</th>
                        <th scope="col">Column</th>
                        <th scope="col">Sent as</th>
                      </tr>
                    </thead>
                    <tbody>
                      {m.fields.map((f) => (
                        <tr key={`${f.entity}.${f.column}.${f.target}`}>
                          <td>{f.entity}</td>
                          <th scope="row">{f.column}</th>
                          <td>{f.title ? `${f.title} (${f.target})` : f.target}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
            <section aria-labelledby="m-when">
              <h2 id="m-when">How often</h2>
              <p data-testid="manifest-schedule">
                {m.schedule.paused ? 'Paused: scheduled refreshes leave it out until resumed. ' : ''}
                {m.schedule.mode === 'own'
                  ? `On its own schedule: ${m.schedule.cron!.join(', ')} (${m.schedule.timeZone}).`
                  : m.schedule.mode === 'refresh'
                    ? `With the scheduled refresh: ${m.schedule.days ? `${m.schedule.days} at ${m.schedule.times!.join(', ')}` : m.schedule.cron!.join(', ')} (${m.schedule.timeZone}).`
                    : 'Only when someone runs it: no schedule is set.'}{' '}
                {m.syncMode === 'mirror' ? 'Mirror sync: members who leave a segment are removed at the destination.' : 'Full sync: members are added or updated; none are removed.'}
              </p>
              {m.schedule.next[0] ? <p>Next: {formatFire(m.schedule.next[0], m.schedule.timeZone!)}</p> : null}
            </section>
            <section aria-labelledby="m-runs">
              <h2 id="m-runs">What the last runs sent</h2>
              {m.lastRuns.length === 0 ? (
                <Empty title="Not run yet.">Nothing has been sent.</Empty>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Run</th>
                        <th scope="col">Status</th>
                        <th scope="col">Finished</th>
                        <th scope="col">By</th>
                        <th scope="col" className="num">
                          Profiles sent
                        </th>
                        <th scope="col" className="num">
                          Rejected
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {m.lastRuns.map((r) => (
                        <tr key={r.id}>
                          <th scope="row">
                            <code>{r.id}</code>
                          </th>
                          <td>
                            <StatusBadge status={r.status} />
                          </td>
                          <td>{when(r.finishedAt)}</td>
                          <td>{r.trigger === 'refresh' ? 'schedule' : r.startedBy}</td>
                          <td className="num">{num(r.sent)}</td>
                          <td className="num">{num(r.rejected)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </>
        )}
      </Loaded>
    </article>
  );
}
