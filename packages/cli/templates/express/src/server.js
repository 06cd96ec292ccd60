import { hiwelink } from '@hiwelink/express';
import express from 'express';
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
const app = express();
app.disable('x-powered-by');

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

/** @param {express.Response} response @param {import('./admin.js').Answer} answer */
const reply = (response, { status, body }) => {
  if (body === undefined) response.status(status).end();
  else response.status(status).json(body);
};

// The admin API: its changes reach HiWelink as webhooks. The token is checked before the body is read.
/** @param {express.Request} request @param {express.Response} response */
const adminRoute = async (request, response) => {
  const method = /** @type {'POST' | 'PATCH' | 'DELETE'} */ (request.method);
  const id = typeof request.params.id === 'string' ? request.params.id : undefined;
  reply(response, await admin.handle(method, id, request.body));
};
/** @param {express.Request} request @param {express.Response} response @param {express.NextFunction} next */
const refuse = (request, response, next) => {
  const refused = admin.refuse(request.method, {
    authorization: request.get('authorization'),
    contentType: request.get('content-type'),
  });
  if (refused) reply(response, refused);
  else next();
};
const json = express.json({ limit: BODY_LIMIT });
app.post('/admin/products', refuse, json, adminRoute);
app.patch('/admin/products/:id', refuse, json, adminRoute);
app.delete('/admin/products/:id', refuse, adminRoute);

// Anything else is a JSON 404; a request Express could not read (a bad % escape, malformed JSON,
// a body over the limit) a JSON 4xx; only the store's own failures are logged, as a 500.
app.use((_request, response) => reply(response, ANSWERS.notFound));
/** @type {express.ErrorRequestHandler} */
const onError = (error, request, response, next) => {
  if (response.headersSent) return next(error);
  const answer = clientErrorAnswer(error);
  if (!answer) console.error(`${request.method} ${request.path} failed:`, error);
  reply(response, answer ?? ANSWERS.internal);
};
app.use(onError);

const server = createHttpServer(app, config);
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
