import type { Readable } from 'node:stream';
import type { AxiosInstance, AxiosResponse } from 'axios';
import axios from 'axios';
import { z } from 'zod';
import { consoleLogger, type Logger, safeLogger } from '../logger.js';
import { HiwelinkConfigError, storeBaseUrlSchema } from '../options.js';
import { toId } from '../records/coerce.js';
import { dropReporter, toJsonValue } from '../records/json.js';
import { createRecordMapper, type RecordMapping } from '../records/mapper.js';
import { signatureHeaders, signingKey } from './signing.js';
import { MAX_TIMER_MS } from './within.js';

export type WebhookEventName =
  | 'product.created'
  | 'product.updated'
  | 'product.deleted'
  | 'order.created'
  | 'order.updated'
  | 'order.deleted'
  | 'sync.requested';

export type Topic = 'products' | 'orders' | 'sync';

/** One event ready to send. Its `id` (the `webhook-id` header) stays the same on every retry. */
export interface WebhookMessage {
  id: string;
  event: WebhookEventName;
  topic: Topic;
  /** Events with the same entity are delivered one at a time, in the order they were emitted. */
  entity: string;
  data: Record<string, unknown>;
}

/**
 * What one attempt came to. `response` is the start of the receiver's answer (at most
 * `RESPONSE_EXCERPT_BYTES` bytes, as text) when it was not a 2xx, for the logs.
 */
export type Outcome =
  /** Delivered; `status` is the receiver's 2xx (absent from outcomes made by hand). */
  | { done: true; status?: number }
  | {
      done: false;
      retry: boolean;
      reason: string;
      status?: number;
      retryAfterMs?: number;
      response?: string;
    };

/** Where and how deliveries go; shared by the in-memory emitter and the durable (BullMQ) one. */
export interface DeliveryOptions {
  /** Base URL of HiWelink. @default process.env.HIWELINK_WEBHOOK_URL */
  url?: string;
  /** Your store's token from the HiWelink dashboard. @default process.env.HIWELINK_STORE_TOKEN */
  storeToken?: string;
  /** Signs each delivery when set; `whsec_<base64>` or any string. @default process.env.HIWELINK_WEBHOOK_SECRET */
  secret?: string;
  /** Your own axios instance, for proxies and interceptors. @default axios.create() */
  http?: AxiosInstance;
  /**
   * One attempt's deadline in ms, counted from its start: name lookup, connect, sending, the
   * status line and the first `RESPONSE_EXCERPT_BYTES` of the answer must all fit in it. An
   * attempt still running then is abandoned and counts as a retryable failure
   * (`timed out after <n> ms`). A whole number of ms from 1 to 2147483647. @default 10000
   */
  timeoutMs?: number;
}

/**
 * How much of a receiver's answer is read (4 KiB): only the status and `Retry-After` decide the
 * outcome, so the body is read up to this many bytes (kept for the log when the status is not
 * 2xx) and the connection is then closed: a huge or endless body costs nothing more.
 */
export const RESPONSE_EXCERPT_BYTES = 4096;

export const DEFAULT_RETRY_DELAYS = [
  10_000, 30_000, 120_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
];

export interface Deliverer {
  /** False without a URL or store token: nothing can be sent. */
  enabled: boolean;
  /**
   * One attempt, ended by its own deadline (`timeoutMs`) at the latest. `signal` abandons it
   * sooner (the outcome is then a retryable failure); the listener added to it is removed when
   * the attempt ends, so one signal may serve any number of attempts. Never rejects: anything
   * that goes wrong is an outcome.
   */
  send(message: WebhookMessage, signal?: AbortSignal): Promise<Outcome>;
}

/**
 * Reads `stream` until it ends, `limit` bytes have come, it fails, or `signal` aborts, then
 * destroys it. Resolves with the bytes read and whether the read was complete (ended or at the
 * limit); never rejects.
 */
function readPrefix(stream: Readable, limit: number, signal: AbortSignal) {
  return new Promise<{ bytes: Buffer; complete: boolean }>((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (complete: boolean) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
      resolve({ bytes: Buffer.concat(chunks).subarray(0, limit), complete });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= limit) finish(true);
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const onClose = () => finish(false);
    const onAbort = () => finish(false);
    // Already aborted or destroyed: its 'close' has come and gone.
    if (signal.aborted || stream.destroyed) return finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}

/** Resolves the target from options and environment; throws when the URL cannot be one. */
export function createDeliverer(options: DeliveryOptions, env: NodeJS.ProcessEnv): Deliverer {
  const base = (options.url ?? env.HIWELINK_WEBHOOK_URL ?? '').trim().replace(/\/+$/, '');
  const token = (options.storeToken ?? env.HIWELINK_STORE_TOKEN ?? '').trim();
  // Blank (an empty variable) means unsigned; see signingKey for the whitespace around one.
  const secret = (options.secret ?? env.HIWELINK_WEBHOOK_SECRET)?.trim();
  const key = secret ? signingKey(secret) : undefined;
  const http = options.http ?? axios.create();
  const timeout = options.timeoutMs ?? 10_000;
  const enabled = base !== '' && token !== '';
  if (enabled && !/^https?:\/\//.test(base)) {
    throw new Error(`HiWelink webhook URL must start with http:// or https://, got '${base}'`);
  }
  const timedOut = `timed out after ${timeout} ms`;
  return {
    enabled,
    async send(message, signal) {
      let body: string;
      try {
        body = JSON.stringify({ event: message.event, data: message.data });
      } catch (error) {
        // The same bytes would fail on every retry: final, and reported like a 4xx.
        const why = error instanceof Error ? error.message : String(error);
        return { done: false, retry: false, reason: `the event could not be serialised: ${why}` };
      }
      // One controller and one timer per attempt, both gone when it ends: the deadline covers the
      // whole exchange (axios's own `timeout` is only an idle timer), and a caller's signal gets
      // one listener for the attempt's lifetime only.
      const attempt = new AbortController();
      const deadline = setTimeout(() => attempt.abort(), timeout);
      const abandon = () => attempt.abort();
      signal?.addEventListener('abort', abandon, { once: true });
      if (signal?.aborted) abandon();
      /** Why the attempt was cut off, if it was: the caller gave it up, or its deadline passed. */
      const aborted = () => (signal?.aborted ? 'abandoned' : attempt.signal.aborted ? timedOut : undefined);
      let answer: Readable | undefined;
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (key)
          Object.assign(headers, signatureHeaders(body, key, message.id, Math.floor(Date.now() / 1000)));
        const url = `${base}/api/generic-api/webhooks/${encodeURIComponent(token)}/${message.topic}`;
        const response = await http.post<Readable>(url, body, {
          headers,
          maxRedirects: 0,
          responseType: 'stream',
          // The body was signed as these exact bytes: axios must send them untouched.
          transformRequest: [(data: string) => data],
          validateStatus: () => true,
          signal: attempt.signal,
        });
        answer = response.data;
        const read = await readPrefix(answer, RESPONSE_EXCERPT_BYTES, attempt.signal);
        if (!read.complete) {
          return {
            done: false,
            retry: true,
            reason: aborted() ?? 'answer cut short',
            status: response.status,
          };
        }
        return outcomeOf(response, read.bytes);
      } catch (error) {
        const reason = aborted();
        if (reason) return { done: false, retry: true, reason };
        const code = (error as { code?: string }).code;
        return { done: false, retry: true, reason: code ? `network error ${code}` : String(error) };
      } finally {
        clearTimeout(deadline);
        signal?.removeEventListener('abort', abandon);
        answer?.destroy();
      }
    },
  };
}

/**
 * The longest `Retry-After` honoured (24 h, in ms): a receiver asking for more (years, by mistake
 * or not) gets its retry a day later rather than an event held for ever.
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/** A `Retry-After` header (RFC 9110 §10.2.3: seconds, or an HTTP date) in ms, at most `MAX_RETRY_AFTER_MS`. */
function retryAfterMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const date = Date.parse(value);
  const wait = /^\d+$/.test(value.trim())
    ? Number(value) * 1000
    : Number.isNaN(date)
      ? undefined
      : Math.max(0, date - Date.now());
  return wait === undefined ? undefined : Math.min(wait, MAX_RETRY_AFTER_MS);
}

/** 2xx is done; 408, 429, 5xx and network errors are worth retrying; any other status is final. */
function outcomeOf(response: AxiosResponse, excerpt: Buffer): Outcome {
  const { status } = response;
  if (status >= 200 && status < 300) return { done: true, status };
  const retry = status === 408 || status === 429 || status >= 500;
  const wait = retryAfterMs(response.headers['retry-after']);
  return {
    done: false,
    retry,
    reason: `HTTP ${status}`,
    status,
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
    ...(excerpt.length === 0 ? {} : { response: excerpt.toString('utf8') }),
  };
}

/**
 * The wait before the next attempt after `attempts` failed ones, or `undefined` to give up:
 * the schedule's step with ±jitter, and never less than the receiver's Retry-After.
 */
export function retryDelay(attempts: number, outcome: Outcome, delays: readonly number[], jitter: number) {
  if (outcome.done || !outcome.retry || attempts > delays.length) return undefined;
  const step = (delays[attempts - 1] as number) * (1 + jitter * (Math.random() * 2 - 1));
  return Math.max(step, outcome.retryAfterMs ?? 0);
}

export interface RecordEvents<Product, Order> {
  mapping?: { products?: RecordMapping<Product>; orders?: RecordMapping<Order> };
  storeBaseUrl?: string;
}

/**
 * The mapped record as JSON data of its own, deep: mapping keeps the store's arrays and objects
 * (tags, images, attributes, passed-through fields) as they are, and an event may wait hours for
 * its delivery while the store changes them in place. The mapper already made every value JSON
 * (see toJsonValue), so the body always serialises.
 */
const snapshot = (record: Record<string, unknown>) =>
  toJsonValue(record, '', true).value as Record<string, unknown>;

/**
 * An id given alone: a primitive, an ObjectId-like object (`toHexString()`) or a binary id. A
 * record behind a proxy whose traps throw is a record: the mapper reads what it can of it.
 */
const isBareId = (value: unknown) => {
  if (typeof value !== 'object' || value === null) return true;
  try {
    return (
      value instanceof Uint8Array || typeof (value as { toHexString?: unknown }).toHexString === 'function'
    );
  } catch {
    return false;
  }
};

const isPlainObject = (value: object) => {
  try {
    const prototype = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === null;
  } catch {
    return true; // a proxy record: no id object of another kind
  }
};

/**
 * Turns a store record into the message for an event, with the same mapping as the list
 * endpoints; deletions carry only the id, and may be given the id alone (a string, number,
 * bigint or id object such as an ObjectId). Throws with a readable message when there is no id.
 * Values the mapping left out (a cycle, a throwing `toJSON`, ...) go to `logger.warn` once per
 * topic and path.
 */
export function createMessageBuilder<Product, Order>(
  options: RecordEvents<Product, Order>,
  logger: Logger = consoleLogger,
) {
  const reportDropped = dropReporter((details, message) => logger.warn(details, message));
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
  return (
    topic: 'products' | 'orders',
    action: 'created' | 'updated' | 'deleted',
    target: unknown,
  ): Omit<WebhookMessage, 'id'> => {
    const event = `${topic === 'products' ? 'product' : 'order'}.${action}` as WebhookEventName;
    let data: Record<string, unknown>;
    if (isBareId(target)) data = { id: toId(target) };
    else {
      const { record, dropped } = mappers[topic](target);
      if (dropped && action !== 'deleted') reportDropped(`webhook ${event}`, dropped);
      data = snapshot(record);
      // A deletion may name its entity by an id object of another kind (a UUID class): its text.
      if (data.id === undefined && action === 'deleted' && !isPlainObject(target as object)) {
        data = { id: toId(target) };
      }
    }
    const id = data.id;
    if (typeof id !== 'string' || id === '')
      throw new Error(`webhook ${event} not sent: the record has no id`);
    return { event, topic, entity: id, data: action === 'deleted' ? { id } : data };
  };
}

/** Retries and logging, shared by the in-memory emitter and the durable (BullMQ) one. */
export interface RetryOptions {
  /** Waits before each retry, in ms (each finite, 0 or more); their count is the number of retries. @default 10 s, 30 s, 2 min, 5 min, 15 min, 30 min, 1 h, 2 h (about 4 h in all) */
  retryDelaysMs?: readonly number[];
  /** Random spread of each wait, as a fraction of it, from 0 to 1. @default 0.2 */
  jitter?: number;
  logger?: Logger;
}

/** Rules for the numeric options of the emitters, each with a message that says what fits. */
export const numberRules = {
  /** A deadline a timer holds: whole ms from 1 to 2^31-1 (about 24.8 days). */
  ms: () =>
    z
      .int(`must be a whole number of ms from 1 to ${MAX_TIMER_MS}`)
      .min(1, `must be a whole number of ms from 1 to ${MAX_TIMER_MS}`)
      .max(MAX_TIMER_MS, `must be a whole number of ms from 1 to ${MAX_TIMER_MS} (about 24.8 days)`)
      .optional(),
  /** A count: a whole number, `min` or more. */
  count: (min: number) =>
    z
      .int(`must be a whole number, ${min} or more`)
      .min(min, `must be a whole number, ${min} or more`)
      .optional(),
};

/** The numeric options shared by both emitters. */
const deliveryNumbers = {
  timeoutMs: numberRules.ms(),
  retryDelaysMs: z
    .array(
      z.number('must be a finite number of ms, 0 or more').min(0, 'must be a finite number of ms, 0 or more'),
      'must be an array of waits in ms',
    )
    .optional(),
  jitter: z
    .number('must be a number from 0 to 1')
    .min(0, 'must be from 0 to 1')
    .max(1, 'must be from 0 to 1')
    .optional(),
};

/**
 * Checks the numeric options of an emitter when it is created, the shared ones and `extra` (the
 * emitter's own), and its `storeBaseUrl` (an absolute http(s) URL without a user or password). A value out of range (`Infinity`, `NaN`, 0 or a negative count, a deadline past
 * what a timer holds) would otherwise end every wait at once, deliver nothing, or spin: throws a
 * `HiwelinkConfigError` listing each option and what fits.
 */
export function checkEmitterOptions(options: object, extra: z.core.$ZodLooseShape = {}) {
  const parsed = z
    .looseObject({ ...deliveryNumbers, storeBaseUrl: storeBaseUrlSchema.optional(), ...extra })
    .safeParse(options);
  if (parsed.success) return;
  throw new HiwelinkConfigError(
    parsed.error.issues.map((issue) => {
      const where = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`));
      const value = issue.path.reduce<unknown>(
        (at, part) => (at as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey],
        options,
      );
      const got =
        typeof value === 'number'
          ? String(value)
          : typeof value === 'string'
            ? // A URL's password stays out of the message (and so out of the logs).
              JSON.stringify(value.replace(/\/\/[^/@\s]*@/, '//***@'))
            : typeof value;
      return `webhooks${where.join('')}: ${issue.message} (got ${got})`;
    }),
  );
}

/**
 * What both emitters start from: a logger that cannot throw, the deliverer (and a warning when it
 * has nowhere to send), the message builder and the retry schedule. Checks the numeric options
 * first (`extraNumbers`: the emitter's own), see `checkEmitterOptions`.
 */
export function deliverySetup<Product, Order>(
  options: DeliveryOptions & RecordEvents<Product, Order> & RetryOptions,
  env: NodeJS.ProcessEnv,
  extraNumbers: z.core.$ZodLooseShape = {},
) {
  checkEmitterOptions(options, extraNumbers);
  const logger = options.logger ? safeLogger(options.logger) : consoleLogger;
  const deliverer = createDeliverer(options, env);
  if (!deliverer.enabled) {
    logger.warn({}, 'webhooks are off: set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send them');
  }
  return {
    logger,
    deliverer,
    build: createMessageBuilder(options, logger),
    delays: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS,
    jitter: options.jitter ?? 0.2,
  };
}
