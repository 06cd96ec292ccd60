// The kind: the receiver's answer read whole. Only its status and Retry-After decide anything, so
// however big the body (2xx, 4xx or 5xx; chunked or with a content-length; endless), an attempt
// reads at most RESPONSE_EXCERPT_BYTES of it and closes the connection, in the in-memory emitter
// and in the durable (BullMQ) one. The receiver sees its answer cut short.
import { createWebhookEmitter, type Logger, RESPONSE_EXCERPT_BYTES } from '@hiwelink/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, durableEmitters, memoryEmitter, quiet, TOKEN } from '../support/emitters.js';
import { type Behaviour, hugeBody, type Received, startReceiver } from '../support/receiver.js';
import { connectRedis } from '../support/services.js';

const redis = await connectRedis();
afterAll(() => redis?.disconnect());
const defer = cleanupsAfterEach();
const durable = durableEmitters(redis, defer);

const MB = 1024 * 1024;

/** Each answer `status` with a 50 MB body, chunked or announced by content-length. */
const huge =
  (status: number, framing: 'chunked' | 'content-length', bytes = 50 * MB): Behaviour =>
  () => ({
    status,
    headers:
      framing === 'content-length' ? { 'content-length': String(bytes) } : ({} as Record<string, string>),
    body: hugeBody(bytes),
  });

/** Every answer was cut short by the client long before its end. */
async function allCut(received: Received[], total: number) {
  await vi.waitFor(() => expect(received.every((entry) => entry.ended !== undefined)).toBe(true));
  for (const entry of received) {
    expect(entry.ended).toBe('cut');
    // What left the receiver is bounded by the socket buffers, not by the body.
    expect(entry.bytesSent).toBeLessThan(total / 2);
  }
}

const cases: [number, 'chunked' | 'content-length', string][] = [
  [200, 'chunked', 'delivered'],
  [200, 'content-length', 'delivered'],
  [503, 'chunked', 'retried'],
  [503, 'content-length', 'retried'],
  [400, 'chunked', 'given up'],
  [400, 'content-length', 'given up'],
];

describe('in-memory emitter: the answer is read up to 4 KiB', () => {
  it.each(cases)('a %i with a 50 MB %s body: %s on its status alone', async (status, framing) => {
    const errors: { details: Record<string, unknown>; message: string }[] = [];
    const logger: Logger = {
      warn() {},
      error: (details, message) => errors.push({ details: details as Record<string, unknown>, message }),
    };
    const { receiver, emitter, failures } = await memoryEmitter(defer, huge(status, framing), {
      retryDelaysMs: [30],
      logger,
    });
    emitter.productUpdated({ id: 1, name: 'Mug' });
    expect(await emitter.flush(10_000)).toEqual({ remaining: 0 });
    if (status === 200) {
      expect(failures).toEqual([]);
      expect(emitter.stats().delivered).toBe(1);
    } else {
      const attempts = status === 503 ? 2 : 1;
      expect(failures).toMatchObject([{ status, attempts }]);
      expect(receiver.attempts()).toBe(attempts);
      // The log keeps the start of the answer, and no more.
      const response = errors[0]?.details.response as string;
      expect(response).toBe('y'.repeat(RESPONSE_EXCERPT_BYTES));
    }
    await allCut(receiver.received, 50 * MB);
  });

  it('an endless 200 body is delivered, not read forever', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: hugeBody(Number.POSITIVE_INFINITY) }));
    defer(receiver.close);
    const emitter = createWebhookEmitter({ url: receiver.url, storeToken: TOKEN, logger: quiet }, {});
    defer(() => emitter.close(1000));
    for (let id = 1; id <= 4; id++) emitter.productUpdated({ id, name: 'Mug' });
    expect(await emitter.flush(10_000)).toEqual({ remaining: 0 });
    expect(emitter.stats()).toMatchObject({ delivered: 4, failed: 0 });
    await allCut(receiver.received, Number.POSITIVE_INFINITY);
  });
});

describe.skipIf(!redis)('durable emitter: the answer is read up to 4 KiB', () => {
  it.each([
    [200, 'endless'],
    [503, '50 MB'],
  ] as const)('a %i with an %s body: decided on its status alone', async (status, size) => {
    const bytes = size === 'endless' ? Number.POSITIVE_INFINITY : 50 * MB;
    const receiver = await startReceiver(() => ({ status, body: hugeBody(bytes) }));
    defer(receiver.close);
    const failures: { status?: number; attempts: number }[] = [];
    const emitter = durable.emitter(durable.queueName(), receiver.url, {
      retryDelaysMs: [30],
      onFailure: (failure) => failures.push(failure),
    });
    expect(await emitter.productUpdated({ id: 1, name: 'Mug' })).toBe(true);
    if (status === 200) {
      await vi.waitFor(async () => expect((await emitter.stats()).delivered).toBe(1), { timeout: 10_000 });
    } else {
      await vi.waitFor(() => expect(failures).toMatchObject([{ status, attempts: 2 }]), { timeout: 10_000 });
    }
    await allCut(receiver.received, bytes);
  });
});
