import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { verifyWebhook } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, durableEmitters, memoryEmitter } from '../support/emitters.js';
import { startReceiver } from '../support/receiver.js';
import { connectRedis } from '../support/services.js';

/*
 * Kind: a webhook signing secret with stray whitespace (a trailing newline from a Kubernetes
 * secret or `echo` into a file), or given blank. The emitters signed with the newline, so every
 * event failed verification at a receiver holding the secret as the dashboard shows it; and
 * `hiwelink webhooks listen --secret "$UNSET"` silently checked nothing. Whitespace around a
 * secret is now ignored on both sides, and a blank --secret is refused.
 */

const SECRET = 'whsec_c3RyYXktd2hpdGVzcGFjZS1zZWNyZXQtMDAwMQ==';
const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const redis = await connectRedis();

describe('a webhook secret with surrounding whitespace', () => {
  const defer = cleanupsAfterEach();

  it('signs with the secret itself in the in-memory emitter', async () => {
    const { emitter, receiver } = await memoryEmitter(defer, undefined, { secret: `${SECRET}\n` });
    expect(emitter.productUpdated({ id: 'p1', name: 'Lamp', price: 5 })).toBe(true);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
    const [event] = receiver.received;
    expect(verifyWebhook(event?.raw ?? Buffer.alloc(0), event?.headers ?? {}, SECRET)).toMatchObject({
      ok: true,
    });
    // And a receiver whose copy has the newline too accepts it.
    expect(
      verifyWebhook(event?.raw ?? Buffer.alloc(0), event?.headers ?? {}, ` ${SECRET}\r\n`),
    ).toMatchObject({ ok: true });
  });

  it.skipIf(!redis)('signs with the secret itself in the durable emitter', async () => {
    const receiver = await startReceiver();
    defer(receiver.close);
    const durable = durableEmitters(redis, defer);
    const emitter = durable.emitter(durable.queueName(), receiver.url, { secret: `\t${SECRET}\n` });
    expect(await emitter.productUpdated({ id: 'p2', name: 'Rug', price: 7 })).toBe(true);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    const [event] = receiver.received;
    expect(verifyWebhook(event?.raw ?? Buffer.alloc(0), event?.headers ?? {}, SECRET)).toMatchObject({
      ok: true,
    });
  });
});

describe('a blank --secret in the CLI', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { timeout: 20_000 }, (error, _stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });

  it.each([
    ['webhooks listen', ['webhooks', 'listen', '--port', '0', '--secret', '']],
    ['webhooks send', ['webhooks', 'send', 'http://127.0.0.1:9/', '--secret', '  ']],
  ])('%s refuses it instead of checking or signing nothing', async (_name, args) => {
    const { code, stderr } = await run(args);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--secret is empty/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
