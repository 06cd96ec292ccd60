import { createWebhookEmitter, type Logger, type WebhookEmitter } from '@hiwelink/core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Postgres } from './postgres.js';
import { startReceiver } from './receiver.js';

const TOKEN = '0b6c7c52-3f0c-4d8e-9a39-2f1b1c6f0a77';

/** A logger that keeps what it is told, for asserting warnings. */
export function recordingLogger() {
  const warnings: string[] = [];
  const errors: string[] = [];
  const logger: Logger = {
    warn: (_details, message) => warnings.push(message),
    error: (_details, message) => errors.push(message),
  };
  return { logger, warnings, errors };
}

export interface Delivered {
  event: string;
  id: string;
  data: Record<string, unknown>;
}

/**
 * A real local receiver and the in-memory emitter pointed at it. `delivered()` waits for the
 * emitter to drain, then lists what the receiver got, in order.
 */
export async function startWebhooks() {
  const receiver = await startReceiver();
  const emitter: WebhookEmitter = createWebhookEmitter(
    {
      url: receiver.url,
      storeToken: TOKEN,
      retryDelaysMs: [30, 30, 30],
      jitter: 0,
      // One at a time and never merged: what arrives is every event, in the order it was emitted.
      concurrency: 1,
      coalesce: false,
      logger: { warn() {}, error() {} },
    },
    {},
  );
  let seen = 0;
  return {
    emitter,
    receiver,
    /** Everything delivered so far. */
    async delivered(): Promise<Delivered[]> {
      const { remaining } = await emitter.flush(5000);
      if (remaining !== 0) throw new Error(`${remaining} webhook(s) still queued`);
      return receiver
        .delivered()
        .map(({ body }) => ({ event: body.event, id: String(body.data.id), data: body.data }));
    },
    /** What was delivered since the last call. */
    async next(): Promise<Delivered[]> {
      const all = await this.delivered();
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh;
    },
    async close() {
      await emitter.close(2000);
      await receiver.close();
    },
  };
}

export type Webhooks = Awaited<ReturnType<typeof startWebhooks>>;

/** What every ORM test file shares; `schema` and `webhooks` are set once `beforeAll` has run. */
export interface OrmSuite {
  log: ReturnType<typeof recordingLogger>;
  schema: { name: string; drop(): Promise<void> };
  webhooks: Webhooks;
}

/**
 * Registers, inside a `describe`, the lifecycle the ORM test files share: a PostgreSQL schema of
 * their own, the receiver and emitter, and a recording logger, both emptied before each test.
 * `open` sets the ORM up on `suite.schema` and returns how to close it; teardown runs in reverse.
 */
export function ormSuite(
  db: Postgres,
  schemaPrefix: string,
  open: (suite: OrmSuite) => Promise<() => Promise<unknown>>,
): OrmSuite {
  const suite = { log: recordingLogger() } as OrmSuite;
  let close: (() => Promise<unknown>) | undefined;
  beforeAll(async () => {
    suite.schema = await db.createSchema(schemaPrefix);
    suite.webhooks = await startWebhooks();
    close = await open(suite);
  });
  afterAll(async () => {
    await suite.webhooks?.close();
    await close?.();
    await suite.schema?.drop();
    await db.close();
  });
  beforeEach(async () => {
    // Whatever an earlier test left is not this test's business.
    await suite.webhooks.next();
    suite.log.warnings.length = 0;
  });
  return suite;
}
