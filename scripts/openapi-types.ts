// Writes src/client/openapi.d.ts: the TypeScript types of the API document a server serves (openapi-typescript).
// The CLI's remote client is typed by them (src/client/typed-http.ts); test/openapi.test.ts fails when the
// committed file differs from what the served document gives. Run after changing a route or a schema:
//   npm run openapi:types
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const API_TYPES_FILE = path.resolve(import.meta.dirname, '..', 'src', 'client', 'openapi.d.ts');

/** The types openapi-typescript generates from `doc`, as they are committed. */
export async function apiTypes(doc: unknown): Promise<string> {
  // The document's `servers` names the server that answered; the types do not depend on it.
  return astToString(await openapiTS(doc as Parameters<typeof openapiTS>[0]));
}

async function main(): Promise<void> {
  const { startServer } = await import('../src/server/serve.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outflow-openapi-types-'));
  const server = await startServer({
    dir: path.join(dir, 'home'),
    port: 0,
    env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'openapi-types-password-1', OUTFLOW_LOG_LEVEL: 'error' },
  });
  try {
    const doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    fs.writeFileSync(API_TYPES_FILE, await apiTypes(doc));
    console.log(`Wrote ${path.relative(process.cwd(), API_TYPES_FILE)}`);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
