import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { audit } from '../../app/audit.ts';
import { authenticateSession, changePassword, createToken, createUser, listTokens, listUsers, login, logout, removeUser, resetPassword, revokeToken, setRole, unlockSignIns } from '../../app/users.ts';
import { OutflowError, ValidationError } from '../../domain/errors.ts';
import { nameOf } from '../../app/resolve.ts';
import { homeActions } from '../../app/permissions.ts';
import { isLoopbackHost } from '../../lib/loopback.ts';
import type { Role } from '../../domain/model.ts';
import { sendProblem, WWW_AUTHENTICATE } from '../errors.ts';
import { homeFor, SESSION_COOKIE, type ApiApp, type ApiDeps } from '../app.ts';
import { linkNext, PageQuery, pageList, pageOf } from '../pagination.ts';
import { CreatedToken, LoginBody, OneTimePassword, PasswordChange, SessionView, UserRemoved, TokenCreate, TokenView, UserCreate, UserPatch, UserView } from '../schemas.ts';
import { commonErrors, conflict, editConflict, jsonBody, jsonResponse, notFound, preconditionFailed, problemResponse, security, unprocessable } from './route.ts';
import { ETagHeader, IfMatchHeader, preconditionOf, withETag } from '../preconditions.ts';
import { idempotent } from '../idempotency.ts';

const NameParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, description: 'The user id, or the name' }) });
const TokenParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, description: 'The token id, or its name' }) });
const tooMany = { 429: problemResponse('Too many failed sign-ins; see Retry-After') };

/** The signed-in user with what they may do in the home (`can`, from the checks the use cases run). */
function sessionUser<U extends { role: Role }>(user: U): U & { can: ReturnType<typeof homeActions> } {
  return { ...user, can: homeActions(user) };
}

export function registerAccountRoutes(app: ApiApp, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/session',
      operationId: 'signIn',
      tags: ['Session'],
      security: [],
      summary: 'Sign in: sets an http-only session cookie and returns the CSRF token that writes must send in X-CSRF-Token',
      request: jsonBody(LoginBody),
      responses: { 200: jsonResponse(SessionView, 'Signed in'), 400: commonErrors[400], 401: commonErrors[401], ...tooMany },
    }),
    async (c) => {
      const { name, password } = c.req.valid('json');
      const address = c.get('address');
      const system = { ...deps.home, actor: { name, role: 'viewer' as const, via: 'api' as const, address } };
      let result;
      try {
        result = await login(deps.home.db, { name, password, address });
      } catch (error) {
        await audit(system, 'session.login_failed', { type: 'user', name }, { reason: error instanceof OutflowError ? error.code : 'error' }, 'denied');
        if (error instanceof OutflowError && error.code === 'auth_failed') {
          c.header('WWW-Authenticate', WWW_AUTHENTICATE);
          return sendProblem(c, 401, 'auth_failed', error.message);
        }
        throw error;
      }
      // Secure whenever the browser can honour it: HTTPS (directly or behind a TLS proxy), or a loopback address,
      // which browsers treat as secure even over plain HTTP.
      const url = new URL(c.req.url);
      const secure = url.protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https' || isLoopbackHost(url.hostname);
      setCookie(c, SESSION_COOKIE, result.sessionId, { httpOnly: true, sameSite: 'Strict', secure, path: '/', expires: new Date(result.expiresAt) });
      await audit({ ...system, actor: { ...system.actor, role: result.user.role } }, 'session.login', { type: 'user', name: result.user.name });
      return c.json({ user: sessionUser(result.user), csrfToken: result.csrfToken, expiresAt: result.expiresAt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/local-token',
      operationId: 'renewLocalToken',
      tags: ['Session'],
      security: [],
      summary:
        "The server's local CLI token, for the CLI on its machine: send the renewKey from <home>/server.json (whoever can read the home owns it); a revoked token is replaced",
      request: jsonBody(z.object({ renewKey: z.string().min(1).max(200) })),
      responses: { 200: jsonResponse(z.object({ token: z.string() }), 'A working local token'), 400: commonErrors[400], 401: commonErrors[401] },
    }),
    async (c) => {
      const { renewKey } = c.req.valid('json');
      const token = (await deps.localToken?.renew(renewKey)) ?? null;
      if (!token) {
        c.header('WWW-Authenticate', WWW_AUTHENTICATE);
        return sendProblem(c, 401, 'auth_failed', "The renew key is not this server's: read it from <home>/server.json of the running server.");
      }
      return c.json({ token }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/session', operationId: 'getSession', tags: ['Session'], security, summary: 'Who is signed in', responses: { 200: jsonResponse(SessionView, 'The session'), 401: commonErrors[401] } }),
    async (c) => {
      const actor = c.get('actor');
      const session = await authenticateSession(deps.home.db, getCookie(c, SESSION_COOKIE) ?? '');
      // A tab opened after sign-in has the cookie but not the CSRF token: it gets it here (same origin only).
      const csrf = session ? { csrfToken: session.csrfToken } : {};
      return c.json({ user: sessionUser(session?.user ?? { name: actor.name, role: actor.role, mustChangePassword: false }), ...csrf, ...(session ? { expiresAt: session.expiresAt } : {}) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/v1/session', operationId: 'signOut', tags: ['Session'], security, summary: 'Sign out', responses: { 200: jsonResponse(z.object({ signedOut: z.boolean() }), 'Signed out'), ...commonErrors } }),
    async (c) => {
      const signedOut = await logout(deps.home.db, getCookie(c, SESSION_COOKIE) ?? '');
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      await audit(homeFor(deps, c), 'session.logout', { type: 'user', name: c.get('actor').name });
      return c.json({ signedOut }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/session/password',
      operationId: 'changePassword',
      tags: ['Session'],
      security,
      summary: 'Change your own password (needed after a one-time password); your other sessions end',
      request: jsonBody(PasswordChange),
      responses: { 200: jsonResponse(SessionView.pick({ user: true }), 'Changed'), ...commonErrors, ...unprocessable, ...tooMany },
    }),
    async (c) => {
      const { currentPassword, newPassword } = c.req.valid('json');
      const home = homeFor(deps, c);
      const name = c.get('actor').name;
      try {
        const user = await changePassword(deps.home.db, { name, currentPassword, newPassword, address: c.get('address'), keepSessionId: getCookie(c, SESSION_COOKIE) });
        await audit(home, 'user.password_changed', { type: 'user', name });
        return c.json({ user: sessionUser(user) }, 200);
      } catch (error) {
        // A wrong current password is a mistake in this form, not a lost session: 422 on the field, not 401.
        if (error instanceof OutflowError && error.code === 'auth_failed') {
          await audit(home, 'user.password_change_failed', { type: 'user', name }, { reason: 'wrong current password' }, 'denied');
          throw new ValidationError('The current password is wrong.', [{ path: 'currentPassword', message: 'wrong password' }]);
        }
        throw error;
      }
    },
  );

  const users = ['Users'];
  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/users', operationId: 'listUsers', summary: 'List the users (administrators)', tags: users, security, request: { query: z.object(PageQuery) }, responses: { 200: jsonResponse(pageOf(UserView, 'UserPage'), 'A page of users (administrators)'), ...commonErrors } }),
    async (c) => {
      const page = pageList(await listUsers(homeFor(deps, c)), (u) => u.name, c.req.valid('query'));
      linkNext(c, page.nextCursor);
      return c.json(page, 200);
    },
  );
  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/users',
        operationId: 'createUser',
        tags: users,
        security,
        summary: 'Create a user; the answer holds a one-time password, shown only this once',
        request: jsonBody(UserCreate),
        responses: { 201: jsonResponse(OneTimePassword, 'Created'), ...commonErrors, ...conflict, ...unprocessable },
      }),
    ),
    async (c) => c.json(await createUser(homeFor(deps, c), c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/users/{id}',
      operationId: 'updateUser',
      tags: users,
      security,
      summary: "Change a user's role (If-Match: only if still at that version)",
      request: { params: NameParam, headers: IfMatchHeader, ...jsonBody(UserPatch) },
      responses: { 200: { ...jsonResponse(UserView, 'Changed'), headers: ETagHeader }, ...commonErrors, ...notFound, ...editConflict, ...preconditionFailed, ...unprocessable },
    }),
    async (c) => {
      const precondition = preconditionOf(c);
      const home = homeFor(deps, c);
      return c.json(withETag(c, await setRole(home, await nameOf(home, 'users', c.req.valid('param').id), c.req.valid('json').role, precondition)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/users/{id}',
      operationId: 'removeUser',
      tags: users,
      security,
      summary: 'Remove a user; their tokens and sessions end (If-Match: only if still at that version)',
      request: { params: NameParam, headers: IfMatchHeader },
      responses: { 200: jsonResponse(UserRemoved, 'Removed, with how many of their tokens were revoked and sessions ended'), ...commonErrors, ...notFound, ...conflict, ...preconditionFailed },
    }),
    async (c) => {
      const precondition = preconditionOf(c);
      const home = homeFor(deps, c);
      return c.json(await removeUser(home, await nameOf(home, 'users', c.req.valid('param').id), precondition), 200);
    },
  );

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/users/{id}/reset-password',
        operationId: 'resetPassword',
        tags: users,
        security,
        summary: 'Give a user a new one-time password (in the answer, shown only this once) and end their sessions',
        request: { params: NameParam },
        responses: { 200: jsonResponse(OneTimePassword, 'Reset'), ...commonErrors, ...notFound },
      }),
    ),
    async (c) => c.json(await resetPassword(homeFor(deps, c), await nameOf(homeFor(deps, c), 'users', c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/sign-in-delays',
      operationId: 'unlockSignIns',
      tags: users,
      security,
      summary: "Lift the sign-in delays of a user (from every address) and/or of an address (to every account): someone held back by another's failed guesses",
      request: {
        query: z.object({
          user: z.string().min(1).max(100).optional().openapi({ description: 'The user name' }),
          address: z.string().min(1).max(100).optional().openapi({ description: 'The client address, as the audit log shows it' }),
        }),
      },
      responses: {
        200: jsonResponse(z.object({ user: z.string().nullable(), address: z.string().nullable(), cleared: z.number() }), 'Lifted (cleared: how many counts were removed)'),
        ...commonErrors,
        ...notFound,
        ...unprocessable,
      },
    }),
    async (c) => c.json(await unlockSignIns(homeFor(deps, c), c.req.valid('query')), 200),
  );

  const tokens = ['Tokens'];
  app.openapi(
    createRoute({ method: 'get', path: '/api/v1/tokens', operationId: 'listTokens', summary: "List the active API tokens (administrators: everyone's)", tags: tokens, security, request: { query: z.object(PageQuery) }, responses: { 200: jsonResponse(pageOf(TokenView, 'TokenPage'), "A page of active tokens (administrators: everyone's)"), ...commonErrors } }),
    async (c) => {
      const page = pageList(await listTokens(homeFor(deps, c)), (t) => t.id, c.req.valid('query'));
      linkNext(c, page.nextCursor);
      return c.json(page, 200);
    },
  );
  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/api/v1/tokens',
        operationId: 'createToken',
        tags: tokens,
        security,
        summary: 'Create an API token; the answer holds the token, shown only this once',
        request: jsonBody(TokenCreate),
        responses: { 201: jsonResponse(CreatedToken, 'Created'), ...commonErrors, ...notFound, ...conflict, ...unprocessable },
      }),
    ),
    async (c) => c.json(await createToken(homeFor(deps, c), c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({ method: 'delete', path: '/api/v1/tokens/{id}', operationId: 'revokeToken', summary: 'Revoke an API token', tags: tokens, security, request: { params: TokenParam }, responses: { 200: jsonResponse(TokenView, 'Revoked'), ...commonErrors, ...notFound, ...conflict } }),
    async (c) => c.json(await revokeToken(homeFor(deps, c), c.req.valid('param').id), 200),
  );
}
