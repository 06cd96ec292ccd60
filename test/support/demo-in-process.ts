import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Store, waitForQueue } from '../../examples/express-sqlite/dist/app.js';
import type { Defer } from './emitters.js';

/**
 * Serves a demo store made in this process (`createStore`) on a free port of 127.0.0.1, once its
 * webhook queue answers; `defer` closes the server, then shuts the store down (2 s for webhooks).
 * Resolves with the base URL.
 */
export async function serveStore(store: Store, defer: Defer): Promise<string> {
  const server = createServer(store.app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  defer(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.shutdown(2_000);
  });
  await waitForQueue(store);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
