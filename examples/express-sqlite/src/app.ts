import {
  type CloseReport,
  createWebhookEmitter,
  keygen,
  type Logger,
  type WebhookEmitter,
  type WebhookEvents,
} from '@hiwelink/core';
import { type HiwelinkOptions, hiwelink } from '@hiwelink/express';
import {
  createDurableWebhookEmitter,
  type DurableCloseReport,
  type DurableWebhookEmitter,
} from '@hiwelink/webhooks-bullmq';
import express, { type Express } from 'express';
import { adminRouter } from './admin.js';
import { storeAuth } from './auth.js';
import { type AuthMethod, readConfig, type StoreConfig } from './config.js';
import { type Db, openDatabase } from './db.js';
import { errorHandler, notFound } from './errors.js';
import { ORDER_MAPPING, PRODUCT_MAPPING, STORE_BASE_URL } from './records.js';
import { createRepository, type OrderRecord, type ProductRecord, type Repository } from './repository.js';
import { generateSecret, storedSecret } from './settings.js';

export {
  AUTH_METHODS,
  type AuthConfig,
  type AuthMethod,
  type QueueConfig,
  readConfig,
  type StoreConfig,
  WEBHOOK_QUEUES,
  type WebhookConfig,
} from './config.js';
export {
  type Address,
  ORDER_MAPPING,
  type Order,
  type OrderItem,
  PRODUCT_MAPPING,
  type Product,
  STORE_BASE_URL,
  toOrder,
  toProduct,
} from './records.js';
export type {
  AddressInput,
  ChangeAction,
  ChangeListener,
  LineItemRecord,
  OrderInput,
  OrderItemInput,
  OrderRecord,
  ProductInput,
  ProductRecord,
  Repository,
  RepositoryChange,
  StoredAddress,
} from './repository.js';

/** What every demo store has, whichever queue its webhooks wait in. */
interface StoreBase {
  /** The Express app: the HiWelink endpoints, `/admin`, JSON 404s and errors. Not listening yet. */
  app: Express;
  db: Db;
  repository: Repository;
  /** How HiWelink authenticates: `config.auth.method`. */
  auth: AuthMethod;
  /**
   * The API key, static bearer token or basic password HiWelink must send (unused in `jwt` mode):
   * from the config, or generated once and kept in the database.
   */
  apiKey: string;
  /** The headers a client must send to pass; in `jwt` mode with a token signed now, valid for an hour. */
  authHeaders(): Promise<Record<string, string>>;
  /** The admin API's bearer token: from the config, or generated once and kept in the database. */
  adminToken: string;
  /** The status page's bearer token: from the config, or generated once and kept in the database. */
  statusToken: string;
  /** Closes the database now, without waiting for the webhooks still in hand (see `shutdown`). Safe to call twice. */
  close(): void;
}

/** A store whose webhooks wait in this process's memory (`WEBHOOK_QUEUE=memory`, the default). */
export interface MemoryQueueStore extends StoreBase {
  queue: 'memory';
  /**
   * Sends each committed change to HiWelink (`config.webhooks`), mapped as the list endpoints map
   * it; `enabled` is false, and every emit a no-op, when webhooks are off. What `shutdown` could
   * not deliver is lost at exit.
   */
  webhooks: WebhookEmitter<ProductRecord, OrderRecord>;
  /**
   * Stops taking webhook events, delivers what it can within `timeoutMs`, then closes the database.
   * Resolves with what was delivered, given up and left undelivered. Safe to call twice: a second
   * call, or one after `close()`, resolves with the first one's report.
   * @default timeoutMs 5000
   */
  shutdown(timeoutMs?: number): Promise<CloseReport>;
}

/** A store whose webhooks wait in Redis (`WEBHOOK_QUEUE=redis`), delivered by a BullMQ worker in this process. */
export interface RedisQueueStore extends StoreBase {
  queue: 'redis';
  /**
   * Stores each committed change in Redis (queue `config.queue.queueName`), whence it is delivered
   * as the in-memory emitter would; a given-up event becomes a dead letter the status page can
   * resend. Each emit resolves `true` once Redis holds the event, `false` when it is held in memory
   * meanwhile (Redis down) or webhooks are off; it never rejects.
   */
  webhooks: DurableWebhookEmitter<ProductRecord, OrderRecord>;
  /**
   * Stops taking webhook events, lets deliveries in progress finish within `timeoutMs` (queued
   * events stay in Redis for the next start), then closes the database. Resolves with the events
   * held in memory that never reached Redis (`held`). Safe to call twice, as for the memory queue.
   * @default timeoutMs 5000
   */
  shutdown(timeoutMs?: number): Promise<DurableCloseReport>;
}

/**
 * The demo store: `queue` says where its webhooks wait and narrows `webhooks` and `shutdown` to
 * that emitter's API (`if (store.queue === 'memory') store.webhooks.flush()`). Both emitters take
 * the same events (`WebhookEvents`) and feed the status page.
 */
export type Store = MemoryQueueStore | RedisQueueStore;

/** Where the kit serves the status page (`hiwelink status <url>/hiwelink/status` reads it). */
export const STATUS_PATH = '/hiwelink/status';

/**
 * The details of an emitter's message, an Error in them as its message: the message already says
 * what failed (a Redis refusing connections, say), and a stack trace tells an operator nothing.
 */
const withoutStacks = (details: object) =>
  Object.fromEntries(
    Object.entries(details).map(([key, value]) => [key, value instanceof Error ? value.message : value]),
  );

/** The emitter's messages, as the store logs its own. */
const webhookLogger: Logger = {
  warn: (details, message) => console.warn(`[webhooks] ${message}`, withoutStacks(details)),
  error: (details, message) => console.error(`[webhooks] ${message}`, withoutStacks(details)),
};
/** Webhooks off is a setting, and main.js says so: the emitter's warning about it would only repeat that. */
const silent: Logger = { warn() {}, error() {} };

/** The emitter `config.queue` asks for, with `queue` to tell which it is. */
function webhookEmitter({ webhooks, queue }: StoreConfig) {
  const on = webhooks.url !== undefined && webhooks.storeToken !== undefined;
  const options = {
    url: webhooks.url ?? '',
    storeToken: webhooks.storeToken ?? '',
    secret: webhooks.secret ?? '',
    // The same as the list endpoints': a webhook carries the record the next crawl would see.
    mapping: { products: PRODUCT_MAPPING, orders: ORDER_MAPPING },
    storeBaseUrl: STORE_BASE_URL,
    logger: on ? webhookLogger : silent,
  };
  // The config is the one source: nothing falls back to process.env.
  if (queue.kind === 'memory') {
    return { queue: queue.kind, webhooks: createWebhookEmitter<ProductRecord, OrderRecord>(options, {}) };
  }
  const durable = createDurableWebhookEmitter<ProductRecord, OrderRecord>(
    { ...options, connection: queue.redisUrl, queueName: queue.queueName },
    {},
  );
  return { queue: queue.kind, webhooks: durable };
}

/**
 * Announces each committed write of the data layer to HiWelink. The durable emitter's methods
 * return a promise that never rejects (Redis down: the event is held in memory and `false`), so a
 * write never waits for the queue.
 */
function announceChanges(
  repository: Repository,
  webhooks: WebhookEvents<ProductRecord, OrderRecord, unknown>,
) {
  repository.onChange((change) => {
    if (change.kind === 'products') {
      if (change.action === 'created') webhooks.productCreated(change.row);
      else if (change.action === 'updated') webhooks.productUpdated(change.row);
      else webhooks.productDeleted(change.row.id);
    } else if (change.action === 'created') webhooks.orderCreated(change.row);
    else if (change.action === 'updated') webhooks.orderUpdated(change.row);
    else webhooks.orderDeleted(change.row.id);
  });
}

/**
 * Resolves once the store's queue answers: at once for the memory queue (and for Redis with
 * webhooks off, which never connects); for Redis, once it answers a count, else rejects after
 * `timeoutMs` (or at Redis's own error) with an Error naming REDIS_URL. A store started while Redis is down would hold each
 * event in memory, so main.js stops instead.
 * @default timeoutMs 5000
 */
export async function waitForQueue(store: Store, timeoutMs = 5_000): Promise<void> {
  if (store.queue === 'memory' || !store.webhooks.enabled) return;
  try {
    await store.webhooks.stats(timeoutMs);
  } catch (error) {
    // The emitter's message says what Redis did and names the queue; this adds the variable to check.
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; check REDIS_URL (and that Redis runs there)`,
    );
  }
}

/** The store's `shutdown` and `close` around its emitter's `close`. */
function closing<Report>(db: Db, closeEmitter: (timeoutMs: number) => Promise<Report>) {
  // Once: the emitter's close() would wait out its deadline again for what is still in flight.
  let closed: Promise<Report> | undefined;
  const stop = (timeoutMs: number) => {
    closed ??= closeEmitter(timeoutMs).finally(() => {
      if (db.open) db.close();
    });
    return closed;
  };
  return {
    shutdown: (timeoutMs = 5_000) => stop(timeoutMs),
    close: () => {
      // Nothing waits for it: the report has nowhere to go, and neither emitter's close() rejects for 0.
      void stop(0).catch(() => {});
      if (db.open) db.close();
    },
  };
}

/** Opens (and on first start seeds) the database and builds the app. Does not listen. */
export function createStore(
  config: StoreConfig = readConfig(),
  /** Kit options laid over the store's own, e.g. `{ keyset: false }` to see a crawl paged by offset. */
  kit: Partial<HiwelinkOptions<ProductRecord, OrderRecord>> = {},
): Store {
  const db = openDatabase(config.databaseFile, { products: config.seedProducts, orders: config.seedOrders });
  try {
    const apiKey = config.apiKey ?? storedSecret(db, 'hiwelink_api_key', () => keygen().key); // hiwelink keygen's prefix
    const adminToken = config.adminToken ?? storedSecret(db, 'admin_token', () => generateSecret('adm_'));
    const statusToken = config.statusToken ?? storedSecret(db, 'status_token', () => generateSecret('hws_'));
    // readConfig compares the variables set; a generated admin token or API key is known only here.
    for (const [name, other] of [
      ['ADMIN_TOKEN', adminToken],
      ['HIWELINK_API_KEY', apiKey],
    ] as const) {
      if (statusToken === other) {
        throw new Error(
          `STATUS_TOKEN must not be ${name} (here the one kept in the database): give the status page a token of its own (make one with: npx hiwelink keygen)`,
        );
      }
    }
    const repository = createRepository(db);
    const emitter = webhookEmitter(config);
    const { webhooks } = emitter;
    announceChanges(repository, webhooks);
    const auth = storeAuth(config.auth, apiKey);

    const app = express();
    app.disable('x-powered-by');
    app.use(
      hiwelink({
        // Records go out in the store's own shape; the kit maps them to HiWelink's fields.
        products: repository.listProducts,
        orders: repository.listOrders,
        mapping: { products: PRODUCT_MAPPING, orders: ORDER_MAPPING },
        storeBaseUrl: STORE_BASE_URL,
        strict: config.strict,
        health: repository.ping,
        auth: auth.options,
        // The kit's status page: what HiWelink's crawls got and the webhooks' deliveries, behind a
        // token of its own.
        status: { path: STATUS_PATH, auth: { bearer: statusToken }, webhooks },
        ...kit,
      }),
    );
    app.use('/admin', adminRouter(repository, adminToken));
    app.use(notFound);
    app.use(errorHandler);

    const base = {
      app,
      db,
      repository,
      auth: config.auth.method,
      apiKey,
      authHeaders: auth.headers,
      adminToken,
      statusToken,
    };
    // Each branch keeps its emitter's own close report.
    return emitter.queue === 'memory'
      ? { ...base, ...emitter, ...closing(db, (timeoutMs) => emitter.webhooks.close(timeoutMs)) }
      : { ...base, ...emitter, ...closing(db, (timeoutMs) => emitter.webhooks.close(timeoutMs)) };
  } catch (error) {
    db.close();
    throw error;
  }
}
