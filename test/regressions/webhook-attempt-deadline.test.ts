// The kind: a delivery attempt that a receiver can keep open past `timeoutMs` by answering slowly
// at any stage (name lookup, connect, status line, body). Each must be abandoned `timeoutMs` after
// it started, count as a retryable failure, be retried on schedule, and free its slot, in the
// in-memory emitter and in the durable (BullMQ) one.
import { createWebhookEmitter, type DeliveryFailure, type WebhookEmitterOptions } from '@hiwelink/core';
import axios from 'axios';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, durableEmitters, memoryEmitter, quiet, TOKEN } from '../support/emitters.js';
import { type Answer, type Behaviour, silence, startReceiver, trickle } from '../support/receiver.js';
import { connectRedis } from '../support/services.js';

const redis = await connectRedis();
afterAll(() => redis?.disconnect());
const defer = cleanupsAfterEach();
const durable = durableEmitters(redis, defer);

const SLOW = ['1', '2', '3', '4'];
const idOf = (request: { body: { data: Record<string, unknown> } }) => String(request.body.data.id);

/** Entities 1 to 4 get `slow`; any other is answered 200 at once. */
const slowFour =
  (slow: Answer | 'hang'): Behaviour =>
  (request) =>
    SLOW.includes(idOf(request)) ? slow : { status: 200 };

/** The in-memory emitter with a 300 ms deadline and two quick retries. */
const fastRetries = (behaviour: Behaviour, options: Partial<WebhookEmitterOptions> = {}) =>
  memoryEmitter(defer, behaviour, { timeoutMs: 300, retryDelaysMs: [30, 30], ...options });

const stages: [string, Answer | 'hang'][] = [
  ['a 200 whose body comes one byte every 100 ms', { status: 200, body: trickle(100) }],
  ['a 503 whose body never starts', { status: 503, body: silence() }],
  ['a 400 whose body comes one byte every 100 ms', { status: 400, body: trickle(100) }],
  ['no answer at all', 'hang'],
];

describe('in-memory emitter: every attempt ends timeoutMs after it starts', () => {
  it.each(stages)(
    '%s: abandoned, retried, given up as a timeout; other entities still go',
    async (_, slow) => {
      const { receiver, emitter, failures } = await fastRetries(slowFour(slow));
      for (const id of SLOW) emitter.productUpdated({ id, name: 'slow' });
      // The four fill the default concurrency (4); the fifth must still get through.
      emitter.productUpdated({ id: '5', name: 'fast' });
      await vi.waitFor(() => expect(receiver.delivered().map(idOf)).toContain('5'), { timeout: 5000 });
      await vi.waitFor(() => expect(failures).toHaveLength(4), { timeout: 10_000 });
      for (const failure of failures) {
        expect(failure.attempts).toBe(3);
        expect(failure.reason).toBe('timed out after 300 ms after 3 attempts');
      }
      expect(receiver.attempts()).toBe(13);
      expect(emitter.stats()).toMatchObject({ inFlight: 0, queued: 0, delivered: 1, failed: 4 });
    },
  );

  it('a name lookup that never answers is abandoned the same way', async () => {
    const failures: DeliveryFailure[] = [];
    const emitter = createWebhookEmitter(
      {
        url: 'http://receiver.test:8080',
        storeToken: TOKEN,
        timeoutMs: 300,
        retryDelaysMs: [30],
        jitter: 0,
        logger: quiet,
        onFailure: (failure) => failures.push(failure),
        // A resolver that never calls back, as a DNS server that never answers.
        http: axios.create({ lookup: () => {} }),
      },
      {},
    );
    defer(() => emitter.close(1000));
    emitter.productUpdated({ id: 1, name: 'Mug' });
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 5000 });
    expect(failures[0]).toMatchObject({ attempts: 2, reason: 'timed out after 300 ms after 2 attempts' });
  });

  it('a redirect is not followed, so its target cannot hold the attempt', async () => {
    const target = await startReceiver(() => ({ status: 200, body: trickle(100) }));
    defer(target.close);
    const { receiver, emitter, failures } = await fastRetries(() => ({
      status: 307,
      headers: { location: `${target.url}/elsewhere` },
    }));
    emitter.productUpdated({ id: 1, name: 'Mug' });
    await vi.waitFor(() => expect(failures).toHaveLength(1), { timeout: 5000 });
    expect(failures[0]).toMatchObject({ attempts: 1, reason: 'HTTP 307', status: 307 });
    expect(receiver.attempts()).toBe(1);
    expect(target.attempts()).toBe(0);
  });
});

describe.skipIf(!redis)('durable emitter: every attempt ends timeoutMs after it starts', () => {
  it.each(stages)(
    '%s: abandoned, retried, dead-lettered as a timeout; other entities still go',
    async (_, slow) => {
      const receiver = await startReceiver(slowFour(slow));
      defer(receiver.close);
      const failures: DeliveryFailure[] = [];
      const emitter = durable.emitter(durable.queueName(), receiver.url, {
        timeoutMs: 300,
        retryDelaysMs: [30, 30],
        onFailure: (failure) => failures.push(failure),
      });
      for (const id of SLOW) expect(await emitter.productUpdated({ id, name: 'slow' })).toBe(true);
      expect(await emitter.productUpdated({ id: '5', name: 'fast' })).toBe(true);
      await vi.waitFor(() => expect(receiver.delivered().map(idOf)).toContain('5'), { timeout: 10_000 });
      await vi.waitFor(() => expect(failures).toHaveLength(4), { timeout: 15_000 });
      for (const failure of failures) {
        expect(failure.attempts).toBe(3);
        expect(failure.reason).toBe('timed out after 300 ms after 3 attempts');
      }
      expect(await emitter.stats()).toMatchObject({ queued: 0, active: 0, dead: 4 });
    },
  );
});
