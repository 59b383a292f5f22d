import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Problem } from '../src/api/schemas.ts';
import { createConnection } from '../src/app/connections.ts';
import { createSegment } from '../src/app/data.ts';
import { createExport } from '../src/app/exports.ts';
import type { Home } from '../src/app/home.ts';
import { createToken, createUser } from '../src/app/users.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';

// Optimistic concurrency over HTTP: ETag on what can be edited, If-Match honoured by PATCH and DELETE (412 as a
// problem with the current ETag when stale), no If-Match still accepted (clients written before it).

let dir: string;
let server: RunningServer;
let headers: Record<string, string>;

beforeAll(async () => {
  dir = tempDir('api-concurrency');
  server = await startServer({ dir: path.join(dir, 'home'), port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_PROFILES_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'concurrency-test-password-1' } });
  const admin: Home = { ...server.home, actor: { name: 'admin', role: 'admin', via: 'api' } };
  headers = { authorization: `Bearer ${(await createToken(admin, { name: 'concurrency-test' })).token}`, 'content-type': 'application/json' };
  fs.writeFileSync(path.join(dir, 'c.csv'), 'profile_id,email,country\n1,a@example.com,NL\n2,b@example.com,DE\n');
  await admin.profiles.loadEntity('Customer', path.join(dir, 'c.csv'), { key: 'profile_id' });
  await createConnection(admin, { type: 'sftp', name: 'files', config: { host: 'sftp.example.com', username: 'u', password: 'pw-1', folder: '/out' }, acceptPrivacyTerms: true });
  await createSegment(admin, { name: 'nl', where: "country = 'NL'" });
  await createExport(admin, { name: 'daily', connection: 'files', entities: ['Customer'] });
  await createUser(admin, { name: 'bo', role: 'viewer' });
});

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, route: string, options: { body?: unknown; ifMatch?: string } = {}) {
  const response = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers: { ...headers, ...(options.ifMatch !== undefined ? { 'if-match': options.ifMatch } : {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, etag: response.headers.get('etag'), type: response.headers.get('content-type'), body: (await response.json()) as any };
}

describe('ETag and If-Match', () => {
  it('GET answers the ETag, the same as the etag member; a stale PATCH gets 412 with the current ETag and saves nothing', async () => {
    const read = await call('GET', '/exports/daily');
    expect(read.status).toBe(200);
    expect(read.etag).toMatch(/^"exp_\w+\.\d+"$/);
    expect(read.body.etag).toBe(read.etag);

    // Someone else saves from the same read: accepted, with the new version's ETag.
    const theirs = await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 100 } }, ifMatch: read.etag! });
    expect(theirs.status).toBe(200);
    expect(theirs.etag).not.toBe(read.etag);
    expect(theirs.body.etag).toBe(theirs.etag);

    const stale = await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 5 } }, ifMatch: read.etag! });
    expect(stale.status).toBe(412);
    expect(stale.type).toBe('application/problem+json');
    expect(Problem.parse(stale.body)).toEqual({
      type: 'urn:outflow:problem:precondition_failed',
      title: 'Precondition failed',
      status: 412,
      code: 'precondition_failed',
      detail: 'Export "daily" was changed by someone else since you read it; nothing was saved. Reload it to see the current version, then make your change again.',
      etag: theirs.etag,
    });
    expect(stale.etag).toBe(theirs.etag);
    expect((await call('GET', '/exports/daily')).body.config.rowsPerFile).toBe(100);
  });

  it('accepts an edit without If-Match (clients written before it), with `*`, and with a list holding the current ETag', async () => {
    expect((await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 6 } } })).status).toBe(200);
    expect((await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 7 } }, ifMatch: '*' })).status).toBe(200);
    const current = (await call('GET', '/exports/daily')).etag!;
    const listed = await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 8 } }, ifMatch: `"exp_older.1", ${current}` });
    expect(listed.status).toBe(200);
    expect(listed.body.config.rowsPerFile).toBe(8);
  });

  it('never matches a weak ETag (If-Match compares strongly) and refuses a malformed If-Match with 400', async () => {
    const current = (await call('GET', '/exports/daily')).etag!;
    expect((await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 9 } }, ifMatch: `W/${current}` })).status).toBe(412);
    for (const bad of ['exp_unquoted.3', '"unterminated', '""x', ',']) {
      const answer = await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 9 } }, ifMatch: bad });
      expect(answer.status, bad).toBe(400);
      expect(answer.body).toMatchObject({ code: 'invalid_request', detail: expect.stringContaining('If-Match') });
    }
    expect((await call('GET', '/exports/daily')).body.config.rowsPerFile).toBe(8);
  });

  it('DELETE honours If-Match', async () => {
    await call('POST', '/exports', { body: { name: 'weekly', connection: 'files', entities: ['Customer'] } });
    const read = await call('GET', '/exports/weekly');
    await call('PATCH', '/exports/weekly', { body: { config: { rowsPerFile: 3 } } });
    const stale = await call('DELETE', '/exports/weekly', { ifMatch: read.etag! });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('precondition_failed');
    const current = (await call('GET', '/exports/weekly')).etag!;
    expect((await call('DELETE', '/exports/weekly', { ifMatch: current })).status).toBe(200);
  });

  it('connections, segments and users: ETag in what GET and the lists answer, 412 on a stale edit', async () => {
    const connection = await call('GET', '/connections/files');
    expect(connection.etag).toMatch(/^"conn_\w+\.\d+"$/);
    expect((await call('PATCH', '/connections/files', { body: { config: { folder: '/a' } }, ifMatch: connection.etag! })).status).toBe(200);
    const staleConnection = await call('PATCH', '/connections/files', { body: { config: { folder: '/b' } }, ifMatch: connection.etag! });
    expect(staleConnection.status).toBe(412);
    expect(staleConnection.body.detail).toMatch(/^Connection "files" was changed by someone else since you read it/);
    expect((await call('DELETE', '/connections/files?force=true', { ifMatch: connection.etag! })).status).toBe(412);

    const segment = (await call('GET', '/segments')).body.items.find((s: { name: string }) => s.name === 'nl');
    const edited = await call('PATCH', '/segments/nl', { body: { where: "country = 'DE'" }, ifMatch: segment.etag });
    expect(edited.status).toBe(200);
    expect(edited.etag).toBe(edited.body.etag);
    expect((await call('PATCH', '/segments/nl', { body: { where: "country = 'NL'" }, ifMatch: segment.etag })).status).toBe(412);
    expect((await call('DELETE', '/segments/nl', { ifMatch: segment.etag })).status).toBe(412);

    const user = (await call('GET', '/users')).body.items.find((u: { name: string }) => u.name === 'bo');
    expect((await call('PATCH', '/users/bo', { body: { role: 'contributor' }, ifMatch: user.etag })).status).toBe(200);
    const staleUser = await call('PATCH', '/users/bo', { body: { role: 'admin' }, ifMatch: user.etag });
    expect(staleUser.status).toBe(412);
    expect(staleUser.body.detail).toMatch(/^User "bo" was changed by someone else/);
    expect((await call('DELETE', '/users/bo', { ifMatch: user.etag })).status).toBe(412);
    expect((await call('GET', '/users')).body.items.find((u: { name: string }) => u.name === 'bo').role).toBe('contributor');
  });
});

describe("ETag and If-Match on the home's settings", () => {
  it('PUT/DELETE /schedule: GET answers the ETag; stale gets 412 with the current ETag and saves nothing; fresh and none get 200', async () => {
    const read = await call('GET', '/schedule');
    expect(read.status).toBe(200);
    expect(read.etag).toMatch(/^"schedule\.\d+"$/);
    expect(read.body.etag).toBe(read.etag);

    const theirs = await call('PUT', '/schedule', { body: { cron: '0 6 * * *', timeZone: 'UTC' }, ifMatch: read.etag! });
    expect(theirs.status).toBe(200);
    expect(theirs.etag).not.toBe(read.etag);
    expect(theirs.body.etag).toBe(theirs.etag);

    const stale = await call('PUT', '/schedule', { body: { cron: '0 7 * * *', timeZone: 'UTC' }, ifMatch: read.etag! });
    expect(stale.status).toBe(412);
    expect(Problem.parse(stale.body)).toMatchObject({ code: 'precondition_failed', status: 412, etag: theirs.etag });
    expect(stale.body.detail).toMatch(/^The home's refresh schedule was changed by someone else since you read it; nothing was saved/);
    expect(stale.etag).toBe(theirs.etag);
    expect((await call('DELETE', '/schedule', { ifMatch: read.etag! })).status).toBe(412);
    expect((await call('GET', '/schedule')).body.cron).toEqual(['0 6 * * *']);

    const off = await call('DELETE', '/schedule', { ifMatch: theirs.etag! });
    expect(off.status).toBe(200);
    expect(off.body.enabled).toBe(false);
    expect(off.etag).toBe(off.body.etag);
    expect((await call('PUT', '/schedule', { body: { cron: '0 8 * * *', timeZone: 'UTC' } })).status).toBe(200);
    expect((await call('PUT', '/schedule', { body: { cron: '0 8 * * *', timeZone: 'UTC' }, ifMatch: 'schedule.1' })).status).toBe(400);
  });

  it('PUT/DELETE /notify: the ETag exists before any webhook is set; stale gets 412, fresh gets 200', async () => {
    const read = await call('GET', '/notify');
    expect(read.status).toBe(200);
    expect(read.body.notify).toBeNull();
    expect(read.etag).toMatch(/^"notify\.\d+"$/);
    expect(read.body.etag).toBe(read.etag);

    const theirs = await call('PUT', '/notify', { body: { url: 'https://93.184.216.34/services/secret' }, ifMatch: read.etag! });
    expect(theirs.status).toBe(200);
    expect(theirs.body.etag).toBe(theirs.etag);
    expect(theirs.etag).not.toBe(read.etag);

    const stale = await call('PUT', '/notify', { body: { url: 'https://93.184.216.34/services/other', on: ['failed'] }, ifMatch: read.etag! });
    expect(stale.status).toBe(412);
    expect(Problem.parse(stale.body)).toMatchObject({ code: 'precondition_failed', etag: theirs.etag });
    expect((await call('DELETE', '/notify', { ifMatch: read.etag! })).status).toBe(412);
    expect((await call('GET', '/notify')).body.notify.on).toEqual(['failed', 'recovered']);

    const removed = await call('DELETE', '/notify', { ifMatch: theirs.etag! });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ removed: true, etag: removed.etag });
    expect((await call('PUT', '/notify', { body: { url: 'https://93.184.216.34/services/secret' }, ifMatch: theirs.etag! })).status).toBe(412);
    expect((await call('GET', '/notify')).body.notify).toBeNull();
  });

  it("PUT/DELETE /exports/{id}/schedule honour the export's If-Match", async () => {
    const read = (await call('GET', '/exports/daily')).etag!;
    expect((await call('PATCH', '/exports/daily', { body: { config: { rowsPerFile: 11 } } })).status).toBe(200);
    const stale = await call('PUT', '/exports/daily/schedule', { body: { cron: '0 6 * * *', timeZone: 'UTC' }, ifMatch: read });
    expect(stale.status).toBe(412);
    expect(stale.body.detail).toMatch(/^Export "daily" was changed by someone else/);
    expect((await call('DELETE', '/exports/daily/schedule', { ifMatch: read })).status).toBe(412);
    const current = (await call('GET', '/exports/daily')).etag!;
    const fresh = await call('PUT', '/exports/daily/schedule', { body: { cron: '0 6 * * *', timeZone: 'UTC' }, ifMatch: current });
    expect(fresh.status).toBe(200);
    expect(fresh.body.cron).toBe('0 6 * * *');
    expect((await call('DELETE', '/exports/daily/schedule', { ifMatch: current })).status).toBe(200);
  });
});
