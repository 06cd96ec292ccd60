import type { AddressInfo } from 'node:net';
import type { HiwelinkOptions, ListCallback, Logger } from '@hiwelink/core';
import { hiwelink } from '@hiwelink/fastify';
import fastify5, { type FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';

// Kind: the Fastify plugin serves exactly the routes Fastify routed to it, wherever it is
// registered (nested scopes, several prefixes, the app's router options), and its OpenAPI
// document names the URLs Fastify actually serves.

const KEY = 'sk_test_9a1c3e5f7b2d4f6a8c0e1b3d5f7a9c2e';
const auth = { 'x-api-key': KEY };
const quiet: Logger = { warn: () => {}, error: () => {} };

const catalog =
  (name: string): ListCallback =>
  ({ offset, perPage }) => {
    const items = [{ id: '1', name }];
    return { items: items.slice(offset, offset + perPage), total: items.length };
  };

const options = (name = 'Mug'): HiwelinkOptions => ({
  products: catalog(name),
  orders: catalog('order'),
  auth: { apiKey: KEY },
  logger: quiet,
});

interface Page {
  data: { id: string; name: string }[];
}

type RouterOptions = {
  ignoreTrailingSlash?: boolean;
  ignoreDuplicateSlashes?: boolean;
  caseSensitive?: boolean;
};

const versions = [
  {
    name: 'fastify 4',
    // Fastify 4 takes router options at the top level.
    create: (router: RouterOptions) => fastify4(router) as unknown as FastifyInstance,
  },
  {
    name: 'fastify 5',
    // Fastify 5 takes them under routerOptions (the top-level ones are deprecated).
    create: (router: RouterOptions) => fastify5({ routerOptions: router }),
  },
];

describe.each(versions)('$name', ({ create }) => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = async (setup: (app: FastifyInstance) => void, router: RouterOptions = {}) => {
    app = create(router);
    setup(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  };

  const names = async (url: string) =>
    ((await send(url, { headers: auth })).json() as Page).data.map((record) => record.name);

  it('serves inside a scope registered with a prefix', async () => {
    const url = await start((app) => {
      app.register(
        async (api) => {
          await api.register(hiwelink, options());
        },
        { prefix: '/store' },
      );
    });
    expect((await send(`${url}/store/health`, { headers: auth })).status).toBe(200);
    expect(await names(`${url}/store/api/products`)).toEqual(['Mug']);
    expect((await send(`${url}/store/api/orders`, { headers: auth })).status).toBe(200);
    // Unprefixed paths are not ours: Fastify's own 404, not the kit's.
    const outside = await send(`${url}/health`, { headers: auth });
    expect(outside.status).toBe(404);
    expect(outside.body).not.toContain('not_found');
  });

  it('serves in nested scopes, with its own prefix option on top', async () => {
    const url = await start((app) => {
      app.register(
        async (outer) => {
          outer.register(
            async (inner) => {
              await inner.register(hiwelink, { ...options(), prefix: '/hw' } as HiwelinkOptions);
            },
            { prefix: '/v1/' },
          );
        },
        { prefix: '/store' },
      );
    });
    expect((await send(`${url}/store/v1/hw/health`, { headers: auth })).status).toBe(200);
    expect(await names(`${url}/store/v1/hw/api/products`)).toEqual(['Mug']);
    expect((await send(`${url}/store/v1/health`, { headers: auth })).status).toBe(404);
  });

  it('serves two registrations under two prefixes, each from its own store', async () => {
    const url = await start((app) => {
      app.register(async (api) => api.register(hiwelink, options('Alpha')), { prefix: '/a' });
      app.register(async (api) => api.register(hiwelink, options('Beta')), { prefix: '/b' });
      app.register(hiwelink, { ...options('Gamma'), prefix: '/c/' } as HiwelinkOptions);
    });
    expect(await names(`${url}/a/api/products`)).toEqual(['Alpha']);
    expect(await names(`${url}/b/api/products`)).toEqual(['Beta']);
    expect(await names(`${url}/c/api/products`)).toEqual(['Gamma']);
  });

  it('follows ignoreTrailingSlash and ignoreDuplicateSlashes as the app routes do', async () => {
    const url = await start(
      (app) => {
        app.register(async (api) => api.register(hiwelink, options()), { prefix: '/store' });
      },
      { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    );
    expect(await names(`${url}/store/api/products/`)).toEqual(['Mug']);
    expect(await names(`${url}/store//api/products`)).toEqual(['Mug']);
    expect((await send(`${url}/store/health/`, { headers: auth })).status).toBe(200);
  });

  it('follows caseSensitive: false as the app routes do', async () => {
    const url = await start(
      (app) => {
        app.register(async (api) => api.register(hiwelink, options()), { prefix: '/store' });
        app.register(hiwelink, { ...options('Top'), basePath: '/top' });
      },
      { caseSensitive: false },
    );
    expect(await names(`${url}/STORE/Api/Products`)).toEqual(['Mug']);
    expect(await names(`${url}/Top/api/PRODUCTS`)).toEqual(['Top']);
  });

  it('refuses a prefix without its leading slash at startup, naming prefix', async () => {
    await expect(
      start((app) => {
        app.register(
          async (api) => api.register(hiwelink, { ...options(), prefix: 'store' } as HiwelinkOptions),
          {
            prefix: '/shop',
          },
        );
      }),
    ).rejects.toThrow(/prefix: must start with '\/'/);
  });

  it('still answers its own 401 and 405 under a scope', async () => {
    const url = await start((app) => {
      app.register(async (api) => api.register(hiwelink, options()), { prefix: '/store' });
    });
    const unauthorized = await send(`${url}/store/api/products`);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json()).toMatchObject({ code: 'unauthorized' });
    const post = await send(`${url}/store/api/products`, { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
  });

  it('describes in its OpenAPI document the URLs Fastify serves', async () => {
    const url = await start((app) => {
      app.register(
        async (api) => {
          await api.register(hiwelink, {
            ...options(),
            prefix: '/hw',
            basePath: '/kit',
            openapiPath: '/openapi.json',
          } as HiwelinkOptions);
        },
        { prefix: '/store/' },
      );
    });
    const reply = await send(`${url}/store/hw/kit/openapi.json`, { headers: auth });
    expect(reply.status).toBe(200);
    const document = reply.json() as { paths: Record<string, unknown> };
    const served = Object.keys(document.paths).sort();
    expect(served).toEqual([
      '/store/hw/kit/api/orders',
      '/store/hw/kit/api/products',
      '/store/hw/kit/health',
      '/store/hw/kit/openapi.json',
    ]);
    for (const path of served)
      expect((await send(`${url}${path}`, { headers: auth })).status, path).toBe(200);
  });

  // Review of #12: under `prefix: '/:tenant'` the document listed `/:tenant/health`, which OpenAPI
  // reads as a literal path; it is now templated, `{tenant}`, with the parameter declared.
  it('describes a parametric prefix as a templated path with its path parameter', async () => {
    const url = await start((app) => {
      app.register(
        async (api) => {
          await api.register(hiwelink, {
            ...options(),
            prefix: '/:shop(^[a-z]+)',
            openapiPath: '/openapi.json',
          } as HiwelinkOptions);
        },
        { prefix: '/:tenant' },
      );
    });
    expect(await names(`${url}/acme/north/api/products`)).toEqual(['Mug']);
    const reply = await send(`${url}/acme/north/openapi.json`, { headers: auth });
    expect(reply.status).toBe(200);
    const document = reply.json() as { paths: Record<string, { parameters?: unknown }> };
    expect(Object.keys(document.paths).sort()).toEqual([
      '/{tenant}/{shop}/api/orders',
      '/{tenant}/{shop}/api/products',
      '/{tenant}/{shop}/health',
      '/{tenant}/{shop}/openapi.json',
    ]);
    for (const item of Object.values(document.paths)) {
      expect(item.parameters).toEqual([
        { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'shop', in: 'path', required: true, schema: { type: 'string' } },
      ]);
    }
  });
});
