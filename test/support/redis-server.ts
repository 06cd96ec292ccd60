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
 * A Redis of the test's own on `port` (no persistence), to kill and restart at will: the shared
 * one is never touched. `start()` resolves once it answers PING; `kill()` is SIGKILL by pid.
 */
export function privateRedis(port: number) {
  let server: ChildProcess | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
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
          if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start: ${error}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      probe.disconnect();
    },
    async kill() {
      if (!server || server.exitCode !== null || server.signalCode !== null) return;
      const exited = once(server, 'exit');
      server.kill('SIGKILL');
      await exited;
    },
  };
}
