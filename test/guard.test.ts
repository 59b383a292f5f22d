import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_BODY_BYTES } from '../src/api/app.ts';
import { createUser } from '../src/app/users.ts';
import { clientAddress, parseTrustedProxies } from '../src/api/client-address.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { outflow, tempDir } from './support/cli.ts';

// The HTTP server's manners at its edges, over a real socket: what in-process requests cannot show.

const dirs: string[] = [];
let server: RunningServer;
let token: string;

beforeAll(async () => {
  const dir = tempDir('guard');
  dirs.push(dir);
  server = await startServer({
    dir,
    port: 0,
    env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'guard-test-admin-password-1', OUTFLOW_TRUSTED_PROXIES: '127.0.0.1, ::1' },
  });
  token = JSON.parse(fs.readFileSync(`${dir}/server.json`, 'utf8')).token as string;
});

afterAll(async () => {
  await server?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes `request` on a new connection and collects everything the server sends until it closes (or `ms`). */
function rawExchange(request: string | Buffer, ms = 10_000): Promise<{ text: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, ms);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (text) resolve({ text, closedByServer: true });
      else reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: true });
    });
    socket.write(request);
  });
}

describe('a body over the limit', () => {
  it('is answered 413 with Connection: close, and the connection ends cleanly after the answer', async () => {
    const body = Buffer.alloc(MAX_JSON_BODY_BYTES + 4096, 'x');
    const head =
      `POST /api/exports HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
    const { text, closedByServer } = await rawExchange(Buffer.concat([Buffer.from(head), body]));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text).toContain('payload_too_large');
    // One answer, then the server hangs up: no second, garbled answer to the rest of the body read as a request.
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(closedByServer).toBe(true);
  });
});

describe('sign-in delays behind a reverse proxy', () => {
  const signIn = (name: string, password: string, forwardedFor: string) =>
    fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }, body: JSON.stringify({ name, password }) });

  it("slow down the guesser's address, not the account: its owner signs in from hers, and the home's owner lifts them", async () => {
    const admin = { ...server.home, actor: { name: 'admin', role: 'admin' as const, via: 'api' as const } };
    const { password } = await createUser(admin, { name: 'vera', role: 'viewer' });
    const attacker = '203.0.113.66';
    const statuses: number[] = [];
    // Five free failures; then each one doubles the wait, so one of the next tries (at most a few, however slow
    // this machine checks passwords) comes too early and is refused.
    for (let i = 0; i < 15 && !statuses.includes(429); i++) statuses.push((await signIn('vera', `guess-${i}`, attacker)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    // A client cannot pick its address: the proxy appends the one it saw, and only that one counts.
    expect([401, 429]).toContain((await signIn('vera', 'guess-spoofed', `198.51.100.7, ${attacker}`)).status);
    const failed = await outflow(server.home.dir, 'audit', '--action', 'session.login_failed', '--json');
    expect(failed.json()[0]).toMatchObject({ target: 'vera', address: attacker });

    // Vera, behind the same proxy but from her own address, is not held back by the guesses.
    const vera = await signIn('vera', password, '198.51.100.7');
    expect(vera.status).toBe(200);
    const audit = await outflow(server.home.dir, 'audit', '--action', 'session.login', '--json');
    expect(audit.json().find((e: { actor: string }) => e.actor === 'vera')).toMatchObject({ address: '198.51.100.7' });

    // The home's owner (the CLI on the home, through the server) lifts the guesser's delays.
    const unlocked = await outflow(server.home.dir, 'user', 'unlock', 'vera');
    expect(unlocked.stderr).toBe('');
    expect(unlocked.stdout).toBe('Lifted the sign-in delays of "vera".\n');
    expect((await signIn('vera', 'guess-again', attacker)).status).toBe(401);
    expect((await outflow(server.home.dir, 'user', 'unlock', 'vera', '--address', attacker, '--json')).json()).toEqual({ user: 'vera', address: attacker, cleared: 2 });
    const nothing = await outflow(server.home.dir, 'user', 'unlock', 'vera');
    expect(nothing.stdout).toBe('No sign-in delays held "vera" back; nothing to lift.\n');
  });
});

describe('the client address', () => {
  const proxies = parseTrustedProxies('127.0.0.1, 10.0.0.0/8, fd00::/8');

  it('believes X-Forwarded-For only from a trusted proxy, and only the hops that trusted proxies appended', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.1', proxies)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '203.0.113.1', parseTrustedProxies(undefined))).toBe('127.0.0.1');
    expect(clientAddress('::ffff:127.0.0.1', '203.0.113.1', proxies)).toBe('203.0.113.1');
    expect(clientAddress('127.0.0.1', '1.2.3.4, 203.0.113.1, 10.1.2.3', proxies)).toBe('203.0.113.1');
    expect(clientAddress('fd00::1', 'not-an-address', proxies)).toBe('fd00::1');
    expect(clientAddress('127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
  });

  it('refuses a setting that is not a list of addresses and CIDR ranges', () => {
    expect(() => parseTrustedProxies('10.0.0.0/33')).toThrow(/OUTFLOW_TRUSTED_PROXIES has "10.0.0.0\/33", which is not an IP address or CIDR range/);
    expect(() => parseTrustedProxies('proxy.example.com')).toThrow(/not an IP address/);
  });
});

describe('GET /metrics', () => {
  it('answers anyone on loopback, but needs an API token when the server listens beyond it', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);

    const dir = tempDir('guard-wide');
    dirs.push(dir);
    const wide = await startServer({ dir, host: '0.0.0.0', port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'guard-test-admin-password-2' } });
    try {
      const url = `http://127.0.0.1:${new URL(wide.url).port}/metrics`;
      const anonymous = await fetch(url);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="outflow"');
      expect(((await anonymous.json()) as { detail: string }).detail).toMatch(/GET \/metrics needs "Authorization: Bearer <token>" while the server listens beyond loopback/);
      expect((await fetch(url, { headers: { authorization: 'Bearer of_not-a-token' } })).status).toBe(401);
      const wideToken = JSON.parse(fs.readFileSync(`${dir}/server.json`, 'utf8')).token as string;
      const scraped = await fetch(url, { headers: { authorization: `Bearer ${wideToken}` } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('# TYPE');
    } finally {
      await wide.close();
    }
  });
});
