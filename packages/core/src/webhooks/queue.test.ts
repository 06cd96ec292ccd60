import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Topic, WebhookEventName } from './delivery.js';
import { createDeliveryQueue, type Delivery } from './queue.js';

/** What the emitter did before the queue had an index: one array, scanned in full on each pump. */
interface Modelled {
  id: string;
  topic: Topic;
  entity: string;
  inFlight: boolean;
  nextAttemptAt: number;
}

/** The first delivery of each entity in the array, in order: the only ones that may be started. */
function firsts(model: Modelled[]) {
  const seen = new Set<string>();
  return model.filter((entry) => {
    const key = `${entry.topic}:${entry.entity}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const due = (model: Modelled[], now: number) =>
  firsts(model).find((entry) => !entry.inFlight && entry.nextAttemptAt <= now);

const nextRetry = (model: Modelled[], now: number) => {
  const waits = firsts(model)
    .filter((entry) => !entry.inFlight && entry.nextAttemptAt > now)
    .map((entry) => entry.nextAttemptAt);
  return waits.length > 0 ? Math.min(...waits) : undefined;
};

const operation = fc.oneof(
  fc.record({
    op: fc.constant('add' as const),
    topic: fc.constantFrom<Topic>('products', 'orders'),
    entity: fc.constantFrom('1', '2', '3'),
  }),
  fc.record({ op: fc.constant('take' as const), advance: fc.nat(50) }),
  fc.record({ op: fc.constant('fail' as const), pick: fc.nat(), wait: fc.nat(100) }),
  fc.record({ op: fc.constant('done' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('dropOldest' as const) }),
  fc.record({ op: fc.constant('allDueNow' as const) }),
);

describe('createDeliveryQueue', () => {
  it('starts, orders and drops exactly what a full scan of the queue would', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200, size: 'max' }), (operations) => {
        const queue = createDeliveryQueue();
        const model: Modelled[] = [];
        const taken = new Map<string, Delivery>();
        let now = 1_000;
        let ids = 0;
        for (const step of operations) {
          const inFlight = model.filter((entry) => entry.inFlight);
          switch (step.op) {
            case 'add': {
              const id = `msg_${ids++}`;
              const event: WebhookEventName = step.topic === 'products' ? 'product.updated' : 'order.updated';
              queue.add({ id, event, topic: step.topic, entity: step.entity, data: {} });
              model.push({ id, topic: step.topic, entity: step.entity, inFlight: false, nextAttemptAt: 0 });
              break;
            }
            case 'take': {
              now += step.advance;
              const expected = due(model, now);
              const delivery = queue.takeDue(now);
              expect(delivery?.id).toBe(expected?.id);
              if (delivery && expected) {
                delivery.inFlight = true;
                expected.inFlight = true;
                taken.set(delivery.id, delivery);
              } else {
                expect(queue.nextRetryAt()).toBe(nextRetry(model, now));
              }
              break;
            }
            case 'fail': {
              const entry = inFlight[step.pick % inFlight.length];
              if (!entry) break;
              const delivery = taken.get(entry.id) as Delivery;
              const at = step.wait === 0 ? 0 : now + step.wait;
              Object.assign(entry, { inFlight: false, nextAttemptAt: at });
              Object.assign(delivery, { inFlight: false, nextAttemptAt: at });
              queue.putBack(delivery);
              break;
            }
            case 'done': {
              const entry = inFlight[step.pick % inFlight.length];
              if (!entry) break;
              queue.remove(taken.get(entry.id) as Delivery);
              model.splice(model.indexOf(entry), 1);
              break;
            }
            case 'dropOldest': {
              const expected = model.find((entry) => !entry.inFlight);
              const oldest = queue.oldestWaiting();
              expect(oldest?.id).toBe(expected?.id);
              if (oldest && expected) {
                queue.remove(oldest);
                model.splice(model.indexOf(expected), 1);
              }
              break;
            }
            case 'allDueNow':
              queue.allDueNow();
              for (const entry of model) entry.nextAttemptAt = 0;
              break;
          }
          expect(queue.size).toBe(model.length);
          for (const entry of model.filter((waiting) => !waiting.inFlight && taken.has(waiting.id))) {
            expect(taken.get(entry.id)?.nextAttemptAt).toBe(entry.nextAttemptAt);
          }
          expect(queue.list().map((delivery) => delivery.id)).toEqual(model.map((entry) => entry.id));
          for (const topic of ['products', 'orders'] as const) {
            for (const entity of ['1', '2', '3']) {
              const last = model.findLast((entry) => entry.topic === topic && entry.entity === entity);
              expect(queue.last(topic, entity)?.id).toBe(last?.id);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes new entities in emit order while the oldest waiting ones are dropped', () => {
    const queue = createDeliveryQueue();
    for (let id = 0; id < 5_000; id++) {
      queue.add({ id: `msg_${id}`, event: 'product.updated', topic: 'products', entity: `${id}`, data: {} });
    }
    for (let id = 0; id < 5_000; id += 2) {
      const oldest = queue.oldestWaiting() as Delivery;
      expect(oldest.id).toBe(`msg_${id}`);
      queue.remove(oldest);
      const next = queue.takeDue(0) as Delivery;
      expect(next.id).toBe(`msg_${id + 1}`);
      queue.remove(next);
    }
    expect(queue.size).toBe(0);
    expect(queue.takeDue(0)).toBeUndefined();
  });
});
