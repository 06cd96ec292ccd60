import { type HiwelinkOptions, hiwelink } from '@hiwelink/fastify';
import { hiwelinkHooks } from '@hiwelink/orm/sequelize';
import { createDurableWebhookEmitter, type DurableWebhookEmitter } from '@hiwelink/webhooks-bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Model, type ModelStatic, Op, type Sequelize } from 'sequelize';
import { adminRoutes } from './admin.js';
import { readConfig, type StoreConfig } from './config.js';
import { openDatabase } from './db.js';

export { readConfig, type StoreConfig } from './config.js';

/** Where the store's product pages would live; the kit builds permalinks from it and the handles. */
export const STORE_BASE_URL = 'https://demo-store.example.com';

/**
 * How the kit reads the store's rows, for the list endpoints and the webhooks alike. Most columns
 * already have a name HiWelink documents as an alias (title → name, handle → slug, list_price →
 * regular_price, stock → stock_quantity, number → order_number, state → status, grand_total →
 * total, email → customer_email); only placed_at needs placing.
 */
export const MAPPING = {
  orders: { fields: { created_at: 'placed_at' } },
} satisfies HiwelinkOptions['mapping'];

export interface Store {
  /** Ready, not listening: `await store.app.listen({ port })`. */
  app: FastifyInstance;
  sequelize: Sequelize;
  /** Queues each committed change in Redis; any instance on the same queue delivers it. */
  webhooks: DurableWebhookEmitter;
  /** Stops the server, lets deliveries in progress finish (queued ones stay in Redis), closes the database. */
  close(): Promise<void>;
}

/** What the kit asks a list callback for. */
type PageQuery = Parameters<HiwelinkOptions['products']>[0];

/**
 * One page in a stable order (by id), as the crawler needs it, and the total. When the kit passes
 * `after` (the last id of the page before, remembered during a crawl) the page seeks past it
 * instead of skipping `offset` rows: deep pages cost what page 1 costs, and a row deleted
 * mid-crawl hides no other.
 */
async function page(model: ModelStatic<Model>, { perPage, offset, after }: PageQuery) {
  const seek = Number.isSafeInteger(after) ? (after as number) : undefined;
  const [rows, total] = await Promise.all([
    model.findAll({
      ...(seek === undefined ? { offset } : { where: { id: { [Op.gt]: seek } } }),
      order: [['id', 'ASC']],
      limit: perPage,
      raw: true,
    }),
    model.count(),
  ]);
  return { items: rows, total };
}

const answersWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref()),
  ]);

/** Connects to PostgreSQL and Redis, prepares the tables and builds the app. Does not listen. */
export async function createStore(config: StoreConfig = readConfig()): Promise<Store> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.timeouts;
  const app = Fastify({
    logger: { level: config.logLevel },
    // Slow clients are closed: Node checks these limits every connectionsCheckingInterval (30 s by
    // default), here every second at most, so a socket is closed close to its deadline.
    http: {
      headersTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
    },
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Reject unknown fields with a 400 rather than dropping them silently (Fastify's default).
    ajv: { customOptions: { removeAdditional: false } },
  });
  const webhooks = createDurableWebhookEmitter(
    {
      connection: config.redisUrl,
      queueName: config.queueName,
      url: config.webhookUrl,
      storeToken: config.storeToken,
      secret: config.webhookSecret,
      // The kit's mapping: a webhook carries the record the next crawl would return.
      mapping: MAPPING,
      storeBaseUrl: STORE_BASE_URL,
      logger: app.log,
    },
    {}, // the config is the one source: nothing falls back to process.env
  );
  const db = await openDatabase(config.databaseUrl, config.schema).catch(async (error: Error) => {
    await webhooks.close();
    throw new Error(`PostgreSQL (DATABASE_URL): ${error.message}`);
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await webhooks.close(10_000);
      await db.sequelize.close();
    })();
    return closing;
  };

  try {
    // stats() waits for Redis while it is down: a store that cannot queue its webhooks stops here.
    if (webhooks.enabled && !(await answersWithin(webhooks.stats(), 5_000))) {
      throw new Error('Redis (REDIS_URL) did not answer within 5 s');
    }
    // Each committed create, update and delete is queued as a webhook; a rollback queues nothing.
    hiwelinkHooks(db.Product, webhooks, { kind: 'products', logger: app.log });
    hiwelinkHooks(db.Order, webhooks, { kind: 'orders', logger: app.log });

    await app.register(hiwelink, {
      products: (query) => page(db.Product, query),
      orders: (query) => page(db.Order, query),
      health: () => db.sequelize.authenticate().then(() => true),
      auth: { apiKey: config.apiKey },
      mapping: MAPPING,
      storeBaseUrl: STORE_BASE_URL,
      logger: app.log,
    });
    if (config.adminToken !== undefined) {
      await app.register(adminRoutes(db, config.adminToken), { prefix: '/admin' });
    }
    await app.ready();
  } catch (error) {
    await close();
    throw error;
  }
  return { app, sequelize: db.sequelize, webhooks, close };
}
