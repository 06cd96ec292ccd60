import {
  type DeliveryRecord,
  type DeliveryState,
  lastHour,
  type MinuteCount,
  minuteOf,
  type WebhookActivity,
  type WebhookMessage,
} from '@hiwelink/core';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/*
 * What the status page reads, all of it from Redis so that every instance on the queue shows the
 * same figures:
 *
 * - BullMQ's own sets: waiting, active, completed (each job's return value says its status,
 *   latency and attempts), the dead-letter queue (reason, status, attempts, when).
 * - A sorted set of the events waiting for a retry after a failed attempt, scored by when that
 *   attempt failed. BullMQ's delayed set cannot tell them apart from events *parked* behind an
 *   earlier event of their entity (see ordering.ts), which have not been tried at all. An id is
 *   added when an attempt fails and will be retried, and removed when its next attempt starts.
 *   The failure itself is recorded on the job (`lastFailure`), for the page's details.
 * - One small hash per minute, `delivered` and `failed` attempts, written by whichever worker
 *   made the attempt and expiring after two hours: the hour's chart for all instances at once.
 */

/** An attempt that failed and will be retried, recorded on its job for the status page. */
export interface AttemptFailure {
  reason: string;
  /** The receiver's status, when it answered. */
  status?: number;
  /** How long the attempt took, in ms. */
  latencyMs: number;
  /** Attempts made, this one included. */
  attempts: number;
  /** When the attempt ended, in ms since the epoch. */
  at: number;
  /** When the next attempt is due, in ms since the epoch. */
  nextAttemptAt: number;
}

/** What a delivery job returns; BullMQ keeps it with the completed job. */
export interface DeliveredResult {
  /** The receiver's 2xx status. */
  status?: number;
  /** How long the successful attempt took, in ms. */
  latencyMs: number;
  /** Attempts made, the successful one included. */
  attempts: number;
}

/** The fields of a queued job the page reads; never the event's data. */
export interface EventJobView {
  message: WebhookMessage;
  lastFailure?: AttemptFailure;
}

/** The fields of a dead-letter job the page reads. */
export interface DeadEventView extends EventJobView {
  reason: string;
  status?: number;
  attempts: number;
  failedAt: number;
  /** How long the last attempt took, in ms (absent on events dead-lettered before it was kept). */
  latencyMs?: number;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** A minute's counts outlive the hour the page shows, so a clock a little off still finds them. */
const MINUTE_TTL_SECONDS = 2 * 60 * 60;

/** `limit` as `activity()` takes it: a whole number from 0 to 500; throws a TypeError otherwise. */
export function activityLimit(limit: unknown = DEFAULT_LIMIT): number {
  if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 0 && limit <= MAX_LIMIT) return limit;
  const shown = typeof limit === 'number' ? String(limit) : typeof limit;
  throw new TypeError(`activity: limit must be a whole number from 0 to ${MAX_LIMIT} (got ${shown})`);
}

/** A record without the optional fields that have no value, so the JSON stays small. */
function record(
  message: WebhookMessage,
  state: DeliveryState,
  attempts: number,
  updatedAt: number,
  details: Partial<Pick<DeliveryRecord, 'lastStatus' | 'lastReason' | 'latencyMs' | 'nextAttemptAt'>> = {},
): DeliveryRecord {
  const shown: DeliveryRecord = {
    id: message.id,
    event: message.event,
    entity: message.entity,
    state,
    attempts,
    updatedAt,
  };
  for (const [key, value] of Object.entries(details)) {
    if (value !== undefined) Object.assign(shown, { [key]: value });
  }
  return shown;
}

/** The last failure's details, for an event that failed before. */
const failureDetails = (failure: AttemptFailure | undefined) =>
  failure ? { lastStatus: failure.status, lastReason: failure.reason, latencyMs: failure.latencyMs } : {};

/** Jobs that exist and are ours: one may vanish between its id being listed and being read. */
const ours = <T extends EventJobView>(jobs: (Job<T> | undefined)[]) =>
  jobs.filter((job): job is Job<T> => typeof job?.data?.message?.id === 'string');

/** The activity keys of one queue, under `base` (the queue's own key space). */
export function createActivity(client: Redis, base: string) {
  const retryingKey = `${base}:retrying`;
  const minuteKey = (minute: number) => `${base}:minute:${minute}`;

  return {
    /**
     * Counts one attempt in its minute; a failure to be retried also joins the retrying set. One
     * MULTI, so the two never disagree.
     */
    async attempted(delivered: boolean, at: number, retry?: { jobId: string }) {
      const key = minuteKey(minuteOf(at));
      const multi = client
        .multi()
        .hincrby(key, delivered ? 'delivered' : 'failed', 1)
        .expire(key, MINUTE_TTL_SECONDS);
      if (retry) multi.zadd(retryingKey, at, retry.jobId);
      await multi.exec();
    },

    /** The event's next attempt has started: it is in flight, no longer waiting for its retry. */
    async retryStarted(jobId: string) {
      await client.zrem(retryingKey, jobId);
    },

    /** How many events wait for a retry. */
    retryingCount: () => client.zcard(retryingKey),

    /** The last hour, one entry a minute, oldest first, read in one round trip. */
    async perMinute(now: number): Promise<MinuteCount[]> {
      const hour = lastHour(now);
      const pipeline = client.pipeline();
      for (const { minute } of hour) pipeline.hmget(minuteKey(minute), 'delivered', 'failed');
      const answers = (await pipeline.exec()) ?? [];
      return hour.map((entry, index) => {
        const [error, values] = answers[index] ?? [];
        if (error) throw error;
        const [delivered, failed] = (values as (string | null)[] | undefined) ?? [];
        return { ...entry, delivered: Number(delivered ?? 0), failed: Number(failed ?? 0) };
      });
    },

    /**
     * The most recent events, newest change first, at most `limit`: up to `limit` are read from
     * each set (delivered, retrying, in flight, queued, dead), then merged, one record an event.
     */
    async recent<T extends EventJobView, D extends DeadEventView>(
      queue: Queue<T>,
      deadQueue: Queue<D>,
      limit: number,
    ): Promise<DeliveryRecord[]> {
      if (limit === 0) return [];
      const last = limit - 1;
      const retryingIds = await client.zrevrange(retryingKey, 0, last);
      const [completed, retrying, active, waiting, delayed, dead] = await Promise.all([
        queue.getJobs(['completed'], 0, last),
        Promise.all(retryingIds.map((id) => queue.getJob(id))),
        queue.getJobs(['active'], 0, last),
        queue.getJobs(['waiting', 'prioritized'], 0, last),
        queue.getJobs(['delayed'], 0, last),
        deadQueue.getJobs(['waiting'], 0, last),
      ]);
      const records: DeliveryRecord[] = [];
      for (const job of ours(completed)) {
        const result = (job.returnvalue ?? {}) as Partial<DeliveredResult>;
        records.push(
          record(job.data.message, 'delivered', result.attempts ?? job.attemptsMade, job.finishedOn ?? 0, {
            lastStatus: result.status,
            latencyMs: result.latencyMs,
          }),
        );
      }
      for (const job of ours(retrying)) {
        const failure = job.data.lastFailure;
        // Its next attempt started after the set was read: it is listed as in flight instead.
        if (!failure) continue;
        records.push(
          record(job.data.message, 'retrying', failure.attempts, failure.at, {
            ...failureDetails(failure),
            nextAttemptAt: failure.nextAttemptAt,
          }),
        );
      }
      for (const job of ours(active)) {
        // The attempt under way counts as made.
        records.push(
          record(
            job.data.message,
            'in_flight',
            job.attemptsMade + 1,
            job.processedOn ?? job.timestamp,
            failureDetails(job.data.lastFailure),
          ),
        );
      }
      // Delayed jobs that never failed are parked behind an earlier event of their entity: still
      // waiting for their first attempt. Those that failed are listed from the retrying set.
      const neverTried = [...ours(waiting), ...ours(delayed).filter((job) => !job.data.lastFailure)];
      for (const job of neverTried) records.push(record(job.data.message, 'queued', 0, job.timestamp));
      for (const job of ours(dead)) {
        const { reason, status, attempts, failedAt, latencyMs } = job.data;
        records.push(
          record(job.data.message, 'dead', attempts, failedAt, {
            lastStatus: status,
            lastReason: reason,
            latencyMs,
          }),
        );
      }
      records.sort((a, b) => b.updatedAt - a.updatedAt);
      // One record an event: a resent event's queued job is newer than anything else read about it.
      const seen = new Set<string>();
      return records.filter((entry) => !seen.has(entry.id) && seen.add(entry.id)).slice(0, limit);
    },
  };
}

/** Zero counts, no events, an empty hour: the figures of an emitter that sends nothing. */
export function idleActivity(now: number): WebhookActivity {
  return {
    source: 'redis',
    enabled: false,
    counts: { queued: 0, inFlight: 0, delivered: 0, retrying: 0, givenUp: 0, dead: 0 },
    recent: [],
    perMinute: lastHour(now),
  };
}
