import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** Whether `redis-server` can be started here; without it the caller skips (CI=true: fails). */
export function redisServerAvailable(): boolean {
  const found = spawnSync('redis-server', ['--version']).status === 0;
  if (!found) {
    const reason = 'redis-server is not installed, so no private Redis can be started and killed';
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true requires it`);
    console.warn(`Skipping the Redis outage tests: ${reason}.`);
  }
  return found;
}

/** A port nothing listens on now: bound to port 0, then released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A Redis of the test's own on `port` (no persistence), to kill, pause and restart at will: the
 * shared one is never touched. `start()` resolves once it answers PING (rejects after 10 s);
 * `kill()` is SIGKILL by pid; `pause()` stops the process without closing its sockets, so Redis
 * hangs rather than refuses.
 */
export function privateRedis(port: number) {
  let server: ChildProcess | undefined;
  const running = () => server !== undefined && server.exitCode === null && server.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await probe.connect();
          await probe.ping();
          break;
        } catch (error) {
          probe.disconnect();
          if (Date.now() > deadline || !running()) {
            server.kill('SIGKILL');
            throw new Error(`redis-server on port ${port} did not start: ${error}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      probe.disconnect();
    },
    pause: () => server?.kill('SIGSTOP'),
    resume: () => server?.kill('SIGCONT'),
    async kill() {
      if (!server || !running()) return;
      const exited = once(server, 'exit');
      server.kill('SIGCONT'); // a stopped process would not act on SIGKILL until resumed
      server.kill('SIGKILL');
      await exited;
    },
  };
}

/** `privateRedis(port)`, started. */
export async function startRedisServer(port: number) {
  const redis = privateRedis(port);
  await redis.start();
  return redis;
}
