import {
  type DeliveryRecord,
  type DeliveryState,
  lastHour,
  type MinuteCount,
  minuteOf,
} from '../status/activity.js';
import type { Outcome, WebhookMessage } from './delivery.js';

/**
 * Finished events (delivered or given up) the in-memory emitter keeps for the status page's
 * `recent`: the 200 newest, as records without their data (a few hundred bytes each).
 */
export const FINISHED_KEPT = 200;

/**
 * Given-up events the in-memory emitter keeps whole, data included, so that `resend(id)` can queue
 * them again: the 100 newest. An older one ages out and its resend answers `not_found`.
 */
export const GIVEN_UP_KEPT = 100;

/** Records in `recent` when `activity()` is given no `limit`. */
export const RECENT_DEFAULT = 50;

/** The largest `limit` `activity()` takes. */
export const RECENT_MAX = 500;

/**
 * `limit` checked as `activity()` takes it: `undefined` is `RECENT_DEFAULT` (50); otherwise a whole
 * number from 0 (counts only) to `RECENT_MAX` (500). Throws a TypeError for a non-number and a
 * RangeError for any other number (NaN, a fraction, negative, above 500).
 */
export function recentLimit(limit: unknown): number {
  if (limit === undefined) return RECENT_DEFAULT;
  if (typeof limit !== 'number') {
    throw new TypeError(`activity: limit must be a number of records, got ${typeof limit}`);
  }
  if (!Number.isInteger(limit) || limit < 0 || limit > RECENT_MAX) {
    throw new RangeError(`activity: limit must be a whole number from 0 to ${RECENT_MAX}, got ${limit}`);
  }
  return limit;
}

/**
 * What the status page shows of an attempt, kept on each event the emitter holds; set when the
 * attempt starts or settles, never on the way through the queue.
 */
export interface Progress {
  /** When the event last changed state, in ms since the epoch. */
  updatedAt: number;
  /** The log's count of changes at that moment: orders `recent` where `updatedAt` ties. */
  change: number;
  lastStatus: number | undefined;
  lastReason: string | undefined;
  latencyMs: number | undefined;
}

/** Progress before any attempt. */
export const noProgress = (): Progress => ({
  updatedAt: 0,
  change: 0,
  lastStatus: undefined,
  lastReason: undefined,
  latencyMs: undefined,
});

/** An event the emitter still holds, as the log reads it. */
export interface LiveEvent extends WebhookMessage, Progress {
  attempts: number;
  inFlight: boolean;
  /** When its next attempt is due, in ms since the epoch; 0 for at once. */
  nextAttemptAt: number;
}

/** A finished event's record, with the change that made it. */
interface Finished {
  record: DeliveryRecord;
  change: number;
}

/** The record of `event` in `state`: its progress, never its data. */
function recordOf(event: LiveEvent, state: DeliveryState): DeliveryRecord {
  const record: DeliveryRecord = {
    id: event.id,
    event: event.event,
    entity: event.entity,
    state,
    attempts: event.attempts,
    updatedAt: event.updatedAt,
  };
  if (event.lastStatus !== undefined) record.lastStatus = event.lastStatus;
  if (event.lastReason !== undefined && state !== 'delivered') record.lastReason = event.lastReason;
  if (event.latencyMs !== undefined) record.latencyMs = event.latencyMs;
  if (state === 'retrying' && event.nextAttemptAt > 0) record.nextAttemptAt = event.nextAttemptAt;
  return record;
}

const liveState = (event: LiveEvent): DeliveryState =>
  event.inFlight ? 'in_flight' : event.attempts === 0 ? 'queued' : 'retrying';

/**
 * The in-memory emitter's memory of what it did, for the status page, bounded: a ring of
 * `FINISHED_KEPT` finished records, `GIVEN_UP_KEPT` given-up messages for resend, and one count per
 * minute for the last hour. Every write is O(1); only `snapshot` walks anything.
 */
export function createActivityLog() {
  let changes = 0;
  const finished: (Finished | undefined)[] = new Array(FINISHED_KEPT);
  /** Where the next finished record goes; the newest is just before it. */
  let head = 0;
  // A Map iterates in insertion order: its first key is the oldest kept.
  const givenUp = new Map<string, WebhookMessage>();
  /** One bucket per minute of the hour, by index; a bucket holding an older minute is stale. */
  const minutes: MinuteCount[] = Array.from({ length: 60 }, () => ({ minute: -1, delivered: 0, failed: 0 }));
  const totals = { delivered: 0, givenUp: 0 };

  function finish(event: LiveEvent, state: 'delivered' | 'given_up') {
    finished[head] = { record: recordOf(event, state), change: event.change };
    head = (head + 1) % FINISHED_KEPT;
    totals[state === 'delivered' ? 'delivered' : 'givenUp'] += 1;
  }

  return {
    /** Marks `event` as changed now: a new state is coming (queued, or an attempt starting). */
    changed(event: Progress, now = Date.now()) {
      event.updatedAt = now;
      event.change = ++changes;
    },

    /** Notes an attempt's outcome on `event` and in its minute; `latencyMs` is how long it took. */
    attempted(event: LiveEvent, outcome: Outcome, latencyMs: number, now = Date.now()) {
      event.latencyMs = latencyMs;
      event.lastStatus = outcome.status;
      event.lastReason = outcome.done ? undefined : outcome.reason;
      this.changed(event, now);
      const minute = minuteOf(now);
      const bucket = minutes[(minute / 60_000) % 60] as MinuteCount;
      if (bucket.minute !== minute) Object.assign(bucket, { minute, delivered: 0, failed: 0 });
      bucket[outcome.done ? 'delivered' : 'failed'] += 1;
    },

    /** `event` was delivered: it leaves the queue for the ring. */
    delivered(event: LiveEvent) {
      finish(event, 'delivered');
    },

    /**
     * `event` was given up for `reason`: it goes to the ring, and, when `resendable`, its message
     * to the store `resend` takes from (the oldest kept one leaving it past `GIVEN_UP_KEPT`).
     */
    givenUp(event: LiveEvent, reason: string, resendable: boolean, now = Date.now()) {
      event.lastReason = reason;
      this.changed(event, now);
      finish(event, 'given_up');
      if (!resendable) return;
      const { id, event: name, topic, entity, data } = event;
      givenUp.delete(id);
      givenUp.set(id, { id, event: name, topic, entity, data });
      if (givenUp.size > GIVEN_UP_KEPT) givenUp.delete(givenUp.keys().next().value as string);
    },

    /** The given-up message kept under `id`, if any; it stays kept until `forget(id)`. */
    kept: (id: string) => givenUp.get(id),

    /** Drops the given-up message kept under `id`: it was queued again. */
    forget(id: string) {
      givenUp.delete(id);
    },

    /**
     * Counts and recent records: `live` (the events held, in any order) merged with the finished
     * ring, newest change first, each id once (its latest state), at most `limit`; and the last
     * hour's minutes ending at `now`.
     */
    snapshot(live: Iterable<LiveEvent>, limit: number, now = Date.now()) {
      const counts = { queued: 0, inFlight: 0, retrying: 0, ...totals };
      const held: LiveEvent[] = [];
      for (const event of live) {
        const state = liveState(event);
        if (state === 'queued') counts.queued += 1;
        else if (state === 'in_flight') counts.inFlight += 1;
        else counts.retrying += 1;
        held.push(event);
      }
      held.sort((a, b) => b.change - a.change);
      const recent: DeliveryRecord[] = [];
      // An id resent is live with a newer change than its given-up record: the first seen wins.
      const seen = new Set<string>();
      let liveAt = 0;
      let ringAt = 0;
      while (recent.length < limit) {
        const ring =
          ringAt < FINISHED_KEPT ? finished[(head - 1 - ringAt + FINISHED_KEPT) % FINISHED_KEPT] : undefined;
        const next = held[liveAt];
        if (!ring && !next) break;
        let record: DeliveryRecord;
        if (next && (!ring || next.change > ring.change)) {
          record = recordOf(next, liveState(next));
          liveAt += 1;
        } else {
          record = { ...(ring as Finished).record };
          ringAt += 1;
        }
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        recent.push(record);
      }
      const perMinute = lastHour(now);
      const first = (perMinute[0] as MinuteCount).minute;
      for (const { minute, delivered, failed } of minutes) {
        // A bucket from more than an hour ago, or never used (-1), falls outside.
        const into = minute >= first ? perMinute[(minute - first) / 60_000] : undefined;
        if (into) Object.assign(into, { delivered, failed });
      }
      return { counts, recent, perMinute };
    },
  };
}

export type ActivityLog = ReturnType<typeof createActivityLog>;
