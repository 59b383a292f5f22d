import { createRoute, z } from '@hono/zod-openapi';
import { createConnection, listConnections, removeConnection, showConnection, updateConnection, verifyConnection } from '../../app/connections.ts';
import { nameOf } from '../../app/resolve.ts';
import { homeFor, type ApiApp, type ApiDeps } from '../app.ts';
import { CheckResultView, ConnectionCreate, ConnectionPatch, ConnectionView, IdParam, Removed, VerifyBody } from '../schemas.ts';
import { commonErrors, conflict, jsonBody, jsonResponse, notFound, security, unprocessable, upstream } from './route.ts';

const tags = ['Connections'];

export function registerConnectionRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/connections',
      tags,
      security,
      summary: 'Connections the caller may see (contributors: only those usable by contributors, without settings)',
      responses: { 200: jsonResponse(z.array(ConnectionView), 'The connections'), ...commonErrors },
    }),
    async (c) => c.json(await listConnections(homeFor(deps, c)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/connections',
      tags,
      security,
      summary: 'Create a connection (administrators; needs acceptPrivacyTerms)',
      request: jsonBody(ConnectionCreate),
      responses: { 201: jsonResponse(ConnectionView, 'Created'), ...commonErrors, ...conflict, ...unprocessable },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const view = await createConnection(homeFor(deps, c), { ...body, acceptPrivacyTerms: body.acceptPrivacyTerms ?? false });
      return c.json(view, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/connections/{id}',
      tags,
      security,
      request: { params: IdParam },
      responses: { 200: jsonResponse(ConnectionView, 'The connection; secrets show as "set"'), ...commonErrors, ...notFound },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(await showConnection(home, await nameOf(home, 'connections', c.req.valid('param').id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/connections/{id}',
      tags,
      security,
      summary: 'Edit a connection (administrators); config is merged over the current settings, secrets are write-only',
      request: { params: IdParam, ...jsonBody(ConnectionPatch) },
      responses: { 200: jsonResponse(ConnectionView, 'The edited connection'), ...commonErrors, ...notFound, ...conflict, ...unprocessable },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const name = await nameOf(home, 'connections', c.req.valid('param').id);
      return c.json(await updateConnection(home, name, c.req.valid('json')), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/connections/{id}',
      tags,
      security,
      request: { params: IdParam, query: z.object({ force: z.enum(['true', 'false']).optional() }) },
      responses: {
        200: jsonResponse(Removed.extend({ orphanedExports: z.array(z.string()) }), 'Removed'),
        ...commonErrors,
        ...notFound,
        ...conflict,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const name = await nameOf(home, 'connections', c.req.valid('param').id);
      return c.json(await removeConnection(home, name, { force: c.req.valid('query').force === 'true' }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/connections/{id}/verify',
      tags,
      security,
      summary: 'Connect, authenticate and make one cheap read; SFTP records or checks the host key',
      request: { params: IdParam, body: { content: { 'application/json': { schema: VerifyBody } }, required: false } },
      responses: { 200: jsonResponse(CheckResultView, 'The outcome, failed checks included'), ...commonErrors, ...notFound, ...unprocessable, ...upstream },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const name = await nameOf(home, 'connections', c.req.valid('param').id);
      // The body is optional: without one, valid('json') has nothing to give.
      const body = (c.req.valid('json') as z.infer<typeof VerifyBody> | undefined) ?? {};
      return c.json((await verifyConnection(home, name, { acceptHostKey: body.acceptHostKey })) as z.infer<typeof CheckResultView>, 200);
    },
  );
}
