import { afterAll, describe, expect, it } from 'vitest';
import { createHttp } from '../src/client/http.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';
import { tokenForRole } from './support/server.ts';

let server: RunningServer | undefined;
afterAll(async () => server?.close());

describe('API rate limits on a real server', () => {
  it('slows a script that goes too fast (429, Retry-After, RateLimit headers), not other callers; the CLI waits and goes on', async () => {
    server = await startServer({
      dir: tempDir('rate-limit'),
      port: 0,
      env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'rate-limit-test-password-1', OUTFLOW_API_RATE_LIMIT_TOKEN: '4/3s' },
    });
    const script = await tokenForRole(server, 'viewer', 'script');
    const person = await tokenForRole(server, 'viewer', 'person');
    const get = (token: string) => fetch(`${server!.url}/api/exports`, { headers: { authorization: `Bearer ${token}` } });
    // Start at the beginning of a 3 s window, so the burst below fits in one.
    await new Promise((r) => setTimeout(r, 3000 - (Date.now() % 3000) + 20));
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const response = await get(script);
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
      else await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused!.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    expect(refused!.headers.get('ratelimit-policy')).toBe('"token";q=4;w=3, "address";q=2000;w=10');
    expect(refused!.headers.get('ratelimit')).toMatch(/^"token";r=0;t=\d, "address";r=\d+;t=\d+$/);
    expect(await refused!.json()).toMatchObject({ code: 'rate_limited', limit: 'token' });
    // Someone else is served meanwhile.
    expect((await get(person)).status).toBe(200);

    // The CLI's client waits as the server says and goes on: 10 requests at a limit of 4 per 3 s all succeed.
    const http = createHttp(server.url, script);
    const started = Date.now();
    for (let i = 0; i < 10; i++) await http.request('GET', '/api/exports');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
  }, 60_000);
});
