import {
  type Address,
  type Order as CanonicalOrder,
  type OrderItem as CanonicalOrderItem,
  type Product as CanonicalProduct,
  createRecordMapper,
  type OrderField,
  type ProductField,
  type RecordMapping,
} from '@hiwelink/core';
import type { OrderRecord, ProductRecord } from './repository.js';

/** Where the demo's product pages and images would live; the demo serves neither. */
export const STORE_BASE_URL = 'https://demo-store.example.com';

/*
 * How the kit reads the store's records. Most columns already have a name the HiWelink docs list
 * as an alias, and need nothing here:
 *
 *   products  title → name, body → description, summary → short_description,
 *             list_price → regular_price, category → categories, labels → tags,
 *             photos → images, options → attributes, handle → slug
 *   orders    number → order_number, state → status, currency_code → currency,
 *             email → customer_email, buyer_name → customer_name, sub_total → subtotal,
 *             tax_total → tax, shipping_cost → shipping, grand_total → total,
 *             payment_type → payment_method, line_items → items
 *   items     product_name → name, qty → quantity, unit_price → price
 *   addresses line1 → street, region → state, postal_code → zip, country_code → country
 *
 * `fields` places the columns that have no alias. The kit coerces the values: ids to strings,
 * decimal text to numbers, comma-separated lists to arrays, image paths to URLs on STORE_BASE_URL,
 * epoch seconds to ISO 8601; it derives price, stock_status and, from the slug, permalink.
 */

export const PRODUCT_MAPPING: RecordMapping<ProductRecord, ProductField> = {
  fields: { sale_price: 'promo_price', stock_quantity: 'qty_on_hand' },
};

export const ORDER_MAPPING: RecordMapping<OrderRecord, OrderField> = {
  fields: { created_at: 'placed_at', shipping_address: 'ship_to', billing_address: 'bill_to' },
};

type Has<T, K extends keyof T> = T & Required<Pick<T, K>>;

/** A product as HiWelink receives it: the documented fields every demo product has, and the rest when set. */
export type Product = Has<
  CanonicalProduct,
  'sku' | 'price' | 'regular_price' | 'stock_status' | 'stock_quantity' | 'slug' | 'permalink'
>;
export type OrderItem = Has<CanonicalOrderItem, 'product_id' | 'name' | 'quantity' | 'price'>;
/** An order as HiWelink receives it. */
export type Order = Has<
  Omit<CanonicalOrder, 'items'>,
  | 'order_number'
  | 'status'
  | 'total'
  | 'subtotal'
  | 'tax'
  | 'shipping'
  | 'currency'
  | 'customer_email'
  | 'created_at'
  | 'updated_at'
> & { items: OrderItem[] };
export type { Address };

const mapProduct = createRecordMapper('products', PRODUCT_MAPPING, STORE_BASE_URL);
const mapOrder = createRecordMapper('orders', ORDER_MAPPING, STORE_BASE_URL);

/** The product as the list endpoint sends it: the admin API answers with the kit's own mapping. */
export const toProduct = (record: ProductRecord) => mapProduct(record).record as Product;
export const toOrder = (record: OrderRecord) => mapOrder(record).record as Order;
