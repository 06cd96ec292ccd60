import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DeliveryFailure, verifyWebhook } from '@hiwelink/core';
import { createDurableWebhookEmitter, type DurableWebhookEmitterOptions } from '@hiwelink/webhooks-bullmq';
import { Queue } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Behaviour, type Received, startReceiver } from './support/receiver.js';
import { connectRedis } from './support/services.js';

const redis = await connectRedis();
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = '88bedac0-a8da-4700-8d07-5dbbf4fdfd6d';
const SECRET = `whsec_${Buffer.from('a 32-byte webhook signing secret').toString('base64')}`;
const CHILD = fileURLToPath(new URL('./support/webhooks-bullmq-child.mjs', import.meta.url));
const quiet = { warn() {}, error() {} };

/** Run after each test, last registered first: emitters and children close before their keys go. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => redis?.disconnect());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A queue name of its own, whose keys (the dead-letter queue's too) are deleted after the test. */
function queueName() {
  const name = `hiwelink-test-${randomUUID()}`;
  cleanups.push(async () => {
    const keys: string[] = [];
    for await (const batch of (redis as NonNullable<typeof redis>).scanStream({ match: `bull:${name}*` }))
      keys.push(...(batch as string[]));
    if (keys.length > 0) await redis?.del(...keys);
  });
  return name;
}

async function receiver(behaviour?: Behaviour) {
  const started = await startReceiver(behaviour);
  cleanups.push(started.close);
  return started;
}

function emitter(name: string, url: string, options: Partial<DurableWebhookEmitterOptions> = {}) {
  const created = createDurableWebhookEmitter(
    {
      url,
      storeToken: TOKEN,
      secret: SECRET,
      connection: REDIS_URL,
      queueName: name,
      retryDelaysMs: [50, 50, 50],
      jitter: 0,
      lockDurationMs: 1000,
      mapping: { products: { passthrough: ['seq'] } },
      logger: quiet,
      ...options,
    },
    {},
  );
  cleanups.push(() => created.close(5000));
  return created;
}

interface ChildConfig {
  name: string;
  url: string;
  queueName: string;
  concurrency: number;
  retryDelaysMs: number[];
  timeoutMs: number;
  lockDurationMs: number;
  events?: { id: string; name: string; seq: number }[];
}

/** Starts test/support/webhooks-bullmq-child.mjs: the built package in a process of its own. */
function child(config: ChildConfig) {
  const process_ = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      HIWELINK_CHILD: JSON.stringify({ storeToken: TOKEN, secret: SECRET, connection: REDIS_URL, ...config }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(process_, 'exit');
  const ready = new Promise<{ emitted: number }>((resolve, reject) => {
    createInterface({ input: process_.stdout }).once('line', (line) => resolve(JSON.parse(line)));
    process_.once('exit', (code, signal) => reject(new Error(`${config.name} exited (${code ?? signal})`)));
  });
  ready.catch(() => {});
  cleanups.push(async () => {
    if (process_.exitCode === null && process_.signalCode === null) {
      process_.kill('SIGKILL');
      await exited;
    }
  });
  return { process: process_, ready, exited };
}

const data = (entry: Received) => entry.body.data as { id: string; name?: string; seq?: number };
const webhookId = (entry: Received) => entry.headers['webhook-id'] as string;

/** The first 2xx of each webhook-id, in arrival order: what a receiver that dedupes would process. */
function firstDeliveries(entries: Received[]) {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    if ((entry.status ?? 500) >= 300 || seen.has(webhookId(entry))) return false;
    seen.add(webhookId(entry));
    return true;
  });
}

describe('durable webhooks without Redis or configuration', () => {
  it('resolves false and logs, never rejects, when Redis is down, after close() or when not configured', async () => {
    const errors: string[] = [];
    const down = createDurableWebhookEmitter(
      {
        url: 'http://127.0.0.1:9',
        storeToken: TOKEN,
        connection: 'redis://127.0.0.1:1',
        queueName: 'nowhere',
        logger: { warn() {}, error: (_details, message) => errors.push(message) },
      },
      {},
    );
    await expect(down.productUpdated({ id: 1, name: 'Mug' })).resolves.toBe(false);
    // Not in Redis, so false; held in memory meanwhile (test/regressions/webhook-redis-outage.test.ts).
    expect(down.held().map((event) => event.data.id)).toEqual(['1']);
    await expect(down.stats(300)).rejects.toThrow('Redis did not answer within 300 ms (queue nowhere)');
    expect((await down.close(1000)).held.map((event) => event.data.id)).toEqual(['1']);
    expect(errors).toContain('1 webhook(s) held in memory were not stored in Redis before close()');
    await expect(down.orderCreated({ id: 2 })).resolves.toBe(false);
    expect(errors.at(-1)).toBe('webhook order.created emitted after close(): not sent');

    const off = createDurableWebhookEmitter({ logger: quiet }, {});
    expect(off.enabled).toBe(false);
    await expect(off.orderCreated({ id: 1 })).resolves.toBe(false);
    await off.close();
  });
});

describe.skipIf(!redis)('durable webhooks on BullMQ and Redis', () => {
  it('has each event in Redis when its method resolves, then delivers it signed', async () => {
    const name = queueName();
    const target = await receiver();
    const producer = emitter(name, target.url, { worker: false, storeBaseUrl: 'https://shop.test' });
    const queue = new Queue(name, { connection: redis as NonNullable<typeof redis> });
    cleanups.push(() => queue.close());
    const inRedis = () => queue.getJobCountByTypes('waiting', 'prioritized', 'delayed');

    expect(
      await producer.productCreated({ product_id: 7, title: 'Mug', availability: 'instock', handle: 'mug' }),
    ).toBe(true);
    expect(await inRedis()).toBe(1);
    expect(await producer.productDeleted({ id: 8, title: 'Old' })).toBe(true);
    expect(await inRedis()).toBe(2);
    expect(await producer.orderUpdated({ order_id: 'o-1', grand_total: 'USD 20.00' })).toBe(true);
    expect(await inRedis()).toBe(3);
    expect(await producer.requestSync()).toBe(true);
    expect(await inRedis()).toBe(4);
    expect(await producer.productUpdated({ title: 'no id' })).toBe(false);
    expect(await inRedis()).toBe(4);
    expect(await producer.stats()).toEqual({ queued: 4, active: 0, delivered: 0, failed: 0, dead: 0 });
    expect(target.attempts()).toBe(0);

    // Another instance on the same queue delivers them.
    const worker = emitter(name, target.url);
    await until('4 deliveries', () => target.delivered().length === 4);
    const byEvent = Object.fromEntries(target.delivered().map((entry) => [entry.body.event, entry]));
    expect(byEvent['product.created']?.path).toBe(`/api/generic-api/webhooks/${TOKEN}/products`);
    expect(byEvent['product.created']?.body.data).toEqual({
      id: '7',
      name: 'Mug',
      stock_status: 'in_stock',
      slug: 'mug',
      permalink: 'https://shop.test/product/mug',
    });
    expect(byEvent['product.deleted']?.body.data).toEqual({ id: '8' });
    expect(byEvent['order.updated']?.path).toBe(`/api/generic-api/webhooks/${TOKEN}/orders`);
    expect(byEvent['order.updated']?.body.data).toEqual({ id: 'o-1', total: 20 });
    expect(byEvent['sync.requested']?.path).toBe(`/api/generic-api/webhooks/${TOKEN}/sync`);
    for (const entry of target.delivered()) {
      expect(verifyWebhook(entry.raw, entry.headers, SECRET)).toEqual({
        ok: true,
        scheme: 'standard-webhooks',
      });
      expect(new Webhook(SECRET).verify(entry.raw, entry.headers as Record<string, string>)).toEqual(
        entry.body,
      );
      expect(webhookId(entry)).toMatch(/^msg_[0-9a-f]{32}$/);
    }
    expect(new Set(target.delivered().map(webhookId)).size).toBe(4);
    await until('the completions', async () => (await producer.stats()).delivered === 4);
    const settled = { queued: 0, active: 0, delivered: 4, failed: 0, dead: 0 };
    expect(await producer.stats()).toEqual(settled);
    expect(await worker.stats()).toEqual(settled);
  });

  it('retries 5xx, dead-letters a 400 at once and the last retry, and replays them with their webhook-id', async () => {
    const name = queueName();
    let rejecting = true;
    const seen = new Map<string, number>();
    const target = await receiver((request) => {
      const { id, name: label } = request.body.data as { id: string; name: string };
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      if (id === '1') return { status: count <= 2 ? 500 : 200 };
      if (id === '2' && label === 'bad') return { status: rejecting ? 400 : 200 };
      if (id === '3') return { status: rejecting ? 503 : 200 };
      if (id === '4' && count === 1) return { status: 429, headers: { 'retry-after': '1' } };
      return { status: 200 };
    });
    const failures: DeliveryFailure[] = [];
    const webhooks = emitter(name, target.url, {
      retryDelaysMs: [20, 20],
      onFailure: (failure) => failures.push(failure),
    });
    for (const product of [
      { id: 1, name: 'flaky' },
      { id: 2, name: 'bad' },
      { id: 2, name: 'good' },
      { id: 3, name: 'down' },
      { id: 4, name: 'limited' },
    ]) {
      expect(await webhooks.productUpdated(product)).toBe(true);
    }
    await until('2 dead, 3 delivered', async () => {
      const stats = await webhooks.stats();
      return stats.dead === 2 && stats.delivered === 3;
    });
    const of = (id: string, label?: string) =>
      target.received.filter((entry) => data(entry).id === id && (!label || data(entry).name === label));
    expect(of('1').map((entry) => entry.status)).toEqual([500, 500, 200]);
    expect(new Set(of('1').map(webhookId)).size).toBe(1);
    // The 400 is final at once, and the entity's next event goes after it.
    expect(of('2').map((entry) => [data(entry).name, entry.status])).toEqual([
      ['bad', 400],
      ['good', 200],
    ]);
    expect(of('3').map((entry) => entry.status)).toEqual([503, 503, 503]);
    const [limited, accepted] = of('4');
    // A lower bound only: a slow machine can make it later, never earlier.
    expect((accepted?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(failures).toEqual([
      expect.objectContaining({
        event: 'product.updated',
        data: { id: '2', name: 'bad' },
        attempts: 1,
        status: 400,
        reason: 'HTTP 400',
      }),
      expect.objectContaining({
        data: { id: '3', name: 'down' },
        attempts: 3,
        reason: 'HTTP 503 after 3 attempts',
      }),
    ]);
    expect(failures[0]?.id).toBe(webhookId(of('2', 'bad')[0] as Received));
    expect(await webhooks.stats()).toEqual({ queued: 0, active: 0, delivered: 3, failed: 2, dead: 2 });

    rejecting = false;
    expect(await webhooks.replayDead()).toBe(2);
    await until('the replays', () => of('2', 'bad').length === 2 && of('3').length === 4);
    expect(of('2', 'bad').map((entry) => entry.status)).toEqual([400, 200]);
    expect(new Set(of('2', 'bad').map(webhookId)).size).toBe(1);
    expect(of('3').at(-1)?.status).toBe(200);
    expect(new Set(of('3').map(webhookId)).size).toBe(1);
    await until('the completions', async () => (await webhooks.stats()).delivered === 5);
    expect(await webhooks.stats()).toEqual({ queued: 0, active: 0, delivered: 5, failed: 2, dead: 0 });
    expect(await webhooks.replayDead()).toBe(0);
    expect(failures).toHaveLength(2);
  });

  it('redelivers what a SIGKILLed worker process had queued and in flight, with the same webhook-ids', async () => {
    const started = Date.now();
    const name = queueName();
    let up = false;
    const hung: { id: string; seq: number; webhookId: string }[] = [];
    const target = await receiver((request) => {
      if (up) return { status: 200 };
      const { id, seq } = request.body.data as { id: string; seq: number };
      hung.push({ id, seq, webhookId: request.headers['webhook-id'] as string });
      return 'hang';
    });
    const entities = ['a', 'b', 'c', 'd', 'e'];
    const events = [1, 2, 3, 4].flatMap((seq) => entities.map((id) => ({ id, name: `${id}${seq}`, seq })));
    const doomed = child({
      name: 'doomed',
      url: target.url,
      queueName: name,
      concurrency: 3,
      retryDelaysMs: [50],
      timeoutMs: 120_000,
      lockDurationMs: 1000,
      events,
    });
    expect((await doomed.ready).emitted).toBe(20);
    const observer = emitter(name, target.url, { worker: false });
    // Its three delivery slots hang; the other 17 events wait in Redis.
    await until('3 deliveries in flight', () => hung.length === 3);
    expect(await observer.stats()).toMatchObject({ queued: 17, active: 3, delivered: 0 });

    doomed.process.kill('SIGKILL');
    await doomed.exited;
    up = true;
    const killedAt = Date.now();
    emitter(name, target.url, { concurrency: 3 });
    await until('every event delivered', () => firstDeliveries(target.received).length === 20, 60_000);
    const recoveredMs = Date.now() - killedAt;

    const delivered = firstDeliveries(target.received);
    expect(delivered.map((entry) => data(entry).name).sort()).toEqual(
      events.map((event) => event.name).sort(),
    );
    // The three hung in flight came back with the webhook-id of their first attempt.
    expect(hung.map((attempt) => attempt.seq)).toEqual([1, 1, 1]);
    for (const attempt of hung) {
      const again = delivered.find(
        (entry) => data(entry).id === attempt.id && data(entry).seq === attempt.seq,
      );
      expect(again && webhookId(again)).toBe(attempt.webhookId);
    }
    for (const id of entities) {
      expect(delivered.filter((entry) => data(entry).id === id).map((entry) => data(entry).seq)).toEqual([
        1, 2, 3, 4,
      ]);
    }
    await until('the completions', async () => (await observer.stats()).delivered === 20);
    expect(await observer.stats()).toEqual({ queued: 0, active: 0, delivered: 20, failed: 0, dead: 0 });
    console.info(
      `SIGKILL test: all delivered ${recoveredMs} ms after the kill, ${Date.now() - started} ms in all`,
    );
  }, 90_000);

  it('keeps each entity’s order with two worker processes on one queue', async () => {
    const name = queueName();
    let seed = 11;
    const flaky = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 10 < 2;
    };
    const target = await receiver(() => (flaky() ? { status: 500 } : { status: 200 }));
    const workers = ['w1', 'w2'].map((worker) =>
      child({
        name: worker,
        url: target.url,
        queueName: name,
        concurrency: 4,
        retryDelaysMs: Array(30).fill(20),
        timeoutMs: 5000,
        lockDurationMs: 5000,
      }),
    );
    await Promise.all(workers.map((worker) => worker.ready));
    const producer = emitter(name, target.url, { worker: false });
    const entities = ['a', 'b', 'c', 'd', 'e', 'f'];
    const bursts = 5;
    const perBurst = 3;
    for (let burst = 0; burst < bursts; burst++) {
      const calls: Promise<boolean>[] = [];
      for (let step = 1; step <= perBurst; step++) {
        const seq = burst * perBurst + step;
        for (const id of entities) calls.push(producer.productUpdated({ id, name: `${id}${seq}`, seq }));
      }
      expect(await Promise.all(calls)).toEqual(calls.map(() => true));
      await sleep(30);
    }
    const total = entities.length * bursts * perBurst;
    await until(`${total} deliveries`, () => firstDeliveries(target.received).length === total, 60_000);

    const delivered = firstDeliveries(target.received);
    const expected = Array.from({ length: bursts * perBurst }, (_, index) => index + 1);
    for (const id of entities) {
      expect(delivered.filter((entry) => data(entry).id === id).map((entry) => data(entry).seq)).toEqual(
        expected,
      );
      // Stronger: no event was even attempted before the one ahead of it had been delivered.
      const attempted = target.received
        .filter((entry) => data(entry).id === id)
        .map((entry) => data(entry).seq);
      expect(attempted).toEqual([...attempted].sort((a, b) => (a ?? 0) - (b ?? 0)));
    }
    const senders = new Set(target.received.map((entry) => entry.headers['x-test-worker']));
    expect(senders).toEqual(new Set(['w1', 'w2']));
    expect(target.received.some((entry) => entry.status === 500)).toBe(true);
    await until('the completions', async () => (await producer.stats()).delivered === total);
    expect(await producer.stats()).toEqual({ queued: 0, active: 0, delivered: total, failed: 0, dead: 0 });
  }, 90_000);
});
