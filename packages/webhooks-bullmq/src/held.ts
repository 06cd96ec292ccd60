import { type DeliveryFailure, type Logger, reportAtExit, type WebhookMessage, within } from '@hiwelink/core';

/** An event emitted while Redis could not take it, held in this process until it can. */
export interface HeldEvent {
  id: string;
  event: WebhookMessage['event'];
  data: Record<string, unknown>;
  /** When it was held, in ms since the epoch. */
  heldSince: number;
}

interface Entry {
  message: WebhookMessage;
  line: string;
  since: number;
  /** Settles `stored` once: true when the event reached Redis, false when it is given up. */
  settle(stored: boolean): void;
  stored: Promise<boolean>;
}

export interface HoldingOptions {
  /** Events held at most; more are refused and reported. */
  max: number;
  /** Writes one event to Redis (line, then job); rejects when Redis cannot take it. */
  store(message: WebhookMessage, line: string): Promise<void>;
  /** Whether the Redis client is connected and ready now. */
  ready(): boolean;
  logger: Logger;
  /** Reports an event given up (log line unless `quiet`, and `onFailure`). */
  givenUp(failure: Omit<DeliveryFailure, 'reason'>, reason: string, quiet: boolean): void;
}

/** After a failed write with Redis still "ready", the next try comes this much later (ms). */
const RETRY_MS = 1000;

/**
 * The bounded local buffer of the durable emitter: events Redis could not take are kept here, in
 * emit order, and written to Redis in that order as soon as it is ready again (on reconnection,
 * and every second while a write fails), so one entity's events keep their order. What it cannot
 * take is refused and reported; what it still holds at close() or at process exit is reported.
 */
export function createHoldingBuffer(options: HoldingOptions) {
  const entries = new Map<string, Entry>();
  const emptied: (() => void)[] = [];
  let draining = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let unregisterExit: (() => void) | undefined;
  // The log gets the start of an outage, its first refusal, and its end, not a line per event.
  let refusedUnlogged = 0;
  let refusalLogged = false;

  const view = (entry: Entry): HeldEvent => ({
    id: entry.message.id,
    event: entry.message.event,
    data: entry.message.data,
    heldSince: entry.since,
  });

  /** Gives up every event still held, reporting each with `reason`; returns them. */
  function giveUpAll(reason: string): HeldEvent[] {
    const left = [...entries.values()];
    entries.clear();
    unregisterExit?.();
    unregisterExit = undefined;
    for (const entry of left) {
      entry.settle(false);
      const { id, event, data } = entry.message;
      options.givenUp({ id, event, data, attempts: 0 }, reason, true);
    }
    return left.map(view);
  }

  function atExit() {
    options.logger.error(
      { ids: [...entries.keys()] },
      `${entries.size} webhook(s) held in memory at process exit, never stored in Redis: end a script ` +
        'with `await webhooks.close()`, which waits for Redis up to its timeout',
    );
    giveUpAll('process exited before Redis took the event');
  }

  function whenEmpty() {
    unregisterExit?.();
    unregisterExit = undefined;
    for (const resolve of emptied.splice(0)) resolve();
  }

  async function drainNow() {
    while (entries.size > 0 && !stopped && options.ready()) {
      const entry = entries.values().next().value as Entry;
      try {
        await options.store(entry.message, entry.line);
      } catch {
        clearTimeout(retry);
        retry = setTimeout(drain, RETRY_MS).unref();
        return;
      }
      if (entries.get(entry.message.id) !== entry) continue;
      entries.delete(entry.message.id);
      entry.settle(true);
      if (entries.size === 0) {
        options.logger.warn({}, 'webhook queue: every held webhook is now stored in Redis');
        if (refusedUnlogged > 0) {
          options.logger.error(
            { refused: refusedUnlogged },
            `webhook queue: ${refusedUnlogged} more webhook(s) refused while the buffer was full`,
          );
        }
        refusedUnlogged = 0;
        refusalLogged = false;
        whenEmpty();
      }
    }
  }

  /** Writes the held events to Redis, oldest first, if it is ready; one drain at a time. */
  function drain() {
    if (draining || entries.size === 0) return;
    draining = true;
    drainNow()
      .catch((error: unknown) =>
        options.logger.error({ err: error }, 'webhook queue: writing held events failed'),
      )
      .finally(() => {
        draining = false;
      });
  }

  return {
    get size() {
      return entries.size;
    },
    /**
     * Holds `message` (not in Redis because of `why`); resolves with `stored` once written, or
     * `undefined` when the buffer is full (the event is then reported as given up).
     */
    hold(message: WebhookMessage, line: string, why: string): Entry | undefined {
      const existing = entries.get(message.id);
      if (existing) return existing;
      const { id, event, data } = message;
      if (entries.size >= options.max) {
        options.givenUp(
          { id, event, data, attempts: 0 },
          `Redis unreachable and ${options.max} events already held in memory`,
          refusalLogged,
        );
        if (refusalLogged) refusedUnlogged += 1;
        refusalLogged = true;
        return undefined;
      }
      if (entries.size === 0) {
        options.logger.warn(
          { reason: why },
          `webhook queue: Redis cannot take events (${why}); holding them in memory (up to ${options.max}) until it can`,
        );
      }
      let settle: (stored: boolean) => void = () => {};
      const stored = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      const entry: Entry = { message, line, since: Date.now(), settle, stored };
      entries.set(id, entry);
      unregisterExit ??= reportAtExit(atExit);
      return entry;
    },
    /** The event reached Redis some other way (a write that outlived its budget): no longer held. */
    stored(id: string) {
      const entry = entries.get(id);
      if (!entry) return;
      entries.delete(id);
      entry.settle(true);
      if (entries.size === 0) whenEmpty();
    },
    drain,
    list: () => [...entries.values()].map(view),
    /**
     * Waits up to `timeoutMs` for the held events to reach Redis, then stops: what is left is
     * given up, reported with `reason` and returned.
     */
    async close(timeoutMs: number, reason: string): Promise<HeldEvent[]> {
      if (entries.size > 0) {
        drain();
        await within(new Promise<void>((resolve) => emptied.push(resolve)), timeoutMs);
      }
      stopped = true;
      clearTimeout(retry);
      const left = entries.size;
      if (left > 0)
        options.logger.error(
          { ids: [...entries.keys()] },
          `${left} webhook(s) held in memory were not stored in Redis before close()`,
        );
      return giveUpAll(reason);
    },
  };
}
