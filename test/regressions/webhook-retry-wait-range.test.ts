// The kind: a wait before a retry that is larger than a timer can hold, whether the receiver asks
// for it (Retry-After in seconds or as a date, years away) or the store configures it
// (retryDelaysMs). Node turns such a timer into 1 ms, so the emitter spun on its timer and
// printed a TimeoutOverflowWarning about a thousand times a second. A Retry-After is honoured up
// to 24 hours, and no wait may overflow a timer, in either emitter. The same holds for the waits
// a caller gives: close(Infinity), flush(Infinity) and any timeout past 2^31-1 ms ended after
// about 1 ms (undelivered) with a TimeoutOverflowWarning; Infinity now waits as long as it takes,
// and a timeout that is no wait at all (NaN, negative, text) is a TypeError.
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, durableEmitters, memoryEmitter } from '../support/emitters.js';
import { connectRedis } from '../support/services.js';

const redis = await connectRedis();
afterAll(() => redis?.disconnect());
const defer = cleanupsAfterEach();
const durable = durableEmitters(redis, defer);

const DAY_MS = 86_400_000;
const farAway: [string, string][] = [
  ['seconds', '99999999999'],
  ['an HTTP date', new Date(Date.UTC(2999, 0, 1)).toUTCString()],
];

/** Every process warning emitted while `run` runs and for a moment after. */
async function warningsDuring(run: () => Promise<void>) {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    await run();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

describe('in-memory emitter: retry waits stay within what a timer holds', () => {
  it.each(farAway)(
    'a Retry-After in %s years away waits 24 h, without a timer overflow',
    async (_, value) => {
      const lines: string[] = [];
      const { receiver, emitter } = await memoryEmitter(
        defer,
        () => ({ status: 503, headers: { 'retry-after': value } }),
        { logger: { warn: (_d, message) => lines.push(message), error() {} } },
      );
      const warnings = await warningsDuring(async () => {
        emitter.productUpdated({ id: 1, name: 'Mug' });
        await vi.waitFor(() => expect(lines).toHaveLength(1));
      });
      expect(lines).toEqual(['webhook product.updated failed (HTTP 503); retrying in 86400 s']);
      expect(warnings).toEqual([]);
      expect(receiver.attempts()).toBe(1);
      expect(emitter.stats()).toMatchObject({ queued: 1, inFlight: 0 });
    },
  );

  it('a configured delay of 60 days waits without a timer overflow', async () => {
    const { receiver, emitter } = await memoryEmitter(defer, () => ({ status: 503 }), {
      retryDelaysMs: [60 * DAY_MS],
    });
    const warnings = await warningsDuring(async () => {
      emitter.productUpdated({ id: 1, name: 'Mug' });
      await vi.waitFor(() => expect(receiver.attempts()).toBe(1));
    });
    expect(warnings).toEqual([]);
    expect(emitter.stats()).toMatchObject({ queued: 1, inFlight: 0 });
  });
});

describe.skipIf(!redis)('durable emitter: a Retry-After is honoured up to 24 h', () => {
  it.each(farAway)('a Retry-After in %s years away delays the job 24 h', async (_, value) => {
    const { startReceiver } = await import('../support/receiver.js');
    const receiver = await startReceiver(() => ({ status: 503, headers: { 'retry-after': value } }));
    defer(receiver.close);
    const name = durable.queueName();
    durable.emitter(name, receiver.url);
    const queue = new Queue(name, { connection: redis as NonNullable<typeof redis> });
    defer(() => queue.close());
    expect(await durable.emitter(name, receiver.url, { worker: false }).productUpdated({ id: 1 })).toBe(true);
    await vi.waitFor(async () => expect(await queue.getDelayedCount()).toBe(1), { timeout: 10_000 });
    const [job] = await queue.getDelayed();
    expect(job?.delay).toBeGreaterThan(DAY_MS - 60_000);
    expect(job?.delay).toBeLessThanOrEqual(DAY_MS);
  });
});

/** A receiver whose answer ends `ms` after the request: a delivery that takes a while. */
const slowAnswer = (ms: number) => () => ({
  status: 200,
  body: (response: import('node:http').ServerResponse) => {
    const timer = setTimeout(() => response.end('{}'), ms);
    response.on('close', () => clearTimeout(timer));
  },
});

const longWaits: [string, number][] = [
  ['Infinity', Number.POSITIVE_INFINITY],
  ['2^31 ms', 2 ** 31],
  ['2^40 ms', 2 ** 40],
];

describe('in-memory emitter: close() and flush() wait as long as they are told', () => {
  it.each(longWaits)('close(%s) waits for the delivery in progress', async (_, ms) => {
    const { receiver, emitter, failures } = await memoryEmitter(defer, slowAnswer(400));
    let report: Awaited<ReturnType<typeof emitter.close>> | undefined;
    const warnings = await warningsDuring(async () => {
      emitter.productUpdated({ id: 1, name: 'Mug' });
      report = await emitter.close(ms);
    });
    expect(report).toMatchObject({ undelivered: [], delivered: 1, queued: 0 });
    expect(receiver.delivered()).toHaveLength(1);
    expect(failures).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each(longWaits)('flush(%s) waits for the delivery in progress', async (_, ms) => {
    const { emitter } = await memoryEmitter(defer, slowAnswer(400));
    emitter.productUpdated({ id: 1, name: 'Mug' });
    const warnings = await warningsDuring(async () => {
      expect(await emitter.flush(ms)).toEqual({ remaining: 0 });
    });
    expect(warnings).toEqual([]);
  });

  it.each([Number.NaN, -1, '1000'])(
    'a timeout of %s: close() and flush() reject with a TypeError',
    async (ms) => {
      const { emitter } = await memoryEmitter(defer);
      await expect(emitter.flush(ms as number)).rejects.toThrow(/flush: the timeout must be a number of ms/);
      await expect(emitter.close(ms as number)).rejects.toThrow(/close: the timeout must be a number of ms/);
    },
  );
});

describe.skipIf(!redis)('durable emitter: close() waits as long as it is told', () => {
  it.each(longWaits)('close(%s) lets the delivery in progress finish', async (_, ms) => {
    const { startReceiver } = await import('../support/receiver.js');
    const receiver = await startReceiver(slowAnswer(600));
    defer(receiver.close);
    const name = durable.queueName();
    const emitter = durable.emitter(name, receiver.url);
    const queue = new Queue(name, { connection: redis as NonNullable<typeof redis> });
    defer(() => queue.close());
    expect(await emitter.productUpdated({ id: 1 })).toBe(true);
    await vi.waitFor(() => expect(receiver.attempts()).toBe(1), { timeout: 10_000 });
    const warnings = await warningsDuring(async () => {
      await emitter.close(ms);
    });
    expect(await queue.getCompletedCount()).toBe(1);
    expect(await queue.getActiveCount()).toBe(0);
    expect(warnings).toEqual([]);
  });

  it.each([Number.NaN, -1])('a timeout of %s: close() and stats() reject with a TypeError', async (ms) => {
    const name = durable.queueName();
    const emitter = durable.emitter(name, 'http://127.0.0.1:9');
    await expect(emitter.stats(ms)).rejects.toThrow(/stats: the timeout must be a number of ms/);
    await expect(emitter.close(ms)).rejects.toThrow(/close: the timeout must be a number of ms/);
  });
});
