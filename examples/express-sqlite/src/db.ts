import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { seedCatalog } from './seed.js';

export type Db = Database.Database;

/*
 * Several columns deliberately use names other than the Generic API's (title, list_price_cents,
 * qty_on_hand, handle, ...), as real stores do; repository.ts maps rows to the documented names.
 * Money is kept as integer cents so sums never drift.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS products (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  title            TEXT    NOT NULL,
  body             TEXT    NOT NULL DEFAULT '',
  summary          TEXT    NOT NULL DEFAULT '',
  sku              TEXT    NOT NULL UNIQUE,
  list_price_cents INTEGER NOT NULL CHECK (list_price_cents >= 0),
  sale_price_cents INTEGER CHECK (sale_price_cents >= 0),
  qty_on_hand      INTEGER NOT NULL DEFAULT 0 CHECK (qty_on_hand >= 0),
  category         TEXT    NOT NULL DEFAULT '',
  labels           TEXT    NOT NULL DEFAULT '[]',
  photos           TEXT    NOT NULL DEFAULT '[]',
  options          TEXT    NOT NULL DEFAULT '{}',
  handle           TEXT    NOT NULL UNIQUE,
  created_at       TEXT    NOT NULL,
  updated_at       TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  number         TEXT    NOT NULL UNIQUE,
  state          TEXT    NOT NULL,
  currency_code  TEXT    NOT NULL,
  email          TEXT    NOT NULL,
  buyer_name     TEXT    NOT NULL DEFAULT '',
  subtotal_cents INTEGER NOT NULL,
  tax_cents      INTEGER NOT NULL DEFAULT 0,
  shipping_cents INTEGER NOT NULL DEFAULT 0,
  ship_to        TEXT,
  bill_to        TEXT,
  payment_type   TEXT    NOT NULL DEFAULT '',
  placed_at      TEXT    NOT NULL,
  updated_at     TEXT    NOT NULL
);

-- Items keep the product's name and price at purchase time and no foreign key to products:
-- deleting a product must not rewrite order history.
CREATE TABLE IF NOT EXISTS order_items (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id       INTEGER NOT NULL,
  product_title    TEXT    NOT NULL,
  qty              INTEGER NOT NULL CHECK (qty > 0),
  unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0)
);
CREATE INDEX IF NOT EXISTS order_items_by_order ON order_items (order_id, id);

CREATE TABLE IF NOT EXISTS settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

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
    // Lists page with OFFSET, which walks every row before the page; a 64 MiB page cache (the
    // default is 2 MiB) keeps a full crawl of a 100k-row catalog in memory instead of re-reading it.
    db.pragma('cache_size = -65536');
    db.exec(SCHEMA);
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
