import { hiwelinkHooks } from '@hiwelink/orm/sequelize';
import {
  type CreationOptional,
  DataTypes,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  Op,
  Sequelize,
} from 'sequelize';
import { describe, expect, it } from 'vitest';
import { type Delivered, ormSuite } from './support/orm-events.js';
import { connectPostgres, rejectAtCommit } from './support/postgres.js';

const pg = await connectPostgres();

interface Product extends Model<InferAttributes<Product>, InferCreationAttributes<Product>> {
  id: CreationOptional<number>;
  title: string;
  handle: string | null;
  list_price: string;
  stock: CreationOptional<number>;
}

interface Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
  id: CreationOptional<number>;
  status: string;
  grand_total: string;
}

describe.skipIf(!pg)('Sequelize hooks', () => {
  const db = pg as NonNullable<typeof pg>;
  let sequelize: Sequelize;
  let Products: ReturnType<typeof defineModels>['Products'];
  let Orders: ReturnType<typeof defineModels>['Orders'];

  function defineModels(connection: Sequelize, schemaName: string) {
    const Products = connection.define<Product>(
      'Product',
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        title: { type: DataTypes.STRING, allowNull: false, unique: true },
        handle: { type: DataTypes.STRING, allowNull: true },
        list_price: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
        stock: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      },
      { schema: schemaName, tableName: 'products', timestamps: false },
    );
    const Orders = connection.define<Order>(
      'Order',
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        status: { type: DataTypes.STRING, allowNull: false },
        grand_total: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      },
      { schema: schemaName, tableName: 'orders', timestamps: false },
    );
    return { Products, Orders };
  }

  const suite = ormSuite(db, 'orm_sequelize', async () => {
    sequelize = new Sequelize(db.url, { dialect: 'postgres', logging: false });
    ({ Products, Orders } = defineModels(sequelize, suite.schema.name));
    await sequelize.sync();
    await rejectAtCommit(db.client, suite.schema.name, 'products', 'title', 'rejected at commit');
    hiwelinkHooks(Products, suite.webhooks.emitter, { kind: 'products', logger: suite.log.logger });
    hiwelinkHooks(Orders, suite.webhooks.emitter, { kind: 'orders', logger: suite.log.logger });
    return () => sequelize.close();
  });

  const rowExists = async (id: number) =>
    (await db.client.query(`SELECT 1 FROM "${suite.schema.name}".products WHERE id = $1`, [id])).rowCount ===
    1;

  it('sends created, updated and deleted at once for writes without a transaction, with the row as data', async () => {
    const mug = await Products.create({ title: 'Mug', handle: 'mug', list_price: '12.50', stock: 3 });
    await mug.update({ title: 'Blue mug', stock: 2 });
    await mug.destroy();
    const order = await Orders.create({ status: 'processing', grand_total: '25.00' });

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
          stock_quantity: 2,
          stock_status: 'in_stock',
        },
      },
      { event: 'product.deleted', id, data: { id } },
      {
        event: 'order.created',
        id: String(order.id),
        data: { id: String(order.id), status: 'processing', total: 25 },
      },
    ]);
  });

  it('sends a transaction’s writes only once it has committed, in order', async () => {
    let before: unknown[] = ['not checked'];
    const mug = await sequelize.transaction(async (transaction) => {
      const created = await Products.create({ title: 'Tx mug', list_price: '9.00' }, { transaction });
      await created.update({ stock: 7 }, { transaction });
      before = await suite.webhooks.next(); // the emitter has drained: nothing was handed to it yet
      return created;
    });
    expect(before).toEqual([]);
    const id = String(mug.id);
    const events = await suite.webhooks.next();
    expect(events.map(({ event, id }) => [event, id])).toEqual([
      ['product.created', id],
      ['product.updated', id],
    ]);
    expect(events[1]?.data).toMatchObject({ name: 'Tx mug', stock_quantity: 7 });
  });

  it('sends nothing for a rolled-back transaction, managed or not', async () => {
    const ids: number[] = [];
    await expect(
      sequelize.transaction(async (transaction) => {
        const mug = await Products.create({ title: 'Rolled back mug', list_price: '1.00' }, { transaction });
        ids.push(mug.id);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');

    const transaction = await sequelize.transaction();
    const order = await Orders.create({ status: 'pending', grand_total: '3.00' }, { transaction });
    await order.update({ status: 'paid' }, { transaction });
    await transaction.rollback();

    expect(await suite.webhooks.next()).toEqual([]);
    expect(await rowExists(ids[0] as number)).toBe(false);
    const all = await suite.webhooks.delivered();
    const of = (topic: string, id: unknown) => (event: Delivered) =>
      event.event.startsWith(`${topic}.`) && event.id === String(id);
    expect(all.filter(of('product', ids[0]))).toEqual([]);
    expect(all.filter(of('order', order.id))).toEqual([]);
  });

  it('sends a nested transaction’s writes only when the outer one commits', async () => {
    let afterInner: unknown[] = ['not checked'];
    let innerId = 0;
    const outerMug = await sequelize.transaction(async (outer) => {
      const created = await Products.create(
        { title: 'Outer mug', list_price: '2.00' },
        { transaction: outer },
      );
      await sequelize.transaction({ transaction: outer }, async (inner) => {
        innerId = (await Products.create({ title: 'Inner mug', list_price: '3.00' }, { transaction: inner }))
          .id;
      });
      afterInner = await suite.webhooks.next(); // the savepoint is released, the outer transaction still open
      return created;
    });
    expect(afterInner).toEqual([]);
    expect((await suite.webhooks.next()).map(({ event, id }) => [event, id])).toEqual([
      ['product.created', String(outerMug.id)],
      ['product.created', String(innerId)],
    ]);
  });

  it('sends nothing from a nested transaction whose outer transaction rolls back', async () => {
    let innerId = 0;
    await expect(
      sequelize.transaction(async (outer) => {
        await sequelize.transaction({ transaction: outer }, async (inner) => {
          innerId = (
            await Products.create({ title: 'Doomed inner mug', list_price: '3.00' }, { transaction: inner })
          ).id;
        });
        throw new Error('outer fails after the inner committed');
      }),
    ).rejects.toThrow('outer fails');
    expect(await rowExists(innerId)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
    expect(
      (await suite.webhooks.delivered()).some(
        ({ event, id }) => event === 'product.created' && id === String(innerId),
      ),
    ).toBe(false);
  });

  it('drops the writes of a savepoint that rolled back and sends the rest of the outer transaction', async () => {
    let innerId = 0;
    const kept = await sequelize.transaction(async (outer) => {
      await sequelize
        .transaction({ transaction: outer }, async (inner) => {
          innerId = (
            await Products.create({ title: 'Savepoint mug', list_price: '3.00' }, { transaction: inner })
          ).id;
          throw new Error('savepoint fails');
        })
        .catch(() => {});
      return Products.create({ title: 'Kept mug', list_price: '4.00' }, { transaction: outer });
    });
    expect(await rowExists(innerId)).toBe(false);
    expect((await suite.webhooks.next()).map(({ event, id }) => [event, id])).toEqual([
      ['product.created', String(kept.id)],
    ]);
  });

  it('sends nothing when COMMIT itself fails, although Sequelize still runs its afterCommit hooks', async () => {
    let sequelizeRanAfterCommit = false;
    let id = 0;
    const warn = console.warn;
    console.warn = () => {}; // Sequelize reports the failed commit on the console
    try {
      await expect(
        sequelize.transaction(async (transaction) => {
          transaction.afterCommit(() => {
            sequelizeRanAfterCommit = true;
          });
          id = (await Products.create({ title: 'rejected at commit', list_price: '5.00' }, { transaction }))
            .id;
        }),
      ).rejects.toThrow('rejected at commit');
    } finally {
      console.warn = warn;
    }
    // Why the binding waits for commit() to resolve instead of using afterCommit (Sequelize 6.37).
    expect(sequelizeRanAfterCommit).toBe(true);
    expect(await rowExists(id)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('warns once, naming the model and the fix, about bulk updates and deletes without individualHooks', async () => {
    const rows = await Products.bulkCreate([
      { title: 'Bulk A', list_price: '1.00', stock: 1 },
      { title: 'Bulk B', list_price: '1.00', stock: 1 },
    ]);
    // bulkCreate hands over its rows: each is sent without individualHooks.
    expect((await suite.webhooks.next()).map(({ event, id }) => [event, id])).toEqual(
      rows.map((row) => ['product.created', String(row.id)]),
    );
    const ids = rows.map((row) => row.id);

    await Products.update({ stock: 0 }, { where: { id: { [Op.in]: ids } } });
    await Products.update({ stock: 5 }, { where: { id: { [Op.in]: ids } } });
    expect(suite.log.warnings).toEqual([
      'Product.update() without individualHooks: true runs no per-row hooks, so no product.updated webhook is ' +
        'sent for those rows; pass { individualHooks: true } (or emit the events yourself after the commit)',
    ]);
    expect(await suite.webhooks.next()).toEqual([]);

    await Products.update({ stock: 9 }, { where: { id: { [Op.in]: ids } }, individualHooks: true });
    const updated = await suite.webhooks.next();
    expect(updated.map(({ event, id }) => [event, id]).sort()).toEqual(
      ids.map((id) => ['product.updated', String(id)]).sort(),
    );
    expect(updated.every(({ data }) => data.stock_quantity === 9)).toBe(true);
    expect(suite.log.warnings).toHaveLength(1);

    await Products.destroy({ where: { id: ids[0] as number } });
    expect(suite.log.warnings[1]).toContain('Product.destroy() without individualHooks: true');
    expect(suite.log.warnings[1]).toContain('no product.deleted webhook');
    await Products.destroy({ where: { id: ids[1] as number }, individualHooks: true });
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.deleted', id: String(ids[1]), data: { id: String(ids[1]) } },
    ]);
  });

  it('sends per-row events of an individualHooks bulk update only after the commit', async () => {
    const [one, two] = await Orders.bulkCreate([
      { status: 'pending', grand_total: '1.00' },
      { status: 'pending', grand_total: '2.00' },
    ]);
    await suite.webhooks.next();
    let before: unknown[] = ['not checked'];
    await sequelize.transaction(async (transaction) => {
      await Orders.update(
        { status: 'shipped' },
        { where: { id: [one?.id as number, two?.id as number] }, individualHooks: true, transaction },
      );
      before = await suite.webhooks.next();
    });
    expect(before).toEqual([]);
    const events = await suite.webhooks.next();
    expect(events.map(({ event, id }) => `${event} ${id}`).sort()).toEqual(
      [`order.updated ${one?.id}`, `order.updated ${two?.id}`].sort(),
    );
    expect(events.every(({ data }) => data.status === 'shipped')).toBe(true);
  });

  it('sends an upsert as updated (PostgreSQL does not say whether it inserted)', async () => {
    const [mug] = await Products.upsert({ title: 'Upserted mug', list_price: '6.00', stock: 1 });
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.updated',
        id: String(mug.id),
        data: expect.objectContaining({ id: String(mug.id), name: 'Upserted mug', stock_quantity: 1 }),
      },
    ]);
  });

  it('stops sending once the hooks are removed', async () => {
    const other = defineModels(sequelize, suite.schema.name).Orders;
    const remove = hiwelinkHooks(other, suite.webhooks.emitter, { kind: 'orders', logger: suite.log.logger });
    const first = await other.create({ status: 'pending', grand_total: '1.00' });
    remove();
    await other.create({ status: 'pending', grand_total: '2.00' });
    expect((await suite.webhooks.next()).map(({ event, id }) => [event, id])).toEqual([
      ['order.created', String(first.id)],
    ]);
  });
});
