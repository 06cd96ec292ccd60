import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { ResendResult, WebhookActivity, WebhookInspector } from '../status/activity.js';
import { createActivityLog, type LiveEvent, noProgress, recentLimit } from './activity-log.js';
import {
  type DeliveryOptions,
  deliverySetup,
  numberRules,
  type Outcome,
  type RecordEvents,
  type RetryOptions,
  retryDelay,
  type WebhookEventName,
  type WebhookMessage,
} from './delivery.js';
import { reportAtExit } from './exit-report.js';
import { createDeliveryQueue, type Delivery } from './queue.js';
import { newWebhookId } from './signing.js';
import { MAX_TIMER_MS, waitMs, within } from './within.js';

/** One event on its way to HiWelink. Its `id` (the `webhook-id` header) stays the same on every retry. */
export interface QueuedEvent {
  id: string;
  event: WebhookEventName;
  data: Record<string, unknown>;
  /** Delivery attempts made so far. */
  attempts: number;
}

export interface DeliveryFailure extends QueuedEvent {
  /** Why it was given up: the last status or network error. */
  reason: string;
  status?: number;
}

type Failed = Extract<Outcome, { done: false }>;

/**
 * How both emitters report a failed attempt: a retry is a warning; an event given up is an error
 * line (unless `quiet`) and a call of `onFailure`, whose own throw is logged, never thrown.
 */
export function failureReporter(logger: Logger, onFailure: ((failure: DeliveryFailure) => void) | undefined) {
  /** The receiver's answer, when there was one, for the log line's details. */
  const answer = (outcome: { response?: string }) =>
    outcome.response === undefined ? {} : { response: outcome.response };
  return {
    retrying({ id, event, attempts }: QueuedEvent, outcome: Failed, waitMs: number) {
      logger.warn(
        { id, event, attempts, reason: outcome.reason, ...answer(outcome) },
        `webhook ${event} failed (${outcome.reason}); retrying in ${Math.round(waitMs / 1000)} s`,
      );
    },
    /** The reason an event is given up after `outcome`: a permanent status, or the last retry. */
    finalReason: (outcome: Failed, attempts: number) =>
      outcome.retry ? `${outcome.reason} after ${attempts} attempts` : outcome.reason,
    /**
     * Reports an event given up for `reason`; `last` is the final attempt's outcome, if it was
     * one (its status and answer go to the log and to `onFailure`).
     */
    givenUp({ id, event, data, attempts }: QueuedEvent, reason: string, last?: Failed, quiet = false) {
      const status = last?.status;
      if (!quiet) {
        logger.error(
          { id, event, attempts, reason, ...answer(last ?? {}) },
          `webhook ${event} given up: ${reason}`,
        );
      }
      try {
        onFailure?.({ id, event, data, attempts, reason, ...(status === undefined ? {} : { status }) });
      } catch (error) {
        logger.error({ err: error }, 'onFailure hook failed');
      }
    },
  };
}

export interface WebhookEmitterOptions<Product = unknown, Order = unknown>
  extends DeliveryOptions,
    RecordEvents<Product, Order>,
    RetryOptions {
  /** Events held at most, in flight and waiting included; a whole number, 1 or more. @default 10000 */
  maxQueueSize?: number;
  /** A full queue refuses the new event (`reject-new`) or gives up the oldest waiting one (`drop-oldest`); either is reported. @default 'reject-new' */
  overflow?: 'reject-new' | 'drop-oldest';
  /** Deliveries in flight at once (a whole number, 1 or more); one entity's events always go one at a time, in order. @default 4 */
  concurrency?: number;
  /** An update replaces an earlier update of the same entity that has not been sent yet. @default true */
  coalesce?: boolean;
  /**
   * Called once for each event given up: a permanent 4xx, the last retry failing, a queue
   * overflow, an event left at close() (reason `not delivered before close()`, the same events
   * as its `undelivered`), or still queued at process exit or on SIGINT/SIGTERM. Never after
   * close() has resolved.
   */
  onFailure?: (failure: DeliveryFailure) => void;
}

export interface WebhookStats {
  queued: number;
  inFlight: number;
  delivered: number;
  failed: number;
}

export interface CloseReport extends WebhookStats {
  /**
   * Events that could not be delivered before the deadline: waiting ones, and those whose attempt
   * was still running and was abandoned. Each also went to `onFailure` once.
   */
  undelivered: QueuedEvent[];
}

/** What ORM bindings and your code call; the in-memory and the durable emitter both have it. */
export interface WebhookEvents<Product = unknown, Order = unknown, Result = boolean> {
  productCreated(product: Product): Result;
  productUpdated(product: Product): Result;
  productDeleted(product: Product | string | number): Result;
  orderCreated(order: Order): Result;
  orderUpdated(order: Order): Result;
  orderDeleted(order: Order | string | number): Result;
  /** Asks HiWelink for a full sync. */
  requestSync(): Result;
}

export interface WebhookEmitter<Product = unknown, Order = unknown>
  extends WebhookEvents<Product, Order>,
    // Its own productUpdated and requestSync are WebhookEvents' (typed, synchronous).
    Omit<WebhookInspector, 'productUpdated' | 'requestSync'> {
  /**
   * Resolves once everything queued is delivered or given up, or after `timeoutMs` (default 30000;
   * `Infinity` waits as long as it takes; rejects with a TypeError for a negative or non-number
   * one); says how many remain. Keeps the process alive meanwhile, so a script that emits can await it.
   */
  flush(timeoutMs?: number): Promise<{ remaining: number }>;
  /**
   * Stops taking events, delivers what it can within `timeoutMs` (default 30000; `Infinity` waits
   * as long as it takes; a negative or non-number one rejects with a TypeError; waiting retries
   * are tried at once), abandons requests still running then, and reports the rest. How a script
   * that emits should end: events still queued when the process exits without it are only logged
   * and passed to `onFailure`.
   */
  close(timeoutMs?: number): Promise<CloseReport>;
  stats(): WebhookStats;
  /**
   * What this process's emitter is doing, for the status page (`source: 'memory'`): the events it
   * holds (queued, in flight, retrying with their next attempt time) and the last
   * `FINISHED_KEPT` (200) delivered or given up, newest change first, at most `limit` of them
   * (a whole number from 0 to 500, default 50); the delivered and given-up counts since start
   * (given up includes events left at close()); and the last hour's attempts per minute. Never an
   * event's data. Answers from memory at once (`timeoutMs` is checked, as `flush` checks it, and
   * otherwise unused). Rejects with a TypeError for a `limit` or `timeoutMs` that is not a number
   * and a RangeError for a `limit` out of range. After close() it still answers, holding nothing.
   */
  activity(options?: { limit?: number; timeoutMs?: number }): Promise<WebhookActivity>;
  /**
   * Queues a given-up event again as it was (same `webhook-id`, same data), its attempts counted
   * afresh: once, since it leaves the store of given-up events until it is given up again. Of
   * those, the last `GIVEN_UP_KEPT` (100) are kept; an older one, an unknown id, or one already
   * resent answers `not_found`. Events left at close() are not kept. Rejects with a TypeError when
   * `id` is not a string, and with an Error when webhooks are off, the emitter is closed (or
   * closing), or the queue is full (the event stays kept: try again once it drains).
   */
  resend(id: string): Promise<ResendResult>;
  /** False when no URL or store token is configured: every emit is then a no-op. */
  readonly enabled: boolean;
}

/**
 * Creates the in-memory webhook emitter. Emitting never blocks and never throws: events wait in a
 * bounded queue and are delivered in the background, signed, retried with backoff, one entity's
 * events in order. Throws a `HiwelinkConfigError` naming each numeric option out of range
 * (`timeoutMs`, `retryDelaysMs`, `jitter`, `maxQueueSize`, `concurrency`) and a URL that is not
 * http(s).
 */
export function createWebhookEmitter<Product = unknown, Order = unknown>(
  options: WebhookEmitterOptions<Product, Order> = {},
  env: NodeJS.ProcessEnv = process.env,
): WebhookEmitter<Product, Order> {
  const { logger, deliverer, build, delays, jitter } = deliverySetup(options, env, {
    maxQueueSize: numberRules.count(1),
    concurrency: numberRules.count(1),
    overflow: z.enum(['reject-new', 'drop-oldest'], "must be 'reject-new' or 'drop-oldest'").optional(),
  });
  const maxQueueSize = options.maxQueueSize ?? 10_000;
  const concurrency = options.concurrency ?? 4;
  const coalesce = options.coalesce ?? true;
  const queue = createDeliveryQueue();
  // What the status page reads: written only when an attempt starts or ends and when an event is given up.
  const log = createActivityLog();
  const stats = { delivered: 0, failed: 0 };
  const idle: (() => void)[] = [];
  let active = 0;
  let closed = false;
  let stopped = false;
  let closing: Promise<CloseReport> | undefined;
  let timer: NodeJS.Timeout | undefined;

  // A full queue refuses events in floods (a receiver down under steady writes: 40,000 lines in
  // a minute). The first refusal is logged, the others only counted until the queue takes events
  // again or 10 s pass; onFailure still hears of every one.
  const overflow = { unlogged: 0, loggedAt: Number.NEGATIVE_INFINITY };

  function logOverflowSummary() {
    if (overflow.unlogged === 0) return;
    logger.error(
      { refused: overflow.unlogged },
      `webhooks: ${overflow.unlogged} more event(s) refused while the queue was full (${maxQueueSize} events)`,
    );
    overflow.unlogged = 0;
  }

  function quietOverflow(): boolean {
    const now = Date.now();
    if (now - overflow.loggedAt < 10_000) {
      overflow.unlogged += 1;
      return true;
    }
    logOverflowSummary();
    overflow.loggedAt = now;
    return false;
  }

  const report = failureReporter(logger, options.onFailure);

  const held = (): QueuedEvent[] =>
    queue.list().map(({ id, event, data, attempts }) => ({ id, event, data, attempts }));

  /** At exit with events still queued (no flush() or close() awaited): they are named, not lost in silence. */
  function reportExit() {
    const left = held();
    logger.error(
      { ids: left.map((event) => event.id) },
      `${left.length} webhook(s) still queued at process exit, not delivered: ` +
        'end a script with `await webhooks.close()` (or `await webhooks.flush()`) so that they are sent first',
    );
    for (const event of left)
      report.givenUp(event, 'process exited with the event still queued', undefined, true);
  }
  /** Unregisters the exit report; set while the queue holds events. */
  let unregisterExit: (() => void) | undefined;

  /** Gives up an event, kept for resend(), reported, counted. */
  function giveUp(delivery: LiveEvent, reason: string, last?: Failed, quiet = false) {
    stats.failed += 1;
    log.givenUp(delivery, reason, true);
    report.givenUp(delivery, reason, last, quiet);
  }

  /** Decides what comes after an attempt that took `latencyMs`: done, given up, or a retry. */
  function settle(delivery: Delivery, outcome: Outcome, latencyMs: number) {
    active -= 1;
    delivery.inFlight = false;
    // Closed: close() has reported what was left (an attempt it abandoned included); nothing is
    // decided or reported after it resolved.
    if (stopped) return;
    log.attempted(delivery, outcome, latencyMs);
    const wait = retryDelay(delivery.attempts, outcome, delays, jitter);
    if (outcome.done) {
      queue.remove(delivery);
      stats.delivered += 1;
      log.delivered(delivery);
    } else if (wait === undefined) {
      queue.remove(delivery);
      giveUp(delivery, report.finalReason(outcome, delivery.attempts), outcome);
    } else {
      if (!stopped) {
        delivery.nextAttemptAt = Date.now() + wait;
        report.retrying(delivery, outcome, wait);
      }
      queue.putBack(delivery);
    }
    pump();
  }

  // One controller per attempt in flight, aborted at close()'s deadline: a request still running
  // then is reported undelivered, and must neither keep the process alive until its own deadline
  // nor land after the report. One per attempt rather than one shared signal: a shared one would
  // collect a listener per attempt in flight (MaxListenersExceededWarning past 10).
  const attempts = new Set<AbortController>();

  /** One attempt, in the background: whatever goes wrong is logged, never an unhandled rejection. */
  function send(delivery: Delivery) {
    const attempt = new AbortController();
    attempts.add(attempt);
    const started = performance.now();
    deliverer
      .send(delivery, attempt.signal)
      .catch(
        (error: unknown): Outcome => ({
          done: false,
          retry: false,
          reason: `delivery failed: ${error instanceof Error ? error.message : String(error)}`,
        }),
      )
      .then((outcome) => {
        attempts.delete(attempt);
        settle(delivery, outcome, Math.round(performance.now() - started));
      })
      .catch((error: unknown) =>
        logger.error({ err: error, id: delivery.id }, 'webhook delivery bookkeeping failed'),
      );
  }

  /** Starts every delivery that may go now: due, its entity not busy, within the concurrency. */
  function pump() {
    clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    const now = Date.now();
    while (active < concurrency) {
      const delivery = queue.takeDue(now);
      if (!delivery) break;
      active += 1;
      delivery.inFlight = true;
      delivery.attempts += 1;
      log.changed(delivery, now);
      // Serializing, signing and axios's request setup (about 100 µs) wait until the current I/O
      // callbacks are done: not in emit()'s caller, nor in the response it is about to send.
      setImmediate(send, delivery);
    }
    const nextDue = active < concurrency ? queue.nextRetryAt() : undefined;
    if (nextDue !== undefined) {
      // Node fires a longer timer after 1 ms (TimeoutOverflowWarning): wake up at the limit instead.
      timer = setTimeout(pump, Math.min(nextDue - now, MAX_TIMER_MS));
      timer.unref();
    }
    if (queue.size === 0) {
      unregisterExit?.();
      unregisterExit = undefined;
      for (const resolve of idle.splice(0)) resolve();
    }
  }

  /** Puts an event on the queue, due at once, and starts what may start. */
  function admit(message: WebhookMessage) {
    log.changed(queue.add(message));
    unregisterExit ??= reportAtExit(reportExit);
    pump();
  }

  function enqueue(message: Omit<WebhookMessage, 'id'>): boolean {
    if (!deliverer.enabled) return false;
    if (closed) {
      logger.error(
        { event: message.event, entity: message.entity },
        `webhook ${message.event} emitted after close(): not sent`,
      );
      return false;
    }
    if (coalesce && message.event.endsWith('.updated')) {
      const last = queue.last(message.topic, message.entity);
      if (last && last.event === message.event && last.attempts === 0 && !last.inFlight) {
        last.data = message.data;
        return true;
      }
    }
    const id = newWebhookId();
    if (queue.size >= maxQueueSize) {
      const oldest = options.overflow === 'drop-oldest' ? queue.oldestWaiting() : undefined;
      const full = `queue full (${maxQueueSize} events)`;
      if (!oldest) {
        giveUp(
          { ...message, id, attempts: 0, inFlight: false, nextAttemptAt: 0, ...noProgress() },
          full,
          undefined,
          quietOverflow(),
        );
        return false;
      }
      giveUp(oldest, full, undefined, quietOverflow());
      queue.remove(oldest);
    } else {
      logOverflowSummary();
    }
    admit({ ...message, id });
    return true;
  }

  const emit =
    (topic: 'products' | 'orders', action: 'created' | 'updated' | 'deleted') =>
    (target: unknown): boolean => {
      try {
        return enqueue(build(topic, action, target));
      } catch (error) {
        logger.error({ err: error }, error instanceof Error ? error.message : 'webhook not sent');
        return false;
      }
    };

  async function flush(timeoutMs = 30_000) {
    waitMs('flush', timeoutMs);
    if (queue.size > 0) await within(new Promise<void>((resolve) => idle.push(resolve)), timeoutMs);
    return { remaining: queue.size };
  }

  async function shutDown(timeoutMs: number): Promise<CloseReport> {
    closed = true;
    logOverflowSummary();
    // Waiting retries are due now: a closing process has no later to wait for.
    queue.allDueNow();
    pump();
    await flush(timeoutMs);
    stopped = true;
    clearTimeout(timer);
    for (const attempt of attempts) attempt.abort();
    // Reported here: the exit report would repeat it.
    unregisterExit?.();
    const undelivered = held();
    if (undelivered.length > 0) {
      logger.error(
        { ids: undelivered.map((event) => event.id) },
        `${undelivered.length} webhook(s) not delivered before close()`,
      );
    }
    // Each event left, waiting or abandoned mid-attempt, goes to onFailure once, here; the status
    // page lists it given up, not resendable (a closed emitter sends nothing).
    const left = 'not delivered before close()';
    for (const delivery of queue.list()) log.givenUp(delivery, left, false);
    for (const event of undelivered) report.givenUp(event, left, undefined, true);
    return { ...snapshot(), undelivered };
  }

  const snapshot = (): WebhookStats => ({
    queued: queue.size,
    inFlight: active,
    delivered: stats.delivered,
    failed: stats.failed,
  });

  return {
    enabled: deliverer.enabled,
    productCreated: emit('products', 'created'),
    productUpdated: emit('products', 'updated'),
    productDeleted: emit('products', 'deleted'),
    orderCreated: emit('orders', 'created'),
    orderUpdated: emit('orders', 'updated'),
    orderDeleted: emit('orders', 'deleted'),
    requestSync: () => enqueue({ event: 'sync.requested', topic: 'sync', entity: 'all', data: {} }),
    flush,
    close(timeoutMs = 30_000) {
      try {
        waitMs('close', timeoutMs);
      } catch (error) {
        return Promise.reject(error);
      }
      closing ??= shutDown(timeoutMs);
      return closing;
    },
    stats: snapshot,
    async activity(options = {}) {
      const { limit, timeoutMs = 2000 } = options ?? {};
      const cap = recentLimit(limit);
      waitMs('activity', timeoutMs);
      // Once closed, what the queue still holds was given up at close(): nothing is live.
      const { counts, recent, perMinute } = log.snapshot(stopped ? [] : queue.list(), cap);
      return { source: 'memory', enabled: deliverer.enabled, counts, recent, perMinute };
    },
    async resend(id) {
      if (typeof id !== 'string') throw new TypeError(`resend: the id must be a string, got ${typeof id}`);
      if (!deliverer.enabled)
        throw new Error('resend: webhooks are off (no URL or store token): nothing can be sent');
      if (closed) throw new Error('resend: the webhook emitter is closed');
      const message = log.kept(id);
      if (!message) return 'not_found';
      if (queue.size >= maxQueueSize) {
        throw new Error(
          `resend: the webhook queue is full (${maxQueueSize} events); try again once it drains`,
        );
      }
      log.forget(id);
      admit(message);
      return 'resent';
    },
  };
}
