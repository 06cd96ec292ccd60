import { type CoreResponse, createHiwelink, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';
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
  const write = (reply: FastifyReply, response: CoreResponse) => {
    reply.code(response.status).headers(response.headers).send(response.body);
  };
  // Written in the same turn when core answers synchronously: a promise per request costs.
  const answer = (request: FastifyRequest, reply: FastifyReply): undefined | Promise<void> => {
    const response = kit.respond(toCoreRequest(request.raw, reply.raw));
    if (response instanceof Promise) return response.then((settled) => write(reply, settled));
    write(reply, response);
  };
  for (const url of kit.paths) {
    // Answering in onRequest, before Fastify parses a body, gives a POST with a malformed or empty
    // JSON body the same 405 as every other framework; the handler is never reached. A hook that
    // replies and never calls `done` ends the request there.
    fastify.route({
      method: METHODS,
      url,
      onRequest: (request, reply, done) => {
        const written = answer(request, reply);
        // Core never rejects; a throwing logger could, and Fastify must answer it, not the process.
        if (written instanceof Promise) written.catch(done);
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
