import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/**
 * @typedef {object} Product
 * @property {number} id
 * @property {string} name
 * @property {string} slug
 * @property {string} description
 * @property {number} regular_price
 * @property {number | null} sale_price
 * @property {number} stock_quantity
 * @property {string} categories comma-separated
 * @property {string} images comma-separated URLs
 * @property {string} created_at
 * @property {string} updated_at
 */

/**
 * @typedef {object} Order
 * @property {number} id
 * @property {string} order_number
 * @property {string} status
 * @property {string} currency
 * @property {string} customer_email
 * @property {string} customer_name
 * @property {string} items JSON text: [{ product_id, name, quantity, price }]
 * @property {number} total
 * @property {string} created_at
 */

/**
 * What changed, told to `onChange` after the transaction committed.
 * @typedef {{ type: 'product', action: 'created' | 'updated' | 'deleted', record: Product }} Change
 */

/**
 * The fields the admin API may write.
 * @typedef {Partial<Pick<Product, 'name' | 'slug' | 'description' | 'regular_price' | 'sale_price' | 'stock_quantity' | 'categories' | 'images'>>} ProductInput
 */

/** @typedef {{ perPage: number, offset: number, after?: unknown }} PageRequest */

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS products (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    slug           TEXT    NOT NULL UNIQUE,
    description    TEXT    NOT NULL DEFAULT '',
    regular_price  REAL    NOT NULL,
    sale_price     REAL,
    stock_quantity INTEGER NOT NULL DEFAULT 0,
    categories     TEXT    NOT NULL DEFAULT '',
    images         TEXT    NOT NULL DEFAULT '',
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
  );
  CREATE TABLE IF NOT EXISTS orders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number   TEXT    NOT NULL UNIQUE,
    status         TEXT    NOT NULL,
    currency       TEXT    NOT NULL DEFAULT 'USD',
    customer_email TEXT    NOT NULL,
    customer_name  TEXT    NOT NULL DEFAULT '',
    items          TEXT    NOT NULL,
    total          REAL    NOT NULL,
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
  );
`;

const COLORS = ['Blue', 'Red', 'Green', 'Black', 'White'];
const KINDS = [
  ['Hoodie', 'Apparel', 49.9],
  ['T-Shirt', 'Apparel', 19.9],
  ['Mug', 'Kitchen', 12.5],
  ['Backpack', 'Bags', 79],
  ['Cap', 'Apparel', 24],
];

/** Fills an empty database with 25 products and 10 orders, so the crawler has several pages to read. */
function seed(/** @type {Database.Database} */ db) {
  const insertProduct = db.prepare(
    `INSERT INTO products (name, slug, description, regular_price, sale_price, stock_quantity, categories, images)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOrder = db.prepare(
    `INSERT INTO orders (order_number, status, currency, customer_email, customer_name, items, total)
     VALUES (?, ?, 'USD', ?, ?, ?, ?)`,
  );
  const statuses = ['completed', 'processing', 'pending', 'shipped', 'cancelled'];
  db.transaction(() => {
    let n = 0;
    for (const [kind, category, price] of KINDS) {
      for (const color of COLORS) {
        n += 1;
        const name = `${color} ${kind}`;
        const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
        const sale = n % 4 === 0 ? Math.round(Number(price) * 80) / 100 : null;
        const image = `https://placehold.co/600x600?text=${encodeURIComponent(name)}`;
        insertProduct.run(name, slug, `A ${name.toLowerCase()}.`, price, sale, (n * 7) % 40, category, image);
      }
    }
    for (let i = 1; i <= 10; i += 1) {
      const quantity = (i % 3) + 1;
      const items = [{ product_id: String(i), name: `Product ${i}`, quantity, price: 10 + i }];
      const total = Math.round(quantity * (10 + i) * 100) / 100;
      const status = statuses[i % statuses.length] ?? 'pending';
      insertOrder.run(
        `#${1000 + i}`,
        status,
        `customer${i}@example.com`,
        `Customer ${i}`,
        JSON.stringify(items),
        total,
      );
    }
  })();
}

const slugify = (/** @type {string} */ text) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** Marks a database this store created (PRAGMA user_version), so that another one is never written into. */
const SCHEMA_VERSION = 1;

/**
 * What `path` is when it is there but neither a regular file nor a directory (a FIFO, a socket, a
 * device, a symbolic link that loops), in words for `unusable`; undefined otherwise.
 * @param {string} path
 */
function notAFile(path) {
  try {
    const stats = statSync(path);
    if (stats.isFIFO()) return 'is a named pipe (FIFO), not a file';
    if (stats.isSocket()) return 'is a socket, not a file';
    if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'is a device, not a file';
    return undefined;
  } catch (error) {
    return /** @type {{ code?: string }} */ (error).code === 'ELOOP'
      ? 'is a symbolic link that loops (or a chain of too many links)'
      : undefined;
  }
}

/** Whether `path` is a directory; false when it, or a directory above it, is missing or a file. */
function isDirectory(/** @type {string} */ path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why `file` cannot hold the database: one sentence naming DATABASE_FILE, the path and what to do,
 * in place of SQLite's "unable to open database file", which names neither.
 * @param {string} file @param {unknown} error
 */
function unusable(file, error) {
  const path = resolve(file);
  const shown = path === file ? `'${file}'` : `'${file}' (${path})`;
  const { code = '', message = '' } = /** @type {{ code?: string, message?: string }} */ (error);
  const kind = notAFile(path);
  let reason = `cannot be used: ${message}`;
  if (kind !== undefined)
    reason = `${kind}: set DATABASE_FILE to a regular file, or a path where one can be created`;
  else if (isDirectory(path))
    reason = `is a directory: name a file inside it, such as ${join(file, 'store.db')}`;
  else if (code === 'SQLITE_NOTADB')
    reason = 'is not a SQLite database: move it away, or set DATABASE_FILE to another path';
  else if (!isDirectory(dirname(path)))
    reason = `cannot create the directory ${dirname(path)} (${message}): set DATABASE_FILE to a path in a writable directory`;
  else if (code.startsWith('SQLITE_READONLY'))
    reason =
      'is read-only (its permissions, an immutable attribute or a read-only mount): make it writable by the user running the store, or set DATABASE_FILE to another path';
  else if (/^(SQLITE_(CANTOPEN|IOERR)|E[A-Z]+$)/.test(code))
    reason =
      'cannot be created or opened for writing, nor its -wal and -shm files beside it: check the permissions of the file and its directory, or set DATABASE_FILE to another path';
  return new Error(`DATABASE_FILE ${shown} ${reason}`, { cause: error });
}

/**
 * Opens the SQLite file, creating its directory, and makes sure it is this store's: an empty file
 * gets the tables, a file holding other tables is refused. Every failure names DATABASE_FILE.
 * @param {string} file
 */
function openDatabase(file) {
  /** @type {Database.Database | undefined} */
  let db;
  try {
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    // A FIFO or a link loop is no file SQLite can use: said before SQLite tries to open it.
    if (file !== ':memory:' && notAFile(resolve(file)) !== undefined)
      throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    db = new Database(file);
    // The first read is where SQLite finds a file that is not a database. Another application's
    // file is refused before anything is written to it, WAL mode included.
    const version = db.pragma('user_version', { simple: true });
    const tables = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get();
    if (version !== SCHEMA_VERSION && tables !== 0) {
      throw new Error(
        `DATABASE_FILE '${file}' holds tables this store did not create (another application's database?): set DATABASE_FILE to a new file`,
      );
    }
    // WAL keeps <file>-wal and <file>-shm beside the file: where a store that cannot write fails.
    db.pragma('journal_mode = WAL');
    // SQLite opens a file it may not write (chmod 444, immutable, a read-only mount) read-only
    // without a word; this write is where it finds out, at start rather than at each admin write.
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return db;
  } catch (error) {
    db?.close();
    // SQLite's and the file system's errors carry a code; the one above already names DATABASE_FILE.
    throw typeof (/** @type {{ code?: unknown }} */ (error).code) === 'string'
      ? unusable(file, error)
      : error;
  }
}

/**
 * Opens (and on first start creates and seeds) the SQLite database: `file`, by default
 * DATABASE_FILE or data/store.db. A missing directory is created.
 * @param {{ file?: string, onChange?: (change: Change) => void }} [options]
 * @throws {Error} naming DATABASE_FILE and the path, when the file cannot be this store's database
 */
export function openStore({ file = process.env.DATABASE_FILE || 'data/store.db', onChange = () => {} } = {}) {
  const db = openDatabase(file);
  const { n } = /** @type {{ n: number }} */ (db.prepare('SELECT COUNT(*) AS n FROM products').get());
  if (n === 0) seed(db);

  const productById = db.prepare('SELECT * FROM products WHERE id = ?');

  /**
   * One page of a table and its row count. When the kit passes `after` (the last id of the page
   * before, which it remembers during a crawl) the page seeks past it instead of skipping `offset`
   * rows: deep pages cost what page 1 costs, and a row deleted mid-crawl hides no other.
   * @param {'products' | 'orders'} table @param {PageRequest} page
   */
  function pageOf(table, { perPage, offset, after }) {
    const items = Number.isSafeInteger(after)
      ? db.prepare(`SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(after, perPage)
      : db.prepare(`SELECT * FROM ${table} ORDER BY id LIMIT ? OFFSET ?`).all(perPage, offset);
    const { total } = /** @type {{ total: number }} */ (
      db.prepare(`SELECT COUNT(*) AS total FROM ${table}`).get()
    );
    return { items, total };
  }

  /** Runs `work` in a transaction, then tells `onChange` once it has committed. */
  function change(/** @type {() => Change | undefined} */ work) {
    const done = db.transaction(work)();
    if (done) {
      try {
        onChange(done);
      } catch (error) {
        console.error('onChange failed', error);
      }
    }
    return done?.record;
  }

  return {
    /** One page of products, ordered by id so that pages never overlap. */
    listProducts(/** @type {PageRequest} */ request) {
      return /** @type {{ items: Product[], total: number }} */ (pageOf('products', request));
    },

    /** One page of orders, ordered by id. */
    listOrders(/** @type {PageRequest} */ request) {
      return /** @type {{ items: Order[], total: number }} */ (pageOf('orders', request));
    },

    /** Whether the database answers: the kit's deep `/health` check. */
    ping() {
      return db.prepare('SELECT 1 AS ok').get() !== undefined;
    },

    /** @param {ProductInput & { name: string, regular_price: number }} input */
    createProduct(input) {
      return change(() => {
        const { lastInsertRowid } = db
          .prepare(
            `INSERT INTO products (name, slug, description, regular_price, sale_price, stock_quantity, categories, images)
             VALUES (@name, @slug, @description, @regular_price, @sale_price, @stock_quantity, @categories, @images)`,
          )
          .run({
            description: '',
            sale_price: null,
            stock_quantity: 0,
            categories: '',
            images: '',
            ...input,
            slug: input.slug ?? slugify(input.name),
          });
        const record = /** @type {Product} */ (productById.get(lastInsertRowid));
        return { type: 'product', action: 'created', record };
      });
    },

    /** @param {string | number} id @param {ProductInput} patch */
    updateProduct(id, patch) {
      return change(() => {
        const current = /** @type {Product | undefined} */ (productById.get(id));
        if (!current) return undefined;
        const next = { ...current, ...patch };
        db.prepare(
          `UPDATE products SET name = @name, slug = @slug, description = @description,
             regular_price = @regular_price, sale_price = @sale_price, stock_quantity = @stock_quantity,
             categories = @categories, images = @images, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
           WHERE id = @id`,
        ).run(next);
        const record = /** @type {Product} */ (productById.get(id));
        return { type: 'product', action: 'updated', record };
      });
    },

    /** @param {string | number} id */
    deleteProduct(id) {
      return change(() => {
        const record = /** @type {Product | undefined} */ (productById.get(id));
        if (!record) return undefined;
        db.prepare('DELETE FROM products WHERE id = ?').run(id);
        return { type: 'product', action: 'deleted', record };
      });
    },

    close() {
      db.close();
    },
  };
}

/** @typedef {ReturnType<typeof openStore>} Store */
