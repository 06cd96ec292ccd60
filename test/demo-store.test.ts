import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStore, type Order, type Product, readConfig } from '../examples/express-sqlite/dist/app.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const PER_PAGE = 50;

interface Meta {
  current_page: number;
  per_page: number;
  total: number;
  last_page: number;
}

type Cleanup = (fn: () => void | Promise<void>) => void;

/** A store on an in-memory database, listening on a free port of 127.0.0.1 until the test ends. */
async function startStore(env: Record<string, string>, onTestFinished: Cleanup) {
  const store = createStore(readConfig({ DATABASE_FILE: ':memory:', ...env }));
  const server = createServer(store.app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    store.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const get = (path: string, headers: Record<string, string> = { 'X-API-Key': store.apiKey }) =>
    fetch(`${base}${path}`, { headers });

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

const range = (count: number) => Array.from({ length: count }, (_, index) => String(index + 1));
const byNumber = (a: string, b: string) => Number(a) - Number(b);
const idsOf = (records: readonly { id: string }[]) => records.map((record) => record.id);
const hasCents = (amount: number) => Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-9;

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
      { SEED_PRODUCTS: '5', SEED_ORDERS: '0', HIWELINK_API_KEY: 'my-own-key' },
      context.onTestFinished,
    );
    expect((await get('/api/products', { 'X-API-Key': 'my-own-key' })).status).toBe(200);
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

    const created = await admin('POST', '/admin/orders', {
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
    });
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

describe('demo store: configuration', () => {
  it('has the documented defaults', () => {
    expect(readConfig({})).toEqual({
      port: 3000,
      auth: 'api-key',
      apiKey: undefined,
      adminToken: undefined,
      seedProducts: 250,
      seedOrders: 1200,
      databaseFile: './data/store.db',
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

  it.each(['bearer', 'jwt', 'basic', 'API-KEY', 'oauth'])('rejects HIWELINK_AUTH = %j', (value) => {
    expect(() => readConfig({ HIWELINK_AUTH: value })).toThrow(
      /^HIWELINK_AUTH: .*only 'api-key' is supported so far/,
    );
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
      expect(first.apiKey).toMatch(/^sk_live_[0-9a-f]{64}$/);
      expect(first.adminToken).toMatch(/^adm_[0-9a-f]{64}$/);
      expect(first.repository.deleteProduct('1')).toBe(true);
      first.close();

      const second = createStore(readConfig({ ...env, SEED_PRODUCTS: '99' }));
      expect(second.apiKey).toBe(first.apiKey);
      expect(second.adminToken).toBe(first.adminToken);
      expect(second.repository.listProducts({ perPage: 100, offset: 0 }).total).toBe(9);
      second.close();

      const third = createStore(readConfig({ ...env, HIWELINK_API_KEY: 'chosen-key' }));
      expect(third.apiKey).toBe('chosen-key');
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

describe('demo store: main.js', () => {
  /** Runs the built entry point with a clean environment plus `env`. */
  function run(env: Record<string, string>) {
    const { HIWELINK_API_KEY, ADMIN_TOKEN, HIWELINK_AUTH, PORT, ...inherited } = process.env;
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
    return { child, exited, output: () => ({ stdout, stderr }) };
  }

  it('listens on PORT=0, prints the URL and key, serves /health, and stops on SIGTERM', async (context) => {
    const { child, exited, output } = run({
      PORT: '0',
      DATABASE_FILE: ':memory:',
      SEED_PRODUCTS: '20',
      SEED_ORDERS: '10',
    });
    context.onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const started = /listening on (http:\/\/127\.0\.0\.1:(\d+))[\s\S]*API key\s+(\S+)/;
    let match: RegExpExecArray | null = null;
    for (let waited = 0; !match && waited < 10_000; waited += 50) {
      if (child.exitCode !== null) throw new Error(`main.js exited early: ${output().stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      match = started.exec(output().stdout);
    }
    expect(match, output().stdout + output().stderr).not.toBeNull();
    const [, url, port, key] = match as RegExpExecArray;
    expect(Number(port)).toBeGreaterThan(0);
    expect(key).toMatch(/^sk_live_[0-9a-f]{64}$/);
    expect(output().stdout).toContain(`curl -H 'X-API-Key: ${key}' '${url}/api/products`);

    const health = await fetch(`${url}/health`, { headers: { 'X-API-Key': key as string } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    expect((await fetch(`${url}/health`)).status).toBe(401);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('prints a bad setting without a stack trace and exits 1', async () => {
    const { exited, output } = run({ PORT: '0', DATABASE_FILE: ':memory:', SEED_PRODUCTS: '-5' });
    const [code] = await exited;
    expect(code).toBe(1);
    expect(output().stderr).toContain("SEED_PRODUCTS must be a non-negative integer, got '-5'");
    expect(output().stderr).not.toMatch(/\n\s+at /);
    expect(output().stdout).not.toContain('listening');
  });
});
