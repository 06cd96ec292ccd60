import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { CoreRequest } from './http.js';

/**
 * Core's request over Node's own request and response. A class rather than an object literal with
 * a getter: V8 gives such a literal a new hidden class on every request, which measured as a
 * fifth of a 401's server time.
 */
class NodeRequest implements CoreRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: CoreRequest['headers'];
  readonly remoteAddress: string | undefined;
  readonly secure: boolean;
  readonly route: string | undefined;
  readonly #response: ServerResponse;
  #controller: AbortController | undefined;

  constructor(request: IncomingMessage, response: ServerResponse, route: string | undefined) {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    this.method = request.method ?? 'GET';
    this.path = queryStart === -1 ? url : url.slice(0, queryStart);
    this.query = queryStart === -1 ? '' : url.slice(queryStart + 1);
    this.headers = request.headers;
    this.remoteAddress = request.socket.remoteAddress;
    this.secure = (request.socket as TLSSocket).encrypted === true;
    this.route = route;
    this.#response = response;
  }

  /** Made on first use: most answers (health, 401, 400, a synchronous repository) never need it. */
  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const response = this.#response;
    const abort = () => {
      if (!response.writableFinished) controller.abort(new Error('client closed the connection'));
    };
    if (response.closed) abort();
    else response.once('close', abort);
    return controller.signal;
  }
}

/**
 * Builds core's request from Node's own request and response, which Express, Fastify and Koa all
 * expose. The URL is the one the host app routed (mount prefixes already removed). `route`, when
 * the host's router already chose the endpoint, is the kit path it matched (see
 * `CoreRequest.route`); without it core matches the URL's path.
 */
export function toCoreRequest(
  request: IncomingMessage,
  response: ServerResponse,
  route?: string,
): CoreRequest {
  return new NodeRequest(request, response, route);
}
