import { createHiwelink, HiwelinkConfigError, type HiwelinkOptions, toCoreRequest } from '@hiwelink/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';

export type { HiwelinkOptions } from '@hiwelink/core';

// Registered for every common method so that the others get core's 405 rather than a 404.
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** register()'s own settings, which Fastify passes to every plugin along with its options. */
interface RegisterSettings {
  prefix?: unknown;
  logLevel?: unknown;
  logSerializers?: unknown;
}

/** A prefix as Fastify joins it to a route's URL: `'/store/'` + `'/health'` is `/store/health`. */
const trimSlash = (prefix: string | undefined) => (prefix ?? '').replace(/\/+$/, '');

const plugin: FastifyPluginAsync<HiwelinkOptions> = async (fastify, options) => {
  // Fastify hands register()'s own settings to the plugin too. A plugin wrapped in fastify-plugin
  // gets no automatic prefix, so register()'s `prefix` is added to the route URLs here.
  const { prefix, logLevel, logSerializers, ...kitOptions } = options as HiwelinkOptions & RegisterSettings;
  // Checked here, or a bad one would be reported as the basePath it is joined into.
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^\/[^?#\s]*$/.test(prefix))) {
    throw new HiwelinkConfigError([
      `prefix: must start with '/' and hold no '?', '#' or spaces, e.g. '/store'`,
    ]);
  }
  // Fastify adds the enclosing scopes' prefix to every route this plugin registers. The kit is
  // told it too, so that its paths (and its OpenAPI document) are the URLs actually served.
  const scope = trimSlash(fastify.prefix);
  const own = `${trimSlash(prefix)}${kitOptions.basePath ?? ''}`;
  const kit = createHiwelink({ ...kitOptions, basePath: `${scope}${own}` });
  for (const path of kit.paths) {
    // Fastify has routed the request here, its router options (ignoreTrailingSlash, caseSensitive)
    // applied: core is told which endpoint this is instead of matching the raw URL again.
    const answer = (request: FastifyRequest, reply: FastifyReply) =>
      kit.respond(toCoreRequest(request.raw, reply.raw, path), (response) => {
        reply.code(response.status).headers(response.headers).send(response.body);
      });
    // Answering in onRequest, before Fastify parses a body, gives a POST with a malformed or empty
    // JSON body the same 405 as every other framework; the handler is never reached. A hook that
    // replies and never calls `done` ends the request there.
    fastify.route({
      method: METHODS,
      url: path.slice(scope.length),
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
 * `app.register(hiwelink, { products, orders })`. It serves wherever a plugin can be registered:
 * under register()'s `prefix` option, inside prefixed (nested) scopes, several times in one app;
 * the URL is scope prefixes + `prefix` + `basePath` + path, and the OpenAPI document lists those
 * URLs. The app's router options (`ignoreTrailingSlash`, `caseSensitive`, ...) apply to these
 * routes as to its own. Options are validated at registration, and a bad one fails `app.ready()`
 * with a `HiwelinkConfigError` that says what to fix.
 */
export const hiwelink = fp(plugin, { fastify: '4.x || 5.x', name: '@hiwelink/fastify' });
export default hiwelink;
