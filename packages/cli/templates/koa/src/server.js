import { hiwelink } from '@hiwelink/koa';
import Koa from 'koa';
import { createAdmin } from './admin.js';
import { adminGuard, authFromEnv, listenFromEnv } from './config.js';
import { openStore } from './store.js';
import { announce, webhooks } from './webhooks.js';

// SQLite (DATABASE_FILE) or PostgreSQL (DATABASE_URL), as chosen at `hiwelink init`: awaited either way.
const store = await openStore({ onChange: announce });
const admin = createAdmin(store, adminGuard());
const app = new Koa();

// GET /health, /api/products and /api/orders, as HiWelink crawls them.
app.use(
  hiwelink({
    products: store.listProducts,
    orders: store.listOrders,
    health: () => store.ping(),
    auth: authFromEnv(),
  }),
);

/** Reads a JSON body (Koa has no parser of its own); at most 1 MB. @param {import('node:http').IncomingMessage} request */
async function readJson(request) {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 1_000_000) throw new SyntaxError('body too large');
  }
  return text === '' ? undefined : JSON.parse(text);
}

// The admin API: its changes reach HiWelink as webhooks. Koa has no router, so one pattern serves it.
const ADMIN_PATH = /^\/admin\/products(?:\/([^/]+))?$/;
app.use(async (ctx, next) => {
  const match = ADMIN_PATH.exec(ctx.path);
  const method = ctx.method;
  const id = match?.[1];
  const allowed = id === undefined ? method === 'POST' : method === 'PATCH' || method === 'DELETE';
  if (!match || !allowed) return next();
  if (!admin.authorized(ctx.get('authorization') || undefined)) {
    ctx.status = 401;
    ctx.body = { error: 'missing or wrong admin token (Authorization: Bearer $ADMIN_TOKEN)' };
    return;
  }
  let body;
  try {
    body = method === 'DELETE' ? undefined : await readJson(ctx.req);
  } catch {
    ctx.status = 400;
    ctx.body = { error: 'the body must be JSON, at most 1 MB' };
    return;
  }
  const answer = await admin.handle(/** @type {'POST' | 'PATCH' | 'DELETE'} */ (method), id, body);
  ctx.status = answer.status;
  if (answer.body !== undefined) ctx.body = answer.body;
});

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
