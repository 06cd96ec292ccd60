import { noProgress, type Progress } from './activity-log.js';
import type { WebhookMessage } from './delivery.js';

/**
 * An event in the in-memory emitter, from emit() until it is delivered or given up, with what the
 * status page shows of its attempts.
 */
export interface Delivery extends WebhookMessage, Progress {
  /** Delivery attempts made so far. */
  attempts: number;
  /** When it may be attempted again, in ms since the epoch; 0 for at once. */
  nextAttemptAt: number;
  inFlight: boolean;
}

/** One entity's deliveries still held, linked through their `before` and `after`. */
interface Chain {
  key: string;
  last: Slot;
}

/** Where a slot waits to be taken: only an entity's first delivery, when not in flight, waits. */
type Place = Heap | 'fresh' | undefined;

/**
 * A delivery with its places in the queue, kept on the object itself: with 10,000 events waiting
 * for a receiver that is down, no operation may walk the queue.
 */
interface Slot extends Delivery {
  /** Emit order, which is the queue's order. */
  seq: number;
  prev: Slot | undefined;
  next: Slot | undefined;
  chain: Chain;
  /** The entity's previous and next deliveries. */
  before: Slot | undefined;
  after: Slot | undefined;
  place: Place;
  /** Its neighbours in the fresh list, while it waits there. */
  freshPrev: Slot | undefined;
  freshNext: Slot | undefined;
  /** Its position in its heap, while it waits in one. */
  index: number;
}

/** A binary heap of slots that knows where each one is, so that any of them can leave it. */
class Heap {
  private readonly slots: Slot[] = [];

  constructor(private readonly precedes: (a: Slot, b: Slot) => boolean) {}

  peek(): Slot | undefined {
    return this.slots[0];
  }

  push(slot: Slot) {
    slot.place = this;
    slot.index = this.slots.length;
    this.slots.push(slot);
    this.up(slot);
  }

  pop(): Slot | undefined {
    const top = this.slots[0];
    if (top) this.delete(top);
    return top;
  }

  delete(slot: Slot) {
    const last = this.slots.pop() as Slot;
    if (last !== slot) {
      this.slots[slot.index] = last;
      last.index = slot.index;
      this.down(last);
      this.up(last);
    }
    slot.place = undefined;
  }

  private up(slot: Slot) {
    while (slot.index > 0) {
      const parent = this.slots[(slot.index - 1) >> 1] as Slot;
      if (!this.precedes(slot, parent)) break;
      this.swap(slot, parent);
    }
  }

  private down(slot: Slot) {
    for (;;) {
      const left = this.slots[2 * slot.index + 1];
      const right = this.slots[2 * slot.index + 2];
      let first = slot;
      if (left && this.precedes(left, first)) first = left;
      if (right && this.precedes(right, first)) first = right;
      if (first === slot) break;
      this.swap(first, slot);
    }
  }

  private swap(a: Slot, b: Slot) {
    const index = a.index;
    a.index = b.index;
    b.index = index;
    this.slots[a.index] = a;
    this.slots[b.index] = b;
  }
}

export interface DeliveryQueue {
  /** Deliveries held, in flight included. */
  readonly size: number;
  /** Appends a delivery of `message`, due at once. */
  add(message: WebhookMessage): Delivery;
  /** The entity's last delivery still held, if any. */
  last(topic: string, entity: string): Delivery | undefined;
  /** The oldest delivery not in flight. */
  oldestWaiting(): Delivery | undefined;
  /**
   * Takes the delivery to attempt next, if any is due at `now`: the oldest one that is first of
   * its entity (so that an entity's events go one at a time, in order) and not in flight.
   */
  takeDue(now: number): Delivery | undefined;
  /** When the earliest delivery waiting for a retry becomes due, if one is waiting. */
  nextRetryAt(): number | undefined;
  /** Puts back a taken delivery after a failed attempt, due at its `nextAttemptAt`. */
  putBack(delivery: Delivery): void;
  /** Removes a delivery, delivered or given up. */
  remove(delivery: Delivery): void;
  /** Makes every delivery due at once. */
  allDueNow(): void;
  /** The deliveries held, oldest first. */
  list(): Delivery[];
}

/**
 * The emitter's queue: emit order, each entity's deliveries one after another, and the first
 * delivery of every entity waiting to be taken, so that emitting and starting a delivery cost
 * O(1) or O(log n) however many events wait. A new entity's first delivery waits in the fresh
 * list, in emit order; one that becomes first later (its predecessor done) or is due again after
 * a retry waits in `due`, ordered by emit order too; a retry not yet due waits in `retrying`.
 */
export function createDeliveryQueue(): DeliveryQueue {
  const entities = new Map<string, Chain>();
  let freshFirst: Slot | undefined;
  let freshLast: Slot | undefined;
  const due = new Heap((a, b) => a.seq < b.seq);
  const retrying = new Heap((a, b) =>
    a.nextAttemptAt === b.nextAttemptAt ? a.seq < b.seq : a.nextAttemptAt < b.nextAttemptAt,
  );
  let oldest: Slot | undefined;
  let newest: Slot | undefined;
  let size = 0;
  let seq = 0;

  const keyOf = (topic: string, entity: string) => `${topic}:${entity}`;
  const file = (slot: Slot) => (slot.nextAttemptAt > 0 ? retrying : due).push(slot);

  function leaveFresh(slot: Slot) {
    if (slot.freshPrev) slot.freshPrev.freshNext = slot.freshNext;
    else freshFirst = slot.freshNext;
    if (slot.freshNext) slot.freshNext.freshPrev = slot.freshPrev;
    else freshLast = slot.freshPrev;
    slot.freshPrev = slot.freshNext = slot.place = undefined;
  }

  return {
    get size() {
      return size;
    },

    add(message) {
      const key = keyOf(message.topic, message.entity);
      const existing = entities.get(key);
      // A new entity's chain gets its last slot just below.
      const chain = existing ?? ({ key } as Chain);
      const slot: Slot = {
        id: message.id,
        event: message.event,
        topic: message.topic,
        entity: message.entity,
        data: message.data,
        attempts: 0,
        nextAttemptAt: 0,
        inFlight: false,
        ...noProgress(),
        seq: seq++,
        prev: newest,
        next: undefined,
        chain,
        before: existing?.last,
        after: undefined,
        place: undefined,
        freshPrev: undefined,
        freshNext: undefined,
        index: -1,
      };
      if (newest) newest.next = slot;
      else oldest = slot;
      newest = slot;
      size += 1;
      if (existing) {
        existing.last.after = slot;
        existing.last = slot;
      } else {
        chain.last = slot;
        entities.set(key, chain);
        slot.place = 'fresh';
        slot.freshPrev = freshLast;
        if (freshLast) freshLast.freshNext = slot;
        else freshFirst = slot;
        freshLast = slot;
      }
      return slot;
    },

    last(topic, entity) {
      return entities.get(keyOf(topic, entity))?.last;
    },

    oldestWaiting() {
      let slot = oldest;
      while (slot?.inFlight) slot = slot.next;
      return slot;
    },

    takeDue(now) {
      for (let next = retrying.peek(); next && next.nextAttemptAt <= now; next = retrying.peek()) {
        retrying.delete(next);
        due.push(next);
      }
      const first = freshFirst;
      const returning = due.peek();
      if (first && !(returning && returning.seq < first.seq)) {
        leaveFresh(first);
        return first;
      }
      return due.pop();
    },

    nextRetryAt() {
      return retrying.peek()?.nextAttemptAt;
    },

    putBack(delivery) {
      file(delivery as Slot);
    },

    remove(delivery) {
      const slot = delivery as Slot;
      if (slot.place === 'fresh') leaveFresh(slot);
      else slot.place?.delete(slot);
      if (slot.prev) slot.prev.next = slot.next;
      else oldest = slot.next;
      if (slot.next) slot.next.prev = slot.prev;
      else newest = slot.prev;
      size -= 1;
      const { chain } = slot;
      if (slot.before) slot.before.after = slot.after;
      else if (slot.after) file(slot.after);
      else entities.delete(chain.key);
      if (slot.after) slot.after.before = slot.before;
      else if (slot.before) chain.last = slot.before;
      slot.prev = slot.next = slot.before = slot.after = undefined;
    },

    allDueNow() {
      for (let slot = oldest; slot; slot = slot.next) slot.nextAttemptAt = 0;
      for (let slot = retrying.pop(); slot; slot = retrying.pop()) due.push(slot);
    },

    list() {
      const slots: Delivery[] = [];
      for (let slot = oldest; slot; slot = slot.next) slots.push(slot);
      return slots;
    },
  };
}
