import { createRoute, z } from '@hono/zod-openapi';
import { queueResume } from '../../app/exports.ts';
import { cancelRun, listRunItems, showRun } from '../../app/runs.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { RunListItem, RunSummary } from '../schemas.ts';
import { commonErrors, conflict, jsonResponse, notFound, security, unprocessable } from './route.ts';

const tags = ['Runs'];
const RunId = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, example: 'run_0mwt1ab2c3d4e5f6' }) });

export function registerRunRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs',
      tags,
      security,
      summary: 'Run history, newest first',
      request: {
        query: z.object({
          export: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
        }),
      },
      responses: { 200: jsonResponse(z.array(RunListItem), 'Runs'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const query = c.req.valid('query');
      return c.json(await listRunItems(homeFor(deps, c), { export: query.export, limit: query.limit }), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/runs/{id}', tags, security, request: { params: RunId }, responses: { 200: jsonResponse(RunSummary, 'The run, with progress'), ...commonErrors, ...notFound } }),
    async (c) => c.json(await showRun(homeFor(deps, c), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{id}/cancel',
      tags,
      security,
      summary: 'Stop a queued or running run; what was delivered stays delivered and is counted',
      request: { params: RunId },
      responses: { 200: jsonResponse(RunSummary, 'The run as it is now; it ends cancelled within seconds'), ...commonErrors, ...notFound, ...conflict },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const id = c.req.valid('param').id;
      await cancelRun(home, id, (runId) => deps.runs.cancel(runId));
      return c.json(await showRun(home, id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{id}/resume',
      tags,
      security,
      summary: 'Continue a failed or cancelled run from its checkpoint, as a new run',
      request: { params: RunId },
      responses: { 202: jsonResponse(RunSummary, 'The new run, queued'), ...commonErrors, ...notFound, ...conflict, ...unprocessable },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const run = await queueResume(home, c.req.valid('param').id);
      deps.runs.start(run.id, home.actor);
      return c.json(await showRun(home, run.id), 202);
    },
  );
}
