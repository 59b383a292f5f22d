import type { ChartConfiguration } from 'chart.js';
import { api, enc, type User } from '../api.ts';
import { axisColor, Chart, COLORS, gridColor } from '../Chart.tsx';
import { Link } from '../router.tsx';
import { Badge, Empty, Loaded, num, PageHeader, useApi, when } from '../ui.tsx';

// GET /api/v1/overview (src/app/overview.ts says what each figure means).
interface RunDay {
  day: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  active: number;
}
interface AttentionItem {
  export: string;
  reason: 'failed' | 'sign-in' | 'connection-removed' | 'connection-problem' | 'verify' | 'paused';
  message: string;
  at: string | null;
  runId?: string;
}
export interface OverviewData {
  days: number;
  from: string;
  to: string;
  runsByDay: RunDay[];
  totals: { runs: number; succeeded: number; failed: number; cancelled: number; active: number; sent: number; rejected: number };
  destinations: Array<{ type: string | null; title: string; runs: number; sent: number; rejected: number }>;
  attention: AttentionItem[];
  attentionTotal: number;
  nextRefresh: { utc: string; local: string; timeZone: string; scope: 'home' | 'export'; export?: string } | null;
}

const REASONS: Record<AttentionItem['reason'], { label: string; tone: 'bad' | 'warn' | 'neutral' }> = {
  failed: { label: 'Last run failed', tone: 'bad' },
  'sign-in': { label: 'Sign in again', tone: 'bad' },
  'connection-removed': { label: 'No connection', tone: 'bad' },
  'connection-problem': { label: 'Connection problem', tone: 'warn' },
  verify: { label: 'Verify connection', tone: 'warn' },
  paused: { label: 'Paused', tone: 'neutral' },
};

/** A UTC day (2026-11-30) as people read it, in the browser's language: "Nov 30". */
const dayLabel = (day: string) => new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const plural = (n: number, one: string, many = `${one}s`) => `${num(n)} ${n === 1 ? one : many}`;

export function OverviewPage({ user }: { user: User }) {
  const overview = useApi(() => api<OverviewData>('GET', '/overview?days=30'));
  return (
    <>
      <PageHeader title="Overview" />
      <Loaded state={overview}>
        {(o) => (
          <>
            <p className="lead">
              The last {o.days} days, {dayLabel(o.runsByDay[0]?.day ?? o.from.slice(0, 10))} to today (days in UTC).
            </p>
            <ul className="stats" aria-label="The last 30 days in numbers">
              <Stat label="Runs" value={o.totals.runs} />
              <Stat label="Succeeded" value={o.totals.succeeded} />
              <Stat label="Failed" value={o.totals.failed} />
              <Stat label="Rows sent" value={o.totals.sent} />
              <Stat label="Rows rejected" value={o.totals.rejected} />
            </ul>
            <div className="overview-grid">
              <section aria-labelledby="attention-title" className="card">
                <h2 id="attention-title" className="card-title">
                  Needs attention
                </h2>
                <Attention items={o.attention} total={o.attentionTotal} />
              </section>
              <section aria-labelledby="next-title" className="card">
                <h2 id="next-title" className="card-title">
                  Next scheduled refresh
                </h2>
                <NextRefresh next={o.nextRefresh} isAdmin={user.can.setSchedule.allowed} />
              </section>
            </div>
            <section className="card">
              <RunsByDay o={o} />
            </section>
            <section className="card">
              <Destinations o={o} />
            </section>
          </>
        )}
      </Loaded>
    </>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <li className="stat">
      <span className="stat-value">{num(value)}</span> <span className="stat-label">{label}</span>
    </li>
  );
}

function Attention({ items, total }: { items: AttentionItem[]; total: number }) {
  if (items.length === 0) return <p className="muted">Nothing: every export ran fine last time, and every connection works.</p>;
  return (
    <>
      <ul className="attention">
        {items.map((item) => (
          <li key={`${item.export}-${item.reason}`}>
            <Badge tone={REASONS[item.reason].tone}>{REASONS[item.reason].label}</Badge> <Link to={`/exports/${enc(item.export)}`}>{item.export}</Link>
            <span className="attention-message">
              {item.message}
              {item.at ? <span className="muted"> {when(item.at)}</span> : null}
            </span>
          </li>
        ))}
      </ul>
      {total > items.length ? <p className="muted">And {num(total - items.length)} more: see Exports.</p> : null}
    </>
  );
}

function NextRefresh({ next, isAdmin }: { next: OverviewData['nextRefresh']; isAdmin: boolean }) {
  if (!next) {
    return (
      <p className="muted">
        Nothing is scheduled: exports run when someone starts them.{isAdmin ? <> Set a schedule on the <Link to="/schedule">Schedule</Link> page.</> : null}
      </p>
    );
  }
  return (
    <p>
      <strong data-testid="next-refresh">{when(next.utc)}</strong>
      <br />
      <span className="muted">
        {next.scope === 'home' ? 'The scheduled refresh of every export without a schedule of its own' : <>The own schedule of export <Link to={`/exports/${enc(next.export ?? '')}`}>{next.export}</Link></>} ({next.local.slice(11, 16)} {next.timeZone}).
      </span>
    </p>
  );
}

function RunsByDay({ o }: { o: OverviewData }) {
  const t = o.totals;
  const summary = `Runs per day over the last ${o.days} days: ${plural(t.runs, 'run')} — ${num(t.succeeded)} succeeded, ${num(t.failed)} failed, ${num(t.cancelled)} cancelled, ${num(t.active)} queued or running.`;
  const series = [
    { key: 'succeeded', label: 'Succeeded' },
    { key: 'failed', label: 'Failed' },
    { key: 'cancelled', label: 'Cancelled' },
    { key: 'active', label: 'Queued or running' },
  ] as const;
  const config: ChartConfiguration = {
    type: 'bar',
    data: {
      labels: o.runsByDay.map((d) => dayLabel(d.day)),
      datasets: series.map((s) => ({ label: s.label, data: o.runsByDay.map((d) => d[s.key]), backgroundColor: COLORS[s.key], stack: 'runs' })),
    },
    options: {
      scales: {
        x: { stacked: true, ticks: { color: axisColor, maxRotation: 0, autoSkipPadding: 8 }, grid: { display: false } },
        y: { stacked: true, beginAtZero: true, ticks: { color: axisColor, precision: 0 }, grid: { color: gridColor } },
      },
      plugins: { legend: { position: 'bottom', labels: { color: axisColor, boxWidth: 12 } } },
    },
  };
  return (
    <Chart
      title="Runs per day by outcome"
      summary={summary}
      config={config}
      table={
        <table data-testid="runs-by-day">
          <caption className="sr-only">Runs per day by outcome</caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              {series.map((s) => (
                <th scope="col" className="num" key={s.key}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {o.runsByDay.map((d) => (
              <tr key={d.day}>
                <th scope="row">{dayLabel(d.day)}</th>
                {series.map((s) => (
                  <td className="num" key={s.key}>
                    {num(d[s.key])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}

function Destinations({ o }: { o: OverviewData }) {
  if (o.destinations.length === 0) {
    return (
      <>
        <h2 className="card-title">Rows per destination</h2>
        <Empty title="No runs in the last 30 days.">Rows sent and rejected per destination appear here once exports run.</Empty>
      </>
    );
  }
  const summary = `Rows per destination over the last ${o.days} days: ${o.destinations.map((d) => `${d.title} ${num(d.sent)} sent, ${num(d.rejected)} rejected`).join('; ')}.`;
  const config: ChartConfiguration = {
    type: 'bar',
    data: {
      labels: o.destinations.map((d) => d.title),
      datasets: [
        { label: 'Rows sent', data: o.destinations.map((d) => d.sent), backgroundColor: COLORS.sent },
        { label: 'Rows rejected', data: o.destinations.map((d) => d.rejected), backgroundColor: COLORS.rejected },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: { beginAtZero: true, ticks: { color: axisColor, precision: 0 }, grid: { color: gridColor } },
        y: { ticks: { color: axisColor }, grid: { display: false } },
      },
      plugins: { legend: { position: 'bottom', labels: { color: axisColor, boxWidth: 12 } } },
    },
  };
  return (
    <Chart
      title="Rows sent and rejected per destination"
      summary={summary}
      config={config}
      height={Math.max(160, 60 + o.destinations.length * 48)}
      open
      table={
        <table data-testid="destinations">
          <caption className="sr-only">Rows sent and rejected per destination</caption>
          <thead>
            <tr>
              <th scope="col">Destination</th>
              <th scope="col" className="num">
                Runs
              </th>
              <th scope="col" className="num">
                Rows sent
              </th>
              <th scope="col" className="num">
                Rows rejected
              </th>
            </tr>
          </thead>
          <tbody>
            {o.destinations.map((d) => (
              <tr key={d.type ?? 'removed'}>
                <th scope="row">{d.title}</th>
                <td className="num">{num(d.runs)}</td>
                <td className="num">{num(d.sent)}</td>
                <td className="num">{num(d.rejected)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}
