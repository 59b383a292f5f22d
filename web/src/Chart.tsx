import { useEffect, useId, useRef, type ReactNode } from 'react';
import type { Chart as ChartJs, ChartConfiguration } from 'chart.js';

// Chart.js, registered piece by piece: only the bar and line charts the app draws are bundled (the tree-shaken
// build, not chart.js/auto), and in a chunk of their own that loads with the first chart shown (~60 kB gzipped
// that sign-in and the pages without charts never fetch). A chart is a picture on a canvas; every one comes with
// its numbers as text (see Chart below), which is what screen readers, axe and the tests read.
let chartJs: Promise<typeof ChartJs> | undefined;
function loadChartJs(): Promise<typeof ChartJs> {
  chartJs ??= import('./chartjs.ts').then((m) => m.Chart);
  return chartJs;
}

/** The app's series colours: distinguishable side by side, and each ≥ 3:1 against the white card. */
export const COLORS = {
  succeeded: '#1e7b3a',
  failed: '#c0392b',
  cancelled: '#a15c00',
  active: '#2f5bd3',
  sent: '#2f5bd3',
  rejected: '#c0392b',
  duration: '#5b6675',
  members: '#2f5bd3',
} as const;

/**
 * A chart with its text alternative. The canvas is an image whose name is `summary` (one sentence with the
 * figures that matter); `table` holds every number drawn, in a disclosure under the chart (`open` shows it
 * unfolded). Nothing of the canvas is needed to read the numbers.
 */
export function Chart({ title, summary, config, table, open = false, height = 240, level = 2 }: { title: string; summary: string; config: ChartConfiguration; table: ReactNode; open?: boolean; height?: number; /** Of the title: 3 inside a dialog, whose own title is the 2. */ level?: 2 | 3 }) {
  const Heading = level === 2 ? 'h2' : 'h3';
  const canvas = useRef<HTMLCanvasElement>(null);
  const id = useId();
  useEffect(() => {
    let live = true;
    let chart: ChartJs | undefined;
    loadChartJs().then((Chart) => {
      if (!live || !canvas.current) return;
      chart = new Chart(canvas.current, {
        ...config,
        options: {
          responsive: true,
          // The box sets the height; the width follows the page, so nothing scrolls sideways on a phone.
          maintainAspectRatio: false,
          // Drawn at once: figures to read, not a show (and no animation frames on a page left open all day).
          animation: false,
          ...config.options,
        },
      } as ChartConfiguration);
    }, () => {
      // The chart's code did not load (a server updated under an open tab): the numbers below still say it all.
    });
    return () => {
      live = false;
      chart?.destroy();
    };
  }, [JSON.stringify(config.data), JSON.stringify(config.options ?? {})]);
  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption>
        <Heading id={`${id}-title`} className="card-title">
          {title}
        </Heading>
      </figcaption>
      <div className="chart-box" style={{ height }}>
        <canvas ref={canvas} role="img" aria-label={summary} />
      </div>
      <details className="chart-numbers" open={open}>
        <summary>The numbers</summary>
        {/* Focusable: it scrolls (a height cap, and sideways at phone width) with nothing in it that takes focus. */}
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`${title}: the numbers`}>
          {table}
        </div>
      </details>
    </figure>
  );
}

/** Axis and legend settings shared by the app's charts (the page's font and muted text colour). */
export const axisColor = '#5b6675';
export const gridColor = '#edf0f3';
