import { useState } from 'react';
import { api, type Export, type RunItem, type User } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { Empty, ErrorBanner, Loading, num, PageHeader, StatusBadge, useApi, when } from '../ui.tsx';
import { ExportWizard } from './ExportWizard.tsx';

export function ExportsPage({ user }: { user: User }) {
  const exports = useApi(() => api<Export[]>('GET', '/exports'));
  const runs = useApi(() => api<RunItem[]>('GET', '/runs?limit=500'));
  const [adding, setAdding] = useState(false);
  const canEdit = user.role !== 'viewer';
  // Runs come newest first: the first one seen per export is its last run.
  const lastRun = new Map<string, RunItem>();
  for (const run of runs.data ?? []) if (!lastRun.has(run.export)) lastRun.set(run.export, run);

  return (
    <>
      <PageHeader title="Exports">
        {canEdit ? (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add export
          </button>
        ) : null}
      </PageHeader>
      <p className="lead">An export sends segments (or, to SFTP, whole entities) to one connection. Saving never runs it; open an export to run it.</p>
      <ErrorBanner error={exports.error} />
      {!exports.data ? (
        exports.error ? null : <Loading />
      ) : exports.data.length === 0 ? (
        <Empty title="No exports yet.">
          {canEdit ? 'Add one with “Add export”: choose a connection, the segments to send and how fields map, then save and run it.' : 'A contributor or an administrator adds them.'}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Connection</th>
                <th scope="col">Sources</th>
                <th scope="col">Sync</th>
                <th scope="col">Last run</th>
                <th scope="col" className="num">Sent</th>
                <th scope="col" className="num">Rejected</th>
              </tr>
            </thead>
            <tbody>
              {exports.data.map((e) => {
                const run = lastRun.get(e.name);
                return (
                  <tr key={e.name}>
                    <th scope="row">
                      <Link to={`/exports/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                    </th>
                    <td>{e.connection}</td>
                    <td>{(e.segments ?? e.entities ?? []).join(', ')}</td>
                    <td>{String(e.config.syncMode ?? 'full')}</td>
                    <td>{run ? <><StatusBadge status={run.status} /> <span className="muted">{when(run.finishedAt ?? run.startedAt ?? run.queuedAt)}</span></> : <span className="muted">Never run</span>}</td>
                    <td className="num">{run ? num(run.sent || run.rowsDone) : '—'}</td>
                    <td className="num">{run ? num(run.rejected) : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {adding ? <ExportWizard onClose={() => setAdding(false)} onSaved={(e) => navigate(`/exports/${encodeURIComponent(e.name)}`)} /> : null}
    </>
  );
}
