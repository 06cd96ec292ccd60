import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { verifyWebhook } from '@hiwelink/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, type Product, readConfig, STATUS_PATH } from '../examples/express-sqlite/dist/app.js';
import { serveStore } from './support/demo-in-process.js';
import { cleanupsAfterEach, durableEmitters } from './support/emitters.js';
import { startReceiver } from './support/receiver.js';
import { freePort } from './support/redis-server.js';
import { connectRedis } from './support/services.js';
import { demoStore, listening, STACK_LINE } from './support/stores.js';

/*
 * The demo store with WEBHOOK_QUEUE=redis: its webhooks wait in Redis (the durable emitter) and
 * reach a real receiver; main.js says so in its banner, stops when Redis does not answer, and
 * leaves queued events in Redis at exit. Each test has a queue of its own, its keys deleted after.
 */

const redis = await connectRedis();
afterAll(() => redis?.quit());
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STORE_TOKEN = 'b0c7e0f2-5d41-4f0e-9a57-demo-redis-test';
const WEBHOOK_SECRET = `whsec_${Buffer.from('the demo store on a redis queue!').toString('base64')}`;
const ADMIN_TOKEN = 'adm_demo_store_redis_test_0001';
const STATUS_TOKEN = 'hws_demo_store_redis_test_0001';

describe.skipIf(!redis)('demo store: WEBHOOK_QUEUE=redis', () => {
  const CLI = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
  const defer = cleanupsAfterEach();
  const queues = durableEmitters(redis, defer);

  it('queues each admin change in Redis, which a real receiver gets signed; the status page reads Redis', async () => {
    const receiver = await startReceiver();
    defer(receiver.close);
    const queueName = queues.queueName();
    const store = createStore(
      readConfig({
        DATABASE_FILE: ':memory:',
        SEED_PRODUCTS: '3',
        SEED_ORDERS: '0',
        ADMIN_TOKEN,
        STATUS_TOKEN,
        HIWELINK_WEBHOOK_URL: receiver.url,
        HIWELINK_STORE_TOKEN: STORE_TOKEN,
        HIWELINK_WEBHOOK_SECRET: WEBHOOK_SECRET,
        WEBHOOK_QUEUE: 'redis',
        REDIS_URL,
        HIWELINK_QUEUE: queueName,
      }),
    );
    if (store.queue !== 'redis') throw new Error(`WEBHOOK_QUEUE=redis built a ${store.queue} store`);
    const base = await serveStore(store, defer);

    const created = await fetch(`${base}/admin/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Desk Lamp', regular_price: 25 }),
    });
    expect(created.status).toBe(201);
    const product = (await created.json()) as Product;
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    const [delivery] = receiver.received;
    expect(delivery?.path).toBe(`/api/generic-api/webhooks/${STORE_TOKEN}/products`);
    expect(delivery?.body).toMatchObject({ event: 'product.created', data: product });
    const [raw, headers] = [delivery?.raw ?? '', delivery?.headers ?? {}];
    expect(verifyWebhook(raw, headers, WEBHOOK_SECRET)).toMatchObject({ ok: true });
    // It went through Redis: the queue's own counts say so, as any instance on it would see them.
    await expect.poll(async () => (await store.webhooks.stats()).delivered, { timeout: 10_000 }).toBe(1);

    const page = await fetch(`${base}${STATUS_PATH}`, {
      headers: { authorization: `Bearer ${STATUS_TOKEN}`, accept: 'application/json' },
    });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { webhooks: unknown }).webhooks).toMatchObject({
      connected: true,
      enabled: true,
      source: 'redis',
    });
    // And hiwelink status, as a developer runs it against this store, reads the same from Redis.
    const cli = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'status', `${base}${STATUS_PATH}`, '--token', STATUS_TOKEN],
        { timeout: 30_000 },
        (error, stdout) => resolve({ code: error ? 1 : 0, stdout }),
      );
    });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('Webhooks (from Redis: every instance on the queue)');
    expect(cli.stdout).toMatch(/product\.created\s+\S+\s+delivered\s+1\s+200\b/);

    // Nothing was held in memory, so nothing is lost; the database closes.
    expect(await store.shutdown(5_000)).toEqual({ held: [] });
    expect(store.db.open).toBe(false);
  }, 30_000);

  it('main.js names the queue in its banner, delivers through it, and leaves Redis holding the rest at exit', async () => {
    const receiver = await startReceiver();
    defer(receiver.close);
    const queueName = queues.queueName();
    const child = demoStore.launch({
      HIWELINK_WEBHOOK_URL: receiver.url,
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
      WEBHOOK_QUEUE: 'redis',
      REDIS_URL,
      HIWELINK_QUEUE: queueName,
    });
    defer(child.stop);
    const url = await listening(child);
    await expect.poll(() => child.stdout(), { timeout: 10_000 }).toMatch(/\n {2}curl /);
    const line = /\n {2}webhooks\s+(.*)\n/.exec(child.stdout())?.[1];
    expect(line).toMatch(
      new RegExp(
        `^on: admin changes go to .*, unsigned \\(set HIWELINK_WEBHOOK_SECRET to sign them\\); queued in Redis ${REDIS_URL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/? as '${queueName}'$`,
      ),
    );

    const created = await fetch(`${url}/admin/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demoStore.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Kettle', regular_price: 30 }),
    });
    expect(created.status).toBe(201);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    expect(receiver.received[0]?.body).toMatchObject({ event: 'product.created', data: { name: 'Kettle' } });

    child.child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stdout()).toContain('webhooks: queued events stay in Redis for the next start\n');
    expect(child.stderr()).not.toMatch(STACK_LINE);
  }, 30_000);
});

// No Redis needed: these run on a port nothing listens on.
describe('demo store: WEBHOOK_QUEUE=redis without a Redis', () => {
  const defer = cleanupsAfterEach();

  it('main.js stops, naming REDIS_URL, when Redis does not answer', async () => {
    const child = demoStore.launch({
      HIWELINK_WEBHOOK_URL: 'http://127.0.0.1:9',
      HIWELINK_STORE_TOKEN: STORE_TOKEN,
      WEBHOOK_QUEUE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    defer(child.stop);
    expect(await child.refusal(20_000)).toBe(1);
    expect(child.stderr()).toMatch(
      /\nCannot start the demo store: Redis did not answer within 5000 ms \(queue hiwelink-webhooks\); check REDIS_URL /,
    );
    // Why, as the emitter logs it, without a stack trace.
    expect(child.stderr()).toMatch(/^\[webhooks\] webhook queue: connect ECONNREFUSED 127\.0\.0\.1:\d+ /);
    expect(child.stderr()).not.toMatch(STACK_LINE);
    expect(child.stdout()).not.toContain('listening');
  }, 30_000);

  it('main.js with WEBHOOK_QUEUE=redis and webhooks off starts without Redis and says the queue is idle', async () => {
    const child = demoStore.launch({
      WEBHOOK_QUEUE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    defer(child.stop);
    await listening(child);
    await expect.poll(() => child.stdout(), { timeout: 10_000 }).toMatch(/\n {2}curl /);
    expect(child.stdout()).toMatch(
      /\n {2}webhooks\s+off \(.*\); WEBHOOK_QUEUE=redis has nothing to queue until then\n/,
    );
  }, 30_000);
});
