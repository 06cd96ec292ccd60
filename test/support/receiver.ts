import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  /** The body exactly as it arrived. */
  raw: Buffer;
  body: { event: string; data: Record<string, unknown> };
  at: number;
  /** The status it was answered with. */
  status?: number;
}

/** What the receiver does with the n-th request (0-based): answer, hang, or drop the connection. */
export type Behaviour = (
  request: Received,
  index: number,
) => { status: number; headers?: Record<string, string> } | 'hang' | 'drop';

/** A real HTTP receiver on 127.0.0.1 that records every request and misbehaves on demand. */
export async function startReceiver(behaviour: Behaviour = () => ({ status: 200 }), port = 0) {
  const received: Received[] = [];
  let attempts = 0;
  const hanging: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const entry: Received = {
        path: request.url ?? '',
        headers: request.headers,
        raw,
        body: JSON.parse(raw.toString('utf8')),
        at: Date.now(),
      };
      const action = behaviour(entry, attempts++);
      if (action === 'drop') {
        request.socket.destroy();
        return;
      }
      if (action === 'hang') {
        hanging.push(response);
        return;
      }
      received.push({ ...entry, status: action.status });
      response.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      response.end(JSON.stringify({ success: action.status < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    /** Requests answered with a status (dropped and hanging ones are not in here). */
    received,
    /** Requests answered with 2xx, in arrival order. */
    delivered: () => received.filter((entry) => (entry.status ?? 500) < 300),
    attempts: () => attempts,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
