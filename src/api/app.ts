import { OpenAPIHono } from '@hono/zod-openapi';
import { appliedMigrations, SCHEMA_VERSION } from '../store/metadata/db.ts';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { getPath } from 'hono/utils/url';
import type { Home } from '../app/home.ts';
import { MICROSOFT_CALLBACK_PATH } from '../app/oauth.ts';
import type { Actor } from '../domain/model.ts';
import type { RunDispatcher } from '../queue/dispatcher.ts';
import type { Scheduler } from '../server/scheduler.ts';
import { registerDestinationSchemas } from './destination-schemas.ts';
import { clientAddress, NO_TRUSTED_PROXIES, type TrustedProxies } from './client-address.ts';
import { sendError, sendProblem, Unauthenticated } from './errors.ts';
import { zodIssues } from '../app/validation.ts';
import { idempotencyMiddleware, takesIdempotencyKey } from './idempotency.ts';
import type { Metrics } from './metrics.ts';
import { rateLimitMiddleware, type ApiRateLimits, type WindowCounter } from './rate-limit.ts';
import { registerConnectionRoutes } from './routes/connections.ts';
import { registerDataRoutes } from './routes/data.ts';
import { registerExportRoutes } from './routes/exports.ts';
import { registerRunRoutes } from './routes/runs.ts';
import { registerNotifyRoutes } from './routes/notify.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAccountRoutes } from './routes/accounts.ts';
import { DEFAULT_WEB_ROOT, webAppHandler } from './static.ts';
import { registerScheduleRoutes } from './routes/schedule.ts';
import { registerStatusRoutes } from './routes/status.ts';
import { registerConfigRoutes } from './routes/config.ts';
import { registerOverviewRoutes } from './routes/overview.ts';

/** How the API learns who is calling: an API token, or a browser session cookie. */
export interface Authenticator {
  byToken(token: string, address: string | undefined): Promise<Actor | null>;
  /** The session's user, and a check of the CSRF token that every cookie-authenticated write must echo. */
  bySession(
    sessionId: string,
    address: string | undefined,
  ): Promise<{ actor: Actor; user?: { mustChangePassword: boolean }; checkCsrf(token: string | undefined): boolean } | null>;
}

export interface ApiDeps {
  /** The server's home: stores and services shared by every request; each request acts as its caller. */
  home: Home;
  auth: Authenticator;
  runs: RunDispatcher;
  metrics: Metrics;
  /** The built web app (vite build output) served for paths outside /api; default web/dist of this package. */
  webRoot?: string;
  /**
   * The URL browsers reach this server at (OUTFLOW_PUBLIC_URL, else the address it listens on): the OAuth
   * callback and the page after it live under it. Absent (in-process tests): the request's own origin.
   */
  publicUrl?: () => string;
  /** API rate limits (per token or session, per address); absent: none (in-process tests of single routes). */
  rateLimits?: { limits: ApiRateLimits; counter: WindowCounter };
  /** Told when a schedule changes, so it looks at the new one at once. Absent in tests without one. */
  scheduler?: Pick<Scheduler, 'wake'>;
  /** GET /metrics answers only with a valid API token: the server listens beyond loopback. */
  metricsNeedToken?: boolean;
  /** Reverse proxies whose X-Forwarded-For is believed (OUTFLOW_TRUSTED_PROXIES); default none. */
  trustedProxies?: TrustedProxies;
  /**
   * The server's local CLI token (`<home>/server.json`): `renew` answers a working one to a caller who shows the
   * renew key written beside it, else null. Absent: no server.json (in-process tests).
   */
  localToken?: { renew(renewKey: string): Promise<string | null> };
}

export type ApiEnv = { Variables: { actor: Actor; address: string | undefined } };
export type ApiApp = OpenAPIHono<ApiEnv>;

export const SESSION_COOKIE = 'outflow_session';
export const CSRF_HEADER = 'x-csrf-token';
/** JSON bodies are small; entity uploads stream through their own route without this limit. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * The API's versioned base path. Every route is documented under it; `/api/…` is an alias of `/api/v1/…`
 * (scripts and the redirect URI registered at Microsoft keep working). A version 2 would live beside it.
 */
export const API_BASE = '/api/v1';

/**
 * The path a request is routed by: `/api/x` is served as `/api/v1/x`. Done before routing (Hono's getPath),
 * so handlers, the authentication rules and the metrics' route labels see one path per operation.
 */
export function routedPath(request: Request): string {
  const path = getPath(request);
  if (path === '/api' || (path.startsWith('/api/') && path !== API_BASE && !path.startsWith(`${API_BASE}/`))) return API_BASE + path.slice('/api'.length);
  return path;
}

/** Routes anyone may call: signing in (with a password, or the local CLI's renew key), and reading the API's own description. */
const PUBLIC = new Set([`POST ${API_BASE}/session`, `POST ${API_BASE}/local-token`, `GET ${API_BASE}/openapi.json`, `GET ${API_BASE}${MICROSOFT_CALLBACK_PATH.slice('/api'.length)}`]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * What a session signed in with a one-time password may do before its user chooses a password: read the
 * session, change the password, sign out. Without this the "one-time" password kept working for every
 * route of the API, indefinitely; only the web app's page asked for a new one.
 */
const BEFORE_PASSWORD_CHANGE = new Set([`GET ${API_BASE}/session`, `DELETE ${API_BASE}/session`, `PUT ${API_BASE}/session/password`]);

export function createApi(deps: ApiDeps): ApiApp {
  const app: ApiApp = new OpenAPIHono<ApiEnv>({
    getPath: routedPath,
    // A body or parameter that does not match the route's schema: 400 with every issue, nothing done. Its own
    // code, invalid_request, apart from the 422 invalid_input of a well-formed request the use case refuses.
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = zodIssues(result.error);
        const summary = issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
        return sendProblem(c, 400, 'invalid_request', `The request is invalid: ${summary}.`, { issues });
      }
      return undefined;
    },
  });

  /** The client's address: the socket's peer, or what a trusted proxy says it forwarded for (client-address.ts). */
  const requestAddress = (c: Context): string | undefined => {
    const peer = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
    return clientAddress(peer, c.req.header('x-forwarded-for'), deps.trustedProxies ?? NO_TRUSTED_PROXIES);
  };

  app.onError((error, c) => sendError(c, error, deps.home.log));
  app.notFound((c) => sendProblem(c, 404, 'not_found', `No route ${c.req.method} ${c.req.path}. The API is described at ${API_BASE}/openapi.json.`));

  app.use('*', deps.metrics.httpMiddleware());

  app.get('/healthz', async (c) => {
    try {
      await deps.home.profiles.listEntities();
      await deps.home.db.selectFrom('connections').select('id').limit(1).execute();
      return c.json({ ok: true });
    } catch (error) {
      deps.home.log.error({ err: error }, 'health check failed');
      return c.json({ ok: false }, 503);
    }
  });
  // Ready (for a load balancer or an orchestrator): the stores answer, the metadata schema is this version's, and
  // runs can execute. Apart from /healthz (the process is alive), so a restart is not mistaken for a failure.
  app.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    const check = async (name: string, fn: () => Promise<string | null>) => {
      try {
        checks[name] = (await fn()) ?? 'ok';
      } catch (error) {
        checks[name] = `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      }
    };
    await check('metadata', async () => {
      await deps.home.db.selectFrom('connections').select('id').limit(1).execute();
      return null;
    });
    await check('migrations', async () => {
      const applied = (await appliedMigrations(deps.home.db, deps.home.metadata.dialect)).at(-1);
      return applied === SCHEMA_VERSION ? null : `the schema is at ${applied ?? 'none'}, this version needs ${SCHEMA_VERSION}`;
    });
    await check('profiles', async () => {
      await deps.home.profiles.listEntities();
      return null;
    });
    await check('runner', () => deps.runs.notReady());
    const ready = Object.values(checks).every((v) => v === 'ok');
    if (!ready) deps.home.log.warn({ checks }, 'not ready');
    return c.json({ ready, checks }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    if (deps.metricsNeedToken) {
      // Beyond loopback anyone on the network could read the run counts, destinations and routes in use.
      const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
      if (!match || !(await deps.auth.byToken(match[1]!, undefined))) {
        throw new Unauthenticated(
          'GET /metrics needs "Authorization: Bearer <token>" while the server listens beyond loopback: give your scraper an API token (`outflow token create --name prometheus`; Prometheus: authorization.credentials).',
        );
      }
    }
    c.header('Content-Type', deps.metrics.contentType);
    return c.body(await deps.metrics.render());
  });

  if (deps.rateLimits) {
    app.use(
      '/api/*',
      rateLimitMiddleware({
        ...deps.rateLimits,
        sessionCookie: SESSION_COOKIE,
        address: (c) => requestAddress(c),
        log: deps.home.log,
      }),
    );
  }

  app.use('/api/*', async (c, next) => {
    if (c.req.path.startsWith(`${API_BASE}/entities/`) && c.req.method === 'PUT') return next();
    // No route reads the body of a GET: bodyLimit's look at the body makes @hono/node-server build a full
    // Request for it, which was ~8 % of the server's CPU under a flood of reads (profile in bench/README.md).
    if (SAFE_METHODS.has(c.req.method)) return next();
    return bodyLimit({
      maxSize: MAX_JSON_BODY_BYTES,
      onError: (ctx) => {
        // The rest of the body is never read: on a kept-alive connection it would be parsed as the next request
        // (which then died mid-answer). Closing after the answer ends the exchange cleanly.
        ctx.header('Connection', 'close');
        return sendProblem(ctx, 413, 'payload_too_large', `The request body is over ${MAX_JSON_BODY_BYTES / 1024} KiB; send less at once.`);
      },
    })(c, next);
  });

  // Authentication: a bearer token, or the session cookie plus its CSRF token on writes.
  app.use('/api/*', async (c, next) => {
    const address = requestAddress(c);
    c.set('address', address);
    if (PUBLIC.has(`${c.req.method} ${c.req.path}`)) return next();
    const header = c.req.header('authorization');
    let actor: Actor | null = null;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new Unauthenticated('The Authorization header must be "Bearer <token>".');
      actor = await deps.auth.byToken(match[1]!, address);
      if (!actor) throw new Unauthenticated('The API token is unknown or revoked. Create one with `outflow token create`.');
    } else {
      const sessionId = getCookie(c, SESSION_COOKIE);
      if (!sessionId) throw new Unauthenticated('Sign in first: POST /api/session, or send "Authorization: Bearer <token>".');
      const session = await deps.auth.bySession(sessionId, address);
      if (!session) throw new Unauthenticated('The session has ended. Sign in again.');
      if (!SAFE_METHODS.has(c.req.method) && !session.checkCsrf(c.req.header(CSRF_HEADER))) {
        return sendProblem(c, 403, 'csrf_failed', `A write with a session cookie needs the ${CSRF_HEADER} header that sign-in returned.`);
      }
      if (session.user?.mustChangePassword && !BEFORE_PASSWORD_CHANGE.has(`${c.req.method} ${c.req.path}`)) {
        return sendProblem(
          c,
          403,
          'password_change_required',
          'You signed in with a one-time password: choose your own first (the web app asks for it; for scripts, PUT /api/v1/session/password with {"currentPassword", "newPassword"}).',
        );
      }
      actor = session.actor;
    }
    c.set('actor', { ...actor, via: 'api', address });
    return next();
  });

  // A query parameter the operation does not take is refused, naming it: `offset` or `page` used to be ignored,
  // so a client paging by them got the same first page again and again. Rules come from the document's routes.
  let queryRules: QueryRule[] | undefined;
  const ruleFor = (method: string, path: string): QueryRule | undefined => {
    queryRules ??= app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [queryRule(d.route)] : []));
    const lower = method === 'HEAD' ? 'get' : method.toLowerCase();
    return queryRules.find((r) => r.method === lower && r.pattern.test(path));
  };
  app.use('/api/*', async (c, next) => {
    const rule = ruleFor(c.req.method, c.req.path);
    if (rule?.allowed) {
      const unknown = [...new Set(new URL(c.req.url).searchParams.keys())].filter((key) => !rule.allowed!.has(key));
      if (unknown.length > 0) {
        const takes = rule.allowed.size > 0 ? `It takes ${[...rule.allowed].join(', ')}.` : 'It takes none.';
        return sendProblem(c, 400, 'invalid_request', `Unknown query parameter${unknown.length > 1 ? 's' : ''} for ${c.req.method} ${rule.path}: ${unknown.join(', ')}. ${takes}`, {
          issues: unknown.map((key) => ({ path: key, message: 'not a query parameter of this operation' })),
        });
      }
    }
    return next();
  });

  // A retried POST that creates or starts something is done once (idempotency.ts); the operations that take a
  // key are those whose document declares the header.
  app.use('/api/*', idempotencyMiddleware({ home: deps.home, operationOf: (method, path) => ruleFor(method, path)?.idempotentOperation ?? null }));

  registerConnectionRoutes(app, deps);
  registerExportRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerNotifyRoutes(app, deps);
  registerDataRoutes(app, deps);
  registerAdminRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerScheduleRoutes(app, deps);
  registerStatusRoutes(app, deps);
  registerConfigRoutes(app, deps);
  registerOverviewRoutes(app, deps);

  app.doc31(`${API_BASE}/openapi.json`, (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'Outflow API',
      version: '1',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description: [
        'Connections, exports, runs, segments and accounts of an Outflow server.',
        '',
        `Every path is under \`${API_BASE}\`; \`/api/…\` is an alias of \`${API_BASE}/…\` that answers the same (the version is only in the path).`,
        'Authenticate with `Authorization: Bearer <token>` (`outflow token create`), or sign in with `POST /api/v1/session` for a session cookie;',
        'cookie-authenticated writes send the `X-CSRF-Token` that sign-in returned.',
      ].join('\n'),
    },
    // The server's own address (OUTFLOW_PUBLIC_URL behind a proxy): paths are absolute, so this is the origin.
    servers: [{ url: publicUrlFor(deps, c), description: 'This Outflow server' }],
    tags: TAGS,
  }));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE });
  registerDestinationSchemas(app.openAPIRegistry);
  // Last, so that every API route and /healthz, /metrics come first; unknown /api paths still answer JSON 404.
  app.on(['GET', 'HEAD'], '*', webAppHandler(deps.webRoot ?? DEFAULT_WEB_ROOT));
  return app;
}

interface QueryRule {
  method: string;
  path: string;
  pattern: RegExp;
  /** The query parameters the operation takes; null when it takes any (the OAuth callback: the authority's). */
  allowed: Set<string> | null;
  /** The operationId when the operation takes an Idempotency-Key, else null. */
  idempotentOperation: string | null;
}

function queryRule(route: { method: string; path: string; operationId?: string; request?: { query?: unknown; headers?: unknown } }): QueryRule {
  const pattern = new RegExp(`^${route.path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
  const query = route.request?.query as { shape?: Record<string, unknown>; _zod?: { def?: { catchall?: { _zod?: { def?: { type?: string } } } } } } | undefined;
  const catchall = query?._zod?.def?.catchall?._zod?.def?.type;
  const allowed = catchall && catchall !== 'never' ? null : new Set(Object.keys(query?.shape ?? {}));
  const idempotentOperation = takesIdempotencyKey(route) ? (route.operationId ?? `${route.method} ${route.path}`) : null;
  return { method: route.method, path: route.path, pattern, allowed, idempotentOperation };
}

/** Every tag an operation uses, declared once with what it groups (the order is the document's). */
const TAGS = [
  { name: 'Session', description: 'Signing in and out of the web app, and your own password' },
  { name: 'Connections', description: 'Destination accounts (credentials are write-only) and Microsoft Advertising sign-in' },
  { name: 'Exports', description: 'What goes where: sources, field mapping and destination settings; runs start here' },
  { name: 'Runs', description: 'Run history, progress, rejections, cancel and resume' },
  { name: 'Segments and entities', description: 'Profile data: entities loaded or attached, and segments filtered from them' },
  { name: 'Schedule', description: "The home's refresh schedule, exports' own schedules, pause and resume" },
  { name: 'Alerts', description: "The home's alert webhook" },
  { name: 'Configuration', description: 'Outflow as code: the home as a YAML file, planned and applied' },
  { name: 'Destinations', description: 'The destination types and the JSON Schema of their settings' },
  { name: 'Users', description: 'Accounts and roles (administrators)' },
  { name: 'Tokens', description: 'API tokens' },
  { name: 'Audit', description: 'Who did what, when and from where (administrators)' },
  { name: 'Status', description: 'The run queue and its workers, and the overview of runs, destinations and what needs attention' },
  { name: 'Backup', description: 'A consistent copy of the home, taken while it runs (administrators)' },
];

/** The request's home: the server's stores and services, acting as the authenticated caller. */
export function homeFor(deps: ApiDeps, c: { get(key: 'actor'): Actor }): Home {
  return { ...deps.home, actor: c.get('actor') };
}

/** The server's public URL, without a trailing slash (see ApiDeps.publicUrl). */
export function publicUrlFor(deps: ApiDeps, c: { req: { url: string } }): string {
  return (deps.publicUrl?.() ?? new URL(c.req.url).origin).replace(/\/+$/, '');
}
