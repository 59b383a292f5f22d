import { afterAll } from 'vitest';
import { createToken, createUser } from '../../src/app/users.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

/**
 * With `OUTFLOW_TEST_VIA_SERVER=1` the CLI end-to-end tests run a second time with an Outflow server owning
 * each home, so every command goes through the REST API: the same tests prove that both paths print the
 * same text, JSON and exit codes.
 */
export const viaServer = process.env.OUTFLOW_TEST_VIA_SERVER === '1';

const servers = new Map<string, Promise<RunningServer>>();

/** Starts (once) an in-process server owning `home`, on a free loopback port. */
export function ensureServer(home: string): Promise<RunningServer> {
  let server = servers.get(home);
  if (!server) {
    server = startServer({ dir: home, port: 0, env: { ...process.env, OUTFLOW_ADMIN_PASSWORD: 'test-admin-password-1' } });
    servers.set(home, server);
  }
  return server;
}

const tokens = new Map<string, Promise<string>>();

/** An API token of a test account with `role` on `server` (created once per server and role). */
export function tokenForRole(server: RunningServer, role: string, userName = `test-${role}`): Promise<string> {
  const key = `${server.url} ${role} ${userName}`;
  let token = tokens.get(key);
  if (!token) {
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    token = (async () => {
      const name = userName;
      await createUser(admin, { name, role });
      return (await createToken(admin, { user: name, name: 'tests' })).token;
    })();
    tokens.set(key, token);
  }
  return token;
}

export async function stopServers(): Promise<void> {
  const all = [...servers.values()];
  servers.clear();
  await Promise.all(all.map(async (s) => (await s).close()));
}

if (viaServer) afterAll(stopServers);
