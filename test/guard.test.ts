import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_BODY_BYTES } from '../src/api/app.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { tempDir } from './support/cli.ts';

// The HTTP server's manners at its edges, over a real socket: what in-process requests cannot show.

const dirs: string[] = [];
let server: RunningServer;
let token: string;

beforeAll(async () => {
  const dir = tempDir('guard');
  dirs.push(dir);
  server = await startServer({ dir, port: 0, env: { ...process.env, OUTFLOW_DATABASE_URL: '', OUTFLOW_REDIS_URL: '', OUTFLOW_ADMIN_PASSWORD: 'guard-test-admin-password-1' } });
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
