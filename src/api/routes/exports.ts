import { createRoute, z } from '@hono/zod-openapi';
import { createExport, dryRunExport, exportManifest, listExports, queueRun, removeExport, showExport, updateExport } from '../../app/exports.ts';
import { nameOf } from '../../app/resolve.ts';
import { showRun } from '../../app/runs.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { DryRunReport, ExportCreate, ExportManifestView, ExportPatch, ExportView, IdParam, Removed, RunQuery, RunSummary } from '../schemas.ts';
import { commonErrors, conflict, jsonBody, jsonResponse, notFound, security, unprocessable, upstream } from './route.ts';

const tags = ['Exports'];

export function registerExportRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/exports', operationId: 'listExports', summary: 'List the exports', tags, security, responses: { 200: jsonResponse(z.array(ExportView), 'The exports'), ...commonErrors } }),
    async (c) => c.json(await listExports(homeFor(deps, c)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/exports',
      operationId: 'createExport',
      tags,
      security,
      summary: 'Save an export (saving never runs it)',
      request: jsonBody(ExportCreate),
      responses: { 201: jsonResponse(ExportView, 'Saved'), ...commonErrors, ...notFound, ...conflict, ...unprocessable, ...upstream },
    }),
    async (c) => c.json(await createExport(homeFor(deps, c), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/exports/{id}', operationId: 'getExport', summary: 'Show an export', tags, security, request: { params: IdParam }, responses: { 200: jsonResponse(ExportView, 'The export'), ...commonErrors, ...notFound } }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await showExport(home, await nameOf(home, 'exports', c.req.valid('param').id)), 200);
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
      summary: 'Edit an export, or repair one whose connection was removed; validated like a new one',
      request: { params: IdParam, ...jsonBody(ExportPatch) },
      responses: { 200: jsonResponse(ExportView, 'The edited export'), ...commonErrors, ...notFound, ...conflict, ...unprocessable, ...upstream },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await updateExport(home, await nameOf(home, 'exports', c.req.valid('param').id), c.req.valid('json')), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/v1/exports/{id}', operationId: 'removeExport', summary: 'Remove an export; its run history stays', tags, security, request: { params: IdParam }, responses: { 200: jsonResponse(Removed, 'Removed; its run history stays'), ...commonErrors, ...notFound } }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await removeExport(home, await nameOf(home, 'exports', c.req.valid('param').id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/exports/{id}/runs',
      operationId: 'startRun',
      tags,
      security,
      summary: 'Queue a run; answers at once with it. The worker pool (serve --concurrency) starts it when it has room; follow it with GET /api/runs/{id}. With dryRun=true, answers 200 with what a run would do and sends nothing',
      request: { params: IdParam, query: RunQuery },
      responses: {
        200: jsonResponse(DryRunReport, 'dryRun=true: what a run would add, update, remove and reject; nothing was sent'),
        202: jsonResponse(RunSummary, 'Queued'),
        ...commonErrors,
        ...notFound,
        ...conflict,
        ...unprocessable,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const query = c.req.valid('query');
      const name = await nameOf(home, 'exports', c.req.valid('param').id);
      const options = { fullResync: query.fullResync === 'true' };
      if (query.dryRun === 'true') return c.json(await dryRunExport(home, name, options), 200);
      const run = await queueRun(home, name, 'manual', options);
      deps.runs.start(run.id, home.actor);
      return c.json(await showRun(home, run.id), 202);
    },
  );
}
