import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createStore, readConfig, type Store } from '../examples/express-sqlite/dist/app.js';
import { send } from './support/http-client.js';

/*
 * A record deleted from a page HiWelink has already read used to shift the next record back onto
 * that page, where the crawl never looks again: paging by offset skips it. Core now hands the
 * demo's repository the last id of the page before (`after`), and the demo seeks past it.
 */

const PER_PAGE = 5;
const SEED = { SEED_PRODUCTS: '23', SEED_ORDERS: '17' };

type Cleanup = (fn: () => void | Promise<void>) => void;
type Route = 'products' | 'orders';

/** Serves `listener` on a free port of 127.0.0.1 until the test ends; resolves with its base URL. */
async function listen(listener: RequestListener, onTestFinished: Cleanup): Promise<string> {
  const server = createServer(listener).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * The demo store on an in-memory database, strict, served as it ships; `kit` options on top, e.g.
 * `{ keyset: false }` for the kit as it was before keyset continuation, paging by offset.
 */
async function startStore(onTestFinished: Cleanup, kit: Parameters<typeof createStore>[1] = {}) {
  const store = createStore(readConfig({ DATABASE_FILE: ':memory:', HIWELINK_STRICT: '1', ...SEED }), kit);
  onTestFinished(() => store.shutdown(2_000).then(() => undefined));
  return { store, base: await listen(store.app, onTestFinished) };
}

/**
 * Walks `/api/<route>` as HiWelink does, page after page until one holds fewer than asked, and calls
 * `between` after each page; resolves with the ids in the order they were seen.
 */
async function crawl(base: string, route: Route, store: Store, between: (page: number) => Promise<void>) {
  const seen: string[] = [];
  const headers = await store.authHeaders();
  for (let page = 1; page <= 100; page++) {
    const reply = await send(`${base}/api/${route}?page=${page}&per_page=${PER_PAGE}`, { headers });
    expect(reply.status).toBe(200);
    const { data } = reply.json() as { data: { id: string }[] };
    seen.push(...data.map((record) => record.id));
    if (data.length < PER_PAGE) return seen;
    await between(page);
  }
  throw new Error(`the crawl of /api/${route} never reached a short page`);
}

/** Deletes through the store's admin API, as a shop owner would while HiWelink crawls. */
async function deleteRecord(base: string, store: Store, route: Route, id: number) {
  const reply = await send(`${base}/admin/${route}/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${store.adminToken}` },
  });
  expect(reply.status).toBe(204);
}

/** Every id the store holds now, in order. */
function idsInStore(store: Store, route: Route): string[] {
  const list = route === 'products' ? store.repository.listProducts : store.repository.listOrders;
  return list({ perPage: 1_000, offset: 0 }).items.map((record) => String(record.id));
}

const countOf = (ids: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
};

// Page 1 holds ids 1 to 5: the first of them, and the last, whose id is the key page 2 seeks after.
const CASES = [
  { route: 'products', deleted: 1 },
  { route: 'products', deleted: 5 },
  { route: 'orders', deleted: 1 },
  { route: 'orders', deleted: 5 },
] as const;

describe('keyset continuation: a record deleted mid-crawl hides no other', () => {
  it.for(CASES)(
    'the demo store shows every remaining record once: %o',
    async ({ route, deleted }, context) => {
      const { store, base } = await startStore(context.onTestFinished);
      const seen = await crawl(base, route, store, async (page) => {
        if (page === 1) await deleteRecord(base, store, route, deleted);
      });

      const remaining = idsInStore(store, route);
      expect(remaining).not.toContain(String(deleted));
      expect(seen.slice(0, PER_PAGE)).toContain(String(deleted));
      const counts = countOf(seen);
      expect(remaining.filter((id) => counts.get(id) !== 1)).toEqual([]);
      expect(seen.slice(PER_PAGE)).toEqual(remaining.filter((id) => Number(id) > PER_PAGE));
    },
  );

  it.for(CASES)(
    'with keyset: false the same crawl misses the next record: %o',
    async ({ route, deleted }, context) => {
      const { store, base } = await startStore(context.onTestFinished, { keyset: false });
      const seen = await crawl(base, route, store, async (page) => {
        if (page === 1) await deleteRecord(base, store, route, deleted);
      });

      const counts = countOf(seen);
      // Page 2 starts 5 rows in, on id 7: id 6 moved onto page 1, which the crawl has already read.
      expect(idsInStore(store, route).filter((id) => counts.get(id) !== 1)).toEqual([String(PER_PAGE + 1)]);
    },
  );
});

describe('demo repository: `after` it cannot seek with falls back to offset', () => {
  const ids = (page: { items: { id: number }[] }) => page.items.map((record) => record.id);
  const UNUSABLE = [
    'x',
    '5',
    '',
    5.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    null,
    undefined,
    {},
    [5],
    5n,
  ];

  it.for(['products', 'orders'] as const)('%s', async (route, context) => {
    const { store } = await startStore(context.onTestFinished);
    const list = route === 'products' ? store.repository.listProducts : store.repository.listOrders;
    const byOffset = list({ perPage: PER_PAGE, offset: PER_PAGE });
    expect(ids(byOffset)).toEqual([6, 7, 8, 9, 10]);

    for (const after of UNUSABLE) {
      expect(list({ perPage: PER_PAGE, offset: PER_PAGE, after }), String(after)).toEqual(byOffset);
    }
    // A safe integer wins over the offset, and the total stays the count of every record.
    const seeked = list({ perPage: PER_PAGE, offset: PER_PAGE, after: 12 });
    expect(ids(seeked)).toEqual([13, 14, 15, 16, 17]);
    expect(seeked.total).toBe(byOffset.total);
    expect(ids(list({ perPage: PER_PAGE, offset: 0, after: 20 }))).toEqual(
      route === 'products' ? [21, 22, 23] : [],
    );
  });
});
