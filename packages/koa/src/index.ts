import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHiwelink, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';

export type { HiwelinkOptions } from '@hiwelink/core';

/** The part of Koa's context the middleware touches; Koa 2's and 3's contexts both fit. */
export interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  status: number;
  body: unknown;
  set(headers: Record<string, string>): void;
}

export type HiwelinkKoaMiddleware = (
  context: KoaContextLike,
  next: () => Promise<unknown>,
) => Promise<unknown>;

/**
 * Koa middleware serving `/health`, `/api/products` and `/api/orders` (or your `paths`); every
 * other request goes on to `next`. Throws `HiwelinkConfigError` here, at startup, when the options
 * cannot work.
 */
export function hiwelink<Product, Order>(options: HiwelinkOptions<Product, Order>): HiwelinkKoaMiddleware {
  const kit = createHiwelink(options as HiwelinkOptions);
  return (context, next) => {
    const coreRequest = toCoreRequest(context.req, context.res);
    if (!kit.owns(coreRequest.path)) return next();
    const written = kit.respond(coreRequest, (answer) => {
      context.status = answer.status;
      context.set(answer.headers);
      context.body = answer.body;
    });
    return written ?? Promise.resolve();
  };
}
