import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts a fake vendor's HTTP server on loopback: on `port` when given (the demo's sandboxes keep theirs
 * across restarts, so that the connections the demo made still reach them), else on a free one. A port in
 * use rejects with an error that says so, instead of an 'error' event nobody listens to.
 */
export function listenOnLoopback(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} on 127.0.0.1 is in use by another program; stop it or pick another port.`, { cause: error }) : error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
