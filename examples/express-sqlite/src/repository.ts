import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

/** `"Aurora Pour-Over Kettle"` → `"aurora-pour-over-kettle"`. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/*
 * Records as the data layer hands them out: the tables' own column names, money as decimal text,
 * comma-separated lists, epoch seconds; only JSON columns are decoded, as a driver with a JSON type
 * would. The list endpoints send them as they are and the kit maps them to HiWelink's fields
 * (records.ts says how); the repository never builds a canonical record.
 */

export type AttributeValue = string | number | boolean;

/** An address as stored, under the store's own keys. */
export interface StoredAddress {
  line1: string;
  city: string;
  /** State, province or county; `''` where there is none. */
  region: string;
  postal_code: string;
  /** ISO 3166-1 alpha-2. */
  country_code: string;
}

export interface ProductRecord {
  id: number;
  title: string;
  /** `''` when there is none. */
  body: string;
  summary: string;
  sku: string;
  /** Decimal text, `'349.99'`. */
  list_price: string;
  /** Decimal text while on sale, else `null`. */
  promo_price: string | null;
  qty_on_hand: number;
  /** Comma-separated, `'Electronics, Audio'`. */
  category: string;
  /** Comma-separated tags. */
  labels: string;
  /** Paths on the store (`/images/...`) or absolute URLs. */
  photos: string[];
  options: Record<string, AttributeValue>;
  handle: string;
  /** ISO 8601. */
  created_at: string;
  updated_at: string;
}

export interface LineItemRecord {
  product_id: number;
  /** The product's name when it was bought. */
  product_name: string;
  qty: number;
  /** Decimal text: the price paid for one. */
  unit_price: string;
}

export interface OrderRecord {
  id: number;
  number: string;
  state: string;
  currency_code: string;
  email: string;
  buyer_name: string;
  /** Decimal text, like every amount. */
  sub_total: string;
  tax_total: string;
  shipping_cost: string;
  grand_total: string;
  ship_to: StoredAddress | null;
  bill_to: StoredAddress | null;
  payment_type: string;
  /** Unix epoch seconds. */
  placed_at: number;
  /** ISO 8601. */
  updated_at: string;
  line_items: LineItemRecord[];
}

/** Rows as SQLite returns them, JSON columns still text. */
type ProductRow = Omit<ProductRecord, 'photos' | 'options'> & { photos: string; options: string };
type OrderRow = Omit<OrderRecord, 'ship_to' | 'bill_to' | 'line_items'> & {
  ship_to: string | null;
  bill_to: string | null;
};
type LineItemRow = LineItemRecord & { order_id: number };

/** An address as the admin API takes it, under HiWelink's names. */
export interface AddressInput {
  street: string;
  city: string;
  state: string;
  zip: string;
  country: string;
}

/** Writable product fields; `price`, `stock_status` and `permalink` follow from them. */
export interface ProductInput {
  name: string;
  description?: string;
  short_description?: string;
  /** @default `WEB-<id>` */
  sku?: string;
  regular_price: number;
  /** `null` ends a sale. */
  sale_price?: number | null;
  stock_quantity?: number;
  categories?: string[];
  tags?: string[];
  images?: string[];
  attributes?: Record<string, AttributeValue>;
  /** @default the name, slugified and made unique */
  slug?: string;
}

export interface OrderItemInput {
  product_id: string;
  quantity: number;
  /** @default the product's name now */
  name?: string;
  /** @default the product's price now */
  price?: number;
}

/** Writable order fields; `subtotal` follows from the items and `total` from the amounts. */
export interface OrderInput {
  /** @default `ORD-<year>-<id>` */
  order_number?: string;
  status?: string;
  currency?: string;
  customer_email: string;
  customer_name?: string;
  items: OrderItemInput[];
  tax?: number;
  shipping?: number;
  shipping_address?: AddressInput | null;
  /** @default the shipping address */
  billing_address?: AddressInput | null;
  payment_method?: string;
  /** ISO 8601; kept to the second. @default now */
  created_at?: string;
}

/** A write the data cannot take; `field` names the input field at fault. */
export class RepositoryError extends Error {
  constructor(
    readonly code: 'invalid_body' | 'conflict',
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RepositoryError';
  }
}

export interface Page {
  perPage: number;
  offset: number;
  /**
   * The id of the last record of the page before, when the kit remembers it (its keyset
   * continuation): the page starts after that id instead of `offset` rows in. Anything but a safe
   * integer is ignored and `offset` used.
   */
  after?: unknown;
}

/** One page of records and the count across all pages, as the kit's list callbacks return. */
export interface PageResult<T> {
  items: T[];
  total: number;
}

export type ChangeAction = 'created' | 'updated' | 'deleted';

/**
 * A write that committed, with the row in the shape the list callbacks return (so the kit's mapping
 * applies to it as it is); a deletion carries the row as it was last stored.
 */
export type RepositoryChange =
  | { kind: 'products'; action: ChangeAction; row: ProductRecord }
  | { kind: 'orders'; action: ChangeAction; row: OrderRecord };

export type ChangeListener = (change: RepositoryChange) => void;

/** Reads and writes records in the store's own shape; the admin API and the kit map them. */
export interface Repository {
  listProducts(page: Page): PageResult<ProductRecord>;
  listOrders(page: Page): PageResult<OrderRecord>;
  getProduct(id: string): ProductRecord | undefined;
  getOrder(id: string): OrderRecord | undefined;
  createProduct(input: ProductInput): ProductRecord;
  /** `undefined` when no product has this id. */
  updateProduct(id: string, patch: Partial<ProductInput>): ProductRecord | undefined;
  /** `false` when no product has this id. */
  deleteProduct(id: string): boolean;
  createOrder(input: OrderInput): OrderRecord;
  updateOrder(id: string, patch: Partial<OrderInput>): OrderRecord | undefined;
  deleteOrder(id: string): boolean;
  /**
   * Calls `listener` after each write that changed a record, once its transaction has committed,
   * before the write returns; never for a write that threw, and so rolled back, or that changed
   * nothing (an unknown id). A listener that throws is logged and leaves the write, and the other
   * listeners, as they were. Each write commits its own transaction: one called inside an outer
   * `db.transaction()` throws, since its changes would be announced before they are committed.
   * @returns a function that removes the listener
   */
  onChange(listener: ChangeListener): () => void;
  /** Answers `true` while the database can serve queries; throws when it cannot. */
  ping(): boolean;
}

/** ISO 8601 in UTC, without a `.000` when the time falls on a whole second. */
export function isoTimestamp(time: string | number | Date): string {
  return new Date(time).toISOString().replace('.000Z', 'Z');
}

/** `34999` → `'349.99'`. */
export const toDecimal = (cents: number) => (cents / 100).toFixed(2);
/** `'349.99'` → `34999`. */
export const toCents = (decimal: string) => Math.round(Number(decimal) * 100);
/** An amount from the admin API (at most two decimals), as stored: `349.99` → `'349.99'`. */
const decimal = (amount: number) => toDecimal(Math.round(amount * 100));

/**
 * The kit's `after` as an id to seek past, or `undefined` to page by offset. Ids only grow
 * (AUTOINCREMENT never reuses one), so the rows after the last id served are exactly those the
 * crawl has not seen yet, whatever was deleted before them; an offset would skip one per deletion.
 */
const seekId = (after: unknown) => (Number.isSafeInteger(after) ? (after as number) : undefined);

/** One page of rows: past the id the kit remembered when it passes one, else by offset. */
function pageOf<Row>(byOffset: Statement, byAfter: Statement, { perPage, offset, after }: Page): Row[] {
  const id = seekId(after);
  return (id === undefined ? byOffset.all(perPage, offset) : byAfter.all(id, perPage)) as Row[];
}

/** Path ids are strings; anything but a positive integer matches no record. */
function rowId(id: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
}

const splitList = (csv: string) =>
  csv
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

const readProduct = (row: ProductRow): ProductRecord => ({
  ...row,
  photos: JSON.parse(row.photos) as string[],
  options: JSON.parse(row.options) as Record<string, AttributeValue>,
});

const readAddress = (json: string | null) => (json === null ? null : (JSON.parse(json) as StoredAddress));

const readOrder = (row: OrderRow, items: readonly LineItemRow[]): OrderRecord => ({
  ...row,
  ship_to: readAddress(row.ship_to),
  bill_to: readAddress(row.bill_to),
  line_items: items.map(({ order_id: _, ...item }) => item),
});

const storedAddress = (address: AddressInput): StoredAddress => ({
  line1: address.street,
  city: address.city,
  region: address.state,
  postal_code: address.zip,
  country_code: address.country,
});

const inputAddress = (address: StoredAddress): AddressInput => ({
  street: address.line1,
  city: address.city,
  state: address.region,
  zip: address.postal_code,
  country: address.country_code,
});

/** `base`, or `base-2`, `base-3`, ... : the first that `taken` refuses. */
function firstFree(base: string, taken: (value: string) => boolean): string {
  let candidate = base;
  for (let n = 2; taken(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/** The input that would recreate a stored product, so a patch can merge into it. */
function productInput(product: ProductRecord): ProductInput {
  return {
    name: product.title,
    description: product.body,
    short_description: product.summary,
    sku: product.sku,
    regular_price: Number(product.list_price),
    sale_price: product.promo_price === null ? null : Number(product.promo_price),
    stock_quantity: product.qty_on_hand,
    categories: splitList(product.category),
    tags: splitList(product.labels),
    images: product.photos,
    attributes: product.options,
    slug: product.handle,
  };
}

/** The same for an order; its items are kept unless the patch replaces them. */
function orderInput(order: OrderRecord): OrderInput {
  return {
    order_number: order.number,
    status: order.state,
    currency: order.currency_code,
    customer_email: order.email,
    customer_name: order.buyer_name,
    items: order.line_items.map((item) => ({
      product_id: String(item.product_id),
      quantity: item.qty,
      name: item.product_name,
      price: Number(item.unit_price),
    })),
    tax: Number(order.tax_total),
    shipping: Number(order.shipping_cost),
    shipping_address: order.ship_to && inputAddress(order.ship_to),
    billing_address: order.bill_to && inputAddress(order.bill_to),
    payment_method: order.payment_type,
    created_at: new Date(order.placed_at * 1000).toISOString(),
  };
}

function productColumns(input: ProductInput) {
  const regular = decimal(input.regular_price);
  const sale = input.sale_price === undefined || input.sale_price === null ? null : decimal(input.sale_price);
  if (sale !== null && toCents(sale) > toCents(regular)) {
    throw new RepositoryError('invalid_body', 'sale_price', 'sale_price: must not exceed regular_price');
  }
  return {
    title: input.name,
    body: input.description ?? '',
    summary: input.short_description ?? '',
    list_price: regular,
    promo_price: sale,
    qty_on_hand: input.stock_quantity ?? 0,
    category: (input.categories ?? []).join(', '),
    labels: (input.tags ?? []).join(', '),
    photos: JSON.stringify(input.images ?? []),
    options: JSON.stringify(input.attributes ?? {}),
  };
}

/** Repository over the store's SQLite database. Every write runs in one transaction. */
export function createRepository(db: Db): Repository {
  const listeners = new Set<ChangeListener>();
  /** What the running write changed: announced once its transaction commits, dropped if it rolls back. */
  let pending: RepositoryChange[] = [];

  function announce(change: RepositoryChange) {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        console.error(
          `[store] a change listener failed on ${change.kind} ${change.action} ${change.row.id}; the write stands:`,
          error,
        );
      }
    }
  }

  /**
   * `body` as a write: one IMMEDIATE transaction, then, once it has committed, its changes to the
   * listeners. better-sqlite3 runs COMMIT before `.immediate()` returns and ROLLBACK when `body` throws.
   */
  function write<A extends unknown[], R>(body: (...args: A) => R): (...args: A) => R {
    const transaction = db.transaction(body);
    return (...args) => {
      if (db.inTransaction) {
        throw new Error(
          'Repository writes commit their own transaction, and announce their changes after it: ' +
            'do not call them inside db.transaction()',
        );
      }
      pending = [];
      let changes: RepositoryChange[];
      let result: R;
      try {
        result = transaction.immediate(...args) as R;
        changes = pending;
      } finally {
        pending = [];
      }
      for (const change of changes) announce(change);
      return result;
    };
  }

  /** Notes a change of the running write; listeners get a copy, so they cannot alter what it returns. */
  function changed(change: RepositoryChange) {
    pending.push(structuredClone(change));
  }

  const statements = {
    ping: db.prepare('SELECT 1 AS ok'),
    countProducts: db.prepare('SELECT COUNT(*) AS total FROM products').pluck(),
    pageProducts: db.prepare('SELECT * FROM products ORDER BY id LIMIT ? OFFSET ?'),
    pageProductsAfter: db.prepare('SELECT * FROM products WHERE id > ? ORDER BY id LIMIT ?'),
    product: db.prepare('SELECT * FROM products WHERE id = ?'),
    productWithHandle: db.prepare('SELECT id FROM products WHERE handle = ?').pluck(),
    productWithSku: db.prepare('SELECT id FROM products WHERE sku = ?').pluck(),
    insertProduct: db.prepare(
      `INSERT INTO products (title, body, summary, sku, list_price, promo_price, qty_on_hand,
         category, labels, photos, options, handle, created_at, updated_at)
       VALUES (@title, @body, @summary, @sku, @list_price, @promo_price, @qty_on_hand,
         @category, @labels, @photos, @options, @handle, @now, @now)`,
    ),
    updateProduct: db.prepare(
      `UPDATE products SET title = @title, body = @body, summary = @summary, sku = @sku,
         list_price = @list_price, promo_price = @promo_price, qty_on_hand = @qty_on_hand,
         category = @category, labels = @labels, photos = @photos, options = @options, handle = @handle,
         updated_at = @now
       WHERE id = @id`,
    ),
    setProductSku: db.prepare('UPDATE products SET sku = ? WHERE id = ?'),
    deleteProduct: db.prepare('DELETE FROM products WHERE id = ?'),

    countOrders: db.prepare('SELECT COUNT(*) AS total FROM orders').pluck(),
    pageOrders: db.prepare('SELECT * FROM orders ORDER BY id LIMIT ? OFFSET ?'),
    pageOrdersAfter: db.prepare('SELECT * FROM orders WHERE id > ? ORDER BY id LIMIT ?'),
    order: db.prepare('SELECT * FROM orders WHERE id = ?'),
    orderWithNumber: db.prepare('SELECT id FROM orders WHERE number = ?').pluck(),
    itemsOf: db.prepare(
      'SELECT order_id, product_id, product_name, qty, unit_price FROM order_items WHERE order_id = ? ORDER BY id',
    ),
    itemsOfMany: db.prepare(
      `SELECT order_id, product_id, product_name, qty, unit_price FROM order_items
       WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id, id`,
    ),
    insertOrder: db.prepare(
      `INSERT INTO orders (number, state, currency_code, email, buyer_name, sub_total, tax_total,
         shipping_cost, grand_total, ship_to, bill_to, payment_type, placed_at, updated_at)
       VALUES (@number, @state, @currency_code, @email, @buyer_name, @sub_total, @tax_total,
         @shipping_cost, @grand_total, @ship_to, @bill_to, @payment_type, @placed_at, @now)`,
    ),
    updateOrder: db.prepare(
      `UPDATE orders SET number = @number, state = @state, currency_code = @currency_code, email = @email,
         buyer_name = @buyer_name, sub_total = @sub_total, tax_total = @tax_total,
         shipping_cost = @shipping_cost, grand_total = @grand_total, ship_to = @ship_to, bill_to = @bill_to,
         payment_type = @payment_type, placed_at = @placed_at, updated_at = @now
       WHERE id = @id`,
    ),
    setOrderNumber: db.prepare('UPDATE orders SET number = ? WHERE id = ?'),
    insertItem: db.prepare(
      `INSERT INTO order_items (order_id, product_id, product_name, qty, unit_price)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    deleteItems: db.prepare('DELETE FROM order_items WHERE order_id = ?'),
    deleteOrder: db.prepare('DELETE FROM orders WHERE id = ?'),
  };

  const productRow = (id: number) => statements.product.get(id) as ProductRow | undefined;
  const orderRow = (id: number) => statements.order.get(id) as OrderRow | undefined;
  const loadOrder = (row: OrderRow) => readOrder(row, statements.itemsOf.all(row.id) as LineItemRow[]);

  /** A value another record already holds is a 409 naming the field, never a silent rename. */
  function claim(field: string, value: string, holder: unknown, self?: number) {
    if (holder !== undefined && holder !== self) {
      throw new RepositoryError('conflict', field, `${field}: '${value}' is already in use`);
    }
  }

  function resolveItems(items: readonly OrderItemInput[]): LineItemRecord[] {
    return items.map((item, index) => {
      const id = rowId(item.product_id);
      const product = id === undefined ? undefined : productRow(id);
      if (product === undefined) {
        throw new RepositoryError(
          'invalid_body',
          `items.${index}.product_id`,
          `items.${index}.product_id: no product with id '${item.product_id}'`,
        );
      }
      return {
        product_id: product.id,
        product_name: item.name ?? product.title,
        qty: item.quantity,
        unit_price:
          item.price === undefined ? (product.promo_price ?? product.list_price) : decimal(item.price),
      };
    });
  }

  function writeItems(orderId: number, items: readonly LineItemRecord[]) {
    statements.deleteItems.run(orderId);
    for (const item of items) {
      statements.insertItem.run(orderId, item.product_id, item.product_name, item.qty, item.unit_price);
    }
  }

  function orderColumns(input: OrderInput, subtotalCents: number) {
    const shipTo = input.shipping_address ?? null;
    const billTo = input.billing_address === undefined ? shipTo : input.billing_address;
    const taxCents = Math.round((input.tax ?? 0) * 100);
    const shippingCents = Math.round((input.shipping ?? 0) * 100);
    return {
      state: input.status ?? 'pending',
      currency_code: input.currency ?? 'USD',
      email: input.customer_email,
      buyer_name: input.customer_name ?? '',
      sub_total: toDecimal(subtotalCents),
      tax_total: toDecimal(taxCents),
      shipping_cost: toDecimal(shippingCents),
      grand_total: toDecimal(subtotalCents + taxCents + shippingCents),
      ship_to: shipTo === null ? null : JSON.stringify(storedAddress(shipTo)),
      bill_to: billTo === null ? null : JSON.stringify(storedAddress(billTo)),
      payment_type: input.payment_method ?? '',
      placed_at: Math.floor(
        (input.created_at === undefined ? Date.now() : Date.parse(input.created_at)) / 1000,
      ),
    };
  }

  const subtotalOf = (items: readonly LineItemRecord[]) =>
    items.reduce((sum, item) => sum + item.qty * toCents(item.unit_price), 0);

  return {
    listProducts: db.transaction((page: Page) => {
      const rows = pageOf<ProductRow>(statements.pageProducts, statements.pageProductsAfter, page);
      return { items: rows.map(readProduct), total: statements.countProducts.get() as number };
    }),

    listOrders: db.transaction((page: Page) => {
      const rows = pageOf<OrderRow>(statements.pageOrders, statements.pageOrdersAfter, page);
      const byOrder = new Map<number, LineItemRow[]>(rows.map((row) => [row.id, []]));
      const ids = JSON.stringify(rows.map((row) => row.id));
      for (const item of statements.itemsOfMany.all(ids) as LineItemRow[]) {
        byOrder.get(item.order_id)?.push(item);
      }
      return {
        items: rows.map((row) => readOrder(row, byOrder.get(row.id) ?? [])),
        total: statements.countOrders.get() as number,
      };
    }),

    getProduct(id) {
      const key = rowId(id);
      const row = key === undefined ? undefined : productRow(key);
      return row && readProduct(row);
    },

    getOrder(id) {
      const key = rowId(id);
      const row = key === undefined ? undefined : orderRow(key);
      return row && loadOrder(row);
    },

    createProduct: write((input: ProductInput): ProductRecord => {
      const columns = productColumns(input);
      if (input.slug !== undefined) claim('slug', input.slug, statements.productWithHandle.get(input.slug));
      if (input.sku !== undefined) claim('sku', input.sku, statements.productWithSku.get(input.sku));
      const handle =
        input.slug ??
        firstFree(
          slugify(input.name) || 'product',
          (slug) => statements.productWithHandle.get(slug) !== undefined,
        );
      const { lastInsertRowid } = statements.insertProduct.run({
        ...columns,
        handle,
        // Unique placeholder until the id, which the default SKU is made from, is known.
        sku: input.sku ?? `pending-${randomUUID()}`,
        now: new Date().toISOString(),
      });
      const id = Number(lastInsertRowid);
      if (input.sku === undefined) {
        const sku = firstFree(
          `WEB-${String(id).padStart(5, '0')}`,
          (value) => statements.productWithSku.get(value) !== undefined,
        );
        statements.setProductSku.run(sku, id);
      }
      const product = readProduct(productRow(id) as ProductRow);
      changed({ kind: 'products', action: 'created', row: product });
      return product;
    }),

    updateProduct: write((id: string, patch: Partial<ProductInput>): ProductRecord | undefined => {
      const key = rowId(id);
      const row = key === undefined ? undefined : productRow(key);
      if (key === undefined || row === undefined) return undefined;
      const merged = { ...productInput(readProduct(row)), ...patch };
      const columns = productColumns(merged);
      if (patch.slug !== undefined)
        claim('slug', patch.slug, statements.productWithHandle.get(patch.slug), key);
      if (patch.sku !== undefined) claim('sku', patch.sku, statements.productWithSku.get(patch.sku), key);
      statements.updateProduct.run({
        ...columns,
        id: key,
        sku: merged.sku ?? row.sku,
        handle: merged.slug ?? row.handle,
        now: new Date().toISOString(),
      });
      const product = readProduct(productRow(key) as ProductRow);
      changed({ kind: 'products', action: 'updated', row: product });
      return product;
    }),

    deleteProduct: write((id: string): boolean => {
      const key = rowId(id);
      const row = key === undefined ? undefined : productRow(key);
      if (key === undefined || row === undefined) return false;
      statements.deleteProduct.run(key);
      changed({ kind: 'products', action: 'deleted', row: readProduct(row) });
      return true;
    }),

    createOrder: write((input: OrderInput): OrderRecord => {
      const items = resolveItems(input.items);
      if (input.order_number !== undefined) {
        claim('order_number', input.order_number, statements.orderWithNumber.get(input.order_number));
      }
      const columns = orderColumns(input, subtotalOf(items));
      const { lastInsertRowid } = statements.insertOrder.run({
        ...columns,
        number: input.order_number ?? `pending-${randomUUID()}`,
        now: new Date().toISOString(),
      });
      const id = Number(lastInsertRowid);
      if (input.order_number === undefined) {
        const year = new Date(columns.placed_at * 1000).getUTCFullYear();
        const number = firstFree(
          `ORD-${year}-${String(id).padStart(5, '0')}`,
          (value) => statements.orderWithNumber.get(value) !== undefined,
        );
        statements.setOrderNumber.run(number, id);
      }
      writeItems(id, items);
      const order = loadOrder(orderRow(id) as OrderRow);
      changed({ kind: 'orders', action: 'created', row: order });
      return order;
    }),

    updateOrder: write((id: string, patch: Partial<OrderInput>): OrderRecord | undefined => {
      const key = rowId(id);
      const row = key === undefined ? undefined : orderRow(key);
      if (key === undefined || row === undefined) return undefined;
      const items = patch.items === undefined ? undefined : resolveItems(patch.items);
      if (patch.order_number !== undefined) {
        claim('order_number', patch.order_number, statements.orderWithNumber.get(patch.order_number), key);
      }
      const merged = { ...orderInput(loadOrder(row)), ...patch };
      statements.updateOrder.run({
        ...orderColumns(merged, items === undefined ? toCents(row.sub_total) : subtotalOf(items)),
        id: key,
        number: merged.order_number ?? row.number,
        now: new Date().toISOString(),
      });
      if (items !== undefined) writeItems(key, items);
      const order = loadOrder(orderRow(key) as OrderRow);
      changed({ kind: 'orders', action: 'updated', row: order });
      return order;
    }),

    deleteOrder: write((id: string): boolean => {
      const key = rowId(id);
      const row = key === undefined ? undefined : orderRow(key);
      if (key === undefined || row === undefined) return false;
      const order = loadOrder(row);
      statements.deleteOrder.run(key);
      changed({ kind: 'orders', action: 'deleted', row: order });
      return true;
    }),

    onChange(listener) {
      // A wrapper per registration, so the same function added twice is called twice and removed once.
      const entry: ChangeListener = (change) => listener(change);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },

    ping: () => statements.ping.get() !== undefined,
  };
}
