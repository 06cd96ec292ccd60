import { hiwelink } from '@hiwelink/express';
import express, { type Express } from 'express';
import { adminRouter } from './admin.js';
import { storeAuth } from './auth.js';
import { type AuthMethod, readConfig, type StoreConfig } from './config.js';
import { type Db, openDatabase } from './db.js';
import { errorHandler, notFound } from './errors.js';
import { ORDER_MAPPING, PRODUCT_MAPPING, STORE_BASE_URL } from './records.js';
import { createRepository, type Repository } from './repository.js';
import { generateSecret, storedSecret } from './settings.js';

export { AUTH_METHODS, type AuthConfig, type AuthMethod, readConfig, type StoreConfig } from './config.js';
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
  LineItemRecord,
  OrderInput,
  OrderItemInput,
  OrderRecord,
  ProductInput,
  ProductRecord,
  Repository,
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
  /** Closes the database; safe to call twice. */
  close(): void;
}

/** Opens (and on first start seeds) the database and builds the app. Does not listen. */
export function createStore(config: StoreConfig = readConfig()): Store {
  const db = openDatabase(config.databaseFile, { products: config.seedProducts, orders: config.seedOrders });
  try {
    const apiKey = config.apiKey ?? storedSecret(db, 'hiwelink_api_key', () => generateSecret('sk_live_'));
    const adminToken = config.adminToken ?? storedSecret(db, 'admin_token', () => generateSecret('adm_'));
    const repository = createRepository(db);
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
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
