// Kind: values a database driver returns that JSON.stringify cannot take or takes wrongly
// (bigint, Decimal, Buffer, typed arrays, Map, Set, invalid Date, cycles, throwing toJSON, ...),
// anywhere outside the canonical fields, and arrays that JSON.stringify reads through their own
// toJSON (an array given one, an Array subclass) anywhere, canonical lists included. Each must serialise or be dropped with one warning naming
// its path, in the list pages (all six frameworks) and in the webhook data, and nothing may crash.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createWebhookEmitter, type HiwelinkOptions } from '@hiwelink/core';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrayWithToJSON,
  BrokenModel,
  DecimalLike,
  driverId,
  driverValue,
  Entity,
  JsonArray,
  ObjectIdLike,
  proxyRecord,
  recordingLogger,
  revokedProxy,
  throwingGetter,
  withCycle,
} from '../support/driver-values.js';
import { cleanupsAfterEach, durableEmitters } from '../support/emitters.js';
import { frameworks, type RunningApp, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';
import { startReceiver } from '../support/receiver.js';
import { connectRedis } from '../support/services.js';

const KEY = 'sk_test_json_unsafe_driver_values_0123456789';
const auth = { 'x-api-key': KEY };
const TOKEN = 'b0a4a3f2-6a55-4f8e-9d0b-json-unsafe';
const CHILD = fileURLToPath(new URL('../support/emit-driver-values-child.mjs', import.meta.url));

/** A product as Prisma / pg / better-sqlite3 may return it, with passthrough fields of every kind. */
function driverProduct(id: number) {
  return {
    id: BigInt(id),
    name: `Mug ${id}`,
    brand: { id: 5n, name: 'Acme' },
    weight: new DecimalLike('0.35'),
    huge: 2n ** 64n,
    checksum: Buffer.from('mug'),
    dims: new Float32Array([1.5, 2]),
    stock_by_store: new Map<unknown, unknown>([
      ['north', 3n],
      [{}, 'object keys have no name'],
    ]),
    colours: new Set(['red', 'blue']),
    released: new Date('2026-01-02T03:04:05Z'),
    withdrawn: new Date(Number.NaN),
    owner: new ObjectIdLike('65f1c0ffee0123456789abcd'),
    lazy: new BrokenModel(),
    entity: new Entity(7n, 'seven'),
    tree: withCycle({ name: 'parent' }),
    session: throwingGetter(),
    gone: revokedProxy(),
    attributes: { grams: 350n, tags: new Set(['a']) },
  };
}

/** What driverProduct(id) goes out as: the same on the page and in the webhook. */
const expected = (id: number) => ({
  id: String(id),
  name: `Mug ${id}`,
  attributes: { grams: 350, tags: ['a'] },
  brand: { id: 5, name: 'Acme' },
  weight: '0.35',
  huge: '18446744073709551616',
  checksum: Buffer.from('mug').toString('base64'),
  dims: Buffer.from(new Float32Array([1.5, 2]).buffer).toString('base64'),
  stock_by_store: { north: 3 },
  colours: ['red', 'blue'],
  released: '2026-01-02T03:04:05.000Z',
  owner: '65f1c0ffee0123456789abcd',
  entity: { code: 7, label: 'seven' },
  tree: { name: 'parent' },
  session: { loaded: 1 },
});

describe.each(frameworks)('list pages on $name', (framework) => {
  const start = startPerTest(framework);

  it('serialises driver values in passed-through fields, and warns once per dropped path', async () => {
    const logger = recordingLogger();
    const options: HiwelinkOptions = {
      products: () => ({ items: [driverProduct(1), driverProduct(2)], total: 2 }),
      orders: () => ({ items: [{ id: 9007199254740993n, total: 12n, lines: [{ qty: 1n }] }], total: 1 }),
      auth: { apiKey: KEY },
      logger,
      mapping: { products: { passthrough: true }, orders: { passthrough: true } },
    };
    const app = await start(options);
    for (let round = 0; round < 2; round++) {
      const reply = await send(`${app.url}/api/products?per_page=2`, { headers: auth });
      expect(reply.status).toBe(200);
      expect((reply.json() as { data: unknown[] }).data).toEqual([expected(1), expected(2)]);
    }
    const orders = await send(`${app.url}/api/orders`, { headers: auth });
    expect(orders.status).toBe(200);
    expect((orders.json() as { data: unknown[] }).data).toEqual([
      { id: '9007199254740993', total: 12, lines: [{ qty: 1 }] },
    ]);
    // Two records, two pages: each dropped path is named once, in one warning per path.
    const warnings = logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message);
    for (const path of ['withdrawn', 'lazy', 'stock_by_store', 'tree.self', 'session.lazy', 'gone']) {
      expect(warnings.filter((message) => message.includes(`'${path}'`))).toHaveLength(1);
    }
    expect(warnings.find((message) => message.includes("'lazy'"))).toContain('session closed');
    expect(logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});

/** Arrays JSON.stringify reads through their own toJSON, in canonical lists and passed through. */
function arrayProducts() {
  const throwing = () =>
    arrayWithToJSON(['a', 'b'], () => {
      throw new Error('collection closed');
    });
  return [
    {
      id: 1,
      name: 'Lists',
      categories: throwing(),
      tags: arrayWithToJSON(['t'], () => 2n ** 64n),
      images: JsonArray.from(['https://example.com/a.jpg']),
      extra: throwing(),
      more: JsonArray.from(['x']),
    },
    // Records behind proxies whose traps throw: they stay on the page with what can be read.
    proxyRecord({ id: 2, name: 'Proto', colour: 'red' }, 'getPrototypeOf'),
    proxyRecord({ id: 3, name: 'Keys', colour: 'blue' }, 'ownKeys'),
    // Collections a canonical list cannot be read from, or can: a Set is read as its elements.
    { id: 4, name: 'Sets', categories: new Set(['c']), tags: new Map([['k', 1]]) },
  ];
}

const quantityThrows = Object.defineProperty({ product_id: 3 }, 'quantity', {
  enumerable: true,
  get() {
    throw new Error('quantity detached');
  },
});
const cityThrows = Object.defineProperty({ street: '1 Main St' }, 'city', {
  enumerable: true,
  get() {
    throw new Error('city detached');
  },
});
const nestedOrder = {
  id: 1,
  items: new Set([{ product_id: 1, quantity: 2n }, quantityThrows, 7]),
  shipping_address: cityThrows,
  billing_address: new Map<unknown, unknown>([
    ['city', 'Lyon'],
    ['zip', 69001n],
  ]),
};
const subclassItems = { id: 2, items: JsonArray.from([{ product_id: 5, quantity: 1 }]), billing_address: 12 };

describe.each(frameworks)('lists and nested records on $name', (framework) => {
  const start = startPerTest(framework);

  // Review of #12: each of these made the page a 500, or lost a value without a word.
  it('serves arrays with their own toJSON, proxies and nested drops, warning once per path', async () => {
    const logger = recordingLogger();
    const app = await start({
      products: () => ({ items: arrayProducts(), total: 4 }),
      orders: () => ({ items: [nestedOrder, subclassItems], total: 2 }),
      auth: { apiKey: KEY },
      logger,
      mapping: { products: { passthrough: true } },
    });
    for (let round = 0; round < 2; round++) {
      const reply = await send(`${app.url}/api/products`, { headers: auth });
      expect(reply.status).toBe(200);
      expect((reply.json() as { data: unknown[] }).data).toEqual([
        {
          id: '1',
          name: 'Lists',
          categories: ['a', 'b'],
          tags: ['t'],
          images: ['https://example.com/a.jpg'],
          more: ['18446744073709551616'],
        },
        { id: '2', name: 'Proto', colour: 'red' },
        { id: '3', name: 'Keys' },
        { id: '4', name: 'Sets', categories: ['c'] },
      ]);
      const orders = await send(`${app.url}/api/orders`, { headers: auth });
      expect(orders.status).toBe(200);
      expect((orders.json() as { data: unknown[] }).data).toEqual([
        {
          id: '1',
          items: [{ product_id: '1', quantity: 2 }, { product_id: '3' }, {}],
          shipping_address: { street: '1 Main St' },
          billing_address: { city: 'Lyon', zip: '69001' },
        },
        { id: '2', items: [{ product_id: '5', quantity: 1 }] },
      ]);
    }
    const warnings = logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message);
    for (const [path, reason] of [
      ['extra', 'collection closed'],
      ['(passed-through fields)', 'ownKeys detached'],
      ['tags', 'a Map cannot be read as tags'],
      ['items[].quantity', 'quantity detached'],
      ['items[]', 'a number is not a record'],
      ['shipping_address.city', 'city detached'],
      ['billing_address', 'a number is not a record'],
    ] as const) {
      const named = warnings.filter((message) => message.includes(`'${path}' left out`));
      expect(named, path).toHaveLength(1);
      expect(named[0], path).toContain(reason);
    }
    expect(logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});

/** A real receiver, and an in-memory emitter to it passing every product field through. */
async function emitterToReceiver() {
  const receiver = await startReceiver();
  const logger = recordingLogger();
  const emitter = createWebhookEmitter(
    {
      url: receiver.url,
      storeToken: TOKEN,
      retryDelaysMs: [],
      logger,
      mapping: { products: { passthrough: true } },
    },
    {},
  );
  return { receiver, logger, emitter };
}

describe('the in-memory emitter and records behind proxies', () => {
  // Review of #12: a proxy whose getPrototypeOf trap throws was refused (`instanceof` in the check
  // for an id given alone): the event was lost.
  it('sends what can be read of them, and warns for what cannot', async () => {
    const { receiver, logger, emitter } = await emitterToReceiver();
    try {
      const [, proto, keys] = arrayProducts();
      expect([
        emitter.productUpdated(proto),
        emitter.productCreated(keys),
        emitter.productDeleted(proto),
      ]).toEqual([true, true, true]);
      expect(await emitter.close(5000)).toMatchObject({ delivered: 3, failed: 0 });
      expect(receiver.delivered().map((entry) => entry.body)).toEqual(
        expect.arrayContaining([
          { event: 'product.updated', data: { id: '2', name: 'Proto', colour: 'red' } },
          { event: 'product.created', data: { id: '3', name: 'Keys' } },
          { event: 'product.deleted', data: { id: '2' } },
        ]),
      );
      expect(logger.entries.map((entry) => entry.message)).toContainEqual(
        expect.stringContaining("'(passed-through fields)' left out: reading it threw: ownKeys detached"),
      );
    } finally {
      await receiver.close();
    }
  });
});

describe('the in-memory emitter in a process of its own', () => {
  it('delivers records holding driver values and the process lives on', async () => {
    const receiver = await startReceiver();
    try {
      const child = spawn(process.execPath, [CHILD], {
        env: { ...process.env, HIWELINK_CHILD: JSON.stringify({ url: receiver.url, storeToken: TOKEN }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const report = JSON.parse(stdout) as { emitted: boolean[]; delivered: number; failed: number };
      expect(report).toMatchObject({ emitted: [true, true, true], delivered: 3, failed: 0 });
      const bodies = receiver.delivered().map((entry) => entry.body);
      expect(bodies).toContainEqual({
        event: 'product.updated',
        data: { id: '42', name: 'Mug', brand: { id: 5 } },
      });
      expect(bodies).toContainEqual({
        event: 'product.created',
        data: { id: '43', name: 'Jug', weight_grams: '18446744073709551616', tree: { name: 'parent' } },
      });
      expect(bodies).toContainEqual({
        event: 'order.created',
        data: { id: '9007199254740993', total: 12, lines: [{ sku: 'MUG', qty: 1 }] },
      });
    } finally {
      await receiver.close();
    }
  });
});

describe('the in-memory emitter', () => {
  it('sends the same JSON as the page, and warns once per dropped path', async () => {
    const { receiver, logger, emitter } = await emitterToReceiver();
    try {
      expect(emitter.productUpdated(driverProduct(1))).toBe(true);
      expect(emitter.productUpdated(driverProduct(2))).toBe(true);
      expect(await emitter.close(5000)).toMatchObject({ delivered: 2, failed: 0 });
      // Two entities, delivered concurrently: in either order.
      const sent = receiver.delivered().map((entry) => entry.body.data);
      expect(sent).toHaveLength(2);
      expect(sent).toEqual(expect.arrayContaining([expected(1), expected(2)]));
      const warnings = logger.entries.map((entry) => entry.message);
      for (const path of ['withdrawn', 'lazy', 'stock_by_store', 'tree.self', 'session.lazy', 'gone']) {
        expect(warnings.filter((message) => message.includes(`'${path}'`))).toHaveLength(1);
      }
      expect(warnings.every((message) => message.startsWith('webhook product.updated: '))).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe('the durable (BullMQ) emitter on the real Redis', () => {
  const defer = cleanupsAfterEach();
  let redis: Redis | undefined;
  beforeAll(async () => {
    redis = await connectRedis();
  });
  afterAll(() => redis?.disconnect());

  it('stores records holding driver values in Redis and sends the same JSON as the page', async (context) => {
    if (!redis) return context.skip();
    const receiver = await startReceiver();
    defer(receiver.close);
    const durable = durableEmitters(redis, defer);
    const emitter = durable.emitter(durable.queueName(), receiver.url, {
      mapping: { products: { passthrough: true } },
    });
    // true: stored in Redis, which BullMQ does with JSON.stringify (a bigint would throw there).
    expect(await emitter.productUpdated(driverProduct(1))).toBe(true);
    expect(await emitter.productUpdated(driverProduct(2))).toBe(true);
    await expect.poll(() => receiver.delivered().length, { timeout: 10_000 }).toBe(2);
    const sent = receiver.delivered().map((entry) => entry.body.data);
    expect(sent).toEqual(expect.arrayContaining([expected(1), expected(2)]));
  });
});

describe('property: any driver value, outside the canonical fields and in the canonical lists', () => {
  let app: RunningApp;
  let items: unknown[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const framework = frameworks.find((entry) => entry.name === 'express 5') ?? frameworks[0];

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    app = await (framework as (typeof frameworks)[number]).start({
      products: () => ({ items, total: items.length }),
      orders: () => ({ items: [], total: 0 }),
      auth: { apiKey: KEY },
      logger: { warn() {}, error() {} },
      mapping: { products: { passthrough: true } },
    });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await app.close();
  });

  const record = fc.record({
    id: driverId,
    name: fc.constant('Mug'),
    extra: driverValue,
    attributes: driverValue,
    categories: driverValue,
    tags: driverValue,
    images: driverValue,
  });

  it('the page is a 200 of valid JSON holding every record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 3 }), async (records) => {
        items = records;
        const reply = await send(`${app.url}/api/products?per_page=3`, { headers: auth });
        expect(reply.status).toBe(200);
        const page = reply.json() as { data: { id: unknown }[] };
        expect(page.data).toHaveLength(records.length);
        for (const entry of page.data) expect(typeof entry.id).toBe('string');
      }),
      { numRuns: 150 },
    );
  });

  it('the emitter never throws, delivers every event it took as valid JSON, and nothing rejects unhandled', async () => {
    const receiver = await startReceiver();
    const emitter = createWebhookEmitter(
      {
        url: receiver.url,
        storeToken: TOKEN,
        retryDelaysMs: [],
        coalesce: false,
        logger: { warn() {}, error() {} },
        mapping: { products: { passthrough: true } },
      },
      {},
    );
    let taken = 0;
    try {
      fc.assert(
        fc.property(record, (product) => {
          if (emitter.productCreated(product)) taken += 1;
        }),
        { numRuns: 150 },
      );
      const report = await emitter.close(15_000);
      expect(taken).toBe(150);
      expect(report).toMatchObject({ delivered: 150, failed: 0, undelivered: [] });
      // The receiver parses every body it takes: each arrived as valid JSON.
      expect(receiver.delivered()).toHaveLength(150);
      expect(rejections).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
