import { useState } from 'react';
import { apiAll, api, type Export, type RunItem, type Schedule, type User } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { Badge, Empty, Loaded, num, PageHeader, StatusBadge, useApi, when } from '../ui.tsx';
import { ExportWizard } from './ExportWizard.tsx';

export function ExportsPage({ user }: { user: User }) {
  const exports = useApi(() => apiAll<Export>('/exports'));
  const runs = useApi(() => apiAll<RunItem>('/runs', 500));
  const schedule = useApi(() => api<Schedule>('GET', '/schedule'));
  const [adding, setAdding] = useState(false);
  const canEdit = user.can.createExport.allowed;
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
      <Loaded
        state={exports}
        empty={(list) =>
          list.length === 0 ? (
            <Empty title="No exports yet.">
              {canEdit ? 'Add one with “Add export”: choose a connection, the segments to send and how fields map, then save and run it.' : 'A contributor or an administrator adds them.'}
            </Empty>
          ) : undefined
        }
      >
        {(list) => (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Connection</th>
                <th scope="col">Sources</th>
                <th scope="col">Sync</th>
                <th scope="col">Schedule</th>
                <th scope="col">Last run</th>
                <th scope="col" className="num">Sent</th>
                <th scope="col" className="num">Rejected</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => {
                const run = lastRun.get(e.name);
                const own = schedule.data?.exports.find((x) => x.name === e.name);
                return (
                  <tr key={e.name}>
                    <th scope="row">
                      <Link to={`/exports/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                    </th>
                    <td>{e.connection}</td>
                    <td>{(e.segments ?? e.entities ?? []).join(', ')}</td>
                    <td>{String(e.config.syncMode ?? 'full')}</td>
                    <td>
                      {own?.paused ? <Badge tone="warn">Paused</Badge> : null} {own?.cron ? <code>{own.cron}</code> : schedule.data?.enabled ? 'Refresh' : <span className="muted">Manual</span>}
                    </td>
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
      </Loaded>
      {adding ? <ExportWizard onClose={() => setAdding(false)} onSaved={(e) => navigate(`/exports/${encodeURIComponent(e.name)}`)} /> : null}
    </>
  );
}
