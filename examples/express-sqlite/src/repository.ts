import { randomUUID } from 'node:crypto';
import type { Db } from './db.js';

/** Where the demo's product pages and images would live; the demo serves neither. */
export const STORE_BASE_URL = 'https://demo-store.example.com';

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

// Rows as stored: the column names are the store's own, not the Generic API's.

export interface ProductRow {
  id: number;
  title: string;
  body: string;
  summary: string;
  sku: string;
  list_price_cents: number;
  sale_price_cents: number | null;
  qty_on_hand: number;
  /** Comma-separated, `"Electronics, Audio"`. */
  category: string;
  /** JSON array of strings. */
  labels: string;
  /** JSON array of image URLs. */
  photos: string;
  /** JSON object. */
  options: string;
  handle: string;
  created_at: string;
  updated_at: string;
}

export interface OrderRow {
  id: number;
  number: string;
  state: string;
  currency_code: string;
  email: string;
  buyer_name: string;
  subtotal_cents: number;
  tax_cents: number;
  shipping_cents: number;
  /** JSON {@link Address} or null. */
  ship_to: string | null;
  bill_to: string | null;
  payment_type: string;
  placed_at: string;
  updated_at: string;
}

export interface OrderItemRow {
  order_id: number;
  product_id: number;
  product_title: string;
  qty: number;
  unit_price_cents: number;
}

// Records with the Generic API's canonical field names, as served to HiWelink.

export type AttributeValue = string | number | boolean;

export interface Product {
  id: string;
  name: string;
  description: string;
  short_description: string;
  sku: string;
  /** What a customer pays now: the sale price when there is one. */
  price: number;
  regular_price: number;
  sale_price?: number;
  stock_status: 'in_stock' | 'out_of_stock';
  stock_quantity: number;
  categories: string[];
  tags: string[];
  images: string[];
  attributes: Record<string, AttributeValue>;
  slug: string;
  permalink: string;
}

export interface Address {
  street: string;
  city: string;
  state: string;
  zip: string;
  country: string;
}

export interface OrderItem {
  product_id: string;
  name: string;
  quantity: number;
  price: number;
}

export interface Order {
  id: string;
  order_number: string;
  status: string;
  total: number;
  subtotal: number;
  tax: number;
  shipping: number;
  currency: string;
  customer_email: string;
  customer_name: string;
  items: OrderItem[];
  shipping_address: Address | null;
  billing_address: Address | null;
  payment_method: string;
  created_at: string;
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
  shipping_address?: Address | null;
  /** @default the shipping address */
  billing_address?: Address | null;
  payment_method?: string;
  /** @default now */
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
}

/** One page of records and the count across all pages, as the kit's list callbacks return. */
export interface PageResult<T> {
  items: T[];
  total: number;
}

export interface Repository {
  listProducts(page: Page): PageResult<Product>;
  listOrders(page: Page): PageResult<Order>;
  getProduct(id: string): Product | undefined;
  getOrder(id: string): Order | undefined;
  createProduct(input: ProductInput): Product;
  /** `undefined` when no product has this id. */
  updateProduct(id: string, patch: Partial<ProductInput>): Product | undefined;
  /** `false` when no product has this id. */
  deleteProduct(id: string): boolean;
  createOrder(input: OrderInput): Order;
  updateOrder(id: string, patch: Partial<OrderInput>): Order | undefined;
  deleteOrder(id: string): boolean;
  /** Answers `true` while the database can serve queries; throws when it cannot. */
  ping(): boolean;
}

/** ISO 8601 in UTC, without a `.000` when the time falls on a whole second. */
export function isoTimestamp(time: string | number | Date): string {
  return new Date(time).toISOString().replace('.000Z', 'Z');
}

const toMoney = (cents: number) => cents / 100;
const toCents = (amount: number) => Math.round(amount * 100);

/** Path ids are strings; anything but a positive integer matches no record. */
function rowId(id: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
}

const splitList = (csv: string) =>
  csv
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

export function toProduct(row: ProductRow): Product {
  return {
    id: String(row.id),
    name: row.title,
    description: row.body,
    short_description: row.summary,
    sku: row.sku,
    price: toMoney(row.sale_price_cents ?? row.list_price_cents),
    regular_price: toMoney(row.list_price_cents),
    ...(row.sale_price_cents === null ? {} : { sale_price: toMoney(row.sale_price_cents) }),
    stock_status: row.qty_on_hand > 0 ? 'in_stock' : 'out_of_stock',
    stock_quantity: row.qty_on_hand,
    categories: splitList(row.category),
    tags: JSON.parse(row.labels) as string[],
    images: JSON.parse(row.photos) as string[],
    attributes: JSON.parse(row.options) as Record<string, AttributeValue>,
    slug: row.handle,
    permalink: `${STORE_BASE_URL}/product/${row.handle}`,
  };
}

export function toOrder(row: OrderRow, items: readonly OrderItemRow[]): Order {
  return {
    id: String(row.id),
    order_number: row.number,
    status: row.state,
    total: toMoney(row.subtotal_cents + row.tax_cents + row.shipping_cents),
    subtotal: toMoney(row.subtotal_cents),
    tax: toMoney(row.tax_cents),
    shipping: toMoney(row.shipping_cents),
    currency: row.currency_code,
    customer_email: row.email,
    customer_name: row.buyer_name,
    items: items.map((item) => ({
      product_id: String(item.product_id),
      name: item.product_title,
      quantity: item.qty,
      price: toMoney(item.unit_price_cents),
    })),
    shipping_address: row.ship_to === null ? null : (JSON.parse(row.ship_to) as Address),
    billing_address: row.bill_to === null ? null : (JSON.parse(row.bill_to) as Address),
    payment_method: row.payment_type,
    created_at: row.placed_at,
  };
}

/** `base`, or `base-2`, `base-3`, ... : the first that `taken` refuses. */
function firstFree(base: string, taken: (value: string) => boolean): string {
  let candidate = base;
  for (let n = 2; taken(candidate); n++) candidate = `${base}-${n}`;
  return candidate;
}

/** Turns a canonical product into the input that would recreate it, so a patch can merge into it. */
function productInput(product: Product): ProductInput {
  return {
    name: product.name,
    description: product.description,
    short_description: product.short_description,
    sku: product.sku,
    regular_price: product.regular_price,
    sale_price: product.sale_price ?? null,
    stock_quantity: product.stock_quantity,
    categories: product.categories,
    tags: product.tags,
    images: product.images,
    attributes: product.attributes,
    slug: product.slug,
  };
}

/** The same for an order; its items are kept unless the patch replaces them. */
function orderInput(order: Order): OrderInput {
  return {
    order_number: order.order_number,
    status: order.status,
    currency: order.currency,
    customer_email: order.customer_email,
    customer_name: order.customer_name,
    items: order.items,
    tax: order.tax,
    shipping: order.shipping,
    shipping_address: order.shipping_address,
    billing_address: order.billing_address,
    payment_method: order.payment_method,
    created_at: order.created_at,
  };
}

function productColumns(input: ProductInput) {
  const regular = toCents(input.regular_price);
  const sale = input.sale_price === undefined || input.sale_price === null ? null : toCents(input.sale_price);
  if (sale !== null && sale > regular) {
    throw new RepositoryError('invalid_body', 'sale_price', 'sale_price: must not exceed regular_price');
  }
  return {
    title: input.name,
    body: input.description ?? '',
    summary: input.short_description ?? '',
    list_price_cents: regular,
    sale_price_cents: sale,
    qty_on_hand: input.stock_quantity ?? 0,
    category: (input.categories ?? []).join(', '),
    labels: JSON.stringify(input.tags ?? []),
    photos: JSON.stringify(input.images ?? []),
    options: JSON.stringify(input.attributes ?? {}),
  };
}

/** Repository over the store's SQLite database. Every write runs in one transaction. */
export function createRepository(db: Db): Repository {
  const statements = {
    ping: db.prepare('SELECT 1 AS ok'),
    countProducts: db.prepare('SELECT COUNT(*) AS total FROM products').pluck(),
    pageProducts: db.prepare('SELECT * FROM products ORDER BY id LIMIT ? OFFSET ?'),
    product: db.prepare('SELECT * FROM products WHERE id = ?'),
    productWithHandle: db.prepare('SELECT id FROM products WHERE handle = ?').pluck(),
    productWithSku: db.prepare('SELECT id FROM products WHERE sku = ?').pluck(),
    insertProduct: db.prepare(
      `INSERT INTO products (title, body, summary, sku, list_price_cents, sale_price_cents, qty_on_hand,
         category, labels, photos, options, handle, created_at, updated_at)
       VALUES (@title, @body, @summary, @sku, @list_price_cents, @sale_price_cents, @qty_on_hand,
         @category, @labels, @photos, @options, @handle, @now, @now)`,
    ),
    updateProduct: db.prepare(
      `UPDATE products SET title = @title, body = @body, summary = @summary, sku = @sku,
         list_price_cents = @list_price_cents, sale_price_cents = @sale_price_cents, qty_on_hand = @qty_on_hand,
         category = @category, labels = @labels, photos = @photos, options = @options, handle = @handle,
         updated_at = @now
       WHERE id = @id`,
    ),
    setProductSku: db.prepare('UPDATE products SET sku = ? WHERE id = ?'),
    deleteProduct: db.prepare('DELETE FROM products WHERE id = ?'),

    countOrders: db.prepare('SELECT COUNT(*) AS total FROM orders').pluck(),
    pageOrders: db.prepare('SELECT * FROM orders ORDER BY id LIMIT ? OFFSET ?'),
    order: db.prepare('SELECT * FROM orders WHERE id = ?'),
    orderWithNumber: db.prepare('SELECT id FROM orders WHERE number = ?').pluck(),
    itemsOf: db.prepare('SELECT * FROM order_items WHERE order_id = ? ORDER BY id'),
    itemsOfMany: db.prepare(
      'SELECT * FROM order_items WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id, id',
    ),
    insertOrder: db.prepare(
      `INSERT INTO orders (number, state, currency_code, email, buyer_name, subtotal_cents, tax_cents,
         shipping_cents, ship_to, bill_to, payment_type, placed_at, updated_at)
       VALUES (@number, @state, @currency_code, @email, @buyer_name, @subtotal_cents, @tax_cents,
         @shipping_cents, @ship_to, @bill_to, @payment_type, @placed_at, @now)`,
    ),
    updateOrder: db.prepare(
      `UPDATE orders SET number = @number, state = @state, currency_code = @currency_code, email = @email,
         buyer_name = @buyer_name, subtotal_cents = @subtotal_cents, tax_cents = @tax_cents,
         shipping_cents = @shipping_cents, ship_to = @ship_to, bill_to = @bill_to,
         payment_type = @payment_type, placed_at = @placed_at, updated_at = @now
       WHERE id = @id`,
    ),
    setOrderNumber: db.prepare('UPDATE orders SET number = ? WHERE id = ?'),
    insertItem: db.prepare(
      `INSERT INTO order_items (order_id, product_id, product_title, qty, unit_price_cents)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    deleteItems: db.prepare('DELETE FROM order_items WHERE order_id = ?'),
    deleteOrder: db.prepare('DELETE FROM orders WHERE id = ?'),
  };

  const productRow = (id: number) => statements.product.get(id) as ProductRow | undefined;
  const orderRow = (id: number) => statements.order.get(id) as OrderRow | undefined;
  const loadOrder = (row: OrderRow) => toOrder(row, statements.itemsOf.all(row.id) as OrderItemRow[]);

  /** A value another record already holds is a 409 naming the field, never a silent rename. */
  function claim(field: string, value: string, holder: unknown, self?: number) {
    if (holder !== undefined && holder !== self) {
      throw new RepositoryError('conflict', field, `${field}: '${value}' is already in use`);
    }
  }

  function resolveItems(items: readonly OrderItemInput[]): OrderItemRow[] {
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
        order_id: 0,
        product_id: product.id,
        product_title: item.name ?? product.title,
        qty: item.quantity,
        unit_price_cents:
          item.price === undefined
            ? (product.sale_price_cents ?? product.list_price_cents)
            : toCents(item.price),
      };
    });
  }

  function writeItems(orderId: number, items: readonly OrderItemRow[]) {
    statements.deleteItems.run(orderId);
    for (const item of items) {
      statements.insertItem.run(
        orderId,
        item.product_id,
        item.product_title,
        item.qty,
        item.unit_price_cents,
      );
    }
  }

  function orderColumns(input: OrderInput, subtotalCents: number) {
    const shipTo = input.shipping_address ?? null;
    const billTo = input.billing_address === undefined ? shipTo : input.billing_address;
    return {
      state: input.status ?? 'pending',
      currency_code: input.currency ?? 'USD',
      email: input.customer_email,
      buyer_name: input.customer_name ?? '',
      subtotal_cents: subtotalCents,
      tax_cents: toCents(input.tax ?? 0),
      shipping_cents: toCents(input.shipping ?? 0),
      ship_to: shipTo === null ? null : JSON.stringify(shipTo),
      bill_to: billTo === null ? null : JSON.stringify(billTo),
      payment_type: input.payment_method ?? '',
      placed_at: isoTimestamp(input.created_at ?? Date.now()),
    };
  }

  const subtotalOf = (items: readonly OrderItemRow[]) =>
    items.reduce((sum, item) => sum + item.qty * item.unit_price_cents, 0);

  return {
    listProducts: db.transaction(({ perPage, offset }: Page) => ({
      items: (statements.pageProducts.all(perPage, offset) as ProductRow[]).map(toProduct),
      total: statements.countProducts.get() as number,
    })),

    listOrders: db.transaction(({ perPage, offset }: Page) => {
      const rows = statements.pageOrders.all(perPage, offset) as OrderRow[];
      const byOrder = new Map<number, OrderItemRow[]>(rows.map((row) => [row.id, []]));
      const ids = JSON.stringify(rows.map((row) => row.id));
      for (const item of statements.itemsOfMany.all(ids) as OrderItemRow[]) {
        byOrder.get(item.order_id)?.push(item);
      }
      return {
        items: rows.map((row) => toOrder(row, byOrder.get(row.id) ?? [])),
        total: statements.countOrders.get() as number,
      };
    }),

    getProduct(id) {
      const key = rowId(id);
      const row = key === undefined ? undefined : productRow(key);
      return row && toProduct(row);
    },

    getOrder(id) {
      const key = rowId(id);
      const row = key === undefined ? undefined : orderRow(key);
      return row && loadOrder(row);
    },

    createProduct: db.transaction((input: ProductInput): Product => {
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
      return toProduct(productRow(id) as ProductRow);
    }).immediate,

    updateProduct: db.transaction((id: string, patch: Partial<ProductInput>): Product | undefined => {
      const key = rowId(id);
      const row = key === undefined ? undefined : productRow(key);
      if (key === undefined || row === undefined) return undefined;
      const merged = { ...productInput(toProduct(row)), ...patch };
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
      return toProduct(productRow(key) as ProductRow);
    }).immediate,

    deleteProduct: db.transaction((id: string): boolean => {
      const key = rowId(id);
      return key !== undefined && statements.deleteProduct.run(key).changes > 0;
    }).immediate,

    createOrder: db.transaction((input: OrderInput): Order => {
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
        const number = firstFree(
          `ORD-${columns.placed_at.slice(0, 4)}-${String(id).padStart(5, '0')}`,
          (value) => statements.orderWithNumber.get(value) !== undefined,
        );
        statements.setOrderNumber.run(number, id);
      }
      writeItems(id, items);
      return loadOrder(orderRow(id) as OrderRow);
    }).immediate,

    updateOrder: db.transaction((id: string, patch: Partial<OrderInput>): Order | undefined => {
      const key = rowId(id);
      const row = key === undefined ? undefined : orderRow(key);
      if (key === undefined || row === undefined) return undefined;
      const items = patch.items === undefined ? undefined : resolveItems(patch.items);
      if (patch.order_number !== undefined) {
        claim('order_number', patch.order_number, statements.orderWithNumber.get(patch.order_number), key);
      }
      const merged = { ...orderInput(loadOrder(row)), ...patch };
      statements.updateOrder.run({
        ...orderColumns(merged, items === undefined ? row.subtotal_cents : subtotalOf(items)),
        id: key,
        number: merged.order_number ?? row.number,
        now: new Date().toISOString(),
      });
      if (items !== undefined) writeItems(key, items);
      return loadOrder(orderRow(key) as OrderRow);
    }).immediate,

    deleteOrder: db.transaction((id: string): boolean => {
      const key = rowId(id);
      return key !== undefined && statements.deleteOrder.run(key).changes > 0;
    }).immediate,

    ping: () => statements.ping.get() !== undefined,
  };
}
