// The kind: a numeric option of an emitter that cannot work. Unchecked, `timeoutMs: Infinity` (or
// 2^31, 0, -1) aborted every attempt after 1 ms, `concurrency: 0` (or -1, NaN) made every emit
// return true and deliver nothing, `emitTimeoutMs: Infinity` or 0 ended each emit's wait at once,
// and a NaN or negative `maxHeldEvents`, retry delay or jitter gave waits and bounds that mean
// nothing. Each is refused when the emitter is created, with an error naming the option and what
// fits, in both emitters; values at the edges of what works are accepted.
import { createWebhookEmitter, HiwelinkConfigError } from '@hiwelink/core';
import { createDurableWebhookEmitter } from '@hiwelink/webhooks-bullmq';
import { describe, expect, it } from 'vitest';
import { quiet } from '../support/emitters.js';

// No URL or store token: the options are checked, and nothing connects anywhere.
const memory = (options: object) => () => createWebhookEmitter({ logger: quiet, ...options }, {});
const durable = (options: object) => async () => {
  await createDurableWebhookEmitter({ logger: quiet, ...options }, {}).close(100);
};

const shared: [string, object, RegExp][] = [
  [
    'timeoutMs Infinity',
    { timeoutMs: Number.POSITIVE_INFINITY },
    /webhooks\.timeoutMs: must be a whole number of ms from 1 to 2147483647 \(got Infinity\)/,
  ],
  ['timeoutMs 2^31', { timeoutMs: 2 ** 31 }, /webhooks\.timeoutMs: .*about 24\.8 days/],
  ['timeoutMs 0', { timeoutMs: 0 }, /webhooks\.timeoutMs: must be a whole number of ms/],
  ['timeoutMs -1', { timeoutMs: -1 }, /webhooks\.timeoutMs/],
  ['timeoutMs NaN', { timeoutMs: Number.NaN }, /webhooks\.timeoutMs: .*\(got NaN\)/],
  ['timeoutMs as text', { timeoutMs: '1000' }, /webhooks\.timeoutMs: .*\(got "1000"\)/],
  ['concurrency 0', { concurrency: 0 }, /webhooks\.concurrency: must be a whole number, 1 or more \(got 0\)/],
  ['concurrency -1', { concurrency: -1 }, /webhooks\.concurrency/],
  ['concurrency NaN', { concurrency: Number.NaN }, /webhooks\.concurrency/],
  ['concurrency 1.5', { concurrency: 1.5 }, /webhooks\.concurrency/],
  [
    'a NaN retry delay',
    { retryDelaysMs: [1000, Number.NaN] },
    /webhooks\.retryDelaysMs\[1\]: must be a finite number of ms, 0 or more/,
  ],
  ['a negative retry delay', { retryDelaysMs: [-5] }, /webhooks\.retryDelaysMs\[0\]/],
  ['an Infinity retry delay', { retryDelaysMs: [Number.POSITIVE_INFINITY] }, /webhooks\.retryDelaysMs\[0\]/],
  ['retry delays not an array', { retryDelaysMs: 1000 }, /webhooks\.retryDelaysMs: must be an array/],
  ['jitter NaN', { jitter: Number.NaN }, /webhooks\.jitter/],
  ['jitter -0.1', { jitter: -0.1 }, /webhooks\.jitter: must be from 0 to 1/],
  ['jitter 2', { jitter: 2 }, /webhooks\.jitter: must be from 0 to 1/],
];

const memoryOnly: [string, object, RegExp][] = [
  ['maxQueueSize 0', { maxQueueSize: 0 }, /webhooks\.maxQueueSize: must be a whole number, 1 or more/],
  ['maxQueueSize NaN', { maxQueueSize: Number.NaN }, /webhooks\.maxQueueSize/],
  [
    'overflow misspelt',
    { overflow: 'drop-newest' },
    /webhooks\.overflow: must be 'reject-new' or 'drop-oldest'/,
  ],
];

const durableOnly: [string, object, RegExp][] = [
  [
    'emitTimeoutMs Infinity',
    { emitTimeoutMs: Number.POSITIVE_INFINITY },
    /webhooks\.emitTimeoutMs: must be a whole number of ms/,
  ],
  ['emitTimeoutMs 0', { emitTimeoutMs: 0 }, /webhooks\.emitTimeoutMs/],
  ['maxHeldEvents -1', { maxHeldEvents: -1 }, /webhooks\.maxHeldEvents: must be a whole number, 0 or more/],
  ['maxHeldEvents NaN', { maxHeldEvents: Number.NaN }, /webhooks\.maxHeldEvents/],
  ['lockDurationMs 0', { lockDurationMs: 0 }, /webhooks\.lockDurationMs/],
];

describe('in-memory emitter: numeric options are checked at creation', () => {
  it.each([...shared, ...memoryOnly])(
    '%s: a HiwelinkConfigError naming the option',
    (_, options, message) => {
      expect(memory(options)).toThrow(HiwelinkConfigError);
      expect(memory(options)).toThrow(message);
    },
  );

  it('lists every wrong option at once', () => {
    expect(memory({ timeoutMs: 0, concurrency: 0 })).toThrow(/timeoutMs[\s\S]*concurrency/);
  });

  it('values at the edges of what works are accepted', () => {
    expect(
      memory({
        timeoutMs: 2 ** 31 - 1,
        concurrency: 1,
        maxQueueSize: 1,
        retryDelaysMs: [0, 60 * 86_400_000],
        jitter: 1,
      }),
    ).not.toThrow();
    expect(memory({ jitter: 0, retryDelaysMs: [] })).not.toThrow();
  });
});

describe('durable emitter: numeric options are checked at creation', () => {
  it.each([...shared, ...durableOnly])(
    '%s: a HiwelinkConfigError naming the option',
    async (_, options, message) => {
      await expect(durable(options)()).rejects.toThrow(HiwelinkConfigError);
      await expect(durable(options)()).rejects.toThrow(message);
    },
  );

  it('values at the edges of what works are accepted', async () => {
    await expect(
      durable({
        timeoutMs: 1,
        emitTimeoutMs: 2 ** 31 - 1,
        maxHeldEvents: 0,
        concurrency: 1,
        lockDurationMs: 1000,
        jitter: 0,
      })(),
    ).resolves.toBeUndefined();
  });
});
