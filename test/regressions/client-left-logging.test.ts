import { once } from 'node:events';
import { request } from 'node:http';
import type { HiwelinkOptions } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { frameworks, startPerTest } from '../support/frameworks.js';

/*
 * Kind: a client that leaves while the store's callback runs, reported as the store's failure.
 * The callback does what the kit asks of it: stops when its signal aborts (a cancelled query) and
 * rejects with the signal's reason. Every host passed that on as "products callback failed" at
 * error level with a stack (Next.js logged ResponseAborted so for each impatient client), which
 * pages whoever watches the store's errors though nothing in the store failed. It is a warning
 * naming the callback and the client, once.
 */

const KEY = 'sk_test_client_left_0123456789abcdef';

interface Line {
  level: 'warn' | 'error';
  message: string;
}

describe.each(frameworks)('$name: a client that leaves mid-callback', (framework) => {
  const start = startPerTest(framework);

  it('is a warning naming the callback, not an error', async () => {
    const lines: Line[] = [];
    let logged: () => void = () => {};
    const settled = new Promise<void>((resolve) => {
      logged = resolve;
    });
    const record = (level: Line['level']) => (_details: object, message: string) => {
      lines.push({ level, message });
      logged();
    };
    let started: (signal: AbortSignal) => void = () => {};
    const running = new Promise<AbortSignal>((resolve) => {
      started = resolve;
    });
    const app = await start({
      products: ({ signal }) => {
        started(signal);
        return new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        });
      },
      orders: () => ({ items: [], total: 0 }),
      auth: { apiKey: KEY },
      logger: { warn: record('warn'), error: record('error') },
    } satisfies HiwelinkOptions);
    const outgoing = request(`${app.url}/api/products`, { headers: { 'x-api-key': KEY }, agent: false });
    outgoing.on('error', () => {});
    outgoing.end();
    const signal = await running;
    outgoing.destroy();
    await once(signal, 'abort');
    await settled;
    expect(lines).toEqual([
      { level: 'warn', message: 'products callback stopped: the client closed the connection first' },
    ]);
  });
});
