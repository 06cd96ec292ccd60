import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ORDER_ALIASES, orderSchema, PRODUCT_ALIASES, productSchema, verifyWebhook } from '@hiwelink/core';
import Database from 'better-sqlite3';
import { jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  type AuthMethod,
  createStore,
  type Order,
  type OrderRecord,
  type Product,
  type ProductRecord,
  type RepositoryChange,
  readConfig,
  STORE_BASE_URL,
} from '../examples/express-sqlite/dist/app.js';
import { type Behaviour, type Received, startReceiver } from './support/receiver.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const PER_PAGE = 50;

interface Meta {
  current_page: number;
  per_page: number;
  total: number;
  last_page: number;
}

type Cleanup = (fn: () => void | Promise<void>) => void;

/**
 * A store on an in-memory database, listening on a free port of 127.0.0.1 until the test ends. The
 * kit runs strict, so a page holding a record HiWelink would skip fails the test with a 500.
 */
async function startStore(env: Record<string, string>, onTestFinished: Cleanup) {
  const store = createStore(readConfig({ DATABASE_FILE: ':memory:', HIWELINK_STRICT: '1', ...env }));
  // Narrows the store's type: these tests use the in-memory emitter's flush() and stats().
  if (store.queue !== 'memory') {
    store.close();
    throw new Error(`startStore runs the memory queue, not ${store.queue}`);
  }
  const server = createServer(store.app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.shutdown(2_000);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** GET with the store's own credential unless `headers` says otherwise. */
  const get = async (path: string, headers?: Record<string, string>) =>
    fetch(`${base}${path}`, { headers: headers ?? (await store.authHeaders()) });

  const admin = (method: string, path: string, body?: unknown, token = store.adminToken) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** Walks the list the way HiWelink does: page after page until one holds fewer than asked. */
  async function crawl<T extends { id: string }>(path: string) {
    const records: T[] = [];
    const totals: number[] = [];
    for (let page = 1; page <= 1_000; page++) {
      const response = await get(`${path}?page=${page}&per_page=${PER_PAGE}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: T[]; meta: Meta };
      expect(body.meta.current_page).toBe(page);
      records.push(...body.data);
      totals.push(body.meta.total);
      if (body.data.length < PER_PAGE) return { records, totals, pages: page };
    }
    throw new Error(`the crawl of ${path} never reached a short page`);
  }

  return { store, base, get, admin, crawl };
}

const STORE_TOKEN = '3f1c2a9e-7b4d-4e8a-9c61-0d5e2f8a7b13';
const WEBHOOK_SECRET = `whsec_${Buffer.from('the demo store webhook test key!').toString('base64')}`;
const webhookPath = (topic: string) => `/api/generic-api/webhooks/${STORE_TOKEN}/${topic}`;

/**
 * A store whose webhooks go to a real local receiver. `next()` waits until the store has delivered
 * (or given up) everything emitted so far, and returns the requests received since its last call.
 */
async function startWebhookStore(
  env: Record<string, string>,
  onTestFinished: Cleanup,
  behaviour?: Behaviour,
) {
  const receiver = await startReceiver(behaviour);
  onTestFinished(receiver.close);
  const started = await startStore(
    {
      HIWELINK_WEBHOOK_URL: receiver.url,
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
      HIWELINK_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...env,
    },
    onTestFinished,
  );
  let read = 0;
  async function next(): Promise<Received[]> {
    expect(await started.store.webhooks.flush(5_000)).toEqual({ remaining: 0 });
    const fresh = receiver.received.slice(read);
    read = receiver.received.length;
    return fresh;
  }
  return { ...started, receiver, next };
}

/**
 * Makes COMMIT itself fail for a product inserted with this name: a trigger adds a row whose deferred
 * foreign key is checked only then. The write's body has run to its end, so only a store that waits
 * for the commit stays silent about it.
 */
function vetoAtCommit(db: Database.Database, name: string) {
  db.exec(`
    CREATE TABLE vetoes (id INTEGER PRIMARY KEY);
    CREATE TABLE vetoed (product_id INTEGER REFERENCES vetoes (id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TRIGGER veto AFTER INSERT ON products WHEN NEW.title = '${name}'
    BEGIN INSERT INTO vetoed VALUES (NEW.id); END;
  `);
}

/** The one request `events` should hold, checked for its path, event and both signatures. */
function only(events: readonly Received[], topic: string, event: string): Received {
  expect(events.map(({ path, body, status }) => ({ path, event: body.event, status }))).toEqual([
    { path: webhookPath(topic), event, status: 200 },
  ]);
  const entry = events[0] as Received;
  expect(Object.keys(entry.body).sort()).toEqual(['data', 'event']);
  expect(verifyWebhook(entry.raw, entry.headers, WEBHOOK_SECRET)).toEqual({
    ok: true,
    scheme: 'standard-webhooks',
  });
  const { 'webhook-id': _id, 'webhook-timestamp': _at, 'webhook-signature': _sig, ...plain } = entry.headers;
  expect(verifyWebhook(entry.raw, plain, WEBHOOK_SECRET)).toEqual({ ok: true, scheme: 'hmac-sha256' });
  expect(verifyWebhook(entry.raw, entry.headers, 'whsec_b3RoZXIgc2VjcmV0').ok).toBe(false);
  return entry;
}

const JWT_SECRET = 'demo-store-test-secret-0123456789abcdef';
const OTHER_SECRET = 'some-other-secret-that-is-long-enough-too';

/** Each method's settings, and the challenge its 401s carry (the API key has none). */
const AUTH_MODES: { auth: AuthMethod; env: Record<string, string>; challenge: RegExp | null }[] = [
  { auth: 'api-key', env: {}, challenge: null },
  { auth: 'bearer', env: {}, challenge: /^Bearer realm="[^"]+"/ },
  { auth: 'basic', env: {}, challenge: /^Basic realm="[^"]+"/ },
  { auth: 'jwt', env: { HIWELINK_JWT_SECRET: JWT_SECRET }, challenge: /^Bearer realm="[^"]+"/ },
];

const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const hmacKey = (secret: string) => new TextEncoder().encode(secret);
/** A token under construction, built here with jose rather than by the store. */
const jwtFor = (alg = 'HS256') =>
  new SignJWT().setProtectedHeader({ alg, typ: 'JWT' }).setSubject('hiwelink').setIssuedAt();

const range = (count: number) => Array.from({ length: count }, (_, index) => String(index + 1));
const byNumber = (a: string, b: string) => Number(a) - Number(b);
const idsOf = (records: readonly { id: string }[]) => records.map((record) => record.id);
const hasCents = (amount: number) => Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-9;

/** An order placed through the admin API: an item at the catalog price, one priced by hand. */
const ADA_ORDER = {
  customer_email: 'ada@example.com',
  customer_name: 'Ada Lovelace',
  items: [
    { product_id: '3', quantity: 2 },
    { product_id: 4, quantity: 1, price: 9.99, name: 'Gift wrap' },
  ],
  tax: 1.25,
  shipping: 4,
  shipping_address: { street: '12 St James Sq', city: 'London', zip: 'SW1Y 4JH', country: 'GB' },
  currency: 'GBP',
};

describe('demo store: crawling the seeded catalog', () => {
  it.for([
    { products: 250, orders: 1200 },
    { products: 123, orders: 77 },
    { products: 1, orders: 50 },
    { products: 0, orders: 0 },
  ])('sees each seeded record exactly once: %o', async ({ products, orders }, context) => {
    const { crawl } = await startStore(
      { SEED_PRODUCTS: String(products), SEED_ORDERS: String(orders) },
      context.onTestFinished,
    );

    const productCrawl = await crawl<Product>('/api/products');
    const productIds = idsOf(productCrawl.records);
    expect(new Set(productIds).size).toBe(productIds.length);
    expect([...productIds].sort(byNumber)).toEqual(range(products));
    expect(new Set(productCrawl.totals)).toEqual(new Set([products]));
    expect(productCrawl.pages).toBe(Math.floor(products / PER_PAGE) + 1);

    const orderCrawl = await crawl<Order>('/api/orders');
    const orderIds = idsOf(orderCrawl.records);
    expect(new Set(orderIds).size).toBe(orderIds.length);
    expect([...orderIds].sort(byNumber)).toEqual(range(orders));
    expect(new Set(orderCrawl.totals)).toEqual(new Set([orders]));

    for (const product of productCrawl.records) {
      expect(product.name.trim()).not.toBe('');
      expect(product.slug || product.permalink).toBeTruthy();
      expect(product.permalink).toMatch(/^https:\/\/[^/]+\/product\/[a-z0-9-]+$/);
      expect(hasCents(product.price)).toBe(true);
      expect(product.price).toBe(product.sale_price ?? product.regular_price);
      expect(product.stock_status).toBe(product.stock_quantity > 0 ? 'in_stock' : 'out_of_stock');
    }
    expect(new Set(productCrawl.records.map((product) => product.slug)).size).toBe(products);

    const productIdSet = new Set(productIds);
    for (const order of orderCrawl.records) {
      expect(order.items.length).toBeGreaterThanOrEqual(1);
      expect(order.items.length).toBeLessThanOrEqual(3);
      for (const item of order.items) expect(productIdSet.has(item.product_id)).toBe(true);
      const subtotal = order.items.reduce(
        (sum, item) => sum + Math.round(item.price * 100) * item.quantity,
        0,
      );
      expect(Math.round(order.subtotal * 100)).toBe(subtotal);
      expect(Math.round(order.total * 100)).toBe(subtotal + Math.round((order.tax + order.shipping) * 100));
      expect(new Date(order.created_at).toISOString().slice(0, 19)).toBe(order.created_at.slice(0, 19));
      expect(order.created_at).toMatch(/Z$/);
    }
  });

  it('seeds the same catalog every time', async (context) => {
    const first = await startStore({ SEED_PRODUCTS: '30', SEED_ORDERS: '20' }, context.onTestFinished);
    const second = await startStore({ SEED_PRODUCTS: '30', SEED_ORDERS: '20' }, context.onTestFinished);
    for (const path of ['/api/products', '/api/orders']) {
      const [a, b] = await Promise.all([first.crawl(path), second.crawl(path)]);
      expect(a.records.length).toBeGreaterThanOrEqual(20);
      expect(b.records).toEqual(a.records);
    }
  });
});

/** The stored record's columns that are not HiWelink field names: none may reach HiWelink. */
const rawColumns = (record: object, canonical: object) =>
  Object.keys(record).filter((key) => !(key in canonical));

describe('demo store: the kit maps the stored records', () => {
  it('sends products with canonical fields coerced from the stored shape, and no stored column names', async (context) => {
    const { crawl, store } = await startStore(
      { SEED_PRODUCTS: '60', SEED_ORDERS: '0' },
      context.onTestFinished,
    );
    const { records } = await crawl<Product>('/api/products');
    expect(records).toHaveLength(60);

    // Stored: integer id, decimal text, a comma-separated category, image paths, the handle.
    const first = store.repository.getProduct('1') as ProductRecord;
    expect(first).toMatchObject({
      id: 1,
      title: 'Aurora Wireless Headphones',
      sku: 'AUD-00001',
      list_price: '42.99',
      promo_price: null,
      qty_on_hand: 1,
      category: 'Electronics, Audio',
      labels: 'wireless, hi-fi, bestseller',
      photos: ['/images/products/aurora-wireless-headphones-1.jpg'],
      options: { color: 'Black', connectivity: 'Bluetooth 5.3' },
      handle: 'aurora-wireless-headphones',
    });
    expect(records[0]).toEqual({
      id: '1',
      name: 'Aurora Wireless Headphones',
      description: first.body,
      short_description: first.summary,
      sku: 'AUD-00001',
      price: 42.99,
      regular_price: 42.99,
      stock_status: 'in_stock',
      stock_quantity: 1,
      categories: ['Electronics', 'Audio'],
      tags: ['wireless', 'hi-fi', 'bestseller'],
      images: [`${STORE_BASE_URL}/images/products/aurora-wireless-headphones-1.jpg`],
      attributes: { color: 'Black', connectivity: 'Bluetooth 5.3' },
      slug: 'aurora-wireless-headphones',
      permalink: `${STORE_BASE_URL}/product/aurora-wireless-headphones`,
    });
    // On sale (promo_price, placed by `fields`), and out of stock (derived from qty_on_hand).
    expect(store.repository.getProduct('2')).toMatchObject({ list_price: '97.99', promo_price: '78.99' });
    expect(records[1]).toMatchObject({ price: 78.99, regular_price: 97.99, sale_price: 78.99 });
    expect(store.repository.getProduct('7')).toMatchObject({ qty_on_hand: 0 });
    expect(records[6]).toMatchObject({ stock_quantity: 0, stock_status: 'out_of_stock' });

    for (const product of records) {
      const stored = store.repository.getProduct(product.id) as ProductRecord;
      expect(productSchema.safeParse(product).error).toBeUndefined();
      expect(rawColumns(product, PRODUCT_ALIASES)).toEqual([]);
      for (const column of rawColumns(stored, PRODUCT_ALIASES)) expect(product).not.toHaveProperty(column);
      expect(product).not.toHaveProperty('qty_on_hand');
      expect(typeof stored.list_price).toBe('string');
      expect(product).toMatchObject({
        id: String(stored.id),
        name: stored.title,
        regular_price: Number(stored.list_price),
        price: Number(stored.promo_price ?? stored.list_price),
        stock_quantity: stored.qty_on_hand,
        stock_status: stored.qty_on_hand > 0 ? 'in_stock' : 'out_of_stock',
        categories: stored.category.split(', '),
        tags: stored.labels.split(', '),
        images: stored.photos.map((path) => `${STORE_BASE_URL}${path}`),
        slug: stored.handle,
        permalink: `${STORE_BASE_URL}/product/${stored.handle}`,
      });
      if (stored.promo_price === null) expect(product).not.toHaveProperty('sale_price');
      else expect(product.sale_price).toBe(Number(stored.promo_price));
    }
    expect(records.filter((product) => product.sale_price !== undefined)).toHaveLength(15);
    expect(records.filter((product) => product.stock_status === 'out_of_stock').length).toBeGreaterThan(0);
  });

  it('sends orders with ISO dates from epoch seconds, numbers from decimal text and mapped items and addresses', async (context) => {
    const { crawl, store } = await startStore(
      { SEED_PRODUCTS: '20', SEED_ORDERS: '30' },
      context.onTestFinished,
    );
    const { records } = await crawl<Order>('/api/orders');
    expect(records).toHaveLength(30);

    for (const order of records) {
      const stored = store.repository.getOrder(order.id) as OrderRecord;
      expect(orderSchema.safeParse(order).error).toBeUndefined();
      expect(rawColumns(order, ORDER_ALIASES)).toEqual([]);
      for (const column of rawColumns(stored, ORDER_ALIASES)) expect(order).not.toHaveProperty(column);
      expect(typeof stored.placed_at).toBe('number');
      expect(order.created_at).toBe(new Date(stored.placed_at * 1000).toISOString());
      expect(order.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(order).toMatchObject({
        id: String(stored.id),
        order_number: stored.number,
        status: stored.state,
        currency: stored.currency_code,
        customer_email: stored.email,
        customer_name: stored.buyer_name,
        subtotal: Number(stored.sub_total),
        tax: Number(stored.tax_total),
        shipping: Number(stored.shipping_cost),
        total: Number(stored.grand_total),
        payment_method: stored.payment_type,
      });
      expect(order.items).toEqual(
        stored.line_items.map((item) => ({
          product_id: String(item.product_id),
          name: item.product_name,
          quantity: item.qty,
          price: Number(item.unit_price),
        })),
      );
      const ship = stored.ship_to;
      expect(ship).not.toBeNull();
      expect(order.shipping_address).toEqual({
        street: ship?.line1,
        city: ship?.city,
        // An empty region is left out, not sent as ''.
        ...(ship?.region ? { state: ship.region } : {}),
        zip: ship?.postal_code,
        country: ship?.country_code,
      });
      expect(order.billing_address?.street).toBe(stored.bill_to?.line1);
    }
    const london = records.find((order) => order.shipping_address?.city === 'London');
    expect(london?.shipping_address).toEqual({
      street: expect.any(String),
      city: 'London',
      zip: 'SW1A 1AA',
      country: 'GB',
    });
  });

  it('HIWELINK_STRICT=1 fails a page holding a record HiWelink would skip; off, the page goes out', async (context) => {
    for (const strict of ['1', '0']) {
      const { get, store } = await startStore(
        { SEED_PRODUCTS: '3', SEED_ORDERS: '0', HIWELINK_STRICT: strict },
        context.onTestFinished,
      );
      expect(store.db.prepare("UPDATE products SET title = '  ' WHERE id = 2").run().changes).toBe(1);
      const response = await get('/api/products');
      if (strict === '1') {
        expect(response.status).toBe(500);
        expect(await response.json()).toMatchObject({
          code: 'invalid_record',
          error: expect.stringMatching(/id 2\b.*no name/),
        });
        continue;
      }
      expect(response.status).toBe(200);
      const { data } = (await response.json()) as { data: Product[] };
      expect(idsOf(data)).toEqual(['1', '2', '3']);
      expect(data[1]).not.toHaveProperty('name');
      expect(data[1]).not.toHaveProperty('title');
    }
  });
});

describe('demo store: HiWelink authentication', () => {
  it('answers 401 without the API key or with a wrong one, 200 with it', async (context) => {
    const { get, store } = await startStore({ SEED_PRODUCTS: '5', SEED_ORDERS: '5' }, context.onTestFinished);
    for (const path of ['/health', '/api/products', '/api/orders']) {
      expect((await get(path, {})).status).toBe(401);
      expect((await get(path, { 'X-API-Key': `${store.apiKey}x` })).status).toBe(401);
      expect((await get(path, { authorization: `Bearer ${store.adminToken}` })).status).toBe(401);
    }
    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('uses HIWELINK_API_KEY when it is set', async (context) => {
    const { get } = await startStore(
      { SEED_PRODUCTS: '5', SEED_ORDERS: '0', HIWELINK_API_KEY: 'my-own-key-0123456789' },
      context.onTestFinished,
    );
    expect((await get('/api/products', { 'X-API-Key': 'my-own-key-0123456789' })).status).toBe(200);
  });

  it.for(AUTH_MODES)(
    "HIWELINK_AUTH=$auth: 200 with its credential, 401 with none, a wrong one, or another method's header",
    async ({ auth, env, challenge }, context) => {
      const { get, store } = await startStore(
        { HIWELINK_AUTH: auth, SEED_PRODUCTS: '5', SEED_ORDERS: '3', ...env },
        context.onTestFinished,
      );
      expect(store.auth).toBe(auth);
      const key = store.apiKey;
      const token = await jwtFor().setExpirationTime('1h').sign(hmacKey(JWT_SECRET));
      // What each method's client sends, built from the documented headers rather than by the store.
      const credentials: Record<AuthMethod, Record<string, string>> = {
        'api-key': { 'X-API-Key': key },
        bearer: { authorization: `Bearer ${key}` },
        basic: { authorization: basicAuth('hiwelink', key) },
        jwt: { authorization: `Bearer ${token}` },
      };
      const mangled: Record<AuthMethod, Record<string, string>> = {
        'api-key': { 'X-API-Key': `${key}x` },
        bearer: { authorization: `Bearer ${key}x` },
        basic: { authorization: basicAuth('hiwelink', `${key}x`) },
        jwt: { authorization: `Bearer ${token.slice(0, -2)}` },
      };
      if (auth !== 'jwt') expect(await store.authHeaders()).toEqual(credentials[auth]);

      for (const headers of [credentials[auth], await store.authHeaders()]) {
        const health = await get('/health', headers);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: 'ok' });
        const products = await get('/api/products', headers);
        expect(products.status).toBe(200);
        expect(((await products.json()) as { data: Product[] }).data).toHaveLength(5);
      }

      const refused = [
        {},
        mangled[auth],
        ...AUTH_MODES.filter((other) => other.auth !== auth).map((other) => credentials[other.auth]),
        { authorization: `Bearer ${store.adminToken}` },
      ];
      for (const headers of refused) {
        for (const path of ['/health', '/api/products']) {
          const response = await get(path, headers);
          expect({ path, headers, status: response.status }).toEqual({ path, headers, status: 401 });
          expect(response.headers.get('content-type')).toMatch(/^application\/json/);
          expect(await response.json()).toMatchObject({ code: 'unauthorized' });
          const sent = response.headers.get('www-authenticate');
          if (challenge) expect(sent).toMatch(challenge);
          else expect(sent).toBeNull();
        }
      }
    },
  );

  it('HIWELINK_AUTH=jwt: mints HS256 tokens valid for an hour and refuses expired, foreign or weak ones', async (context) => {
    const { get, store } = await startStore(
      { HIWELINK_AUTH: 'jwt', HIWELINK_JWT_SECRET: JWT_SECRET, SEED_PRODUCTS: '2', SEED_ORDERS: '0' },
      context.onTestFinished,
    );
    const minted = (await store.authHeaders()).authorization?.replace(/^Bearer /, '') ?? '';
    const { payload, protectedHeader } = await jwtVerify(minted, hmacKey(JWT_SECRET), {
      algorithms: ['HS256'],
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('hiwelink');
    expect(Math.abs((payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(10);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    const ours = await jwtFor().setExpirationTime('5m').sign(hmacKey(JWT_SECRET));
    expect((await get('/api/products', { authorization: `Bearer ${ours}` })).status).toBe(200);

    const now = Math.floor(Date.now() / 1000);
    const refused = {
      expired: await jwtFor()
        .setIssuedAt(now - 7200)
        .setExpirationTime(now - 3600)
        .sign(hmacKey(JWT_SECRET)),
      'another secret': await jwtFor().setExpirationTime('1h').sign(hmacKey(OTHER_SECRET)),
      'no exp': await jwtFor().sign(hmacKey(JWT_SECRET)),
      HS512: await jwtFor('HS512').setExpirationTime('1h').sign(hmacKey(JWT_SECRET)),
      unsigned: new UnsecuredJWT({ sub: 'hiwelink' }).setIssuedAt().setExpirationTime('1h').encode(),
    };
    for (const [name, token] of Object.entries(refused)) {
      const response = await get('/api/products', { authorization: `Bearer ${token}` });
      expect({ name, status: response.status }).toEqual({ name, status: 401 });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect(await response.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('HIWELINK_AUTH=basic: takes its user from HIWELINK_BASIC_USER, and a password with colons', async (context) => {
    const password = 'pa:ss:w0rd';
    const { get, store } = await startStore(
      {
        HIWELINK_AUTH: 'basic',
        HIWELINK_BASIC_USER: 'shop-bot',
        HIWELINK_API_KEY: password,
        SEED_PRODUCTS: '2',
        SEED_ORDERS: '0',
      },
      context.onTestFinished,
    );
    expect(store.apiKey).toBe(password);
    expect(await store.authHeaders()).toEqual({ authorization: basicAuth('shop-bot', password) });
    const ok = await get('/api/products', { authorization: basicAuth('shop-bot', password) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: Product[] }).data).toHaveLength(2);
    for (const [user, attempt] of [
      ['hiwelink', password],
      ['shop-bot', 'pa'],
      ['shop-bot', 'pa:ss'],
      ['shop-bot', `${password}:`],
      ['shop-bot', 'PA:SS:W0RD'],
    ] as const) {
      const response = await get('/api/products', { authorization: basicAuth(user, attempt) });
      expect({ user, attempt, status: response.status }).toEqual({ user, attempt, status: 401 });
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
  });
});

describe('demo store: admin API', () => {
  it('creates, patches and deletes products, and the crawl follows', async (context) => {
    const { admin, crawl } = await startStore(
      { SEED_PRODUCTS: '60', SEED_ORDERS: '0' },
      context.onTestFinished,
    );

    const created = await admin('POST', '/admin/products', {
      name: 'Stoneware Mug',
      regular_price: 18,
      sale_price: 14.5,
      stock_quantity: 12,
      categories: ['Home', 'Kitchen'],
      tags: ['mug'],
      images: ['https://cdn.example.com/mug.jpg'],
      attributes: { color: 'Blue', capacity_ml: 350 },
    });
    expect(created.status).toBe(201);
    const product = (await created.json()) as Product;
    expect(product).toMatchObject({
      id: '61',
      name: 'Stoneware Mug',
      price: 14.5,
      regular_price: 18,
      sale_price: 14.5,
      stock_status: 'in_stock',
      stock_quantity: 12,
      categories: ['Home', 'Kitchen'],
      slug: 'stoneware-mug',
    });
    expect(created.headers.get('location')).toBe('/admin/products/61');
    let seen = await crawl<Product>('/api/products');
    expect(seen.totals.at(-1)).toBe(61);
    expect(seen.records.find((record) => record.id === '61')).toEqual(product);

    const patched = await admin('PATCH', '/admin/products/61', { name: 'Glazed Mug', sale_price: null });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      id: '61',
      name: 'Glazed Mug',
      price: 18,
      slug: 'stoneware-mug',
    });
    seen = await crawl<Product>('/api/products');
    const after = seen.records.find((record) => record.id === '61');
    expect(after?.name).toBe('Glazed Mug');
    expect(after).not.toHaveProperty('sale_price');

    const deleted = await admin('DELETE', '/admin/products/61');
    expect(deleted.status).toBe(204);
    expect((await admin('DELETE', '/admin/products/7')).status).toBe(204);
    seen = await crawl<Product>('/api/products');
    expect(seen.totals.at(-1)).toBe(59);
    expect(idsOf(seen.records)).toEqual(range(60).filter((id) => id !== '7'));
  });

  it('creates, patches and deletes orders, and the crawl follows', async (context) => {
    const { admin, crawl } = await startStore(
      { SEED_PRODUCTS: '10', SEED_ORDERS: '49' },
      context.onTestFinished,
    );
    const products = (await crawl<Product>('/api/products')).records;
    const third = products.find((record) => record.id === '3') as Product;

    const created = await admin('POST', '/admin/orders', ADA_ORDER);
    expect(created.status).toBe(201);
    const order = (await created.json()) as Order;
    const subtotalCents = Math.round(third.price * 100) * 2 + 999;
    expect(order).toMatchObject({
      id: '50',
      status: 'pending',
      currency: 'GBP',
      customer_name: 'Ada Lovelace',
      subtotal: subtotalCents / 100,
      total: (subtotalCents + 125 + 400) / 100,
      items: [
        { product_id: '3', name: third.name, quantity: 2, price: third.price },
        { product_id: '4', name: 'Gift wrap', quantity: 1, price: 9.99 },
      ],
    });
    expect(order.billing_address).toEqual(order.shipping_address);
    expect(order.order_number).toMatch(/^ORD-\d{4}-00050$/);

    let seen = await crawl<Order>('/api/orders');
    expect(seen.pages).toBe(2);
    expect(seen.totals.at(-1)).toBe(50);
    expect(seen.records.at(-1)).toEqual(order);

    const patched = await admin('PATCH', '/admin/orders/50', {
      status: 'shipped',
      items: [{ product_id: '1', quantity: 1, price: 5 }],
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      status: 'shipped',
      subtotal: 5,
      total: 10.25,
      currency: 'GBP',
    });
    seen = await crawl<Order>('/api/orders');
    expect(seen.records.at(-1)).toMatchObject({ id: '50', status: 'shipped', items: [{ product_id: '1' }] });

    expect((await admin('DELETE', '/admin/orders/50')).status).toBe(204);
    seen = await crawl<Order>('/api/orders');
    expect(seen.totals.at(-1)).toBe(49);
    expect(idsOf(seen.records)).toEqual(range(49));
  });

  it('rejects a missing or wrong admin token with 401 and changes nothing', async (context) => {
    const { admin, base, store, crawl } = await startStore(
      { SEED_PRODUCTS: '3', SEED_ORDERS: '0' },
      context.onTestFinished,
    );
    const body = { name: 'Sneaky', regular_price: 1 };
    const attempts = [
      await fetch(`${base}/admin/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
      await admin('POST', '/admin/products', body, `${store.adminToken}0`),
      await admin('POST', '/admin/products', body, store.apiKey),
      await admin('DELETE', '/admin/products/1', undefined, 'adm_wrong'),
      await fetch(`${base}/admin/products/1`, {
        method: 'DELETE',
        headers: { authorization: `Basic ${Buffer.from(`admin:${store.adminToken}`).toString('base64')}` },
      }),
    ];
    for (const response of attempts) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ code: 'unauthorized' });
    }
    expect(idsOf((await crawl('/api/products')).records)).toEqual(['1', '2', '3']);
  });

  it('rejects bad bodies with 400 naming the field, and changes nothing', async (context) => {
    const { admin, base, store, crawl } = await startStore(
      { SEED_PRODUCTS: '3', SEED_ORDERS: '2' },
      context.onTestFinished,
    );
    const before = [await crawl('/api/products'), await crawl('/api/orders')];
    const email = 'a@example.com';
    const cases: [method: string, path: string, body: unknown, field: string][] = [
      ['POST', '/admin/products', { regular_price: 5 }, 'name'],
      ['POST', '/admin/products', { name: 'Lamp', regular_price: '5' }, 'regular_price'],
      ['POST', '/admin/products', { name: 'Lamp', regular_price: 5.001 }, 'regular_price'],
      ['POST', '/admin/products', { name: 'Lamp', regular_price: 5, sale_price: 9 }, 'sale_price'],
      ['POST', '/admin/products', { name: 'Lamp', regular_price: 5, price: 4 }, 'price'],
      ['POST', '/admin/products', { name: 'Lamp', regular_price: 5, images: ['/relative.jpg'] }, 'images.0'],
      ['PATCH', '/admin/products/1', { stock_quantity: -1 }, 'stock_quantity'],
      ['PATCH', '/admin/products/1', { categories: ['Home, Garden'] }, 'categories.0'],
      ['POST', '/admin/orders', { items: [{ product_id: '1', quantity: 1 }] }, 'customer_email'],
      ['POST', '/admin/orders', { customer_email: email, items: [] }, 'items'],
      [
        'POST',
        '/admin/orders',
        { customer_email: email, items: [{ product_id: '99', quantity: 1 }] },
        'items.0.product_id',
      ],
      ['PATCH', '/admin/orders/1', { items: [{ product_id: '1', quantity: 0 }] }, 'items.0.quantity'],
      ['PATCH', '/admin/orders/1', { status: 'lost' }, 'status'],
      ['PATCH', '/admin/orders/1', { total: 1 }, 'total'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await admin(method, path, body);
      const answer = (await response.json()) as { error: string; code: string; field: string };
      expect({ method, path, status: response.status, field: answer.field }).toEqual({
        method,
        path,
        status: 400,
        field,
      });
      expect(answer.code).toBe('invalid_body');
      expect(answer.error).toContain(field);
    }

    const empty = await admin('POST', '/admin/products');
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ code: 'invalid_body' });
    const authorization = `Bearer ${store.adminToken}`;
    const form = await fetch(`${base}/admin/products`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Lamp&regular_price=5',
    });
    expect(form.status).toBe(400);
    expect(await form.json()).toMatchObject({ code: 'invalid_body' });
    const broken = await fetch(`${base}/admin/products`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: '{"name": "Lamp",',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: 'Malformed JSON body', code: 'invalid_json' });

    const taken = await admin('PATCH', '/admin/products/2', {
      slug: (before[0]?.records[0] as Product | undefined)?.slug,
    });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ code: 'conflict', field: 'slug' });

    expect([await crawl('/api/products'), await crawl('/api/orders')]).toEqual(before);
  });

  it('answers 404 JSON for unknown ids and routes', async (context) => {
    const { admin, get } = await startStore({ SEED_PRODUCTS: '3', SEED_ORDERS: '3' }, context.onTestFinished);
    const unknown = [
      await admin('PATCH', '/admin/products/4', { name: 'Ghost' }),
      await admin('DELETE', '/admin/products/4'),
      await admin('DELETE', '/admin/products/abc'),
      await admin('PATCH', '/admin/orders/999', { status: 'completed' }),
      await admin('DELETE', '/admin/orders/0'),
    ];
    for (const response of unknown) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'not_found' });
    }
    for (const response of [await get('/nowhere'), await admin('GET', '/admin/products')]) {
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({ error: 'Not Found', code: 'not_found' });
    }
  });

  it('answers a bare 500 when the database fails, and /health turns 503', async (context) => {
    const { admin, get, store } = await startStore(
      { SEED_PRODUCTS: '3', SEED_ORDERS: '0' },
      context.onTestFinished,
    );
    store.db.close();
    const failed = await admin('POST', '/admin/products', { name: 'Lamp', regular_price: 5 });
    expect(failed.status).toBe(500);
    expect(await failed.text()).toBe('{"error":"Internal Server Error"}');
    expect((await get('/health')).status).toBe(503);
  });
});

describe('demo store: webhooks after each committed write', () => {
  it('announces a product created, patched and deleted: signed, with the record the crawl returns', async (context) => {
    const { admin, crawl, next } = await startWebhookStore(
      { SEED_PRODUCTS: '5', SEED_ORDERS: '0' },
      context.onTestFinished,
    );
    // Seeding is not a change to announce.
    expect(await next()).toEqual([]);

    const created = await admin('POST', '/admin/products', {
      name: 'Stoneware Mug',
      regular_price: 18,
      sale_price: 14.5,
      stock_quantity: 12,
      categories: ['Home', 'Kitchen'],
      images: ['https://cdn.example.com/mug.jpg'],
      attributes: { color: 'Blue' },
    });
    expect(created.status).toBe(201);
    const product = (await created.json()) as Product;
    expect(product.id).toBe('6');
    const onCreate = only(await next(), 'products', 'product.created');
    const listed = (await crawl<Product>('/api/products')).records.find((record) => record.id === '6');
    expect(listed).toEqual(product);
    expect(onCreate.body.data).toEqual(listed);

    const patched = await admin('PATCH', '/admin/products/6', { name: 'Glazed Mug', sale_price: null });
    expect(patched.status).toBe(200);
    const onPatch = only(await next(), 'products', 'product.updated');
    const relisted = (await crawl<Product>('/api/products')).records.find((record) => record.id === '6');
    expect(relisted).toMatchObject({ name: 'Glazed Mug', price: 18 });
    expect(onPatch.body.data).toEqual(relisted);
    expect(onPatch.body.data).not.toHaveProperty('sale_price');

    expect((await admin('DELETE', '/admin/products/6')).status).toBe(204);
    const onDelete = only(await next(), 'products', 'product.deleted');
    expect(onDelete.body.data).toEqual({ id: '6' });
    expect((await admin('DELETE', '/admin/products/2')).status).toBe(204);
    expect(only(await next(), 'products', 'product.deleted').body.data).toEqual({ id: '2' });

    const ids = [onCreate, onPatch, onDelete].map((entry) => entry.headers['webhook-id']);
    expect(new Set(ids).size).toBe(3);
  });

  it('announces an order created, patched and deleted, with the record the crawl returns', async (context) => {
    const { admin, crawl, next } = await startWebhookStore(
      { SEED_PRODUCTS: '4', SEED_ORDERS: '3' },
      context.onTestFinished,
    );
    const created = await admin('POST', '/admin/orders', ADA_ORDER);
    expect(created.status).toBe(201);
    const order = (await created.json()) as Order;
    expect(order.id).toBe('4');
    const onCreate = only(await next(), 'orders', 'order.created');
    const listed = (await crawl<Order>('/api/orders')).records.find((record) => record.id === '4');
    expect(listed).toEqual(order);
    expect(onCreate.body.data).toEqual(listed);
    expect(onCreate.body.data).toMatchObject({
      currency: 'GBP',
      items: [{ product_id: '3' }, { price: 9.99 }],
    });

    const patched = await admin('PATCH', '/admin/orders/4', { status: 'shipped' });
    expect(patched.status).toBe(200);
    const onPatch = only(await next(), 'orders', 'order.updated');
    const relisted = (await crawl<Order>('/api/orders')).records.find((record) => record.id === '4');
    expect(relisted?.status).toBe('shipped');
    expect(onPatch.body.data).toEqual(relisted);

    expect((await admin('DELETE', '/admin/orders/4')).status).toBe(204);
    expect(only(await next(), 'orders', 'order.deleted').body.data).toEqual({ id: '4' });
  });

  it('announces nothing for a write the admin API rejects, inside the transaction or before it', async (context) => {
    const { admin, crawl, next, receiver, store } = await startWebhookStore(
      { SEED_PRODUCTS: '3', SEED_ORDERS: '2' },
      context.onTestFinished,
    );
    const [first, second] = (await crawl<Product>('/api/products')).records as [Product, Product];
    const before = [await crawl('/api/products'), await crawl('/api/orders')];
    const firstOrder = (await crawl<Order>('/api/orders')).records[0] as Order;
    vetoAtCommit(store.db, 'Vetoed');
    const rejected: [method: string, path: string, body: unknown, status: number][] = [
      // Refused inside the write's transaction, which rolls back.
      ['POST', '/admin/products', { name: 'Copy', regular_price: 5, slug: first.slug }, 409],
      ['POST', '/admin/products', { name: 'Copy', regular_price: 5, sku: first.sku }, 409],
      ['PATCH', '/admin/products/2', { slug: first.slug }, 409],
      ['PATCH', '/admin/products/2', { sale_price: second.regular_price + 1 }, 400],
      ['POST', '/admin/products', { name: 'Lamp', regular_price: 5, sale_price: 9 }, 400],
      // Refused by the COMMIT, after the write's body ran (logged by the store as a 500).
      ['POST', '/admin/products', { name: 'Vetoed', regular_price: 5 }, 500],
      [
        'POST',
        '/admin/orders',
        { customer_email: 'a@example.com', items: [{ product_id: '99', quantity: 1 }] },
        400,
      ],
      ['PATCH', '/admin/orders/2', { order_number: firstOrder.order_number }, 409],
      ['PATCH', '/admin/orders/2', { items: [{ product_id: '42', quantity: 1 }] }, 400],
      // Nothing to change.
      ['PATCH', '/admin/products/99', { name: 'Ghost' }, 404],
      ['DELETE', '/admin/products/99', undefined, 404],
      ['PATCH', '/admin/orders/99', { status: 'shipped' }, 404],
      ['DELETE', '/admin/orders/abc', undefined, 404],
      // Refused before the data layer.
      ['POST', '/admin/products', { name: 'Lamp', regular_price: '5' }, 400],
    ];
    for (const [method, path, body, status] of rejected) {
      const response = await admin(method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status });
    }
    expect((await admin('DELETE', '/admin/products/1', undefined, 'adm_wrong')).status).toBe(401);

    expect(await next()).toEqual([]);
    expect(receiver.attempts()).toBe(0);
    expect(store.webhooks.stats()).toEqual({ queued: 0, inFlight: 0, delivered: 0, failed: 0 });
    expect([await crawl('/api/products'), await crawl('/api/orders')]).toEqual(before);

    // The same store does announce the write that goes through.
    expect((await admin('PATCH', '/admin/products/2', { stock_quantity: 0 })).status).toBe(200);
    expect(only(await next(), 'products', 'product.updated').body.data).toMatchObject({
      id: '2',
      stock_status: 'out_of_stock',
    });
    expect(store.webhooks.stats()).toMatchObject({ delivered: 1, failed: 0 });
  });

  it('calls change listeners after the commit with the stored row; one that throws breaks nothing', async (context) => {
    const { admin, next, store } = await startWebhookStore(
      { SEED_PRODUCTS: '3', SEED_ORDERS: '1' },
      context.onTestFinished,
    );
    const { repository, db } = store;
    const changes: RepositoryChange[] = [];
    const duringTransaction: boolean[] = [];
    repository.onChange(() => {
      throw new Error('a listener bug (expected in this test)');
    });
    const stop = repository.onChange((change) => {
      changes.push(change);
      duringTransaction.push(db.inTransaction);
    });

    const taken = (repository.getProduct('1') as ProductRecord).handle;
    expect(() => repository.createProduct({ name: 'Copy', regular_price: 1, slug: taken })).toThrow(
      "slug: 'aurora-wireless-headphones' is already in use",
    );
    expect(() => repository.updateOrder('1', { items: [{ product_id: '9', quantity: 1 }] })).toThrow(
      "no product with id '9'",
    );
    expect(() => db.transaction(() => repository.deleteProduct('3'))()).toThrow(
      /do not call them inside db\.transaction\(\)/,
    );
    expect(repository.getProduct('3')).toBeDefined();
    vetoAtCommit(db, 'Vetoed');
    expect(() => repository.createProduct({ name: 'Vetoed', regular_price: 1 })).toThrow(
      'FOREIGN KEY constraint failed',
    );
    expect(db.inTransaction).toBe(false);
    expect(repository.listProducts({ perPage: 10, offset: 0 }).total).toBe(3);
    expect(repository.updateProduct('77', { name: 'Ghost' })).toBeUndefined();
    expect(changes).toEqual([]);
    expect(await next()).toEqual([]);

    const created = await admin('POST', '/admin/products', { name: 'Desk Lamp', regular_price: 25 });
    expect(created.status).toBe(201);
    const stored = repository.getProduct('4') as ProductRecord;
    expect(stored).toMatchObject({ id: 4, title: 'Desk Lamp', list_price: '25.00', handle: 'desk-lamp' });
    expect(changes).toEqual([{ kind: 'products', action: 'created', row: stored }]);
    // The emitter's listener, registered first, still ran.
    expect(only(await next(), 'products', 'product.created').body.data).toMatchObject({
      id: '4',
      name: 'Desk Lamp',
    });

    const order = repository.getOrder('1') as OrderRecord;
    expect(repository.deleteOrder('1')).toBe(true);
    expect(changes.at(-1)).toEqual({ kind: 'orders', action: 'deleted', row: order });
    expect(duringTransaction).toEqual([false, false]);
    expect(only(await next(), 'orders', 'order.deleted').body.data).toEqual({ id: '1' });

    stop();
    expect((await admin('DELETE', '/admin/products/4')).status).toBe(204);
    expect(changes).toHaveLength(2);
    expect(only(await next(), 'products', 'product.deleted').body.data).toEqual({ id: '4' });
  });

  it('shutdown() reports what it could not deliver in time, then closes the database', async (context) => {
    const { admin, receiver, store } = await startWebhookStore(
      { SEED_PRODUCTS: '2', SEED_ORDERS: '0' },
      context.onTestFinished,
      () => 'hang',
    );
    expect((await admin('POST', '/admin/products', { name: 'Kettle', regular_price: 30 })).status).toBe(201);
    const report = await store.shutdown(300);
    expect(report).toMatchObject({ delivered: 0, failed: 0 });
    expect(report.undelivered).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        event: 'product.created',
        data: expect.objectContaining({ id: '3' }),
        attempts: 1,
      },
    ]);
    expect(receiver.attempts()).toBe(1);
    expect(store.db.open).toBe(false);
    expect(store.webhooks.productDeleted(3)).toBe(false);
    // Once shut down, it stays so, without waiting again for the delivery still in flight.
    const startedAt = Date.now();
    expect(await store.shutdown(5_000)).toBe(report);
    expect(Date.now() - startedAt).toBeLessThan(100);
  });

  it('is off without the webhook variables: the store starts, writes work, nothing is sent', async (context) => {
    const { admin, store } = await startStore(
      { SEED_PRODUCTS: '2', SEED_ORDERS: '0' },
      context.onTestFinished,
    );
    expect(store.webhooks.enabled).toBe(false);
    expect((await admin('POST', '/admin/products', { name: 'Kettle', regular_price: 30 })).status).toBe(201);
    expect(store.webhooks.productCreated(store.repository.getProduct('3') as ProductRecord)).toBe(false);
    expect(store.webhooks.stats()).toEqual({ queued: 0, inFlight: 0, delivered: 0, failed: 0 });
    expect(await store.shutdown()).toEqual({
      queued: 0,
      inFlight: 0,
      delivered: 0,
      failed: 0,
      undelivered: [],
    });
    expect(store.db.open).toBe(false);
  });
});

describe('demo store: configuration', () => {
  it('WEBHOOK_QUEUE picks where webhooks wait; REDIS_URL and HIWELINK_QUEUE count only with redis', () => {
    expect(readConfig({ WEBHOOK_QUEUE: '' }).queue).toEqual({ kind: 'memory' });
    // Read only for redis: a REDIS_URL in the environment, for something else, changes nothing.
    expect(readConfig({ WEBHOOK_QUEUE: 'memory', REDIS_URL: 'not a url' }).queue).toEqual({ kind: 'memory' });
    expect(readConfig({ WEBHOOK_QUEUE: 'redis' }).queue).toEqual({
      kind: 'redis',
      redisUrl: 'redis://127.0.0.1:6379',
      queueName: 'hiwelink-webhooks',
    });
    expect(
      readConfig({
        WEBHOOK_QUEUE: 'redis',
        REDIS_URL: 'rediss://:pw@cache.example:6380/2',
        HIWELINK_QUEUE: 'shop-1',
      }).queue,
    ).toEqual({ kind: 'redis', redisUrl: 'rediss://:pw@cache.example:6380/2', queueName: 'shop-1' });
    for (const value of ['Redis', 'bullmq', ' redis']) {
      expect(() => readConfig({ WEBHOOK_QUEUE: value })).toThrow(
        `WEBHOOK_QUEUE must be one of memory, redis; got '${value}'`,
      );
    }
    for (const url of ['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis//:secret@host']) {
      expect(() => readConfig({ WEBHOOK_QUEUE: 'redis', REDIS_URL: url })).toThrow(
        /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL such as redis:\/\/127\.0\.0\.1:6379$/,
      );
    }
    for (const name of ['shop:1', 'two words', 'q'.repeat(101)]) {
      expect(() => readConfig({ WEBHOOK_QUEUE: 'redis', HIWELINK_QUEUE: name })).toThrow(
        `HIWELINK_QUEUE must be 1 to 100 characters without ':' or whitespace, got '${name}'`,
      );
    }
  });

  it('has the documented defaults', () => {
    expect(readConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      timeouts: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 },
      auth: { method: 'api-key' },
      apiKey: undefined,
      adminToken: undefined,
      statusToken: undefined,
      seedProducts: 250,
      seedOrders: 1200,
      databaseFile: './data/store.db',
      strict: false,
      webhooks: { url: undefined, storeToken: undefined, secret: undefined },
      queue: { kind: 'memory' },
    });
    expect(readConfig({ HIWELINK_STRICT: '1' }).strict).toBe(true);
    expect(readConfig({ HIWELINK_STRICT: '0' }).strict).toBe(false);
    expect(() => readConfig({ HIWELINK_STRICT: 'yes' })).toThrow("HIWELINK_STRICT must be 0 or 1, got 'yes'");
    expect(() => readConfig({ HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      'HEADERS_TIMEOUT_MS (40000) must be more than 0 and at most REQUEST_TIMEOUT_MS (30000)',
    );
    expect(() => readConfig({ KEEP_ALIVE_TIMEOUT_MS: '5s' })).toThrow(
      "KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds up to 3600000, got '5s'",
    );
    expect(readConfig({ HOST: '', REQUEST_TIMEOUT_MS: '60000' })).toMatchObject({
      host: '127.0.0.1',
      timeouts: { requestTimeoutMs: 60_000 },
    });
    expect(
      readConfig({ PORT: '0', SEED_PRODUCTS: '0', SEED_ORDERS: '0', HIWELINK_AUTH: 'api-key' }),
    ).toMatchObject({
      port: 0,
      seedProducts: 0,
      seedOrders: 0,
    });
  });

  it.each(['-1', 'abc', '1.5', '1e3', ' 7', '0x10'])('rejects SEED_PRODUCTS / SEED_ORDERS = %j', (value) => {
    const quoted = `'${value}'`;
    expect(() => readConfig({ SEED_PRODUCTS: value })).toThrow('SEED_PRODUCTS');
    expect(() => readConfig({ SEED_PRODUCTS: value })).toThrow(quoted);
    expect(() => readConfig({ SEED_ORDERS: value })).toThrow('SEED_ORDERS');
    expect(() => readConfig({ SEED_ORDERS: value })).toThrow(quoted);
  });

  it.each([
    { env: { HIWELINK_AUTH: 'api-key' }, auth: { method: 'api-key' } },
    { env: { HIWELINK_AUTH: 'bearer' }, auth: { method: 'bearer' } },
    { env: { HIWELINK_AUTH: 'basic' }, auth: { method: 'basic', username: 'hiwelink' } },
    {
      env: { HIWELINK_AUTH: 'basic', HIWELINK_BASIC_USER: '' },
      auth: { method: 'basic', username: 'hiwelink' },
    },
    {
      env: { HIWELINK_AUTH: 'basic', HIWELINK_BASIC_USER: 'shop-bot' },
      auth: { method: 'basic', username: 'shop-bot' },
    },
    {
      env: { HIWELINK_AUTH: 'jwt', HIWELINK_JWT_SECRET: JWT_SECRET },
      auth: { method: 'jwt', secret: JWT_SECRET },
    },
    {
      env: { HIWELINK_AUTH: 'jwt', HIWELINK_JWT_SECRET: 'x'.repeat(32) },
      auth: { method: 'jwt', secret: 'x'.repeat(32) },
    },
    // A variable of another method is not read, so it cannot stop the start.
    { env: { HIWELINK_JWT_SECRET: 'short', HIWELINK_BASIC_USER: 'a:b' }, auth: { method: 'api-key' } },
  ])('accepts $env', ({ env, auth }) => {
    expect(readConfig(env).auth).toEqual(auth);
  });

  it.each(['oauth', 'API-KEY', 'Bearer', 'jwt ', 'none'])(
    'rejects HIWELINK_AUTH = %j, listing the valid values',
    (value) => {
      expect(() => readConfig({ HIWELINK_AUTH: value })).toThrow(
        `HIWELINK_AUTH must be one of api-key, bearer, jwt, basic; got '${value}'`,
      );
    },
  );

  it('rejects jwt mode without an HIWELINK_JWT_SECRET of at least 32 characters, saying why', () => {
    for (const secret of [undefined, '']) {
      expect(() => readConfig({ HIWELINK_AUTH: 'jwt', HIWELINK_JWT_SECRET: secret })).toThrow(
        /^HIWELINK_JWT_SECRET is required when HIWELINK_AUTH is 'jwt'/,
      );
    }
    expect(() => readConfig({ HIWELINK_AUTH: 'jwt', HIWELINK_JWT_SECRET: 'x'.repeat(31) })).toThrow(
      /^HIWELINK_JWT_SECRET must be at least 32 characters, got 31: HS256 needs a 256-bit key/,
    );
    expect(() => readConfig({ HIWELINK_AUTH: 'jwt', HIWELINK_JWT_SECRET: ` ${JWT_SECRET}` })).toThrow(
      /^HIWELINK_JWT_SECRET must not start or end with whitespace/,
    );
  });

  it.each([' ', '   ', 'shop:bot', ':', 'bot:', ' bot', 'bot\t'])(
    'rejects HIWELINK_BASIC_USER = %j',
    (value) => {
      expect(() => readConfig({ HIWELINK_AUTH: 'basic', HIWELINK_BASIC_USER: value })).toThrow(
        /^HIWELINK_BASIC_USER must not/,
      );
    },
  );

  it('rejects an HIWELINK_API_KEY that is a digest, or that cannot travel as a bearer token', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    for (const auth of ['api-key', 'bearer', 'basic']) {
      expect(() => readConfig({ HIWELINK_AUTH: auth, HIWELINK_API_KEY: digest })).toThrow(
        /^HIWELINK_API_KEY must be the key itself, not a sha256: digest/,
      );
    }
    for (const key of ['key:with:colons', 'two words', 'clé', 'a=b']) {
      expect(() => readConfig({ HIWELINK_AUTH: 'bearer', HIWELINK_API_KEY: key })).toThrow(
        /^HIWELINK_API_KEY must hold only .*Authorization: Bearer/,
      );
      expect(readConfig({ HIWELINK_AUTH: 'basic', HIWELINK_API_KEY: key }).apiKey).toBe(key);
    }
    expect(readConfig({ HIWELINK_AUTH: 'bearer', HIWELINK_API_KEY: 'tok-1._~+/abcdef==' }).apiKey).toBe(
      'tok-1._~+/abcdef==',
    );
  });

  it('reads the webhook variables, an empty one counting as unset', () => {
    const env = {
      HIWELINK_WEBHOOK_URL: 'https://app.hiwelink.com/',
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
      HIWELINK_WEBHOOK_SECRET: WEBHOOK_SECRET,
    };
    expect(readConfig(env).webhooks).toEqual({
      url: 'https://app.hiwelink.com/',
      storeToken: STORE_TOKEN,
      secret: WEBHOOK_SECRET,
    });
    expect(readConfig({ ...env, HIWELINK_WEBHOOK_SECRET: '' }).webhooks.secret).toBeUndefined();
    expect(
      readConfig({ ...env, HIWELINK_WEBHOOK_URL: 'http://127.0.0.1:8080', HIWELINK_WEBHOOK_SECRET: 'plain' })
        .webhooks,
    ).toMatchObject({ url: 'http://127.0.0.1:8080', secret: 'plain' });
    expect(
      readConfig({ HIWELINK_WEBHOOK_URL: '', HIWELINK_STORE_TOKEN: '', HIWELINK_WEBHOOK_SECRET: '' })
        .webhooks,
    ).toEqual({ url: undefined, storeToken: undefined, secret: undefined });
  });

  it.each([
    'ftp://app.hiwelink.com',
    'app.hiwelink.com',
    'https://',
    'http//app.hiwelink.com',
    'javascript:alert(1)',
    'file:///etc/passwd',
  ])('rejects HIWELINK_WEBHOOK_URL = %j, naming the variable', (url) => {
    expect(() => readConfig({ HIWELINK_WEBHOOK_URL: url, HIWELINK_STORE_TOKEN: STORE_TOKEN })).toThrow(
      `HIWELINK_WEBHOOK_URL must be an http(s) URL such as https://app.hiwelink.com, got '${url}'`,
    );
  });

  it('rejects half a webhook configuration and a malformed secret, naming the variables', () => {
    const url = 'https://app.hiwelink.com';
    expect(() => readConfig({ HIWELINK_WEBHOOK_URL: ` ${url}`, HIWELINK_STORE_TOKEN: 'tok' })).toThrow(
      /^HIWELINK_WEBHOOK_URL must not start or end with whitespace/,
    );
    expect(() => readConfig({ HIWELINK_WEBHOOK_URL: `${url}?x=1`, HIWELINK_STORE_TOKEN: 'tok' })).toThrow(
      /^HIWELINK_WEBHOOK_URL must not hold a query/,
    );
    expect(() => readConfig({ HIWELINK_WEBHOOK_URL: url })).toThrow(
      /^HIWELINK_STORE_TOKEN is required when HIWELINK_WEBHOOK_URL is set/,
    );
    expect(() => readConfig({ HIWELINK_STORE_TOKEN: 'tok' })).toThrow(
      /^HIWELINK_WEBHOOK_URL is required when HIWELINK_STORE_TOKEN is set/,
    );
    expect(() => readConfig({ HIWELINK_WEBHOOK_SECRET: WEBHOOK_SECRET })).toThrow(
      /^HIWELINK_WEBHOOK_SECRET is set but webhooks are off/,
    );
    for (const secret of ['whsec_', 'whsec_not base64!', 'whsec_abc']) {
      expect(() =>
        readConfig({
          HIWELINK_WEBHOOK_URL: url,
          HIWELINK_STORE_TOKEN: 'tok',
          HIWELINK_WEBHOOK_SECRET: secret,
        }),
      ).toThrow(/^HIWELINK_WEBHOOK_SECRET must be whsec_ followed by base64/);
    }
  });

  it('rejects a bad PORT and seeded orders without products', () => {
    expect(() => readConfig({ PORT: '65536' })).toThrow(/^PORT .*'65536'/);
    expect(() => readConfig({ PORT: 'http' })).toThrow(/^PORT /);
    expect(() => readConfig({ SEED_PRODUCTS: '0', SEED_ORDERS: '5' })).toThrow(/SEED_ORDERS.*SEED_PRODUCTS/);
  });
});

describe('demo store: generated secrets', () => {
  it('keeps a generated API key and admin token across restarts on the same database file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hiwelink-demo-'));
    try {
      const env = { DATABASE_FILE: join(dir, 'nested', 'store.db'), SEED_PRODUCTS: '10', SEED_ORDERS: '4' };
      const first = createStore(readConfig(env));
      expect(first.apiKey).toMatch(/^hwk_live_[0-9a-f]{64}$/);
      expect(first.adminToken).toMatch(/^adm_[0-9a-f]{64}$/);
      expect(first.statusToken).toMatch(/^hws_[0-9a-f]{64}$/);
      expect(first.repository.deleteProduct('1')).toBe(true);
      first.close();

      const second = createStore(readConfig({ ...env, SEED_PRODUCTS: '99' }));
      expect(second.apiKey).toBe(first.apiKey);
      expect(second.adminToken).toBe(first.adminToken);
      expect(second.statusToken).toBe(first.statusToken);
      expect(second.repository.listProducts({ perPage: 100, offset: 0 }).total).toBe(9);
      second.close();

      const third = createStore(readConfig({ ...env, HIWELINK_API_KEY: 'chosen-key-0123456789' }));
      expect(third.apiKey).toBe('chosen-key-0123456789');
      expect(third.adminToken).toBe(first.adminToken);
      third.close();

      const elsewhere = createStore(readConfig({ ...env, DATABASE_FILE: join(dir, 'other.db') }));
      expect(elsewhere.apiKey).not.toBe(first.apiKey);
      elsewhere.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demo store: database file', () => {
  it('refuses a file written by an older version of the demo, rather than misreading its columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hiwelink-demo-'));
    try {
      const file = join(dir, 'old.db');
      const old = new Database(file);
      old.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT, list_price_cents INTEGER)');
      old.close();
      expect(() => createStore(readConfig({ DATABASE_FILE: file }))).toThrow(
        `DATABASE_FILE '${file}' holds tables this store did not create (another application's database, or a demo store from before schema versions)`,
      );

      const fresh = join(dir, 'fresh.db');
      createStore(readConfig({ DATABASE_FILE: fresh, SEED_PRODUCTS: '2', SEED_ORDERS: '1' })).close();
      const again = createStore(readConfig({ DATABASE_FILE: fresh }));
      expect(again.repository.listOrders({ perPage: 10, offset: 0 }).total).toBe(1);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demo store: main.js', () => {
  /** Runs the built entry point with a clean environment plus `env`. */
  function run(env: Record<string, string>) {
    const {
      HIWELINK_API_KEY,
      HIWELINK_AUTH,
      HIWELINK_BASIC_USER,
      HIWELINK_JWT_SECRET,
      ADMIN_TOKEN,
      STATUS_TOKEN,
      PORT,
      HIWELINK_WEBHOOK_URL,
      HIWELINK_STORE_TOKEN,
      HIWELINK_WEBHOOK_SECRET,
      WEBHOOK_QUEUE,
      HIWELINK_QUEUE,
      ...inherited
    } = process.env;
    const child = spawn(process.execPath, ['examples/express-sqlite/dist/main.js'], {
      cwd: repoRoot,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const output = () => ({ stdout, stderr });

    /** Waits until the start-up banner, up to its curl line, matches `pattern`. */
    async function started(pattern: RegExp): Promise<RegExpExecArray> {
      for (let waited = 0; waited < 10_000; waited += 50) {
        const match = /\n {2}curl .*\n/.test(stdout) ? pattern.exec(stdout) : null;
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`main.js exited early: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`main.js never printed ${pattern}:\n${stdout}${stderr}`);
    }
    return { child, exited, output, started };
  }

  /** The arguments of the printed curl line, as a POSIX shell splits them. */
  const curlWords = (stdout: string) => {
    const line = /\n {2}curl (.*)\n/.exec(stdout)?.[1] ?? '';
    return execFileSync('sh', ['-c', `printf '%s\\n' ${line}`], { encoding: 'utf8' })
      .split('\n')
      .slice(0, -1);
  };

  it('listens on PORT=0, prints the URL and key, serves /health, and stops on SIGTERM', async (context) => {
    const { child, exited, output, started } = run({
      PORT: '0',
      DATABASE_FILE: ':memory:',
      SEED_PRODUCTS: '20',
      SEED_ORDERS: '10',
    });
    context.onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const [, url, port, key] = await started(
      /listening on (http:\/\/127\.0\.0\.1:(\d+))[\s\S]*API key\s+(\S+)/,
    );
    expect(Number(port)).toBeGreaterThan(0);
    expect(key).toMatch(/^hwk_live_[0-9a-f]{64}$/);
    expect(output().stdout).toContain(`curl -H 'X-API-Key: ${key}' '${url}/api/products?page=1&per_page=5'`);
    expect(output().stdout).toContain(
      '\n  webhooks     off (set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send changes to HiWelink; ',
    );

    const health = await fetch(`${url}/health`, { headers: { 'X-API-Key': key as string } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    expect((await fetch(`${url}/health`)).status).toBe(401);

    // The status page: its URL and generated token in the banner, and a line that reads it.
    const status =
      /\n {2}status page {2}(\S+) .*\n {2}status token (hws_[0-9a-f]{64}) {2}\(generated for this run only; set STATUS_TOKEN/.exec(
        output().stdout,
      );
    expect(status?.[1]).toBe(`${url}/hiwelink/status`);
    const token = status?.[2] as string;
    expect(output().stdout).toContain(`  npx hiwelink status '${url}/hiwelink/status' --token '${token}'`);
    const refused = await fetch(`${url}/hiwelink/status`, { headers: { accept: 'application/json' } });
    expect(refused.status).toBe(401);
    const page = await fetch(`${url}/hiwelink/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(page.status).toBe(200);
    const report = (await page.json()) as {
      crawls: { health: { answers: Record<string, number> } };
      webhooks: { connected: boolean; enabled?: boolean };
    };
    expect(report.crawls.health.answers).toEqual({ '200': 1, '401': 1 });
    // The store's emitter is connected to the page; off here, as the banner says.
    expect(report.webhooks).toMatchObject({ connected: true, enabled: false });
    // The API key opens the API, not the page.
    expect(
      (await fetch(`${url}/hiwelink/status`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(401);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('HIWELINK_AUTH=basic: prints the user, the password and a curl -u line that works', async (context) => {
    const password = "it's:a-secret";
    const { child, exited, output, started } = run({
      PORT: '0',
      DATABASE_FILE: ':memory:',
      SEED_PRODUCTS: '3',
      SEED_ORDERS: '0',
      HIWELINK_AUTH: 'basic',
      HIWELINK_BASIC_USER: 'shop-bot',
      HIWELINK_API_KEY: password,
    });
    context.onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const [, url, user, printed] = await started(
      /listening on (\S+)[\s\S]*\n {2}user\s+(\S+)\n {2}password\s+(\S+)\n/,
    );
    expect([user, printed]).toEqual(['shop-bot', password]);
    expect(output().stdout).toContain("\n  curl -u 'shop-bot:it'\\''s:a-secret' '");
    expect(output().stdout).not.toContain('X-API-Key');
    const words = curlWords(output().stdout);
    expect(words).toEqual(['-u', `shop-bot:${password}`, `${url}/api/products?page=1&per_page=5`]);

    const products = await fetch(words[2] as string, {
      headers: { authorization: basicAuth('shop-bot', password) },
    });
    expect(products.status).toBe(200);
    expect(((await products.json()) as { data: Product[] }).data).toHaveLength(3);
    const refused = await fetch(`${url}/health`, { headers: { 'X-API-Key': password } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm=/);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('HIWELINK_AUTH=jwt: prints a sample token valid for an hour, and a curl line that sends it', async (context) => {
    const { child, exited, output, started } = run({
      PORT: '0',
      DATABASE_FILE: ':memory:',
      SEED_PRODUCTS: '3',
      SEED_ORDERS: '0',
      HIWELINK_AUTH: 'jwt',
      HIWELINK_JWT_SECRET: JWT_SECRET,
    });
    context.onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const [, url, token] = await started(/listening on (\S+)[\s\S]*\n {2}sample JWT\s+(\S+)\n/);
    const { payload } = await jwtVerify(token as string, hmacKey(JWT_SECRET), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'hiwelink' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(output().stdout).toMatch(/expires in 1 hour; give HiWelink a token signed with the same secret/);
    expect(output().stdout).not.toMatch(/API key|hwk_live_/);
    const words = curlWords(output().stdout);
    expect(words).toEqual(['-H', `Authorization: Bearer ${token}`, `${url}/api/products?page=1&per_page=5`]);

    const products = await fetch(words[2] as string, { headers: { authorization: `Bearer ${token}` } });
    expect(products.status).toBe(200);
    expect((await fetch(`${url}/health`)).headers.get('www-authenticate')).toMatch(/^Bearer realm=/);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('with the webhook variables: says where webhooks go, sends an admin change, delivers it before exiting', async (context) => {
    const receiver = await startReceiver();
    context.onTestFinished(receiver.close);
    const { child, exited, output, started } = run({
      PORT: '0',
      DATABASE_FILE: ':memory:',
      SEED_PRODUCTS: '3',
      SEED_ORDERS: '0',
      HIWELINK_WEBHOOK_URL: `${receiver.url}/`,
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
      HIWELINK_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    context.onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const [, url, webhooks, adminToken] = await started(
      /listening on (\S+)[\s\S]*\n {2}webhooks\s+(.*)\n {2}admin token\s+(\S+)/,
    );
    expect(webhooks).toBe(
      `on: admin changes go to ${receiver.url}/api/generic-api/webhooks/<HIWELINK_STORE_TOKEN>/..., signed with HIWELINK_WEBHOOK_SECRET; queued in memory (WEBHOOK_QUEUE=redis keeps them in Redis)`,
    );
    expect(output().stdout).not.toContain(STORE_TOKEN);

    const created = await fetch(`${url}/admin/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Desk Lamp', regular_price: 25 }),
    });
    expect(created.status).toBe(201);
    const product = (await created.json()) as Product;

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(only(receiver.received, 'products', 'product.created').body.data).toEqual(product);
    expect(output().stdout).toContain('webhooks: 1 delivered, 0 given up, 0 not delivered\n');
  });

  it('prints the webhooks it could not deliver before exiting', async (context) => {
    const receiver = await startReceiver(() => 'hang');
    context.onTestFinished(receiver.close);
    const { child, exited, output, started } = run({
      PORT: '0',
      DATABASE_FILE: ':memory:',
      SEED_PRODUCTS: '3',
      SEED_ORDERS: '0',
      HIWELINK_WEBHOOK_URL: receiver.url,
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
    });
    context.onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const [, url, webhooks, adminToken] = await started(
      /listening on (\S+)[\s\S]*\n {2}webhooks\s+(.*)\n {2}admin token\s+(\S+)/,
    );
    expect(webhooks).toMatch(
      /^on: .*, unsigned \(set HIWELINK_WEBHOOK_SECRET to sign them\); queued in memory /,
    );
    const created = await fetch(`${url}/admin/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Desk Lamp', regular_price: 25 }),
    });
    expect(created.status).toBe(201);
    for (let waited = 0; receiver.attempts() === 0 && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(receiver.attempts()).toBe(1);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(output().stderr).toContain('webhooks: 0 delivered, 0 given up, 1 not delivered, lost at exit:\n');
    expect(output().stderr).toMatch(
      /\n {2}product\.created id=4 \(webhook-id msg_[0-9a-f]{32}, 1 attempt\(s\)\)\n/,
    );
  });

  it.for<{ env: Record<string, string>; message: string }>([
    { env: { SEED_PRODUCTS: '-5' }, message: "SEED_PRODUCTS must be a non-negative integer, got '-5'" },
    { env: { HIWELINK_AUTH: 'jwt' }, message: "HIWELINK_JWT_SECRET is required when HIWELINK_AUTH is 'jwt'" },
    { env: { WEBHOOK_QUEUE: 'bullmq' }, message: "WEBHOOK_QUEUE must be one of memory, redis; got 'bullmq'" },
    {
      env: { HIWELINK_AUTH: 'oauth' },
      message: "HIWELINK_AUTH must be one of api-key, bearer, jwt, basic; got 'oauth'",
    },
    {
      env: { HIWELINK_WEBHOOK_URL: 'ftp://hiwelink.example', HIWELINK_STORE_TOKEN: STORE_TOKEN },
      message:
        "HIWELINK_WEBHOOK_URL must be an http(s) URL such as https://app.hiwelink.com, got 'ftp://hiwelink.example'",
    },
  ])('prints a bad setting without a stack trace and exits 1: $message', async ({ env, message }) => {
    const { exited, output } = run({ PORT: '0', DATABASE_FILE: ':memory:', ...env });
    const [code] = await exited;
    expect(code).toBe(1);
    expect(output().stderr).toContain(`Cannot start the demo store: ${message}`);
    expect(output().stderr).not.toMatch(/\n\s+at /);
    expect(output().stdout).not.toContain('listening');
  });
});
