// The kind: something going wrong inside a background delivery (the event cannot be serialised,
// the store's axios instance throws, its logger or onFailure hook throws). It must end as a
// reported failure of that one event: never an unhandled rejection, a crash, or a delivery slot
// that stays taken so that later events wait forever.
import type { WebhookEmitterOptions } from '@hiwelink/core';
import axios from 'axios';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, memoryEmitter } from '../support/emitters.js';

const defer = cleanupsAfterEach();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  unhandled.length = 0;
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

const setup = (options: Partial<WebhookEmitterOptions>) =>
  memoryEmitter(defer, undefined, {
    // One slot: a slot lost to the failing event would hold back the next one for good.
    concurrency: 1,
    retryDelaysMs: [10],
    mapping: { products: { passthrough: ['extra'] } },
    ...options,
  });

describe('a failure inside a background delivery stays with its event', () => {
  it('a field that throws when serialised costs that field, not the event nor the next one', async () => {
    const { receiver, emitter, failures } = await setup({});
    const extra = {
      toJSON() {
        throw new Error('lazy relation loaded outside its session');
      },
    };
    // The kit's JSON rule (records/json.ts) drops the field at emit, with a warning naming it.
    expect(emitter.productUpdated({ id: 1, name: 'Broken', extra })).toBe(true);
    emitter.productUpdated({ id: 2, name: 'Fine' });
    expect(await emitter.flush(5000)).toEqual({ remaining: 0 });
    const delivered = receiver.delivered().map((entry) => entry.body.data);
    expect(delivered.map((data) => data.id)).toEqual(['1', '2']);
    expect(delivered[0]).not.toHaveProperty('extra');
    expect(failures).toEqual([]);
    expect(emitter.stats().inFlight).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('an axios instance whose interceptor throws fails the attempt, retried then given up', async () => {
    const http = axios.create();
    http.interceptors.request.use(() => {
      throw new Error('proxy settings are broken');
    });
    const { emitter, failures } = await setup({ http });
    emitter.productUpdated({ id: 1, name: 'Mug' });
    expect(await emitter.flush(5000)).toEqual({ remaining: 0 });
    expect(failures).toMatchObject([
      { attempts: 2, reason: expect.stringContaining('proxy settings are broken') },
    ]);
    expect(unhandled).toEqual([]);
  });

  it('a logger and an onFailure hook that throw change nothing', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const { receiver, emitter } = await setup({
      logger: { warn: throwing, error: throwing },
      onFailure: () => {
        throw new Error('hook down');
      },
    });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    defer(async () => errors.mockRestore());
    emitter.productUpdated({ id: 1, name: 'Broken', extra: { toJSON: throwing } });
    emitter.productUpdated({ id: 2, name: 'Fine' });
    expect(await emitter.flush(5000)).toEqual({ remaining: 0 });
    expect(receiver.delivered().map((entry) => entry.body.data.id)).toEqual(['1', '2']);
    expect(unhandled).toEqual([]);
  });
});
