import { hiwelink } from '@hiwelink/koa';
import Koa from 'koa';
import { ANSWERS, BODY_LIMIT, clientErrorAnswer, createAdmin } from './admin.js';
import {
  adminGuard,
  authFromEnv,
  createHttpServer,
  listen,
  listenFromEnv,
  STATUS_PATH,
  startup,
  statusFromEnv,
} from './config.js';
import { openStore } from './store.js';
import { announce, webhooks } from './webhooks.js';

// Every setting is checked before anything listens; a bad one stops the start with one line.
const config = await startup(() => listenFromEnv());
const auth = await startup(() => authFromEnv());
const guard = await startup(() => adminGuard());
const status = await startup(() => statusFromEnv());
// SQLite (DATABASE_FILE) or PostgreSQL (DATABASE_URL), as chosen at `hiwelink init`: awaited either way.
const store = await startup(() => openStore({ onChange: announce }));
const admin = createAdmin(store, guard);
const app = new Koa();

/** @param {Koa.Context} ctx @param {import('./admin.js').Answer} answer */
const reply = (ctx, { status, body }) => {
  ctx.status = status;
  if (body !== undefined) ctx.body = body;
};

// First, so that it sees every error: a request the store could not read is a JSON 4xx, anything
// else a logged 500; and what no middleware answered is a JSON 404 rather than Koa's plain text.
app.use(async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) reply(ctx, ANSWERS.notFound);
  } catch (error) {
    const answer = clientErrorAnswer(error);
    if (!answer) console.error(`${ctx.method} ${ctx.path} failed:`, error);
    reply(ctx, answer ?? ANSWERS.internal);
  }
});

// GET /health, /api/products and /api/orders, as HiWelink crawls them. The kit checks the
// credential too: a refusal stops the start in one line, like the settings above. The status page
// (STATUS_PATH, behind STATUS_TOKEN) shows what HiWelink's crawls got and the webhooks' deliveries.
app.use(
  await startup(() =>
    hiwelink({
      products: store.listProducts,
      orders: store.listOrders,
      health: () => store.ping(),
      auth,
      status: { path: STATUS_PATH, auth: { bearer: status.token }, webhooks },
    }),
  ),
);

/**
 * Reads a JSON body (Koa has no parser of its own). Throws a 413 past BODY_LIMIT bytes, and
 * JSON.parse's SyntaxError for anything that is not JSON.
 * @param {import('node:http').IncomingMessage} request
 */
async function readJson(request) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// The admin API: its changes reach HiWelink as webhooks. Koa has no router, so one pattern serves it;
// the id is decoded as Express and Fastify decode theirs (a bad % escape throws a URIError).
const ADMIN_PATH = /^\/admin\/products(?:\/([^/]+))?$/;
app.use(async (ctx, next) => {
  const match = ADMIN_PATH.exec(ctx.path);
  const method = ctx.method;
  const id = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
  const allowed = id === undefined ? method === 'POST' : method === 'PATCH' || method === 'DELETE';
  if (!match || !allowed) return next();
  const refused = admin.refuse(method, {
    authorization: ctx.get('authorization') || undefined,
    contentType: ctx.get('content-type') || undefined,
  });
  if (refused) return reply(ctx, refused);
  const body = method === 'DELETE' ? undefined : await readJson(ctx.req);
  reply(ctx, await admin.handle(/** @type {'POST' | 'PATCH' | 'DELETE'} */ (method), id, body));
});

const server = createHttpServer(app.callback(), config);
await listen(server, config, status);

async function stop() {
  server.close();
  server.closeIdleConnections();
  await webhooks.close(5_000);
  await store.close();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
