import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { CoreRequest } from './http.js';

/**
 * Builds core's request from Node's own request and response, which Express, Fastify and Koa all
 * expose. The URL is the one the host app routed (mount prefixes already removed).
 */
export function toCoreRequest(request: IncomingMessage, response: ServerResponse): CoreRequest {
  const url = request.url ?? '/';
  const queryStart = url.indexOf('?');
  // Most answers (health, 401, 400) never read the signal: create it only when asked for.
  let controller: AbortController | undefined;
  const abortController = () => {
    controller ??= new AbortController();
    return controller;
  };
  response.once('close', () => {
    if (!response.writableFinished) abortController().abort(new Error('client closed the connection'));
  });
  return {
    method: request.method ?? 'GET',
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    headers: request.headers,
    remoteAddress: request.socket.remoteAddress,
    secure: (request.socket as TLSSocket).encrypted === true,
    get signal() {
      return abortController().signal;
    },
  };
}
