import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../store/metadata/db.ts';
import type { EngineMetrics } from '../engine/services.ts';

/**
 * The server's Prometheus metrics (`GET /metrics`): runs by state (read from the run records at scrape
 * time, so they are right after a restart too), rows sent and rejected, destination requests and retries,
 * and HTTP requests by route and status.
 */
export interface Metrics extends EngineMetrics {
  contentType: string;
  render(): Promise<string>;
  httpMiddleware(): MiddlewareHandler;
  runFinished(run: { sent: number; rejected: number; status: string }, destination: string): void;
}

export function createMetrics(db: Db): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'outflow_process_' });
  new Gauge({
    name: 'outflow_runs',
    help: 'Runs by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const rows = await db.selectFrom('runs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
      this.reset();
      for (const state of ['queued', 'running', 'succeeded', 'failed', 'cancelled']) this.set({ state }, 0);
      for (const row of rows) this.set({ state: row.status }, Number(row.n));
    },
  });
  const rowsSent = new Counter({ name: 'outflow_rows_sent_total', help: 'Rows sent by finished runs', labelNames: ['destination'], registers: [registry] });
  const rowsRejected = new Counter({ name: 'outflow_rows_rejected_total', help: 'Rows rejected by finished runs', labelNames: ['destination'], registers: [registry] });
  const runsFinished = new Counter({ name: 'outflow_runs_finished_total', help: 'Runs finished, by outcome', labelNames: ['destination', 'status'], registers: [registry] });
  const requests = new Counter({ name: 'outflow_destination_requests_total', help: 'HTTP requests sent to destinations', labelNames: ['destination'], registers: [registry] });
  const retries = new Counter({ name: 'outflow_destination_retries_total', help: 'Requests retried after a throttle, an outage or a dropped connection', labelNames: ['destination'], registers: [registry] });
  const httpRequests = new Counter({ name: 'outflow_http_requests_total', help: 'API requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const httpSeconds = new Histogram({
    name: 'outflow_http_request_duration_seconds',
    help: 'API request duration',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    destinationRequest: (destination) => requests.inc({ destination }),
    destinationRetry: (destination) => retries.inc({ destination }),
    runFinished(run, destination) {
      rowsSent.inc({ destination }, run.sent);
      rowsRejected.inc({ destination }, run.rejected);
      runsFinished.inc({ destination, status: run.status });
    },
    httpMiddleware() {
      return async (c, next) => {
        const started = performance.now();
        try {
          await next();
        } finally {
          // The matched route pattern, not the raw path: ids and names would make a label per resource.
          const route = c.req.routePath && c.req.routePath !== '/*' && c.req.routePath !== '*' ? c.req.routePath : 'unmatched';
          httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
          httpSeconds.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
        }
      };
    },
  };
}
