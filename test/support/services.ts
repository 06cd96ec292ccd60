import { Redis } from 'ioredis';

/**
 * Connects to the Redis the tests use (`REDIS_URL`, default the local one). Without it the caller
 * skips and the reason is printed; with CI=true a missing service fails the run instead.
 */
export async function connectRedis(): Promise<Redis | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {}); // a failed connect rejects connect() below; the event adds nothing
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    const reason = `Redis at ${url} is not reachable (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires it`);
    console.warn(`Skipping the Redis tests: ${reason}. Set REDIS_URL or start Redis to run them.`);
    return undefined;
  }
}
