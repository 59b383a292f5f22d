import { useState, type FormEvent } from 'react';
import { api, ApiError, type FireTime, type Schedule, type User } from '../api.ts';
import { Link } from '../router.tsx';
import { asApiError, Empty, ErrorBanner, Field, Loaded, PageHeader, useApi, when, useRevealError } from '../ui.tsx';

// Day numbers as cron counts them (sun = 0), listed Monday first as people read a week.
const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;
const ORDER = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** `mon-fri`, `mon,wed,fri`, `fri-mon` or `daily` (the server's own spellings) → the days they name. */
export function expandDays(days: string | undefined): Set<string> {
  const picked = new Set<string>();
  if (!days) return picked;
  if (days === 'daily') return new Set(ORDER);
  for (const part of days.split(',')) {
    const [from, to] = part.split('-');
    const a = ORDER.indexOf(from!);
    const b = to ? ORDER.indexOf(to) : a;
    if (a < 0 || b < 0) continue;
    for (let i = a; ; i = (i + 1) % 7) {
      picked.add(ORDER[i]!);
      if (i === b) break;
    }
  }
  return picked;
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(key: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

/** The refresh schedule (administrators): days + times or a cron expression in a zone, with its next fire times. */
export function SchedulePage({ user }: { user: User }) {
  const schedule = useApi(() => api<Schedule>('GET', '/schedule'));
  return (
    <>
      <PageHeader title="Schedule" />
      <p className="lead">
        While <code>outflow serve</code> runs, each scheduled refresh recomputes every segment, then runs every export that is not paused and has no schedule of
        its own.
      </p>
      <Loaded state={schedule}>{(s) => <ScheduleEditor key={s.etag ?? s.updatedAt ?? 'off'} schedule={s} onSaved={schedule.reload} canChange={user.can.setSchedule.allowed} />}</Loaded>
    </>
  );
}

function ScheduleEditor({ schedule, onSaved, canChange }: { schedule: Schedule; onSaved: () => void; canChange: boolean }) {
  const [mode, setMode] = useState<'days' | 'cron'>(schedule.enabled && !schedule.days ? 'cron' : 'days');
  const [days, setDays] = useState<Set<string>>(schedule.days ? expandDays(schedule.days) : new Set(['mon', 'tue', 'wed', 'thu', 'fri']));
  const [times, setTimes] = useState((schedule.times ?? ['06:00']).join(', '));
  const [cron, setCron] = useState(schedule.days ? '' : (schedule.cron?.[0] ?? ''));
  const [zone, setZone] = useState(schedule.timeZone ?? browserZone());
  const [error, setError] = useState<ApiError>();
  const formRef = useRevealError<HTMLFormElement>(error);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string>();

  const send = async (call: () => Promise<unknown>, message: string) => {
    setBusy(true);
    setError(undefined);
    setSaved(undefined);
    try {
      await call();
      setSaved(message);
      onSaved();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    const dayList = ORDER.filter((d) => days.has(d));
    const body =
      mode === 'days'
        ? { days: dayList.length === 7 ? 'daily' : dayList.join(','), times: times.split(/[\s,]+/).filter(Boolean), timeZone: zone.trim() }
        : { cron: cron.trim(), timeZone: zone.trim() };
    if (mode === 'days' && dayList.length === 0) {
      setError(new ApiError(422, 'validation', 'Tick at least one day.', [{ path: 'days', message: 'empty' }]));
      return;
    }
    void send(() => api<Schedule>('PUT', '/schedule', body, { ifMatch: schedule.etag }), 'Schedule saved.');
  };
  const placed = ['days', 'times', 'cron', 'timeZone'];
  const unplaced = error && !placed.some((p) => error.about(p));
  const daysError = error?.about('days') ? error.message : undefined;

  return (
    <>
      <section className="card" aria-labelledby="current-title">
        <h2 id="current-title" className="card-title">
          {schedule.enabled ? 'Scheduled refresh is on' : 'Scheduled refresh is off'}
        </h2>
        {schedule.enabled ? (
          <>
            <p>
              {schedule.days ? `${describeDays(schedule.days)} at ${schedule.times?.join(', ')}` : `Cron ${schedule.cron?.join(' and ')}`} ({schedule.timeZone})
              {schedule.updatedBy ? <span className="muted"> · set by {schedule.updatedBy} {when(schedule.updatedAt)}</span> : null}
            </p>
            <FireTimes title="Next fire times" times={schedule.next} zone={schedule.timeZone!} />
            <p className="muted">Last fired: {schedule.lastFiredAt && schedule.lastFiredAt !== schedule.updatedAt ? when(schedule.lastFiredAt) : 'not yet'}</p>
          </>
        ) : (
          <Empty title="Nothing runs on its own yet.">
            {canChange ? 'Choose days and times below (or a cron expression) and press “Save schedule”; exports then refresh without anyone pressing “Run now”.' : 'An administrator sets the schedule here.'}
          </Empty>
        )}
      </section>

      <RefreshedExports schedule={schedule} />

      {canChange ? null : <p className="muted">Only administrators change the schedule.</p>}
      {canChange ? (
      <form ref={formRef} className="card schedule-form" onSubmit={save} noValidate aria-labelledby="set-title">
        <h2 id="set-title" className="card-title">
          {schedule.enabled ? 'Change the schedule' : 'Set a schedule'}
        </h2>
        {/* Changes go only over the version shown; when someone else saved first, Reload shows theirs (the editor is keyed by etag). */}
        {unplaced ? <ErrorBanner error={error} onReload={onSaved} /> : null}
        {saved ? (
          <div className="banner ok" role="status">
            {saved}
          </div>
        ) : null}
        <div className="segmented" role="radiogroup" aria-label="How to give the schedule">
          <label className="radio">
            <input type="radio" name="mode" checked={mode === 'days'} onChange={() => setMode('days')} /> Days and times
          </label>
          <label className="radio">
            <input type="radio" name="mode" checked={mode === 'cron'} onChange={() => setMode('cron')} /> Cron expression
          </label>
        </div>
        {mode === 'days' ? (
          <>
            <fieldset className={daysError ? 'has-error' : ''} aria-describedby={daysError ? 'days-error' : undefined}>
              <legend>Days</legend>
              <div className="days">
                {DAYS.map(([id, label]) => (
                  <label key={id} className="checkbox">
                    <input type="checkbox" checked={days.has(id)} onChange={() => setDays((d) => (d.has(id) ? new Set([...d].filter((x) => x !== id)) : new Set([...d, id])))} /> {label}
                  </label>
                ))}
              </div>
              {daysError ? (
                <p className="field-error" id="days-error">
                  {daysError}
                </p>
              ) : null}
            </fieldset>
            <Field label="Times (required)" hint="24-hour clock, separated by commas, e.g. 06:00, 18:30." error={error?.about('times') ? error.message : undefined}>
              {(p) => <input {...p} value={times} onChange={(e) => setTimes(e.target.value)} inputMode="numeric" />}
            </Field>
          </>
        ) : (
          <Field label="Cron expression (required)" hint="5 fields: minute hour day-of-month month day-of-week, e.g. 0 6 * * 1-5 for 06:00 on weekdays." error={error?.about('cron') ? error.message : undefined}>
            {(p) => <input {...p} value={cron} onChange={(e) => setCron(e.target.value)} spellCheck={false} />}
          </Field>
        )}
        <Field label="Time zone (required)" hint="An IANA name such as Europe/Paris; times are wall-clock times there, daylight saving included." error={error?.about('timeZone') ? error.message : undefined}>
          {(p) => <input {...p} value={zone} onChange={(e) => setZone(e.target.value)} list="zones" spellCheck={false} autoComplete="off" />}
        </Field>
        <datalist id="zones">
          {ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <div className="form-actions">
          {schedule.enabled ? (
            <button type="button" className="danger" disabled={busy} onClick={() => void send(() => api('DELETE', '/schedule', undefined, { ifMatch: schedule.etag }), 'Scheduled refresh turned off.')}>
              Turn off
            </button>
          ) : null}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save schedule'}
          </button>
        </div>
      </form>
      ) : null}

      <h2>Exports on their own schedule or paused</h2>
      {schedule.exports.length === 0 ? (
        <Empty title="Every export follows the schedule above.">Open an export to pause it or give it a schedule of its own.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Export</th>
                <th scope="col">Own schedule</th>
                <th scope="col">State</th>
                <th scope="col">Next fire time</th>
              </tr>
            </thead>
            <tbody>
              {schedule.exports.map((e) => (
                <tr key={e.name}>
                  <th scope="row">
                    <Link to={`/exports/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                  </th>
                  <td>{e.cron ? `${e.cron} (${e.timeZone})` : <span className="muted">follows the home's schedule</span>}</td>
                  <td>{e.paused ? 'Paused' : 'Active'}</td>
                  <td>{e.paused ? '—' : e.next[0] ? formatFire(e.next[0], e.timeZone!) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/**
 * Which exports a scheduled refresh starts (the server's list: neither paused nor on a schedule of their own),
 * so an administrator knows what saving a schedule sets going, and which ones are manual only.
 */
function RefreshedExports({ schedule }: { schedule: Schedule }) {
  const manual = schedule.exports.filter((e) => e.paused).map((e) => e.name);
  const link = (name: string) => (
    <Link key={name} to={`/exports/${encodeURIComponent(name)}`}>
      {name}
    </Link>
  );
  const list = (names: string[]) => names.flatMap((n, i) => (i === 0 ? [link(n)] : [', ', link(n)]));
  return (
    <section className="card" aria-labelledby="refreshes-title" data-testid="refreshes">
      <h2 id="refreshes-title" className="card-title">
        What each refresh runs
      </h2>
      <p>
        {schedule.refreshes.length === 0 ? (
          'No export: every export is manual only or on a schedule of its own.'
        ) : (
          <>
            {schedule.enabled ? 'Each refresh recomputes every segment, then runs' : 'Once a schedule is saved, each refresh recomputes every segment, then runs'}{' '}
            {schedule.refreshes.length === 1 ? 'this export' : `these ${schedule.refreshes.length} exports`}: {list(schedule.refreshes)}.
          </>
        )}
      </p>
      {manual.length ? (
        <p>
          Manual only (paused, they run when someone presses “Run now”): {list(manual)}.
        </p>
      ) : null}
    </section>
  );
}

function describeDays(days: string): string {
  if (days === 'daily') return 'Every day';
  if (days === 'mon-fri') return 'Weekdays';
  return days.replace(/,/g, ', ');
}

/** A fire time in the schedule's zone (what the administrator chose), with UTC beside it. */
export function formatFire(time: FireTime, zone: string): string {
  const at = new Date(time.utc);
  const local = at.toLocaleString('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  const utc = at.toLocaleString('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit' });
  return `${local} (${utc} UTC)`;
}

export function FireTimes({ title, times, zone }: { title: string; times: FireTime[]; zone: string }) {
  if (times.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <ol className="fire-times" aria-label={title}>
        {times.map((t) => (
          <li key={t.utc}>
            <time dateTime={t.utc}>{formatFire(t, zone)}</time>
          </li>
        ))}
      </ol>
    </>
  );
}
