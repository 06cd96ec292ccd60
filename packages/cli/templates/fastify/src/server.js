import { hiwelink } from '@hiwelink/fastify';
import Fastify from 'fastify';
import { createAdmin } from './admin.js';
import { adminGuard, authFromEnv, listenFromEnv } from './config.js';
import { openStore } from './store.js';
import { announce, webhooks } from './webhooks.js';

// SQLite (DATABASE_FILE) or PostgreSQL (DATABASE_URL), as chosen at `hiwelink init`: awaited either way.
const store = await openStore({ onChange: announce });
const admin = createAdmin(store, adminGuard());
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });

// GET /health, /api/products and /api/orders, as HiWelink crawls them.
await app.register(hiwelink, {
  products: store.listProducts,
  orders: store.listOrders,
  health: () => store.ping(),
  auth: authFromEnv(),
  logger: app.log,
});

// The admin API: its changes reach HiWelink as webhooks. The token is checked before the body is read.
/** @type {import('fastify').RouteShorthandOptions} */
const adminOnly = {
  onRequest: async (request, reply) => {
    if (!admin.authorized(request.headers.authorization)) {
      return reply
        .code(401)
        .send({ error: 'missing or wrong admin token (Authorization: Bearer $ADMIN_TOKEN)' });
    }
  },
};
/** @param {import('fastify').FastifyRequest} request @param {import('fastify').FastifyReply} reply */
const adminRoute = async (request, reply) => {
  const method = /** @type {'POST' | 'PATCH' | 'DELETE'} */ (request.method);
  const { id } = /** @type {{ id?: string }} */ (request.params);
  const { status, body } = await admin.handle(method, id, request.body);
  return reply.code(status).send(body);
};
app.post('/admin/products', adminOnly, adminRoute);
app.patch('/admin/products/:id', adminOnly, adminRoute);
app.delete('/admin/products/:id', adminOnly, adminRoute);

const { port, host } = listenFromEnv();
await app.listen({ port, host });
const address = app.server.address();
const bound = typeof address === 'object' && address ? address.port : port;
console.log(`Store listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`);

async function stop() {
  await app.close();
  await webhooks.close(5_000);
  await store.close();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
