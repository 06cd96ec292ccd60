// The kind: a Redis that hangs (SIGSTOP, a stalled host): the connection stays open and "ready",
// and nothing is answered. Every wait on it must be bounded: close() never resolved (QUIT and
// BullMQ's close wait for an answer), each emit waited its whole budget (emitTimeoutMs) even once
// Redis was known not to answer, and ORM bindings added those waits up inside a commit (a 10-row
// bulkCreate commit took 5 s). Once a write goes unanswered, later emits are held at once until a
// write succeeds; the bindings hand a commit's events over together; close() ends on time.
import type { DeliveryFailure } from '@hiwelink/core';
import { hiwelinkHooks } from '@hiwelink/orm/sequelize';
import { attachHiwelink } from '@hiwelink/orm/typeorm';
import { withWebhooks } from '@hiwelink/orm/with-webhooks';
import { DataTypes, Sequelize } from 'sequelize';
import { DataSource, EntitySchema } from 'typeorm';
import { describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach, privateDurable, quiet } from '../support/emitters.js';
import { connectPostgres } from '../support/postgres.js';
import { startReceiver } from '../support/receiver.js';
import { freePort, privateRedis, redisServerAvailable } from '../support/redis-server.js';

const available = redisServerAvailable();
const pg = await connectPostgres();
const defer = cleanupsAfterEach();

/** A private Redis, started, then paused (hangs) by the test; killed at cleanup. */
async function hangingRedis() {
  const redis = privateRedis(await freePort());
  defer(() => redis.kill());
  await redis.start();
  return redis;
}

const durable = privateDurable(defer, 'hiwelink-hang', 1000);

/** How long `run` took, in ms. */
async function elapsed(run: () => Promise<unknown>) {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

// A budget long enough that paying it once per event would show: 5 events would take 20 s.
const BUDGET_MS = 4000;

describe.skipIf(!available)('a Redis that hangs', () => {
  it('holds later emits at once after one went unanswered, and stores them in order once it answers', async () => {
    const redis = await hangingRedis();
    const receiver = await startReceiver();
    defer(receiver.close);
    const warnings: string[] = [];
    const emitter = durable(redis.url, receiver.url, {
      emitTimeoutMs: BUDGET_MS,
      logger: { warn: (_, message) => warnings.push(message), error() {} },
    });
    expect(await emitter.productUpdated({ id: 1, name: 'v1' })).toBe(true);
    redis.pause();
    const results: boolean[] = [];
    const ms = await elapsed(async () => {
      for (const name of ['v2', 'v3', 'v4', 'v5', 'v6'])
        results.push(await emitter.productUpdated({ id: 1, name }));
    });
    expect(results).toEqual([false, false, false, false, false]);
    // One budget for the first write, none for the others (20 s if each waited its own).
    expect(ms).toBeLessThan(2.5 * BUDGET_MS);
    expect(warnings[0]).toContain(`Redis cannot take events (no answer within ${BUDGET_MS} ms)`);
    expect(emitter.held().map((event) => event.data.name)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6']);

    redis.resume();
    await vi.waitFor(() => expect(receiver.delivered()).toHaveLength(6), { timeout: 20_000 });
    expect(receiver.delivered().map((entry) => entry.body.data.name)).toEqual([
      'v1',
      'v2',
      'v3',
      'v4',
      'v5',
      'v6',
    ]);
    // A write succeeded: emits are stored again.
    expect(await emitter.productUpdated({ id: 1, name: 'v7' })).toBe(true);
  }, 60_000);

  it.each([true, false])(
    'close() ends by its deadline and reports the held events (worker: %s)',
    async (worker) => {
      const redis = await hangingRedis();
      const failures: DeliveryFailure[] = [];
      const emitter = durable(redis.url, 'http://127.0.0.1:9', {
        worker,
        emitTimeoutMs: 200,
        onFailure: (failure) => failures.push(failure),
      });
      expect(await emitter.productUpdated({ id: 1, name: 'v1' })).toBe(true);
      redis.pause();
      expect(await emitter.productUpdated({ id: 2, name: 'v1' })).toBe(false);
      const report = await Promise.race([
        emitter.close(1000),
        new Promise<'hang'>((resolve) => setTimeout(resolve, 8000, 'hang')),
      ]);
      expect(report).toEqual({
        held: [expect.objectContaining({ data: expect.objectContaining({ id: '2' }) })],
      });
      expect(failures.map((failure) => [failure.data.id, failure.reason])).toEqual([
        ['2', 'not stored in Redis before close()'],
      ]);
    },
    30_000,
  );

  it("withWebhooks hands a write's rows over together: one budget, not one per row", async () => {
    const redis = await hangingRedis();
    const emitter = durable(redis.url, 'http://127.0.0.1:9', { worker: false, emitTimeoutMs: BUDGET_MS });
    expect(await emitter.productUpdated({ id: 0 })).toBe(true);
    redis.pause();
    const rows = [1, 2, 3, 4, 5].map((id) => ({ id, title: `p${id}` }));
    const products = withWebhooks({ create: async () => rows }, emitter, { kind: 'products', logger: quiet });
    const ms = await elapsed(() => products.create());
    expect(ms).toBeLessThan(2.5 * BUDGET_MS);
    expect(emitter.held().map((event) => event.data.id)).toEqual(['1', '2', '3', '4', '5']);
  }, 60_000);

  it.skipIf(!pg)(
    'a Sequelize commit of 5 rows pays one budget, not one per row',
    async () => {
      const db = pg as NonNullable<typeof pg>;
      const redis = await hangingRedis();
      const emitter = durable(redis.url, 'http://127.0.0.1:9', { worker: false, emitTimeoutMs: BUDGET_MS });
      const sequelize = new Sequelize(db.url, { dialect: 'postgres', logging: false });
      defer(() => sequelize.close());
      const Products = sequelize.define(
        'Product',
        { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, title: DataTypes.STRING },
        { tableName: `hang_products_${process.pid}_${Date.now()}`, timestamps: false },
      );
      await Products.sync();
      defer(() => Products.drop());
      hiwelinkHooks(Products, emitter, { kind: 'products', logger: quiet });
      expect(await emitter.productUpdated({ id: 0 })).toBe(true);
      redis.pause();
      const ms = await elapsed(() =>
        sequelize.transaction((transaction) =>
          Products.bulkCreate(
            [1, 2, 3, 4, 5].map((n) => ({ title: `p${n}` })),
            { transaction },
          ),
        ),
      );
      expect(ms).toBeLessThan(2.5 * BUDGET_MS);
      expect(emitter.held()).toHaveLength(5);
    },
    60_000,
  );

  // An emitter whose every emit takes a budget to answer, as a durable one does while Redis
  // hangs: TypeORM's subscriber awaited each event before handing over the next.
  it.skipIf(!pg)(
    'a TypeORM commit hands its 5 events over in order, together: one wait, not one per row',
    async () => {
      const db = pg as NonNullable<typeof pg>;
      const handed: string[] = [];
      const slow = async (record: unknown) => {
        handed.push(String((record as { title: string }).title));
        await new Promise((resolve) => setTimeout(resolve, BUDGET_MS));
        return false;
      };
      const emitter = {
        productCreated: slow,
        productUpdated: slow,
        productDeleted: slow,
        orderCreated: slow,
        orderUpdated: slow,
        orderDeleted: slow,
        requestSync: async () => false,
      };
      const Products = new EntitySchema<{ id: number; title: string }>({
        name: 'HangProduct',
        tableName: `hang_typeorm_${process.pid}_${Date.now()}`,
        columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } },
      });
      const dataSource = new DataSource({
        type: 'postgres',
        url: db.url,
        entities: [Products],
        synchronize: true,
      });
      await dataSource.initialize();
      defer(async () => {
        await dataSource.query(`DROP TABLE IF EXISTS "${Products.options.tableName}"`);
        await dataSource.destroy();
      });
      attachHiwelink(dataSource, { emitter, entities: { products: Products }, logger: quiet });
      const ms = await elapsed(() =>
        dataSource.transaction((manager) =>
          manager.getRepository(Products).save([1, 2, 3, 4, 5].map((n) => ({ title: `p${n}` }))),
        ),
      );
      expect(handed).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      expect(ms).toBeLessThan(2.5 * BUDGET_MS);
    },
    60_000,
  );
});
