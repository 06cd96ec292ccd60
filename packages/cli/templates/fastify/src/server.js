import { hiwelink } from '@hiwelink/fastify';
import Fastify from 'fastify';
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
const app = Fastify({
  logger: { level: process.env.LOG_LEVEL ?? 'warn' },
  bodyLimit: BODY_LIMIT,
  // A `__proto__` or `constructor` key is kept as the plain own key JSON.parse makes, so the admin
  // API refuses it as an unknown field by name, as the other servers do, rather than Fastify
  // calling the body malformed. Safe here: readProduct copies only the fields it knows.
  onProtoPoisoning: 'ignore',
  onConstructorPoisoning: 'ignore',
  // The store's own server, with the time limits of HEADERS_TIMEOUT_MS and the others.
  serverFactory: (handler) => createHttpServer(handler, config),
  // A URL Fastify cannot decode (a bad % escape) is answered here, before any route or hook.
  frameworkErrors: (error, _request, reply) => {
    const { status, body } = clientErrorAnswer(error) ?? ANSWERS.internal;
    return /** @type {import('fastify').FastifyReply} */ (reply).code(status).send(body);
  },
});

// GET /health, /api/products and /api/orders, as HiWelink crawls them. The kit checks the
// credential too: a refusal stops the start in one line, like the settings above. The status page
// (STATUS_PATH, behind STATUS_TOKEN) shows what HiWelink's crawls got and the webhooks' deliveries.
await startup(() =>
  app.register(hiwelink, {
    products: store.listProducts,
    orders: store.listOrders,
    health: () => store.ping(),
    auth,
    status: { path: STATUS_PATH, auth: { bearer: status.token }, webhooks },
    logger: app.log,
  }),
);

// The admin API: its changes reach HiWelink as webhooks. The token is checked before the body is read.
/** @type {import('fastify').RouteShorthandOptions} */
const adminOnly = {
  onRequest: async (request, reply) => {
    const refused = admin.refuse(request.method, {
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
    });
    if (refused) return reply.code(refused.status).send(refused.body);
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

// Anything else is a JSON 404; a request Fastify could not read (a bad % escape, malformed JSON,
// a body over the limit) a JSON 4xx with the store's codes; only the store's own failures are logged.
app.setNotFoundHandler((_request, reply) => reply.code(404).send(ANSWERS.notFound.body));
app.setErrorHandler((error, request, reply) => {
  const answer = clientErrorAnswer(error);
  if (!answer) request.log.error({ err: error }, `${request.method} ${request.url} failed`);
  const { status, body } = answer ?? ANSWERS.internal;
  return reply.code(status).send(body);
});

await app.ready();
await listen(app.server, config, status);

async function stop() {
  app.server.closeIdleConnections();
  await new Promise((resolve) => app.server.close(resolve));
  await app.close();
  await webhooks.close(5_000);
  await store.close();
  process.exit(0);
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
