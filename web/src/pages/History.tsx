import type { ChartConfiguration } from 'chart.js';
import { api, enc, type RunItem } from '../api.ts';
import { axisColor, Chart, COLORS, gridColor } from '../Chart.tsx';
import { Empty, Loaded, Modal, num, StatusBadge, useApi, when } from '../ui.tsx';

// The pictures of one export's runs and of one segment's refreshes, drawn from the lists the API already
// serves (GET /api/v1/runs?export=…, GET /api/v1/segments/{id}/refreshes).

const shortWhen = (iso: string) => new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** How long a run took, in whole seconds; null while it has not both started and finished. */
function seconds(run: RunItem): number | null {
  if (!run.startedAt || !run.finishedAt) return null;
  return Math.max(0, Math.round((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000));
}

export function duration(s: number | null): string {
  if (s === null) return '—';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Rows sent and rejected by each of the export's latest runs (bars), and how long each took (a line). */
export function RunsChart({ runs }: { runs: RunItem[] }) {
  if (runs.length === 0) return null;
  const ordered = [...runs].reverse();
  const times = ordered.map(seconds);
  const longest = Math.max(0, ...times.map((t) => t ?? 0));
  // Minutes once runs take minutes: an axis of "3600" seconds reads worse than "60" minutes.
  const inMinutes = longest >= 120;
  const unit = inMinutes ? 'minutes' : 'seconds';
  const latest = runs[0]!;
  const summary =
    `The last ${runs.length === 1 ? 'run' : `${runs.length} runs`}, oldest first. The latest (${shortWhen(latest.queuedAt)}, ${latest.status}) sent ${num(latest.sent)} rows and rejected ${num(latest.rejected)}` +
    `${seconds(latest) === null ? '' : `, in ${duration(seconds(latest))}`}. The longest took ${duration(longest)}.`;
  const config: ChartConfiguration = {
    type: 'bar',
    data: {
      labels: ordered.map((r) => shortWhen(r.queuedAt)),
      datasets: [
        { label: 'Rows sent', data: ordered.map((r) => r.sent), backgroundColor: COLORS.sent, yAxisID: 'rows', order: 2 },
        { label: 'Rows rejected', data: ordered.map((r) => r.rejected), backgroundColor: COLORS.rejected, yAxisID: 'rows', order: 2 },
        {
          type: 'line',
          label: `Duration (${unit})`,
          data: times.map((t) => (t === null ? null : inMinutes ? Math.round((t / 60) * 10) / 10 : t)),
          borderColor: COLORS.duration,
          backgroundColor: COLORS.duration,
          yAxisID: 'time',
          order: 1,
          spanGaps: true,
        },
      ],
    } as ChartConfiguration['data'],
    options: {
      scales: {
        x: { ticks: { color: axisColor, maxRotation: 0, autoSkipPadding: 8 }, grid: { display: false } },
        rows: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'Rows', color: axisColor }, ticks: { color: axisColor, precision: 0 }, grid: { color: gridColor } },
        time: { type: 'linear', position: 'right', beginAtZero: true, title: { display: true, text: unit, color: axisColor }, ticks: { color: axisColor }, grid: { display: false } },
      },
      plugins: { legend: { position: 'bottom', labels: { color: axisColor, boxWidth: 12 } } },
    },
  };
  return (
    <section className="card chart-card">
      <Chart
        title={runs.length === 1 ? "Its run" : `Its latest ${runs.length} runs`}
        summary={summary}
        config={config}
        table={
          <table data-testid="runs-chart-numbers">
            <caption className="sr-only">Rows and duration of each run</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="num">
                  Rows sent
                </th>
                <th scope="col" className="num">
                  Rows rejected
                </th>
                <th scope="col" className="num">
                  Duration
                </th>
              </tr>
            </thead>
            <tbody>
              {ordered.map((r, i) => (
                <tr key={r.id}>
                  <th scope="row">{when(r.queuedAt)}</th>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="num">{num(r.sent)}</td>
                  <td className="num">{num(r.rejected)}</td>
                  <td className="num">{duration(times[i]!)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        }
      />
    </section>
  );
}

interface RefreshPoint {
  at: string;
  members: number;
}

/** How many refreshes the history dialog draws: the latest ones, one page of the API's list. */
const HISTORY_POINTS = 100;

/** A segment's member count over its latest refreshes. */
export function SegmentHistoryDialog({ segment, onClose }: { segment: string; onClose: () => void }) {
  const points = useApi(() => api<{ items: RefreshPoint[]; nextCursor: string | null }>('GET', `/segments/${enc(segment)}/refreshes?limit=${HISTORY_POINTS}`), [segment]);
  return (
    <Modal title={`Members of ${segment} over time`} onClose={onClose}>
      <Loaded state={points} empty={(page) => (page.items.length === 0 ? <Empty title="Not refreshed yet.">Its member count is recorded at every refresh.</Empty> : undefined)}>
        {(page) => {
          const ordered = [...page.items].reverse();
          const first = ordered[0]!;
          const last = ordered[ordered.length - 1]!;
          const summary =
            ordered.length === 1
              ? `${segment} had ${num(last.members)} members at its only refresh (${shortWhen(last.at)}).`
              : `${segment} had ${num(last.members)} members at its latest refresh (${shortWhen(last.at)}), and ${num(first.members)} at the first of the ${ordered.length} refreshes shown (${shortWhen(first.at)}).`;
          const config: ChartConfiguration = {
            type: 'line',
            data: { labels: ordered.map((p) => shortWhen(p.at)), datasets: [{ label: 'Members', data: ordered.map((p) => p.members), borderColor: COLORS.members, backgroundColor: COLORS.members }] },
            options: {
              scales: {
                x: { ticks: { color: axisColor, maxRotation: 0, autoSkipPadding: 8 }, grid: { display: false } },
                y: { beginAtZero: true, ticks: { color: axisColor, precision: 0 }, grid: { color: gridColor } },
              },
              plugins: { legend: { display: false } },
            },
          };
          return (
            <>
              <Chart
                title="Member count at each refresh"
                level={3}
                summary={summary}
                config={config}
                table={
                  <table data-testid="segment-history-numbers">
                    <caption className="sr-only">Member count at each refresh</caption>
                    <thead>
                      <tr>
                        <th scope="col">Refreshed</th>
                        <th scope="col" className="num">
                          Members
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {ordered.map((p, i) => (
                        <tr key={i}>
                          <th scope="row">{when(p.at)}</th>
                          <td className="num">{num(p.members)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                }
              />
              {page.nextCursor ? <p className="muted">The latest {HISTORY_POINTS} refreshes are shown; older ones are kept too.</p> : null}
            </>
          );
        }}
      </Loaded>
    </Modal>
  );
}
