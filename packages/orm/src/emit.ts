import type { Logger, RecordKind, WebhookEvents } from '@hiwelink/core';

export type { RecordKind };

/** What a write did to a record. */
export type WriteAction = 'created' | 'updated' | 'deleted';

/**
 * Any HiWelink emitter: the in-memory one from `createWebhookEmitter` (returns a boolean at once)
 * or a durable one (returns a promise). Only the record events are used.
 */
export type Emitter = WebhookEvents<unknown, unknown, boolean | PromiseLike<boolean>>;

export interface BindingOptions {
  /** Which HiWelink topic the records are. */
  kind: RecordKind;
  /** Where warnings (bulk writes that send nothing) and emitter failures go. @default console */
  logger?: Logger;
}

export const consoleLogger: Logger = {
  warn: (details, message) => console.warn(`[hiwelink] ${message}`, details),
  error: (details, message) => console.error(`[hiwelink] ${message}`, details),
};

const METHODS = {
  products: { created: 'productCreated', updated: 'productUpdated', deleted: 'productDeleted' },
  orders: { created: 'orderCreated', updated: 'orderUpdated', deleted: 'orderDeleted' },
} as const;

/** `product.created`, `order.deleted`…: the event's name, for messages. */
export const eventName = (kind: RecordKind, action: WriteAction) =>
  `${kind === 'products' ? 'product' : 'order'}.${action}`;

/**
 * Hands one record to the emitter and waits for it to take it (a durable emitter stores it).
 * Never rejects: the write is committed by now, so failing the caller would misreport it; the
 * failure is logged instead.
 */
export async function emitRecord(
  emitter: Emitter,
  kind: RecordKind,
  action: WriteAction,
  record: unknown,
  logger: Logger,
): Promise<void> {
  try {
    await emitter[METHODS[kind][action]](record);
  } catch (error) {
    logger.error(
      { err: error },
      `webhook ${eventName(kind, action)} not queued: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Logs each distinct warning once per binding. */
export function warnOnce(logger: Logger) {
  const seen = new Set<string>();
  return (key: string, details: object, message: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    logger.warn(details, message);
  };
}

/**
 * Splits the keys of rows to read back into batches of `size` (default 1,000): one query each,
 * well under PostgreSQL's 65,535 bind parameters per statement however many rows a write changed.
 */
export function batches<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}
