// Kind: ids that are objects (MongoDB's ObjectId with toHexString(), a driver's UUID class with a
// meaningful toString(), a binary id in a Buffer), wherever an id is read: a record's id (under its
// name or a `fields` path), an order's number, an order item's product id, and the target of a
// deletion event. Each goes out as its string form, on the page and in the webhook.
import { createWebhookEmitter, type HiwelinkOptions } from '@hiwelink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectIdLike, recordingLogger, UuidLike } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';
import { startReceiver } from '../support/receiver.js';

const KEY = 'sk_test_object_ids_0123456789abcdef0123';
const auth = { 'x-api-key': KEY };
const TOKEN = '0b1d5c2e-object-ids';
const HEX = ['65f1c0ffee0123456789abcd', '65f1c0ffee0123456789abce'];

const products = HEX.map((hex, index) => ({ _id: new ObjectIdLike(hex), title: `Mug ${index}` }));
const orders = [
  {
    _id: new ObjectIdLike('65f1c0ffee00000000000001'),
    number: new UuidLike('0e6c1f8a-5b7e-4a43-9b0f-3f6a2d1c9e77'),
    line_items: [
      { product: new ObjectIdLike(HEX[0] as string), qty: 1 },
      { product: { id: new ObjectIdLike(HEX[1] as string) }, qty: 2 },
      { productId: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), qty: 3 },
    ],
  },
];
const mapping: HiwelinkOptions['mapping'] = {
  products: { fields: { id: '_id' } },
  orders: { fields: { id: '_id', order_number: 'number' } },
};
const expectedOrder = {
  id: '65f1c0ffee00000000000001',
  order_number: '0e6c1f8a-5b7e-4a43-9b0f-3f6a2d1c9e77',
  items: [
    { product_id: HEX[0], quantity: 1 },
    { product_id: HEX[1], quantity: 2 },
    { product_id: '00112233445566778899aabbccddeeff', quantity: 3 },
  ],
};

describe.each(frameworks)('$name', (framework) => {
  const start = startPerTest(framework);

  it('sends object ids as their string form, and no record is reported as skipped', async () => {
    const logger = recordingLogger();
    const app = await start({
      products: () => ({ items: products, total: products.length }),
      orders: () => ({ items: orders, total: orders.length }),
      auth: { apiKey: KEY },
      logger,
      mapping,
      strict: true,
    });
    const page = await send(`${app.url}/api/products`, { headers: auth });
    expect(page.status).toBe(200);
    expect((page.json() as { data: unknown[] }).data).toEqual([
      { id: HEX[0], name: 'Mug 0' },
      { id: HEX[1], name: 'Mug 1' },
    ]);
    const orderPage = await send(`${app.url}/api/orders`, { headers: auth });
    expect(orderPage.status).toBe(200);
    expect((orderPage.json() as { data: unknown[] }).data).toEqual([expectedOrder]);
    expect(logger.entries.filter((entry) => entry.message.includes('skip'))).toEqual([]);
  });

  // Review of #12: with `fields: { id: '_id' }` the default key read the raw record's `.id`, which
  // a Mongo document lacks, so the next page never got `after`.
  it('hands the id at the `fields` path back as `after`, as the store keeps it', async () => {
    const afters: unknown[] = [];
    const nested = orders.map((order) => ({ meta: { key: order._id }, number: order.number }));
    const app = await start({
      products: (query) => {
        afters.push(query.after);
        return { items: products.slice(query.offset, query.offset + query.perPage), total: products.length };
      },
      orders: (query) => {
        afters.push(query.after);
        return { items: nested, total: 2 };
      },
      auth: { apiKey: KEY },
      logger: recordingLogger(),
      mapping: { ...mapping, orders: { fields: { id: 'meta.key' } } },
    });
    for (const path of ['/api/products', '/api/orders']) {
      for (const page of [1, 2]) {
        const reply = await send(`${app.url}${path}?page=${page}&per_page=1`, { headers: auth });
        expect(reply.status).toBe(200);
      }
    }
    expect(afters).toEqual([undefined, products[0]?._id, undefined, orders[0]?._id]);
    expect(afters[1]).toBe(products[0]?._id);
  });
});

describe('the in-memory emitter', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it('takes records and deletion targets whose id is an object', async () => {
    const receiver = await startReceiver();
    closers.push(receiver.close);
    const emitter = createWebhookEmitter(
      { url: receiver.url, storeToken: TOKEN, logger: recordingLogger(), retryDelaysMs: [], mapping },
      {},
    );
    closers.push(() => emitter.close(5000));
    expect(emitter.productUpdated(products[0])).toBe(true);
    expect(emitter.orderCreated(orders[0])).toBe(true);
    expect(emitter.productDeleted(new ObjectIdLike(HEX[1] as string))).toBe(true);
    expect(emitter.orderDeleted(new UuidLike('0e6c1f8a-5b7e-4a43-9b0f-3f6a2d1c9e77'))).toBe(true);
    expect(emitter.productDeleted(12345678901234567890n)).toBe(true);
    expect(await emitter.flush(5000)).toEqual({ remaining: 0 });
    const bodies = receiver.delivered().map((entry) => entry.body);
    expect(bodies).toEqual(
      expect.arrayContaining([
        { event: 'product.updated', data: { id: HEX[0], name: 'Mug 0' } },
        { event: 'order.created', data: expectedOrder },
        { event: 'product.deleted', data: { id: HEX[1] } },
        { event: 'order.deleted', data: { id: '0e6c1f8a-5b7e-4a43-9b0f-3f6a2d1c9e77' } },
        { event: 'product.deleted', data: { id: '12345678901234567890' } },
      ]),
    );
    expect(bodies).toHaveLength(5);
  });

  it('still refuses a record whose id object has no readable form', () => {
    const logger = recordingLogger();
    const emitter = createWebhookEmitter({ url: 'http://127.0.0.1:9', storeToken: TOKEN, logger }, {});
    closers.push(() => emitter.close(100));
    expect(emitter.productUpdated({ id: {}, name: 'Mug' })).toBe(false);
    expect(emitter.productDeleted({ id: Object.create(null) })).toBe(false);
    expect(logger.entries.map((entry) => entry.message)).toEqual([
      'webhook product.updated not sent: the record has no id',
      'webhook product.deleted not sent: the record has no id',
    ]);
  });
});
