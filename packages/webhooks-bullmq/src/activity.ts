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
 * - One small hash per minute, `delivered` and `failed` attempts, expiring after two hours: the
 *   hour's chart for all instances at once. Each worker adds its attempts once a second (one
 *   MULTI), not once per attempt: a MULTI per delivery cost about a fifth of the throughput on a
 *   busy Redis, and a chart by the minute does not need the last second. A worker that dies loses
 *   at most that second's counts.
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
/** How often a worker adds its attempts to Redis, in ms. */
const TALLY_EVERY_MS = 1000;

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

/**
 * The activity keys of one queue, under `base` (the queue's own key space). `lost` hears of counts
 * Redis would not take: once until a tally succeeds again (they are tried again each second), and
 * at the last tally, when they are dropped.
 */
export function createActivity(client: Redis, base: string, lost: (error: unknown) => void) {
  const retryingKey = `${base}:retrying`;
  const minuteKey = (minute: number) => `${base}:minute:${minute}`;
  /** Attempts made here and not yet in Redis, by minute. */
  const untallied = new Map<number, MinuteCount>();
  let timer: NodeJS.Timeout | undefined;
  /** After the last tally (close()), nothing more is counted: the connection is going away. */
  let ended = false;
  let failing = false;

  /**
   * Adds the attempts counted here to Redis, in one MULTI; on failure keeps them for the next
   * try, unless this is the `last` (at close()): they are then lost, and `lost` says so.
   */
  async function tally(last = false) {
    clearTimeout(timer);
    timer = undefined;
    // Older than Redis keeps them: no use writing.
    const oldest = Date.now() - MINUTE_TTL_SECONDS * 1000;
    const batch = [...untallied.values()].filter((entry) => entry.minute > oldest);
    untallied.clear();
    if (batch.length === 0) return;
    const multi = client.multi();
    for (const { minute, delivered, failed } of batch) {
      const key = minuteKey(minute);
      if (delivered > 0) multi.hincrby(key, 'delivered', delivered);
      if (failed > 0) multi.hincrby(key, 'failed', failed);
      multi.expire(key, MINUTE_TTL_SECONDS);
    }
    try {
      await multi.exec();
      failing = false;
    } catch (error) {
      if (!last) for (const entry of batch) count(entry.minute, entry.delivered, entry.failed);
      if (last || !failing) lost(error);
      failing = true;
    }
  }

  function count(minute: number, delivered: number, failed: number) {
    if (ended) return;
    const entry = untallied.get(minute) ?? { minute, delivered: 0, failed: 0 };
    entry.delivered += delivered;
    entry.failed += failed;
    untallied.set(minute, entry);
    // Unref'd: counts never keep a process alive; close() tallies what is left.
    timer ??= setTimeout(tally, TALLY_EVERY_MS).unref();
  }

  return {
    /** Counts one attempt in the minute it ended (`at`, ms since the epoch); in Redis within a second. */
    attempted(delivered: boolean, at: number) {
      count(minuteOf(at), delivered ? 1 : 0, delivered ? 0 : 1);
    },

    /** Adds what is counted here to Redis now, for the last time (close() calls it); never rejects. */
    lastTally() {
      ended = true;
      return tally(true);
    },

    /** A failed attempt will be retried: the event joins the retrying set, scored by `at`. */
    async retryWaits(jobId: string, at: number) {
      await client.zadd(retryingKey, at, jobId);
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
