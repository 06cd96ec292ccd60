// What a careful hand-written store route does, shared by the hand-written Express, Fastify and Koa
// routes and the bare node:http server: a constant-time key check, page/per_page read with parseInt
// and bounds, a slice of the in-memory array, JSON.stringify of { data, meta }.

import { timingSafeEqual } from 'node:crypto';
import { API_KEY, DEFAULT_PER_PAGE, MAX_PER_PAGE, PRODUCTS } from './data.mjs';

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
