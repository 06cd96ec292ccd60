import {
  type DeliveryFailure,
  type DeliveryOptions,
  deliverySetup,
  failureReporter,
  LATE,
  newWebhookId,
  numberRules,
  type RecordEvents,
  type ResendResult,
  type RetryOptions,
  retryDelay,
  type WebhookActivity,
  type WebhookEvents,
  type WebhookInspector,
  type WebhookMessage,
  waitMs,
  within,
} from '@hiwelink/core';
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import {
  type AttemptFailure,
  activityLimit,
  createActivity,
  type DeliveredResult,
  idleActivity,
} from './activity.js';
import { createHoldingBuffer, type HeldEvent } from './held.js';
import { createLines } from './ordering.js';

export interface DurableWebhookEmitterOptions<Product = unknown, Order = unknown>
  extends DeliveryOptions,
    RecordEvents<Product, Order>,
    RetryOptions {
  /** Redis to keep the events in: a URL or ioredis options. @default process.env.REDIS_URL or redis://127.0.0.1:6379 */
  connection?: string | RedisOptions;
  /** Every instance that uses the same name shares the events. @default 'hiwelink-webhooks' */
  queueName?: string;
  /** Whether this process also delivers; set `false` in processes that only emit. @default true */
  worker?: boolean;
  /** Deliveries in flight at once in this process (a whole number, 1 or more); one entity's events still go one at a time, in order. @default 4 */
  concurrency?: number;
  /**
   * How long a delivery in progress is locked to its worker. A worker that dies mid-delivery
   * (SIGKILL, OOM, lost host) hands its events to the others about this long after. Whole ms from
   * 1 to 2147483647. @default 30000
   */
  lockDurationMs?: number;
  /**
   * Called for each event given up: a permanent 4xx or the last retry failing (in the worker that
   * gave up), or, in the emitting process, an event Redis could not take that the local buffer
   * could not hold, or that was still held at close() or at process exit.
   */
  onFailure?: (failure: DeliveryFailure) => void;
  /**
   * The time budget of one emit, in ms: a method resolves `false` no later than this when Redis has
   * not stored the event by then (it is then held, see `maxHeldEvents`). The first connection,
   * at start, is waited for within it. While Redis is known to be down (ioredis reconnecting), or
   * once a write went unanswered for this long (Redis hangs), methods resolve `false` at once,
   * until a write succeeds again. Whole ms from 1 to 2147483647. @default 500
   */
  emitTimeoutMs?: number;
  /**
   * Events held in this process's memory, at most, while Redis cannot take them; written to Redis in
   * emit order once it can. Past it, an event is refused: logged and passed to `onFailure`. A whole
   * number, 0 or more. @default 1000
   */
  maxHeldEvents?: number;
}

/** What close() could not do: the events still held in memory, never stored in Redis (each also went to onFailure). */
export interface DurableCloseReport {
  held: HeldEvent[];
}

export interface DurableWebhookStats {
  /** Waiting for a worker or for a retry. */
  queued: number;
  /** Being delivered now, by any worker. */
  active: number;
  /** Delivered, as kept for inspection (the last 1000). */
  delivered: number;
  /** Given up, as kept for inspection (the last 5000); each one also went to the dead-letter set. */
  failed: number;
  /** In the dead-letter set, waiting for `replayDead()`. */
  dead: number;
}

export interface DurableWebhookEmitter<Product = unknown, Order = unknown>
  extends WebhookEvents<Product, Order, Promise<boolean>>,
    WebhookInspector {
  /** False when no URL or store token is configured: every emit then resolves `false`. */
  readonly enabled: boolean;
  productUpdated(product: Product): Promise<boolean>;
  requestSync(): Promise<boolean>;
  /**
   * What the status page shows, read from Redis (`source: 'redis'`): every instance on the queue
   * sees the same figures, whether it runs a worker or not. `counts.delivered` and
   * `counts.givenUp` are what Redis keeps (the last 1000 delivered, the last 5000 given up);
   * `counts.retrying` are the events waiting for a retry after a failed attempt (events parked
   * behind an earlier event of their entity are `queued`). `recent` merges up to `limit` events of
   * each kind (delivered, retrying, in flight, queued, dead), newest change first, never an
   * event's data; `perMinute` counts the attempts every worker made (each adds its own within a
   * second, and at close()). `limit`: a whole number from 0 to 500 (default 50), else a
   * TypeError; `timeoutMs`: as for `stats()` (default 2000). Rejects with an Error naming Redis
   * and the queue when Redis fails or does not answer within `timeoutMs`. Not configured:
   * `enabled: false`, zeros, no events.
   */
  activity(options?: { limit?: number; timeoutMs?: number }): Promise<WebhookActivity>;
  /**
   * Puts the dead-lettered event whose webhook-id is `id` back on the queue, as `replayDead()`
   * does for all: same webhook-id and data, behind its entity's pending events, attempts counted
   * afresh, out of the dead-letter set. `'not_found'` when the set holds no such event (never
   * dead, already resent by any instance, or not configured). Rejects with a TypeError when `id`
   * is not a string, and with Redis's error when Redis fails.
   */
  resend(id: string): Promise<ResendResult>;
  /**
   * Counts read from Redis: every instance on the queue sees the same numbers. Rejects when Redis
   * does not answer within `timeoutMs` (BullMQ would wait for it forever). @default 5000
   */
  stats(timeoutMs?: number): Promise<DurableWebhookStats>;
  /** Puts every dead-lettered event back on the queue, with its webhook-id; resolves with how many. */
  replayDead(): Promise<number>;
  /**
   * The events this process holds in memory because Redis could not take them when they were
   * emitted (each of those emits resolved `false`), oldest first. They go to Redis by themselves
   * once it answers; until then they are lost if the process dies.
   */
  held(): HeldEvent[];
  /**
   * Stops taking events, writes the events held in memory to Redis if it answers, lets this worker
   * finish its deliveries in progress (all within `timeoutMs`, after which deliveries are left to the
   * other workers' stalled check) and closes the connections, each step bounded by what is left of
   * `timeoutMs` (a Redis that does not answer QUIT then is disconnected). Queued events stay in
   * Redis; the report lists the held events that never reached it (also logged and passed to
   * `onFailure`). `Infinity` waits as long as it takes; a negative or non-number timeout rejects
   * with a TypeError. @default 30000
   */
  close(timeoutMs?: number): Promise<DurableCloseReport>;
}

/** What each job holds: the message exactly as emitted, so every redelivery has the same webhook-id. */
interface EventJob {
  message: WebhookMessage;
  /** The entity's line, `${topic}:${entity}`. */
  line: string;
  /** How many times it came back from the dead-letter set. */
  replays?: number;
  /** The last attempt, when it failed and is to be retried; for the status page. */
  lastFailure?: AttemptFailure;
}

interface DeadEvent extends EventJob {
  reason: string;
  status?: number;
  attempts: number;
  failedAt: number;
  /** How long the last attempt took, in ms. */
  latencyMs?: number;
}

/** A failed attempt worth retrying; BullMQ's backoff strategy below reads its delay. */
class RetryLater extends Error {
  constructor(
    reason: string,
    readonly delayMs: number,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

const PREFIX = 'bull';
const BACKOFF = 'hiwelink';
/** Retries are decided by this package, not counted by BullMQ. */
const MANY_ATTEMPTS = 2 ** 31 - 1;
const KEEP_DELIVERED = 1000;
const KEEP_FAILED = 5000;
const PARK_MIN_MS = 100;
const PARK_MAX_MS = 30_000;
/** How long a line waits for a head whose job does not exist before dropping it. */
const GAP_MS = 60_000;

/** `activity()`'s options checked, defaults applied; throws a TypeError naming the one that is wrong. */
function activityOptions(options: unknown) {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('activity: options must be an object ({ limit?, timeoutMs? })');
  }
  const { limit, timeoutMs = 2000 } = options as { limit?: unknown; timeoutMs?: unknown };
  return { limit: activityLimit(limit), timeoutMs: waitMs('activity', timeoutMs) };
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** `resend()`'s id checked: a webhook-id is text. */
function resendId(id: unknown) {
  if (typeof id !== 'string')
    throw new TypeError(`resend: the id must be a webhook-id string (got ${typeof id})`);
}

/** An ioredis client that stops reconnecting once `stopping()` says so, so that close() can finish while Redis is down. */
function redisClient(connection: string | RedisOptions, overrides: RedisOptions, stopping: () => boolean) {
  const base = typeof connection === 'string' ? {} : connection;
  const retry = base.retryStrategy ?? ((times: number) => Math.min(times * 200, 2000));
  // BullMQ duplicates the worker's client for its blocking connection, and the copy keeps this strategy.
  const settings: RedisOptions = {
    ...base,
    ...overrides,
    retryStrategy: (times) => (stopping() ? null : retry(times)),
  };
  return typeof connection === 'string' ? new Redis(connection, settings) : new Redis(settings);
}

/**
 * Creates the durable webhook emitter: each event is in Redis before its method resolves, and
 * BullMQ workers (in this process unless `worker: false`, and in any other on the same queue)
 * deliver it signed, retried with backoff, each entity's events in order, at least once. Throws a
 * `HiwelinkConfigError` naming each numeric option out of range (`timeoutMs`, `retryDelaysMs`,
 * `jitter`, `concurrency`, `emitTimeoutMs`, `maxHeldEvents`, `lockDurationMs`).
 */
export function createDurableWebhookEmitter<Product = unknown, Order = unknown>(
  options: DurableWebhookEmitterOptions<Product, Order> = {},
  env: NodeJS.ProcessEnv = process.env,
): DurableWebhookEmitter<Product, Order> {
  const { logger, deliverer, build, delays, jitter } = deliverySetup(options, env, {
    concurrency: numberRules.count(1),
    emitTimeoutMs: numberRules.ms(),
    maxHeldEvents: numberRules.count(0),
    lockDurationMs: numberRules.ms(),
  });
  const report = failureReporter(logger, options.onFailure);
  const queueName = options.queueName ?? 'hiwelink-webhooks';
  const lockDuration = options.lockDurationMs ?? 30_000;
  const connection = options.connection ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  if (!deliverer.enabled) {
    const off = async () => false;
    return {
      enabled: false,
      productCreated: off,
      productUpdated: off,
      productDeleted: off,
      orderCreated: off,
      orderUpdated: off,
      orderDeleted: off,
      requestSync: off,
      stats: async () => ({ queued: 0, active: 0, delivered: 0, failed: 0, dead: 0 }),
      activity: async (options = {}) => {
        activityOptions(options);
        return idleActivity(Date.now());
      },
      // Nothing is ever sent, so nothing is ever dead.
      resend: async (id) => {
        resendId(id);
        return 'not_found';
      },
      replayDead: async () => 0,
      held: () => [],
      close: async () => ({ held: [] }),
    };
  }

  // One Redis error per outage in the log, not one per reconnection attempt.
  let outage: string | undefined;
  const onError = (source: string) => (error: Error) => {
    if (outage === error.message) return;
    outage = error.message;
    logger.error({ err: error, queue: queueName, source }, `webhook queue: ${error.message}`);
  };
  const onReady = () => {
    if (outage !== undefined) logger.warn({ queue: queueName }, 'webhook queue: Redis is reachable again');
    outage = undefined;
  };

  // Emits fail fast (one reconnection attempt) so that a method resolves `false` instead of hanging
  // while Redis is down; the worker's connection waits for Redis as BullMQ requires.
  let stopping = false;
  const isStopping = () => stopping;
  const client = redisClient(connection, { maxRetriesPerRequest: 1 }, isStopping);
  client.on('error', onError('redis')).on('ready', onReady);
  // Why an emit cannot write now: this connection's own last error (the worker's connection has
  // its own errors, which say nothing about this one), or a write left unanswered.
  let clientError: string | undefined;
  // Set when a write got no answer within the budget: a Redis that hangs (SIGSTOP, a stalled
  // host) keeps the connection 'ready', so without it every emit would wait the whole budget.
  // Cleared by the next write that succeeds.
  let unanswered: string | undefined;
  let everReady = false;
  /** Direct writes not answered yet, in emit order. */
  const writing = new Map<string, { message: WebhookMessage; line: string }>();
  const firstReady = new Promise<void>((resolve) => client.once('ready', resolve));
  client
    .on('error', (error: Error) => {
      clientError = error.message;
    })
    .on('ready', () => {
      everReady = true;
      clientError = undefined;
    });
  const queue = new Queue<EventJob>(queueName, { connection: client, prefix: PREFIX });
  const deadQueue = new Queue<DeadEvent>(`${queueName}-dead`, { connection: client, prefix: PREFIX });
  queue.on('error', onError('queue'));
  deadQueue.on('error', onError('dead-letter queue'));
  const lines = createLines(client, `${PREFIX}:${queueName}:hiwelink`);
  const tracked = createActivity(client, `${PREFIX}:${queueName}:hiwelink`, (error) =>
    logger.warn(
      { err: error, queue: queueName },
      `webhook activity counts not written to Redis: ${errorText(error)}`,
    ),
  );

  let closed = false;
  let closing: Promise<DurableCloseReport> | undefined;
  const emitTimeoutMs = options.emitTimeoutMs ?? 500;

  const holding = createHoldingBuffer({
    max: options.maxHeldEvents ?? 1000,
    store: (message, line) => enqueue(message, line, message.id),
    ready: () => client.status === 'ready',
    logger,
    givenUp: (event, reason, quiet) => report.givenUp(event, reason, undefined, quiet),
  });
  client.on('ready', holding.drain);

  async function enqueue(message: WebhookMessage, line: string, jobId: string, replays?: number) {
    await lines.join(line, jobId);
    await queue.add(
      message.event,
      { message, line, ...(replays ? { replays } : {}) },
      {
        jobId,
        attempts: MANY_ATTEMPTS,
        backoff: { type: BACKOFF },
        removeOnComplete: { count: KEEP_DELIVERED },
        removeOnFail: { count: KEEP_FAILED },
      },
    );
    unanswered = undefined;
  }

  async function emit(make: () => Omit<WebhookMessage, 'id'>): Promise<boolean> {
    let message: WebhookMessage;
    try {
      message = { id: newWebhookId(), ...make() };
    } catch (error) {
      logger.error({ err: error }, error instanceof Error ? error.message : 'webhook not sent');
      return false;
    }
    if (closed) {
      logger.error(
        { event: message.event, entity: message.entity },
        `webhook ${message.event} emitted after close(): not sent`,
      );
      return false;
    }
    const line = `${message.topic}:${message.entity}`;
    const started = Date.now();
    const budget = () => Math.max(0, emitTimeoutMs - (Date.now() - started));
    // The first connection is still being made (the process just started): waited for within the
    // budget, not reported as an outage.
    if (!everReady && ['wait', 'connecting', 'connect'].includes(client.status)) {
      // `lazyConnect: true` in the connection options: nothing has started the connection yet.
      if (client.status === 'wait') client.connect().catch(() => {});
      await within(firstReady, emitTimeoutMs);
    }
    if (holding.size === 0 && client.status === 'ready' && unanswered === undefined) {
      writing.set(message.id, { message, line });
      const storing = enqueue(message, line, message.id);
      // A write that outlives the budget may still land: the event is then no longer held.
      storing.then(
        () => {
          writing.delete(message.id);
          holding.stored(message.id);
        },
        () => {
          writing.delete(message.id);
          holding.drain();
        },
      );
      let why: string;
      try {
        if ((await within(storing, budget())) !== LATE) return true;
        why = `no answer within ${emitTimeoutMs} ms`;
        unanswered = why;
      } catch (error) {
        why = (error as Error).message;
      }
      // Held in emit order: every write still unanswered, then this one. Their budgets run out in
      // whatever order their timers fire (an ORM commit hands many over at once).
      for (const pending of writing.values()) holding.hold(pending.message, pending.line, why);
      holding.hold(message, line, why);
      // Redis may be up and refusing (out of memory, say): no reconnection will come to retry it.
      holding.drain();
      return false;
    }
    // Behind the events already held, so that one entity's events keep their order.
    const entry = holding.hold(
      message,
      line,
      unanswered ?? clientError ?? `Redis connection ${client.status}`,
    );
    if (!entry) return false;
    holding.drain();
    // Known to be down (reconnecting, or closed), or hanging: no use waiting.
    if (unanswered !== undefined || !['connecting', 'connect', 'ready'].includes(client.status)) return false;
    return (await within(entry.stored, budget())) === true;
  }

  const worker = options.worker === false ? undefined : startWorker();

  function startWorker() {
    const workerClient = redisClient(connection, { maxRetriesPerRequest: null }, isStopping);
    workerClient.on('error', onError('worker redis')).on('ready', onReady);

    /** The job may be delivered now; otherwise it is parked and this throws BullMQ's DelayedError. */
    async function waitTurn(job: Job<EventJob>, token: string | undefined, jobId: string) {
      const { line } = job.data;
      for (;;) {
        const turn = await lines.turn(line, jobId);
        if (turn.state !== 'wait') return;
        const state = await queue.getJobState(turn.head);
        let park = Math.min(PARK_MAX_MS, Math.max(PARK_MIN_MS, (Date.now() - job.timestamp) / 2));
        if (state === 'completed' || state === 'failed') {
          // Finished, but its removal from the line was lost (a crash, a stall limit).
          if (state === 'failed') {
            logger.error({ id: turn.head, line }, `webhook ${turn.head} failed outside delivery; skipped`);
          }
          await lines.leave(line, turn.head);
          continue;
        }
        if (state === 'unknown') {
          const missing = await lines.missingFor(turn.head, GAP_MS * 2);
          if (missing >= GAP_MS) {
            logger.warn({ id: turn.head, line }, `webhook ${turn.head} never reached the queue; skipped`);
            await lines.leave(line, turn.head);
            continue;
          }
          park = Math.min(park, GAP_MS - missing + 10);
        }
        await job.moveToDelayed(Date.now() + park, token);
        // The head may have settled after the check above, when its wake-up found this job active.
        if ((await lines.turn(line, jobId)).state !== 'wait') await job.promote().catch(() => {});
        throw new DelayedError();
      }
    }

    /** Takes the job out of its line and wakes the next event of the entity, if parked. */
    async function settle(line: string, jobId: string) {
      const next = await lines.leave(line, jobId);
      if (next === undefined) return;
      try {
        await (await queue.getJob(next))?.promote();
      } catch {
        // Not parked (active, or waiting already): nothing to wake.
      }
    }

    async function deliver(job: Job<EventJob>, token?: string, signal?: AbortSignal) {
      const jobId = job.id as string;
      const { message, line } = job.data;
      await waitTurn(job, token, jobId);
      if (job.attemptsMade > 0) await tracked.retryStarted(jobId);
      const started = Date.now();
      // Ended by its own deadline (`timeoutMs`) at the latest, or by BullMQ cancelling the job.
      const outcome = await deliverer.send(message, signal);
      const ended = Date.now();
      const latencyMs = ended - started;
      const attempts = job.attemptsMade + 1;
      if (outcome.done) {
        tracked.attempted(true, ended);
        await settle(line, jobId);
        const result: DeliveredResult = { latencyMs, attempts };
        if (outcome.status !== undefined) result.status = outcome.status;
        return result;
      }
      const wait = retryDelay(attempts, outcome, delays, jitter);
      const { id, event, data } = message;
      const status = outcome.status;
      tracked.attempted(false, ended);
      if (wait !== undefined) {
        report.retrying({ id, event, data, attempts }, outcome, wait);
        const lastFailure: AttemptFailure = {
          reason: outcome.reason,
          latencyMs,
          attempts,
          at: ended,
          nextAttemptAt: ended + wait,
          ...(status === undefined ? {} : { status }),
        };
        await counted(
          Promise.all([job.updateData({ ...job.data, lastFailure }), tracked.retryWaits(jobId, ended)]),
        );
        throw new RetryLater(outcome.reason, wait);
      }
      const reason = report.finalReason(outcome, attempts);
      const dead: DeadEvent = {
        ...job.data,
        reason,
        attempts,
        failedAt: ended,
        latencyMs,
        ...(status === undefined ? {} : { status }),
      };
      await deadQueue.add(message.event, dead, { jobId });
      await settle(line, jobId);
      report.givenUp({ id, event, data, attempts }, reason, outcome);
      throw new UnrecoverableError(reason);
    }

    const worker = new Worker<EventJob>(queueName, deliver, {
      connection: workerClient,
      prefix: PREFIX,
      concurrency: options.concurrency ?? 4,
      lockDuration,
      stalledInterval: lockDuration,
      // A job is failed by BullMQ only if it takes down this many workers in a row.
      maxStalledCount: 10,
      settings: {
        backoffStrategy: (attemptsMade, _type, error) =>
          error instanceof RetryLater
            ? error.delayMs
            : // Redis trouble inside the processor: try again soon, then less and less often.
              Math.min(60_000, 1000 * 2 ** Math.min(attemptsMade, 6)),
      },
    });
    worker.on('error', onError('worker'));
    return { worker, workerClient };
  }

  /**
   * Puts dead-lettered events back on the queue, oldest first, each behind its entity's pending
   * events, with its webhook-id (a new job id, so BullMQ does not take it for the old one); then
   * takes them out of the dead-letter set. Resolves with how many this call took out: an event
   * another instance replays at the same time is queued once (same job id) and counted once.
   */
  async function replay(dead: Job<DeadEvent>[]) {
    dead.sort((a, b) => a.timestamp - b.timestamp);
    let replayed = 0;
    for (const job of dead) {
      const { message, line, replays = 0 } = job.data;
      await enqueue(message, line, `${message.id}-r${replays + 1}`, replays + 1);
      replayed += await deadQueue.remove(job.id as string);
    }
    if (replayed > 0) logger.warn({ queue: queueName, replayed }, `${replayed} dead webhook(s) replayed`);
    return replayed;
  }

  const replayDead = async () => replay(await deadQueue.getWaiting(0, -1));

  async function resend(id: string): Promise<ResendResult> {
    resendId(id);
    const isIt = (job: Job<DeadEvent> | undefined): job is Job<DeadEvent> => job?.data?.message?.id === id;
    // A dead event's job id is its webhook-id, or, once replayed before, that with `-r<n>`: looked
    // for among the dead set's ids only then.
    const first = id === '' ? undefined : await deadQueue.getJob(id);
    let jobs = isIt(first) ? [first] : [];
    if (jobs.length === 0) {
      const replayed = (jobId: string) =>
        jobId.startsWith(`${id}-r`) && /^\d+$/.test(jobId.slice(id.length + 2));
      const ids = (await client.lrange(deadQueue.keys.wait as string, 0, -1)).filter(replayed);
      jobs = (await Promise.all(ids.map((jobId) => deadQueue.getJob(jobId)))).filter(isIt);
    }
    return (await replay(jobs)) > 0 ? 'resent' : 'not_found';
  }

  /**
   * `work`'s answer within `timeoutMs`; otherwise rejects with an Error naming Redis, the queue
   * and what failed (`what`), since BullMQ waits for a Redis that is down or hangs forever.
   */
  async function fromRedis<T>(what: string, work: () => Promise<T>, timeoutMs: number): Promise<T> {
    let answer: T | typeof LATE;
    try {
      answer = await within(work(), timeoutMs);
    } catch (error) {
      // While the connection is down ioredis only says its retries ran out: say what is wrong instead.
      const down = client.status !== 'ready';
      throw new Error(
        down
          ? `${what}: Redis is not reachable (queue ${queueName}, connection ${client.status})${clientError ? `: ${clientError}` : ''}`
          : `${what}: Redis failed (queue ${queueName}): ${errorText(error)}`,
        { cause: error },
      );
    }
    if (answer === LATE) throw new Error(`Redis did not answer within ${timeoutMs} ms (queue ${queueName})`);
    return answer;
  }

  async function counts() {
    const [jobs, dead] = await Promise.all([
      queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'),
      deadQueue.getWaitingCount(),
    ]);
    const count = (type: string) => jobs[type] ?? 0;
    return {
      pending: count('waiting') + count('prioritized') + count('delayed'),
      active: count('active'),
      delivered: count('completed'),
      failed: count('failed'),
      dead,
    };
  }

  async function stats(timeoutMs = 5000): Promise<DurableWebhookStats> {
    waitMs('stats', timeoutMs);
    const { pending, ...rest } = await fromRedis('stats', counts, timeoutMs);
    return { queued: pending, ...rest };
  }

  async function activity(options: { limit?: number; timeoutMs?: number } = {}): Promise<WebhookActivity> {
    const { limit, timeoutMs } = activityOptions(options);
    const now = Date.now();
    const read = async () => {
      const [figures, retrying, recent, perMinute] = await Promise.all([
        counts(),
        tracked.retryingCount(),
        tracked.recent(queue, deadQueue, limit),
        tracked.perMinute(now),
      ]);
      return {
        source: 'redis' as const,
        enabled: true,
        counts: {
          // A retry that just became due may be counted in both for a moment.
          queued: Math.max(0, figures.pending - retrying),
          inFlight: figures.active,
          delivered: figures.delivered,
          retrying,
          givenUp: figures.failed,
          dead: figures.dead,
        },
        recent,
        perMinute,
      };
    };
    return fromRedis('activity', read, timeoutMs);
  }

  /** The status page's bookkeeping never fails a delivery: a count lost to Redis is only logged. */
  async function counted(work: Promise<unknown>) {
    try {
      await work;
    } catch (error) {
      logger.warn({ err: error, queue: queueName }, `webhook activity not recorded: ${errorText(error)}`);
    }
  }

  /**
   * Ends a connection: QUIT, which waits for Redis's answer, for at most `ms`; a Redis that does
   * not answer by then (hung, or unreachable) is disconnected instead.
   */
  async function quitWithin(redis: Redis, ms: number) {
    const quit = redis.quit().then(
      () => true,
      () => false,
    );
    if ((await within(quit, ms)) !== true) redis.disconnect();
  }

  function close(timeoutMs = 30_000): Promise<DurableCloseReport> {
    try {
      waitMs('close', timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    closed = true;
    closing ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      // Each step gets what is left of the deadline, and a moment at least to end cleanly: a Redis
      // that hangs (SIGSTOP, a lost host) answers no QUIT, so every wait on it is bounded.
      const left = () => Math.max(100, deadline - Date.now());
      const held = await holding.close(timeoutMs, 'not stored in Redis before close()');
      if (worker) {
        // Without Redis nothing can be finished: stop reconnecting, or BullMQ's close waits for it forever.
        if (worker.workerClient.status !== 'ready') stopping = true;
        const stopped = worker.worker.close().catch((error: Error) => {
          logger.error({ err: error }, 'webhook worker did not close cleanly');
        });
        if ((await within(stopped, left())) === LATE) {
          logger.warn(
            { queue: queueName, timeoutMs },
            'webhook deliveries still in progress at close(); other workers redeliver them once their lock expires',
          );
          stopping = true;
        }
        // BullMQ leaves a connection it was given open.
        await quitWithin(worker.workerClient, left());
      }
      // The worker's last attempts, for the status page's chart.
      // At most a second: a chart is not worth a longer shutdown.
      if (worker) await within(tracked.lastTally(), Math.min(1000, left()));
      stopping = true;
      if ((await within(Promise.allSettled([queue.close(), deadQueue.close()]), left())) === LATE)
        client.disconnect();
      await quitWithin(client, left());
      return { held };
    })();
    return closing;
  }

  return {
    enabled: true,
    productCreated: (product) => emit(() => build('products', 'created', product)),
    productUpdated: (product) => emit(() => build('products', 'updated', product)),
    productDeleted: (product) => emit(() => build('products', 'deleted', product)),
    orderCreated: (order) => emit(() => build('orders', 'created', order)),
    orderUpdated: (order) => emit(() => build('orders', 'updated', order)),
    orderDeleted: (order) => emit(() => build('orders', 'deleted', order)),
    requestSync: () => emit(() => ({ event: 'sync.requested', topic: 'sync', entity: 'all', data: {} })),
    stats,
    activity,
    resend,
    replayDead,
    held: holding.list,
    close,
  };
}
