// The kind: a process that ends while events are still held, so that they vanish without a word
// (a script that emits and falls off its end, or calls process.exit). Events still queued at exit
// are reported (the log and onFailure), the hook neither keeps the process alive nor throws, and
// a script that closes properly or whose events were all delivered reports nothing extra.
// The same holds for SIGINT/SIGTERM, which end a process without its 'exit' event: with nothing
// else listening to the signal, the held events are reported and the process still ends by that
// signal; a process with its own handler keeps it (the handler awaits close()). And close()
// reports each event it leaves once, the same way whatever the retry schedule: an attempt it
// abandoned at the deadline went to onFailure after close() had resolved with retryDelaysMs: [],
// and never with [1000].
import { fileURLToPath } from 'node:url';
import { createWebhookEmitter } from '@hiwelink/core';
import { describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, memoryEmitter, runScript } from '../support/emitters.js';
import { startReceiver } from '../support/receiver.js';

const CHILD = fileURLToPath(new URL('../support/webhooks-exit-child.mjs', import.meta.url));
const defer = cleanupsAfterEach();

/** Runs the script to its end (a hang is killed after 10 s). */
const run = (config: {
  url: string;
  events: number;
  end: 'fall-off' | 'exit' | 'close' | 'signal' | 'signal-handled';
}) => runScript(CHILD, config, 10_000);

/** A port where nothing listens: the receiver is down. */
async function downUrl() {
  const probe = await startReceiver();
  await probe.close();
  return probe.url;
}

describe('events still queued when the process exits are reported', () => {
  it.each(['fall-off', 'exit'] as const)(
    'a script that ends (%s) with the receiver down names them',
    async (end) => {
      const result = await run({ url: await downUrl(), events: 3, end });
      expect(result).toMatchObject({ code: 0, signal: null });
      expect(result.stderr).toContain('[hiwelink] 3 webhook(s) still queued at process exit, not delivered');
      expect(result.stderr).toContain('await webhooks.close()');
      expect(result.stdout).toEqual(
        ['1', '2', '3'].map((id) => ({
          onFailure: id,
          reason: 'process exited with the event still queued',
        })),
      );
    },
  );

  it('a script that awaits close() gets its report from close(), and nothing at exit', async () => {
    const result = await run({ url: await downUrl(), events: 3, end: 'close' });
    expect(result).toMatchObject({ code: 0, signal: null });
    const closeReason = 'not delivered before close()';
    expect(result.stdout).toEqual([
      { onFailure: '1', reason: closeReason },
      { onFailure: '2', reason: closeReason },
      { onFailure: '3', reason: closeReason },
      { undelivered: 3 },
    ]);
    expect(result.stderr).not.toContain('at process exit');
  });

  it('SIGTERM with nothing listening: the events are named, and the process still ends by the signal', async () => {
    const result = await run({ url: await downUrl(), events: 3, end: 'signal' });
    expect(result).toMatchObject({ code: null, signal: 'SIGTERM' });
    const reason = 'process exited with the event still queued';
    expect(result.stdout).toEqual([
      { onFailure: '1', reason },
      { onFailure: '2', reason },
      { onFailure: '3', reason },
    ]);
    expect(result.stderr).toContain('3 webhook(s) still queued at process exit');
  });

  it('SIGTERM to a handler of its own: left to it (it awaits close()), nothing reported twice', async () => {
    // A receiver that never answers: close() abandons both attempts at its deadline.
    const receiver = await startReceiver(() => 'hang');
    defer(receiver.close);
    const result = await run({ url: receiver.url, events: 2, end: 'signal-handled' });
    expect(result).toMatchObject({ code: 0, signal: null });
    const reason = 'not delivered before close()';
    expect(result.stdout).toEqual([
      { onFailure: '1', reason },
      { onFailure: '2', reason },
      { undelivered: 2 },
    ]);
    expect(result.stderr).not.toContain('at process exit');
  });

  it('a script whose events were all delivered before it ended reports nothing', async () => {
    const receiver = await startReceiver();
    defer(receiver.close);
    const result = await run({ url: receiver.url, events: 3, end: 'fall-off' });
    expect(result).toMatchObject({ code: 0, signal: null, stdout: [] });
    expect(receiver.delivered()).toHaveLength(3);
    expect(result.stderr).toBe('');
  });

  it('twenty emitters holding events add one exit listener between them, gone once they are done', async () => {
    const url = await downUrl();
    const before = process.listenerCount('exit');
    const emitters = Array.from({ length: 20 }, () =>
      createWebhookEmitter({ url, storeToken: 'tok', logger: { warn() {}, error() {} } }, {}),
    );
    for (const emitter of emitters) emitter.productUpdated({ id: 1, name: 'Mug' });
    expect(process.listenerCount('exit')).toBe(before + 1);
    await Promise.all(emitters.map((emitter) => emitter.close(100)));
    expect(process.listenerCount('exit')).toBe(before);
  });
});

describe('close() reports each event it leaves once, and nothing after it resolved', () => {
  it.each([[[]], [[1000]]])(
    'an attempt abandoned at the deadline (retryDelaysMs %j) goes to onFailure once, before close() resolves',
    async (retryDelaysMs) => {
      const { receiver, emitter, failures } = await memoryEmitter(defer, () => 'hang', { retryDelaysMs });
      emitter.productUpdated({ id: 1, name: 'Mug' });
      emitter.productUpdated({ id: 2, name: 'Cup' });
      await vi.waitFor(() => expect(receiver.attempts()).toBe(2));
      const report = await emitter.close(300);
      expect(report.undelivered.map((event) => event.data.id)).toEqual(['1', '2']);
      const atClose = failures.map((failure) => [failure.data.id, failure.reason]);
      expect(atClose).toEqual([
        ['1', 'not delivered before close()'],
        ['2', 'not delivered before close()'],
      ]);
      // The abandoned attempts have ended by now; they add nothing.
      await vi.waitFor(() => expect(emitter.stats().inFlight).toBe(0));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(failures.map((failure) => [failure.data.id, failure.reason])).toEqual(atClose);
      expect(emitter.stats()).toMatchObject({ failed: 0, delivered: 0 });
    },
  );
});
