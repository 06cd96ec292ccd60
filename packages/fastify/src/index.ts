import { createHiwelink, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';

export type { HiwelinkOptions } from '@hiwelink/core';

// Registered for every common method so that the others get core's 405 rather than a 404.
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const plugin: FastifyPluginAsync<HiwelinkOptions> = async (fastify, options) => {
  // Fastify hands register()'s own settings to the plugin too; they are not ours to validate.
  const { prefix, logLevel, logSerializers, ...kitOptions } = options as HiwelinkOptions & Record<string, unknown>;
  const kit = createHiwelink(kitOptions);
  const answer = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await kit.handle(toCoreRequest(request.raw, reply.raw));
    return reply.code(response.status).headers(response.headers).send(response.body);
  };
  for (const url of kit.paths) {
    // Answering in onRequest, before Fastify parses a body, gives a POST with a malformed or empty
    // JSON body the same 405 as every other framework; the handler is never reached.
    fastify.route({ method: METHODS, url, onRequest: answer, handler: answer });
  }
};

/**
 * Fastify plugin serving `/health`, `/api/products` and `/api/orders` (or your `paths`):
 * `app.register(hiwelink, { products, orders })`. Options are validated at registration, and a
 * bad one fails `app.ready()` with a `HiwelinkConfigError` that says what to fix.
 */
export const hiwelink = fp(plugin, { fastify: '4.x || 5.x', name: '@hiwelink/fastify' });
export default hiwelink;
