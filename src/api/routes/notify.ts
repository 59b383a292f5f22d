import { createRoute, z } from '@hono/zod-openapi';
import { removeHomeNotify, setHomeNotify, showHomeNotify } from '../../app/notify.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { NotifyInput, NotifyView } from '../schemas.ts';
import { commonErrors, jsonBody, jsonResponse, security, unprocessable } from './route.ts';

const tags = ['Alerts'];

/** The home's default alert webhook (administrators only); an export's own one lives in its config as `notify`. */
export function registerNotifyRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/notify',
      operationId: 'getNotify',
      tags,
      security,
      summary: "The home's alert webhook, its URL masked",
      responses: { 200: jsonResponse(z.object({ notify: z.union([NotifyView, z.null()]) }), 'The webhook, or null when none is set'), ...commonErrors },
    }),
    async (c) => c.json({ notify: await showHomeNotify(homeFor(deps, c)) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/notify',
      operationId: 'setNotify',
      tags,
      security,
      summary: "Set the home's alert webhook: a JSON post when a run fails, an export recovers, or too many records are rejected",
      request: jsonBody(NotifyInput),
      responses: { 200: jsonResponse(NotifyView, 'The webhook as stored, its URL masked'), ...commonErrors, ...unprocessable },
    }),
    async (c) => c.json(await setHomeNotify(homeFor(deps, c), c.req.valid('json')), 200),
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/notify',
      operationId: 'removeNotify',
      tags,
      security,
      summary: "Turn the home's alert webhook off",
      responses: { 200: jsonResponse(z.object({ removed: z.boolean() }), 'Whether one was set'), ...commonErrors },
    }),
    async (c) => c.json(await removeHomeNotify(homeFor(deps, c)), 200),
  );
}
