import { hiwelink } from '@hiwelink/express';
import express, { type Express } from 'express';
import { adminRouter } from './admin.js';
import { readConfig, type StoreConfig } from './config.js';
import { type Db, openDatabase } from './db.js';
import { errorHandler, notFound } from './errors.js';
import { createRepository, type Repository } from './repository.js';
import { generateSecret, storedSecret } from './settings.js';

export { readConfig, type StoreConfig } from './config.js';
export type {
  Address,
  Order,
  OrderInput,
  OrderItem,
  OrderItemInput,
  Product,
  ProductInput,
  Repository,
} from './repository.js';

export interface Store {
  /** The Express app: the HiWelink endpoints, `/admin`, JSON 404s and errors. Not listening yet. */
  app: Express;
  db: Db;
  repository: Repository;
  /** The `X-API-Key` HiWelink must send: from the config, or generated once and kept in the database. */
  apiKey: string;
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

    const app = express();
    app.disable('x-powered-by');
    app.use(
      hiwelink({
        products: repository.listProducts,
        orders: repository.listOrders,
        health: repository.ping,
        auth: { apiKey },
      }),
    );
    app.use('/admin', adminRouter(repository, adminToken));
    app.use(notFound);
    app.use(errorHandler);

    return {
      app,
      db,
      repository,
      apiKey,
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
