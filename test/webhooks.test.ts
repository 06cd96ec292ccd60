import { createHmac } from 'node:crypto';
import {
  createWebhookEmitter,
  type DeliveryFailure,
  verifyWebhook,
  type WebhookEmitterOptions,
} from '@hiwelink/core';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, memoryEmitter, quiet, TOKEN } from './support/emitters.js';
import { type Behaviour, startReceiver } from './support/receiver.js';

const SECRET = `whsec_${Buffer.from('a 32-byte webhook signing secret').toString('base64')}`;
const defer = cleanupsAfterEach();

const setup = (behaviour?: Behaviour, options: Partial<WebhookEmitterOptions> = {}) =>
  memoryEmitter(defer, behaviour, { secret: SECRET, retryDelaysMs: [30, 30, 30, 30, 30], ...options });

describe('webhook delivery', () => {
  it('returns from emit before anything reaches the network, then delivers', async () => {
    const { receiver, emitter } = await setup();
    expect(emitter.productUpdated({ id: 1, title: 'Mug', list_price: '$12.50' })).toBe(true);
    expect(receiver.attempts()).toBe(0);
    expect(emitter.stats().queued).toBe(1);
    expect(await emitter.flush()).toEqual({ remaining: 0 });
    expect(receiver.delivered()).toHaveLength(1);
  });

  it('sends the record as it was at emit, though the store changes its arrays in place after', async () => {
    const { receiver, emitter } = await setup();
    const product = {
      id: 1,
      name: 'Mug',
      tags: ['kitchen'],
      images: ['https://shop.test/mug.jpg'],
      attributes: { color: 'Blue' },
      released: new Date('2026-01-02T03:04:05.000Z'),
    };
    const withPassthrough = createWebhookEmitter(
      {
        url: receiver.url,
        storeToken: TOKEN,
        logger: quiet,
        mapping: { products: { passthrough: ['released'] } },
      },
      {},
    );
    defer(() => withPassthrough.close(2000));
    emitter.productUpdated(product);
    withPassthrough.productUpdated(product);
    product.tags.push('sale');
    product.images[0] = 'https://shop.test/other.jpg';
    product.attributes.color = 'Red';
    await emitter.flush();
    await withPassthrough.flush();
    const delivered = receiver.delivered().map((entry) => entry.body.data);
    expect(delivered).toHaveLength(2);
    // The two emitters deliver concurrently: tell their events apart by the passed-through field.
    const plain = delivered.find((data) => !('released' in data));
    const passedThrough = delivered.find((data) => 'released' in data);
    expect(plain).toMatchObject({
      tags: ['kitchen'],
      images: ['https://shop.test/mug.jpg'],
      attributes: { color: 'Blue' },
    });
    expect(passedThrough?.released).toBe('2026-01-02T03:04:05.000Z');
  });

  it('posts { event, data } with the list endpoints’ mapping to the documented paths', async () => {
    const { receiver, emitter } = await setup(undefined, { storeBaseUrl: 'https://shop.test' });
    emitter.productCreated({ product_id: 7, title: 'Mug', availability: 'instock', handle: 'mug' });
    emitter.productDeleted({ id: 8, title: 'Old' });
    emitter.orderCreated({
      order_id: 'o-1',
      grand_total: 'USD 20.00',
      line_items: [{ product_id: 7, qty: 2 }],
    });
    emitter.orderDeleted(9);
    emitter.requestSync();
    await emitter.flush();
    const byEvent = Object.fromEntries(receiver.delivered().map((entry) => [entry.body.event, entry]));
    expect(byEvent['product.created']?.path).toBe(`/api/generic-api/webhooks/${TOKEN}/products`);
    expect(byEvent['product.created']?.body.data).toEqual({
      id: '7',
      name: 'Mug',
      stock_status: 'in_stock',
      slug: 'mug',
      permalink: 'https://shop.test/product/mug',
    });
    expect(byEvent['product.deleted']?.body.data).toEqual({ id: '8' });
    expect(byEvent['order.created']?.path).toBe(`/api/generic-api/webhooks/${TOKEN}/orders`);
    expect(byEvent['order.created']?.body.data).toEqual({
      id: 'o-1',
      total: 20,
      items: [{ product_id: '7', quantity: 2 }],
    });
    expect(byEvent['order.deleted']?.body.data).toEqual({ id: '9' });
    expect(byEvent['sync.requested']?.path).toBe(`/api/generic-api/webhooks/${TOKEN}/sync`);
  });

  it('signs each delivery so that standardwebhooks and a plain HMAC both verify it', async () => {
    const { receiver, emitter } = await setup();
    emitter.productUpdated({ id: 1, name: 'Mug ☕', price: 12.5 });
    await emitter.flush();
    const [entry] = receiver.delivered();
    if (!entry) throw new Error('nothing delivered');
    const headers = entry.headers as Record<string, string>;
    expect(new Webhook(SECRET).verify(entry.raw, headers)).toEqual(entry.body);
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    expect(headers['x-webhook-signature']).toBe(
      `sha256=${createHmac('sha256', key).update(entry.raw).digest('hex')}`,
    );
    expect(verifyWebhook(entry.raw, headers, SECRET)).toEqual({ ok: true, scheme: 'standard-webhooks' });
    const { 'webhook-signature': _, 'webhook-id': __, 'webhook-timestamp': ___, ...plain } = headers;
    expect(verifyWebhook(entry.raw, plain, SECRET)).toEqual({ ok: true, scheme: 'hmac-sha256' });
    expect(verifyWebhook(Buffer.concat([entry.raw, Buffer.from(' ')]), headers, SECRET).ok).toBe(false);
    expect(verifyWebhook(entry.raw, headers, 'whsec_b3RoZXI=').ok).toBe(false);
    expect(verifyWebhook(entry.raw, headers, SECRET, { now: Date.now() + 600_000 })).toEqual({
      ok: false,
      reason: 'webhook-timestamp is outside the tolerance',
    });
  });

  it('signs with the UTF-8 bytes of a secret that is not whsec_', async () => {
    const { receiver, emitter } = await setup(undefined, { secret: 'plain shared secret' });
    emitter.orderUpdated({ id: 5, status: 'shipped' });
    await emitter.flush();
    const [entry] = receiver.delivered();
    const expected = createHmac('sha256', 'plain shared secret')
      .update(entry?.raw ?? '')
      .digest('hex');
    expect(entry?.headers['x-webhook-signature']).toBe(`sha256=${expected}`);
    expect(verifyWebhook(entry?.raw ?? '', entry?.headers ?? {}, 'plain shared secret').ok).toBe(true);
  });

  it('retries 500s with the same webhook-id until one succeeds', async () => {
    const { receiver, emitter, failures } = await setup((_request, index) => ({
      status: index < 2 ? 500 : 200,
    }));
    emitter.productUpdated({ id: 1, name: 'Mug' });
    await emitter.flush();
    expect(receiver.received.map((entry) => entry.status)).toEqual([500, 500, 200]);
    expect(new Set(receiver.received.map((entry) => entry.headers['webhook-id'])).size).toBe(1);
    expect(failures).toEqual([]);
    expect(emitter.stats()).toMatchObject({ delivered: 1, failed: 0, queued: 0 });
  });

  it('waits at least Retry-After after a 429', async () => {
    const { receiver, emitter } = await setup((_request, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    emitter.productUpdated({ id: 1, name: 'Mug' });
    await emitter.flush();
    const [limited, accepted] = receiver.received;
    expect(limited?.status).toBe(429);
    expect(accepted?.status).toBe(200);
    // A lower bound only: a slow machine can make it later, never earlier.
    expect((accepted?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('retries dropped connections and a receiver that hangs past the timeout', async () => {
    const { receiver, emitter } = await setup(
      (_request, index) => (index === 0 ? 'drop' : index === 1 ? 'hang' : { status: 200 }),
      { timeoutMs: 200 },
    );
    emitter.productUpdated({ id: 1, name: 'Mug' });
    await emitter.flush();
    expect(receiver.attempts()).toBe(3);
    expect(receiver.delivered()).toHaveLength(1);
  });

  it('does not retry a 400, and hands it to onFailure', async () => {
    const { receiver, emitter, failures } = await setup(() => ({ status: 400 }));
    emitter.productUpdated({ id: 1, name: 'Mug' });
    await emitter.flush();
    expect(receiver.attempts()).toBe(1);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      event: 'product.updated',
      attempts: 1,
      status: 400,
      reason: 'HTTP 400',
    });
  });

  it('gives up after the last retry and reports it', async () => {
    const { receiver, emitter, failures } = await setup(() => ({ status: 503 }), { retryDelaysMs: [10, 10] });
    emitter.orderUpdated({ id: 3 });
    await emitter.flush();
    expect(receiver.attempts()).toBe(3);
    expect(failures[0]).toMatchObject({ attempts: 3, reason: 'HTTP 503 after 3 attempts' });
  });

  it('delivers every event, each entity’s in order, through random failures', async () => {
    let seed = 7;
    const flaky = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 10 < 3;
    };
    const { receiver, emitter } = await setup(() => (flaky() ? { status: 500 } : { status: 200 }), {
      coalesce: false,
      concurrency: 4,
      retryDelaysMs: Array(20).fill(5),
    });
    for (let version = 1; version <= 10; version++) {
      for (const id of ['a', 'b', 'c', 'd', 'e'])
        emitter.productUpdated({ id, name: `v${version}`, version });
    }
    await emitter.flush();
    const delivered = receiver.delivered();
    expect(delivered).toHaveLength(50);
    expect(new Set(delivered.map((entry) => entry.headers['webhook-id'])).size).toBe(50);
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      const names = delivered
        .filter((entry) => entry.body.data.id === id)
        .map((entry) => entry.body.data.name);
      expect(names).toEqual(Array.from({ length: 10 }, (_, index) => `v${index + 1}`));
    }
  });

  it('coalesces a burst of updates to one entity into its latest state', async () => {
    const { receiver, emitter } = await setup();
    for (let version = 1; version <= 20; version++) emitter.productUpdated({ id: 1, name: `v${version}` });
    await emitter.flush();
    const names = receiver.delivered().map((entry) => entry.body.data.name);
    expect(names.length).toBeLessThan(20);
    expect(names.at(-1)).toBe('v20');
  });

  it('delivers everything after the receiver was down for ten seconds', async () => {
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const failures: DeliveryFailure[] = [];
    const emitter = createWebhookEmitter(
      {
        url: `http://127.0.0.1:${port}`,
        storeToken: TOKEN,
        retryDelaysMs: Array(60).fill(500),
        jitter: 0,
        logger: quiet,
        onFailure: (failure) => failures.push(failure),
      },
      {},
    );
    for (let id = 1; id <= 5; id++) emitter.orderCreated({ id, status: 'pending' });
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(emitter.stats()).toMatchObject({ queued: 5, delivered: 0 });
    const receiver = await startReceiver(undefined, port);
    defer(receiver.close);
    await emitter.flush(20_000);
    expect(
      receiver
        .delivered()
        .map((entry) => entry.body.data.id)
        .sort(),
    ).toEqual(['1', '2', '3', '4', '5']);
    expect(failures).toEqual([]);
    await emitter.close();
  }, 40_000);

  it('refuses events past the queue bound, and reports each one', async () => {
    const { emitter, failures } = await setup(() => 'hang', { maxQueueSize: 3, timeoutMs: 60_000 });
    const accepted = [1, 2, 3, 4, 5].map((id) => emitter.productCreated({ id, name: 'x' }));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(failures.map((failure) => failure.reason)).toEqual([
      'queue full (3 events)',
      'queue full (3 events)',
    ]);
    expect(failures.map((failure) => failure.data.id)).toEqual(['4', '5']);
  });

  it('logs the first refusal of a full queue and sums up the rest once it takes events again', async () => {
    const lines: string[] = [];
    const logger = { warn: () => {}, error: (_: object, message: string) => lines.push(message) };
    const { emitter, failures } = await setup(undefined, { maxQueueSize: 3, concurrency: 1, logger });
    for (let id = 1; id <= 10; id++) emitter.productCreated({ id, name: 'x' });
    expect(failures).toHaveLength(7);
    expect(lines).toEqual(['webhook product.created given up: queue full (3 events)']);
    expect(await emitter.flush(5_000)).toEqual({ remaining: 0 });
    expect(emitter.productCreated({ id: 11, name: 'x' })).toBe(true);
    expect(lines).toEqual([
      'webhook product.created given up: queue full (3 events)',
      'webhooks: 6 more event(s) refused while the queue was full (3 events)',
    ]);
  });

  it('can drop the oldest waiting event instead, and reports that one', async () => {
    const { emitter, failures } = await setup(() => 'hang', {
      maxQueueSize: 3,
      overflow: 'drop-oldest',
      concurrency: 1,
      timeoutMs: 60_000,
    });
    for (const id of [1, 2, 3, 4]) emitter.productCreated({ id, name: 'x' });
    // Event 1 is in flight; the oldest waiting one is 2.
    expect(failures.map((failure) => failure.data.id)).toEqual(['2']);
    expect(emitter.stats().queued).toBe(3);
  });

  it('close() delivers what it can before the deadline and reports exactly the rest', async () => {
    const { emitter, failures } = await setup(
      (request) => (request.body.data.id === '2' ? { status: 500 } : { status: 200 }),
      { retryDelaysMs: [60_000, 60_000] },
    );
    emitter.productUpdated({ id: 1, name: 'A' });
    emitter.productUpdated({ id: 2, name: 'B' });
    emitter.productUpdated({ id: 3, name: 'C' });
    const report = await emitter.close(500);
    expect(report.delivered).toBe(2);
    expect(report.failed).toBe(0);
    // Each event close() leaves goes to onFailure once, before it resolves.
    expect(failures.map((failure) => [failure.data.id, failure.reason])).toEqual([
      ['2', 'not delivered before close()'],
    ]);
    expect(report.undelivered.map((event) => event.data.id)).toEqual(['2']);
    expect(emitter.productUpdated({ id: 4, name: 'D' })).toBe(false);
    expect(await emitter.close(500)).toBe(report);
  });

  it('close() abandons a request still running at its deadline, which then lands nowhere', async () => {
    const { receiver, emitter } = await setup(() => 'hang', { timeoutMs: 60_000 });
    emitter.productUpdated({ id: 1, name: 'A' });
    await vi.waitFor(() => expect(receiver.attempts()).toBe(1));
    const report = await emitter.close(300);
    expect(report.undelivered.map((event) => event.data.id)).toEqual(['1']);
    // Without the abort the request would stay in flight until its 60 s timeout.
    await vi.waitFor(() => expect(emitter.stats().inFlight).toBe(0), { timeout: 2_000 });
    expect(receiver.delivered()).toEqual([]);
  });

  it('is a no-op that warns once without a URL or token', () => {
    const warnings: string[] = [];
    const emitter = createWebhookEmitter(
      { logger: { warn: (_d, message) => warnings.push(message), error() {} } },
      {},
    );
    expect(emitter.enabled).toBe(false);
    expect(emitter.productUpdated({ id: 1, name: 'Mug' })).toBe(false);
    expect(emitter.requestSync()).toBe(false);
    expect(warnings).toEqual([
      'webhooks are off: set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send them',
    ]);
  });

  it('never throws into the caller, whatever it is given', async () => {
    const { emitter } = await setup();
    const throwing = {
      get id(): never {
        throw new Error('lazy-loaded relation outside a transaction');
      },
    };
    expect(emitter.productUpdated(throwing)).toBe(false);
    expect(emitter.productUpdated(null)).toBe(false);
    expect(emitter.orderDeleted({})).toBe(false);
    expect(emitter.productUpdated({ name: 'no id' })).toBe(false);
  });
});
