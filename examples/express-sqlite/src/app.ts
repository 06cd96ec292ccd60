import {
  type CloseReport,
  createWebhookEmitter,
  keygen,
  type Logger,
  type WebhookEmitter,
} from '@hiwelink/core';
import { type HiwelinkOptions, hiwelink } from '@hiwelink/express';
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
  readConfig,
  type StoreConfig,
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

export interface Store {
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
  /**
   * Sends each committed change to HiWelink (`config.webhooks`), mapped as the list endpoints map
   * it; `enabled` is false, and every emit a no-op, when webhooks are off.
   */
  webhooks: WebhookEmitter<ProductRecord, OrderRecord>;
  /**
   * Stops taking webhook events, delivers what it can within `timeoutMs`, then closes the database.
   * Resolves with what was delivered, given up and left undelivered. Safe to call twice: a second
   * call, or one after `close()`, resolves with the first one's report.
   * @default timeoutMs 5000
   */
  shutdown(timeoutMs?: number): Promise<CloseReport>;
  /** Closes the database now, without waiting for the webhooks still queued (see `shutdown`). Safe to call twice. */
  close(): void;
}

/** Where the kit serves the status page (`hiwelink status <url>/hiwelink/status` reads it). */
export const STATUS_PATH = '/hiwelink/status';

/** The emitter's messages, as the store logs its own. */
const webhookLogger: Logger = {
  warn: (details, message) => console.warn(`[webhooks] ${message}`, details),
  error: (details, message) => console.error(`[webhooks] ${message}`, details),
};
/** Webhooks off is a setting, and main.js says so: the emitter's warning about it would only repeat that. */
const silent: Logger = { warn() {}, error() {} };

function webhookEmitter({ webhooks }: StoreConfig): WebhookEmitter<ProductRecord, OrderRecord> {
  const on = webhooks.url !== undefined && webhooks.storeToken !== undefined;
  return createWebhookEmitter<ProductRecord, OrderRecord>(
    {
      url: webhooks.url ?? '',
      storeToken: webhooks.storeToken ?? '',
      secret: webhooks.secret ?? '',
      // The same as the list endpoints': a webhook carries the record the next crawl would see.
      mapping: { products: PRODUCT_MAPPING, orders: ORDER_MAPPING },
      storeBaseUrl: STORE_BASE_URL,
      logger: on ? webhookLogger : silent,
    },
    // The config is the one source: nothing falls back to process.env.
    {},
  );
}

/** Announces each committed write of the data layer to HiWelink. */
function announceChanges(repository: Repository, webhooks: WebhookEmitter<ProductRecord, OrderRecord>) {
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
    const repository = createRepository(db);
    const webhooks = webhookEmitter(config);
    announceChanges(repository, webhooks);
    // Once: the emitter's close() would wait out its deadline again for what is still in flight.
    let closing: Promise<CloseReport> | undefined;
    const stop = (timeoutMs: number) => {
      closing ??= webhooks.close(timeoutMs).finally(() => {
        if (db.open) db.close();
      });
      return closing;
    };
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

    return {
      app,
      db,
      repository,
      auth: config.auth.method,
      apiKey,
      authHeaders: auth.headers,
      adminToken,
      statusToken,
      webhooks,
      shutdown: (timeoutMs = 5_000) => stop(timeoutMs),
      close: () => {
        void stop(0);
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
