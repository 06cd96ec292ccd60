import { createHiwelink, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';
import type { FastifyPluginCallback, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';

export type { HiwelinkOptions } from '@hiwelink/core';

// Registered for every common method so that the others get core's 405 rather than a 404.
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const plugin: FastifyPluginCallback<HiwelinkOptions> = (fastify, options, done) => {
  // Fastify hands register()'s own settings to the plugin too; they are not ours to validate.
  const { prefix, logLevel, logSerializers, ...kitOptions } = options as HiwelinkOptions &
    Record<string, unknown>;
  const kit = createHiwelink(kitOptions);
  for (const url of kit.paths) {
    fastify.route({
      method: METHODS,
      url,
      handler: async (request, reply) => {
        const answer = await kit.handle(toCoreRequest(request.raw, reply.raw));
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
      },
    });
  }
  done();
};

/**
 * Fastify plugin serving `/health`, `/api/products` and `/api/orders` (or your `paths`):
 * `app.register(hiwelink, { products, orders })`. Options are validated at registration, and a
 * bad one fails `app.ready()` with a `HiwelinkConfigError` that says what to fix.
 */
export const hiwelink = fp(plugin, { fastify: '4.x || 5.x', name: '@hiwelink/fastify' });
export default hiwelink;
