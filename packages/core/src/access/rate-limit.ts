/** One window's count for a key, and how long until that window ends. */
export interface RateLimitHit {
  count: number;
  resetMs: number;
}

/** Where request counts live: memory for one process, Redis for several instances. */
export interface RateLimitStore {
  /** Counts one request for `key` in the current window of `windowMs` and returns the new count. */
  hit(key: string, windowMs: number): RateLimitHit | Promise<RateLimitHit>;
}

/** Fixed windows in this process's memory; expired windows are dropped as new ones start. */
export function memoryStore(): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let nextSweep = 0;
  return {
    hit(key, windowMs) {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [name, window] of windows) if (window.resetAt <= now) windows.delete(name);
        nextSweep = now + windowMs;
      }
      let window = windows.get(key);
      if (!window || window.resetAt <= now) {
        window = { count: 0, resetAt: now + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetMs: window.resetAt - now };
    },
  };
}

/** The one method of an ioredis client the Redis store uses (BullMQ's client fits as it is). */
export interface RedisEval {
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

// Atomic across instances: the first hit of a window starts its expiry.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }`;

/** Fixed windows shared by every instance through Redis. */
export function redisStore(client: RedisEval, { prefix = 'hiwelink:rate:' } = {}): RateLimitStore {
  return {
    async hit(key, windowMs) {
      const [count, resetMs] = (await client.eval(HIT_SCRIPT, 1, prefix + key, windowMs)) as [number, number];
      return { count, resetMs };
    },
  };
}
