import { createHiwelink, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';

export type { HiwelinkOptions } from '@hiwelink/core';

// Registered for every common method so that the others get core's 405 rather than a 404.
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** register()'s own settings, which Fastify passes to every plugin along with its options. */
interface RegisterSettings {
  prefix?: string;
  logLevel?: unknown;
  logSerializers?: unknown;
}

const plugin: FastifyPluginAsync<HiwelinkOptions> = async (fastify, options) => {
  // Fastify hands register()'s own settings to the plugin too. A plugin wrapped in fastify-plugin
  // gets no automatic prefix, so register()'s `prefix` is applied through core's basePath.
  const { prefix, logLevel, logSerializers, ...kitOptions } = options as HiwelinkOptions & RegisterSettings;
  const kit = createHiwelink({ ...kitOptions, basePath: `${prefix ?? ''}${kitOptions.basePath ?? ''}` });
  const answer = (request: FastifyRequest, reply: FastifyReply) =>
    kit.respond(toCoreRequest(request.raw, reply.raw), (response) => {
      reply.code(response.status).headers(response.headers).send(response.body);
    });
  for (const url of kit.paths) {
    // Answering in onRequest, before Fastify parses a body, gives a POST with a malformed or empty
    // JSON body the same 405 as every other framework; the handler is never reached. A hook that
    // replies and never calls `done` ends the request there.
    fastify.route({
      method: METHODS,
      url,
      onRequest: (request, reply, done) => {
        // A rejection (only a throwing write) goes to Fastify's error handling, not the process.
        answer(request, reply)?.catch(done);
      },
      handler: answer,
    });
  }
};

/**
 * Fastify plugin serving `/health`, `/api/products` and `/api/orders` (or your `paths`):
 * `app.register(hiwelink, { products, orders })`. Options are validated at registration, and a
 * bad one fails `app.ready()` with a `HiwelinkConfigError` that says what to fix.
 */
export const hiwelink = fp(plugin, { fastify: '4.x || 5.x', name: '@hiwelink/fastify' });
export default hiwelink;
