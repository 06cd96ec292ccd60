import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { seedCatalog } from './seed.js';

export type Db = Database.Database;

/*
 * The columns use the store's own names, not the Generic API's (title, list_price, qty_on_hand,
 * handle, line_items, ...), as real stores do; the kit maps them (see records.ts). Money is exact
 * decimal text ('349.99'), the way DECIMAL columns come back from most SQL drivers, since SQLite
 * has none; sums are done in integer cents. Categories and tags are comma-separated, and an
 * order's placed_at is Unix epoch seconds, as unixepoch() writes it.
 */
const MONEY = (column: string) =>
  `CHECK (${column} GLOB '[0-9]*.[0-9][0-9]' AND ${column} NOT GLOB '*[^0-9.]*')`;

/** Raised with each change of SCHEMA; a database file of another version is refused, not misread. */
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS products (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  title        TEXT    NOT NULL,
  body         TEXT    NOT NULL DEFAULT '',
  summary      TEXT    NOT NULL DEFAULT '',
  sku          TEXT    NOT NULL UNIQUE,
  list_price   TEXT    NOT NULL ${MONEY('list_price')},
  promo_price  TEXT    ${MONEY('promo_price')},
  qty_on_hand  INTEGER NOT NULL DEFAULT 0 CHECK (qty_on_hand >= 0),
  category     TEXT    NOT NULL DEFAULT '',
  labels       TEXT    NOT NULL DEFAULT '',
  photos       TEXT    NOT NULL DEFAULT '[]',
  options      TEXT    NOT NULL DEFAULT '{}',
  handle       TEXT    NOT NULL UNIQUE,
  created_at   TEXT    NOT NULL,
  updated_at   TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  number        TEXT    NOT NULL UNIQUE,
  state         TEXT    NOT NULL,
  currency_code TEXT    NOT NULL,
  email         TEXT    NOT NULL,
  buyer_name    TEXT    NOT NULL DEFAULT '',
  sub_total     TEXT    NOT NULL ${MONEY('sub_total')},
  tax_total     TEXT    NOT NULL DEFAULT '0.00' ${MONEY('tax_total')},
  shipping_cost TEXT    NOT NULL DEFAULT '0.00' ${MONEY('shipping_cost')},
  grand_total   TEXT    NOT NULL ${MONEY('grand_total')},
  ship_to       TEXT,
  bill_to       TEXT,
  payment_type  TEXT    NOT NULL DEFAULT '',
  placed_at     INTEGER NOT NULL,
  updated_at    TEXT    NOT NULL
);

-- Items keep the product's name and price at purchase time and no foreign key to products:
-- deleting a product must not rewrite order history.
CREATE TABLE IF NOT EXISTS order_items (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id   INTEGER NOT NULL,
  product_name TEXT    NOT NULL,
  qty          INTEGER NOT NULL CHECK (qty > 0),
  unit_price   TEXT    NOT NULL ${MONEY('unit_price')}
);
CREATE INDEX IF NOT EXISTS order_items_by_order ON order_items (order_id, id);

CREATE TABLE IF NOT EXISTS settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** Creates the schema in an empty database; refuses one that holds another version's tables. */
function migrate(db: Database.Database, file: string) {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  const tables = db
    .prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
    .pluck()
    .get() as number;
  if (tables > 0) {
    throw new Error(
      `DATABASE_FILE '${file}' was created by ${version < SCHEMA_VERSION ? 'an older' : 'a newer'} version of the demo store ` +
        `(schema ${version}, this one reads ${SCHEMA_VERSION}); delete it, or set DATABASE_FILE to another file, to seed a new one`,
    );
  }
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

export interface SeedSize {
  products: number;
  orders: number;
}

/**
 * Opens (creating if needed) the store's database and seeds it on its first start. A settings
 * marker, not an empty products table, records that seeding happened, so emptying the catalog
 * through the admin API does not bring the demo data back on the next restart.
 */
export function openDatabase(file: string, seed: SeedSize): Db {
  const inMemory = file === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    if (!inMemory) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // A crawl's next page seeks past the last id served (the kit's `after`), so it reads each row
    // once, and a cache as large as the catalog would only grow the process by the file's size. What
    // every page reads again is the index COUNT(*) walks for `total`, about 4 MB per 100k products:
    // 8 MiB holds it (with the 2 MiB default it is re-read each time, ~3 ms a page at 100k). A page
    // without a key still walks the rows before it by OFFSET, from the OS's file cache.
    db.pragma('cache_size = -8192');
    db.transaction(() => migrate(db, file)).immediate();
    db.transaction(() => {
      const marker = db.prepare("SELECT value FROM settings WHERE key = 'seeded_at'").get();
      if (marker !== undefined) return;
      seedCatalog(db, seed.products, seed.orders);
      db.prepare("INSERT INTO settings (key, value) VALUES ('seeded_at', ?)").run(new Date().toISOString());
    }).immediate();
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
