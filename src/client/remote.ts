import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../app/runs.ts';
import { ValidationError } from '../domain/errors.ts';
import { sleep } from '../lib/rate-limit.ts';
import type { OutflowClient, RunWatch } from './client.ts';
import type { PathsWithMethod } from 'openapi-typescript-helpers';
import { createHttp, type HttpOptions } from './http.ts';
import type { components, paths } from './openapi.d.ts';
import { typedApi, type Answer, type Api } from './typed-http.ts';
import { MAX_PAGE_SIZE } from '../api/page-limits.ts';

const FOLLOW_POLL_MS = 500;

/**
 * What OutflowClient promises for method K. Some answers the document types more loosely than the use cases do
 * (a run's trigger or an error code as a string where the app has its union; a member it marks optional that
 * this answer always carries): those calls say `as Returned<K>`, which compiles only while the document's type
 * and the app's stay comparable, so a member renamed or retyped on either side still fails to compile here.
 */
type Returned<K extends keyof OutflowClient> = OutflowClient[K] extends (...args: never[]) => infer R ? R : never;

type ApiSchema<Name extends keyof components['schemas']> = components['schemas'][Name];
type ConnectionCreate = ApiSchema<'ConnectionCreate'>;
type ConnectionPatch = ApiSchema<'ConnectionPatch'>;
type ExportCreate = ApiSchema<'ExportCreate'>;
type ExportPatch = ApiSchema<'ExportPatch'>;
type UserCreate = ApiSchema<'UserCreate'>;
type UserPatch = ApiSchema<'UserPatch'>;

/** The GET paths whose answer is a page: `{ items, nextCursor }`. */
type ListPath = {
  [P in PathsWithMethod<paths, 'get'>]: Answer<paths[P]['get']> extends { items: unknown[]; nextCursor: string | null } ? P : never;
}[PathsWithMethod<paths, 'get'>];
type ListItem<P extends ListPath> = Answer<paths[P]['get']> extends { items: Array<infer T> } ? T : never;

/** The same calls as the local client, over a server's REST API, typed by the document it serves (typed-http.ts). */
export function remoteClient(url: string, token: string, options: HttpOptions = {}): OutflowClient {
  const api = typedApi(createHttp(url, token, options));
  const id = (value: string) => ({ path: { id: value } });

  const client: OutflowClient = {
    where: api.url,
    createConnection: (input) => api.post('/api/v1/connections', { body: input as ConnectionCreate, idempotent: true }) as Returned<'createConnection'>,
    listConnections: () => listAll(api, '/api/v1/connections') as Returned<'listConnections'>,
    showConnection: (name) => api.get('/api/v1/connections/{id}', id(name)) as Returned<'showConnection'>,
    updateConnection: (name, patch, version) =>
      api.patch('/api/v1/connections/{id}', { ...id(name), body: stripUndefined(patch) as ConnectionPatch, ifMatch: version?.ifMatch }) as Returned<'updateConnection'>,
    removeConnection: (name, options) => api.delete('/api/v1/connections/{id}', { ...id(name), query: { force: options.force ? 'true' : undefined }, ifMatch: options.ifMatch }),
    verifyConnection: (name, options) => api.post('/api/v1/connections/{id}/verify', { ...id(name), body: stripUndefined({ acceptHostKey: options?.acceptHostKey }) }) as Returned<'verifyConnection'>,

    createExport: (input) => api.post('/api/v1/exports', { body: stripUndefined(input) as ExportCreate, idempotent: true }),
    updateExport: (name, patch, version) => api.patch('/api/v1/exports/{id}', { ...id(name), body: stripUndefined(patch) as ExportPatch, ifMatch: version?.ifMatch }),
    listExports: () => listAll(api, '/api/v1/exports'),
    showExport: (name) => api.get('/api/v1/exports/{id}', id(name)),
    removeExport: (name, version) => api.delete('/api/v1/exports/{id}', { ...id(name), ifMatch: version?.ifMatch }),
    exportManifest: (name) => api.get('/api/v1/exports/{id}/manifest', id(name)),
    runExport: async (name, watch, options) => {
      const run = await api.post('/api/v1/exports/{id}/runs', { ...id(name), query: { fullResync: options?.fullResync ? 'true' : undefined }, idempotent: true });
      return follow(api, run.id, watch, true);
    },
    queueExport: async (name, options) => {
      const { rejectionsTotal: _total, ...summary } = await api.post('/api/v1/exports/{id}/runs', { ...id(name), query: { fullResync: options?.fullResync ? 'true' : undefined }, idempotent: true });
      return summary as Awaited<Returned<'queueExport'>>;
    },

    dryRunExport: (name, options) => api.post('/api/v1/exports/{id}/dry-run', { ...id(name), query: { fullResync: options?.fullResync ? 'true' : undefined } }) as Returned<'dryRunExport'>,

    listRuns: (options) => listAll(api, '/api/v1/runs', { export: options.export, status: options.status, since: options.since }, options.limit) as Returned<'listRuns'>,
    showRun: (runId) => api.get('/api/v1/runs/{id}', id(runId)) as Returned<'showRun'>,
    runRejections: (runId) => api.stream('/api/v1/runs/{id}/rejections.csv', id(runId)),
    resumeRun: async (runId, watch) => {
      const run = await api.post('/api/v1/runs/{id}/resume', { ...id(runId), idempotent: true });
      return follow(api, run.id, watch, true);
    },
    cancelRun: (runId) => api.post('/api/v1/runs/{id}/cancel', id(runId)) as Returned<'cancelRun'>,
    followRun: (runId, watch) => follow(api, runId, watch, false),

    loadEntity: (name, file, options) => {
      // The file is on this machine, not the server's: check it here, with the message a local load gives.
      if (!fs.existsSync(path.resolve(file))) throw new ValidationError(`Cannot read ${file}: no such file.`);
      const format = /\.parquet$/i.test(file) ? 'parquet' : 'csv';
      // Streamed from disk: a file of any size is never held in memory here.
      const stream = fs.createReadStream(path.resolve(file));
      return api.upload(
        '/api/v1/entities/{name}',
        { path: { name }, query: { key: options.key, delimiter: options.delimiter, format, filename: path.basename(file) } },
        stream,
        format === 'parquet' ? 'application/vnd.apache.parquet' : 'text/csv',
      ) as Returned<'loadEntity'>;
    },
    listEntities: () => api.get('/api/v1/entities') as Returned<'listEntities'>,
    attachEntity: (name, options) => api.post('/api/v1/entities/{name}/attach', { path: { name }, body: stripUndefined(options), idempotent: true }) as Returned<'attachEntity'>,
    createSegment: (input) => api.post('/api/v1/segments', { body: stripUndefined(input), idempotent: true }),
    listSegments: () => listAll(api, '/api/v1/segments'),
    updateSegment: (name, patch) => api.patch('/api/v1/segments/{id}', { ...id(name), body: stripUndefined(patch) }),
    refreshSegments: (name) => (name ? api.post('/api/v1/segments/{id}/refresh', { ...id(name), idempotent: true }) : api.post('/api/v1/segments/refresh', { idempotent: true })),
    previewSegment: (input) => api.post('/api/v1/segments/preview', { body: input }),
    removeSegment: (name) => api.delete('/api/v1/segments/{id}', id(name)),

    showNotify: async () => (await api.get('/api/v1/notify')).notify,
    setNotify: (input) => api.put('/api/v1/notify', { body: input }),
    removeNotify: () => api.delete('/api/v1/notify'),

    listAudit: ({ limit, ...filter }) => listAll(api, '/api/v1/audit', filter, limit) as Returned<'listAudit'>,

    showSchedule: () => api.get('/api/v1/schedule'),
    status: () => api.get('/api/v1/status'),
    setSchedule: (input) => api.put('/api/v1/schedule', { body: stripUndefined({ ...input, times: typeof input.times === 'string' ? input.times.split(',') : input.times }) }),
    turnScheduleOff: () => api.delete('/api/v1/schedule'),
    refresh: async (watch) => {
      const result = await api.post('/api/v1/refresh', { idempotent: true });
      const runs: RunSummary[] = [];
      // The server runs them side by side; following them in turn still waits for each one's end.
      for (const run of result.runs as RunSummary[]) runs.push(run.status === 'queued' || run.status === 'running' ? await follow(api, run.id, watch, true) : run);
      return { segments: result.segments, runs };
    },
    setExportSchedule: (name, schedule) =>
      schedule === null ? api.delete('/api/v1/exports/{id}/schedule', id(name)) : api.put('/api/v1/exports/{id}/schedule', { ...id(name), body: schedule }),
    pauseExport: (name) => api.post('/api/v1/exports/{id}/pause', id(name)),
    resumeExport: (name) => api.post('/api/v1/exports/{id}/resume', id(name)),
    createUser: (input) => api.post('/api/v1/users', { body: input as UserCreate, idempotent: true }),
    listUsers: () => listAll(api, '/api/v1/users'),
    removeUser: (name) => api.delete('/api/v1/users/{id}', id(name)),
    setRole: (name, role) => api.patch('/api/v1/users/{id}', { ...id(name), body: { role } as UserPatch }),
    resetPassword: (name) => api.post('/api/v1/users/{id}/reset-password', { ...id(name), idempotent: true }),
    unlockSignIns: (target) => api.delete('/api/v1/sign-in-delays', { query: stripUndefined(target) }),
    createToken: (input) => api.post('/api/v1/tokens', { body: stripUndefined(input), idempotent: true }),
    listTokens: () => listAll(api, '/api/v1/tokens'),
    revokeToken: (idOrName) => api.delete('/api/v1/tokens/{id}', id(idOrName)),
    exportConfig: () => api.get('/api/v1/config'),
    planConfig: (request) => api.post('/api/v1/config/plan', { body: request }) as Returned<'planConfig'>,
    applyConfig: (request) => api.post('/api/v1/config/apply', { body: request, idempotent: true }) as Returned<'applyConfig'>,
    backup: (input) => api.post('/api/v1/backup', { body: { path: input.target, ...(input.withoutKey ? { withoutKey: true } : {}) }, idempotent: true }),
    close: async () => {},
  };
  return client;
}

/**
 * Polls the run until it ends, reporting progress and new warnings. When `owned` (this command started the
 * run), aborting cancels the run on the server, as Ctrl-C does for a run in this process; otherwise it only
 * stops following.
 */
async function follow(api: Api, runId: string, watch: RunWatch, owned: boolean): Promise<RunSummary> {
  let id = runId;
  const warned = new Set<string>();
  let cancelled = false;
  for (;;) {
    if (owned && watch.signal.aborted && !cancelled) {
      cancelled = true;
      await api.post('/api/v1/runs/{id}/cancel', { path: { id } }).catch(() => {});
    }
    const run = (await api.get('/api/v1/runs/{id}', { path: { id } })) as RunSummary & { rejectionsTotal?: number };
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
async function listAll<P extends ListPath>(api: Api, path: P, query: Record<string, string | number | undefined> = {}, max = Number.POSITIVE_INFINITY): Promise<ListItem<P>[]> {
  const items: ListItem<P>[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(MAX_PAGE_SIZE, max - items.length);
    // One call for every list path: TypeScript cannot resolve the generic init of a path union, so the page's
    // type comes from ListItem<P> (the path is still one the document lists as a page).
    const getPage = api.get as unknown as (path: ListPath, init: { query: Record<string, string | number | undefined> }) => Promise<{ items: ListItem<P>[]; nextCursor: string | null }>;
    const page = await getPage(path, { query: { ...query, limit, cursor } });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < max);
  return items;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
