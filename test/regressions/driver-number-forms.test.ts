// Kind: numbers in the forms drivers return them. node-postgres returns COUNT(*) (int8) as the text
// "250", Prisma and better-sqlite3 (safeIntegers) as a bigint; the same forms reach `total`, a
// product's `stock_quantity`, ids and the keyset key. Each safe form is read as the number it is;
// a `total` that is not a non-negative safe integer stays a logged 500 that names what it was.
// The canonical coercions take the same forms: dates (epoch seconds or ms in an int8 column),
// prices (a Decimal in exponent notation too), stock flags (1n / 0n), quantities.
import type { HiwelinkOptions, ListQuery } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { DecimalLike, recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

const KEY = 'sk_test_driver_number_forms_0123456789ab';
const auth = { 'x-api-key': KEY };

const ACCEPTED: [unknown, number][] = [
  [250, 250],
  ['250', 250],
  [250n, 250],
  ['0', 0],
  [0n, 0],
  ['0250', 250],
  [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  [BigInt(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
];

/** Each refused total and how the log line names it. */
const REFUSED: [unknown, string][] = [
  [-1, '-1'],
  [2.5, '2.5'],
  [Number.NaN, 'NaN'],
  [Number.MAX_SAFE_INTEGER + 1, '9007199254740992'],
  ['-1', '"-1"'],
  ['2.5', '"2.5"'],
  ['1e3', '"1e3"'],
  [' 250', '" 250"'],
  ['0x10', '"0x10"'],
  ['', '""'],
  ['9007199254740992', '"9007199254740992"'],
  [-1n, '-1n'],
  [2n ** 53n, '9007199254740992n'],
  [null, 'null'],
  [undefined, 'undefined'],
  [{ count: 250 }, 'an object'],
  [[250], 'an array'],
  [true, 'true'],
];

describe.each(frameworks)('$name', (framework) => {
  const startApp = startPerTest(framework);

  async function start(overrides: Partial<HiwelinkOptions>) {
    const logger = recordingLogger();
    const app = await startApp({
      products: () => ({ items: [], total: 0 }),
      orders: () => ({ items: [], total: 0 }),
      auth: { apiKey: KEY },
      logger,
      ...overrides,
    });
    return { url: app.url, logger };
  }

  it('reads a total given as a safe integer, its decimal text or a bigint', async () => {
    let total: unknown;
    const { url } = await start({
      products: () => ({ items: [{ id: 1, name: 'Mug' }], total: total as never }),
    });
    for (const [given, read] of ACCEPTED) {
      total = given;
      const reply = await send(`${url}/api/products?per_page=100`, { headers: auth });
      expect({ given, status: reply.status }).toEqual({ given, status: 200 });
      expect((reply.json() as { meta: unknown }).meta).toEqual({
        current_page: 1,
        per_page: 100,
        total: read,
        last_page: Math.max(1, Math.ceil(read / 100)),
      });
    }
  });

  it('answers any other total with a 500 and logs what the callback returned', async () => {
    let total: unknown;
    const { url, logger } = await start({ orders: () => ({ items: [], total: total as never }) });
    for (const [given, named] of REFUSED) {
      total = given;
      logger.entries.length = 0;
      const reply = await send(`${url}/api/orders`, { headers: auth });
      expect({ given, status: reply.status, body: reply.json() }).toEqual({
        given,
        status: 500,
        body: { error: 'Internal Server Error', code: 'internal_error' },
      });
      const logged = logger.entries.map(
        (entry) => `${entry.message} ${String((entry.details as { err?: unknown }).err)}`,
      );
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain(`total was ${named}`);
    }
  });

  it('reads stock quantities and ids given as text or bigints, and hands a bigint key back as after', async () => {
    const calls: ListQuery[] = [];
    const rows = [
      { id: 1n, name: 'Mug', stock_quantity: '12' },
      { id: 2n, name: 'Jug', stock_quantity: 0n },
      { id: 9007199254740993n, name: 'Cup', stock_quantity: 3n, product_id: 4n },
    ];
    const { url } = await start({
      products: (query) => {
        calls.push(query);
        return { items: rows.slice(query.offset, query.offset + query.perPage), total: '3' };
      },
    });
    const first = await send(`${url}/api/products?per_page=2`, { headers: auth });
    const second = await send(`${url}/api/products?page=2&per_page=2`, { headers: auth });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([...(first.json() as { data: [] }).data, ...(second.json() as { data: [] }).data]).toEqual([
      { id: '1', name: 'Mug', stock_quantity: 12, stock_status: 'in_stock' },
      { id: '2', name: 'Jug', stock_quantity: 0, stock_status: 'out_of_stock' },
      { id: '9007199254740993', name: 'Cup', stock_quantity: 3, stock_status: 'in_stock' },
    ]);
    expect(calls[1]?.after).toBe(2n);
  });

  // Review of #12: a date in an int8 column (epoch seconds or ms as a bigint) or a Decimal was
  // dropped without a word; a Decimal printed in exponent notation was no price; a stock flag kept
  // as 1n / 0n (SQLite with safeIntegers) no stock status.
  it('reads dates, prices and stock flags given as bigints or Decimals, and names what it cannot', async () => {
    const { url, logger } = await start({
      products: () => ({
        items: [
          { id: 1n, name: 'Mug', price: new DecimalLike('1e-7'), sale_price: 5n, availability: 1n },
          { id: 2n, name: 'Jug', price: new DecimalLike('1.2E+21'), stock_status: 0n },
          {
            id: 3n,
            name: 'Cup',
            price: 10n,
            stock_status: new DecimalLike('1'),
            stock_quantity: new DecimalLike('4'),
          },
        ],
        total: 3n,
      }),
      orders: () => ({
        items: [
          { id: 1n, total: new DecimalLike('99.90'), created_at: 1700000000n, updated_at: 1700000000123n },
          { id: 2n, created_at: new DecimalLike('1700000000'), updated_at: 2n ** 64n },
        ],
        total: 2n,
      }),
    });
    const products = await send(`${url}/api/products`, { headers: auth });
    expect((products.json() as { data: unknown[] }).data).toEqual([
      { id: '1', name: 'Mug', price: 1e-7, sale_price: 5, stock_status: 'in_stock' },
      { id: '2', name: 'Jug', price: 1.2e21, stock_status: 'out_of_stock' },
      { id: '3', name: 'Cup', price: 10, stock_status: 'in_stock', stock_quantity: 4 },
    ]);
    const orders = await send(`${url}/api/orders`, { headers: auth });
    expect((orders.json() as { data: unknown[] }).data).toEqual([
      {
        id: '1',
        total: 99.9,
        created_at: '2023-11-14T22:13:20.000Z',
        updated_at: '2023-11-14T22:13:20.123Z',
      },
      { id: '2', created_at: '2023-11-14T22:13:20.000Z' },
    ]);
    // A bigint beyond 2^53 is no epoch: left out, and said so.
    expect(logger.entries.map((entry) => entry.message)).toContainEqual(
      expect.stringContaining("'updated_at' left out: a bigint cannot be read as updated_at"),
    );
  });
});
