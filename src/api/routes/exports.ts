import { createRoute, z } from '@hono/zod-openapi';
import { createExport, dryRunExport, exportManifest, listExports, queueRun, removeExport, showExport, updateExport } from '../../app/exports.ts';
import { nameOf } from '../../app/resolve.ts';
import { showRun } from '../../app/runs.ts';
import { API_BASE, homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { linkNext, PageQuery, pageList, pageOf } from '../pagination.ts';
import { DryRunQuery, DryRunReport, ExportCreate, ExportManifestView, ExportPatch, ExportView, SavedExportView, IdParam, Removed, RunQuery, RunSummary } from '../schemas.ts';
import { commonErrors, conflict, editConflict, jsonBody, jsonResponse, notFound, preconditionFailed, RunLocation, runLocation, security, unprocessable, upstream } from './route.ts';
import { ETagHeader, IfMatchHeader, preconditionOf, withETag } from '../preconditions.ts';
import { idempotent } from '../idempotency.ts';

const tags = ['Exports'];

export function registerExportRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/exports', operationId: 'listExports', summary: 'List the exports', tags, security, request: { query: z.object(PageQuery) }, responses: { 200: jsonResponse(pageOf(ExportView, 'ExportPage'), 'A page of exports'), ...commonErrors } }),
    async (c) => {
      const page = pageList(await listExports(homeFor(deps, c)), (e) => e.name, c.req.valid('query'));
      linkNext(c, page.nextCursor);
      return c.json(page, 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/exports',
        operationId: 'createExport',
        tags,
        security,
        summary: 'Save an export (saving never runs it)',
        request: jsonBody(ExportCreate),
        responses: { 201: jsonResponse(SavedExportView, 'Saved'), ...commonErrors, ...notFound, ...conflict, ...unprocessable, ...upstream },
      }),
    ),
    async (c) => c.json(await createExport(homeFor(deps, c), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/exports/{id}',
      operationId: 'getExport',
      summary: 'Show an export',
      tags,
      security,
      request: { params: IdParam },
      responses: { 200: { ...jsonResponse(ExportView, 'The export'), headers: ETagHeader }, ...commonErrors, ...notFound },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(withETag(c, await showExport(home, await nameOf(home, 'exports', c.req.valid('param').id))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/exports/{id}/manifest',
      operationId: 'getExportManifest',
      tags,
      security,
      summary: 'The data manifest: which fields leave, to which destination and account, under whose consent, how often, and what the last runs sent',
      request: { params: IdParam },
      responses: { 200: jsonResponse(ExportManifestView, 'The manifest'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await exportManifest(home, await nameOf(home, 'exports', c.req.valid('param').id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/exports/{id}',
      operationId: 'updateExport',
      tags,
      security,
      summary: 'Edit an export, or repair one whose connection was removed; validated like a new one (If-Match: only if still at that version)',
      request: { params: IdParam, headers: IfMatchHeader, ...jsonBody(ExportPatch) },
      responses: {
        200: { ...jsonResponse(SavedExportView, 'The edited export'), headers: ETagHeader },
        ...commonErrors,
        ...notFound,
        ...editConflict,
        ...preconditionFailed,
        ...unprocessable,
        ...upstream,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      return c.json(withETag(c, await updateExport(home, await nameOf(home, 'exports', c.req.valid('param').id), c.req.valid('json'), precondition)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/exports/{id}',
      operationId: 'removeExport',
      summary: 'Remove an export; its run history stays (If-Match: only if still at that version)',
      tags,
      security,
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 200: jsonResponse(Removed, 'Removed; its run history stays'), ...commonErrors, ...notFound, ...conflict, ...preconditionFailed },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      return c.json(await removeExport(home, await nameOf(home, 'exports', c.req.valid('param').id), precondition), 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/exports/{id}/runs',
        operationId: 'startRun',
        tags,
        security,
        summary: 'Queue a run; answers at once with it (Location: the run). The worker pool (serve --concurrency) starts it when it has room; follow it with GET /api/v1/runs/{id}',
        request: { params: IdParam, query: RunQuery },
        responses: {
          202: { ...jsonResponse(RunSummary, 'Queued'), headers: RunLocation },
          307: {
            description: 'dryRun=true (kept for scripts written before POST /api/v1/exports/{id}/dry-run existed): the same request goes there, nothing is queued',
            headers: z.object({ Location: z.string().openapi({ description: 'The dry-run operation, with the same fullResync' }) }),
          },
          ...commonErrors,
          ...notFound,
          ...conflict,
          ...unprocessable,
        },
      }),
    ),
    async (c) => {
      const home = homeFor(deps, c);
      const query = c.req.valid('query');
      const id = c.req.valid('param').id;
      if (query.dryRun === 'true') {
        // One operation, one answer type: a dry run is its own operation. 307 keeps the method and the body.
        const target = `${API_BASE}/exports/${encodeURIComponent(id)}/dry-run${query.fullResync ? `?fullResync=${query.fullResync}` : ''}`;
        return c.redirect(target, 307);
      }
      const name = await nameOf(home, 'exports', id);
      const run = await queueRun(home, name, 'manual', { fullResync: query.fullResync === 'true' });
      deps.runs.start(run.id, home.actor);
      c.header('Location', runLocation(run.id));
      return c.json(await showRun(home, run.id), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/exports/{id}/dry-run',
      operationId: 'dryRunExport',
      tags,
      security,
      summary: 'What a run would add, update, remove and reject now, per source; sends nothing and changes nothing',
      request: { params: IdParam, query: DryRunQuery },
      responses: { 200: jsonResponse(DryRunReport, 'The report; nothing was sent'), ...commonErrors, ...notFound, ...unprocessable },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const name = await nameOf(home, 'exports', c.req.valid('param').id);
      return c.json(await dryRunExport(home, name, { fullResync: c.req.valid('query').fullResync === 'true' }), 200);
    },
  );
}
