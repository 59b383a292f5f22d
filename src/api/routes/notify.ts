import { createRoute, z } from '@hono/zod-openapi';
import { homeNotifyETag, removeHomeNotify, setHomeNotify, showHomeNotify } from '../../app/notify.ts';
import { ETagHeader, IfMatchHeader, preconditionOf, withETag } from '../preconditions.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { NotifyInput, NotifyView } from '../schemas.ts';
import { commonErrors, jsonBody, jsonResponse, preconditionFailed, security, unprocessable } from './route.ts';

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
      responses: {
        200: {
          ...jsonResponse(
            z.object({
              notify: z.union([NotifyView, z.null()]),
              etag: z.string().openapi({ description: 'The version of the alert setting (set or not), the same as the ETag header: send it as If-Match with PUT or DELETE' }),
            }),
            'The webhook, or null when none is set',
          ),
          headers: ETagHeader,
        },
        ...commonErrors,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(withETag(c, { notify: await showHomeNotify(home), etag: await homeNotifyETag(home) }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/notify',
      operationId: 'setNotify',
      tags,
      security,
      summary: "Set the home's alert webhook: a JSON post when a run fails, an export recovers, or too many records are rejected",
      request: { headers: IfMatchHeader, ...jsonBody(NotifyInput) },
      responses: { 200: { ...jsonResponse(NotifyView, 'The webhook as stored, its URL masked'), headers: ETagHeader }, ...commonErrors, ...unprocessable, ...preconditionFailed },
    }),
    async (c) => {
      const precondition = preconditionOf(c);
      return c.json(withETag(c, await setHomeNotify(homeFor(deps, c), c.req.valid('json'), precondition)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/notify',
      operationId: 'removeNotify',
      tags,
      security,
      summary: "Turn the home's alert webhook off",
      request: { headers: IfMatchHeader },
      responses: {
        200: {
          ...jsonResponse(z.object({ removed: z.boolean(), etag: z.string().openapi({ description: 'The version of the alert setting now' }) }), 'Whether one was set'),
          headers: ETagHeader,
        },
        ...commonErrors,
        ...preconditionFailed,
      },
    }),
    async (c) => {
      const precondition = preconditionOf(c);
      return c.json(withETag(c, await removeHomeNotify(homeFor(deps, c), precondition)), 200);
    },
  );
}
