import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHiwelink, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';

export type { HiwelinkOptions } from '@hiwelink/core';

/** Express middleware signature, written against Node's types so it fits Express 4 and 5 alike. */
export type HiwelinkMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Serves `/health`, `/api/products` and `/api/orders` (or your `paths`); every other request goes
 * on to the next handler. Mount it with `app.use(hiwelink({ products, orders }))`, at any prefix.
 * Throws `HiwelinkConfigError` here, at startup, when the options cannot work.
 */
export function hiwelink<Product, Order>(options: HiwelinkOptions<Product, Order>): HiwelinkMiddleware {
  const kit = createHiwelink(options as HiwelinkOptions);
  return (request, response, next) => {
    const coreRequest = toCoreRequest(request, response);
    if (!kit.owns(coreRequest.path)) {
      next();
      return;
    }
    kit
      .respond(coreRequest, (answer) => {
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      })
      ?.catch(next);
  };
}
