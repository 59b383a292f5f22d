import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../domain/errors.ts';
import { createHttpClient } from './http.ts';
import { createTestContext } from './testing.ts';

// The bug this guards against (nodejs/node#57736): a timeout signal combined with AbortSignal.any() can be
// garbage-collected before it fires. Collecting garbage while the request waits makes it happen every time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const servers: Array<Server | HttpServer> = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen<T extends Server | HttpServer>(server: T): Promise<string> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Runs `request` while collecting garbage every few milliseconds, and returns what it threw. */
async function failureOf(request: Promise<unknown>): Promise<unknown> {
  const collector = setInterval(gc, 5);
  try {
    await request;
    return undefined;
  } catch (error) {
    return error;
  } finally {
    clearInterval(collector);
  }
}

describe('HTTP requests have a deadline that fires', () => {
  it('fails with `timeout` when the server accepts the connection and never answers', async () => {
    let accepted!: () => void;
    const connected = new Promise<void>((resolve) => (accepted = resolve));
    const baseUrl = await listen(createServer(() => accepted()));
    const http = createHttpClient({ vendor: 'Silent', baseUrl, ctx: createTestContext(), timeoutMs: 200 });
    const error = await failureOf(http.request('GET', '/lists'));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'timeout', message: 'Silent did not answer GET /lists within 200 ms.' });
    // The server did accept the connection (on a busy machine its accept may run after the client gave up).
    await connected;
  });

  it('fails with `timeout` when the answer comes after the deadline', async () => {
    const baseUrl = await listen(
      createHttpServer((_req, res) => {
        const timer = setTimeout(() => res.end('{"late":true}'), 2_000);
        res.once('close', () => clearTimeout(timer));
      }),
    );
    const http = createHttpClient({ vendor: 'Slow', baseUrl, ctx: createTestContext(), timeoutMs: 150 });
    expect(await failureOf(http.request('POST', '/subscribe', { json: { a: 1 } }))).toMatchObject({ code: 'timeout' });
  });

  it('fails with `timeout` when the headers come in time but the body stalls half-way', async () => {
    const baseUrl = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"lists": [');
      }),
    );
    const http = createHttpClient({ vendor: 'Stalling', baseUrl, ctx: createTestContext(), timeoutMs: 200 });
    const error = await failureOf(http.request('GET', '/lists'));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('takes the deadline of the context (OUTFLOW_REQUEST_TIMEOUT_MS) over the client default', async () => {
    const baseUrl = await listen(createServer(() => undefined));
    const http = createHttpClient({ vendor: 'Silent', baseUrl, ctx: createTestContext({ requestTimeoutMs: 100 }), timeoutMs: 60_000 });
    expect(await failureOf(http.request('GET', '/x'))).toMatchObject({ code: 'timeout', message: expect.stringContaining('within 100 ms') });
  });

  it('still answers a server that answers in time, and a cancelled run is not a timeout', async () => {
    const baseUrl = await listen(createHttpServer((_req, res) => res.end('{"ok":true}')));
    const http = createHttpClient({ vendor: 'Fine', baseUrl, ctx: createTestContext(), timeoutMs: 5_000 });
    expect((await http.request('GET', '/ok')).body).toEqual({ ok: true });

    const silent = await listen(createServer(() => undefined));
    const controller = new AbortController();
    const cancelled = createHttpClient({ vendor: 'Silent', baseUrl: silent, ctx: createTestContext({ signal: controller.signal }), timeoutMs: 60_000 });
    const pending = failureOf(cancelled.request('GET', '/x'));
    controller.abort(new Error('cancelled by the user'));
    const error = await pending;
    expect(error).not.toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ message: 'cancelled by the user' });
  });
});
