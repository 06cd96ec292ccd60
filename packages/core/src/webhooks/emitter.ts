import type { AxiosInstance, AxiosResponse } from 'axios';
import axios from 'axios';
import { consoleLogger, type Logger } from '../logger.js';
import { createRecordMapper, type RecordMapping } from '../records/mapper.js';
import { newWebhookId, signatureHeaders, signingKey } from './signing.js';

export type WebhookEventName =
  | 'product.created'
  | 'product.updated'
  | 'product.deleted'
  | 'order.created'
  | 'order.updated'
  | 'order.deleted'
  | 'sync.requested';

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

export interface WebhookEmitterOptions<Product = unknown, Order = unknown> {
  /** Base URL of HiWelink. @default process.env.HIWELINK_WEBHOOK_URL */
  url?: string;
  /** Your store's token from the HiWelink dashboard. @default process.env.HIWELINK_STORE_TOKEN */
  storeToken?: string;
  /** Signs each delivery when set; `whsec_<base64>` or any string. @default process.env.HIWELINK_WEBHOOK_SECRET */
  secret?: string;
  /** Your own axios instance, for proxies and interceptors. @default axios.create() */
  http?: AxiosInstance;
  /** One attempt's time limit. @default 10000 */
  timeoutMs?: number;
  /** Waits before each retry; their count is the number of retries. @default 10 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h, 2 h (about 4 h in all) */
  retryDelaysMs?: readonly number[];
  /** Random spread of each wait, as a fraction of it. @default 0.2 */
  jitter?: number;
  /** Events held at most, in flight and waiting included. @default 10000 */
  maxQueueSize?: number;
  /** A full queue refuses the new event (`reject-new`) or gives up the oldest waiting one (`drop-oldest`); either is reported. @default 'reject-new' */
  overflow?: 'reject-new' | 'drop-oldest';
  /** Deliveries in flight at once; one entity's events always go one at a time, in order. @default 4 */
  concurrency?: number;
  /** An update replaces an earlier update of the same entity that has not been sent yet. @default true */
  coalesce?: boolean;
  /** The same mapping as the list endpoints, so webhooks carry the same fields. */
  mapping?: { products?: RecordMapping<Product>; orders?: RecordMapping<Order> };
  storeBaseUrl?: string;
  logger?: Logger;
  /** Called for each event given up: a permanent 4xx, the last retry failing, or a queue overflow. */
  onFailure?: (failure: DeliveryFailure) => void;
}

export interface WebhookStats {
  queued: number;
  inFlight: number;
  delivered: number;
  failed: number;
}

export interface CloseReport extends WebhookStats {
  /** Events that could not be delivered before the deadline. */
  undelivered: QueuedEvent[];
}

export interface WebhookEmitter<Product = unknown, Order = unknown> {
  productCreated(product: Product): boolean;
  productUpdated(product: Product): boolean;
  productDeleted(product: Product | string | number): boolean;
  orderCreated(order: Order): boolean;
  orderUpdated(order: Order): boolean;
  orderDeleted(order: Order | string | number): boolean;
  /** Asks HiWelink for a full sync. */
  requestSync(): boolean;
  /** Resolves once everything queued is delivered or given up, or at the deadline; says how many remain. */
  flush(timeoutMs?: number): Promise<{ remaining: number }>;
  /** Stops taking events, delivers what it can before the deadline, and reports the rest. */
  close(timeoutMs?: number): Promise<CloseReport>;
  stats(): WebhookStats;
  /** False when no URL or store token is configured: every emit is then a no-op. */
  readonly enabled: boolean;
}

const DEFAULT_RETRY_DELAYS = [10_000, 30_000, 120_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000];

interface Delivery extends QueuedEvent {
  topic: 'products' | 'orders' | 'sync';
  /** Events with the same key are delivered one at a time, in the order they were emitted. */
  key: string;
  nextAttemptAt: number;
  inFlight: boolean;
}

type Outcome =
  | { done: true }
  | { done: false; retry: boolean; reason: string; status?: number; retryAfterMs?: number };

function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function outcomeOf(response: AxiosResponse): Outcome {
  const { status } = response;
  if (status >= 200 && status < 300) return { done: true };
  const retry = status === 408 || status === 429 || status >= 500;
  const wait = retryAfterMs(response.headers['retry-after']);
  return {
    done: false,
    retry,
    reason: `HTTP ${status}`,
    status,
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
  };
}

/**
 * Creates the webhook emitter. Emitting never blocks and never throws: events wait in a bounded
 * in-memory queue and are delivered in the background, signed, retried with backoff, one entity's
 * events in order.
 */
export function createWebhookEmitter<Product = unknown, Order = unknown>(
  options: WebhookEmitterOptions<Product, Order> = {},
  env: NodeJS.ProcessEnv = process.env,
): WebhookEmitter<Product, Order> {
  const logger = options.logger ?? consoleLogger;
  const base = (options.url ?? env.HIWELINK_WEBHOOK_URL ?? '').trim().replace(/\/+$/, '');
  const token = (options.storeToken ?? env.HIWELINK_STORE_TOKEN ?? '').trim();
  const secret = options.secret ?? env.HIWELINK_WEBHOOK_SECRET;
  const key = secret ? signingKey(secret) : undefined;
  const http = options.http ?? axios.create();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS;
  const jitter = options.jitter ?? 0.2;
  const maxQueueSize = options.maxQueueSize ?? 10_000;
  const concurrency = options.concurrency ?? 4;
  const coalesce = options.coalesce ?? true;
  const mappers = {
    products: createRecordMapper(
      'products',
      options.mapping?.products as RecordMapping<unknown>,
      options.storeBaseUrl,
    ),
    orders: createRecordMapper(
      'orders',
      options.mapping?.orders as RecordMapping<unknown>,
      options.storeBaseUrl,
    ),
  };
  const enabled = base !== '' && token !== '';
  if (!enabled) {
    logger.warn({}, 'webhooks are off: set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send them');
  } else if (!/^https?:\/\//.test(base)) {
    throw new Error(`HiWelink webhook URL must start with http:// or https://, got '${base}'`);
  }

  const queue: Delivery[] = [];
  const stats = { delivered: 0, failed: 0 };
  const idle: (() => void)[] = [];
  let active = 0;
  let closed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function giveUp(delivery: Delivery, reason: string, status?: number) {
    stats.failed += 1;
    const { id, event, data, attempts } = delivery;
    const failure: DeliveryFailure = {
      id,
      event,
      data,
      attempts,
      reason,
      ...(status === undefined ? {} : { status }),
    };
    logger.error({ id, event, attempts, reason }, `webhook ${event} given up: ${reason}`);
    try {
      options.onFailure?.(failure);
    } catch (error) {
      logger.error({ err: error }, 'onFailure hook failed');
    }
  }

  async function attempt(delivery: Delivery): Promise<Outcome> {
    const body = JSON.stringify({ event: delivery.event, data: delivery.data });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) Object.assign(headers, signatureHeaders(body, key, delivery.id, Math.floor(Date.now() / 1000)));
    try {
      const response = await http.post(
        `${base}/api/generic-api/webhooks/${encodeURIComponent(token)}/${delivery.topic}`,
        body,
        {
          headers,
          timeout: timeoutMs,
          maxRedirects: 0,
          responseType: 'text',
          // The body was signed as these exact bytes: axios must send them untouched.
          transformRequest: [(data: string) => data],
          validateStatus: () => true,
        },
      );
      return outcomeOf(response);
    } catch (error) {
      const code = (error as { code?: string }).code;
      return { done: false, retry: true, reason: code ? `network error ${code}` : String(error) };
    }
  }

  function settle(delivery: Delivery, outcome: Outcome) {
    active -= 1;
    delivery.inFlight = false;
    if (outcome.done || !outcome.retry || delivery.attempts > delays.length) {
      queue.splice(queue.indexOf(delivery), 1);
      if (outcome.done) stats.delivered += 1;
      else
        giveUp(
          delivery,
          outcome.retry ? `${outcome.reason} after ${delivery.attempts} attempts` : outcome.reason,
          outcome.status,
        );
    } else {
      const delay = (delays[delivery.attempts - 1] as number) * (1 + jitter * (Math.random() * 2 - 1));
      delivery.nextAttemptAt = Date.now() + Math.max(delay, outcome.retryAfterMs ?? 0);
      logger.warn(
        { id: delivery.id, event: delivery.event, attempts: delivery.attempts, reason: outcome.reason },
        `webhook ${delivery.event} failed (${outcome.reason}); retrying in ${Math.round((delivery.nextAttemptAt - Date.now()) / 1000)} s`,
      );
    }
    pump();
  }

  /** Starts every delivery that may go now: due, its entity not busy, within the concurrency. */
  function pump() {
    clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    const now = Date.now();
    const blocked = new Set<string>();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const delivery of queue) {
      if (blocked.has(delivery.key)) continue;
      blocked.add(delivery.key);
      if (delivery.inFlight) continue;
      if (delivery.nextAttemptAt > now) {
        nextDue = Math.min(nextDue, delivery.nextAttemptAt);
        continue;
      }
      if (active >= concurrency) break;
      active += 1;
      delivery.inFlight = true;
      delivery.attempts += 1;
      void attempt(delivery).then((outcome) => settle(delivery, outcome));
    }
    if (nextDue !== Number.POSITIVE_INFINITY && active < concurrency) {
      timer = setTimeout(pump, nextDue - now);
      timer.unref();
    }
    if (queue.length === 0) for (const resolve of idle.splice(0)) resolve();
  }

  function enqueue(
    event: WebhookEventName,
    topic: Delivery['topic'],
    entity: string,
    data: Record<string, unknown>,
  ) {
    if (!enabled) return false;
    if (closed) {
      logger.error({ event, entity }, `webhook ${event} emitted after close(): not sent`);
      return false;
    }
    const key = `${topic}:${entity}`;
    if (coalesce && event.endsWith('.updated')) {
      const waiting = queue.findLast((delivery) => delivery.key === key);
      if (waiting && waiting.event === event && waiting.attempts === 0 && !waiting.inFlight) {
        waiting.data = data;
        return true;
      }
    }
    if (queue.length >= maxQueueSize) {
      const oldest =
        options.overflow === 'drop-oldest' ? queue.find((delivery) => !delivery.inFlight) : undefined;
      const dropped = oldest ?? { id: newWebhookId(), event, data, attempts: 0 };
      if (oldest) queue.splice(queue.indexOf(oldest), 1);
      giveUp(dropped as Delivery, `queue full (${maxQueueSize} events)`);
      if (!oldest) return false;
    }
    queue.push({
      id: newWebhookId(),
      event,
      topic,
      key,
      data,
      attempts: 0,
      nextAttemptAt: 0,
      inFlight: false,
    });
    pump();
    return true;
  }

  function emitRecord(kind: 'products' | 'orders', event: WebhookEventName, record: unknown) {
    try {
      const { record: data, invalid } = mappers[kind](record);
      if (typeof data.id !== 'string') {
        logger.error({ event, invalid }, `webhook ${event} not sent: the record has no id`);
        return false;
      }
      return enqueue(event, kind, data.id, data);
    } catch (error) {
      logger.error({ err: error, event }, `webhook ${event} not sent: mapping the record failed`);
      return false;
    }
  }

  function emitDeletion(kind: 'products' | 'orders', event: WebhookEventName, target: unknown) {
    const id =
      typeof target === 'string' || typeof target === 'number'
        ? String(target)
        : mappers[kind](target).record.id;
    if (typeof id !== 'string' || id === '') {
      logger.error({ event }, `webhook ${event} not sent: no id`);
      return false;
    }
    return enqueue(event, kind, id, { id });
  }

  async function flush(timeoutMs = 30_000) {
    if (queue.length > 0) {
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => idle.push(resolve)),
        new Promise<void>((resolve) => {
          deadline = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(deadline);
    }
    return { remaining: queue.length };
  }

  const snapshot = (): WebhookStats => ({
    queued: queue.length,
    inFlight: active,
    delivered: stats.delivered,
    failed: stats.failed,
  });

  return {
    enabled,
    productCreated: (product) => emitRecord('products', 'product.created', product),
    productUpdated: (product) => emitRecord('products', 'product.updated', product),
    productDeleted: (product) => emitDeletion('products', 'product.deleted', product),
    orderCreated: (order) => emitRecord('orders', 'order.created', order),
    orderUpdated: (order) => emitRecord('orders', 'order.updated', order),
    orderDeleted: (order) => emitDeletion('orders', 'order.deleted', order),
    requestSync: () => enqueue('sync.requested', 'sync', 'all', {}),
    flush,
    async close(timeoutMs = 30_000) {
      closed = true;
      // Waiting retries are due now: a closing process has no later to wait for.
      for (const delivery of queue) delivery.nextAttemptAt = 0;
      pump();
      await flush(timeoutMs);
      stopped = true;
      clearTimeout(timer);
      const undelivered = queue.map(({ id, event, data, attempts }) => ({ id, event, data, attempts }));
      if (undelivered.length > 0) {
        logger.error(
          { ids: undelivered.map((event) => event.id) },
          `${undelivered.length} webhook(s) not delivered before close()`,
        );
      }
      return { ...snapshot(), undelivered };
    },
    stats: snapshot,
  };
}
