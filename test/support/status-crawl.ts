import type { ListCallback } from '@hiwelink/core';
import { expect } from 'vitest';
import { send } from './http-client.js';

/** Seven products: record 4 has no name (HiWelink will skip it); 6 and 7 have no slug (no link). */
export const PRODUCTS = Array.from({ length: 7 }, (_, index) => ({
  id: index + 1,
  name: index === 3 ? undefined : `Lamp ${index + 1}`,
  price: 10 + index,
  slug: index < 5 ? `lamp-${index + 1}` : undefined,
}));

/** The `products` callback serving PRODUCTS page by page. */
export const listProducts: ListCallback = ({ offset, perPage }) => ({
  items: PRODUCTS.slice(offset, offset + perPage),
  total: PRODUCTS.length,
});

/**
 * A crawl as HiWelink makes it against a store whose orders callback fails: products in three
 * pages of 3 with `key`, the orders (500), then the orders with a wrong key (401).
 */
export async function crawl(base: string, key: string) {
  for (const page of [1, 2, 3]) {
    const reply = await send(`${base}/api/products?page=${page}&per_page=3`, {
      headers: { 'x-api-key': key },
    });
    expect(reply.status).toBe(200);
  }
  expect((await send(`${base}/api/orders`, { headers: { 'x-api-key': key } })).status).toBe(500);
  expect(
    (await send(`${base}/api/orders`, { headers: { 'x-api-key': 'hwk_live_wrong_key_000000000' } })).status,
  ).toBe(401);
}
