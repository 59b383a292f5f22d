import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { createSegment, loadEntity, refreshSegments } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import { openHome } from '../src/app/home.ts';
import { startFakeSftpServer, type FakeSftpServer } from '../src/destinations/sftp/fake-sftp-server.ts';
import net from 'node:net';
import BetterSqlite3 from 'better-sqlite3';
import { listUsers } from '../src/app/users.ts';
import { remoteClient } from '../src/client/remote.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';
import { tokenForRole } from './support/server.ts';
import { freshDatabase, queuePrefix, REDIS_URL, until } from './support/scale-out.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

// Idempotency keys (issue 16.4) against real `outflow serve` processes: a retried create or run start is done
// once and answered as the first time, also after the server restarts (SQLite home) and when the retry reaches
// another server sharing the PostgreSQL metadata store.

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function post(server: ServerProcess, route: string, body: unknown, key?: string): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${server.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key !== undefined) headers['idempotency-key'] = key;
  const response = await fetch(`${server.url}${route}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
}

const homes: string[] = [];
const servers: ServerProcess[] = [];
function newHome(name: string): string {
  const dir = tempDir(`idem-${name}`);
  homes.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of homes) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Idempotency-Key on a SQLite home', () => {
  let sftp: FakeSftpServer;
  let home: string;
  let server: ServerProcess;

  beforeAll(async () => {
    sftp = await startFakeSftpServer();
    fs.mkdirSync(path.join(sftp.root, 'out'));
    home = newHome('sqlite');
    const work = newHome('work');
    fs.writeFileSync(path.join(work, 'customers.csv'), 'profile_id,email\n1,a@example.com\n2,b@example.com\n');
    const h = await openHome({ dir: home, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_ROLE: '', OUTFLOW_USER: 'setup' } });
    try {
      await loadEntity(h, 'Customer', path.join(work, 'customers.csv'), { key: 'profile_id' });
      await createSegment(h, { name: 'everyone', entity: 'Customer', where: 'profile_id > 0' });
      await refreshSegments(h);
      await createConnection(h, {
        type: 'sftp',
        name: 'partner',
        config: { host: sftp.host, port: sftp.port, username: sftp.username, password: sftp.password, folder: '/out', hostKeySha256: sftp.hostKeySha256 },
        acceptPrivacyTerms: true,
      });
      await createExport(h, { name: 'everyone-file', connection: 'partner', segments: ['everyone'], config: {} });
    } finally {
      await h.close();
    }
    server = await startServerProcess(home, { env: { OUTFLOW_DATABASE_URL: '' } });
    servers.push(server);
  }, 120_000);

  afterAll(async () => {
    await sftp?.close();
  });

  it('creates once: the same key again answers the first answer (one-time password included), marked as replayed', async () => {
    const key = randomUUID();
    const first = await post(server, '/api/v1/users', { name: 'retried-user', role: 'contributor' }, key);
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(server, '/api/v1/users', { role: 'contributor', name: 'retried-user' }, key);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // Through the /api alias and as a structured-field string: the same operation, the same key.
    const alias = await post(server, '/api/users', { name: 'retried-user', role: 'contributor' }, `"${key}"`);
    expect(alias.text).toBe(first.text);
    const users = await server.request<{ items: Array<{ name: string }> }>('GET', '/api/v1/users');
    expect(users.body.items.filter((u) => u.name === 'retried-user')).toHaveLength(1);
    // Without a key the retry is a new request: refused, the name is taken.
    expect((await post(server, '/api/v1/users', { name: 'retried-user', role: 'contributor' })).status).toBe(409);
  });

  it('the same key with a different request is a 422 problem that says to send a new key; nothing is done', async () => {
    const key = randomUUID();
    expect((await post(server, '/api/v1/users', { name: 'keyed-once', role: 'contributor' }, key)).status).toBe(201);
    const other = await post(server, '/api/v1/users', { name: 'keyed-twice', role: 'contributor' }, key);
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
    expect(other.json).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect(other.json.detail).toContain('send a new key');
    const users = await server.request<{ items: Array<{ name: string }> }>('GET', '/api/v1/users');
    expect(users.body.items.map((u) => u.name)).not.toContain('keyed-twice');
    // Another operation keeps its own keys: the same key creates a token.
    expect((await post(server, '/api/v1/tokens', { name: 'keyed-token' }, key)).status).toBe(201);
  });

  it('an error answer is not kept: the key may be sent again, with a corrected request', async () => {
    const key = randomUUID();
    const refused = await post(server, '/api/v1/users', { name: 'fixed-later', role: 'boss' }, key);
    expect(refused.status).toBe(422);
    expect(refused.json.code).not.toBe('idempotency_key_reused');
    const fixed = await post(server, '/api/v1/users', { name: 'fixed-later', role: 'contributor' }, key);
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a key that is not 1-255 printable characters is refused', async () => {
    const answer = await post(server, '/api/v1/users', { name: 'bad-key', role: 'contributor' }, 'x'.repeat(256));
    expect(answer.status).toBe(400);
    expect(answer.json.detail).toContain('Idempotency-Key');
  });

  it('concurrent sends of one key create one user; each answer is the first one or a 409 saying it still runs', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(server, '/api/v1/users', { name: 'raced-user', role: 'contributor' }, key)));
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.text)).size).toBe(1);
    for (const a of answers.filter((x) => x.status !== 201)) {
      expect(a.status).toBe(409);
      expect(a.json.code).toBe('idempotency_key_in_progress');
      expect(a.headers.get('retry-after')).toBe('1');
    }
    const users = await server.request<{ items: Array<{ name: string }> }>('GET', '/api/v1/users');
    expect(users.body.items.filter((u) => u.name === 'raced-user')).toHaveLength(1);
  });

  it('a first request that never finished (its server died) is not run again: a 409 says to check and send a new key', async () => {
    const key = randomUUID();
    expect((await post(server, '/api/v1/users', { name: 'half-done', role: 'contributor' }, key)).status).toBe(201);
    // As a server killed between doing the request and keeping its answer leaves the key: pending, and old.
    const sqlite = new BetterSqlite3(path.join(home, 'metadata.sqlite'));
    try {
      sqlite.pragma('busy_timeout = 10000');
      const at = new Date(Date.now() - 20 * 60_000).toISOString();
      expect(sqlite.prepare("UPDATE idempotency_keys SET state = 'pending', response_sealed = NULL, created_at = ? WHERE key = ?").run(at, key).changes).toBe(1);
    } finally {
      sqlite.close();
    }
    const retry = await post(server, '/api/v1/users', { name: 'half-done', role: 'contributor' }, key);
    expect(retry.status).toBe(409);
    expect(retry.json.code).toBe('idempotency_key_in_progress');
    expect(retry.json.detail).toContain('never finished');
    expect(retry.json.detail).toContain('send a new key');
    expect(retry.headers.get('retry-after')).toBeNull();
  });

  it('a run started twice with one key is one run: the same 202 and Location; after a restart, still the same answer', async () => {
    const key = randomUUID();
    const first = await post(server, '/api/v1/exports/everyone-file/runs', undefined, key);
    expect(first.status, first.text).toBe(202);
    const location = first.headers.get('location');
    expect(location).toBe(`/api/v1/runs/${first.json.id}`);
    const again = await post(server, '/api/v1/exports/everyone-file/runs', undefined, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('location')).toBe(location);
    expect(again.text).toBe(first.text);
    // Another export's run with the same key is another request.
    expect((await post(server, '/api/v1/exports/everyone-file/runs?fullResync=true', undefined, key)).status).toBe(422);
    await until('the run ends', async () => !['queued', 'running'].includes((await server.request('GET', location!)).body.status), 120_000);

    const userKey = randomUUID();
    const user = await post(server, '/api/v1/users', { name: 'before-restart', role: 'contributor' }, userKey);
    expect(user.status).toBe(201);

    await server.stop();
    // A key first used 25 h ago: expired, and purged by the server (at its first keyed request, then hourly).
    const expiredRow = () => {
      const sqlite = new BetterSqlite3(path.join(home, 'metadata.sqlite'));
      try {
        return sqlite.prepare("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'from-yesterday'").get() as { n: number };
      } finally {
        sqlite.close();
      }
    };
    const sqlite = new BetterSqlite3(path.join(home, 'metadata.sqlite'));
    try {
      sqlite
        .prepare("INSERT INTO idempotency_keys (scope, operation, key, request_sealed, state, created_at) VALUES ('user:admin', 'createUser', 'from-yesterday', 'x', 'pending', ?)")
        .run(new Date(Date.now() - 25 * 3_600_000).toISOString());
    } finally {
      sqlite.close();
    }
    expect(expiredRow().n).toBe(1);
    server = await startServerProcess(home, { env: { OUTFLOW_DATABASE_URL: '' } });
    servers.push(server);

    const afterRestart = await post(server, '/api/v1/exports/everyone-file/runs', undefined, key);
    expect(afterRestart.status).toBe(202);
    expect(afterRestart.headers.get('location')).toBe(location);
    expect(afterRestart.json.id).toBe(first.json.id);
    const runs = await server.request<{ items: unknown[] }>('GET', '/api/v1/runs?export=everyone-file');
    expect(runs.body.items).toHaveLength(1);
    // The one-time password of the first answer, again: the retry of a create that lost its answer still gets it.
    const userAgain = await post(server, '/api/v1/users', { name: 'before-restart', role: 'contributor' }, userKey);
    expect(userAgain.text).toBe(user.text);
    await until('the expired key is purged', () => expiredRow().n === 0, 60_000);
  }, 240_000);
});

describe('Idempotency-Key across two servers sharing one PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const queue = queuePrefix('idem');
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    db = await freshDatabase('idem');
    const env = {
      OUTFLOW_DATABASE_URL: db.url,
      OUTFLOW_REDIS_URL: REDIS_URL,
      OUTFLOW_QUEUE_PREFIX: queue.prefix,
      // Every server of a deployment shares the key that seals secrets (and the kept answers).
      OUTFLOW_SECRET_KEY: randomBytes(32).toString('hex'),
    };
    // One after the other: the first creates the administrator both act as.
    a = await startServerProcess(newHome('pg-a'), { env });
    servers.push(a);
    b = await startServerProcess(newHome('pg-b'), { env });
    servers.push(b);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await queue.clean();
    await db?.drop();
  });

  it('a create sent to both servers with one key creates once, and either server answers a retry with the first answer', async () => {
    const key = randomUUID();
    const body = { type: 'iterable', name: 'shared-iterable', config: { apiKey: 'not-a-real-key' }, acceptPrivacyTerms: true };
    const answers = await Promise.all([a, b, a, b].map((s) => post(s, '/api/v1/connections', body, key)));
    const created = answers.filter((x) => x.status === 201);
    expect(created.length, answers.map((x) => `${x.status} ${x.text}`).join('\n')).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((x) => x.text)).size).toBe(1);
    for (const other of answers.filter((x) => x.status !== 201)) expect(other.json.code).toBe('idempotency_key_in_progress');

    const first = created[0]!.text;
    for (const s of [a, b]) {
      const retry = await post(s, '/api/v1/connections', body, key);
      expect(retry.status).toBe(201);
      expect(retry.text).toBe(first);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    const list = await b.request<{ items: Array<{ name: string }> }>('GET', '/api/v1/connections');
    expect(list.body.items.filter((x) => x.name === 'shared-iterable')).toHaveLength(1);
    // The kept answer is sealed: the API key sent in the request is nowhere in the table.
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const rows = await client.query('SELECT * FROM idempotency_keys');
      expect(rows.rowCount).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(rows.rows)).not.toContain('not-a-real-key');
    } finally {
      await client.end();
    }
  }, 120_000);
});

describe("the CLI's remote client", () => {
  let server: RunningServer;
  let proxy: net.Server;
  let connections = 0;

  beforeAll(async () => {
    server = await startServer({ dir: newHome('client'), port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_ADMIN_PASSWORD: 'idem-admin-password-1' } });
    const upstream = new URL(server.url);
    // Passes requests through, but drops the first connection once the server has answered on it: the request
    // was done, its answer lost, as when a proxy or the network cuts a connection at the wrong moment.
    proxy = net.createServer((client) => {
      const drop = ++connections === 1;
      const target = net.connect(Number(upstream.port), upstream.hostname);
      client.pipe(target);
      target.on('data', (chunk) => (drop ? client.destroy() : client.write(chunk)));
      target.on('end', () => client.end());
      client.on('error', () => target.destroy());
      client.on('close', () => target.destroy());
      target.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await server?.close();
  });

  it('sends a create again after the connection dropped before its answer, and gets the first answer: one user', async () => {
    const token = await tokenForRole(server, 'admin', 'idem-admin');
    const client = remoteClient(`http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, token);
    const created = await client.createUser({ name: 'sent-twice', role: 'contributor' });
    expect(created).toMatchObject({ name: 'sent-twice', role: 'contributor' });
    expect(connections).toBe(2);
    const admin = { ...server.home, actor: { name: 'idem-admin', role: 'admin' as const } };
    expect((await listUsers(admin)).filter((u) => u.name === 'sent-twice')).toHaveLength(1);
  });
});

describe('the OpenAPI document', () => {
  it('declares Idempotency-Key on the operations that create or start something, and only there', async () => {
    const { createApi } = await import('../src/api/app.ts');
    const api = createApi({ home: { log: console } as never, auth: {} as never, runs: {} as never, metrics: { httpMiddleware: () => async (_c: unknown, next: () => Promise<void>) => next() } as never });
    const doc = (await (await api.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, { operationId: string; parameters?: Array<{ name: string; in: string }> }>> };
    const taking = Object.values(doc.paths)
      .flatMap((ops) => Object.values(ops))
      .filter((op) => op.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'))
      .map((op) => op.operationId)
      .sort();
    expect(taking).toEqual(
      ['applyConfig', 'attachEntity', 'backupHome', 'createConnection', 'createExport', 'createSegment', 'createToken', 'createUser', 'refreshNow', 'refreshSegment', 'refreshSegments', 'resetPassword', 'resumeRun', 'startRun'].sort(),
    );
  });
});
