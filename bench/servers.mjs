// The servers under test. Each one runs in its own child process (see server.mjs), so frameworks
// are only imported by the child that needs them.

import { createServer } from 'node:http';
import { API_KEY, ORDERS, PRODUCTS, STORE_BASE_URL, STORE_FIELDS, STORE_ROWS } from './data.mjs';
import {
  healthPayload,
  JSON_TYPE,
  productsPayload,
  readPagination,
  storePayload,
  UNAUTHORIZED_BODY,
  validKey,
} from './handwritten.mjs';

/** Where every server answers the store-rows scenario: a store's own table, mapped per request. */
export const STORE_PATH = '/store/api/products';

export const SERVERS = [
  { id: 'express-adapter', framework: 'express', variant: 'adapter' },
  { id: 'express-handwritten', framework: 'express', variant: 'hand-written' },
  { id: 'fastify-adapter', framework: 'fastify', variant: 'adapter' },
  { id: 'fastify-handwritten', framework: 'fastify', variant: 'hand-written' },
  { id: 'koa-adapter', framework: 'koa', variant: 'adapter' },
  { id: 'koa-handwritten', framework: 'koa', variant: 'hand-written' },
  { id: 'node-http', framework: 'node:http', variant: 'bare' },
];

/** Options for the HiWelink adapters: the same array slice the hand-written routes do. */
const kitOptions = {
  products: ({ perPage, offset }) => ({
    items: PRODUCTS.slice(offset, offset + perPage),
    total: PRODUCTS.length,
  }),
  orders: ({ perPage, offset }) => ({ items: ORDERS.slice(offset, offset + perPage), total: ORDERS.length }),
  auth: { apiKey: API_KEY },
};

/** The adapter over the store's own rows (STORE_ROWS): `mapping.fields` and `storeBaseUrl` do the mapping. */
const storeKitOptions = {
  basePath: '/store',
  products: ({ perPage, offset }) => ({
    items: STORE_ROWS.slice(offset, offset + perPage),
    total: STORE_ROWS.length,
  }),
  orders: () => ({ items: [], total: 0 }),
  auth: { apiKey: API_KEY },
  mapping: { products: { fields: STORE_FIELDS } },
  storeBaseUrl: STORE_BASE_URL,
};

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

const builders = {
  async 'express-adapter'() {
    const { default: express } = await import('express');
    const { hiwelink } = await import('@hiwelink/express');
    const app = express();
    app.use(hiwelink(kitOptions));
    app.use(hiwelink(storeKitOptions));
    return listen(createServer(app));
  },

  async 'express-handwritten'() {
    const { default: express } = await import('express');
    const app = express();
    const requireKey = (req, res, next) => {
      if (validKey(req.get('x-api-key'))) next();
      else res.status(401).type(JSON_TYPE).send(UNAUTHORIZED_BODY);
    };
    app.get('/health', requireKey, (_req, res) => {
      res.type(JSON_TYPE).send(JSON.stringify(healthPayload()));
    });
    app.get('/api/products', requireKey, (req, res) => {
      const pagination = readPagination(req.query.page, req.query.per_page);
      res.type(JSON_TYPE).send(JSON.stringify(productsPayload(pagination)));
    });
    app.get(STORE_PATH, requireKey, (req, res) => {
      const pagination = readPagination(req.query.page, req.query.per_page);
      res.type(JSON_TYPE).send(JSON.stringify(storePayload(pagination)));
    });
    return listen(createServer(app));
  },

  async 'fastify-adapter'() {
    const { default: Fastify } = await import('fastify');
    const { hiwelink } = await import('@hiwelink/fastify');
    const app = Fastify();
    await app.register(hiwelink, kitOptions);
    await app.register(hiwelink, storeKitOptions);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return app.server.address().port;
  },

  async 'fastify-handwritten'() {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
    const requireKey = (request, reply, done) => {
      if (validKey(request.headers['x-api-key'])) done();
      else reply.code(401).type(JSON_TYPE).send(UNAUTHORIZED_BODY);
    };
    app.get('/health', { onRequest: requireKey }, (_request, reply) => {
      reply.type(JSON_TYPE).send(JSON.stringify(healthPayload()));
    });
    app.get('/api/products', { onRequest: requireKey }, (request, reply) => {
      const pagination = readPagination(request.query.page, request.query.per_page);
      reply.type(JSON_TYPE).send(JSON.stringify(productsPayload(pagination)));
    });
    app.get(STORE_PATH, { onRequest: requireKey }, (request, reply) => {
      const pagination = readPagination(request.query.page, request.query.per_page);
      reply.type(JSON_TYPE).send(JSON.stringify(storePayload(pagination)));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return app.server.address().port;
  },

  async 'koa-adapter'() {
    const { default: Koa } = await import('koa');
    const { hiwelink } = await import('@hiwelink/koa');
    const app = new Koa();
    app.use(hiwelink(kitOptions));
    app.use(hiwelink(storeKitOptions));
    return listen(createServer(app.callback()));
  },

  async 'koa-handwritten'() {
    const { default: Koa } = await import('koa');
    const app = new Koa();
    app.use(async (ctx, next) => {
      const { path } = ctx;
      if (ctx.method !== 'GET' || (path !== '/health' && path !== '/api/products' && path !== STORE_PATH)) {
        return next();
      }
      ctx.type = JSON_TYPE;
      if (!validKey(ctx.get('x-api-key'))) {
        ctx.status = 401;
        ctx.body = UNAUTHORIZED_BODY;
      } else if (path === '/health') {
        ctx.body = JSON.stringify(healthPayload());
      } else if (path === STORE_PATH) {
        ctx.body = JSON.stringify(storePayload(readPagination(ctx.query.page, ctx.query.per_page)));
      } else {
        ctx.body = JSON.stringify(productsPayload(readPagination(ctx.query.page, ctx.query.per_page)));
      }
    });
    return listen(createServer(app.callback()));
  },

  async 'node-http'() {
    const send = (res, status, body) => {
      res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      const queryStart = url.indexOf('?');
      const path = queryStart === -1 ? url : url.slice(0, queryStart);
      if (req.method !== 'GET' || (path !== '/health' && path !== '/api/products' && path !== STORE_PATH)) {
        send(res, 404, JSON.stringify({ error: 'Not Found' }));
      } else if (!validKey(req.headers['x-api-key'])) {
        send(res, 401, UNAUTHORIZED_BODY);
      } else if (path === '/health') {
        send(res, 200, JSON.stringify(healthPayload()));
      } else {
        const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
        const pagination = readPagination(query.get('page'), query.get('per_page'));
        const payload = path === STORE_PATH ? storePayload(pagination) : productsPayload(pagination);
        send(res, 200, JSON.stringify(payload));
      }
    });
    return listen(server);
  },
};

/** Starts server `id` on 127.0.0.1, on a port the OS picks, and resolves to that port. */
export function startServer(id) {
  const build = builders[id];
  if (!build) throw new Error(`unknown server '${id}'; known: ${Object.keys(builders).join(', ')}`);
  return build();
}
