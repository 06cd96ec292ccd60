import { randomUUID } from 'node:crypto';
import { type HiwelinkOptions, redisStore } from '@hiwelink/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { frameworks, type RunningApp } from './support/frameworks.js';
import { send } from './support/http-client.js';
import { connectRedis } from './support/services.js';

const redis = await connectRedis();
const KEY = 'hwk_live_redis_rate_limit_key';

describe.skipIf(!redis)('rate limit on Redis, shared by several instances', () => {
  const apps: RunningApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => redis?.disconnect());

  const options = (prefix: string): HiwelinkOptions => ({
    products: () => ({ items: [], total: 0 }),
    orders: () => ({ items: [], total: 0 }),
    auth: { apiKey: KEY },
    logger: { warn() {}, error() {} },
    // Only the Redis store is shared between the two instances below.
    rateLimit: {
      limit: 4,
      windowMs: 2000,
      store: redisStore(redis as NonNullable<typeof redis>, { prefix }),
    },
  });

  it('counts requests across instances, one per framework version, and resets with the window', async () => {
    const prefix = `hiwelink:test:${randomUUID()}:`;
    for (const framework of frameworks) apps.push(await framework.start(options(prefix)));
    const statuses: number[] = [];
    for (const app of [...apps, ...apps]) {
      statuses.push((await send(`${app.url}/api/products`, { headers: { 'x-api-key': KEY } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, ...Array(2 * frameworks.length - 4).fill(429)]);
    const keys = await redis?.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    const ttl = await redis?.pttl(keys?.[0] as string);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
    await new Promise((resolve) => setTimeout(resolve, (ttl ?? 0) + 100));
    expect((await send(`${apps[0]?.url}/api/products`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
  });

  it('counts in memory and logs once when Redis fails (test/regressions/rate-limit-store-outage.test.ts has more)', async () => {
    const warnings: string[] = [];
    // A real client whose server is gone: nothing listens on port 1.
    const broken = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    broken.on('error', () => {});
    const express = frameworks[1];
    const app = await (express?.start({
      ...options('unused:'),
      rateLimit: { limit: 1, store: redisStore(broken) },
      logger: { warn: (_details, message) => warnings.push(message), error() {} },
    }) as Promise<RunningApp>);
    apps.push(app);
    expect((await send(`${app.url}/health`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await send(`${app.url}/health`, { headers: { 'x-api-key': KEY } })).status).toBe(429);
    expect(warnings).toEqual([
      'rate-limit store unavailable: counting in this process until it answers again',
    ]);
  });
});
