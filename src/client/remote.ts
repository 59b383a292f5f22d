import type { NotifyView } from '../app/notify.ts';
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../app/runs.ts';
import { ValidationError } from '../domain/errors.ts';
import { sleep } from '../lib/rate-limit.ts';
import type { OutflowClient, RefreshSummary, RunWatch } from './client.ts';
import { createHttp, type Http, type HttpOptions } from './http.ts';
import { MAX_PAGE_SIZE } from '../api/page-limits.ts';

const FOLLOW_POLL_MS = 500;
const p = encodeURIComponent;

/** The same calls as the local client, over a server's REST API. */
export function remoteClient(url: string, token: string, options: HttpOptions = {}): OutflowClient {
  const http = createHttp(url, token, options);

  const client: OutflowClient = {
    where: http.url,
    createConnection: (input) => http.request('POST', '/api/v1/connections', { body: input, idempotent: true }),
    listConnections: () => listAll(http, '/api/v1/connections'),
    showConnection: (name) => http.request('GET', `/api/v1/connections/${p(name)}`),
    updateConnection: (name, patch) => http.request('PATCH', `/api/v1/connections/${p(name)}`, { body: stripUndefined(patch) }),
    removeConnection: (name, options) => http.request('DELETE', `/api/v1/connections/${p(name)}`, { query: { force: options.force ? 'true' : undefined } }),
    verifyConnection: (name, options) => http.request('POST', `/api/v1/connections/${p(name)}/verify`, { body: stripUndefined({ acceptHostKey: options?.acceptHostKey }) }),

    createExport: (input) => http.request('POST', '/api/v1/exports', { body: stripUndefined(input), idempotent: true }),
    updateExport: (name, patch) => http.request('PATCH', `/api/v1/exports/${p(name)}`, { body: stripUndefined(patch) }),
    listExports: () => listAll(http, '/api/v1/exports'),
    showExport: (name) => http.request('GET', `/api/v1/exports/${p(name)}`),
    removeExport: (name) => http.request('DELETE', `/api/v1/exports/${p(name)}`),
    exportManifest: (name) => http.request('GET', `/api/v1/exports/${p(name)}/manifest`),
    runExport: async (name, watch, options) => {
      const run = await http.request<RunSummary>('POST', `/api/v1/exports/${p(name)}/runs`, { query: { fullResync: options?.fullResync ? 'true' : undefined }, idempotent: true });
      return follow(http, run.id, watch, true);
    },
    queueExport: async (name, options) => {
      const { rejectionsTotal: _total, ...summary } = await http.request<RunSummary & { rejectionsTotal?: number }>('POST', `/api/v1/exports/${p(name)}/runs`, {
        query: { fullResync: options?.fullResync ? 'true' : undefined },
        idempotent: true,
      });
      return summary;
    },

    dryRunExport: (name, options) =>
      http.request('POST', `/api/v1/exports/${p(name)}/dry-run`, { query: { fullResync: options?.fullResync ? 'true' : undefined } }),

    listRuns: (options) => listAll(http, '/api/v1/runs', { export: options.export, status: options.status, since: options.since }, options.limit),
    showRun: (id) => http.request('GET', `/api/v1/runs/${p(id)}`),
    runRejections: (id) => http.stream(`/api/v1/runs/${p(id)}/rejections.csv`),
    resumeRun: async (id, watch) => {
      const run = await http.request<RunSummary>('POST', `/api/v1/runs/${p(id)}/resume`, { idempotent: true });
      return follow(http, run.id, watch, true);
    },
    cancelRun: (id) => http.request('POST', `/api/v1/runs/${p(id)}/cancel`),
    followRun: (id, watch) => follow(http, id, watch, false),

    loadEntity: (name, file, options) => {
      // The file is on this machine, not the server's: check it here, with the message a local load gives.
      if (!fs.existsSync(path.resolve(file))) throw new ValidationError(`Cannot read ${file}: no such file.`);
      const format = /\.parquet$/i.test(file) ? 'parquet' : 'csv';
      // Streamed from disk: a file of any size is never held in memory here.
      const stream = fs.createReadStream(path.resolve(file));
      return http.request('PUT', `/api/v1/entities/${p(name)}`, {
        raw: stream,
        contentType: format === 'parquet' ? 'application/vnd.apache.parquet' : 'text/csv',
        query: { key: options.key, delimiter: options.delimiter, format, filename: path.basename(file) },
      });
    },
    listEntities: () => http.request('GET', '/api/v1/entities'),
    attachEntity: (name, options) => http.request('POST', `/api/v1/entities/${p(name)}/attach`, { body: stripUndefined(options), idempotent: true }),
    createSegment: (input) => http.request('POST', '/api/v1/segments', { body: stripUndefined(input), idempotent: true }),
    listSegments: () => listAll(http, '/api/v1/segments'),
    updateSegment: (name, patch) => http.request('PATCH', `/api/v1/segments/${p(name)}`, { body: stripUndefined(patch) }),
    refreshSegments: (name) => http.request('POST', name ? `/api/v1/segments/${p(name)}/refresh` : '/api/v1/segments/refresh', { idempotent: true }),
    previewSegment: (input) => http.request('POST', '/api/v1/segments/preview', { body: input }),
    removeSegment: (name) => http.request('DELETE', `/api/v1/segments/${p(name)}`),

    showNotify: async () => (await http.request<{ notify: NotifyView | null }>('GET', '/api/v1/notify')).notify,
    setNotify: (input) => http.request('PUT', '/api/v1/notify', { body: input }),
    removeNotify: () => http.request('DELETE', '/api/v1/notify'),

    listAudit: ({ limit, ...filter }) => listAll(http, '/api/v1/audit', filter, limit),

    showSchedule: () => http.request('GET', '/api/v1/schedule'),
    status: () => http.request('GET', '/api/v1/status'),
    setSchedule: (input) => http.request('PUT', '/api/v1/schedule', { body: stripUndefined({ ...input, times: typeof input.times === 'string' ? input.times.split(',') : input.times }) }),
    turnScheduleOff: () => http.request('DELETE', '/api/v1/schedule'),
    refresh: async (watch) => {
      const result = await http.request<RefreshSummary>('POST', '/api/v1/refresh', { idempotent: true });
      const runs: RunSummary[] = [];
      // The server runs them side by side; following them in turn still waits for each one's end.
      for (const run of result.runs) runs.push(run.status === 'queued' || run.status === 'running' ? await follow(http, run.id, watch, true) : run);
      return { segments: result.segments, runs };
    },
    setExportSchedule: (name, schedule) =>
      schedule === null ? http.request('DELETE', `/api/v1/exports/${p(name)}/schedule`) : http.request('PUT', `/api/v1/exports/${p(name)}/schedule`, { body: schedule }),
    pauseExport: (name) => http.request('POST', `/api/v1/exports/${p(name)}/pause`),
    resumeExport: (name) => http.request('POST', `/api/v1/exports/${p(name)}/resume`),
    createUser: (input) => http.request('POST', '/api/v1/users', { body: input, idempotent: true }),
    listUsers: () => listAll(http, '/api/v1/users'),
    removeUser: (name) => http.request('DELETE', `/api/v1/users/${p(name)}`),
    setRole: (name, role) => http.request('PATCH', `/api/v1/users/${p(name)}`, { body: { role } }),
    resetPassword: (name) => http.request('POST', `/api/v1/users/${p(name)}/reset-password`, { idempotent: true }),
    unlockSignIns: (target) => http.request('DELETE', `/api/v1/sign-in-delays?${new URLSearchParams(stripUndefined(target) as Record<string, string>)}`),
    createToken: (input) => http.request('POST', '/api/v1/tokens', { body: stripUndefined(input), idempotent: true }),
    listTokens: () => listAll(http, '/api/v1/tokens'),
    revokeToken: (idOrName) => http.request('DELETE', `/api/v1/tokens/${p(idOrName)}`),
    exportConfig: () => http.request('GET', '/api/v1/config'),
    planConfig: (request) => http.request('POST', '/api/v1/config/plan', { body: request }),
    applyConfig: (request) => http.request('POST', '/api/v1/config/apply', { body: request, idempotent: true }),
    backup: (input) => http.request('POST', '/api/v1/backup', { body: { path: input.target, ...(input.withoutKey ? { withoutKey: true } : {}) }, idempotent: true }),
    close: async () => {},
  };
  return client;
}

/**
 * Polls the run until it ends, reporting progress and new warnings. When `owned` (this command started the
 * run), aborting cancels the run on the server, as Ctrl-C does for a run in this process; otherwise it only
 * stops following.
 */
async function follow(http: Http, runId: string, watch: RunWatch, owned: boolean): Promise<RunSummary> {
  let id = runId;
  const warned = new Set<string>();
  let cancelled = false;
  for (;;) {
    if (owned && watch.signal.aborted && !cancelled) {
      cancelled = true;
      await http.request('POST', `/api/v1/runs/${p(id)}/cancel`).catch(() => {});
    }
    const run = await http.request<RunSummary & { rejectionsTotal?: number }>('GET', `/api/v1/runs/${p(id)}`);
    watch.observer.onProgress?.({ rowsDone: run.rowsDone, rowsTotal: run.rows });
    for (const w of run.warnings) if (!warned.has(w) && warned.add(w)) watch.observer.onWarning?.(w);
    // Its process died and another one continues it from its checkpoint (a runner or worker took it over):
    // follow the run that continues it, so the command ends with how the work ended, not with the handover.
    if (run.status === 'failed' && run.error?.code === 'interrupted' && run.resumedBy && !watch.signal.aborted) {
      id = run.resumedBy;
      continue;
    }
    if ((run.status !== 'queued' && run.status !== 'running') || (!owned && watch.signal.aborted)) {
      // The summary a run in this process returns: without the total the detail view adds.
      const { rejectionsTotal: _total, ...summary } = run;
      return summary;
    }
    await sleep(FOLLOW_POLL_MS, owned ? undefined : watch.signal).catch(() => {});
  }
}

/**
 * The items of a paged list, page after page, up to `max` (all of them without): the CLI shows what it asked
 * for, never only the server's first page.
 */
async function listAll<T>(http: Http, path: string, query: Record<string, string | number | undefined> = {}, max = Number.POSITIVE_INFINITY): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(MAX_PAGE_SIZE, max - items.length);
    const page = await http.request<{ items: T[]; nextCursor: string | null }>('GET', path, { query: { ...query, limit, cursor } });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < max);
  return items;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
