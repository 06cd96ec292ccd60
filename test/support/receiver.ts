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
  /**
   * How the answer ended, once it has: `finished` when all of it was handed to the socket, `cut`
   * when the client closed the connection first. Set in place, so tests can wait for it.
   */
  ended?: 'finished' | 'cut';
  /** Body bytes of the answer written so far. */
  bytesSent: number;
}

/**
 * An answer. Without `body` it is a short JSON body; with it, the status line and headers go out
 * at once and `body` writes the rest itself (slowly, hugely, or never).
 */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: (response: ServerResponse, sent: (bytes: number) => void) => void;
}

/** What the receiver does with the n-th request (0-based): answer, hang, or drop the connection. */
export type Behaviour = (request: Received, index: number) => Answer | 'hang' | 'drop';

/** A body of one byte every `intervalMs`, never ending: the status arrives, the body never does. */
export const trickle =
  (intervalMs = 1000): Answer['body'] =>
  (response, sent) => {
    const tick = setInterval(() => {
      response.write('x');
      sent(1);
    }, intervalMs);
    response.on('close', () => clearInterval(tick));
  };

/** Headers sent, then silence: a body that never starts. */
export const silence = (): Answer['body'] => () => {};

/**
 * `bytes` of body (Infinity: endless), written as fast as the client reads it: chunked, or with a
 * `content-length` (set it in the answer's headers).
 */
export const hugeBody =
  (bytes: number): Answer['body'] =>
  (response, sent) => {
    const chunk = Buffer.alloc(64 * 1024, 'y');
    let left = bytes;
    const pump = () => {
      while (left > 0 && !response.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        sent(piece.length);
        if (!response.write(piece)) return void response.once('drain', pump);
      }
      if (left <= 0) response.end();
    };
    pump();
  };

/** A real HTTP receiver on 127.0.0.1 that records every request and misbehaves on demand. */
export async function startReceiver(behaviour: Behaviour = () => ({ status: 200 }), port = 0) {
  const received: Received[] = [];
  let attempts = 0;
  const open = new Set<ServerResponse>();
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
        bytesSent: 0,
      };
      const action = behaviour(entry, attempts++);
      if (action === 'drop') {
        request.socket.destroy();
        return;
      }
      open.add(response);
      response.on('close', () => open.delete(response));
      if (action === 'hang') return;
      entry.status = action.status;
      received.push(entry);
      response.on('close', () => {
        entry.ended = response.writableFinished ? 'finished' : 'cut';
      });
      response.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      if (!action.body) {
        response.end(JSON.stringify({ success: action.status < 300 }));
        return;
      }
      response.flushHeaders();
      action.body(response, (bytes) => {
        entry.bytesSent += bytes;
      });
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
        for (const response of open) response.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
