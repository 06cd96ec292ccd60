// What a careful hand-written store route does, shared by the hand-written Express, Fastify and Koa
// routes and the bare node:http server: a constant-time key check, page/per_page read with parseInt
// and bounds, a slice of the in-memory array, JSON.stringify of { data, meta }.

import { timingSafeEqual } from 'node:crypto';
import { API_KEY, DEFAULT_PER_PAGE, MAX_PER_PAGE, PRODUCTS, STORE_BASE_URL, STORE_ROWS } from './data.mjs';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const UNAUTHORIZED_BODY = JSON.stringify({ error: 'Unauthorized' });

const expectedKey = Buffer.from(API_KEY);

/** True when the X-API-Key header value is the configured key; compared in constant time. */
export function validKey(value) {
  if (typeof value !== 'string' || value.length === 0) return false;
  const presented = Buffer.from(value);
  return presented.length === expectedKey.length && timingSafeEqual(presented, expectedKey);
}

/** page >= 1 and 1 <= per_page <= MAX_PER_PAGE; anything unparsable falls back to the default. */
export function readPagination(pageParam, perPageParam) {
  const page = Math.max(1, Number.parseInt(pageParam, 10) || 1);
  const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number.parseInt(perPageParam, 10) || DEFAULT_PER_PAGE));
  return { page, perPage };
}

export function productsPayload({ page, perPage }) {
  const offset = (page - 1) * perPage;
  return {
    data: PRODUCTS.slice(offset, offset + perPage),
    meta: {
      current_page: page,
      per_page: perPage,
      total: PRODUCTS.length,
      last_page: Math.max(1, Math.ceil(PRODUCTS.length / perPage)),
    },
  };
}

export const healthPayload = () => ({ status: 'ok', timestamp: new Date().toISOString() });

/**
 * One STORE_ROWS row mapped to the documented fields the way the platform's own examples map a
 * database row: String(id), parseFloat on the prices, a ternary for the stock status, the category
 * list split, image paths made absolute with the store's base URL and a permalink from the handle.
 * It sends what the adapter sends for the same row (`price` is the promo price when there is one,
 * `sale_price` only then), so the two answers can be compared value for value.
 */
export function mapStoreRow(row) {
  return {
    id: String(row.id),
    name: row.title,
    description: row.body_html,
    short_description: row.summary,
    sku: row.sku,
    price: parseFloat(row.promo_price ?? row.list_price),
    regular_price: parseFloat(row.list_price),
    sale_price: row.promo_price === null ? undefined : parseFloat(row.promo_price),
    stock_status: row.qty_on_hand > 0 ? 'in_stock' : 'out_of_stock',
    stock_quantity: row.qty_on_hand,
    categories: row.category.split(',').map((category) => category.trim()),
    tags: row.tags,
    images: row.image_paths.map((path) => STORE_BASE_URL + path),
    attributes: row.attributes,
    permalink: `${STORE_BASE_URL}/product/${row.handle}`,
    slug: row.handle,
  };
}

/** The page of STORE_ROWS, each row mapped by hand, with its meta. */
export function storePayload({ page, perPage }) {
  const offset = (page - 1) * perPage;
  return {
    data: STORE_ROWS.slice(offset, offset + perPage).map(mapStoreRow),
    meta: {
      current_page: page,
      per_page: perPage,
      total: STORE_ROWS.length,
      last_page: Math.max(1, Math.ceil(STORE_ROWS.length / perPage)),
    },
  };
}
