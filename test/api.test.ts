import fs from 'node:fs';
import path from 'node:path';
import type { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, SESSION_COOKIE, type ApiApp } from '../src/api/app.ts';
import { createMetrics } from '../src/api/metrics.ts';
import { createConnection, removeConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { pauseExport, setExportSchedule } from '../src/app/schedule.ts';
import { openHome, type Home } from '../src/app/home.ts';
import { authenticateSession, authenticateToken, createToken, createUser, ensureFirstAdmin } from '../src/app/users.ts';
import { startIterableFake, type IterableFake } from '../src/destinations/iterable/fake-iterable.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { updateUserRole, findUserByName } from '../src/store/metadata/users.ts';
import { createLogger } from '../src/lib/logger.ts';
import { RunManager } from '../src/server/run-manager.ts';
import { getRun } from '../src/store/metadata/runs.ts';
import { tempDir } from './support/cli.ts';
import { sha256 } from '../src/lib/credentials.ts';

const ITERABLE_KEY = 'api-test-iterable-key-5c1e9b';
const ADMIN_PASSWORD = 'api-test-admin-password-8d2f';
const SECRETS: string[] = [ITERABLE_KEY, ADMIN_PASSWORD, 'api-test-hook-secret', FAKE_DEFAULTS.clientSecret, FAKE_DEFAULTS.developerToken];

type Role = 'anonymous' | 'viewer' | 'contributor' | 'admin';
const ROLES: Role[] = ['anonymous', 'viewer', 'contributor', 'admin'];

let dir: string;
let home: Home;
let admin: Home;
let app: ApiApp;
let runs: RunManager;
let iterable: IterableFake;
let microsoft: MicrosoftAdvertisingFake;
const tokens: Partial<Record<Role, string>> = {};
const passwords: Record<string, string> = {};
const logLines: string[] = [];
/** Every response body and header seen in this file, scanned for secrets at the end. */
const seen: string[] = [];

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** Calls the API in process (no port), as `role`; checks the answer against the route's documented responses. */
async function call(role: Role, method: string, url: string, options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (role !== 'anonymous') headers.authorization = `Bearer ${tokens[role]}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await app.request(url, { method, headers, body });
  const text = await response.text();
  seen.push(text, JSON.stringify([...response.headers.entries()]));
  const parsed = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  checkDocumented(method, url, response.status, parsed);
  return { status: response.status, body: parsed, headers: response.headers };
}

/** The zod schemas of every route's responses, from the same registry that generates the OpenAPI document. */
function routeDefinitions() {
  return app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [d.route] : []));
}

function matchRoute(method: string, url: string) {
  // `/api/x` is an alias of `/api/v1/x`: both are matched against the documented path.
  const pathname = new URL(url, 'http://x').pathname.replace(/^\/api\/(?!v1\/)/, '/api/v1/');
  return routeDefinitions().find((r) => {
    if (r.method !== method.toLowerCase()) return false;
    const pattern = new RegExp(`^${r.path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return pattern.test(pathname);
  });
}

function checkDocumented(method: string, url: string, status: number, body: unknown): void {
  if (!url.startsWith('/api/') || /^\/api\/(v1\/)?openapi\.json$/.test(url)) return;
  const route = matchRoute(method, url);
  if (!route) {
    expect(status, `${method} ${url} has no documented route`).toBe(404);
    return;
  }
  const response = (route.responses as Record<string, { content?: Record<string, { schema: z.ZodType }> }>)[String(status)];
  expect(response, `${method} ${route.path} answered ${status}, which its OpenAPI entry does not document`).toBeDefined();
  // Errors are problem details (application/problem+json), answers JSON: both are checked against their schema.
  const schema = (response?.content?.['application/json'] ?? response?.content?.['application/problem+json'])?.schema;
  if (schema) {
    const result = schema.safeParse(body);
    expect(result.success, `${method} ${route.path} ${status} body does not match its schema: ${result.success ? '' : JSON.stringify(result.error.issues.slice(0, 3))}`).toBe(true);
  }
}

/** What a refused call must leave untouched: every resource table (audit entries and sessions aside). */
async function snapshot(): Promise<string> {
  const tables = ['connections', 'exports', 'segments', 'users', 'runs'] as const;
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = await home.db.selectFrom(table).selectAll().orderBy('id').execute();
  out.tokens = (await home.db.selectFrom('api_tokens' as never).select(['id', 'revoked_at'] as never).orderBy('id' as never).execute()) as unknown;
  out.schedules = await home.db.selectFrom('schedules').selectAll().orderBy('owner').execute();
  out.entities = (await home.profiles.listEntities()).map((e) => [e.name, e.rows, e.loadedAt]);
  return JSON.stringify(out);
}

async function waitForRuns(): Promise<void> {
  for (let i = 0; i < 200 && runs.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

beforeAll(async () => {
  dir = tempDir('api');
  iterable = await startIterableFake({ projects: [{ apiKey: ITERABLE_KEY }] });
  microsoft = await startMicrosoftAdvertisingFake();
  const log = createLogger({ stream: { write: (line: string) => (logLines.push(line), true) } as unknown as NodeJS.WritableStream });
  home = await openHome({ dir, log, actor: { name: 'outflow', role: 'admin', via: 'api' }, env: { ...process.env, OUTFLOW_DATABASE_URL: '' } });
  await ensureFirstAdmin(home, { OUTFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD });
  admin = { ...home, actor: { name: 'admin', role: 'admin', via: 'api' } };
  passwords.admin = ADMIN_PASSWORD;
  for (const role of ['viewer', 'contributor'] as const) {
    passwords[role] = (await createUser(admin, { name: role === 'viewer' ? 'vera' : 'carl', role })).password;
    tokens[role] = (await createToken(admin, { user: role === 'viewer' ? 'vera' : 'carl', name: 'tests' })).token;
  }
  tokens.admin = (await createToken(admin, { name: 'tests' })).token;
  SECRETS.push(...Object.values(tokens) as string[], ...Object.values(passwords));

  const csv = path.join(dir, 'customers.csv');
  fs.writeFileSync(csv, ['profile_id,email,tier', ...Array.from({ length: 30 }, (_, i) => `${i + 1},user${i + 1}@example.com,${i % 3 === 0 ? 'gold' : 'silver'}`)].join('\n') + '\n');
  await loadEntity(admin, 'Customer', csv, { key: 'profile_id' });
  await createSegment(admin, { name: 'gold', entity: 'Customer', where: "tier = 'gold'" });
  await refreshSegments(admin);
  const iterableConfig = { apiKey: ITERABLE_KEY, baseUrl: iterable.url };
  await createConnection(admin, { type: 'iterable', name: 'admins-only', config: iterableConfig, acceptPrivacyTerms: true });
  await createConnection(admin, { type: 'iterable', name: 'shared', config: iterableConfig, acceptPrivacyTerms: true, usableBy: 'admins-and-contributors' });
  // Saved without a refresh token: "Sign in with Microsoft Advertising" gets one.
  await createConnection(admin, { type: 'microsoft-advertising', name: 'msads', config: microsoftConfig(), acceptPrivacyTerms: true });
  await createExport(admin, { name: 'to-admins-only', connection: 'admins-only', segments: ['gold'], config: { mapping: { email: 'email' } } });
  await createExport(admin, { name: 'to-shared', connection: 'shared', segments: ['gold'], config: { mapping: { email: 'email' } } });

  runs = new RunManager(home);
  const metrics = createMetrics(home.db);
  home.metrics = metrics;
  app = createApi({ home, auth: { byToken: (t) => authenticateToken(home.db, t), bySession: (id) => authenticateSession(home.db, id) }, runs, metrics });
});

afterAll(async () => {
  await runs?.stopAll();
  await home?.close();
  await iterable?.close();
  await microsoft?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A confidential (web) app registration, as a server's sign-in uses: the code exchange sends the client secret. */
function microsoftConfig() {
  return {
    clientId: FAKE_DEFAULTS.clientId,
    clientSecret: FAKE_DEFAULTS.clientSecret,
    developerToken: FAKE_DEFAULTS.developerToken,
    baseUrl: microsoft.baseUrl,
    authorityUrl: microsoft.authorityUrl,
    customerId: FAKE_DEFAULTS.customerId,
    accountId: FAKE_DEFAULTS.accountId,
  };
}

type Expect = [anonymous: number, viewer: number, contributor: number, admin: number];

interface Case {
  name: string;
  method: string;
  /** Builds the request; may create what a successful call consumes (a throwaway export to remove). */
  prepare(role: Role): Promise<{ url: string; body?: unknown; raw?: string; headers?: Record<string, string> }>;
  expect: Expect;
}

const throwawayConnection = async (usableBy: 'admins' | 'admins-and-contributors' = 'admins') => {
  const name = unique('conn');
  await createConnection(admin, { type: 'iterable', name, config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, acceptPrivacyTerms: true, usableBy });
  return name;
};
const throwawayExport = async (connection: string) => {
  const name = unique('exp');
  await createExport(admin, { name, connection, segments: ['gold'], config: { mapping: { email: 'email' } } });
  return name;
};

const cases: Case[] = [
  { name: 'list connections', method: 'GET', prepare: async () => ({ url: '/api/connections' }), expect: [401, 403, 200, 200] },
  { name: 'show an admins-only connection', method: 'GET', prepare: async () => ({ url: '/api/connections/admins-only' }), expect: [401, 403, 404, 200] },
  { name: 'show a shared connection', method: 'GET', prepare: async () => ({ url: '/api/connections/shared' }), expect: [401, 403, 200, 200] },
  {
    name: 'create a connection',
    method: 'POST',
    prepare: async () => ({ url: '/api/connections', body: { type: 'iterable', name: unique('new-conn'), config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, acceptPrivacyTerms: true } }),
    expect: [401, 403, 403, 201],
  },
  { name: 'remove a connection', method: 'DELETE', prepare: async () => ({ url: `/api/connections/${await throwawayConnection()}` }), expect: [401, 403, 403, 200] },
  { name: 'verify a connection', method: 'POST', prepare: async () => ({ url: '/api/connections/shared/verify' }), expect: [401, 403, 403, 200] },
  { name: 'start a Microsoft sign-in', method: 'POST', prepare: async () => ({ url: '/api/connections/msads/oauth/start' }), expect: [401, 403, 403, 200] },
  { name: 'start a Microsoft sign-in on an Iterable connection', method: 'POST', prepare: async () => ({ url: '/api/connections/shared/oauth/start' }), expect: [401, 403, 403, 422] },
  { name: 'list exports', method: 'GET', prepare: async () => ({ url: '/api/exports' }), expect: [401, 200, 200, 200] },
  { name: 'show an export', method: 'GET', prepare: async () => ({ url: '/api/exports/to-admins-only' }), expect: [401, 200, 200, 200] },
  {
    name: 'create an export on an admins-only connection',
    method: 'POST',
    prepare: async () => ({ url: '/api/exports', body: { name: unique('new-exp'), connection: 'admins-only', segments: ['gold'], config: { mapping: { email: 'email' } } } }),
    expect: [401, 403, 403, 201],
  },
  {
    name: 'create an export on a shared connection',
    method: 'POST',
    prepare: async () => ({ url: '/api/exports', body: { name: unique('new-exp'), connection: 'shared', segments: ['gold'], config: { mapping: { email: 'email' } } } }),
    expect: [401, 403, 201, 201],
  },
  { name: 'remove an export on an admins-only connection', method: 'DELETE', prepare: async () => ({ url: `/api/exports/${await throwawayExport('admins-only')}` }), expect: [401, 403, 403, 200] },
  { name: 'remove an export on a shared connection', method: 'DELETE', prepare: async () => ({ url: `/api/exports/${await throwawayExport('shared')}` }), expect: [401, 403, 200, 200] },
  { name: 'run an export on an admins-only connection', method: 'POST', prepare: async () => ({ url: `/api/exports/${await throwawayExport('admins-only')}/runs` }), expect: [401, 403, 403, 202] },
  { name: 'run an export on a shared connection', method: 'POST', prepare: async () => ({ url: `/api/exports/${await throwawayExport('shared')}/runs` }), expect: [401, 403, 202, 202] },
  { name: 'list runs', method: 'GET', prepare: async () => ({ url: '/api/runs' }), expect: [401, 200, 200, 200] },
  { name: 'list failed runs since a date', method: 'GET', prepare: async () => ({ url: '/api/runs?status=failed&since=2026-11-01' }), expect: [401, 200, 200, 200] },
  { name: 'list runs with an unknown state', method: 'GET', prepare: async () => ({ url: '/api/runs?status=broken' }), expect: [401, 422, 422, 422] },
  {
    name: 'download the rejections of a run',
    method: 'GET',
    prepare: async () => {
      const run = await call('admin', 'POST', `/api/exports/${await throwawayExport('shared')}/runs`);
      await waitForRuns();
      return { url: `/api/runs/${run.body.id}/rejections.csv` };
    },
    expect: [401, 403, 200, 200],
  },
  { name: 'list segments', method: 'GET', prepare: async () => ({ url: '/api/segments' }), expect: [401, 200, 200, 200] },
  { name: 'create a segment', method: 'POST', prepare: async () => ({ url: '/api/segments', body: { name: unique('seg'), entity: 'Customer', where: "tier = 'silver'" } }), expect: [401, 403, 201, 201] },
  { name: 'refresh a segment', method: 'POST', prepare: async () => ({ url: '/api/segments/gold/refresh' }), expect: [401, 403, 200, 200] },
  {
    name: 'remove an unused segment',
    method: 'DELETE',
    prepare: async () => {
      const name = unique('seg');
      await createSegment(admin, { name, entity: 'Customer', where: "tier = 'silver'" });
      return { url: `/api/segments/${name}` };
    },
    expect: [401, 403, 200, 200],
  },
  { name: 'list entities', method: 'GET', prepare: async () => ({ url: '/api/entities' }), expect: [401, 403, 200, 200] },
  { name: 'sample values of an entity', method: 'GET', prepare: async () => ({ url: '/api/entities/Customer/samples' }), expect: [401, 403, 200, 200] },
  { name: 'more sample values than allowed', method: 'GET', prepare: async () => ({ url: '/api/entities/Customer/samples?limit=50' }), expect: [401, 400, 400, 400] },
  { name: 'the data manifest of an export', method: 'GET', prepare: async () => ({ url: '/api/exports/to-admins-only/manifest' }), expect: [401, 200, 200, 200] },
  {
    name: 'load an entity',
    method: 'PUT',
    prepare: async () => ({ url: `/api/entities/${unique('Other').replace('-', '_')}?key=id`, raw: 'id,email\n1,a@example.com\n', headers: { 'content-type': 'text/csv' } }),
    expect: [401, 403, 403, 200],
  },
  { name: 'preview a segment', method: 'POST', prepare: async () => ({ url: '/api/segments/preview', body: { where: "tier = 'gold'" } }), expect: [401, 403, 200, 200] },
  { name: 'list destinations', method: 'GET', prepare: async () => ({ url: '/api/destinations' }), expect: [401, 200, 200, 200] },
  { name: 'list users', method: 'GET', prepare: async () => ({ url: '/api/users' }), expect: [401, 403, 403, 200] },
  { name: 'create a user', method: 'POST', prepare: async () => ({ url: '/api/users', body: { name: unique('user'), role: 'viewer' } }), expect: [401, 403, 403, 201] },
  {
    name: "change a user's role",
    method: 'PATCH',
    prepare: async () => {
      const name = unique('user');
      await createUser(admin, { name, role: 'viewer' });
      return { url: `/api/users/${name}`, body: { role: 'contributor' } };
    },
    expect: [401, 403, 403, 200],
  },
  {
    name: 'remove a user',
    method: 'DELETE',
    prepare: async () => {
      const name = unique('user');
      await createUser(admin, { name, role: 'viewer' });
      return { url: `/api/users/${name}` };
    },
    expect: [401, 403, 403, 200],
  },
  { name: 'list own tokens', method: 'GET', prepare: async () => ({ url: '/api/tokens' }), expect: [401, 200, 200, 200] },
  { name: 'create an own token', method: 'POST', prepare: async () => ({ url: '/api/tokens', body: { name: unique('token') } }), expect: [401, 201, 201, 201] },
  {
    name: "revoke another user's token",
    method: 'DELETE',
    prepare: async () => {
      const user = unique('user');
      await createUser(admin, { name: user, role: 'viewer' });
      const token = await createToken(admin, { user, name: 'victim' });
      return { url: `/api/tokens/${token.id}` };
    },
    // 404, like a token that does not exist: whether another user's token exists is nobody else's business.
    expect: [401, 404, 404, 200],
  },
  { name: 'read the audit log', method: 'GET', prepare: async () => ({ url: '/api/audit' }), expect: [401, 403, 403, 200] },
  { name: 'show the refresh schedule', method: 'GET', prepare: async () => ({ url: '/api/schedule' }), expect: [401, 200, 200, 200] },
  {
    name: 'set the refresh schedule',
    method: 'PUT',
    prepare: async () => ({ url: '/api/schedule', body: { days: 'mon-fri', times: ['06:00', '18:00'], timeZone: 'Europe/Paris' } }),
    expect: [401, 403, 403, 200],
  },
  { name: 'turn the refresh schedule off', method: 'DELETE', prepare: async () => ({ url: '/api/schedule' }), expect: [401, 403, 403, 200] },
  { name: 'refresh every segment and export now', method: 'POST', prepare: async () => ({ url: '/api/refresh' }), expect: [401, 403, 403, 202] },
  {
    name: 'schedule an export on an admins-only connection',
    method: 'PUT',
    prepare: async () => ({ url: `/api/exports/${await throwawayExport('admins-only')}/schedule`, body: { cron: '30 2 * * *', timeZone: 'America/New_York' } }),
    expect: [401, 403, 403, 200],
  },
  {
    name: 'schedule an export on a shared connection',
    method: 'PUT',
    prepare: async () => ({ url: `/api/exports/${await throwawayExport('shared')}/schedule`, body: { cron: '30 2 * * *', timeZone: 'America/New_York' } }),
    expect: [401, 403, 200, 200],
  },
  {
    name: "take an export's own schedule away",
    method: 'DELETE',
    prepare: async () => {
      const name = await throwawayExport('shared');
      await setExportSchedule(admin, name, { cron: '0 6 * * *', timeZone: 'UTC' });
      return { url: `/api/exports/${name}/schedule` };
    },
    expect: [401, 403, 200, 200],
  },
  { name: 'pause an export on an admins-only connection', method: 'POST', prepare: async () => ({ url: `/api/exports/${await throwawayExport('admins-only')}/pause` }), expect: [401, 403, 403, 200] },
  { name: 'pause an export on a shared connection', method: 'POST', prepare: async () => ({ url: `/api/exports/${await throwawayExport('shared')}/pause` }), expect: [401, 403, 200, 200] },
  {
    name: 'resume an export on a shared connection',
    method: 'POST',
    prepare: async () => {
      const name = await throwawayExport('shared');
      await pauseExport(admin, name);
      return { url: `/api/exports/${name}/resume` };
    },
    expect: [401, 403, 200, 200],
  },
  { name: 'show the alert webhook', method: 'GET', prepare: async () => ({ url: '/api/notify' }), expect: [401, 403, 403, 200] },
  { name: 'set the alert webhook', method: 'PUT', prepare: async () => ({ url: '/api/notify', body: { url: 'https://hooks.example.com/services/T1/B2/api-test-hook-secret', on: ['failed'] } }), expect: [401, 403, 403, 200] },
  { name: 'turn the alert webhook off', method: 'DELETE', prepare: async () => ({ url: '/api/notify' }), expect: [401, 403, 403, 200] },
];

describe('the permission matrix', () => {
  for (const c of cases) {
    it.each(ROLES.map((role, i) => [role, c.expect[i]!] as const))(`${c.method} ${c.name}: %s gets %i`, async (role, status) => {
      const request = await c.prepare(role);
      const before = await snapshot();
      const answer = await call(role, c.method, request.url, request);
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      if (status >= 400) {
        expect(answer.body.detail).toEqual(expect.any(String));
        // RFC 9457 problem details, with its media type, on every error.
        expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(answer.body).toMatchObject({ type: `urn:outflow:problem:${answer.body.code}`, title: expect.any(String), status });
        expect(await snapshot()).toBe(before);
      }
      if (status === 403) expect(answer.body.detail).toMatch(/administrator|contributor/i);
      // A refused write leaves a trace: who, what and why, in the audit log.
      if (status === 403 && c.method !== 'GET' && !c.name.startsWith('preview')) {
        const denied = await home.db.selectFrom('audit_log').selectAll().where('outcome', '=', 'denied').where('actor', '=', role === 'viewer' ? 'vera' : 'carl').execute();
        expect(denied.map((e) => JSON.parse(e.details).reason)).toContain(answer.body.detail);
      }
      // RFC 9110: a 401 says how to authenticate.
      if (status === 401) expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="outflow"');
      await waitForRuns();
    });
  }

  it('shows contributors only the connections usable by contributors, without their settings', async () => {
    const answer = await call('contributor', 'GET', '/api/connections');
    expect(answer.body.items.map((c: { name: string }) => c.name)).not.toContain('admins-only');
    // Whether it works and since when (issue 15.7: a verified connection read "not verified"), not its settings or who set it up.
    await call('admin', 'POST', '/api/connections/shared/verify');
    const shared = answer.body.items.find((c: { name: string }) => c.name === 'shared');
    const again = (await call('contributor', 'GET', '/api/connections/shared')).body;
    expect(again).toEqual({
      id: expect.stringMatching(/^conn_/),
      name: 'shared',
      type: 'iterable',
      usableBy: 'admins-and-contributors',
      createdAt: expect.any(String),
      lastVerification: { ok: true, at: expect.any(String) },
      // Its API is the fake Iterable on loopback: whoever picks it must know it is no real account.
      sandbox: true,
      actions: expect.any(Object),
    });
    expect(Object.keys(shared).sort()).toEqual(Object.keys(again).filter((k) => k !== 'lastVerification' || 'lastVerification' in shared).sort());
  });

  // The `actions` a view offers are what the requests then do (issue 15.5): each action is tried for real, as
  // the role, on a fresh export; an allowed one succeeds, a refused one is refused with the reason given.
  describe('the actions an export view offers', () => {
    const orphanExport = async () => {
      const connection = await throwawayConnection('admins-and-contributors');
      const name = await throwawayExport(connection);
      await removeConnection(admin, connection, { force: true });
      return name;
    };
    const tries = {
      run: (name: string) => ['POST', `/api/exports/${name}/runs`, undefined],
      edit: (name: string, removed: boolean) => ['PATCH', `/api/exports/${name}`, removed ? { connection: 'shared' } : {}],
      remove: (name: string) => ['DELETE', `/api/exports/${name}`, undefined],
      schedule: (name: string) => ['POST', `/api/exports/${name}/pause`, undefined],
    } as const;
    const expected: Record<string, string[]> = {
      'viewer admins-only': [],
      'viewer shared': [],
      'viewer removed': [],
      'contributor admins-only': [],
      'contributor shared': ['run', 'edit', 'remove', 'schedule'],
      'contributor removed': [],
      'admin admins-only': ['run', 'edit', 'remove', 'schedule'],
      'admin shared': ['run', 'edit', 'remove', 'schedule'],
      // Not a matter of role: it must be moved to another connection first.
      'admin removed': ['edit', 'remove', 'schedule'],
    };
    for (const key of Object.keys(expected)) {
      const [role, connection] = key.split(' ') as ['viewer' | 'contributor' | 'admin', string];
      it(`${role}, on an export whose connection is ${connection}`, async () => {
        const allowed: string[] = [];
        for (const action of Object.keys(tries) as Array<keyof typeof tries>) {
          const name = connection === 'removed' ? await orphanExport() : await throwawayExport(connection);
          const view = await call(role, 'GET', `/api/exports/${name}`);
          const offered = view.body.actions[action] as { allowed: boolean; reason?: string };
          // The list says the same as the export's own view.
          const listed = (await call(role, 'GET', '/api/exports?limit=1000')).body.items.find((e: { name: string }) => e.name === name);
          expect(listed.actions[action]).toEqual(offered);
          const [method, url, body] = tries[action](name, connection === 'removed');
          const answer = await call(role, method as string, url as string, body === undefined ? {} : { body });
          if (offered.allowed) {
            allowed.push(action);
            expect(answer.status, `${action}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
            expect(offered.reason).toBeUndefined();
          } else {
            expect(answer.status, action).toBeGreaterThanOrEqual(400);
            expect(offered.reason).toEqual(expect.any(String));
            if (answer.status === 403) expect(answer.body.detail).toBe(offered.reason);
            else expect(connection).toBe('removed');
          }
          await waitForRuns();
        }
        expect(allowed).toEqual(expected[key]);
      });
    }

    it('the session says what each role may do in the home, and the requests do just that', async () => {
      const tries: Record<string, () => Promise<[string, string, unknown]>> = {
        createExport: async () => ['POST', '/api/exports', { name: unique('exp'), connection: 'shared', segments: ['gold'], config: { mapping: { email: 'email' } } }],
        createSegment: async () => ['POST', '/api/segments', { name: unique('seg'), entity: 'Customer', where: "tier = 'silver'" }],
        createConnection: async () => ['POST', '/api/connections', { type: 'iterable', name: unique('conn'), config: { apiKey: ITERABLE_KEY, baseUrl: iterable.url }, acceptPrivacyTerms: true }],
        setSchedule: async () => ['PUT', '/api/schedule', { days: 'mon-fri', times: ['06:00'], timeZone: 'UTC' }],
        manageUsers: async () => ['GET', '/api/users', undefined],
        readAudit: async () => ['GET', '/api/audit', undefined],
        downloadRejections: async () => {
          const run = await call('admin', 'POST', `/api/exports/${await throwawayExport('shared')}/runs`);
          await waitForRuns();
          return ['GET', `/api/runs/${run.body.id}/rejections`, undefined];
        },
      };
      const expected = {
        viewer: [],
        contributor: ['createExport', 'createSegment', 'downloadRejections'],
        admin: Object.keys(tries),
      };
      for (const role of ['viewer', 'contributor', 'admin'] as const) {
        const can = (await call(role, 'GET', '/api/session')).body.user.can as Record<string, { allowed: boolean; reason?: string }>;
        expect(Object.keys(can).sort()).toEqual(Object.keys(tries).sort());
        const allowed: string[] = [];
        for (const [action, request] of Object.entries(tries)) {
          const [method, url, body] = await request();
          const answer = await call(role, method, url, body === undefined ? {} : { body });
          if (can[action]!.allowed) {
            allowed.push(action);
            expect(answer.status, `${role} ${action}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
          } else {
            expect(answer.status, `${role} ${action}`).toBe(403);
            expect(answer.body.detail).toBe(can[action]!.reason);
          }
        }
        expect(allowed, role).toEqual(expected[role]);
      }
    });

    it("segments: each action offered is what the request does (contributors may not change a segment another user's export uses)", async () => {
      const expected: Record<string, string[]> = {
        'viewer used': [],
        'viewer unused': [],
        'contributor used': ['refresh'],
        'contributor unused': ['edit', 'refresh', 'remove'],
        'admin used': ['edit', 'refresh', 'remove'],
        'admin unused': ['edit', 'refresh', 'remove'],
      };
      for (const key of Object.keys(expected)) {
        const [role, kind] = key.split(' ') as ['viewer' | 'contributor' | 'admin', string];
        const allowed: string[] = [];
        for (const action of ['edit', 'refresh', 'remove'] as const) {
          // "used": by an export of another user (the administrator); "unused": by none.
          const segment = unique('seg');
          await createSegment(admin, { name: segment, entity: 'Customer', where: "tier = 'gold'" });
          if (kind === 'used') await createExport(admin, { name: unique('exp'), connection: 'shared', segments: [segment], config: { mapping: { email: 'email' } } });
          const listed = (await call(role, 'GET', '/api/segments?limit=1000')).body.items.find((x: { name: string }) => x.name === segment);
          const offered = listed.actions[action] as { allowed: boolean; reason?: string };
          const answer =
            action === 'edit'
              ? await call(role, 'PATCH', `/api/segments/${segment}`, { body: { where: "tier = 'silver'" } })
              : action === 'refresh'
                ? await call(role, 'POST', `/api/segments/${segment}/refresh`)
                : await call(role, 'DELETE', `/api/segments/${segment}`);
          if (offered.allowed) {
            allowed.push(action);
            expect(answer.status, `${key} ${action}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
          } else {
            expect(answer.status, `${key} ${action}`).toBe(403);
            expect(answer.body.detail).toBe(offered.reason);
          }
        }
        expect(allowed, key).toEqual(expected[key]);
      }
    });

    it('connections: contributors are told why they may not edit, verify or remove one, in the words the requests use', async () => {
      const asContributor = (await call('contributor', 'GET', '/api/connections/shared')).body.actions;
      expect(Object.values(asContributor).map((a) => (a as { allowed: boolean }).allowed)).toEqual([false, false, false, false]);
      expect((await call('contributor', 'PATCH', '/api/connections/shared', { body: {} })).body.detail).toBe(asContributor.edit.reason);
      expect((await call('contributor', 'POST', '/api/connections/shared/verify')).body.detail).toBe(asContributor.verify.reason);
      expect((await call('contributor', 'DELETE', '/api/connections/shared')).body.detail).toBe(asContributor.remove.reason);
      const asAdmin = (await call('admin', 'GET', '/api/connections')).body.items.find((c: { name: string }) => c.name === 'shared').actions;
      expect(asAdmin).toEqual({ edit: { allowed: true }, verify: { allowed: true }, remove: { allowed: true }, signIn: { allowed: true } });
      expect((await call('admin', 'POST', '/api/connections/shared/verify')).status).toBe(200);
    });
  });

  it("tells which exports the home's scheduled refresh runs: neither paused (manual only) nor on a schedule of their own", async () => {
    const [follows, paused, own] = [await throwawayExport('shared'), await throwawayExport('shared'), await throwawayExport('shared')];
    await pauseExport(admin, paused);
    await setExportSchedule(admin, own, { cron: '0 6 * * *', timeZone: 'UTC' });
    const schedule = (await call('contributor', 'GET', '/api/schedule')).body as { refreshes: string[] };
    expect(schedule.refreshes).toContain(follows);
    expect(schedule.refreshes).not.toContain(paused);
    expect(schedule.refreshes).not.toContain(own);
    expect(schedule.refreshes).toEqual([...schedule.refreshes].sort((a, b) => a.localeCompare(b)));
  });

  it('does not call a run refused before it sent anything resumable (issue 15.7: there is nothing to resume)', async () => {
    // A segment never refreshed: the run fails before it reads a member, with a remedy (refresh it).
    const segment = unique('unrefreshed');
    await createSegment(admin, { name: segment, entity: 'Customer', where: "tier = 'gold'" });
    const name = unique('exp');
    await createExport(admin, { name, connection: 'shared', segments: [segment], config: { mapping: { email: 'email' } } });
    const run = await call('contributor', 'POST', `/api/exports/${name}/runs`);
    expect(run.status).toBe(202);
    await waitForRuns();
    const shown = (await call('contributor', 'GET', `/api/runs/${run.body.id}`)).body;
    expect(shown).toMatchObject({ status: 'failed', sent: 0, rowsDone: 0, resumable: false });
    expect(shown.error.message).toContain(segment);
  });

  it("hides rejected profiles' keys from viewers", async () => {
    const run = await call('admin', 'POST', `/api/exports/${await throwawayExport('shared')}/runs`);
    await waitForRuns();
    expect((await getRun(home.db, run.body.id)).status).toBe('succeeded');
    await home.db.insertInto('run_rejections').values({ run_id: run.body.id, seq: 0, source: 'gold', record_key: '42', code: 'invalid_email', reason: 'not an e-mail' }).execute();
    expect((await call('admin', 'GET', `/api/runs/${run.body.id}`)).body.rejections[0].key).toBe('42');
    expect((await call('viewer', 'GET', `/api/runs/${run.body.id}`)).body.rejections[0]).toEqual({ source: 'gold', key: '(hidden)', code: 'invalid_email', reason: 'not an e-mail' });
    const csv = await call('contributor', 'GET', `/api/runs/${run.body.id}/rejections.csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.body).toBe('key,segment,code,reason\r\n42,gold,invalid_email,not an e-mail\r\n');
  });

  it("pages a run's rejections as JSON across its resume chain, in the CSV's order, with a Link to the next page", async () => {
    const first = await call('admin', 'POST', `/api/exports/${await throwawayExport('shared')}/runs`);
    await waitForRuns();
    const second = await call('admin', 'POST', `/api/exports/${await throwawayExport('shared')}/runs`);
    await waitForRuns();
    // The second run resumed the first: its rejections are the chain's, the first run's before its own.
    await home.db.updateTable('runs').set({ resumed_from: first.body.id }).where('id', '=', second.body.id).execute();
    const rejection = (runId: string, seq: number) => ({ run_id: runId, seq, source: 'gold', record_key: `${runId.slice(-4)}-${seq}`, code: 'invalid_email', reason: 'not an e-mail' });
    await home.db.insertInto('run_rejections').values([0, 1, 2].map((i) => rejection(first.body.id, i))).execute();
    await home.db.insertInto('run_rejections').values([0, 1].map((i) => rejection(second.body.id, i))).execute();
    const csv = (await call('admin', 'GET', `/api/v1/runs/${second.body.id}/rejections.csv`)).body as string;
    const fromCsv = csv.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0]);
    expect(fromCsv).toHaveLength(5);

    const keys: string[] = [];
    const links: Array<string | null> = [];
    let cursor: string | null = null;
    do {
      const page = await call('contributor', 'GET', `/api/v1/runs/${second.body.id}/rejections?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      keys.push(...page.body.items.map((r: { key: string }) => r.key));
      links.push(page.headers.get('link'));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(keys).toEqual(fromCsv);
    expect(links).toHaveLength(3);
    expect(links[0]).toMatch(/^<\/api\/v1\/runs\/run_[^>]*cursor=[^>]+>; rel="next"$/);
    expect(links[2]).toBeNull();

    expect((await call('viewer', 'GET', `/api/v1/runs/${second.body.id}/rejections`)).status).toBe(403);
    expect((await call('admin', 'GET', `/api/v1/runs/${second.body.id}/rejections?cursor=nonsense`)).status).toBe(400);
    // A cursor of another run's chain is refused, not read from the wrong place.
    const other = (await call('admin', 'GET', `/api/v1/runs/${first.body.id}/rejections?limit=1`)).body.nextCursor;
    const foreign = Buffer.from(JSON.stringify({ run: 'run_elsewhere', seq: 0 })).toString('base64url');
    expect(other).toBeTruthy();
    expect((await call('admin', 'GET', `/api/v1/runs/${first.body.id}/rejections?cursor=${foreign}`)).status).toBe(400);
  });
});

describe('Sign in with Microsoft Advertising', () => {
  /** Plays the browser at the authority: its sign-in page (the fake approves at once) redirects to our callback. */
  async function atAuthority(authorizationUrl: string): Promise<URL> {
    const answer = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    return new URL(answer.headers.get('location')!);
  }

  /** The callback, as the browser would call it; returns where it sends the browser next. */
  async function callback(back: URL): Promise<URL> {
    const answer = await call('anonymous', 'GET', back.pathname + back.search);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    return new URL(answer.headers.get('location')!);
  }

  async function start(role: Role = 'admin'): Promise<{ authorizationUrl: string; redirectUri: string }> {
    const started = await call(role, 'POST', '/api/connections/msads/oauth/start');
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    return started.body;
  }

  /** Secrets the flow handled: every code exchange's code and PKCE verifier, and every token the fake issued. */
  function flowSecrets(): string[] {
    const exchanges = microsoft.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')).map((r) => new URLSearchParams(r.body));
    return [
      ...exchanges.flatMap((f) => [f.get('code_verifier'), f.get('code'), f.get('refresh_token')]).filter((v): v is string => Boolean(v)),
      ...microsoft.issuedRefreshTokens(),
      ...microsoft.issuedAccessTokens(),
    ];
  }

  it('signs a connection in through the server callback with PKCE, stores the token encrypted, audits it and verifies', async () => {
    const { authorizationUrl, redirectUri } = await start();
    expect(redirectUri).toBe('http://localhost/api/oauth/microsoft/callback');
    const sent = new URL(authorizationUrl);
    expect(sent.origin + sent.pathname).toBe(`${microsoft.authorityUrl}/oauth2/v2.0/authorize`);
    expect(Object.fromEntries(sent.searchParams)).toMatchObject({
      client_id: FAKE_DEFAULTS.clientId,
      redirect_uri: redirectUri,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
    expect(sent.searchParams.has('code_verifier')).toBe(false);
    // The state is kept only as its hash.
    const rows = await home.db.selectFrom('oauth_sign_ins').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(sent.searchParams.get('state'));

    const back = await atAuthority(authorizationUrl);
    expect(back.pathname).toBe('/api/oauth/microsoft/callback');
    const page = await callback(back);
    expect(page.pathname).toBe('/connections');
    expect(Object.fromEntries(page.searchParams)).toEqual({ signin: 'ok', connection: 'msads' });

    expect(microsoft.codeExchanges.at(-1)).toEqual({ clientId: FAKE_DEFAULTS.clientId, pkce: 'verified' });
    const exchange = new URLSearchParams(microsoft.requests.filter((r) => r.path.endsWith('/token')).find((r) => r.body.includes('authorization_code'))!.body);
    expect(exchange.get('client_secret')).toBe(FAKE_DEFAULTS.clientSecret);
    expect(exchange.get('redirect_uri')).toBe(redirectUri);

    const view = (await call('admin', 'GET', '/api/connections/msads')).body;
    expect(view.config.refreshToken).toBe('set');
    expect(view.signedIn).toEqual({ at: expect.any(String), by: 'admin' });
    expect(view.lastVerification).toMatchObject({ ok: true, by: 'admin' });
    const connection = await home.db.selectFrom('connections').select('secrets').where('name', '=', 'msads').executeTakeFirstOrThrow();
    for (const token of microsoft.issuedRefreshTokens()) expect(connection.secrets).not.toContain(token);
    const audit = (await call('admin', 'GET', '/api/audit?action=connection.authorize')).body.items;
    expect(audit[0]).toMatchObject({ actor: 'admin', target: 'msads', outcome: 'ok', details: { via: 'web' } });
    // Taken by the callback: single use.
    expect(await home.db.selectFrom('oauth_sign_ins').selectAll().where('state_hash', '=', sha256(sent.searchParams.get('state')!)).execute()).toEqual([]);
  });

  it('refuses a reused state: the second callback exchanges nothing', async () => {
    const back = await atAuthority((await start()).authorizationUrl);
    expect((await callback(back)).searchParams.get('signin')).toBe('ok');
    const exchanges = microsoft.codeExchanges.length;
    const again = await callback(back);
    expect(again.searchParams.get('signin')).toBe('failed');
    expect(again.searchParams.get('message')).toMatch(/already used, or it was not started here/);
    expect(again.searchParams.has('connection')).toBe(false);
    expect(microsoft.codeExchanges.length).toBe(exchanges);
  });

  it('refuses a state that does not match, and the real one still works afterwards', async () => {
    const back = await atAuthority((await start()).authorizationUrl);
    const forged = new URL(back);
    forged.searchParams.set('state', 'AAAAAAAAAAAAAAAAAAAAAA');
    const before = microsoft.codeExchanges.length;
    const refused = await callback(forged);
    expect(refused.searchParams.get('signin')).toBe('failed');
    const missing = new URL(back);
    missing.searchParams.delete('state');
    expect((await callback(missing)).searchParams.get('signin')).toBe('failed');
    expect(microsoft.codeExchanges.length).toBe(before);
    expect((await callback(back)).searchParams.get('signin')).toBe('ok');
  });

  it('binds the sign-in to the admin who started it: demoted before the callback, it is refused', async () => {
    const name = unique('admin');
    await createUser(admin, { name, role: 'admin' });
    const token = (await createToken(admin, { user: name, name: 'tests' })).token;
    SECRETS.push(token);
    const started = await app.request('/api/connections/msads/oauth/start', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(started.status).toBe(200);
    const back = await atAuthority(((await started.json()) as { authorizationUrl: string }).authorizationUrl);
    await updateUserRole(home.db, (await findUserByName(home.db, name))!.id, 'contributor');
    const before = microsoft.codeExchanges.length;
    const page = await callback(back);
    expect(page.searchParams.get('signin')).toBe('failed');
    expect(page.searchParams.get('message')).toMatch(new RegExp(`started by "${name}", who is no longer an administrator`));
    expect(microsoft.codeExchanges.length).toBe(before);
    const audit = (await call('admin', 'GET', '/api/audit?action=connection.authorize')).body.items;
    expect(audit[0]).toMatchObject({ actor: name, target: 'msads', outcome: 'failed', details: { via: 'web', code: 'permission_denied' } });
  });

  it('refuses an expired sign-in, and reports a declined consent with what to do', async () => {
    const back = await atAuthority((await start()).authorizationUrl);
    await home.db.updateTable('oauth_sign_ins').set({ expires_at: '2000-01-01T00:00:00.000Z' }).execute();
    const expired = await callback(back);
    expect(expired.searchParams.get('message')).toMatch(/has expired\. Start again with “Sign in with Microsoft Advertising”/);

    microsoft.denyNextConsent();
    const declined = await callback(await atAuthority((await start()).authorizationUrl));
    expect(Object.fromEntries(declined.searchParams)).toMatchObject({ signin: 'failed', connection: 'msads' });
    expect(declined.searchParams.get('message')).toMatch(/access_denied.*Start again with/);
    expect(declined.searchParams.get('message')).not.toMatch(/Trace ID/);
  });

  it('never shows the code, the verifier or a token in a response, the audit log or the log', async () => {
    const secrets = flowSecrets();
    expect(secrets.length).toBeGreaterThan(6);
    const audit = await home.db.selectFrom('audit_log').selectAll().execute();
    const haystacks = [...seen, ...logLines, JSON.stringify(audit)];
    for (const secret of secrets) for (const text of haystacks) expect(text.includes(secret), `a secret appeared in: ${text.slice(0, 200)}`).toBe(false);
  });
});

describe('sessions', () => {
  it('signs in with a cookie that is http-only, secure and SameSite=Strict, and needs the CSRF token for writes', async () => {
    const login = await app.request('http://127.0.0.1/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'carl', password: passwords.contributor }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const { csrfToken, user } = (await login.json()) as { csrfToken: string; user: { name: string; role: string } };
    expect(user).toMatchObject({ name: 'carl', role: 'contributor' });
    const session = cookie.split(';')[0]!;
    // carl has a one-time password: his session may do nothing else until he chooses his own.
    const own = await app.request('/api/session/password', {
      method: 'PUT',
      headers: { cookie: session, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: passwords.contributor, newPassword: 'carls own password 1' }),
    });
    expect(own.status).toBe(200);
    passwords.contributor = 'carls own password 1';

    expect((await app.request('/api/exports', { headers: { cookie: session } })).status).toBe(200);
    const body = JSON.stringify({ name: unique('seg'), entity: 'Customer', where: "tier = 'gold'" });
    const noCsrf = await app.request('/api/segments', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { code: string }).code).toBe('csrf_failed');
    const withCsrf = await app.request('/api/segments', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body });
    expect(withCsrf.status).toBe(201);

    // A second tab has the cookie only: it reads the CSRF token from GET /api/session and can write.
    const again = (await (await app.request('/api/session', { headers: { cookie: session } })).json()) as { csrfToken?: string };
    expect(again.csrfToken).toBe(csrfToken);
    const secondTab = await app.request('/api/segments', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json', 'x-csrf-token': again.csrfToken! }, body: JSON.stringify({ name: unique('seg'), entity: 'Customer', where: "tier = 'gold'" }) });
    expect(secondTab.status).toBe(201);
    // A bearer-token caller has no session, hence no CSRF token.
    expect(await (await app.request('/api/session', { headers: { authorization: `Bearer ${tokens.admin}` } })).json()).not.toHaveProperty('csrfToken');

    const logout = await app.request('/api/session', { method: 'DELETE', headers: { cookie: session, 'x-csrf-token': csrfToken } });
    expect(logout.status).toBe(200);
    expect((await app.request('/api/exports', { headers: { cookie: session } })).status).toBe(401);
  });

  it('lets a user with a one-time password choose their own: wrong current password on the field, other sessions end', async () => {
    const { name, password } = await createUser(admin, { name: unique('newbie'), role: 'viewer' });
    const signIn = async (pw: string) => app.request('http://127.0.0.1/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: pw }) });
    const first = await signIn(password);
    const { csrfToken, user } = (await first.json()) as { csrfToken: string; user: { mustChangePassword: boolean } };
    expect(user.mustChangePassword).toBe(true);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const other = (await signIn(password)).headers.get('set-cookie')!.split(';')[0]!;
    const change = (body: unknown) => app.request('/api/session/password', { method: 'PUT', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    // The one-time password signs in, but the session may only read itself, change the password or sign out:
    // it used to reach every route, so a "one-time" password worked for the API indefinitely.
    const before = await snapshot();
    for (const [method, url, body] of [
      ['GET', '/api/exports', undefined],
      ['GET', '/api/runs', undefined],
      ['POST', '/api/segments', { name: unique('seg'), entity: 'Customer', where: "tier = 'gold'" }],
    ] as const) {
      const gated = await app.request(url, { method, headers: { cookie, 'x-csrf-token': csrfToken, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      expect(gated.status, `${method} ${url}`).toBe(403);
      expect(await gated.json()).toMatchObject({ status: 403, code: 'password_change_required', detail: expect.stringContaining('PUT /api/v1/session/password') });
    }
    expect(await snapshot()).toBe(before);

    const wrong = await change({ currentPassword: 'not-the-password', newPassword: 'a long new password' });
    expect(wrong.status).toBe(422);
    expect(((await wrong.json()) as { issues: Array<{ path: string }> }).issues[0]!.path).toBe('currentPassword');
    expect((await app.request('/api/session', { headers: { cookie } })).status).toBe(200);
    expect((await change({ currentPassword: password, newPassword: 'short' })).status).toBe(422);

    const changed = await change({ currentPassword: password, newPassword: 'a long new password' });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual({ user: { name, role: 'viewer', mustChangePassword: false, can: expect.objectContaining({ createSegment: expect.objectContaining({ allowed: false }) }) } });
    expect(((await (await app.request('/api/session', { headers: { cookie } })).json()) as { user: { mustChangePassword: boolean } }).user.mustChangePassword).toBe(false);
    expect((await app.request('/api/session', { headers: { cookie: other } })).status).toBe(401);
    expect((await app.request('/api/exports', { headers: { cookie } })).status).toBe(200);
    expect((await signIn(password)).status).toBe(401);
    expect((await signIn('a long new password')).status).toBe(200);
    const entries = await home.db.selectFrom('audit_log').selectAll().where('action', 'like', 'user.password_change%').where('target', '=', name).execute();
    expect(entries.map((e) => e.action).sort()).toEqual(['user.password_change_failed', 'user.password_changed']);
    expect(JSON.stringify(entries)).not.toMatch(/a long new password|not-the-password/);
  });

  it('answers a wrong password with 401, records the failure, and limits repeated failures with 429', async () => {
    const attempt = () => app.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'vera', password: 'not-her-password' }) });
    const statuses: number[] = [];
    const first = await attempt();
    statuses.push(first.status);
    expect(first.headers.get('www-authenticate')).toBe('Bearer realm="outflow"');
    for (let i = 1; i < 5; i++) statuses.push((await attempt()).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    // Then each failure doubles the wait before the next try: one of the next few comes too early, however
    // slowly this machine checks passwords.
    let limited = await attempt();
    for (let i = 0; i < 10 && limited.status !== 429; i++) limited = await attempt();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const audit = await call('admin', 'GET', '/api/audit?action=session.login_failed');
    expect(audit.body.items.filter((e: { target: string }) => e.target === 'vera').length).toBeGreaterThanOrEqual(5);
  });
});

describe('run filters', () => {
  it('names a bad filter by its query parameter, not by a CLI flag', async () => {
    const status = await call('viewer', 'GET', '/api/runs?status=done');
    expect(status.status).toBe(422);
    expect(status.body).toMatchObject({ code: 'invalid_input', issues: [{ path: 'status' }] });
    expect(status.body.detail).toMatch(/^status must be one of queued, running, succeeded, failed, cancelled, not "done"/);
    const since = await call('viewer', 'GET', '/api/runs?since=yesterday');
    expect(since.status).toBe(422);
    expect(since.body).toMatchObject({ code: 'invalid_input', issues: [{ path: 'since' }] });
    expect(since.body.detail).toMatch(/^since must be a date such as 2026-11-01/);
    expect(JSON.stringify([status.body, since.body])).not.toContain('--');
  });
});

describe('segment preview', () => {
  it('counts what a filter selects, the same number a saved segment gets, and saves nothing', async () => {
    const before = await snapshot();
    const preview = await call('contributor', 'POST', '/api/segments/preview', { body: { where: "tier = 'gold'" } });
    expect(preview.status).toBe(200);
    expect(await snapshot()).toBe(before);
    const refreshed = await call('admin', 'POST', '/api/segments/gold/refresh');
    expect(preview.body).toEqual({ entity: 'Customer', members: refreshed.body[0].members });
    const bad = await call('contributor', 'POST', '/api/segments/preview', { body: { where: "tier = 'gold' AND AND" } });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ status: 422, code: 'invalid_filter', position: expect.any(Number) });
    expect((await call('contributor', 'POST', '/api/segments/preview', { body: { entity: 'Nope', where: 'x = 1' } })).status).toBe(404);
  });
});

describe('bad input', () => {
  it('refuses malformed JSON, wrong types and unknown keys with 400 and stores nothing', async () => {
    const before = await snapshot();
    const malformed = await call('admin', 'POST', '/api/exports', { raw: '{"name": "x",', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('invalid_request');
    const wrongType = await call('admin', 'POST', '/api/exports', { body: { name: 42, connection: 'shared', segments: ['gold'] } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ code: 'invalid_request', issues: [expect.objectContaining({ path: 'name' })] });
    const unknownKey = await call('admin', 'POST', '/api/connections', { body: { type: 'iterable', name: 'typo', config: {}, acceptPrivacyTerm: true } });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.detail).toMatch(/acceptPrivacyTerm/);
    expect(await snapshot()).toBe(before);
  });

  it('says which header to send when a JSON body comes without Content-Type: application/json (415)', async () => {
    const before = await snapshot();
    // What `curl -d '{…}'` sends without -H: form encoding. It was answered with a bare "Unsupported Media Type".
    for (const headers of [{ 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'text/plain' }]) {
      const refused = await call('admin', 'POST', '/api/exports', { raw: JSON.stringify({ name: 'x', connection: 'shared', segments: ['gold'] }), headers });
      expect(refused.status).toBe(415);
      expect(refused.body).toMatchObject({ code: 'unsupported_media_type', detail: expect.stringContaining('"Content-Type: application/json"') });
    }
    expect(await snapshot()).toBe(before);
  });

  it('limits the size of a body (413) and of a source list', async () => {
    const before = await snapshot();
    const huge = await call('admin', 'POST', '/api/segments', { raw: JSON.stringify({ name: 'big', where: `tier = '${'x'.repeat(2 * 1024 * 1024)}'` }), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
    const many = await call('admin', 'POST', '/api/exports', { body: { name: 'many', connection: 'shared', segments: Array.from({ length: 10_000 }, (_, i) => `s${i}`) } });
    expect(many.status).toBe(400);
    expect(many.body.detail).toMatch(/segments/);
    expect(await snapshot()).toBe(before);
  });

  it('treats a name with path characters as a name, never as a path', async () => {
    const before = await snapshot();
    const traversal = await call('admin', 'GET', `/api/exports/${encodeURIComponent('../../etc/passwd')}`);
    expect(traversal.status).toBe(404);
    const entity = await call('admin', 'PUT', `/api/entities/${encodeURIComponent('../x')}`, { raw: 'id\n1\n', headers: { 'content-type': 'text/csv' } });
    expect(entity.status).toBe(422);
    expect(await snapshot()).toBe(before);
  });
});

describe('the data manifest and sample values', () => {
  it('says which fields leave, to which account, under whose consent, how often and what the last runs sent; no secret', async () => {
    const name = await throwawayExport('shared');
    await setExportSchedule(admin, name, { cron: '15 4 * * 1', timeZone: 'Europe/Paris' });
    await pauseExport(admin, name);
    const run = await call('admin', 'POST', `/api/exports/${name}/runs`);
    await waitForRuns();
    const answer = await call('viewer', 'GET', `/api/exports/${name}/manifest`);
    expect(answer.status).toBe(200);
    const m = answer.body;
    expect(m.export).toBe(name);
    // A viewer learns where the data goes (host, region), not the connection's settings (see the README's role table).
    expect(m.destination).toEqual({ type: 'iterable', title: 'Iterable', connection: 'shared', account: { host: new URL(iterable.url).hostname, region: 'us' }, settings: {} });
    const asAdmin = (await call('admin', 'GET', `/api/exports/${name}/manifest`)).body;
    expect(asAdmin.destination.account).toEqual({ baseUrl: iterable.url, projectType: 'email', region: 'us' });
    expect(m.fields).toEqual([{ entity: 'Customer', column: 'email', target: 'email', title: expect.any(String) }]);
    expect(m.sources).toEqual([{ kind: 'segment', name: 'gold', entity: 'Customer', filter: "tier = 'gold'", members: 10, refreshedAt: expect.any(String) }]);
    expect(m.consent).toEqual({ acceptedBy: 'admin', acceptedAt: expect.any(String) });
    expect(m.schedule).toEqual({ mode: 'own', paused: true, cron: ['15 4 * * 1'], timeZone: 'Europe/Paris', next: [] });
    const finished = await getRun(home.db, run.body.id);
    expect(m.lastRuns).toEqual([{ id: run.body.id, status: 'succeeded', trigger: 'manual', startedBy: 'admin', finishedAt: finished.finishedAt, sent: finished.sent, rejected: finished.rejected }]);
    expect(finished.sent).toBe(10);
    expect(JSON.stringify(m)).not.toContain(ITERABLE_KEY);
    expect(JSON.stringify(m)).not.toContain('apiKey');
  });

  it('gives a few distinct values per column, never the whole column', async () => {
    const answer = await call('contributor', 'GET', '/api/entities/Customer/samples?limit=2');
    expect(answer.status).toBe(200);
    const columns = answer.body.columns as { name: string; values: string[] }[];
    expect(columns.map((c) => c.name)).toEqual(['profile_id', 'email', 'tier']);
    for (const c of columns) {
      expect(c.values).toHaveLength(2);
      expect(new Set(c.values).size).toBe(2);
    }
    expect(columns.find((c) => c.name === 'email')!.values.every((v) => /^user\d+@example\.com$/.test(v))).toBe(true);
    expect(columns.find((c) => c.name === 'tier')!.values.sort()).toEqual(['gold', 'silver']);
  });
});

describe('starting a run and a dry run', () => {
  it('are two operations: a run answers 202 with the run and its Location, a dry run 200 with its report and queues nothing', async () => {
    const name = unique('two-ops');
    await createExport(admin, { name, connection: 'shared', segments: ['gold'], config: { mapping: { email: 'email' } } });
    const before = (await home.db.selectFrom('runs').select('id').execute()).length;
    const dry = await call('contributor', 'POST', `/api/v1/exports/${name}/dry-run`);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ export: name, dryRun: true, members: 10 });
    expect((await home.db.selectFrom('runs').select('id').execute()).length).toBe(before);

    // The old form goes to the dry run (307 keeps the method), queueing nothing.
    const old = await call('contributor', 'POST', `/api/v1/exports/${name}/runs?dryRun=true&fullResync=true`);
    expect(old.status).toBe(307);
    expect(old.headers.get('location')).toBe(`/api/v1/exports/${name}/dry-run?fullResync=true`);
    expect((await home.db.selectFrom('runs').select('id').execute()).length).toBe(before);

    const started = await call('contributor', 'POST', `/api/v1/exports/${name}/runs`);
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v1/runs/${started.body.id}`);
    const followed = await call('contributor', 'GET', started.headers.get('location')!);
    expect(followed.status).toBe(200);
    expect(followed.body.id).toBe(started.body.id);
    await waitForRuns();
  });
});

describe('pagination', () => {
  /** Follows nextCursor (and checks the Link header says the same) until the last page. */
  async function pageThrough(role: Role, url: string): Promise<{ items: any[]; pages: number }> {
    const items: any[] = [];
    let next: string | null = url;
    let pages = 0;
    while (next) {
      const answer = await call(role, 'GET', next);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      items.push(...answer.body.items);
      pages++;
      const cursor = answer.body.nextCursor as string | null;
      const link = answer.headers.get('link');
      if (cursor) {
        expect(link).toBe(`<${new URL(next, 'http://x').pathname}?${new URLSearchParams({ ...Object.fromEntries(new URL(next, 'http://x').searchParams), cursor })}>; rel="next"`);
        next = link!.slice(1, link!.indexOf('>'));
      } else {
        expect(link).toBeNull();
        next = null;
      }
    }
    return { items, pages };
  }

  it('pages every list by an opaque cursor, with nextCursor in the body and a Link header, never cutting it', async () => {
    for (let i = 0; i < 3; i++) await createExport(admin, { name: unique('paged'), connection: 'shared', segments: ['gold'], config: { mapping: { email: 'email' } } });
    const all = await call('admin', 'GET', '/api/v1/exports?limit=1000');
    expect(all.body.nextCursor).toBeNull();
    const paged = await pageThrough('admin', '/api/v1/exports?limit=2');
    expect(paged.items.map((e) => e.name)).toEqual(all.body.items.map((e: { name: string }) => e.name));
    expect(paged.pages).toBe(Math.ceil(all.body.items.length / 2));
    // The default page is 100 (the other tests of this file leave around that many exports).
    const first = (await call('admin', 'GET', '/api/v1/exports')).body;
    expect(first.items).toHaveLength(Math.min(100, all.body.items.length));
    expect(first.nextCursor === null).toBe(all.body.items.length <= 100);

    for (const list of ['connections', 'segments', 'users', 'tokens']) {
      const whole = (await call('admin', 'GET', `/api/v1/${list}?limit=1000`)).body.items;
      expect(whole.length, list).toBeGreaterThan(1);
      expect((await pageThrough('admin', `/api/v1/${list}?limit=1`)).items, list).toEqual(whole);
    }
  });

  it('pages runs and the audit log newest first, with their filters, in the database', async () => {
    const runsWhole = (await call('viewer', 'GET', '/api/v1/runs?limit=1000')).body.items;
    expect(runsWhole.length).toBeGreaterThan(2);
    const runsPaged = await pageThrough('viewer', '/api/v1/runs?limit=2');
    expect(runsPaged.items.map((r) => r.id)).toEqual(runsWhole.map((r: { id: string }) => r.id));
    const filtered = (await call('viewer', 'GET', '/api/v1/runs?status=succeeded&limit=1000')).body.items;
    expect((await pageThrough('viewer', '/api/v1/runs?status=succeeded&limit=1')).items).toEqual(filtered);

    const auditWhole = (await call('admin', 'GET', '/api/v1/audit?limit=1000')).body.items;
    expect(auditWhole.length).toBeGreaterThan(20);
    const auditPaged = await pageThrough('admin', '/api/v1/audit?limit=7');
    // Sign-ins during the test add entries at the top: the pages still never repeat or skip one.
    expect(auditPaged.items.map((e) => e.id)).toEqual(auditWhole.map((e: { id: string }) => e.id));
  });

  it('refuses unknown query parameters naming them, a cursor it did not give, and a page over the maximum', async () => {
    const unknown = await call('admin', 'GET', '/api/v1/exports?offset=2&page=3');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'invalid_request', issues: [{ path: 'offset' }, { path: 'page' }] });
    expect(unknown.body.detail).toMatch(/offset, page\. It takes limit, cursor\./);
    expect((await call('admin', 'GET', '/api/audit?actor=admin&offset=1')).status).toBe(400);
    expect((await call('admin', 'GET', '/api/v1/schedule?verbose=1')).body.detail).toMatch(/verbose\. It takes none\./);
    const cursor = await call('admin', 'GET', '/api/v1/runs?cursor=not-ours');
    expect(cursor.status).toBe(400);
    expect(cursor.body.code).toBe('invalid_request');
    expect((await call('admin', 'GET', '/api/v1/exports?limit=1001')).status).toBe(400);
  });
});

describe('stable ids', () => {
  it('gives every resource an immutable id that its paths take, so a rename changes no URL', async () => {
    const name = unique('ided');
    await createExport(admin, { name, connection: 'shared', segments: ['gold'], config: { mapping: { email: 'email' } } });
    const shown = await call('admin', 'GET', `/api/v1/exports/${name}`);
    const id = shown.body.id as string;
    expect(id).toMatch(/^exp_/);
    const renamed = await call('admin', 'PATCH', `/api/v1/exports/${id}`, { body: { name: `${name}-renamed` } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: `${name}-renamed` });
    expect((await call('admin', 'GET', `/api/v1/exports/${id}`)).body).toMatchObject({ id, name: `${name}-renamed` });
    for (const list of ['connections', 'segments', 'users', 'exports']) {
      for (const item of (await call('admin', 'GET', `/api/v1/${list}?limit=1000`)).body.items as Array<{ id: string; name: string }>) expect(item.id, `${list} ${item.name}`).toMatch(/^[a-z]+_\w+$/);
    }
    const user = (await call('admin', 'POST', '/api/v1/users', { body: { name: unique('ided-user'), role: 'viewer' } })).body;
    const listed = (await call('admin', 'GET', '/api/v1/users?limit=1000')).body.items.find((u: { name: string }) => u.name === user.name);
    const promoted = await call('admin', 'PATCH', `/api/v1/users/${listed.id}`, { body: { role: 'contributor' } });
    expect(promoted.body).toMatchObject({ id: listed.id, name: user.name, role: 'contributor' });
    const segment = (await call('admin', 'GET', '/api/v1/segments')).body.items.find((s: { name: string }) => s.name === 'gold');
    expect((await call('admin', 'POST', `/api/v1/segments/${segment.id}/refresh`)).body).toEqual([{ name: 'gold', members: 10 }]);
  });
});

describe('the OpenAPI document', () => {
  it('lists every route the issue names, with the responses each route gives', async () => {
    const doc = (await call('anonymous', 'GET', '/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const contract = [
      'GET /api/v1/connections', 'POST /api/v1/connections', 'GET /api/v1/connections/{id}', 'PATCH /api/v1/connections/{id}', 'DELETE /api/v1/connections/{id}', 'POST /api/v1/connections/{id}/verify',
      'GET /api/v1/exports', 'POST /api/v1/exports', 'GET /api/v1/exports/{id}', 'PATCH /api/v1/exports/{id}', 'DELETE /api/v1/exports/{id}', 'POST /api/v1/exports/{id}/runs', 'POST /api/v1/exports/{id}/dry-run',
      'GET /api/v1/runs', 'GET /api/v1/runs/{id}', 'GET /api/v1/runs/{id}/rejections.csv', 'GET /api/v1/segments', 'POST /api/v1/segments', 'PATCH /api/v1/segments/{id}', 'DELETE /api/v1/segments/{id}',
      'GET /api/v1/entities', 'GET /api/v1/destinations', 'GET /api/v1/users', 'POST /api/v1/users', 'GET /api/v1/audit',
      'GET /api/v1/schedule', 'PUT /api/v1/schedule', 'DELETE /api/v1/schedule', 'POST /api/v1/refresh',
      'PUT /api/v1/exports/{id}/schedule', 'DELETE /api/v1/exports/{id}/schedule', 'POST /api/v1/exports/{id}/pause', 'POST /api/v1/exports/{id}/resume',
      'GET /api/v1/exports/{id}/manifest', 'POST /api/v1/segments/preview',
      'POST /api/v1/connections/{id}/oauth/start', 'GET /api/v1/oauth/microsoft/callback',
    ];
    for (const route of contract) expect(documented).toContain(route);
    // Every route the app serves is in the document: the registry is the document's only source.
    expect(documented.length).toBe(routeDefinitions().length);
  });
});

describe('operations', () => {
  it('answers /healthz and exposes Prometheus metrics by state, destination and route', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/^outflow_runs\{state="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^outflow_http_requests_total\{method="GET",route="\/api\/v1\/exports",status="200"\} \d+/m);
    expect(metrics).toMatch(/^outflow_destination_requests_total\{destination="iterable"\} [1-9]/m);
  });

  it('never shows a secret in a response, a header, a log line or an audit entry', async () => {
    const audit = await home.db.selectFrom('audit_log').selectAll().execute();
    const haystacks = [...seen, ...logLines, JSON.stringify(audit)];
    for (const secret of SECRETS) {
      for (const text of haystacks) expect(text.includes(secret), `a secret appeared in: ${text.slice(0, 200)}`).toBe(false);
    }
  });
});
