// The durable emitter as the status page reads it (issue #16): counts, recent events, the hour's
// attempts and resend, all from Redis, so that every instance on a queue shows the same figures.
import { minuteOf, type WebhookActivity } from '@hiwelink/core';
import { createDurableWebhookEmitter } from '@hiwelink/webhooks-bullmq';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, durableEmitters, privateDurable, quiet } from './support/emitters.js';
import { type Behaviour, startReceiver } from './support/receiver.js';
import { freePort, privateRedis, redisServerAvailable } from './support/redis-server.js';
import { connectRedis } from './support/services.js';

const redis = await connectRedis();
afterAll(() => redis?.disconnect());
const defer = cleanupsAfterEach();
const queues = durableEmitters(redis, defer);
// Signed, so that each request carries its webhook-id header.
const SECRET = `whsec_${Buffer.from('a 32-byte webhook signing secret').toString('base64')}`;
const durable = {
  queueName: queues.queueName,
  emitter: (...[name, url, options]: Parameters<typeof queues.emitter>) =>
    queues.emitter(name, url, { secret: SECRET, ...options }),
};

const EMAIL = 'ada.lovelace@example.com';
const order = (id: string) => ({ id, customer_email: EMAIL, total_price: 12.5, currency: 'EUR' });

async function receiver(behaviour?: Behaviour) {
  const started = await startReceiver(behaviour);
  defer(started.close);
  return started;
}

/** Polls `read` until `check` passes on its value; the last value, or the last failure after 30 s. */
async function until<T>(read: () => Promise<T>, check: (value: T) => void): Promise<T> {
  let value: T | undefined;
  await vi.waitFor(
    async () => {
      value = await read();
      check(value);
    },
    { timeout: 30_000, interval: 25 },
  );
  return value as T;
}

const totals = (activity: WebhookActivity) =>
  activity.perMinute.reduce(
    (sum, minute) => ({ delivered: sum.delivered + minute.delivered, failed: sum.failed + minute.failed }),
    { delivered: 0, failed: 0 },
  );

/** Sixty minutes, oldest first, one after another, the last one the current minute. */
function expectLastHour(activity: WebhookActivity) {
  const first = activity.perMinute[0]?.minute ?? Number.NaN;
  expect(activity.perMinute.map((entry) => entry.minute)).toEqual(
    Array.from({ length: 60 }, (_, index) => first + index * 60_000),
  );
  // The current minute, or the one before when the minute turned since the read.
  expect([minuteOf(Date.now()), minuteOf(Date.now() - 60_000)]).toContain(first + 59 * 60_000);
}

describe('the activity of a durable emitter that is not configured', () => {
  it('reports nothing sent, finds nothing to resend, and refuses a bad limit', async () => {
    const off = createDurableWebhookEmitter({ logger: quiet }, {});
    const activity = await off.activity();
    expect(activity).toMatchObject({
      source: 'redis',
      enabled: false,
      counts: { queued: 0, inFlight: 0, delivered: 0, retrying: 0, givenUp: 0, dead: 0 },
      recent: [],
    });
    expectLastHour(activity);
    expect(await off.resend('msg_2x')).toBe('not_found');
    await expect(off.activity({ limit: 501 })).rejects.toThrow(
      'activity: limit must be a whole number from 0 to 500 (got 501)',
    );
    await expect(off.resend(7 as unknown as string)).rejects.toThrow(TypeError);
  });
});

describe.skipIf(!redis)('the activity of a durable emitter, read from Redis', () => {
  it('shows an event retrying after a 503 with its next attempt, then delivered with its latency', async () => {
    let healthy = false;
    const target = await receiver(() => ({ status: healthy ? 200 : 503 }));
    const emitter = durable.emitter(durable.queueName(), target.url, { retryDelaysMs: Array(20).fill(1000) });
    expect(await emitter.productUpdated({ id: 'p1', name: 'Lamp' })).toBe(true);

    const retrying = await until(
      () => emitter.activity(),
      (activity) => expect(activity.recent[0]?.state).toBe('retrying'),
    );
    const waiting = retrying.recent[0];
    expect(waiting).toMatchObject({
      event: 'product.updated',
      entity: 'p1',
      lastStatus: 503,
      lastReason: 'HTTP 503',
    });
    expect(waiting?.attempts).toBeGreaterThanOrEqual(1);
    expect(waiting?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(waiting?.nextAttemptAt).toBeGreaterThan(waiting?.updatedAt ?? Number.NaN);
    expect(retrying.counts).toMatchObject({ queued: 0, retrying: 1, delivered: 0, givenUp: 0, dead: 0 });
    expect(retrying.source).toBe('redis');

    healthy = true;
    const done = await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts.delivered).toBe(1),
    );
    const delivered = done.recent[0];
    expect(delivered).toMatchObject({ id: waiting?.id, state: 'delivered', lastStatus: 200 });
    expect(delivered?.attempts).toBe(target.attempts());
    expect(delivered?.attempts).toBeGreaterThanOrEqual(2);
    expect(delivered?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(delivered).not.toHaveProperty('lastReason');
    expect(delivered).not.toHaveProperty('nextAttemptAt');
    expect(done.counts).toMatchObject({ queued: 0, inFlight: 0, retrying: 0, delivered: 1 });
    expect(done.recent).toHaveLength(1);
    // Every attempt is in the hour's chart (each worker adds its counts once a second): the failed
    // ones and the one that got through.
    const charted = await until(
      () => emitter.activity(),
      (activity) => expect(totals(activity)).toEqual({ delivered: 1, failed: target.attempts() - 1 }),
    );
    expectLastHour(charted);
  }, 60_000);

  it('dead-letters a 400 with its reason, resends it with the same webhook-id, and never shows the data', async () => {
    const target = await receiver((_, index) => ({ status: index === 0 ? 400 : 200 }));
    const emitter = durable.emitter(durable.queueName(), target.url);
    expect(await emitter.orderCreated(order('o1'))).toBe(true);

    const dead = await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts.dead).toBe(1),
    );
    expect(dead.recent).toEqual([
      {
        id: target.received[0]?.headers['webhook-id'],
        event: 'order.created',
        entity: 'o1',
        state: 'dead',
        attempts: 1,
        lastStatus: 400,
        lastReason: 'HTTP 400',
        latencyMs: expect.any(Number),
        updatedAt: expect.any(Number),
      },
    ]);
    expect(dead.counts).toMatchObject({ givenUp: 1, dead: 1, retrying: 0, queued: 0 });
    await until(
      () => emitter.activity(),
      (activity) => expect(totals(activity)).toEqual({ delivered: 0, failed: 1 }),
    );
    // The receiver got the email; the page's figures never carry it.
    expect(target.received[0]?.body.data.customer_email).toBe(EMAIL);
    expect(JSON.stringify(dead)).not.toContain(EMAIL);

    const id = dead.recent[0]?.id as string;
    expect(await emitter.resend(id)).toBe('resent');
    await vi.waitFor(() => expect(target.delivered()).toHaveLength(1), { timeout: 30_000 });
    expect(target.delivered()[0]?.headers['webhook-id']).toBe(id);
    const after = await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts.delivered).toBe(1),
    );
    expect(after.counts).toMatchObject({ dead: 0, givenUp: 1 });
    expect(after.recent).toEqual([expect.objectContaining({ id, state: 'delivered', attempts: 1 })]);
    expect(JSON.stringify(after)).not.toContain(EMAIL);
    // Out of the dead-letter set: nothing left to resend.
    expect(await emitter.resend(id)).toBe('not_found');
    expect(await emitter.resend('msg_never_sent')).toBe('not_found');
    expect(await emitter.resend('')).toBe('not_found');
    expect(target.received).toHaveLength(2);
  }, 60_000);

  it('resends an event dead a second time, after replayDead(), under its webhook-id', async () => {
    const target = await receiver((_, index) => ({ status: index < 2 ? 422 : 200 }));
    const emitter = durable.emitter(durable.queueName(), target.url);
    await emitter.productUpdated({ id: 'p2', name: 'Desk' });
    await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts.dead).toBe(1),
    );
    expect(await emitter.replayDead()).toBe(1);
    const again = await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts.dead).toBe(1),
    );
    const id = target.received[0]?.headers['webhook-id'] as string;
    expect(again.recent).toEqual([expect.objectContaining({ id, state: 'dead', lastStatus: 422 })]);
    expect(await emitter.resend(id)).toBe('resent');
    await vi.waitFor(() => expect(target.delivered()).toHaveLength(1), { timeout: 30_000 });
    expect(target.received.map((entry) => entry.headers['webhook-id'])).toEqual([id, id, id]);
    expect(await emitter.resend(id)).toBe('not_found');
  }, 60_000);

  it('shows the same activity on every instance of a queue, with or without a worker', async () => {
    const target = await receiver((request) => ({ status: request.body.data.id === 'o-bad' ? 400 : 200 }));
    const name = durable.queueName();
    const producer = durable.emitter(name, target.url, { worker: false });
    await producer.orderCreated(order('o-good'));
    await producer.orderCreated(order('o-bad'));
    await producer.productCreated({ id: 'p3', name: 'Chair' });

    // Nothing delivers yet: queued, seen alike by the one that will deliver.
    const queued = await producer.activity();
    expect(queued.counts).toMatchObject({ queued: 3, inFlight: 0, retrying: 0, delivered: 0, dead: 0 });
    expect(queued.recent.map((entry) => entry.state)).toEqual(['queued', 'queued', 'queued']);
    expect(queued.recent.map((entry) => entry.attempts)).toEqual([0, 0, 0]);
    expect(JSON.stringify(queued)).not.toContain(EMAIL);

    const worker = durable.emitter(name, target.url);
    const settled = await until(
      () => worker.activity(),
      (activity) => {
        expect(activity.counts).toMatchObject({ queued: 0, delivered: 2, dead: 1 });
        expect(totals(activity)).toEqual({ delivered: 2, failed: 1 });
      },
    );
    expect(await producer.activity()).toEqual(settled);
    expect(settled.recent.map((entry) => [entry.entity, entry.state]).sort()).toEqual([
      ['o-bad', 'dead'],
      ['o-good', 'delivered'],
      ['p3', 'delivered'],
    ]);
    // The instance without a worker resends too, and the worker delivers it.
    const dead = settled.recent.find((entry) => entry.state === 'dead');
    expect(await producer.resend(dead?.id as string)).toBe('resent');
    await vi.waitFor(() => expect(target.received).toHaveLength(4), { timeout: 30_000 });
    expect(target.received[3]?.headers['webhook-id']).toBe(dead?.id);
  }, 60_000);

  it('adds a worker’s last attempts to the hour’s chart when it closes', async () => {
    const target = await receiver();
    const name = durable.queueName();
    const producer = durable.emitter(name, target.url, { worker: false });
    const worker = durable.emitter(name, target.url);
    await producer.productCreated({ id: 'p6', name: 'Shelf' });
    await vi.waitFor(() => expect(target.delivered()).toHaveLength(1), { timeout: 30_000 });
    await worker.close(5000);
    // Read at once: close() wrote the counts rather than leaving them to the next second's tally.
    expect(totals(await producer.activity())).toEqual({ delivered: 1, failed: 0 });
  }, 60_000);

  it('counts events parked behind their entity’s retrying event as queued, not retrying', async () => {
    const target = await receiver((_, index) => ({ status: index === 0 ? 503 : 200 }));
    const name = durable.queueName();
    // The first event waits a minute for its retry; the two behind it wait for their turn.
    const emitter = durable.emitter(name, target.url, { retryDelaysMs: [60_000] });
    for (const version of ['v1', 'v2', 'v3']) await emitter.productUpdated({ id: 'p4', name: version });
    const queue = new Queue(name, { connection: redis as NonNullable<typeof redis> });
    defer(() => queue.close());

    await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts.retrying).toBe(1),
    );
    // Parked: all three are in BullMQ's delayed set, one for its retry, two for their turn.
    await vi.waitFor(async () => expect(await queue.getDelayedCount()).toBe(3), { timeout: 30_000 });
    const parked = await until(
      () => emitter.activity(),
      (activity) => expect(activity.counts).toMatchObject({ queued: 2, inFlight: 0, retrying: 1 }),
    );
    expect(parked.recent.map((entry) => entry.state).sort()).toEqual(['queued', 'queued', 'retrying']);
    expect(parked.recent.find((entry) => entry.state === 'retrying')?.lastStatus).toBe(503);
    expect(target.received).toHaveLength(1);
  }, 60_000);

  it('caps recent at limit, newest first, and refuses a limit out of range', async () => {
    const target = await receiver();
    const emitter = durable.emitter(durable.queueName(), target.url, { worker: false });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await emitter.productUpdated({ id, name: id });
    const two = await emitter.activity({ limit: 2 });
    expect(two.counts.queued).toBe(5);
    expect(two.recent).toHaveLength(2);
    expect((two.recent[0]?.updatedAt ?? 0) >= (two.recent[1]?.updatedAt ?? 0)).toBe(true);
    expect((await emitter.activity({ limit: 0 })).recent).toEqual([]);
    expect((await emitter.activity()).recent).toHaveLength(5);
    for (const limit of [-1, 1.5, 501, Number.NaN, '10']) {
      await expect(emitter.activity({ limit: limit as number })).rejects.toThrow(
        /^activity: limit must be a whole number from 0 to 500/,
      );
    }
    await expect(emitter.activity({ timeoutMs: -1 })).rejects.toThrow(/^activity: the timeout must be/);
  });
});

const available = redisServerAvailable();

describe.skipIf(!available)('the activity of a durable emitter whose Redis fails', () => {
  const make = privateDurable(defer, 'hiwelink-activity-outage');

  /** A private Redis and an emitter on it, both ended at cleanup. */
  async function onPrivateRedis() {
    const server = privateRedis(await freePort());
    defer(() => server.kill());
    await server.start();
    const target = await receiver();
    const emitter = make(server.url, target.url);
    expect(await emitter.productUpdated({ id: 'p5', name: 'Rug' })).toBe(true);
    await vi.waitFor(() => expect(target.delivered()).toHaveLength(1), { timeout: 30_000 });
    expect((await emitter.activity()).counts.delivered).toBe(1);
    return { server, emitter };
  }

  it('rejects within its budget, naming Redis, when Redis is down', async () => {
    const { server, emitter } = await onPrivateRedis();
    await server.kill();
    const started = Date.now();
    // Refused by the client once it gave up reconnecting for it, or not answered in time.
    await expect(emitter.activity({ timeoutMs: 1000 })).rejects.toThrow(
      /^(activity: Redis is not reachable \(queue hiwelink-activity-outage, connection \w+\)|Redis did not answer within 1000 ms)/,
    );
    // ioredis's own words ("max retries per request") say nothing to a store developer.
    await expect(emitter.activity({ timeoutMs: 1000 })).rejects.not.toThrow(/maxRetriesPerRequest/);
    // Generous, for a shared machine: what matters is that it ends rather than waits for Redis.
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('rejects with the timeout when Redis hangs', async () => {
    const { server, emitter } = await onPrivateRedis();
    server.pause();
    await expect(emitter.activity({ timeoutMs: 500 })).rejects.toThrow(
      'Redis did not answer within 500 ms (queue hiwelink-activity-outage)',
    );
    server.resume();
    expect((await emitter.activity()).counts.delivered).toBe(1);
  }, 30_000);
});
