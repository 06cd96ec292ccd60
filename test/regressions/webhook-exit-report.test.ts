// The kind: a process that ends while events are still held, so that they vanish without a word
// (a script that emits and falls off its end, or calls process.exit). Events still queued at exit
// are reported (the log and onFailure), the hook neither keeps the process alive nor throws, and
// a script that closes properly or whose events were all delivered reports nothing extra.
import { fileURLToPath } from 'node:url';
import { createWebhookEmitter } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, runScript } from '../support/emitters.js';
import { startReceiver } from '../support/receiver.js';

const CHILD = fileURLToPath(new URL('../support/webhooks-exit-child.mjs', import.meta.url));
const defer = cleanupsAfterEach();

/** Runs the script to its end (a hang is killed after 10 s). */
const run = (config: { url: string; events: number; end: 'fall-off' | 'exit' | 'close' }) =>
  runScript(CHILD, config, 10_000);

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
    expect(result.stdout).toEqual([{ undelivered: 3 }]);
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
