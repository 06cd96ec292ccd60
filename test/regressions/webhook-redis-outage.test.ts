// The kind: emitting to the durable emitter while Redis cannot take the event (down, restarting,
// never reached). An emit answers within its time budget (`emitTimeoutMs`), resolves `true` only
// when the event is in Redis, and otherwise holds it in a bounded local buffer that is written to
// Redis, in order, once Redis answers again; what the buffer cannot take, and what it still
// holds at close() or at process exit, is reported (log and onFailure), never dropped in silence.
// And no outage is reported when there is none: the first emit of a process, while the first
// connection is still being made, logged "Redis cannot take events (Redis connection connecting)"
// and then "every held webhook is now stored" at every start.
import { fileURLToPath } from 'node:url';
import type { DeliveryFailure } from '@hiwelink/core';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, privateDurable, runScript } from '../support/emitters.js';
import { startReceiver } from '../support/receiver.js';
import { freePort, privateRedis, redisServerAvailable } from '../support/redis-server.js';

const available = redisServerAvailable();
const CHILD = fileURLToPath(new URL('../support/webhooks-bullmq-exit-child.mjs', import.meta.url));
const defer = cleanupsAfterEach();

const durable = privateDurable(defer, 'hiwelink-outage');

/** The emit's result and how long it took to answer. */
async function timed(emit: () => Promise<boolean>) {
  const started = performance.now();
  const stored = await emit();
  return { stored, ms: performance.now() - started };
}

describe.skipIf(!available)('emitting while Redis is down', () => {
  it('answers within the budget, holds the events, stores and delivers them in order once Redis is back', async () => {
    const redis = privateRedis(await freePort());
    defer(() => redis.kill());
    await redis.start();
    const receiver = await startReceiver();
    defer(receiver.close);
    const emitter = durable(redis.url, receiver.url);
    expect(await emitter.productUpdated({ id: 1, name: 'v1' })).toBe(true);
    await vi.waitFor(() => expect(receiver.delivered()).toHaveLength(1), { timeout: 10_000 });

    await redis.kill();
    const during = [
      await timed(() => emitter.productUpdated({ id: 1, name: 'v2' })),
      await timed(() => emitter.productUpdated({ id: 2, name: 'v1' })),
      await timed(() => emitter.productUpdated({ id: 1, name: 'v3' })),
      await timed(() => emitter.orderCreated({ id: 3 })),
    ];
    // Not in Redis, so not true; answered well before the 3.4 s ioredis took alone.
    for (const emit of during) {
      expect(emit.stored).toBe(false);
      expect(emit.ms).toBeLessThan(2000);
    }
    expect(emitter.held().map((event) => [event.event, event.data.id, event.data.name])).toEqual([
      ['product.updated', '1', 'v2'],
      ['product.updated', '2', 'v1'],
      ['product.updated', '1', 'v3'],
      ['order.created', '3', undefined],
    ]);

    await redis.start();
    await vi.waitFor(() => expect(receiver.delivered()).toHaveLength(5), { timeout: 20_000 });
    expect(emitter.held()).toEqual([]);
    const product1 = receiver
      .delivered()
      .filter((entry) => entry.body.data.id === '1')
      .map((entry) => entry.body.data.name);
    expect(product1).toEqual(['v1', 'v2', 'v3']);
    // With Redis back, an emit is stored again.
    expect(await emitter.productUpdated({ id: 2, name: 'v2' })).toBe(true);
  }, 40_000);

  it('holds events that a running Redis refuses (out of memory), and stores them once it accepts', async () => {
    const redis = privateRedis(await freePort());
    defer(() => redis.kill());
    await redis.start();
    const admin = new Redis(redis.url);
    defer(async () => admin.disconnect());
    const receiver = await startReceiver();
    defer(receiver.close);
    const emitter = durable(redis.url, receiver.url);
    expect(await emitter.productUpdated({ id: 1, name: 'v1' })).toBe(true);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    expect(await emitter.productUpdated({ id: 1, name: 'v2' })).toBe(false);
    expect(emitter.held().map((event) => event.data.name)).toEqual(['v2']);
    await admin.config('SET', 'maxmemory', '0');
    await vi.waitFor(() => expect(receiver.delivered()).toHaveLength(2), { timeout: 10_000 });
    expect(receiver.delivered().map((entry) => entry.body.data.name)).toEqual(['v1', 'v2']);
    expect(emitter.held()).toEqual([]);
  });

  it('the first emits of a new emitter wait for the first connection, without an outage warning', async () => {
    const redis = privateRedis(await freePort());
    defer(() => redis.kill());
    await redis.start();
    const lines: string[] = [];
    const record = (_: object, message: string) => lines.push(message);
    const emitter = durable(redis.url, 'http://127.0.0.1:9', {
      worker: false,
      logger: { warn: record, error: record },
    });
    expect(await Promise.all([emitter.productUpdated({ id: 1 }), emitter.productUpdated({ id: 2 })])).toEqual(
      [true, true],
    );
    expect(emitter.held()).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('bounds the buffer, and reports what it refuses and what close() could not store', async () => {
    const failures: DeliveryFailure[] = [];
    const errors: string[] = [];
    const emitter = durable(`redis://127.0.0.1:${await freePort()}`, 'http://127.0.0.1:9', {
      maxHeldEvents: 2,
      onFailure: (failure) => failures.push(failure),
      logger: { warn() {}, error: (_, message) => errors.push(message) },
    });
    for (const id of [1, 2, 3]) expect(await emitter.productUpdated({ id, name: 'x' })).toBe(false);
    expect(emitter.held().map((event) => event.data.id)).toEqual(['1', '2']);
    expect(failures).toMatchObject([
      { attempts: 0, data: { id: '3' }, reason: 'Redis unreachable and 2 events already held in memory' },
    ]);
    const report = await emitter.close(500);
    expect(report.held.map((event) => event.data.id)).toEqual(['1', '2']);
    expect(failures.map((failure) => [failure.data.id, failure.reason])).toEqual([
      ['3', 'Redis unreachable and 2 events already held in memory'],
      ['1', 'not stored in Redis before close()'],
      ['2', 'not stored in Redis before close()'],
    ]);
    expect(errors).toContain('2 webhook(s) held in memory were not stored in Redis before close()');
  });

  it('a script ended by SIGTERM (nothing listening) with events held reports them, and ends by the signal', async () => {
    const result = await runScript(CHILD, {
      connection: `redis://127.0.0.1:${await freePort()}`,
      url: 'http://127.0.0.1:9',
      events: 2,
      end: 'signal',
    });
    expect(result).toMatchObject({ code: null, signal: 'SIGTERM' });
    const reason = 'process exited before Redis took the event';
    expect(result.stdout).toEqual([
      { emitted: 1, stored: false },
      { emitted: 2, stored: false },
      { onFailure: '1', reason },
      { onFailure: '2', reason },
    ]);
    expect(result.stderr).toContain('2 webhook(s) held in memory at process exit, never stored in Redis');
  });

  it.each(['exit', 'close'] as const)(
    'a script that ends (%s) with events held reports them',
    async (end) => {
      const {
        code,
        stdout: lines,
        stderr,
      } = await runScript(CHILD, {
        connection: `redis://127.0.0.1:${await freePort()}`,
        url: 'http://127.0.0.1:9',
        events: 2,
        end,
      });
      expect(code).toBe(0);
      const reason =
        end === 'exit' ? 'process exited before Redis took the event' : 'not stored in Redis before close()';
      expect(lines).toEqual([
        { emitted: 1, stored: false },
        { emitted: 2, stored: false },
        { onFailure: '1', reason },
        { onFailure: '2', reason },
        ...(end === 'close' ? [{ held: 2 }] : []),
      ]);
      expect(stderr).toContain(
        end === 'exit'
          ? '2 webhook(s) held in memory at process exit, never stored in Redis'
          : '2 webhook(s) held in memory were not stored in Redis before close()',
      );
    },
  );
});
