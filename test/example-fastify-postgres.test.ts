import { randomBytes, randomUUID } from 'node:crypto';
import { verifyWebhook } from '@hiwelink/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStore,
  readConfig,
  STORE_BASE_URL,
  type Store,
} from '../examples/fastify-postgres/dist/app.js';
import { send } from './support/http-client.js';
import { connectPostgres } from './support/postgres.js';
import { type Received, startReceiver } from './support/receiver.js';
import { connectRedis } from './support/services.js';

const pg = await connectPostgres();
const redis = await connectRedis();
afterAll(async () => {
  redis?.disconnect();
  await pg?.close();
});

const API_KEY = 'hwk_test_fastify_postgres_example';
const ADMIN_TOKEN = 'adm_test_fastify_postgres_example';
const STORE_TOKEN = '5b0f3c52-0d7e-4a53-9a55-8f6f3a4c2e11';
const SECRET = `whsec_${Buffer.from('a 32-byte webhook signing secret').toString('base64')}`;

type Row = Record<string, unknown>;

describe('examples/fastify-postgres configuration', () => {
  it('refuses to start without HIWELINK_API_KEY, and says how to make one', () => {
    expect(() => readConfig({})).toThrow(
      'HIWELINK_API_KEY is required: the key HiWelink sends in X-API-Key (make one with: npx hiwelink keygen)',
    );
  });

  it('has the documented defaults', () => {
    expect(readConfig({ HIWELINK_API_KEY: 'k' })).toEqual({
      port: 3001,
      host: '127.0.0.1',
      timeouts: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 },
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 'hiwelink_demo',
      redisUrl: 'redis://127.0.0.1:6379',
      queueName: 'hiwelink-webhooks',
      apiKey: 'k',
      adminToken: undefined,
      webhookUrl: undefined,
      storeToken: undefined,
      webhookSecret: undefined,
      logLevel: 'info',
    });
  });

  it('refuses half a webhook configuration and a schema name it cannot quote safely', () => {
    expect(() =>
      readConfig({ HIWELINK_API_KEY: 'k', HIWELINK_WEBHOOK_URL: 'https://hiwelink.example' }),
    ).toThrow('set both HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN');
    expect(() => readConfig({ HIWELINK_API_KEY: 'k', DATABASE_SCHEMA: 'demo"; DROP' })).toThrow(
      'DATABASE_SCHEMA must be',
    );
  });
});

describe.skipIf(!pg || !redis)('examples/fastify-postgres on PostgreSQL and Redis', () => {
  const db = pg as NonNullable<typeof pg>;
  const keys = redis as NonNullable<typeof redis>;
  // Created by the store itself, and dropped after.
  const schema = `hiwelink_demo_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const queueName = `hiwelink-example-test-${randomUUID()}`;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let stores: Store[] = [];
  /** Two instances on one schema and one queue, as two `npm start`s would be. */
  const urls: string[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    const config = readConfig({
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: schema,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      HIWELINK_QUEUE: queueName,
      HIWELINK_API_KEY: API_KEY,
      ADMIN_TOKEN,
      HIWELINK_WEBHOOK_URL: receiver.url,
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
      HIWELINK_WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: 'silent',
    });
    // Started at the same moment on a schema that does not exist yet: one creates and seeds it.
    const started = await Promise.allSettled([createStore(config), createStore(config)]);
    stores = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    for (const store of stores) urls.push(await store.app.listen({ port: 0, host: '127.0.0.1' }));
  });

  afterAll(async () => {
    for (const store of stores) await store.close();
    await receiver?.close();
    await db.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    const found: string[] = [];
    for await (const batch of keys.scanStream({ match: `bull:${queueName}*` }))
      found.push(...(batch as string[]));
    if (found.length > 0) await keys.del(...found);
  });

  const url = (instance: number) => urls[instance] as string;

  /** Every product, page by page, as HiWelink's crawler reads them. */
  async function crawl(instance = 0): Promise<Row[]> {
    const records: Row[] = [];
    for (let page = 1; ; page++) {
      const reply = await send(`${url(instance)}/api/products?page=${page}&per_page=2`, {
        headers: { 'x-api-key': API_KEY },
      });
      expect(reply.status).toBe(200);
      const { data, meta } = reply.json() as { data: Row[]; meta: { last_page: number } };
      records.push(...data);
      if (page >= meta.last_page) return records;
    }
  }

  function admin(instance: number, method: string, path: string, body?: unknown) {
    const authorization = `Bearer ${ADMIN_TOKEN}`;
    // Fastify answers 400 to a content-type: application/json with no body, as on DELETE.
    return send(
      `${url(instance)}/admin${path}`,
      body === undefined
        ? { method, headers: { authorization } }
        : {
            method,
            headers: { authorization, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
    );
  }

  const deliveries = (event: string, id: string) =>
    receiver.delivered().filter((entry) => entry.body.event === event && entry.body.data.id === id);

  async function webhook(event: string, id: string): Promise<Received> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [first] = deliveries(event, id);
      if (first) return first;
      if (Date.now() > deadline) throw new Error(`no ${event} webhook for product ${id}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Every event ever queued (waiting, delayed, active, delivered or given up), as Redis counts them. */
  async function queued() {
    const { queued, active, delivered, failed } = await (stores[0] as Store).webhooks.stats();
    return queued + active + delivered + failed;
  }

  it('serves the seeded catalog under HiWelink’s names, seeded once, from either instance', async () => {
    const products = await crawl(0);
    expect(await crawl(1)).toEqual(products);
    expect(products).toHaveLength(4); // not 8: the second instance found the seed done
    for (const product of products) {
      expect(product).toMatchObject({
        id: expect.any(String),
        name: expect.any(String),
        slug: expect.any(String),
      });
      expect(product.regular_price).toEqual(expect.any(Number));
      expect(product.permalink).toBe(`${STORE_BASE_URL}/product/${String(product.slug)}`);
    }
    expect(products.find((product) => product.slug === 'enamel-mug')).toEqual({
      id: expect.any(String),
      name: 'Enamel Mug',
      regular_price: 12.5,
      price: 12.5,
      stock_quantity: 0,
      stock_status: 'out_of_stock',
      slug: 'enamel-mug',
      permalink: `${STORE_BASE_URL}/product/enamel-mug`,
    });

    const orders = await send(`${url(1)}/api/orders?page=1&per_page=10`, {
      headers: { 'x-api-key': API_KEY },
    });
    expect((orders.json() as { data: Row[] }).data[0]).toEqual({
      id: expect.any(String),
      order_number: '1001',
      status: 'completed',
      total: 72.4,
      currency: 'USD',
      customer_email: 'ada@example.com',
      created_at: '2025-03-01T10:00:00.000Z', // placed_at, through mapping.orders.fields
    });
    expect((await send(`${url(0)}/api/products`)).status).toBe(401);
    expect((await send(`${url(0)}/api/products`, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
  });

  it('sends product.created, signed, with exactly what the crawl returns for that product', async () => {
    const reply = await admin(0, 'POST', '/products', {
      title: 'Linen Apron',
      handle: 'linen-apron',
      list_price: 34.9,
      stock: 5,
    });
    expect(reply.status).toBe(201);
    const id = String((reply.json() as Row).id);

    const delivered = await webhook('product.created', id);
    const crawled = (await crawl(1)).find((product) => product.id === id);
    expect(crawled).toMatchObject({
      name: 'Linen Apron',
      regular_price: 34.9,
      stock_quantity: 5,
      slug: 'linen-apron',
    });
    expect(delivered.body.data).toEqual(crawled);
    expect(delivered.path).toBe(`/api/generic-api/webhooks/${STORE_TOKEN}/products`);
    expect(verifyWebhook(delivered.raw, delivered.headers, SECRET)).toMatchObject({ ok: true });
    expect(deliveries('product.created', id)).toHaveLength(1); // two workers, one delivery
  });

  it('sends product.updated after a PATCH on the other instance, as the next crawl sees it', async () => {
    const id = String((await crawl(0)).find((product) => product.slug === 'canvas-tote')?.id);
    const reply = await admin(1, 'PATCH', `/products/${id}`, { list_price: 17.25, stock: 0 });
    expect(reply.status).toBe(200);

    const delivered = await webhook('product.updated', id);
    const crawled = (await crawl(0)).find((product) => product.id === id);
    expect(crawled).toMatchObject({
      regular_price: 17.25,
      stock_quantity: 0,
      stock_status: 'out_of_stock',
    });
    expect(delivered.body.data).toEqual(crawled);
  });

  it('a write that fails inside its transaction changes nothing and sends nothing', async () => {
    const before = await crawl(0);
    const count = await queued();
    const hoodie = before.find((product) => product.slug === 'blue-hoodie') as Row;

    // An import: the lamp is inserted (and its hook runs), then the duplicate handle fails the
    // transaction, which rolls the lamp back with it.
    const imported = await admin(0, 'POST', '/products', [
      { title: 'Desk Lamp', handle: 'desk-lamp', list_price: 45 },
      { title: 'Another Hoodie', handle: 'blue-hoodie', list_price: 10 },
    ]);
    expect(imported.status).toBe(409);
    expect(imported.json()).toEqual({ error: 'handle is already taken' });
    const renamed = await admin(1, 'PATCH', `/products/${String(hoodie.id)}`, {
      title: 'Hoodie',
      handle: 'canvas-tote',
    });
    expect(renamed.status).toBe(409);

    expect(await crawl(1)).toEqual(before);
    // Events are in Redis before a committed write answers; none was added by these two.
    expect(await queued()).toBe(count);

    // A write that commits afterwards is delivered, and the failed ones still are not.
    expect((await admin(0, 'PATCH', `/products/${String(hoodie.id)}`, { stock: 11 })).status).toBe(200);
    expect((await webhook('product.updated', String(hoodie.id))).body.data).toMatchObject({
      stock_quantity: 11,
    });
    expect(await queued()).toBe(count + 1);
    expect(receiver.received.filter((entry) => entry.body.data.slug === 'desk-lamp')).toEqual([]);
    expect(deliveries('product.updated', String(hoodie.id)).map((entry) => entry.body.data.name)).toEqual([
      'Blue Hoodie',
    ]);
  });

  it('sends product.deleted with only the id, after the product’s earlier events', async () => {
    const created = await admin(1, 'POST', '/products', {
      title: 'Paper Kite',
      handle: 'paper-kite',
      list_price: 8,
    });
    expect(created.status).toBe(201);
    const id = String((created.json() as Row).id);

    expect((await admin(0, 'DELETE', `/products/${id}`)).status).toBe(204);
    const deleted = await webhook('product.deleted', id);
    expect(deleted.body).toEqual({ event: 'product.deleted', data: { id } });
    const events = receiver.delivered().filter((entry) => entry.body.data.id === id);
    expect(events.map((entry) => entry.body.event)).toEqual(['product.created', 'product.deleted']);

    expect((await crawl(1)).some((product) => product.id === id)).toBe(false);
    expect((await admin(1, 'DELETE', `/products/${id}`)).status).toBe(404);
  });

  it('keeps the admin API behind ADMIN_TOKEN', async () => {
    const body = JSON.stringify({ title: 'Free Lunch', handle: 'free-lunch', list_price: 0 });
    const headers = { 'content-type': 'application/json' };
    const anonymous = await send(`${url(0)}/admin/products`, { method: 'POST', headers, body });
    const wrong = await send(`${url(0)}/admin/products`, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer not-the-token' },
      body,
    });
    expect([anonymous.status, wrong.status]).toEqual([401, 401]);
    expect((await crawl(0)).some((product) => product.slug === 'free-lunch')).toBe(false);
  });
});
