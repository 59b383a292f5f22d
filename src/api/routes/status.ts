import { createRoute } from '@hono/zod-openapi';
import { showStatus } from '../../app/status.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { StatusView } from '../schemas.ts';
import { commonErrors, jsonResponse, security } from './route.ts';

export function registerStatusRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/status',
      operationId: 'getStatus',
      tags: ['Status'],
      security,
      summary: 'The run queue: runs waiting and executing, and the workers alive with their runs (any signed-in account)',
      responses: { 200: jsonResponse(StatusView, 'The queue and its workers'), ...commonErrors },
    }),
    async (c) => c.json(await showStatus(homeFor(deps, c), deps.runs), 200),
  );
}
