import { z } from 'zod';
import type { WebhookEventName } from '../webhooks/delivery.js';

/**
 * Where an event stands, as the status page names it. `retrying` waits for its next attempt after
 * a failed one; `given_up` was abandoned (a permanent 4xx, the last retry, an overflow, close());
 * `dead` is given up and kept in the durable emitter's dead-letter set, ready to resend.
 */
export type DeliveryState = 'queued' | 'in_flight' | 'delivered' | 'retrying' | 'given_up' | 'dead';

/**
 * One event as the status page lists it. Never its data: an order's holds the customer's email,
 * and the page must not show it.
 */
export interface DeliveryRecord {
  /** The event's `webhook-id`, the same on every attempt and on a resend. */
  id: string;
  event: WebhookEventName;
  /** The product's or order's id, as sent; `'all'` for `sync.requested`. */
  entity: string;
  state: DeliveryState;
  /** Attempts made so far (0 while first queued). */
  attempts: number;
  /** HTTP status of the last attempt, when the receiver answered. */
  lastStatus?: number;
  /** Why the last attempt failed (`HTTP 503`, `timeout after 10000 ms`, ...); absent once delivered. */
  lastReason?: string;
  /** How long the last attempt took, in ms. */
  latencyMs?: number;
  /** When the next attempt is due, in ms since the epoch; only for `retrying`. */
  nextAttemptAt?: number;
  /** When the event last changed state, in ms since the epoch. */
  updatedAt: number;
}

/** Attempts finished in one minute. */
export interface MinuteCount {
  /** Start of the minute, in ms since the epoch (a multiple of 60000). */
  minute: number;
  delivered: number;
  /** Attempts that failed, retried or not. */
  failed: number;
}

/** What an emitter reports to the status page. */
export interface WebhookActivity {
  /**
   * Where the figures come from: `memory` is this process only; `redis` is the durable queue,
   * shared by every instance on it.
   */
  source: 'memory' | 'redis';
  /** False when no URL or store token is configured: nothing is ever sent. */
  enabled: boolean;
  counts: {
    /** Waiting for their first attempt. */
    queued: number;
    inFlight: number;
    /** Delivered: since start (memory) or as kept in Redis (the last 1000). */
    delivered: number;
    /** Waiting for their next attempt after a failed one. */
    retrying: number;
    /** Given up: since start (memory) or as kept in Redis. */
    givenUp: number;
    /** In the dead-letter set (durable emitter only). */
    dead?: number;
  };
  /** Recent events, newest change first, at most `limit` of them; given-up and dead ones can be resent. */
  recent: DeliveryRecord[];
  /** The last 60 minutes, oldest first, 60 entries, the current minute last. */
  perMinute: MinuteCount[];
}

/** What `resend(id)` did. */
export type ResendResult =
  /** Queued again with its webhook-id, attempts counted afresh. */
  | 'resent'
  /** No given-up or dead event with that id is kept (never was, already resent, or aged out). */
  | 'not_found';

/**
 * The part of an emitter the status page reads and acts through. The in-memory emitter and the
 * durable (BullMQ) one both implement it.
 */
export interface WebhookInspector {
  /**
   * The current activity. `limit` caps `recent`: a whole number from 0 (counts only) to 500,
   * default 50 (`recentLimit` checks it: a TypeError for a non-number, a RangeError for any other
   * number out of range, both as rejections). Rejects when the figures cannot be read within
   * `timeoutMs` (Redis down or hanging; default 2000 ms).
   */
  activity(options?: { limit?: number; timeoutMs?: number }): Promise<WebhookActivity>;
  /**
   * Queues a given-up or dead event again, unchanged (same webhook-id and data), its attempts
   * counted afresh; `not_found` when no such event is kept (a second resend of the same id is one).
   */
  resend(id: string): Promise<ResendResult>;
  /** Sends `sync.requested`; true once it is queued (or stored, for the durable emitter). */
  requestSync(): boolean | Promise<boolean>;
  /** Emits `product.updated` for a product record, mapped as every event is; the page's test event. */
  productUpdated(product: unknown): boolean | Promise<boolean>;
  readonly enabled: boolean;
}

/** The minute `time` (ms since the epoch) falls in. */
export const minuteOf = (time: number) => time - (time % 60_000);

/** Sixty empty minutes ending with the one `now` falls in, oldest first. */
export function lastHour(now: number): MinuteCount[] {
  const current = minuteOf(now);
  return Array.from({ length: 60 }, (_, index) => ({
    minute: current - (59 - index) * 60_000,
    delivered: 0,
    failed: 0,
  }));
}

const count = z.number().int().nonnegative();
const time = z.number().finite();

/**
 * What `activity()` must resolve to, checked before the page renders it: an emitter the store
 * wrote itself may answer anything. Unknown fields are kept.
 */
export const activitySchema = z.looseObject({
  source: z.enum(['memory', 'redis']),
  enabled: z.boolean(),
  counts: z.looseObject({
    queued: count,
    inFlight: count,
    delivered: count,
    retrying: count,
    givenUp: count,
    dead: count.optional(),
  }),
  recent: z.array(
    z.looseObject({
      id: z.string(),
      event: z.string(),
      entity: z.string(),
      state: z.enum(['queued', 'in_flight', 'delivered', 'retrying', 'given_up', 'dead']),
      attempts: count,
      lastStatus: z.number().int().optional(),
      lastReason: z.string().optional(),
      latencyMs: z.number().nonnegative().optional(),
      nextAttemptAt: time.optional(),
      updatedAt: time,
    }),
  ),
  perMinute: z.array(z.looseObject({ minute: time, delivered: count, failed: count })),
});
