import {
  createWebhookEmitter,
  FINISHED_KEPT,
  GIVEN_UP_KEPT,
  minuteOf,
  RECENT_DEFAULT,
  type WebhookActivity,
  type WebhookEmitterOptions,
  type WebhookInspector,
} from '@hiwelink/core';
import { describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, memoryEmitter, quiet } from './support/emitters.js';
import type { Answer, Behaviour } from './support/receiver.js';

const SECRET = `whsec_${Buffer.from('a 32-byte webhook signing secret').toString('base64')}`;
const defer = cleanupsAfterEach();

/** A retry a test never waits for: only close() (which makes retries due at once) brings it on. */
const LONG_WAIT = 60_000;

const setup = (behaviour?: Behaviour, options: Partial<WebhookEmitterOptions> = {}) =>
  memoryEmitter(defer, behaviour, { secret: SECRET, retryDelaysMs: [LONG_WAIT], ...options });

/** A 200 whose body ends `ms` after the status line: an attempt that takes at least that long. */
const slowOk = (ms: number): Answer => ({
  status: 200,
  body: (response) => {
    setTimeout(() => response.end('{"success":true}'), ms);
  },
});

/** An emitter's activity before anything happened: no counts, no records, 60 empty minutes. */
function expectNothingYet(activity: WebhookActivity, enabled: boolean) {
  expect(activity).toMatchObject({
    source: 'memory',
    enabled,
    counts: { queued: 0, inFlight: 0, retrying: 0, delivered: 0, givenUp: 0 },
    recent: [],
  });
  expect(activity.perMinute).toHaveLength(60);
  expect(activity.perMinute.every((minute) => minute.delivered === 0 && minute.failed === 0)).toBe(true);
}

const product = (id: number) => ({ id, title: `Mug ${id}`, list_price: '$12.50' });

describe('the in-memory emitter’s activity', () => {
  it('is a WebhookInspector: source memory, enabled, empty at start with 60 empty minutes', async () => {
    const { emitter } = await setup();
    const inspector: WebhookInspector = emitter;
    const before = Date.now();
    const activity = await inspector.activity();
    expectNothingYet(activity, true);
    const minutes = activity.perMinute.map((minute) => minute.minute);
    expect(minutes.slice(1).every((minute, index) => minute - (minutes[index] as number) === 60_000)).toBe(
      true,
    );
    expect([minuteOf(before), minuteOf(Date.now())]).toContain(minutes[59]);
  });

  it('a 503 then a 200: retrying with the status and the next attempt time, then delivered with its latency', async () => {
    const { receiver, emitter } = await setup((_, index) => (index === 0 ? { status: 503 } : slowOk(80)));
    emitter.productUpdated(product(1));
    await vi.waitFor(async () => expect((await emitter.activity()).counts.retrying).toBe(1), {
      timeout: 10_000,
    });
    const retrying = await emitter.activity();
    const [record] = retrying.recent;
    expect(retrying.recent).toHaveLength(1);
    expect(record).toMatchObject({
      id: receiver.received[0]?.headers['webhook-id'],
      event: 'product.updated',
      entity: '1',
      state: 'retrying',
      attempts: 1,
      lastStatus: 503,
      lastReason: 'HTTP 503',
    });
    // No jitter: the next attempt is the schedule's wait after the attempt ended.
    expect(record?.nextAttemptAt).toBeGreaterThanOrEqual((record?.updatedAt as number) + LONG_WAIT);
    expect(record?.nextAttemptAt).toBeLessThan((record?.updatedAt as number) + LONG_WAIT + 1000);
    expect(record?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(retrying.counts).toMatchObject({ queued: 0, inFlight: 0, retrying: 1, delivered: 0, givenUp: 0 });

    // close() makes the waiting retry due at once.
    const report = await emitter.close(10_000);
    expect(report.undelivered).toEqual([]);
    const done = await emitter.activity();
    expect(done.counts).toMatchObject({ queued: 0, inFlight: 0, retrying: 0, delivered: 1, givenUp: 0 });
    expect(done.recent).toHaveLength(1);
    expect(done.recent[0]).toMatchObject({
      id: record?.id,
      state: 'delivered',
      attempts: 2,
      lastStatus: 200,
    });
    expect(done.recent[0]?.lastReason).toBeUndefined();
    expect(done.recent[0]?.nextAttemptAt).toBeUndefined();
    // The receiver held its answer's body 80 ms: the attempt cannot have taken less (70 allows for rounding).
    expect(done.recent[0]?.latencyMs).toBeGreaterThanOrEqual(70);
    expect(done.recent[0]?.updatedAt).toBeGreaterThan(record?.updatedAt as number);
  });

  it('shows an attempt in flight and the same entity’s next event queued behind it', async () => {
    const { emitter } = await setup(() => 'hang', { concurrency: 1 });
    emitter.productUpdated(product(1));
    emitter.productDeleted(1);
    await vi.waitFor(async () => expect((await emitter.activity()).counts.inFlight).toBe(1), {
      timeout: 10_000,
    });
    const { counts, recent } = await emitter.activity();
    expect(counts).toMatchObject({ queued: 1, inFlight: 1, retrying: 0 });
    expect(recent.map(({ event, state, attempts }) => ({ event, state, attempts }))).toEqual([
      // The first was taken for its attempt at once, before the second was queued.
      { event: 'product.deleted', state: 'queued', attempts: 0 },
      { event: 'product.updated', state: 'in_flight', attempts: 1 },
    ]);

    // Left at close(): given up, nothing live any more.
    await emitter.close(100);
    const closed = await emitter.activity();
    expect(closed.counts).toMatchObject({ queued: 0, inFlight: 0, retrying: 0, givenUp: 2 });
    expect(closed.recent.map(({ state, lastReason }) => ({ state, lastReason }))).toEqual([
      { state: 'given_up', lastReason: 'not delivered before close()' },
      { state: 'given_up', lastReason: 'not delivered before close()' },
    ]);
  });

  it('a 400 is given up with its reason; resend delivers it with the same webhook-id, once', async () => {
    const { receiver, emitter, failures } = await setup((_, index) => ({ status: index === 0 ? 400 : 200 }));
    emitter.productUpdated(product(5));
    await emitter.flush();
    expect(failures).toHaveLength(1);
    const given = await emitter.activity();
    expect(given.counts).toMatchObject({ delivered: 0, givenUp: 1, queued: 0, retrying: 0 });
    expect(given.recent).toEqual([
      expect.objectContaining({
        id: failures[0]?.id,
        state: 'given_up',
        attempts: 1,
        lastStatus: 400,
        lastReason: 'HTTP 400',
      }),
    ]);

    expect(await emitter.resend(failures[0]?.id as string)).toBe('resent');
    await emitter.flush();
    const [first, second] = receiver.received;
    expect(receiver.received).toHaveLength(2);
    expect(second?.status).toBe(200);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(second?.headers['webhook-id']).toBe(failures[0]?.id);
    expect(second?.raw.equals(first?.raw as Buffer)).toBe(true);

    const resent = await emitter.activity();
    expect(resent.counts).toMatchObject({ delivered: 1, givenUp: 1 });
    // One row per event, in its latest state; attempts counted afresh.
    expect(resent.recent).toEqual([
      expect.objectContaining({ id: failures[0]?.id, state: 'delivered', attempts: 1, lastStatus: 200 }),
    ]);
    expect(await emitter.resend(failures[0]?.id as string)).toBe('not_found');
    expect(await emitter.resend('msg_never_emitted')).toBe('not_found');
    expect(receiver.received).toHaveLength(2);
  });

  it('a resent event given up again can be resent again', async () => {
    const { receiver, emitter, failures } = await setup(() => ({ status: 422 }));
    emitter.requestSync();
    await emitter.flush();
    const id = failures[0]?.id as string;
    expect(await emitter.resend(id)).toBe('resent');
    await emitter.flush();
    expect(failures.map((failure) => failure.id)).toEqual([id, id]);
    expect(await emitter.resend(id)).toBe('resent');
    await emitter.flush();
    expect(receiver.received.map((entry) => entry.headers['webhook-id'])).toEqual([id, id, id]);
    const { recent, counts } = await emitter.activity();
    expect(counts.givenUp).toBe(3);
    expect(recent).toEqual([
      expect.objectContaining({ id, event: 'sync.requested', entity: 'all', state: 'given_up' }),
    ]);
  });

  it('keeps the newest given-up events for resend and the newest finished records, no more', async () => {
    const total = FINISHED_KEPT + 5;
    const { emitter, failures } = await setup(() => ({ status: 400 }), { concurrency: 8 });
    for (let id = 1; id <= total; id += 1) emitter.productUpdated(product(id));
    await emitter.flush(30_000);
    expect(failures).toHaveLength(total);
    const { counts, recent } = await emitter.activity({ limit: 500 });
    expect(counts.givenUp).toBe(total);
    expect(recent).toHaveLength(FINISHED_KEPT);
    // Newest first: the last given up leads, the first five aged out of the ring.
    const order = failures.map((failure) => failure.id).reverse();
    expect(recent.map((record) => record.id)).toEqual(order.slice(0, FINISHED_KEPT));

    const oldest = failures[0]?.id as string;
    const lastAgedOut = failures[total - GIVEN_UP_KEPT - 1]?.id as string;
    const oldestKept = failures[total - GIVEN_UP_KEPT]?.id as string;
    expect(await emitter.resend(oldest)).toBe('not_found');
    expect(await emitter.resend(lastAgedOut)).toBe('not_found');
    expect(await emitter.resend(oldestKept)).toBe('resent');
  });

  it('caps recent at limit (default 50), newest change first', async () => {
    const { emitter } = await setup();
    for (let id = 1; id <= RECENT_DEFAULT + 10; id += 1) emitter.productCreated(product(id));
    await emitter.flush();
    const all = await emitter.activity();
    expect(all.counts.delivered).toBe(RECENT_DEFAULT + 10);
    expect(all.recent).toHaveLength(RECENT_DEFAULT);
    const times = all.recent.map((record) => record.updatedAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const three = await emitter.activity({ limit: 3 });
    expect(three.recent).toEqual(all.recent.slice(0, 3));
    expect((await emitter.activity({ limit: 0 })).recent).toEqual([]);
    expect((await emitter.activity({ limit: 500 })).recent).toHaveLength(RECENT_DEFAULT + 10);
  });

  it.each([
    [{ limit: -1 }, RangeError, /whole number from 0 to 500, got -1/],
    [{ limit: 501 }, RangeError, /got 501/],
    [{ limit: 2.5 }, RangeError, /got 2.5/],
    [{ limit: Number.NaN }, RangeError, /got NaN/],
    [{ limit: '10' }, TypeError, /limit must be a number of records, got string/],
    [{ timeoutMs: -5 }, TypeError, /activity: the timeout must be a number of ms/],
    [{ timeoutMs: 'soon' }, TypeError, /activity: the timeout must be a number of ms/],
  ])('activity(%o) rejects with a %o', async (options, type, message) => {
    const { emitter } = await setup();
    const answer = emitter.activity(options as { limit?: number });
    await expect(answer).rejects.toThrow(type);
    await expect(answer).rejects.toThrow(message);
  });

  it('counts attempts per minute: delivered and failed ones, retried or not', async () => {
    const statuses = [503, 200, 400, 200];
    const { emitter } = await setup((_, index) => ({ status: statuses[index] ?? 200 }), {
      concurrency: 1,
      retryDelaysMs: [1],
    });
    const before = Date.now();
    emitter.productUpdated(product(1));
    emitter.productUpdated(product(2));
    emitter.productUpdated(product(3));
    await emitter.flush();
    const { perMinute, counts } = await emitter.activity();
    const after = Date.now();
    expect(counts).toMatchObject({ delivered: 2, givenUp: 1 });
    const sum = (key: 'delivered' | 'failed') => perMinute.reduce((total, minute) => total + minute[key], 0);
    expect({ delivered: sum('delivered'), failed: sum('failed') }).toEqual({ delivered: 2, failed: 2 });
    // Every attempt fell in the minutes the test ran in.
    const busy = perMinute
      .filter((minute) => minute.delivered + minute.failed > 0)
      .map((minute) => minute.minute);
    for (const minute of busy) expect(minute).toBeGreaterThanOrEqual(minuteOf(before));
    for (const minute of busy) expect(minute).toBeLessThanOrEqual(minuteOf(after));
  });

  it('never shows an event’s data, whatever state it is in', async () => {
    const email = 'jane.doe@example.com';
    // Order 1 is delivered, order 2 given up, order 3 waits for a retry, order 4 hangs, and order
    // 5 (same entity as 4) waits behind it.
    const { receiver, emitter } = await setup(
      (request) => {
        const id = String(request.body.data.id);
        if (id === '2') return { status: 400 };
        if (id === '3') return { status: 503 };
        if (id === '4') return 'hang';
        return { status: 200 };
      },
      { concurrency: 8 },
    );
    for (const id of [1, 2, 3, 4]) emitter.orderCreated({ id, customer_email: email, total: 'USD 9.00' });
    emitter.orderUpdated({ id: 4, customer_email: email, total: 'USD 9.00' });
    await vi.waitFor(
      async () =>
        expect((await emitter.activity()).counts).toMatchObject({
          delivered: 1,
          givenUp: 1,
          retrying: 1,
          inFlight: 1,
          queued: 1,
        }),
      { timeout: 10_000 },
    );
    expect(receiver.received.some((entry) => entry.body.data.customer_email === email)).toBe(true);
    const shown = JSON.stringify(await emitter.activity({ limit: 500 }));
    expect(shown).not.toContain(email);
    expect(shown).not.toContain('USD');
    expect(shown).not.toContain('"data"');
  });

  it('resend rejects with a clear error when the id is no string, webhooks are off or the emitter is closed', async () => {
    const { emitter, failures } = await setup(() => ({ status: 400 }));
    await expect(emitter.resend(7 as unknown as string)).rejects.toThrow(
      new TypeError('resend: the id must be a string, got number'),
    );
    emitter.productDeleted(3);
    await emitter.flush();
    await emitter.close(1000);
    await expect(emitter.resend(failures[0]?.id as string)).rejects.toThrow(
      'resend: the webhook emitter is closed',
    );

    const off = createWebhookEmitter({ logger: quiet }, {});
    defer(() => off.close(100));
    await expect(off.resend('msg_1')).rejects.toThrow('resend: webhooks are off');
    expectNothingYet(await off.activity(), false);
  });

  it('resend refuses while the queue is full and keeps the event; a refused event can be resent later', async () => {
    // Deletions are refused; anything else hangs until its attempt's deadline gives it up.
    const { receiver, emitter, failures } = await setup(
      (request, index) =>
        request.body.event === 'product.deleted' && index === 0 ? { status: 400 } : 'hang',
      { maxQueueSize: 1, timeoutMs: 500, retryDelaysMs: [] },
    );
    emitter.productDeleted(1);
    await emitter.flush();
    const deleted = failures[0]?.id as string;
    expect(emitter.productUpdated(product(2))).toBe(true);
    expect(emitter.productUpdated(product(3))).toBe(false);
    const refused = (await emitter.activity()).recent.find((record) => record.entity === '3');
    expect(refused).toMatchObject({ state: 'given_up', attempts: 0, lastReason: 'queue full (1 events)' });
    await expect(emitter.resend(deleted)).rejects.toThrow(
      'resend: the webhook queue is full (1 events); try again once it drains',
    );

    // The hanging attempt times out and is given up: the queue has room again.
    expect(await emitter.flush(10_000)).toEqual({ remaining: 0 });
    expect(await emitter.resend(deleted)).toBe('resent');
    await emitter.flush(10_000);
    const deletions = receiver.received.filter((entry) => entry.body.event === 'product.deleted');
    expect(deletions.map((entry) => entry.headers['webhook-id'])).toEqual([deleted]);
    expect((await emitter.activity()).recent.find((record) => record.id === deleted)).toMatchObject({
      state: 'given_up',
      lastReason: 'timed out after 500 ms after 1 attempts',
    });
  });
});
