import { hiwelink } from '@hiwelink/express';
import express from 'express';
import { createAdmin } from './admin.js';
import { adminGuard, authFromEnv, listenFromEnv } from './config.js';
import { openStore } from './store.js';
import { announce, webhooks } from './webhooks.js';

// SQLite (DATABASE_FILE) or PostgreSQL (DATABASE_URL), as chosen at `hiwelink init`: awaited either way.
const store = await openStore({ onChange: announce });
const admin = createAdmin(store, adminGuard());
const app = express();

// GET /health, /api/products and /api/orders, as HiWelink crawls them.
app.use(
  hiwelink({
    products: store.listProducts,
    orders: store.listOrders,
    health: () => store.ping(),
    auth: authFromEnv(),
  }),
);

// The admin API: its changes reach HiWelink as webhooks.
/** @param {express.Request} request @param {express.Response} response */
const adminRoute = async (request, response) => {
  const method = /** @type {'POST' | 'PATCH' | 'DELETE'} */ (request.method);
  const id = typeof request.params.id === 'string' ? request.params.id : undefined;
  const { status, body } = await admin.handle(method, id, request.body);
  if (body === undefined) response.status(status).end();
  else response.status(status).json(body);
};
/** @param {express.Request} request @param {express.Response} response @param {express.NextFunction} next */
const requireAdmin = (request, response, next) => {
  if (admin.authorized(request.get('authorization'))) next();
  else
    response.status(401).json({ error: 'missing or wrong admin token (Authorization: Bearer $ADMIN_TOKEN)' });
};
app.post('/admin/products', requireAdmin, express.json(), adminRoute);
app.patch('/admin/products/:id', requireAdmin, express.json(), adminRoute);
app.delete('/admin/products/:id', requireAdmin, adminRoute);

const { port, host } = listenFromEnv();
const server = app.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  console.log(`Store listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`);
});

async function stop() {
  server.close();
  server.closeIdleConnections();
  await webhooks.close(5_000);
  await store.close();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
