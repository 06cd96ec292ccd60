import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWebhookEmitter, type DeliveryFailure, type WebhookEmitterOptions } from '@hiwelink/core';
import { createDurableWebhookEmitter, type DurableWebhookEmitterOptions } from '@hiwelink/webhooks-bullmq';
import type { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { type Behaviour, startReceiver } from './receiver.js';

export const TOKEN = '88bedac0-a8da-4700-8d07-5dbbf4fdfd6d';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const quiet = { warn() {}, error() {} };

/**
 * Cleanups for the calling test file, run after each test, last registered first (an emitter
 * closes before its receiver or its Redis keys go). Call once, at the top of the file.
 */
export function cleanupsAfterEach() {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup: () => Promise<unknown>) => {
    cleanups.push(cleanup);
  };
}

export type Defer = ReturnType<typeof cleanupsAfterEach>;

/**
 * A receiver behaving as `behaviour` and an in-memory emitter pointed at it (no jitter, a quiet
 * logger, every failure collected in `failures`; `options` override), both closed by `defer`.
 */
export async function memoryEmitter(
  defer: Defer,
  behaviour?: Behaviour,
  options: Partial<WebhookEmitterOptions> = {},
) {
  const receiver = await startReceiver(behaviour);
  defer(receiver.close);
  const failures: DeliveryFailure[] = [];
  const emitter = createWebhookEmitter(
    {
      url: receiver.url,
      storeToken: TOKEN,
      jitter: 0,
      logger: quiet,
      onFailure: (failure) => failures.push(failure),
      ...options,
    },
    {},
  );
  defer(() => emitter.close(2000));
  return { receiver, emitter, failures };
}

/**
 * Durable emitters on the shared Redis, each on a queue of its own (`hiwelink-test-<uuid>`) whose
 * keys `defer` deletes after the emitters have closed.
 */
export function durableEmitters(redis: Redis | undefined, defer: Defer) {
  return {
    /** A new queue name, its keys deleted at cleanup. */
    queueName() {
      const name = `hiwelink-test-${randomUUID()}`;
      defer(async () => {
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
      defer(() => created.close(5000));
      return created;
    },
  };
}

/**
 * A maker of durable emitters on a Redis of the test's own (`connection`), on queue `queueName`,
 * quiet and fast to retry (`options` override), each closed by `defer` within `closeMs`.
 */
export function privateDurable(defer: Defer, queueName: string, closeMs = 2000) {
  return (connection: string, url: string, options: Partial<DurableWebhookEmitterOptions> = {}) => {
    const emitter = createDurableWebhookEmitter(
      {
        url,
        storeToken: TOKEN,
        connection,
        queueName,
        retryDelaysMs: [50, 50, 50],
        jitter: 0,
        logger: quiet,
        ...options,
      },
      {},
    );
    defer(() => emitter.close(closeMs));
    return emitter;
  };
}

/**
 * Runs a Node script configured by the HIWELINK_CHILD environment variable (`config` as JSON) to
 * its end. Resolves with its exit code and signal, its stdout as JSON lines and its stderr; a
 * script still running after `hangMs` is killed (signal SIGKILL: a hang).
 */
export async function runScript(script: string, config: object, hangMs = 15_000) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, HIWELINK_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const hang = setTimeout(() => child.kill('SIGKILL'), hangMs);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(hang);
  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { code, signal, stdout: lines, stderr };
}
