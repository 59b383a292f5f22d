import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/app/connections.ts';
import { FAKE_DEFAULTS, startMicrosoftAdvertisingFake, type MicrosoftAdvertisingFake } from '../src/destinations/microsoft-advertising/fake-microsoft-advertising.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { outflow, tempDir } from './support/cli.ts';

// The Microsoft sign-in's redirect URI comes from the server's public URL: OUTFLOW_PUBLIC_URL behind a proxy,
// else the address `outflow serve` listens on.

const dirs: string[] = [];
const servers: RunningServer[] = [];
let microsoft: MicrosoftAdvertisingFake | undefined;

afterAll(async () => {
  for (const server of servers) await server.close();
  await microsoft?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function serve(publicUrl: string | undefined): Promise<RunningServer> {
  const dir = tempDir('public-url');
  dirs.push(dir);
  const server = await startServer({ dir, port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_ADMIN_PASSWORD: 'public-url-admin-password-1', OUTFLOW_PUBLIC_URL: publicUrl ?? '' } });
  servers.push(server);
  microsoft ??= await startMicrosoftAdvertisingFake();
  const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
  await createConnection(admin, {
    type: 'microsoft-advertising',
    name: 'msads',
    config: { clientId: FAKE_DEFAULTS.publicClientId, developerToken: FAKE_DEFAULTS.developerToken, authorityUrl: microsoft.authorityUrl, baseUrl: microsoft.baseUrl },
    acceptPrivacyTerms: true,
  });
  return server;
}

async function startSignIn(server: RunningServer): Promise<{ redirectUri: string; authorizationUrl: string }> {
  const token = JSON.parse(fs.readFileSync(`${server.home.dir}/server.json`, 'utf8')).token as string;
  const answer = await fetch(`${server.url}/api/connections/msads/oauth/start`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(answer.status).toBe(200);
  return (await answer.json()) as { redirectUri: string; authorizationUrl: string };
}

describe('the public URL of the sign-in callback', () => {
  it('is the listening address by default', async () => {
    const server = await serve(undefined);
    const { redirectUri, authorizationUrl } = await startSignIn(server);
    expect(redirectUri).toBe(`${server.url}/api/oauth/microsoft/callback`);
    expect(new URL(authorizationUrl).searchParams.get('redirect_uri')).toBe(redirectUri);
  });

  it('follows OUTFLOW_PUBLIC_URL, path prefix included, and sends the browser back under it', async () => {
    const server = await serve('https://outflow.example.com/tools/');
    const { redirectUri, authorizationUrl } = await startSignIn(server);
    expect(redirectUri).toBe('https://outflow.example.com/tools/api/oauth/microsoft/callback');
    // The fake authority takes https redirect URIs, as Microsoft does for web apps; its answer goes to the proxy's
    // address, so the test plays the proxy and hands the callback to the server itself.
    const back = new URL((await fetch(authorizationUrl, { redirect: 'manual' })).headers.get('location')!);
    expect(back.origin + back.pathname).toBe(redirectUri);
    const callback = await fetch(`${server.url}/api/oauth/microsoft/callback${back.search}`, { redirect: 'manual' });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('https://outflow.example.com/tools/connections?signin=ok&connection=msads');
  });

  it('refuses to start with an OUTFLOW_PUBLIC_URL that is not an http(s) URL, saying what it needs', async () => {
    const dir = tempDir('public-url');
    dirs.push(dir);
    await expect(startServer({ dir, port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_ADMIN_PASSWORD: 'public-url-admin-password-1', OUTFLOW_PUBLIC_URL: 'outflow.example.com' } })).rejects.toThrow(
      /The public URL \(--public-url or OUTFLOW_PUBLIC_URL\) must be the http\(s\) URL browsers reach this server at/,
    );
  });

  it('`outflow serve --public-url` is checked the same way, before the server listens', async () => {
    const dir = tempDir('public-url');
    dirs.push(dir);
    const result = await outflow(dir, 'serve', '--port', '0', '--public-url', 'ftp://outflow.example.com');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--public-url or OUTFLOW_PUBLIC_URL\) must be the http\(s\) URL .* not "ftp:\/\/outflow\.example\.com"/);
    // Refused before the home was opened: nothing was created in it (no metadata, no first administrator).
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
