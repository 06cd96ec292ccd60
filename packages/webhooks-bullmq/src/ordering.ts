import type { Redis } from 'ioredis';

/*
 * Per-entity order across any number of worker processes.
 *
 * BullMQ (open source) has no job groups, so one entity's events could run on several workers at
 * once and overtake each other after a retry. Each entity (`products:42`, `orders:7`, `sync:all`)
 * therefore has a *line* in Redis: a list of its pending job ids, oldest first.
 *
 * - Emit appends the job id to the line (RPUSH, in a script that skips an id already there) and
 *   only then adds the job. An event is in its line before any worker can see it.
 * - A worker that picks up a job asks the line (one atomic script) whether it is the head. The
 *   head is delivered; its retries wait in BullMQ's delayed set and it stays the head meanwhile.
 *   Any other job of the line is *parked*: moved back to delayed for a short while (growing with
 *   the event's age, 100 ms to 30 s), without using up a delivery attempt.
 * - Only after the head is delivered or given up (dead-lettered) is it removed from the line, and
 *   the new head, if parked, is promoted at once: order costs one Redis round trip per event,
 *   not a polling interval. A park re-checks the line right after moving to delayed, so a head
 *   that settled in between cannot leave the next event asleep until its timer.
 * - A worker killed mid-delivery leaves its job active; BullMQ's stalled check hands it to another
 *   worker after the lock expires, and it is still the head, so nothing behind it overtakes it.
 * - A head whose job does not exist (its emitter died between the two writes above, or it was
 *   removed by hand) is waited for `gapMs`, then dropped; a head whose job already finished (its
 *   removal from the line was lost) is dropped at once.
 * - A job that is not in its line (finished before, then redelivered after a crash) is delivered
 *   without waiting: at least once wins over order, and the receiver dedupes it by webhook-id.
 *
 * An empty line is an absent key, so idle entities cost no memory.
 */

const JOIN = `
if redis.call('LPOS', KEYS[1], ARGV[1]) == false then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return 1`;

const GATE = `
local head = redis.call('LINDEX', KEYS[1], 0)
if head == ARGV[1] then return {'turn'} end
if head == false or redis.call('LPOS', KEYS[1], ARGV[1]) == false then return {'free'} end
return {'wait', head}`;

/** Removes the id; when it was the head, returns the new head. */
const LEAVE = `
local head = redis.call('LINDEX', KEYS[1], 0)
redis.call('LREM', KEYS[1], 1, ARGV[1])
if head == ARGV[1] then return redis.call('LINDEX', KEYS[1], 0) end
return false`;

/** When a missing head was first seen. */
const MISSING_SINCE = `
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return redis.call('GET', KEYS[1])`;

export type Turn = { state: 'turn' } | { state: 'free' } | { state: 'wait'; head: string };

type Command = (...args: (string | number)[]) => Promise<unknown>;

function define(client: Redis, name: string, lua: string): Command {
  if (!(name in client)) client.defineCommand(name, { numberOfKeys: 1, lua });
  const command = (client as unknown as Record<string, Command>)[name] as Command;
  return command.bind(client);
}

/** The line scripts on one client; keys live under `base` (the queue's own key space). */
export function createLines(client: Redis, base: string) {
  const join = define(client, 'hiwelinkLineJoin', JOIN);
  const gate = define(client, 'hiwelinkLineGate', GATE);
  const leave = define(client, 'hiwelinkLineLeave', LEAVE);
  const missingSince = define(client, 'hiwelinkLineMissingSince', MISSING_SINCE);
  const key = (line: string) => `${base}:line:${line}`;
  return {
    key,
    join: async (line: string, jobId: string) => {
      await join(key(line), jobId);
    },
    turn: async (line: string, jobId: string): Promise<Turn> => {
      const [state, head] = (await gate(key(line), jobId)) as [string, string?];
      return state === 'wait' ? { state, head: head as string } : { state: state as 'turn' | 'free' };
    },
    /** Takes the job out of its line; returns the job now at the head if it was the head. */
    leave: async (line: string, jobId: string) =>
      ((await leave(key(line), jobId)) as string | null) ?? undefined,
    /** Milliseconds since a missing head was first noticed. */
    missingFor: async (jobId: string, ttlMs: number) => {
      const now = Date.now();
      const since = Number(await missingSince(`${base}:missing:${jobId}`, now, ttlMs));
      return now - since;
    },
  };
}

export type Lines = ReturnType<typeof createLines>;
