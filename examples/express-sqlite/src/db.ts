import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  const db = openFile(file);
  try {
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // A crawl's next page seeks past the last id served (the kit's `after`), so it reads each row
    // once, and a cache as large as the catalog would only grow the process by the file's size. What
    // every page reads again is the index COUNT(*) walks for `total`, about 4 MB per 100k products:
    // 8 MiB holds it (with the 2 MiB default it is re-read each time, ~3 ms a page at 100k). A page
    // without a key still walks the rows before it by OFFSET, from the OS's file cache.
    db.pragma('cache_size = -8192');
    db.transaction(() => migrate(db, file)).immediate();
    probeWrite(db);
    db.transaction(() => {
      const marker = db.prepare("SELECT value FROM settings WHERE key = 'seeded_at'").get();
      if (marker !== undefined) return;
      seedCatalog(db, seed.products, seed.orders);
      db.prepare("INSERT INTO settings (key, value) VALUES ('seeded_at', ?)").run(new Date().toISOString());
    }).immediate();
  } catch (error) {
    db.close();
    throw hasCode(error) ? unusable(file, error) : error;
  }
  return db;
}

/**
 * Writes a settings row and rolls it back. SQLite opens a file it may not write (chmod 444, an
 * immutable file, a read-only mount) read-only without a word, and BEGIN IMMEDIATE still
 * succeeds: only a write finds out, and it should be this one at start rather than every admin write.
 */
function probeWrite(db: Db) {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('write_probe', '')").run();
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}

/** What `unusable` says of a file SQLite could open but not write. */
const READ_ONLY =
  'is read-only (its permissions, an immutable attribute or a read-only mount): make it writable by the user running the store, or set DATABASE_FILE to another path';

/** Opens `file`, creating its directory; any failure is explained by `unusable`. */
function openFile(file: string): Db {
  const inMemory = file === ':memory:';
  let db: Db | undefined;
  try {
    if (!inMemory) mkdirSync(dirname(resolve(file)), { recursive: true });
    // A FIFO or a link loop is no file SQLite can use: said before SQLite tries to open it.
    if (!inMemory && notAFile(resolve(file)) !== undefined)
      throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    db = new Database(file);
    // The first read is where SQLite finds a file that is not a database. Another application's
    // file is refused before anything is written to it, WAL mode included.
    refuseForeign(db, file);
    // WAL keeps <file>-wal and <file>-shm beside the file: where a store that cannot write fails.
    if (!inMemory) db.pragma('journal_mode = WAL');
    return db;
  } catch (error) {
    db?.close();
    throw hasCode(error) ? unusable(file, error) : error;
  }
}

/** SQLite's and the file system's errors carry a code; the store's own already name DATABASE_FILE. */
const hasCode = (error: unknown) => typeof (error as { code?: unknown }).code === 'string';

/** Throws when `db` holds tables without the demo's schema version: not a file of this store. */
function refuseForeign(db: Db, file: string) {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db
    .prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
    .pluck()
    .get() as number;
  if (version === 0 && tables > 0) {
    throw new Error(
      `DATABASE_FILE '${file}' holds tables this store did not create (another application's database, ` +
        'or a demo store from before schema versions): set DATABASE_FILE to a new file, or delete this one if it is an old demo database',
    );
  }
}

/**
 * What `path` is when it is there but neither a regular file nor a directory (a FIFO, a socket, a
 * device, a symbolic link that loops), in words for `unusable`; undefined otherwise.
 */
function notAFile(path: string): string | undefined {
  try {
    const stats = statSync(path);
    if (stats.isFIFO()) return 'is a named pipe (FIFO), not a file';
    if (stats.isSocket()) return 'is a socket, not a file';
    if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'is a device, not a file';
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code === 'ELOOP'
      ? 'is a symbolic link that loops (or a chain of too many links)'
      : undefined;
  }
}

/** Whether `path` is a directory; false when it, or a directory above it, is missing or a file. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why `file` cannot hold the database, in one sentence that names DATABASE_FILE, the path and what
 * to do, in place of SQLite's "unable to open database file", which names neither.
 */
function unusable(file: string, error: unknown): Error {
  const path = resolve(file);
  const shown = path === file ? `'${file}'` : `'${file}' (${path})`;
  const { code, message } = error as { code?: string; message?: string };
  const kind = notAFile(path);
  let reason: string;
  if (kind !== undefined) {
    reason = `${kind}: set DATABASE_FILE to a regular file, or a path where one can be created`;
  } else if (isDirectory(path)) {
    reason = `is a directory: name a file inside it, such as ${join(file, 'store.db')}`;
  } else if (code === 'SQLITE_NOTADB') {
    reason = 'is not a SQLite database: move it away, or set DATABASE_FILE to another path';
  } else if (!isDirectory(dirname(path))) {
    // mkdir failed: a file where a directory should be, or no right to create it.
    reason = `cannot create the directory ${dirname(path)} (${message}): set DATABASE_FILE to a path in a writable directory`;
  } else if (code?.startsWith('SQLITE_READONLY')) {
    reason = READ_ONLY;
  } else if (
    code?.startsWith('SQLITE_CANTOPEN') ||
    code?.startsWith('SQLITE_READONLY') ||
    code?.startsWith('SQLITE_IOERR') ||
    code?.startsWith('E')
  ) {
    reason =
      'cannot be created or opened for writing, nor its -wal and -shm files beside it: check the permissions of the file and its directory, or set DATABASE_FILE to another path';
  } else {
    reason = `cannot be used: ${message}`;
  }
  return new Error(`DATABASE_FILE ${shown} ${reason}`, { cause: error });
}
