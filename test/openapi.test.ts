import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/app/users.ts';
import { API_TYPES_FILE, apiTypes } from '../scripts/openapi-types.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';

// The served OpenAPI document, checked by two independent linters as a client author would run them:
// `@redocly/cli lint` (its recommended rules, redocly.yaml) and Spectral (`spectral:oas`, .spectral.yaml).
// 0 errors, and no warning but the ones listed in KEPT_WARNINGS with the reason each one stays.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

/** Warnings we keep on purpose, by linter and rule: each with why (also in the README's API section). */
const KEPT_WARNINGS: Record<string, string> = {
  // A browser redirect endpoint: the Microsoft identity platform sends the browser here and it answers 302 to
  // the web app, by design; there is no 2xx to give.
  'redocly operation-2xx-response': 'GET /api/v1/oauth/microsoft/callback answers only 302',
  // Every operation has a summary that says what it does and what it refuses; a description repeating it
  // would add words, not information. Operations with more to say (the OAuth sign-in) have one.
  'spectral operation-description': 'the summary is the description',
  // A self-hosted server has no single contact: whoever runs it is the contact.
  'spectral info-contact': 'self-hosted: no one contact',
};

let dir: string;
let server: RunningServer;
let doc: any;
let docFile: string;

beforeAll(async () => {
  dir = tempDir('openapi');
  server = await startServer({ dir: path.join(dir, 'home'), port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'openapi-test-password-1' } });
  const response = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  doc = await response.json();
  docFile = path.join(dir, 'openapi.json');
  fs.writeFileSync(docFile, JSON.stringify(doc, null, 2));
});

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function operations(): Array<{ key: string; op: any }> {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })));
}

describe('the OpenAPI document', () => {
  it('is served at /api/v1/openapi.json and, the same, at the /api alias', async () => {
    const alias = await (await fetch(`${server.url}/api/openapi.json`)).json();
    expect(alias).toEqual(doc);
    expect(doc.servers).toEqual([{ url: server.url, description: expect.any(String) }]);
  });

  it('documents every operation under /api/v1 with an operationId, a summary, a declared tag and its security', () => {
    const declared = new Set((doc.tags as Array<{ name: string }>).map((t) => t.name));
    const ids = new Set<string>();
    for (const { key, op } of operations()) {
      expect(key, 'every path is under the versioned base path /api/v1').toMatch(/^\w+ \/api\/v1\//);
      expect(op.operationId, `${key} has an operationId`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId), `${key}: operationId ${op.operationId} is unique`).toBe(false);
      ids.add(op.operationId);
      expect(op.summary, `${key} has a summary`).toBeTruthy();
      expect(op.tags?.length, `${key} has a tag`).toBeGreaterThan(0);
      for (const tag of op.tags) expect(declared.has(tag), `${key}: tag "${tag}" is declared`).toBe(true);
      expect(Array.isArray(op.security), `${key} says who may call it (security: [] when anyone may)`).toBe(true);
    }
    const open = operations().filter(({ op }) => op.security.length === 0).map(({ key }) => key);
    expect(open.sort()).toEqual(['GET /api/v1/oauth/microsoft/callback', 'POST /api/v1/local-token', 'POST /api/v1/session']);
  });

  it('declares every member an error can carry, and timestamps as date-time', () => {
    // RFC 9457 problem details: the standard members and Outflow's extensions.
    const problem = doc.components.schemas.Problem;
    expect(Object.keys(problem.properties).sort()).toEqual(['code', 'detail', 'etag', 'issues', 'limit', 'position', 'remedy', 'retryAfterSeconds', 'runId', 'status', 'title', 'type']);
    const errorTypes = operations().flatMap(({ op }) => Object.entries(op.responses as Record<string, { content?: Record<string, unknown> }>).filter(([status]) => Number(status) >= 400).flatMap(([, r]) => Object.keys(r.content ?? {})));
    expect(new Set(errorTypes)).toEqual(new Set(['application/problem+json']));
    expect(doc.components.schemas.Run.properties.queuedAt.format).toBe('date-time');
    expect(doc.components.schemas.Run.properties.finishedAt.anyOf ?? [doc.components.schemas.Run.properties.finishedAt]).toContainEqual(expect.objectContaining({ format: 'date-time' }));
    // A nullable use of a component must not make the component itself nullable (PUT /notify answers a Notify).
    expect(JSON.stringify(doc.components.schemas.Notify)).not.toContain('null');
  });

  it('lints clean with @redocly/cli (recommended rules): 0 errors, only the warnings we keep', async () => {
    const { stdout } = await run(bin('redocly'), ['lint', docFile, '--format=json', `--config=${path.join(ROOT, 'redocly.yaml')}`], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const result = JSON.parse(stdout) as { problems: Array<{ ruleId: string; severity: string; message: string; location?: Array<{ pointer?: string }> }> };
    const errors = result.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} at ${p.location?.[0]?.pointer}: ${p.message}`);
    expect(errors).toEqual([]);
    const unexpected = result.problems.filter((p) => p.severity !== 'error' && !KEPT_WARNINGS[`redocly ${p.ruleId}`]).map((p) => `${p.ruleId} at ${p.location?.[0]?.pointer}: ${p.message}`);
    expect(unexpected).toEqual([]);
  });

  it('lints clean with Spectral (spectral:oas): 0 errors, only the warnings we keep', async () => {
    const { stdout } = await run(bin('spectral'), ['lint', docFile, '--ruleset', path.join(ROOT, '.spectral.yaml'), '--format', 'json', '--quiet'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const problems = JSON.parse(stdout || '[]') as Array<{ code: string; severity: number; message: string; path: string[] }>;
    const errors = problems.filter((p) => p.severity === 0).map((p) => `${p.code} at ${p.path.join('.')}: ${p.message}`);
    expect(errors).toEqual([]);
    const unexpected = problems.filter((p) => p.severity > 0 && !KEPT_WARNINGS[`spectral ${p.code}`]).map((p) => `${p.code} at ${p.path.join('.')}: ${p.message}`);
    expect(unexpected).toEqual([]);
  });
});

describe('connection and export configs in the document', () => {
  const schemas = () => doc.components.schemas as Record<string, any>;
  const TYPES: Record<string, string> = {
    sftp: 'Sftp',
    'microsoft-advertising': 'MicrosoftAdvertising',
    'campaign-monitor': 'CampaignMonitor',
    iterable: 'Iterable',
    autopilot: 'Autopilot',
  };

  it('types a new connection as a union told apart by its destination type, each with its own config', () => {
    const create = schemas().ConnectionCreate;
    expect(create.discriminator.propertyName).toBe('type');
    expect(Object.keys(create.discriminator.mapping).sort()).toEqual(Object.keys(TYPES).sort());
    for (const [type, prefix] of Object.entries(TYPES)) {
      const member = schemas()[`${prefix}ConnectionCreate`];
      expect(member.properties.type.const).toBe(type);
      expect(member.properties.config).toEqual({ $ref: `#/components/schemas/${prefix}ConnectionConfig` });
      expect(schemas()[`${prefix}ConnectionConfig`].additionalProperties, `${type}: unknown keys are refused`).toBe(false);
      expect(schemas()[`${prefix}ExportConfig`].additionalProperties).toBe(false);
    }
    expect(schemas().SftpConnectionConfig.required.sort()).toEqual(['folder', 'host', 'username']);
    expect(schemas().SftpConnectionConfig.properties.password.writeOnly).toBe(true);
    // A file export writes every row on every run; Autopilot cannot remove members (no mirror).
    expect(schemas().SftpExportConfig.properties.syncMode.enum).toEqual(['full']);
    expect(schemas().IterableExportConfig.properties.syncMode.enum).toEqual(['full', 'upsert', 'mirror']);
    expect(schemas().UserCreate.properties.role.enum).toEqual(['admin', 'contributor', 'viewer']);
  });

  it('lists exactly the keys the server accepts, for every connection type and for export configs', async () => {
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    const { token } = await createToken(admin, { name: 'openapi-configs' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${server.url}/api/v1${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { detail: string } };
    };
    /** The keys the server's 422 names as known, for a key it cannot guess a correction of. */
    const known = (detail: string) => /Known keys: ([^.]+)\./.exec(detail)?.[1]?.split(', ').sort();
    for (const [type, prefix] of Object.entries(TYPES)) {
      const refused = await post('/connections', { type, name: `doc-${type}`, config: { qqqqqqqqqqqq: 1 }, acceptPrivacyTerms: true });
      expect(refused.status, refused.body.detail).toBe(422);
      expect(known(refused.body.detail), type).toEqual(Object.keys(schemas()[`${prefix}ConnectionConfig`].properties).sort());
    }
    const connections = {
      sftp: { host: 'sftp.example.com', username: 'u', password: 'p', folder: '/out' },
      iterable: { apiKey: 'k' },
    };
    for (const [type, config] of Object.entries(connections)) {
      const created = await post('/connections', { type, name: `doc-${type}`, config, acceptPrivacyTerms: true });
      expect(created.status, created.body.detail).toBe(201);
      const refused = await post('/exports', { name: `doc-${type}-export`, connection: `doc-${type}`, segments: ['anyone'], config: { qqqqqqqqqqqq: 1 } });
      expect(refused.status, refused.body.detail).toBe(422);
      expect(known(refused.body.detail), type).toEqual(Object.keys(schemas()[`${TYPES[type]}ExportConfig`].properties).sort());
    }
  });
});

describe('clients typed by the document', () => {
  /** Compiles one project with the repository's TypeScript; resolves with tsc's output, empty when it compiled. */
  const tsc = (project: string) =>
    run(bin('tsc'), ['--noEmit', '-p', project], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout || String(error),
    );

  it('the CLI is compiled against the types of the document the server serves (npm run openapi:types)', async () => {
    const current = await apiTypes(doc);
    const committed = fs.readFileSync(API_TYPES_FILE, 'utf8');
    expect(committed === current, 'src/client/openapi.d.ts is stale: run `npm run openapi:types` and commit it').toBe(true);
  });

  it('a generated client and the CLI refuse at compile time what the document does not allow', async () => {
    // test/typed-client/check.ts: every @ts-expect-error there must still be an error (a misspelt config key,
    // an unknown role, a path the document lacks, ...), and every call without one must compile.
    expect(await tsc(path.join(ROOT, 'test', 'typed-client', 'tsconfig.json'))).toBe('');
  }, 300_000);

  it("compiles the README's typed client example against the served document", async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const example = /<!-- typed-client-example -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, 'the README has a typed client example').toBeTruthy();
    // In the repository, so that `openapi-fetch` resolves from its node_modules; removed afterwards.
    const work = fs.mkdtempSync(path.join(ROOT, 'test', 'typed-client', '.readme-'));
    try {
      fs.writeFileSync(path.join(work, 'example.ts'), example!);
      fs.writeFileSync(path.join(work, 'outflow.d.ts'), await apiTypes(doc));
      fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.json', include: ['example.ts'] }));
      expect(await tsc(path.join(work, 'tsconfig.json'))).toBe('');
      // And it is the document that makes it compile: a misspelt key in the example's config does not.
      fs.writeFileSync(path.join(work, 'example.ts'), example!.replace("syncMode: 'full'", "syncMod: 'full'"));
      expect(await tsc(path.join(work, 'tsconfig.json'))).toContain("'syncMod' does not exist");
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('the /api alias', () => {
  it('answers exactly as /api/v1 does, reads and writes', async () => {
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    const { token } = await createToken(admin, { name: 'openapi-test' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/api/users`, { method: 'POST', headers, body: JSON.stringify({ name: 'alias-user', role: 'viewer' }) });
    expect(created.status).toBe(201);
    const v1 = await (await fetch(`${server.url}/api/v1/users`, { headers })).json();
    const alias = await (await fetch(`${server.url}/api/users`, { headers })).json();
    expect(alias).toEqual(v1);
    expect(JSON.stringify(v1)).toContain('alias-user');
    const unknown = await fetch(`${server.url}/api/nothing-here`, { headers });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toContain('/api/v1/openapi.json');
  });
});
