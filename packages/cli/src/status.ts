import { parseArgs } from 'node:util';

export const STATUS_USAGE =
  'hiwelink webhooks status [--redis redis://127.0.0.1:6379] [--queue hiwelink-webhooks] [--json]';

/** A Redis URL with its password hidden, for printing. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * `hiwelink webhooks status`: the durable queue's counts, read from Redis by a client that
 * delivers nothing (`worker: false`). Every instance on the queue sees the same numbers.
 */
export async function webhooksStatus(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      redis: { type: 'string' },
      queue: { type: 'string' },
      json: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
    },
  });
  const connection = values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const queueName = values.queue ?? 'hiwelink-webhooks';
  const timeoutMs = values['timeout-ms'] === undefined ? 5_000 : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new TypeError('--timeout-ms takes a positive integer');
  // Loaded here so that the other commands never load BullMQ.
  // An optional peer dependency: most stores never use the durable queue, so it is not installed
  // with the CLI.
  const { createDurableWebhookEmitter } = await import('@hiwelink/webhooks-bullmq').catch(
    (error: unknown) => {
      // Only the package itself missing; anything else (a broken install of it) is shown as is.
      const missing =
        (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
        String((error as Error).message).includes("'@hiwelink/webhooks-bullmq'");
      if (!missing) throw error;
      throw new Error(
        'webhooks status reads the durable queue through @hiwelink/webhooks-bullmq, which is not installed: ' +
          'npm install --save-dev @hiwelink/webhooks-bullmq',
      );
    },
  );
  let lastError: string | undefined;
  const emitter = createDurableWebhookEmitter({
    connection,
    queueName,
    worker: false,
    // Only reads counts: a target is needed for the emitter to connect, and nothing is ever sent to it.
    url: 'http://hiwelink-status.invalid',
    storeToken: 'status-only',
    logger: {
      warn: () => {},
      error: (_details, message) => {
        lastError = message;
      },
    },
  });
  try {
    const stats = await emitter.stats(timeoutMs);
    if (values.json) {
      console.log(JSON.stringify({ queue: queueName, redis: redacted(connection), ...stats }));
    } else {
      console.log(`queue      ${queueName} on ${redacted(connection)}`);
      console.log(`queued     ${stats.queued}   (waiting for a worker or a retry)`);
      console.log(`active     ${stats.active}   (being delivered now)`);
      console.log(`delivered  ${stats.delivered}   (the last 1000 kept)`);
      console.log(`failed     ${stats.failed}   (given up, the last 5000 kept)`);
      console.log(`dead       ${stats.dead}   (in the dead-letter set, waiting for replayDead())`);
    }
    return 0;
  } catch (error) {
    const reason = lastError ?? (error as Error).message;
    console.error(
      `hiwelink: cannot read the webhook queue '${queueName}' at ${redacted(connection)}: ${reason}`,
    );
    return 1;
  } finally {
    await emitter.close(1_000).catch(() => {});
  }
}
