import { attachHiwelink } from '@hiwelink/orm/typeorm';
import { DataSource, EntitySchema, In } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { type Delivered, ormSuite } from './support/orm-events.js';
import { connectPostgres, rejectAtCommit } from './support/postgres.js';

const pg = await connectPostgres();

interface ProductRow {
  id: number;
  title: string;
  handle: string | null;
  list_price: string;
  stock: number;
}

interface OrderRow {
  id: number;
  status: string;
  grand_total: string;
  deleted_at?: Date | null;
}

const Products = new EntitySchema<ProductRow>({
  name: 'Product',
  tableName: 'products',
  columns: {
    id: { type: Number, primary: true, generated: true },
    title: { type: String, unique: true },
    handle: { type: String, nullable: true },
    list_price: { type: 'numeric', precision: 10, scale: 2 },
    stock: { type: Number, default: 0 },
  },
});

const Orders = new EntitySchema<OrderRow>({
  name: 'Order',
  tableName: 'orders',
  columns: {
    id: { type: Number, primary: true, generated: true },
    status: { type: String },
    grand_total: { type: 'numeric', precision: 10, scale: 2 },
    deleted_at: { type: 'timestamptz', deleteDate: true, nullable: true },
  },
});

/** A table the subscriber is not told about: its writes send nothing. */
const Notes = new EntitySchema<{ id: number; text: string }>({
  name: 'Note',
  tableName: 'notes',
  columns: { id: { type: Number, primary: true, generated: true }, text: { type: String } },
});

const summary = (events: Delivered[]) => events.map(({ event, id }) => `${event} ${id}`);

describe.skipIf(!pg)('TypeORM subscriber', () => {
  const db = pg as NonNullable<typeof pg>;
  let dataSource: DataSource;
  const suite = ormSuite(db, 'orm_typeorm', async () => {
    dataSource = new DataSource({
      type: 'postgres',
      url: db.url,
      schema: suite.schema.name,
      entities: [Products, Orders, Notes],
      synchronize: true,
      logging: false,
    });
    await dataSource.initialize();
    await rejectAtCommit(db.client, suite.schema.name, 'products', 'title', 'rejected at commit');
    attachHiwelink(dataSource, {
      emitter: suite.webhooks.emitter,
      entities: { products: Products, orders: Orders },
      logger: suite.log.logger,
    });
    return () => dataSource.destroy();
  });

  const products = () => dataSource.getRepository(Products);
  const orders = () => dataSource.getRepository(Orders);
  const rowExists = async (id: number) => (await products().findOneBy({ id })) !== null;

  it('sends created, updated and deleted for saves and removes, a deletion with its id only', async () => {
    const mug = await products().save({ title: 'Mug', handle: 'mug', list_price: '12.50', stock: 3 });
    mug.title = 'Blue mug';
    await products().save(mug);
    // A partial entity: the row is read back, so what it leaves out keeps its value.
    await products().save({ id: mug.id, stock: 1 });
    await products().remove(await products().findOneByOrFail({ id: mug.id }));
    await dataSource.getRepository(Notes).save({ text: 'not a product' });

    const id = String(mug.id);
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.created',
        id,
        data: {
          id,
          name: 'Mug',
          slug: 'mug',
          price: 12.5,
          regular_price: 12.5,
          stock_quantity: 3,
          stock_status: 'in_stock',
        },
      },
      {
        event: 'product.updated',
        id,
        data: {
          id,
          name: 'Blue mug',
          slug: 'mug',
          price: 12.5,
          regular_price: 12.5,
          stock_quantity: 3,
          stock_status: 'in_stock',
        },
      },
      {
        event: 'product.updated',
        id,
        data: expect.objectContaining({ id, name: 'Blue mug', slug: 'mug', stock_quantity: 1 }),
      },
      { event: 'product.deleted', id, data: { id } },
    ]);
  });

  it('sends a transaction’s writes only after it commits', async () => {
    let before: Delivered[] = [];
    const order = await dataSource.transaction(async (manager) => {
      const created = await manager.save(Orders, { status: 'pending', grand_total: '20.00' });
      await manager.save(Orders, { ...created, status: 'paid' });
      before = await suite.webhooks.next();
      return created;
    });
    expect(before).toEqual([]);
    const events = await suite.webhooks.next();
    expect(summary(events)).toEqual([`order.created ${order.id}`, `order.updated ${order.id}`]);
    expect(events[1]?.data).toEqual({ id: String(order.id), status: 'paid', total: 20 });
  });

  it('sends nothing for a rolled-back transaction, through the manager or a query runner', async () => {
    let rolledBack = 0;
    await expect(
      dataSource.transaction(async (manager) => {
        rolledBack = (await manager.save(Products, { title: 'Rolled back mug', list_price: '1.00' })).id;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');

    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    const order = await runner.manager.save(Orders, { status: 'pending', grand_total: '3.00' });
    await runner.manager.remove(Orders, order);
    await runner.rollbackTransaction();
    await runner.release();

    expect(await rowExists(rolledBack)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
    const all = await suite.webhooks.delivered();
    expect(all.filter(({ event, id }) => event.startsWith('product.') && id === String(rolledBack))).toEqual(
      [],
    );
    expect(all.filter(({ event, id }) => event.startsWith('order.') && id === String(order.id))).toEqual([]);
  });

  it('sends a nested transaction’s writes only when the outer one commits', async () => {
    let afterInner: Delivered[] = [];
    let innerId = 0;
    const outer = await dataSource.transaction(async (manager) => {
      const created = await manager.save(Products, { title: 'Outer mug', list_price: '2.00' });
      await manager.transaction(async (inner) => {
        innerId = (await inner.save(Products, { title: 'Inner mug', list_price: '3.00' })).id;
      });
      afterInner = await suite.webhooks.next(); // the savepoint is released, the outer transaction still open
      return created;
    });
    expect(afterInner).toEqual([]);
    expect(summary(await suite.webhooks.next())).toEqual([
      `product.created ${outer.id}`,
      `product.created ${innerId}`,
    ]);
  });

  it('sends nothing from a nested transaction whose outer transaction rolls back', async () => {
    let innerId = 0;
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.transaction(async (inner) => {
          innerId = (await inner.save(Products, { title: 'Doomed inner mug', list_price: '3.00' })).id;
        });
        throw new Error('outer fails after the inner committed');
      }),
    ).rejects.toThrow('outer fails');
    expect(await rowExists(innerId)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
    const all = await suite.webhooks.delivered();
    expect(all.some(({ event, id }) => event === 'product.created' && id === String(innerId))).toBe(false);
  });

  it('drops the writes of a savepoint that rolled back and sends the rest of the outer transaction', async () => {
    let innerId = 0;
    const kept = await dataSource.transaction(async (manager) => {
      await manager
        .transaction(async (inner) => {
          innerId = (await inner.save(Products, { title: 'Savepoint mug', list_price: '3.00' })).id;
          throw new Error('savepoint fails');
        })
        .catch(() => {});
      return manager.save(Products, { title: 'Kept mug', list_price: '4.00' });
    });
    expect(await rowExists(innerId)).toBe(false);
    expect(summary(await suite.webhooks.next())).toEqual([`product.created ${kept.id}`]);
  });

  it('sends nothing when COMMIT itself fails', async () => {
    let id = 0;
    await expect(
      dataSource.transaction(async (manager) => {
        id = (await manager.save(Products, { title: 'rejected at commit', list_price: '5.00' })).id;
      }),
    ).rejects.toThrow('rejected at commit');
    expect(await rowExists(id)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('sends at once a write made outside any transaction', async () => {
    const handedOver = () => suite.webhooks.emitter.stats().queued + suite.webhooks.emitter.stats().delivered;
    const before = handedOver();
    const mug = await products().save(
      { title: 'No transaction mug', list_price: '1.00' },
      { transaction: false },
    );
    // No commit to wait for: the event was handed over before save() resolved.
    expect(handedOver()).toBe(before + 1);
    expect(summary(await suite.webhooks.next())).toEqual([`product.created ${mug.id}`]);
  });

  it('sends created for each row of repository.insert()', async () => {
    const result = await products().insert([
      { title: 'Inserted A', list_price: '1.00' },
      { title: 'Inserted B', list_price: '2.00' },
    ]);
    const ids = result.identifiers.map((identifier) => String(identifier.id));
    expect(ids).toHaveLength(2);
    expect(summary(await suite.webhooks.next())).toEqual(ids.map((id) => `product.created ${id}`));
  });

  it('warns once, naming the entity and the fix, about updates and deletes by criteria', async () => {
    const [a, b] = await products().save([
      { title: 'Criteria A', list_price: '1.00' },
      { title: 'Criteria B', list_price: '1.00' },
    ]);
    const ids = [a?.id as number, b?.id as number];
    await suite.webhooks.next();

    await products().update({ id: In(ids) }, { stock: 4 });
    await products().update({ id: In(ids) }, { stock: 5 });
    expect(suite.log.warnings).toEqual([
      'Product: TypeORM passes no row for this update (repository.update()/increment()/decrement() by criteria, ' +
        'a query builder update), so no product.updated webhook is sent; use save() on the entities, or emit the ' +
        'events yourself after the commit',
    ]);
    await products().delete({ id: In(ids) });
    expect(suite.log.warnings).toHaveLength(2);
    expect(suite.log.warnings[1]).toContain('Product: TypeORM passes no row for this delete');
    expect(suite.log.warnings[1]).toContain('no product.deleted webhook');
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('sends a soft removal as deleted and a recovery as created', async () => {
    const order = await orders().save({ status: 'pending', grand_total: '7.00' });
    await orders().softRemove(order);
    await orders().recover(order);
    const id = String(order.id);
    expect(await suite.webhooks.next()).toEqual([
      { event: 'order.created', id, data: { id, status: 'pending', total: 7 } },
      { event: 'order.deleted', id, data: { id } },
      { event: 'order.created', id, data: { id, status: 'pending', total: 7 } },
    ]);
  });
});
