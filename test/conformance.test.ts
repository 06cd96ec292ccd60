import { once } from 'node:events';
import { request } from 'node:http';
import type { HiwelinkOptions, ListCallback, ListQuery, Logger } from '@hiwelink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Logged, recordingLogger } from './support/driver-values.js';
import { frameworks, HOST_BODY, type RunningApp } from './support/frameworks.js';
import { send } from './support/http-client.js';

const KEY = 'sk_test_4f8d2a1b9c3e7f6a0b2d4e8c1a3f5b7d';
const auth = { 'x-api-key': KEY };

/** The error a logged entry carries, as text. */
const loggedError = (entry: Logged | undefined) =>
  String((entry?.details as { err?: unknown } | undefined)?.err);

/** An in-memory repository of `count` records with ids 1..count. */
function catalog(count: number, calls: ListQuery[] = []): ListCallback<{ id: string; name: string }> {
  const records = Array.from({ length: count }, (_, index) => ({
    id: String(index + 1),
    name: `Item ${index + 1}`,
  }));
  return (query) => {
    calls.push(query);
    return { items: records.slice(query.offset, query.offset + query.perPage), total: count };
  };
}

function options(overrides: Partial<HiwelinkOptions> = {}): HiwelinkOptions {
  return {
    products: catalog(123),
    orders: catalog(7),
    auth: { apiKey: KEY },
    logger: recordingLogger(),
    ...overrides,
  };
}

interface Page {
  data: { id: string }[];
  meta: { current_page: number; per_page: number; total: number; last_page: number };
}

describe.each(frameworks)('$name', (framework) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (overrides: Partial<HiwelinkOptions> = {}) => {
    app = await framework.start(options(overrides));
    return app.url;
  };

  describe('health', () => {
    it('answers 200 with status and an ISO timestamp, as JSON that is never cached', async () => {
      const url = await start();
      const reply = await send(`${url}/health`, { headers: auth });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(reply.headers['cache-control']).toBe('no-store');
      const body = reply.json() as { status: string; timestamp: string };
      expect(body.status).toBe('ok');
      expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    });

    it('runs the deep check: false, a throw or a hang answer 503 with status error', async () => {
      for (const health of [
        () => false,
        () => Promise.reject(new Error('db down')),
        () => new Promise(() => {}),
      ]) {
        const logger = recordingLogger();
        const url = await start({ health, logger, timeoutMs: 100 });
        const reply = await send(`${url}/health`, { headers: auth });
        expect(reply.status).toBe(503);
        expect((reply.json() as { status: string }).status).toBe('error');
        expect(reply.body).not.toContain('db down');
        await app?.close();
      }
      app = undefined;
    });

    it('passes a healthy deep check', async () => {
      const url = await start({ health: async () => true });
      expect((await send(`${url}/health`, { headers: auth })).status).toBe(200);
    });
  });

  describe('API key', () => {
    const refused: [string, Record<string, string | string[]>][] = [
      ['no credential', {}],
      ['an empty key', { 'x-api-key': '' }],
      ['a wrong key', { 'x-api-key': 'sk_test_wrong' }],
      ['a key one character off', { 'x-api-key': `${KEY.slice(0, -1)}e` }],
      ['a prefix of the key', { 'x-api-key': KEY.slice(0, 10) }],
      ['the key with a suffix', { 'x-api-key': `${KEY}0` }],
      ['an 8 KB key', { 'x-api-key': 'k'.repeat(8 * 1024) }],
      ['the key sent twice', { 'x-api-key': [KEY, KEY] }],
      ['the key sent as a bearer token', { authorization: `Bearer ${KEY}` }],
    ];
    it.each(refused)('refuses %s with 401 JSON on every path', async (_case, headers) => {
      const url = await start();
      for (const path of ['/health', '/api/products', '/api/orders']) {
        const reply = await send(`${url}${path}`, { headers });
        expect(reply.status).toBe(401);
        expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(reply.json()).toEqual({ error: 'Unauthorized', code: 'unauthorized' });
      }
    });

    it('accepts every key of a rotation', async () => {
      const url = await start({ auth: { apiKey: ['sk_old_key_00000001', 'sk_new_key_00000002'] } });
      for (const key of ['sk_old_key_00000001', 'sk_new_key_00000002']) {
        expect((await send(`${url}/api/products`, { headers: { 'x-api-key': key } })).status).toBe(200);
      }
      expect((await send(`${url}/api/products`, { headers: auth })).status).toBe(401);
    });
  });

  describe('lists', () => {
    it('serves page 1 of 50 by default with meta', async () => {
      const url = await start();
      const page = (await send(`${url}/api/products`, { headers: auth })).json() as Page;
      expect(page.data).toHaveLength(50);
      expect(page.data[0]).toEqual({ id: '1', name: 'Item 1' });
      expect(page.meta).toEqual({ current_page: 1, per_page: 50, total: 123, last_page: 3 });
    });

    it('hands the repository page, perPage, offset and a signal', async () => {
      const calls: ListQuery[] = [];
      const url = await start({ orders: catalog(7, calls) });
      await send(`${url}/api/orders?page=3&per_page=2`, { headers: auth });
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ page: 3, perPage: 2, offset: 4 });
      expect(calls[0]?.signal).toBeInstanceOf(AbortSignal);
    });

    describe('keyset continuation', () => {
      const crawl = async (url: string, pages: number[], perPage = 50) => {
        for (const pageNumber of pages) {
          const reply = await send(`${url}/api/products?page=${pageNumber}&per_page=${perPage}`, {
            headers: auth,
          });
          expect(reply.status).toBe(200);
        }
      };

      it("hands each next page the previous page's last id as `after`", async () => {
        const calls: ListQuery[] = [];
        await crawl(await start({ products: catalog(123, calls) }), [1, 2, 3]);
        expect(calls.map((call) => call.after)).toEqual([undefined, '50', '100']);
        expect(calls.map((call) => call.offset)).toEqual([0, 50, 100]);
      });

      it('passes no key where the previous page was not served at that size', async () => {
        const calls: ListQuery[] = [];
        const url = await start({ products: catalog(123, calls) });
        await crawl(url, [1, 3]);
        await crawl(url, [2], 25);
        expect(calls.map((call) => 'after' in call)).toEqual([false, false, false]);
      });

      it('uses the keyset function given, and none with keyset: false', async () => {
        const calls: ListQuery[] = [];
        const byName = (record: unknown) => (record as { name: string }).name;
        await crawl(await start({ products: catalog(123, calls), keyset: { products: byName } }), [1, 2]);
        expect(calls[1]?.after).toBe('Item 50');
        await app?.close();
        const plain: ListQuery[] = [];
        await crawl(await start({ products: catalog(123, plain), keyset: false }), [1, 2]);
        expect(plain.map((call) => 'after' in call)).toEqual([false, false]);
      });

      it('logs a keyset function that throws and serves the next page by offset', async () => {
        const calls: ListQuery[] = [];
        const logger = recordingLogger();
        const broken = () => {
          throw new Error('no sort key');
        };
        await crawl(
          await start({ products: catalog(123, calls), keyset: { products: broken }, logger }),
          [1, 2],
        );
        expect(calls.map((call) => 'after' in call)).toEqual([false, false]);
        const failures = logger.entries.filter((entry) => entry.message.startsWith('keyset.'));
        expect(failures.map((entry) => [entry.level, entry.message, loggedError(entry)])).toEqual([
          ['error', 'keyset.products failed; the next page uses offset', 'Error: no sort key'],
          ['error', 'keyset.products failed; the next page uses offset', 'Error: no sort key'],
        ]);
      });
    });

    it.each([
      [123, 50],
      [150, 50],
      [1, 100],
      [0, 50],
    ])('a crawl of %i records at per_page=%i sees each exactly once', async (count, perPage) => {
      const url = await start({ products: catalog(count) });
      const seen: string[] = [];
      for (let pageNumber = 1; ; pageNumber++) {
        const reply = await send(`${url}/api/products?page=${pageNumber}&per_page=${perPage}`, {
          headers: auth,
        });
        const page = reply.json() as Page;
        expect(page.meta.total).toBe(count);
        expect(page.meta.last_page).toBe(Math.max(1, Math.ceil(count / perPage)));
        seen.push(...page.data.map((record) => record.id));
        if (page.data.length < perPage) break;
      }
      expect(seen).toEqual(Array.from({ length: count }, (_, index) => String(index + 1)));
    });

    it('answers a page past the end with 200 and no data', async () => {
      const url = await start();
      const reply = await send(`${url}/api/products?page=999&per_page=50`, { headers: auth });
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual({
        data: [],
        meta: { current_page: 999, per_page: 50, total: 123, last_page: 3 },
      });
    });

    it('accepts the largest page size and ignores parameters it does not know', async () => {
      const url = await start();
      const reply = await send(`${url}/api/products?per_page=100&sort=name&page=2`, { headers: auth });
      expect(reply.status).toBe(200);
      expect((reply.json() as Page).data).toHaveLength(23);
    });

    const badQueries: [string, 'page' | 'per_page'][] = [
      ['page=abc', 'page'],
      ['page=1.5', 'page'],
      ['page=-1', 'page'],
      ['page=0', 'page'],
      ['page=', 'page'],
      ['page=+1', 'page'],
      ['page=0x10', 'page'],
      ['page=1e2', 'page'],
      ['page=%201', 'page'],
      ['page=99999999999999999999', 'page'],
      ['page=1&page=2', 'page'],
      ['per_page=abc', 'per_page'],
      ['per_page=12.5', 'per_page'],
      ['per_page=-5', 'per_page'],
      ['per_page=0', 'per_page'],
      ['per_page=101', 'per_page'],
      ['per_page=1000', 'per_page'],
      ['per_page=50&per_page=50', 'per_page'],
      ['per_page=', 'per_page'],
    ];
    it.each(badQueries)('refuses ?%s with 400 naming %s', async (query, parameter) => {
      const calls: ListQuery[] = [];
      const url = await start({ products: catalog(10, calls) });
      const reply = await send(`${url}/api/products?${query}`, { headers: auth });
      expect(reply.status).toBe(400);
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(reply.json()).toMatchObject({ code: `invalid_${parameter}`, parameter });
      expect((reply.json() as { error: string }).error).toContain(`'${parameter}'`);
      expect(calls).toHaveLength(0);
    });

    it('honours a configured page-size cap and default', async () => {
      const url = await start({ maxPerPage: 250, defaultPerPage: 20 });
      expect(((await send(`${url}/api/products`, { headers: auth })).json() as Page).data).toHaveLength(20);
      expect((await send(`${url}/api/products?per_page=250`, { headers: auth })).status).toBe(200);
      const over = await send(`${url}/api/products?per_page=251`, { headers: auth });
      expect(over.status).toBe(400);
      expect((over.json() as { error: string }).error).toContain('1 to 250');
    });

    it('answers a bare array when asked to', async () => {
      const url = await start({ bareArray: true });
      const reply = await send(`${url}/api/products?per_page=5`, { headers: auth });
      expect(reply.json()).toEqual([1, 2, 3, 4, 5].map((id) => ({ id: String(id), name: `Item ${id}` })));
    });
  });

  describe('methods and paths', () => {
    it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])(
      'answers %s with 405 and Allow',
      async (method) => {
        const url = await start();
        for (const path of ['/health', '/api/products', '/api/orders']) {
          const reply = await send(`${url}${path}`, {
            method,
            headers: { ...auth, 'content-type': 'application/json' },
            body: method === 'OPTIONS' ? undefined : '{"a":1}',
          });
          expect(reply.status).toBe(405);
          expect(reply.headers.allow).toBe('GET, HEAD');
          expect(reply.json()).toMatchObject({ code: 'method_not_allowed' });
        }
      },
    );

    it('answers HEAD like GET without a body', async () => {
      const url = await start();
      const get = await send(`${url}/api/products?per_page=7`, { headers: auth });
      const head = await send(`${url}/api/products?per_page=7`, { method: 'HEAD', headers: auth });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      expect((await send(`${url}/health`, { method: 'HEAD' })).status).toBe(401);
    });

    it('lets every other path through to the host app untouched', async () => {
      const url = await start();
      const other = await send(`${url}/other`);
      expect(other.status).toBe(200);
      expect(other.body).toBe(HOST_BODY);
      for (const path of ['/api/products/', '/api/products/1', '/api', '/API/PRODUCTS', '/healthz']) {
        const reply = await send(`${url}${path}`, { headers: auth });
        expect(reply.status, path).toBe(404);
        expect(reply.body, path).not.toContain('unauthorized');
      }
    });

    it('serves custom paths and leaves the default ones to the host', async () => {
      const url = await start({
        paths: { health: '/hw/ping', products: '/hw/catalog', orders: '/hw/sales' },
      });
      expect((await send(`${url}/hw/ping`, { headers: auth })).status).toBe(200);
      expect(((await send(`${url}/hw/catalog`, { headers: auth })).json() as Page).meta.total).toBe(123);
      expect(((await send(`${url}/hw/sales`, { headers: auth })).json() as Page).meta.total).toBe(7);
      expect((await send(`${url}/api/products`, { headers: auth })).status).toBe(404);
    });
  });

  it('serves under a mount prefix', async () => {
    app = await framework.start(options(), '/store');
    const page = (await send(`${app.url}/store/api/orders?per_page=3`, { headers: auth })).json() as Page;
    expect(page.data.map((record) => record.id)).toEqual(['1', '2', '3']);
    expect((await send(`${app.url}/store/health`, { headers: auth })).status).toBe(200);
    expect((await send(`${app.url}/api/orders`, { headers: auth })).status).toBe(404);
  });

  describe('records', () => {
    const page =
      (items: unknown[], total = items.length): ListCallback =>
      () => ({ items, total });

    it('maps store records to the documented fields', async () => {
      const url = await start({
        products: page([
          { product_id: 7, title: 'Mug', list_price: '$12.50', availability: 'instock', handle: 'mug' },
        ]),
      });
      const body = (await send(`${url}/api/products`, { headers: auth })).json() as { data: unknown[] };
      expect(body.data).toEqual([
        { id: '7', name: 'Mug', regular_price: 12.5, price: 12.5, stock_status: 'in_stock', slug: 'mug' },
      ]);
    });

    it('keeps a record HiWelink will skip, so the page keeps its length, and warns', async () => {
      const logger = recordingLogger();
      const url = await start({
        logger,
        products: page([{ id: 1, name: 'A', slug: 'a' }, { name: 'B' }, { id: 3 }]),
      });
      const body = (await send(`${url}/api/products`, { headers: auth })).json() as Page;
      expect(body.data).toHaveLength(3);
      const warning = logger.entries.find(
        (entry) => entry.level === 'warn' && entry.message.includes('skip'),
      );
      expect(warning?.message).toContain('products page 1: HiWelink will skip 2 record(s)');
      expect(warning?.message).toContain('#2: no id');
      expect(warning?.message).toContain('#3 (id 3): no name');
    });

    it('fails the page in strict mode, naming the record', async () => {
      const url = await start({ strict: true, products: page([{ id: 1, name: 'A', slug: 'a' }, { id: 2 }]) });
      const reply = await send(`${url}/api/products`, { headers: auth });
      expect(reply.status).toBe(500);
      expect(reply.json()).toMatchObject({ code: 'invalid_record' });
      expect((reply.json() as { error: string }).error).toContain('#2 (id 2): no name');
    });

    it('reports a repository that returns more than per_page, or a short page before the last', async () => {
      const logger = recordingLogger();
      const items = [1, 2, 3].map((id) => ({ id, name: `P${id}`, slug: `p${id}` }));
      const url = await start({ logger, products: page(items, 3), orders: page([{ id: 1 }], 10) });
      const long = await send(`${url}/api/products?per_page=2`, { headers: auth });
      expect((long.json() as Page).data).toHaveLength(3);
      const short = await send(`${url}/api/orders?per_page=5`, { headers: auth });
      expect((short.json() as Page).data).toHaveLength(1);
      const messages = logger.entries.map((entry) => entry.message);
      expect(messages).toContain('products page 1: the callback returned 3 records for per_page=2');
      expect(messages).toContain(
        'orders page 1: 1 of 5 records, but 2 pages in all: the crawl stops at this short page',
      );
      await app?.close();
      const strictUrl = await start({ strict: true, orders: page([{ id: 1 }], 10) });
      expect((await send(`${strictUrl}/api/orders?per_page=5`, { headers: auth })).status).toBe(500);
    });

    it('reports a fields path found in no record: once as a warning, or as a strict failure', async () => {
      const logger = recordingLogger();
      const records = page([{ id: 1, name: 'A', slug: 'a', qty_on_hand: 3 }]);
      const mapping = { products: { fields: { stock_quantity: 'qty_onhand' } } };
      const url = await start({ logger, products: records, mapping });
      await send(`${url}/api/products`, { headers: auth });
      await send(`${url}/api/products`, { headers: auth });
      const warning = "mapping.products.fields: stock_quantity ← 'qty_onhand' is in none of the records";
      expect(logger.entries.filter((entry) => entry.message === warning)).toHaveLength(1);
      await app?.close();
      const strictUrl = await start({ strict: true, products: records, mapping });
      const reply = await send(`${strictUrl}/api/products`, { headers: auth });
      expect(reply.status).toBe(500);
      expect((reply.json() as { error: string }).error).toBe(warning);
    });

    it('warns about products with neither permalink nor slug', async () => {
      const logger = recordingLogger();
      const url = await start({ logger, products: page([{ id: 1, name: 'A' }]) });
      expect((await send(`${url}/api/products`, { headers: auth })).status).toBe(200);
      expect(logger.entries.map((entry) => entry.message)).toContain(
        'products page 1: 1 product(s) have neither permalink nor slug; HiWelink will link the homepage',
      );
    });
  });

  describe('callback failures', () => {
    it('answers 500 without leaking the cause, and logs it', async () => {
      const logger = recordingLogger();
      const url = await start({
        logger,
        products: () => {
          throw new Error('password=hunter2 at db.example:5432');
        },
      });
      const reply = await send(`${url}/api/products`, { headers: auth });
      expect(reply.status).toBe(500);
      expect(reply.json()).toEqual({ error: 'Internal Server Error', code: 'internal_error' });
      expect(logger.entries).toHaveLength(1);
      expect(logger.entries[0]?.message).toBe('products callback failed');
      expect(loggedError(logger.entries[0])).toContain('hunter2');
    });

    it.each([
      ['after a promise', () => Promise.reject(new Error('database down')) as never],
      [
        'synchronously',
        () => {
          throw new Error('database down');
        },
      ],
    ])('answers 500 even when the logger itself throws (callback failing %s)', async (_case, products) => {
      const brokenLogger: Logger = {
        warn: () => {},
        error: () => {
          throw new Error('log shipper unreachable');
        },
      };
      const url = await start({ logger: brokenLogger, products });
      const reply = await send(`${url}/api/products`, { headers: auth });
      expect(reply.status).toBe(500);
      expect(reply.json()).toEqual({ error: 'Internal Server Error', code: 'internal_error' });
    });

    it.each([
      ['undefined', undefined],
      ['an array', [{ id: '1' }]],
      ['a negative total', { items: [], total: -1 }],
      ['a total in text that is no integer', { items: [], total: '3.5' }],
    ])('answers 500 when the repository resolves %s', async (_case, result) => {
      const logger = recordingLogger();
      const url = await start({ logger, orders: async () => result as never });
      const reply = await send(`${url}/api/orders`, { headers: auth });
      expect(reply.status).toBe(500);
      expect(reply.json()).toEqual({ error: 'Internal Server Error', code: 'internal_error' });
      expect(loggedError(logger.entries[0])).toContain('{ items: array, total');
    });

    it('answers 503 when the repository hangs past the timeout, and aborts its signal', async () => {
      let signal: AbortSignal | undefined;
      const url = await start({
        timeoutMs: 50,
        products: (query) => {
          signal = query.signal;
          return new Promise(() => {});
        },
      });
      const reply = await send(`${url}/api/products`, { headers: auth });
      expect(reply.status).toBe(503);
      expect(reply.json()).toMatchObject({ code: 'callback_timeout' });
      expect(signal?.aborted).toBe(true);
    });

    it('aborts the signal when the client goes away', async () => {
      let resolveStarted: (signal: AbortSignal) => void = () => {};
      const started = new Promise<AbortSignal>((resolve) => {
        resolveStarted = resolve;
      });
      const url = await start({
        products: ({ signal }) => {
          resolveStarted(signal);
          return new Promise(() => {});
        },
      });
      const outgoing = request(`${url}/api/products`, { headers: auth, agent: false });
      outgoing.on('error', () => {});
      outgoing.end();
      const signal = await started;
      expect(signal.aborted).toBe(false);
      outgoing.destroy();
      await once(signal, 'abort');
      expect(signal.aborted).toBe(true);
    });
  });

  describe('configuration', () => {
    it('refuses to start without callbacks, naming what to fix', async () => {
      await expect(framework.start({ auth: { apiKey: KEY } } as HiwelinkOptions)).rejects.toThrow(
        /products: must be a function/,
      );
    });

    it('refuses to start with an empty key', async () => {
      await expect(framework.start(options({ auth: { apiKey: '  ' } }))).rejects.toThrow(
        /auth\.apiKey: must not be empty/,
      );
    });
  });
});
