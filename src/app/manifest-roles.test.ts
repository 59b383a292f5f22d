import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/cli.ts';
import type { Actor } from '../domain/model.ts';
import { createConnection, showConnection, verifyConnection, type ConnectionView } from './connections.ts';
import { createSegment, refreshSegments } from './data.ts';
import { createExport, exportManifest, runExport } from './exports.ts';
import { openHome, type Home } from './home.ts';

const admin: Actor = { name: 'ada', role: 'admin' };
const viewer: Actor = { name: 'vic', role: 'viewer' };
const contributor: Actor = { name: 'carol', role: 'contributor' };

// Login details planted in an admin-only SFTP connection and in a base URL (a proxy with basic auth and a key
// in the query): none may reach anyone but an administrator, and the URL's parts nobody at all.
const USER_INFO = 'proxyuser:pa55word';
const QUERY_KEY = 'k3y-in-query';
const BASE_URL = `http://${USER_INFO}@127.0.0.1:9/base?api_key=${QUERY_KEY}`;

let dir: string;
let work: string;
let home: Home;

beforeAll(async () => {
  dir = tempDir('manifest-roles');
  work = tempDir('manifest-roles-work');
  // A run against the closed port fails after two quick tries instead of the default back-off.
  home = await openHome({ dir, actor: admin, retry: { baseMs: 5, maxMs: 20, maxAttempts: 2 } });
  fs.writeFileSync(`${work}/c.csv`, 'profile_id,email,country\n1,a@example.com,NL\n');
  await home.profiles.loadEntity('Customer', `${work}/c.csv`, { key: 'profile_id' });
  await createSegment(home, { name: 'nl', where: "country = 'NL'" });
  await createConnection(home, {
    type: 'sftp',
    name: 'partner',
    config: { host: 'sftp.partner.example', port: 2222, username: 'outflow-upload', password: 'pw', folder: '/incoming/outflow' },
    acceptPrivacyTerms: true,
  });
  await createConnection(home, { type: 'iterable', name: 'iterable', config: { apiKey: 'key', region: 'eu', baseUrl: BASE_URL }, acceptPrivacyTerms: true });
  await createExport(home, { name: 'to-partner', connection: 'partner', entities: ['Customer'] });
  await createExport(home, { name: 'to-iterable', connection: 'iterable', segments: ['nl'], config: { mapping: { email: 'email' } } });
});

afterAll(async () => {
  await home?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function as<T>(actor: Actor, fn: () => Promise<T>): Promise<T> {
  const previous = home.actor;
  home.actor = actor;
  return fn().finally(() => {
    home.actor = previous;
  });
}

describe('the data manifest per role', () => {
  it('shows viewers and contributors where data goes, never how an admin-only connection logs in', async () => {
    for (const actor of [viewer, contributor]) {
      const sftp = await as(actor, () => exportManifest(home, 'to-partner'));
      expect(sftp.destination).toMatchObject({ type: 'sftp', connection: 'partner', account: { host: 'sftp.partner.example' } });
      expect(sftp.destination.account).toEqual({ host: 'sftp.partner.example' });
      const iterable = await as(actor, () => exportManifest(home, 'to-iterable'));
      expect(iterable.destination.account).toEqual({ host: '127.0.0.1', region: 'eu' });
      const text = JSON.stringify([sftp, iterable]);
      for (const detail of ['outflow-upload', '2222', '/incoming/outflow', 'proxyuser', 'pa55word', QUERY_KEY, '/base']) expect(text).not.toContain(detail);
    }
  });

  it("shows administrators the account, with a URL's user name, password and query left out", async () => {
    const sftp = await exportManifest(home, 'to-partner');
    expect(sftp.destination.account).toMatchObject({ host: 'sftp.partner.example', port: 2222, username: 'outflow-upload', folder: '/incoming/outflow' });
    const iterable = await exportManifest(home, 'to-iterable');
    expect(iterable.destination.account).toMatchObject({ region: 'eu', baseUrl: 'http://•••@127.0.0.1:9/base?•••' });
    const view = (await showConnection(home, 'iterable')) as ConnectionView;
    expect(view.config.baseUrl).toBe('http://•••@127.0.0.1:9/base?•••');
    for (const text of [JSON.stringify(iterable), JSON.stringify(view)]) for (const secret of ['pa55word', 'proxyuser', QUERY_KEY]) expect(text).not.toContain(secret);
  });

  it("keeps a base URL's user name, password and query out of verify errors and the log", async () => {
    const result = await verifyConnection(home, 'iterable');
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    const log = fs.readFileSync(path.join(dir, 'logs', 'outflow.log'), 'utf8');
    for (const secret of ['pa55word', QUERY_KEY]) {
      expect(text).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
  });

  it("keeps them out of a failed run's error, which every role sees", async () => {
    await refreshSegments(home);
    const run = await runExport(home, 'to-iterable');
    expect(run.status).toBe('failed');
    expect(run.error?.message).toMatch(/127\.0\.0\.1/);
    const log = fs.readFileSync(path.join(dir, 'logs', 'outflow.log'), 'utf8');
    for (const secret of ['pa55word', QUERY_KEY]) {
      expect(JSON.stringify(run)).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
  });
});
