import { AsyncLocalStorage } from 'node:async_hooks';
import { hiwelinkHooks } from '@hiwelink/orm/sequelize';
import {
  type CreationOptional,
  DataTypes,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  Sequelize,
} from 'sequelize';
import { describe, expect, it } from 'vitest';
import { type Delivered, ormSuite } from '../support/orm-events.js';
import { connectPostgres } from '../support/postgres.js';

// Kind: a Sequelize write that changes rows the binding does not see in full (increment and
// decrement, an upsert or bulkCreate that returns part of the row, an instance loaded with some
// attributes) sends each row as committed, or warns once naming the call and the fix. So does
// every create and update of a full instance: the instance is what this process last knew (stale
// after another writer's change, holding values save({ fields }) did not write, or a change whose
// transaction rolled back), so it was sent as it is until every row was read back after commit.

const pg = await connectPostgres();

interface Product extends Model<InferAttributes<Product>, InferCreationAttributes<Product>> {
  id: CreationOptional<number>;
  title: string;
  handle: string | null;
  listPrice: string;
  stock: CreationOptional<number>;
}

/** The fields a full product row sends: a partial one would lack name, slug or price. */
const full = (title: string, handle: string, stock: number) => ({
  name: title,
  slug: handle,
  price: 12.5,
  stock_quantity: stock,
});

const summary = (events: Delivered[]) => events.map(({ event, id }) => `${event} ${id}`);

describe.skipIf(!pg)('Sequelize writes the hooks do not see in full', () => {
  const db = pg as NonNullable<typeof pg>;
  let sequelize: Sequelize;
  let Products: ReturnType<typeof defineProducts>;

  function defineProducts(connection: Sequelize, schemaName: string) {
    return connection.define<Product>(
      'Product',
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        title: { type: DataTypes.STRING, allowNull: false, unique: true },
        handle: { type: DataTypes.STRING, allowNull: true },
        // An attribute under another column name: rows read back raw must still map.
        listPrice: { type: DataTypes.DECIMAL(10, 2), allowNull: false, field: 'list_price' },
        stock: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      },
      { schema: schemaName, tableName: 'fo_products', timestamps: false },
    );
  }

  const suite = ormSuite(db, 'fo_sequelize', async () => {
    sequelize = new Sequelize(db.url, { dialect: 'postgres', logging: false });
    Products = defineProducts(sequelize, suite.schema.name);
    await sequelize.sync();
    hiwelinkHooks(Products, suite.webhooks.emitter, { kind: 'products', logger: suite.log.logger });
    return () => sequelize.close();
  });

  const product = async (title: string, stock = 5) => {
    const created = await Products.create({ title, handle: title.toLowerCase(), listPrice: '12.50', stock });
    await suite.webhooks.next();
    return created;
  };

  it('sends instance increment() and decrement() as updated, with the whole row', async () => {
    const mug = await product('Mug');
    await mug.increment('stock', { by: 3 });
    await mug.decrement('stock');
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.updated', id: String(mug.id), data: expect.objectContaining(full('Mug', 'mug', 8)) },
      { event: 'product.updated', id: String(mug.id), data: expect.objectContaining(full('Mug', 'mug', 7)) },
    ]);
    expect(suite.log.warnings).toEqual([]);
  });

  it('sends each row a static Model.increment()/decrement() changed, after the commit', async () => {
    const [cup, jug, pan] = [await product('Cup', 1), await product('Jug', 2), await product('Pan', 3)];
    await Products.increment({ stock: 10 }, { where: { id: [cup.id, jug.id] } });
    expect(
      (await suite.webhooks.next()).map(({ id, data }) => [id, data.stock_quantity, data.slug]).sort(),
    ).toEqual(
      [
        [String(cup.id), 11, 'cup'],
        [String(jug.id), 12, 'jug'],
      ].sort(),
    );

    let before: Delivered[] = [];
    await sequelize.transaction(async (transaction) => {
      await Products.decrement('stock', { by: 2, where: { id: pan.id }, transaction });
      before = await suite.webhooks.next();
    });
    expect(before).toEqual([]);
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.updated', id: String(pan.id), data: expect.objectContaining(full('Pan', 'pan', 1)) },
    ]);

    const transaction = await sequelize.transaction();
    await pan.increment('stock', { transaction });
    await transaction.rollback();
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('warns once, naming the call and the fix, when an increment does not say which rows it changed', async () => {
    const bowl = await product('Bowl');
    // Sequelize's typings leave `returning` out of increment's options; its code honours it.
    const withoutRows = { where: { id: bowl.id }, returning: false } as { where: { id: number } };
    await Products.increment('stock', withoutRows);
    await Products.increment('stock', withoutRows);
    expect(await suite.webhooks.next()).toEqual([]);
    expect(suite.log.warnings).toHaveLength(1);
    expect(suite.log.warnings[0]).toContain('Product.increment()');
    expect(suite.log.warnings[0]).toContain('no product.updated webhook');
    expect(suite.log.warnings[0]).toContain('returning');
  });

  it('sends an upsert that returned part of the row with the whole committed row', async () => {
    const lamp = await product('Lamp');
    await Products.upsert({ id: lamp.id, title: 'Lamp', listPrice: '12.50', stock: 9 }, { returning: false });
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.updated',
        id: String(lamp.id),
        data: expect.objectContaining(full('Lamp', 'lamp', 9)),
      },
    ]);
  });

  it('sends bulkCreate with updateOnDuplicate as updated rows, as the database has them', async () => {
    const vase = await product('Vase');
    // The handle given is not among the columns updated on conflict: the database keeps 'vase'.
    const rows = await Products.bulkCreate(
      [
        { title: 'Vase', handle: 'ignored', listPrice: '12.50', stock: 4 },
        { title: 'Tray', handle: 'tray', listPrice: '12.50', stock: 6 },
      ],
      { updateOnDuplicate: ['stock'] },
    );
    const events = await suite.webhooks.next();
    expect(summary(events)).toEqual([`product.updated ${vase.id}`, `product.updated ${rows[1]?.id}`]);
    expect(events[0]?.data).toMatchObject(full('Vase', 'vase', 4));
    expect(events[1]?.data).toMatchObject(full('Tray', 'tray', 6));
    expect(suite.log.warnings).toEqual([]);
  });

  it('sends an update of an instance loaded with some attributes with the whole row', async () => {
    const sofa = await product('Sofa');
    const partial = await Products.findByPk(sofa.id, { attributes: ['id', 'stock'] });
    await partial?.update({ stock: 2 });
    const reloaded = await Products.findByPk(sofa.id);
    await reloaded?.reload({ attributes: ['id', 'stock'] });
    await reloaded?.update({ stock: 1 });
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.updated',
        id: String(sofa.id),
        data: expect.objectContaining(full('Sofa', 'sofa', 2)),
      },
      {
        event: 'product.updated',
        id: String(sofa.id),
        data: expect.objectContaining(full('Sofa', 'sofa', 1)),
      },
    ]);
  });

  it('sends an increment in a CLS transaction (useCLS) only once it has committed', async () => {
    const rug = await product('Rug');
    // A CLS namespace over AsyncLocalStorage: what Sequelize asks of cls-hooked.
    const storage = new AsyncLocalStorage<Map<string, unknown>>();
    const namespace = {
      run: (fn: (context: Map<string, unknown>) => unknown) => {
        const context = new Map<string, unknown>();
        return storage.run(context, () => fn(context));
      },
      bind: <F>(fn: F) => fn,
      get: (key: string) => storage.getStore()?.get(key),
      set: (key: string, value: unknown) => storage.getStore()?.set(key, value),
    };
    Sequelize.useCLS(namespace);
    let before: Delivered[] = ['not checked' as never];
    try {
      await sequelize.transaction(async () => {
        await rug.increment('stock', { by: 4 }); // no transaction option: CLS supplies it
        before = await suite.webhooks.next();
      });
    } finally {
      (Sequelize as unknown as { _cls?: unknown })._cls = undefined;
    }
    expect(before).toEqual([]);
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.updated', id: String(rug.id), data: expect.objectContaining(full('Rug', 'rug', 9)) },
    ]);
  });

  it('sends nothing for an increment with hooks: false, as for any write with it', async () => {
    const desk = await product('Desk');
    await desk.increment('stock', { hooks: false } as never);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it("sends a stale instance's update with the other writer's change, as committed", async () => {
    const mug = await product('Mugs', 5);
    const stale = await Products.findByPk(mug.id);
    await Products.increment('stock', { by: 3, where: { id: mug.id } });
    await stale?.update({ listPrice: '9.99' });
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.updated',
        id: String(mug.id),
        data: expect.objectContaining(full('Mugs', 'mugs', 8)),
      },
      {
        event: 'product.updated',
        id: String(mug.id),
        data: expect.objectContaining({ ...full('Mugs', 'mugs', 8), price: 9.99 }),
      },
    ]);
  });

  it('sends save({ fields }) without the attributes it did not write', async () => {
    const cup = await product('Cups', 2);
    cup.title = 'Not saved';
    cup.listPrice = '3.50';
    await cup.save({ fields: ['listPrice'] });
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.updated',
        id: String(cup.id),
        data: expect.objectContaining({ ...full('Cups', 'cups', 2), price: 3.5 }),
      },
    ]);
  });

  it('sends a later update without the change a rolled-back transaction left on the instance', async () => {
    const jar = await product('Jars', 4);
    const transaction = await sequelize.transaction();
    await jar.update({ title: 'Rolled back' }, { transaction });
    await transaction.rollback();
    await jar.update({ stock: 1 });
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.updated',
        id: String(jar.id),
        data: expect.objectContaining(full('Jars', 'jars', 1)),
      },
    ]);
  });

  it('sends a create with the columns the database filled in (defaults), as committed', async () => {
    const created = await Products.create(
      { title: 'Pots', handle: 'pots', listPrice: '12.50' },
      {
        fields: ['title', 'listPrice'],
      },
    );
    expect(await suite.webhooks.next()).toEqual([
      {
        event: 'product.created',
        id: String(created.id),
        data: expect.not.objectContaining({ slug: 'pots' }),
      },
    ]);
  });
});
