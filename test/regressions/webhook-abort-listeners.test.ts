// The kind: abort listeners that accumulate on a signal shared by attempts, so that normal
// concurrency prints MaxListenersExceededWarning (which store developers grep for as a leak).
// No listener added for an attempt may outlive it, whatever the concurrency and however the
// attempt ends, in the in-memory emitter and in the deliverer both emitters use.
import { getEventListeners } from 'node:events';
import { createDeliverer, createWebhookEmitter, type WebhookMessage } from '@hiwelink/core';
import { describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, quiet, TOKEN } from '../support/emitters.js';
import { type Behaviour, startReceiver } from '../support/receiver.js';

const defer = cleanupsAfterEach();

/** Every `process` warning emitted while `run` runs. */
async function warningsDuring(run: () => Promise<void>) {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    await run();
    // Warnings are emitted on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings.map((warning) => `${warning.name}: ${warning.message}`);
}

const message = (id: number): WebhookMessage => ({
  id: `msg_${id}`,
  event: 'product.updated',
  topic: 'products',
  entity: String(id),
  data: { id: String(id) },
});

describe('abort listeners live no longer than their attempt', () => {
  it('the emitter at concurrency 16 (the benchmark) prints no MaxListenersExceededWarning', async () => {
    // The first 16 answers are held until all 16 are in flight at once; later ones go at once.
    const held: (() => void)[] = [];
    const receiver = await startReceiver((_, index) =>
      index < 16 ? { status: 200, body: (response) => held.push(() => response.end()) } : { status: 200 },
    );
    defer(receiver.close);
    const emitter = createWebhookEmitter(
      { url: receiver.url, storeToken: TOKEN, concurrency: 16, logger: quiet },
      {},
    );
    defer(() => emitter.close(1000));
    const warnings = await warningsDuring(async () => {
      for (let id = 1; id <= 64; id++) emitter.productUpdated({ id, name: 'Mug' });
      await vi.waitFor(() => expect(held).toHaveLength(16));
      expect(emitter.stats().inFlight).toBe(16);
      for (const release of held.splice(0)) release();
      expect(await emitter.flush(10_000)).toEqual({ remaining: 0 });
    });
    expect(emitter.stats()).toMatchObject({ delivered: 64, failed: 0 });
    expect(warnings).toEqual([]);
  });

  it.each<[string, Behaviour]>([
    ['answered', () => ({ status: 200 })],
    ['failed', () => ({ status: 503 })],
    ['dropped', () => 'drop'],
    ['timed out', () => 'hang'],
  ])('a caller signal shared by attempts keeps no listener once they are %s', async (_, behaviour) => {
    const receiver = await startReceiver(behaviour);
    defer(receiver.close);
    const deliverer = createDeliverer({ url: receiver.url, storeToken: TOKEN, timeoutMs: 300 }, {});
    const shared = new AbortController();
    const sends = [1, 2, 3, 4, 5].map((id) => deliverer.send(message(id), shared.signal));
    await Promise.all(sends);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('a caller signal that aborts mid-attempt ends it as abandoned, and keeps no listener', async () => {
    const receiver = await startReceiver(() => 'hang');
    defer(receiver.close);
    const deliverer = createDeliverer({ url: receiver.url, storeToken: TOKEN, timeoutMs: 60_000 }, {});
    const shared = new AbortController();
    const sends = [1, 2, 3].map((id) => deliverer.send(message(id), shared.signal));
    await vi.waitFor(() => expect(receiver.attempts()).toBe(3));
    shared.abort();
    expect(await Promise.all(sends)).toEqual(
      Array(3).fill({ done: false, retry: true, reason: 'abandoned' }),
    );
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });
});
