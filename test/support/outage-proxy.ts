import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Outage {
  status: number;
  /** How long the outage lasts, on `now`'s clock, from the moment it is declared. */
  forMs: number;
  retryAfterS?: number;
  now: () => number;
}

export interface OutageProxy {
  url: string;
  /** Answers `status` to every request until `forMs` have passed on `now`'s clock, then forwards again. */
  declare(outage: Outage): void;
  /** Requests answered with the outage's status so far. */
  refused: number;
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of a vendor fake that can make the vendor go down for a while: the real HTTP
 * answers (503, or 429 with Retry-After) a destination client sees in an outage, without teaching every fake
 * about outages. The clock is injected, so an outage of a minute can pass in no wall time.
 */
export async function startOutageProxy(target: string): Promise<OutageProxy> {
  let outage: (Outage & { from: number }) | null = null;
  const proxy: OutageProxy = {
    url: '',
    refused: 0,
    declare(next) {
      outage = { ...next, from: next.now() };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (outage && outage.now() - outage.from < outage.forMs) {
      proxy.refused++;
      res.writeHead(outage.status, {
        'content-type': 'application/json',
        ...(outage.retryAfterS !== undefined ? { 'retry-after': String(outage.retryAfterS) } : {}),
      });
      res.end(JSON.stringify({ msg: outage.status === 429 ? 'Exceeded rate limit.' : 'Service Unavailable', code: 'GenericError' }));
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)).map(([k, v]) => [k, String(v)]));
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    const upstream = await fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body });
    const text = Buffer.from(await upstream.arrayBuffer());
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
