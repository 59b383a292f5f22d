// The pieces of Chart.js the app draws with, registered once. Loaded on demand by Chart.tsx (a chunk of its
// own); importing them by name here is what lets the bundler leave the rest of Chart.js out.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

export { Chart };
