// The kind: a wait before a retry that is larger than a timer can hold, whether the receiver asks
// for it (Retry-After in seconds or as a date, years away) or the store configures it
// (retryDelaysMs). Node turns such a timer into 1 ms, so the emitter spun on its timer and
// printed a TimeoutOverflowWarning about a thousand times a second. A Retry-After is honoured up
// to 24 hours, and no wait may overflow a timer, in either emitter.
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
