import { randomUUID } from 'node:crypto';
import { type HiwelinkOptions, type Logger, type RateLimitStore, redisStore } from '@hiwelink/core';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { frameworks, type RunningApp } from '../support/frameworks.js';
import { type Reply, send } from '../support/http-client.js';
import { freePort, startRedisServer } from '../support/redis-server.js';

// Issue #12: with the rate limit on Redis and Redis down, /health answered after 10.6 s (ioredis
// defaults) or never (maxRetriesPerRequest: null). The store now has a time budget, the request is
// counted in this process's memory meanwhile, and the outage is logged once, as is the recovery.

const KEY = 'hwk_live_store_outage_key_0123456789';
const LIMIT = 3;
const OUTAGE = /^rate-limit store unavailable/;
const RECOVERED = /^rate-limit store answers again/;

/** The request's answer, or a rejection once `ms` have passed without one: a hang fails the test. */
function answered(url: string, ms = 5000): Promise<Reply> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${url} within ${ms} ms`)), ms);
  });
  return Promise.race([send(url, { headers: { 'x-api-key': KEY } }), deadline]).finally(() =>
    clearTimeout(timer),
  );
}

/** Polls `condition` every 50 ms; rejects naming `what` after `ms`. */
async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  for (const end = Date.now() + ms; !(await condition()); ) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Instance {
  name: string;
  app: RunningApp;
  warnings: string[];
  prefix: string;
}

const list = () => ({ items: [], total: 0 });

const running: Instance[] = [];
const clients: Redis[] = [];
const servers: { kill(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(({ app }) => app.close()));
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(servers.splice(0).map((server) => server.kill()));
});

/** One app per framework version, each with its own key prefix on one shared Redis client. */
async function startAll(store: (prefix: string) => RateLimitStore): Promise<Instance[]> {
  for (const framework of frameworks) {
    const warnings: string[] = [];
    const logger: Logger = { warn: (_details, message) => warnings.push(message), error() {} };
    const prefix = `hiwelink:test:outage:${randomUUID()}:`;
    const options: HiwelinkOptions = {
      products: list,
      orders: list,
      auth: { apiKey: KEY },
      logger,
      rateLimit: { limit: LIMIT, windowMs: 60_000, store: store(prefix) },
    };
    running.push({ name: framework.name, app: await framework.start(options), warnings, prefix });
  }
  return running;
}

async function statuses(instance: Instance, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let index = 0; index < count; index++) {
    seen.push((await answered(`${instance.app.url}/health`)).status);
  }
  return seen;
}

const CLIENTS: [string, RedisOptions][] = [
  ['ioredis defaults', {}],
  ['maxRetriesPerRequest: null (BullMQ)', { maxRetriesPerRequest: null }],
  ['lazyConnect: true', { lazyConnect: true }],
];

function client(port: number, options: RedisOptions): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, ...options });
  redis.on('error', () => {}); // the outage is the point; ioredis reports each reconnect attempt
  clients.push(redis);
  return redis;
}

describe.each(CLIENTS)('Redis store with %s', (_name, redisOptions) => {
  it('never reachable: every framework answers at once, limits from memory, and logs the outage once', async () => {
    const port = await freePort(); // nothing listens there
    const redis = client(port, redisOptions);
    for (const instance of await startAll((prefix) => redisStore(redis, { prefix }))) {
      expect(await statuses(instance, LIMIT + 1), instance.name).toEqual([200, 200, 200, 429]);
      const limited = await answered(`${instance.app.url}/health`);
      expect(limited.json()).toEqual({ error: 'Too Many Requests', code: 'rate_limited' });
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(instance.warnings, instance.name).toHaveLength(1);
      expect(instance.warnings[0]).toMatch(OUTAGE);
    }
  });

  it('dies mid-run and comes back: served throughout, outage and recovery logged once each', async () => {
    const port = await freePort();
    servers.push(await startRedisServer(port));
    const redis = client(port, redisOptions);
    const instances = await startAll((prefix) => redisStore(redis, { prefix }));
    for (const instance of instances) {
      expect(await statuses(instance, 2), instance.name).toEqual([200, 200]);
      expect(await redis.keys(`${instance.prefix}*`), instance.name).toHaveLength(1);
    }
    await servers.pop()?.kill();
    for (const instance of instances) {
      // Two counted on Redis before it died; the fallback counts this process's requests afresh.
      expect(await statuses(instance, LIMIT + 1), instance.name).toEqual([200, 200, 200, 429]);
      expect(instance.warnings, instance.name).toHaveLength(1);
      expect(instance.warnings[0]).toMatch(OUTAGE);
    }
    servers.push(await startRedisServer(port));
    await until(() => redis.status === 'ready', 'the reconnect');
    for (const instance of instances) {
      await until(
        async () => (await answered(`${instance.app.url}/health`)) && instance.warnings.length > 1,
        `${instance.name}: the recovery`,
      );
      expect(instance.warnings, instance.name).toHaveLength(2);
      expect(instance.warnings[1]).toMatch(RECOVERED);
      // Counting is back on Redis, which restarted empty.
      expect((await answered(`${instance.app.url}/health`)).status, instance.name).toBe(200);
      expect(await redis.keys(`${instance.prefix}*`), instance.name).toHaveLength(1);
    }
  });
});

describe.each(CLIENTS.slice(0, 2))('Redis store with %s', (_name, redisOptions) => {
  it('hangs mid-run (SIGSTOP): answers within the budget, one command left waiting, recovery logged', async () => {
    const port = await freePort();
    const server = await startRedisServer(port);
    servers.push(server);
    const redis = client(port, redisOptions);
    const instances = await startAll((prefix) => redisStore(redis, { prefix }));
    for (const instance of instances) expect(await statuses(instance, 1), instance.name).toEqual([200]);
    server.pause();
    for (const instance of instances) {
      // One counted on Redis; the hung call is abandoned and the fallback counts afresh.
      expect(await statuses(instance, LIMIT + 1), instance.name).toEqual([200, 200, 200, 429]);
      expect(instance.warnings, instance.name).toHaveLength(1);
      expect(instance.warnings[0]).toMatch(OUTAGE);
    }
    server.resume();
    for (const instance of instances) {
      // The abandoned command completes by itself: that answer is the recovery, no request needed.
      await until(() => instance.warnings.length > 1, `${instance.name}: the recovery`);
      expect(instance.warnings[1]).toMatch(RECOVERED);
      // The request before the hang and the one abandoned call: the other four were not piled up.
      const [key] = await redis.keys(`${instance.prefix}*`);
      expect(await redis.get(key as string), instance.name).toBe('2');
    }
  });
});

describe('a custom store', () => {
  it.each<[string, () => RateLimitStore]>([
    ['that never answers', () => ({ hit: () => new Promise(() => {}) })],
    [
      'that throws',
      () => ({
        hit() {
          throw new Error('store exploded');
        },
      }),
    ],
    ['that answers nonsense', () => ({ hit: async () => ({ count: Number.NaN, resetMs: -1 }) })],
  ])('%s gets the same time budget and fallback in every framework', async (_case, store) => {
    for (const instance of await startAll(store)) {
      expect(await statuses(instance, LIMIT + 1), instance.name).toEqual([200, 200, 200, 429]);
      expect(instance.warnings, instance.name).toHaveLength(1);
      expect(instance.warnings[0]).toMatch(OUTAGE);
    }
  });
});

describe('a custom store that loses one call', () => {
  // Review of #12: the one call that never settled kept the fallback for good; the store, healthy
  // again, was never called again and its recovery never logged.
  it('is probed again, and counts again once it answers, in every framework', async () => {
    const calls = new Map<string, number>();
    const instances = await startAll((prefix) => ({
      hit() {
        const call = (calls.get(prefix) ?? 0) + 1;
        calls.set(prefix, call);
        // The first call is lost; the store then counts every request as the first of its window.
        return call === 1 ? new Promise(() => {}) : { count: 1, resetMs: 60_000 };
      },
    }));
    for (const instance of instances) {
      expect(await statuses(instance, 1), instance.name).toEqual([200]);
      expect(instance.warnings, instance.name).toEqual([expect.stringMatching(OUTAGE)]);
      await until(
        async () => (await answered(`${instance.app.url}/health`)) && instance.warnings.length > 1,
        `${instance.name}: the recovery`,
      );
      expect(instance.warnings[1], instance.name).toMatch(RECOVERED);
      // Counted by the store again: past the limit of the fallback, every request passes.
      expect(await statuses(instance, LIMIT + 1), instance.name).toEqual([200, 200, 200, 200]);
      expect(instance.warnings, instance.name).toHaveLength(2);
    }
  });
});
