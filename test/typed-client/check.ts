// Compiled by test/openapi.test.ts (tsconfig.json here): what a client generated from the served document
// accepts and refuses at compile time. Each @ts-expect-error must stay an error, or tsc fails on it.
import createClient from 'openapi-fetch';
import type { components, paths } from '../../src/client/openapi.d.ts';
import type { Http } from '../../src/client/http.ts';
import { typedApi } from '../../src/client/typed-http.ts';

const outflow = createClient<paths>({ baseUrl: 'http://localhost:8080' });

export async function generatedClient(): Promise<void> {
  const sftp = { host: 'sftp.example.com', username: 'outflow', password: 'secret', folder: '/exports/partner' };
  await outflow.POST('/api/v1/connections', { body: { type: 'sftp', name: 'Partner SFTP', config: sftp, acceptPrivacyTerms: true } });
  await outflow.POST('/api/v1/exports', { body: { name: 'nightly', connection: 'Partner SFTP', segments: ['vip'], config: { syncMode: 'full', rowsPerFile: 1000 } } });
  await outflow.POST('/api/v1/users', { body: { name: 'ana', role: 'viewer' } });

  // openapi-fetch infers its init argument generically, which skips TypeScript's excess-property check on
  // nested literals: a body typed as the document's schema (or checked with `satisfies`) gets it back.
  const misspelt = {
    name: 'nightly',
    connection: 'Iterable',
    segments: ['vip'],
    // @ts-expect-error a misspelt key of an export config (syncMode)
    config: { syncMod: 'mirror' },
  } satisfies components['schemas']['ExportCreate'];
  void misspelt;
  // @ts-expect-error a role that does not exist
  await outflow.POST('/api/v1/users', { body: { name: 'ana', role: 'boss' } });
  // @ts-expect-error an SFTP connection has no apiKey, and needs a host
  await outflow.POST('/api/v1/connections', { body: { type: 'sftp', name: 'Partner SFTP', config: { apiKey: 'key' } } });
  // @ts-expect-error Autopilot cannot remove members: no mirror sync
  await outflow.PATCH('/api/v1/exports/{id}', { params: { path: { id: 'x' } }, body: { config: { syncMode: 'sideways' } } });
  // @ts-expect-error a path the document lacks
  await outflow.GET('/api/v1/nothing-here');
}

export async function cliClient(http: Http): Promise<void> {
  const api = typedApi(http);
  const run = await api.post('/api/v1/exports/{id}/runs', { path: { id: 'nightly' } });
  const status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' = run.status;
  void status;
  // @ts-expect-error a misspelt key of an export config, in the CLI's own calls too
  await api.post('/api/v1/exports', { body: { name: 'nightly', connection: 'Iterable', segments: ['vip'], config: { syncMod: 'mirror' } } });
  // @ts-expect-error nor send an Idempotency-Key where the operation takes none
  await api.post('/api/v1/runs/{id}/cancel', { path: { id: 'run_1' }, idempotent: true });
  // @ts-expect-error the CLI cannot call a route the document lacks
  await api.get('/api/v1/nothing-here');
  // @ts-expect-error nor a method the document does not give a path
  await api.delete('/api/v1/runs/{id}', { path: { id: 'run_1' } });
  // @ts-expect-error nor leave out a path parameter
  await api.get('/api/v1/runs/{id}');
  // @ts-expect-error nor send a query parameter the operation does not take
  await api.get('/api/v1/exports', { query: { offset: 10 } });
}
