import { useEffect, useRef, useState } from 'react';
import { apiAll, api, ApiError, apiUrl, enc, type Remedy, type DryRunReport, type Export, type ExportSchedule, type Run, type RunItem, type Schedule, type User } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { RunsChart } from './History.tsx';
import { asApiError, Badge, ErrorBanner, Empty, Loaded, Loading, Modal, num, PageHeader, StatusBadge, Message, Unavailable, useApi, when } from '../ui.tsx';
import { ExportWizard } from './ExportWizard.tsx';
import { formatFire } from './Schedule.tsx';

const ACTIVE = new Set(['queued', 'running']);
const POLL_MS = 1000;

export function ExportPage({ name, user }: { name: string; user: User }) {
  const exp = useApi(() => api<Export>('GET', `/exports/${enc(name)}`), [name]);
  const runs = useApi(() => apiAll<RunItem>(`/runs?export=${enc(name)}`, 50), [name]);
  const schedule = useApi(() => api<Schedule>('GET', '/schedule'), [name]);
  const [following, setFollowing] = useState<string>();
  /** The run in progress as last polled: the history row shows its live counts, not those loaded with the list. */
  const [live, setLive] = useState<Run>();
  const [error, setError] = useState<ApiError>();
  const [removing, setRemoving] = useState(false);
  const [editing, setEditing] = useState(false);
  const [dry, setDry] = useState<DryRunReport | 'running'>();
  const own: ExportSchedule | undefined = schedule.data?.exports.find((x) => x.name === name);
  // Downloading rejections names customers' profiles: not for viewers (the run views hide their keys from them too).
  const canDownload = user.can.downloadRejections.allowed;
  const active = following ?? runs.data?.find((r) => ACTIVE.has(r.status))?.id;

  const runNow = async () => {
    setError(undefined);
    try {
      const run = await api<Run>('POST', `/exports/${enc(name)}/runs`);
      setFollowing(run.id);
      runs.reload();
    } catch (e) {
      const err = asApiError(e);
      // A run already going on (a double click, or someone else's): follow that one. Its panel says what is
      // happening; a red "already has run … running" would stay after that run succeeded and mislead.
      if (err.runId) {
        setFollowing(err.runId);
        return;
      }
      setError(err);
    }
  };

  const dryRun = async () => {
    setError(undefined);
    setDry('running');
    try {
      setDry(await api<DryRunReport>('POST', `/exports/${enc(name)}/dry-run`));
    } catch (x) {
      setDry(undefined);
      setError(asApiError(x));
    }
  };
  const pause = async (action: 'pause' | 'resume') => {
    setError(undefined);
    try {
      await api('POST', `/exports/${enc(name)}/${action}`);
      schedule.reload();
    } catch (x) {
      setError(asApiError(x));
    }
  };

  if (!exp.data) return <Loaded state={exp} notFound={`No export named “${name}”.`}>{() => null}</Loaded>;
  const e = exp.data;
  // What this user may do here, as the server decides (the checks its requests make): only those buttons show.
  const can = e.actions;
  const paused = own?.paused ?? false;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/exports">Exports</Link> /
      </p>
      <PageHeader title={e.name}>
        {can.run.allowed ? (
          <>
            <button type="button" className="primary" onClick={runNow} disabled={Boolean(active)}>
              Run now
            </button>
            <button type="button" onClick={dryRun} disabled={dry === 'running'}>
              Dry run
            </button>
          </>
        ) : null}
        {can.schedule.allowed && schedule.data ? (
          // Pausing leaves the export out of scheduled refreshes (its own schedule and the home's): it runs only
          // when someone presses "Run now". It does not touch runs, so the label must not read like "resume a run".
          <button type="button" onClick={() => void pause(paused ? 'resume' : 'pause')}>
            {paused ? 'Resume scheduled runs' : 'Pause scheduled runs (manual only)'}
          </button>
        ) : null}
        {can.edit.allowed ? (
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        ) : null}
        {can.remove.allowed ? (
          <button type="button" className="danger" onClick={() => setRemoving(true)}>
            Remove
          </button>
        ) : null}
        <Link to={`/exports/${enc(e.name)}/manifest`} className="button">
          Data manifest
        </Link>
      </PageHeader>
      {e.connectionRemoved ? (
        <div className="banner warn" role="status">
          <p>
            The connection of this export was removed, so it cannot run.{' '}
            {can.edit.allowed ? 'Move it to another connection: its segments, field mapping and sync mode are kept.' : 'An administrator moves it to another connection.'}
          </p>
          {can.edit.allowed ? (
            <button type="button" className="primary" onClick={() => setEditing(true)}>
              Move to another connection
            </button>
          ) : null}
        </div>
      ) : null}
      {e.connectionRemoved ? null : (
        <Unavailable
          actions={[
            ['Run now', can.run],
            ['Dry run', can.run],
            [paused ? 'Resume scheduled runs' : 'Pause scheduled runs', can.schedule],
            ['Edit', can.edit],
            ['Remove', can.remove],
          ]}
        />
      )}
      <ErrorBanner error={error} onReload={() => (setError(undefined), exp.reload(), schedule.reload())} />
      {error?.remedy && (error.remedy.action === 'move-export' ? can.edit.allowed : can.run.allowed) ? <RemedyAction remedy={error.remedy} onMove={() => setEditing(true)} onDone={() => setError(undefined)} /> : null}
      <dl className="facts">
        <dt>Connection</dt>
        <dd>{e.connection}</dd>
        <dt>{e.segments ? 'Segments' : 'Entities'}</dt>
        <dd>{(e.segments ?? e.entities ?? []).join(', ')}</dd>
        {e.config.mapping && Object.keys(e.config.mapping).length ? (
          <>
            <dt>Mapping</dt>
            <dd>
              {Object.entries(e.config.mapping).map(([target, column]) => (
                <span key={target} className="pill">
                  {column} → {target}
                </span>
              ))}
            </dd>
          </>
        ) : null}
        {e.type === 'sftp' ? null : (
          // Files are written whole on every run: sync mode is a marketing destinations' setting.
          <>
            <dt>Sync mode</dt>
            <dd>{e.config.syncMode === 'mirror' ? 'Mirror: adds, updates and removes members who left' : 'Full: adds and updates, never removes'}</dd>
          </>
        )}
        <dt>Schedule</dt>
        <dd data-testid="export-schedule">
          <ScheduleFact own={own} home={schedule.data} />
        </dd>
        <dt>Created</dt>
        <dd>
          {when(e.createdAt)} by {e.createdBy}
        </dd>
      </dl>
      {dry ? <DryRunPanel report={dry} onClose={() => setDry(undefined)} /> : null}
      {active ? <LiveRun key={active} id={active} canCancel={can.run.allowed} onUpdate={setLive} onDone={() => (setFollowing(undefined), setLive(undefined), runs.reload())} /> : null}
      {runs.data ? <RunsChart runs={runs.data} /> : null}
      <h2>Run history</h2>
      <Loaded state={runs} empty={(list) => (list.length === 0 ? <Empty title="Not run yet.">{can.run.allowed ? 'Press “Run now” to send it, or “Dry run” to see what it would send.' : 'Someone who may use its connection runs it.'}</Empty> : undefined)}>
        {(list) => <RunHistory runs={live ? list.map((r) => (r.id === live.id ? { ...r, status: live.status, rows: live.rows, rowsDone: live.rowsDone ?? r.rowsDone, sent: live.sent, rejected: live.rejected } : r)) : list} canResume={can.run.allowed} canDownload={canDownload} onResumed={(id) => (setFollowing(id), runs.reload())} />}
      </Loaded>
      {editing ? (
        <ExportWizard
          // A new version (after "Reload") starts the form again from what is saved now.
          key={e.etag}
          existing={e}
          schedule={own}
          onClose={() => setEditing(false)}
          onReload={() => (exp.reload(), schedule.reload())}
          onSaved={(saved) => {
            setEditing(false);
            if (saved.name !== e.name) navigate(`/exports/${enc(saved.name)}`);
            else {
              exp.reload();
              schedule.reload();
            }
          }}
        />
      ) : null}
      {removing ? (
        <Modal title={`Remove ${e.name}?`} onClose={() => setRemoving(false)}>
          <p>The export and its settings are removed; its run history stays in the audit log.</p>
          <div className="form-actions">
            <button type="button" onClick={() => setRemoving(false)}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={() => api('DELETE', `/exports/${enc(e.name)}`, undefined, { ifMatch: e.etag }).then(() => navigate('/exports'), (x: unknown) => (setRemoving(false), setError(asApiError(x))))}>
              Remove export
            </button>
          </div>
        </Modal>
      ) : null}
    </>
  );
}

/** The step that fixes a refusal, as a button: what the message tells a terminal user to type. */
function RemedyAction({ remedy, onMove, onDone }: { remedy: Remedy; onMove: () => void; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  if (remedy.action === 'move-export') {
    return (
      <p>
        <button type="button" className="primary" onClick={onMove}>
          Move to another connection
        </button>
      </p>
    );
  }
  const refresh = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', `/segments/${enc(remedy.segment)}/refresh`);
      onDone();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <p>
        <button type="button" className="primary" onClick={() => void refresh()} disabled={busy}>
          {busy ? `Refreshing ${remedy.segment}…` : `Refresh segment ${remedy.segment}`}
        </button>
      </p>
      <ErrorBanner error={error} />
    </>
  );
}

/** How the export is scheduled: its own cron, the home's refresh, or paused. */
function ScheduleFact({ own, home }: { own: ExportSchedule | undefined; home: Schedule | undefined }) {
  if (!home) return <span className="muted">…</span>;
  const paused = own?.paused ? (
    <>
      <Badge tone="warn">Paused</Badge>{' '}
    </>
  ) : null;
  if (own?.cron) {
    return (
      <>
        {paused}Own schedule: <code>{own.cron}</code> ({own.timeZone}){!own.paused && own.next[0] ? ` · next ${formatFire(own.next[0], own.timeZone!)}` : ''}
      </>
    );
  }
  if (home.enabled) {
    return (
      <>
        {paused}With the scheduled refresh{!own?.paused && home.next[0] ? ` · next ${formatFire(home.next[0], home.timeZone!)}` : ''}
      </>
    );
  }
  return <>{paused}Only when someone runs it (no schedule is set)</>;
}

/** What a run would do now; nothing was sent. */
function DryRunPanel({ report, onClose }: { report: DryRunReport | 'running'; onClose: () => void }) {
  return (
    <section className="card dry-run" aria-labelledby="dry-title">
      <div className="page-header">
        <h2 id="dry-title">Dry run</h2>
        <button type="button" onClick={onClose}>
          Close dry run
        </button>
      </div>
      {report === 'running' ? (
        <p className="muted" role="status">
          Comparing the segments with what the destination last received… A large segment takes a while; nothing is sent.
        </p>
      ) : null}
      <Loaded state={{ data: report === 'running' ? undefined : report, error: undefined }} pending={report === 'running' ? null : undefined}>
        {(r) => (
          <>
            <p className="muted">Nothing was sent and nothing changed; this is what “Run now” would do now ({r.syncMode} sync).</p>
            {r.refusal ? (
              <div className="banner error" role="alert">
                The run would be refused: <Message>{r.refusal.message}</Message>
              </div>
            ) : null}
            <div className="table-wrap">
              <table aria-label="What a run would do">
                <thead>
                  <tr>
                    <th scope="col">Source</th>
                    <th scope="col" className="num">Members</th>
                    <th scope="col" className="num">Add</th>
                    <th scope="col" className="num">Update</th>
                    <th scope="col" className="num">Remove</th>
                    <th scope="col" className="num">Reject</th>
                    <th scope="col" className="num">Unchanged</th>
                  </tr>
                </thead>
                <tbody>
                  {[...r.sources, ...(r.sources.length > 1 ? [{ ...r, name: 'Total' }] : [])].map((x) => (
                    <tr key={x.name}>
                      <th scope="row">{x.name}</th>
                      <td className="num">{num(x.members)}</td>
                      <td className="num">{num(x.add)}</td>
                      <td className="num">{num(x.update)}</td>
                      <td className="num">{num(x.remove)}</td>
                      <td className="num">{num(x.reject)}</td>
                      <td className="num">{num(x.unchanged)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {r.warnings.map((w) => (
              <div key={w} className="banner warn">
                {w}
              </div>
            ))}
            {r.notes.map((n) => (
              <p key={n} className="hint">
                {n}
              </p>
            ))}
            {r.rejections.length ? (
              <>
                <h3>First rejections</h3>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Source</th>
                        <th scope="col">Key</th>
                        <th scope="col">Reason</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.rejections.map((x, i) => (
                        <tr key={i}>
                          <td>{x.source}</td>
                          <td>{x.key}</td>
                          <td>{x.reason}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            ) : null}
          </>
        )}
      </Loaded>
    </section>
  );
}

/** A run in progress, polled every second: rows done, rate, ETA; cancel. No reload needed. */
function LiveRun({ id, canCancel, onUpdate, onDone }: { id: string; canCancel: boolean; onUpdate: (run: Run) => void; onDone: () => void }) {
  const [run, setRun] = useState<Run>();
  const [error, setError] = useState<ApiError>();
  const samples = useRef<{ at: number; rows: number }[]>([]);
  // The parent passes a new callback each render; polling must not restart for that.
  const doneRef = useRef(onDone);
  doneRef.current = onDone;
  const updateRef = useRef(onUpdate);
  updateRef.current = onUpdate;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const r = await api<Run>('GET', `/runs/${enc(id)}`);
        if (!live) return;
        setRun(r);
        updateRef.current(r);
        samples.current = [...samples.current, { at: Date.now(), rows: r.rowsDone ?? 0 }].slice(-10);
        if (!ACTIVE.has(r.status)) return doneRef.current();
      } catch (e) {
        if (live) setError(asApiError(e));
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id]);
  const cancel = () => api('POST', `/runs/${enc(id)}/cancel`).catch((e: unknown) => setError(asApiError(e)));

  if (!run) return <Loading />;
  const done = run.rowsDone ?? 0;
  const first = samples.current[0];
  const last = samples.current.at(-1);
  const rate = first && last && last.at > first.at ? ((last.rows - first.rows) * 1000) / (last.at - first.at) : 0;
  const eta = run.rows && rate > 0 ? Math.max(0, (run.rows - done) / rate) : undefined;
  const percent = run.rows ? Math.min(100, Math.round((done / run.rows) * 100)) : undefined;
  return (
    <section className="card live" aria-labelledby="live-title">
      <div className="page-header">
        <h2 id="live-title">
          Run {run.id} <StatusBadge status={run.status} />
        </h2>
        {canCancel ? (
          <button type="button" onClick={cancel}>
            Cancel run
          </button>
        ) : null}
      </div>
      <ErrorBanner error={error} />
      <progress max={run.rows ?? undefined} value={run.rows ? done : undefined} aria-label="Progress">
        {percent ?? 0}%
      </progress>
      <p className="progress-text" role="status" aria-live="polite">
        {num(done)} of {run.rows == null ? 'counting…' : num(run.rows)} rows{percent !== undefined ? ` (${percent}%)` : ''} · {rate > 0 ? `${num(Math.round(rate))} rows/s` : 'starting…'}
        {eta !== undefined ? ` · about ${formatDuration(eta)} left` : ''}
      </p>
    </section>
  );
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

interface ResumeProps {
  /** The role may resume runs (not a viewer); the server still checks the connection. */
  canResume: boolean;
  /** The role may download rejections (not a viewer: the API's CSV names whose profiles they were). */
  canDownload: boolean;
  onResumed: (newRunId: string) => void;
}

function RunHistory({ runs, ...resume }: { runs: RunItem[] } & ResumeProps) {
  const [open, setOpen] = useState<string>();
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">By</th>
            {/* The same two counts as `outflow run list`: rows the run has to handle, and how many it handled so far. */}
            <th scope="col" className="num">Rows</th>
            <th scope="col" className="num">Done</th>
            <th scope="col" className="num">Sent</th>
            <th scope="col" className="num">Rejected</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <RunRow key={r.id} run={r} open={open === r.id} onToggle={() => setOpen(open === r.id ? undefined : r.id)} {...resume} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunRow({ run, open, onToggle, ...resume }: { run: RunItem; open: boolean; onToggle: () => void } & ResumeProps) {
  return (
    <>
      <tr>
        <th scope="row">
          <button type="button" className="link" aria-expanded={open} onClick={onToggle}>
            {run.id}
          </button>
        </th>
        <td>
          <StatusBadge status={run.status} />
        </td>
        <td>{when(run.startedAt ?? run.queuedAt)}</td>
        <td>{run.startedBy}</td>
        <td className="num">{run.rows == null ? '–' : num(run.rows)}</td>
        <td className="num">{num(run.rowsDone)}</td>
        <td className="num">{num(run.sent)}</td>
        <td className="num">{num(run.rejected)}</td>
      </tr>
      {open ? (
        <tr className="detail-row">
          <td colSpan={8}>
            <RunDetails id={run.id} {...resume} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function RunDetails({ id, canResume, canDownload, onResumed }: { id: string } & ResumeProps) {
  const { data: run, error, reload } = useApi(() => api<Run>('GET', `/runs/${enc(id)}`), [id]);
  const [resumeError, setResumeError] = useState<ApiError>();
  const [resuming, setResuming] = useState(false);
  if (error) return <ErrorBanner error={error} />;
  if (!run) return <Loading />;
  const files = run.entities.flatMap((e) => e.files ?? []);
  // The same as `outflow run resume`: a new run continues this one from its checkpoint.
  const resume = async () => {
    setResumeError(undefined);
    setResuming(true);
    try {
      const next = await api<Run>('POST', `/runs/${enc(id)}/resume`);
      onResumed(next.id);
    } catch (e) {
      const err = asApiError(e);
      // Another run of the export is going on: follow that one.
      if (err.runId) onResumed(err.runId);
      setResumeError(err);
    } finally {
      setResuming(false);
      reload();
    }
  };
  return (
    <div className="run-details">
      <p>
        {num(run.sent)} sent · {num(run.rejected)} rejected · {num(run.notAttempted)} not attempted · finished {when(run.finishedAt)}
      </p>
      {run.resumedBy ? <p>Resumed as run {run.resumedBy}.</p> : null}
      {run.error ? (
        <div className="banner error">
          <Message>{run.error.message}</Message>
        </div>
      ) : null}
      {run.status === 'failed' && !run.resumable && !run.resumedBy && run.sent + run.rejected === 0 && !run.rowsDone && canResume ? (
        // Refused before it sent anything (the server's `resumable`): there is nothing to continue.
        <p className="muted">Nothing was sent. Fix what the message says, then press “Run now”.</p>
      ) : null}
      {canResume && run.resumable ? (
        <p>
          <button type="button" className="primary" onClick={() => void resume()} disabled={resuming}>
            Resume this run
          </button>{' '}
          <span className="muted">A new run sends what this one did not, from its checkpoint.</span>
        </p>
      ) : null}
      <ErrorBanner error={resumeError} />
      {run.warnings.map((w) => (
        <div key={w} className="banner warn">
          {w}
        </div>
      ))}
      {files.length ? (
        <>
          <h3>Files</h3>
          <ul>
            {files.map((f) => (
              <li key={f.path}>
                <code>{f.path}</code> — {num(f.rows)} rows, {num(f.bytes)} bytes
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {run.rejections.length ? (
        <>
          <h3>
            Rejections {run.rejectionsTotal && run.rejectionsTotal > run.rejections.length ? `(first ${run.rejections.length} of ${num(run.rejectionsTotal)})` : ''}
          </h3>
          {canDownload ? (
            // The API's own CSV, every rejection with the header `outflow run rejections` prints: never one built here.
            <a className="button" href={apiUrl(`/runs/${enc(run.id)}/rejections.csv`)} download>
              Download all rejections (CSV)
            </a>
          ) : null}
          <table>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">Key</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {run.rejections.slice(0, 100).map((r, i) => (
                <tr key={i}>
                  <td>{r.source}</td>
                  <td>{r.key}</td>
                  <td>{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
