import { inspect } from 'node:util';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Logger } from '../logger.js';

/** One window's count for a key, and how long until that window ends. */
export interface RateLimitHit {
  /** Requests counted for the key in the current window, this one included: an integer >= 1. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero; >= 0. */
  resetMs: number;
}

/**
 * Where request counts live: `memoryStore()` for one process, `redisStore(client)` for several
 * instances, or your own object with this method. The kit gives every store the same time budget
 * (`rateLimit.storeTimeoutMs`) and falls back to this process's memory when it fails.
 */
export interface RateLimitStore {
  /**
   * Counts one request for `key` in the current fixed window of `windowMs` milliseconds (a whole
   * number of seconds) and returns the new count. May throw or reject when the store is down.
   */
  hit(key: string, windowMs: number): RateLimitHit | Promise<RateLimitHit>;
}

// The stores only count; the kit compares the count with the limit, so one store serves any limit.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** A store counting through one rate-limiter-flexible limiter per window length. */
function limiterStore(create: (durationSeconds: number) => RateLimiterAbstract): RateLimitStore {
  const limiters = new Map<number, RateLimiterAbstract>();
  return {
    async hit(key, windowMs) {
      let limiter = limiters.get(windowMs);
      if (!limiter) {
        limiter = create(windowMs / 1000);
        limiters.set(windowMs, limiter);
      }
      const result = await limiter.consume(key, 1);
      return { count: result.consumedPoints, resetMs: Math.max(0, result.msBeforeNext) };
    },
  };
}

// Stores that cannot fail or stall, and so need neither budget nor fallback (a timer per request).
const inMemory = new WeakSet<RateLimitStore>();

/**
 * Fixed windows in this process's memory (rate-limiter-flexible's `RateLimiterMemory`); each key
 * is dropped when its window ends.
 */
export function memoryStore(): RateLimitStore {
  const store = limiterStore(
    (duration) => new RateLimiterMemory({ points: UNLIMITED, duration, keyPrefix: '' }),
  );
  inMemory.add(store);
  return store;
}

/**
 * The parts of an ioredis client the Redis store uses; an ioredis `Redis` (BullMQ's connection
 * included) fits as it is. node-redis clients do not.
 */
export interface RedisClient {
  /** ioredis's connection state; commands are sent only while it is `'ready'`. */
  readonly status: string;
  /** Connects a client made with `lazyConnect: true`. */
  connect(): Promise<unknown>;
  /** Registers the counting script (rate-limiter-flexible's atomic INCR with expiry). */
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
  /** Waits for the `ready` event. */
  once(event: 'ready', listener: () => void): unknown;
}

// ioredis states before the first `ready`: 'wait' is a lazyConnect client not yet asked to connect.
const STARTING = new Set(['wait', 'connecting', 'connect']);

/** @deprecated The client type is now {@link RedisClient}: an ioredis client, as before. */
export type RedisEval = RedisClient;

/**
 * Fixed windows shared by every instance through Redis (rate-limiter-flexible's
 * `RateLimiterRedis`), under keys `prefix + key` (default prefix `hiwelink:rate:`), each expiring
 * with its window.
 *
 * A command is sent only while the client is connected (`rejectIfRedisNotReady`): otherwise
 * ioredis would queue it, for 10 s and more with its defaults and for ever with
 * `maxRetriesPerRequest: null`, and the crawl would wait with it. While the client is connecting a
 * call waits for it, within the kit's time budget (`rateLimit.storeTimeoutMs`); while it is
 * reconnecting, or once it has ended, a call fails at once and the kit counts in memory. A
 * `lazyConnect` client is connected on first use.
 *
 * @throws TypeError when `client` is not an ioredis client.
 */
export function redisStore(client: RedisClient, { prefix = 'hiwelink:rate:' } = {}): RateLimitStore {
  if (typeof client?.defineCommand !== 'function' || typeof client.status !== 'string') {
    throw new TypeError(
      'redisStore(client): client must be an ioredis client, e.g. new Redis(process.env.REDIS_URL)',
    );
  }
  const store = limiterStore(
    (duration) =>
      new RateLimiterRedis({
        storeClient: client,
        rejectIfRedisNotReady: true,
        points: UNLIMITED,
        duration,
        keyPrefix: '',
      }),
  );
  // One wait for the connection, shared by the calls that arrive while there is none.
  let connected: Promise<void> | undefined;
  const ready = () => {
    connected ??= new Promise<void>((resolve) => {
      client.once('ready', () => {
        connected = undefined;
        resolve();
      });
      if (client.status === 'wait') client.connect().catch(() => {}); // failures show as not ready
    });
    return connected;
  };
  return {
    async hit(key, windowMs) {
      // A first connection may be moments away: wait for it. A lost one is an outage: fail now.
      if (STARTING.has(client.status)) await ready();
      else if (client.status !== 'ready')
        throw new Error(`Redis is not connected (ioredis status '${client.status}')`);
      return store.hit(prefix + key, windowMs);
    },
  };
}

const isHit = (hit: unknown): hit is RateLimitHit => {
  const { count, resetMs } = (hit ?? {}) as Partial<RateLimitHit>;
  return (
    Number.isSafeInteger(count) &&
    (count as number) >= 1 &&
    Number.isFinite(resetMs) &&
    (resetMs as number) >= 0
  );
};

/** First wait before probing a store that gave no answer within its budget, in ms (or the budget, if longer). */
export const FIRST_PROBE_AFTER_MS = 1000;
/** Longest wait between two probes of such a store, in ms (or the budget, if longer). */
export const MAX_PROBE_INTERVAL_MS = 30_000;

/**
 * Counts through `store` within `timeoutMs`, and through this process's memory when the store
 * throws, rejects, answers something that is not a {@link RateLimitHit}, or takes longer: a store
 * outage limits each instance on its own instead of stalling or failing the request. The outage
 * is logged once, and once more when the store answers again.
 *
 * A store that gave no answer within its budget may be hung: so that commands do not pile up on
 * it, it is then sent one probe at a time, the first {@link FIRST_PROBE_AFTER_MS} (or `timeoutMs`,
 * if longer) after the call overran, each next one twice as long after the last overran (up to
 * {@link MAX_PROBE_INTERVAL_MS}), the other calls counting in memory meanwhile. The first answer within the budget, or a late answer to any call, ends
 * this: a store that lost a promise for good is used again as soon as it answers a probe.
 */
export function withFallback(
  store: RateLimitStore,
  { timeoutMs, logger }: { timeoutMs: number; logger: Logger },
): (key: string, windowMs: number) => Promise<RateLimitHit> {
  if (inMemory.has(store)) return async (key, windowMs) => store.hit(key, windowMs);
  const fallback = memoryStore();
  let down = false;
  // Set while the store may be hung: when the next probe may go, and the wait after that one.
  let stalled: { probeAt: number; interval: number; probing: boolean } | undefined;
  const failed = (error: unknown) => {
    if (down) return;
    down = true;
    logger.warn(
      { err: error },
      'rate-limit store unavailable: counting in this process until it answers again',
    );
  };
  const answered = () => {
    stalled = undefined;
    if (!down) return;
    down = false;
    logger.warn({}, 'rate-limit store answers again: counting there again');
  };
  const overran = () => {
    // Calls sent together before the first one overran do not lengthen the wait; a failed probe does.
    if (stalled && !stalled.probing) return;
    const interval = stalled
      ? Math.min(stalled.interval * 2, Math.max(MAX_PROBE_INTERVAL_MS, timeoutMs))
      : Math.max(FIRST_PROBE_AFTER_MS, timeoutMs);
    stalled = { probeAt: Date.now() + interval, interval, probing: false };
  };

  function withinBudget(key: string, windowMs: number): Promise<RateLimitHit> {
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        overran();
        reject(new Error(`rate-limit store gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const settled = (hit: RateLimitHit | undefined, error?: unknown) => {
        if (late) {
          if (hit) answered();
          return;
        }
        clearTimeout(timer);
        if (hit) resolve(hit);
        else reject(error);
      };
      new Promise<unknown>((run) => run(store.hit(key, windowMs))).then(
        (hit) =>
          isHit(hit)
            ? settled(hit)
            : settled(
                undefined,
                new TypeError(`store.hit() answered ${inspect(hit)}, not { count, resetMs }`),
              ),
        (error: unknown) => settled(undefined, error),
      );
    });
  }

  return async (key, windowMs) => {
    const probe = stalled;
    if (probe === undefined || (!probe.probing && Date.now() >= probe.probeAt)) {
      if (probe) probe.probing = true;
      try {
        const hit = await withinBudget(key, windowMs);
        answered();
        return hit;
      } catch (error) {
        failed(error);
      } finally {
        if (probe) probe.probing = false;
      }
    }
    return fallback.hit(key, windowMs);
  };
}
