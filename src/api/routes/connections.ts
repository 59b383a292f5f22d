import { createRoute, z } from '@hono/zod-openapi';
import { createConnection, listConnections, removeConnection, showConnection, updateConnection, verifyConnection, verifyConnectionDraft } from '../../app/connections.ts';
import { completeMicrosoftSignIn, MICROSOFT_CALLBACK_PATH, startMicrosoftSignIn } from '../../app/oauth.ts';
import { nameOf } from '../../app/resolve.ts';
import { homeFor, publicUrlFor, type ApiApp, type ApiDeps } from '../app.ts';
import { linkNext, PageQuery, pageList, pageOf } from '../pagination.ts';
import { CheckResultView, SignInStarted, ConnectionCreate, ConnectionDraft, ConnectionPatch, ConnectionView, IdParam, Removed, VerifyBody } from '../schemas.ts';
import { commonErrors, conflict, editConflict, jsonBody, jsonResponse, notFound, preconditionFailed, problemResponse, security, unprocessable, upstream } from './route.ts';
import { ETagHeader, IfMatchHeader, preconditionOf, withETag } from '../preconditions.ts';
import { idempotent } from '../idempotency.ts';

const tags = ['Connections'];

export function registerConnectionRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections',
      operationId: 'listConnections',
      tags,
      security,
      summary: 'Connections the caller may see (contributors: only those usable by contributors, without settings)',
      request: { query: z.object(PageQuery) },
      responses: { 200: jsonResponse(pageOf(ConnectionView, 'ConnectionPage'), 'A page of connections'), ...commonErrors },
    }),
    async (c) => {
      const page = pageList(await listConnections(homeFor(deps, c)), (x) => x.name, c.req.valid('query'));
      linkNext(c, page.nextCursor);
      return c.json(page, 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/connections',
        operationId: 'createConnection',
        tags,
        security,
        summary: 'Create a connection (administrators; needs acceptPrivacyTerms)',
        request: jsonBody(ConnectionCreate),
        responses: { 201: jsonResponse(ConnectionView, 'Created'), ...commonErrors, ...conflict, ...unprocessable },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const view = await createConnection(homeFor(deps, c), { ...body, acceptPrivacyTerms: body.acceptPrivacyTerms ?? false });
      return c.json(view, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/connections/{id}',
      operationId: 'getConnection', summary: 'Show a connection; secrets show as "set", never their value',
      tags,
      security,
      request: { params: IdParam },
      responses: {
        200: { ...jsonResponse(ConnectionView, 'The connection; secrets show as "set"'), headers: ETagHeader.partial().openapi({ description: 'Administrators' }) },
        ...commonErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      return c.json(withETag(c, await showConnection(home, await nameOf(home, 'connections', c.req.valid('param').id))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/connections/{id}',
      operationId: 'updateConnection',
      tags,
      security,
      summary: 'Edit a connection (administrators); config is merged over the current settings, secrets are write-only (If-Match: only if still at that version)',
      request: { params: IdParam, headers: IfMatchHeader, ...jsonBody(ConnectionPatch) },
      responses: {
        200: { ...jsonResponse(ConnectionView, 'The edited connection'), headers: ETagHeader },
        ...commonErrors,
        ...notFound,
        ...editConflict,
        ...preconditionFailed,
        ...unprocessable,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      const name = await nameOf(home, 'connections', c.req.valid('param').id);
      return c.json(withETag(c, await updateConnection(home, name, c.req.valid('json'), precondition)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/connections/{id}',
      operationId: 'removeConnection', summary: 'Remove a connection (administrators); with force=true, exports that use it stay, waiting for a new connection (If-Match: only if still at that version)',
      tags,
      security,
      request: { params: IdParam, headers: IfMatchHeader, query: z.object({ force: z.enum(['true', 'false']).optional() }) },
      responses: {
        200: jsonResponse(Removed.extend({ orphanedExports: z.array(z.string()) }), 'Removed'),
        ...commonErrors,
        ...notFound,
        ...conflict,
        ...preconditionFailed,
      },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const precondition = preconditionOf(c);
      const name = await nameOf(home, 'connections', c.req.valid('param').id);
      return c.json(await removeConnection(home, name, { force: c.req.valid('query').force === 'true' }, precondition), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connection-checks',
      operationId: 'verifyConnectionDraft',
      tags,
      security,
      summary: 'Verify settings before saving them (administrators): the same check as a saved connection, nothing stored',
      request: jsonBody(ConnectionDraft),
      responses: { 200: jsonResponse(CheckResultView, 'The outcome, failed checks included; details.hostKeySha256 is the SFTP host key seen'), ...commonErrors, ...unprocessable, ...upstream },
    }),
    async (c) => c.json((await verifyConnectionDraft(homeFor(deps, c), c.req.valid('json'))) as z.infer<typeof CheckResultView>, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/{id}/verify',
      operationId: 'verifyConnection',
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

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/connections/{id}/oauth/start',
      operationId: 'startMicrosoftSignIn',
      tags,
      security,
      summary: 'Microsoft Advertising: start "Sign in with Microsoft Advertising" (administrators); send the browser to authorizationUrl',
      description: `The state and PKCE verifier stay on the server for 10 minutes, for the administrator who started the sign-in. The authority sends the browser back to ${MICROSOFT_CALLBACK_PATH} under the server's public URL (OUTFLOW_PUBLIC_URL).`,
      request: { params: IdParam },
      responses: { 200: jsonResponse(SignInStarted, 'Where to send the browser'), ...commonErrors, ...notFound, ...unprocessable },
    }),
    async (c) => {
      const home = homeFor(deps, c);
      const name = await nameOf(home, 'connections', c.req.valid('param').id);
      return c.json(await startMicrosoftSignIn(home, name, { publicUrl: publicUrlFor(deps, c) }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: `/api/v1${MICROSOFT_CALLBACK_PATH.slice('/api'.length)}`,
      operationId: 'completeMicrosoftSignIn',
      security: [],
      tags,
      summary: 'Where the Microsoft identity platform sends the browser back after "Sign in with Microsoft Advertising" (no session needed: the state names the sign-in)',
      request: {
        query: z.object({
          state: z.string().max(200).optional(),
          code: z.string().max(4000).optional(),
          error: z.string().max(200).optional(),
          error_description: z.string().max(4000).optional(),
        }).passthrough(),
      },
      responses: {
        302: { description: 'Back to the Connections page, with signin=ok or signin=failed and a message; never a token, code or verifier' },
        400: problemResponse('The query does not match the schema'),
      },
    }),
    async (c) => {
      const params = new URL(c.req.url).searchParams;
      const home = { ...deps.home, actor: { name: 'anonymous', role: 'viewer' as const, via: 'api' as const, ...(c.get('address') ? { address: c.get('address')! } : {}) } };
      const outcome = await completeMicrosoftSignIn(home, params);
      const back = new URL('connections', `${publicUrlFor(deps, c).replace(/\/+$/, '')}/`);
      back.searchParams.set('signin', outcome.ok ? 'ok' : 'failed');
      if (outcome.connection) back.searchParams.set('connection', outcome.connection);
      if (outcome.ok && !outcome.verification.ok) back.searchParams.set('message', `Signed in, but verification failed (${outcome.verification.code}): ${outcome.verification.message}`);
      if (!outcome.ok) back.searchParams.set('message', outcome.message);
      // The callback URL carries the code: keep it out of caches and of the next page's Referer.
      c.header('Cache-Control', 'no-store');
      c.header('Referrer-Policy', 'no-referrer');
      return c.redirect(back.toString(), 302);
    },
  );
}
