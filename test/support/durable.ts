import { randomUUID } from 'node:crypto';
import { createDurableWebhookEmitter, type DurableWebhookEmitterOptions } from '@hiwelink/webhooks-bullmq';
import type { Redis } from 'ioredis';

export const TOKEN = '88bedac0-a8da-4700-8d07-5dbbf4fdfd6d';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const quiet = { warn() {}, error() {} };

/**
 * Durable emitters for a test file, each on a queue of its own (`hiwelink-test-<uuid>`) whose keys
 * are deleted afterwards. `cleanup()` (an afterEach) closes the emitters first, then the keys go.
 */
export function durableEmitters(redis: Redis | undefined) {
  const cleanups: (() => Promise<unknown>)[] = [];
  return {
    /** A new queue name, its keys deleted at cleanup. */
    queueName() {
      const name = `hiwelink-test-${randomUUID()}`;
      cleanups.push(async () => {
        if (!redis) return;
        const keys: string[] = [];
        for await (const batch of redis.scanStream({ match: `bull:${name}*` }))
          keys.push(...(batch as string[]));
        if (keys.length > 0) await redis.del(...keys);
      });
      return name;
    },
    /** A durable emitter to `url` on queue `name`, closed at cleanup. */
    emitter(name: string, url: string, options: Partial<DurableWebhookEmitterOptions> = {}) {
      const created = createDurableWebhookEmitter(
        {
          url,
          storeToken: TOKEN,
          connection: REDIS_URL,
          queueName: name,
          retryDelaysMs: [50, 50, 50],
          jitter: 0,
          lockDurationMs: 5000,
          logger: quiet,
          ...options,
        },
        {},
      );
      cleanups.push(() => created.close(5000));
      return created;
    },
    /** Registers another cleanup, run before those registered earlier. */
    defer(cleanup: () => Promise<unknown>) {
      cleanups.push(cleanup);
    },
    async cleanup() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
}
