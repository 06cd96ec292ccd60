import { attachHiwelink } from '@hiwelink/orm/typeorm';
import { DataSource, EntitySchema } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { type Delivered, ormSuite } from '../support/orm-events.js';
import { connectPostgres } from '../support/postgres.js';

// Kind: a TypeORM write whose subscriber event does not hold the whole row (a partial save(), an
// upsert, a recover() of a bare id, updates by criteria, increment()/decrement(), softDelete()
// and restore() by criteria) sends the row as committed, never a field emptied that the database
// still has, or warns once naming the call and the fix.

const pg = await connectPostgres();

interface ProductRow {
  id: number;
  title: string;
  handle: string | null;
  list_price: string;
  stock: number;
  deleted_at?: Date | null;
}

const Products = new EntitySchema<ProductRow>({
  name: 'FoProduct',
  tableName: 'fo_products',
  columns: {
    id: { type: Number, primary: true, generated: true },
    title: { type: String, unique: true },
    handle: { type: String, nullable: true },
    list_price: { type: 'numeric', precision: 10, scale: 2 },
    stock: { type: Number, default: 0 },
    deleted_at: { type: 'timestamptz', deleteDate: true, nullable: true },
  },
});

/** What a full row of `title`/`handle` sends: a partial one lacks the name, slug or price. */
const full = (title: string, handle: string, price: number, stock: number) => ({
  name: title,
  slug: handle,
  price,
  stock_quantity: stock,
});

describe.skipIf(!pg)('TypeORM writes whose event lacks the row', () => {
  const db = pg as NonNullable<typeof pg>;
  let dataSource: DataSource;
  const suite = ormSuite(db, 'fo_typeorm', async () => {
    dataSource = new DataSource({
      type: 'postgres',
      url: db.url,
      schema: suite.schema.name,
      entities: [Products],
      synchronize: true,
      logging: false,
    });
    await dataSource.initialize();
    attachHiwelink(dataSource, {
      emitter: suite.webhooks.emitter,
      entities: { products: Products },
      logger: suite.log.logger,
    });
    return () => dataSource.destroy();
  });

  const products = () => dataSource.getRepository(Products);
  const product = async (title: string, stock = 5) => {
    const saved = await products().save({ title, handle: title.toLowerCase(), list_price: '12.50', stock });
    await suite.webhooks.next();
    return saved;
  };
  const only = (events: Delivered[]) => {
    expect(events).toHaveLength(1);
    return events[0] as Delivered;
  };

  it('sends a partial save() with the row as committed, its other fields kept', async () => {
    const mug = await product('Mug');
    await products().save({ id: mug.id, list_price: '9.00' });
    const event = only(await suite.webhooks.next());
    expect(event).toMatchObject({ event: 'product.updated', id: String(mug.id) });
    expect(event.data).toMatchObject(full('Mug', 'mug', 9, 5));
    // The list endpoint reads the same row: the event says what it says.
    expect(await products().findOneByOrFail({ id: mug.id })).toMatchObject({ handle: 'mug', title: 'Mug' });
  });

  it('sends a partial save() in a transaction only after the commit, as committed', async () => {
    const cup = await product('Cup');
    let before: Delivered[] = [];
    await dataSource.transaction(async (manager) => {
      await manager.getRepository(Products).save({ id: cup.id, stock: 1 });
      await manager.getRepository(Products).save({ id: cup.id, title: 'Blue cup' });
      before = await suite.webhooks.next();
    });
    expect(before).toEqual([]);
    const events = await suite.webhooks.next();
    expect(events.map(({ event }) => event)).toEqual(['product.updated', 'product.updated']);
    for (const { data } of events) expect(data).toMatchObject(full('Blue cup', 'cup', 12.5, 1));
  });

  it('sends an upsert with the whole row, not only the columns given', async () => {
    const jug = await product('Jug');
    await products().upsert({ title: 'Jug', list_price: '12.50', stock: 9 }, ['title']);
    const event = only(await suite.webhooks.next());
    expect(event.id).toBe(String(jug.id));
    expect(event.data).toMatchObject(full('Jug', 'jug', 12.5, 9));
  });

  it('sends a recover() of a bare id with the whole row', async () => {
    const pan = await product('Pan');
    await products().softRemove({ id: pan.id });
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.deleted', id: String(pan.id), data: { id: String(pan.id) } },
    ]);
    await products().recover({ id: pan.id });
    const event = only(await suite.webhooks.next());
    expect(event).toMatchObject({ event: 'product.created', id: String(pan.id) });
    expect(event.data).toMatchObject(full('Pan', 'pan', 12.5, 5));
  });

  it('sends an update by criteria that names the row by its key with the whole row', async () => {
    const lamp = await product('Lamp');
    await dataSource
      .createQueryBuilder()
      .update(Products)
      .set({ id: lamp.id, stock: 2 })
      .where('id = :id', { id: lamp.id })
      .execute();
    const event = only(await suite.webhooks.next());
    expect(event.data).toMatchObject(full('Lamp', 'lamp', 12.5, 2));
  });

  it('warns once per call, naming it and the fix, for increments and writes by criteria', async () => {
    const vase = await product('Vase');
    await products().increment({ id: vase.id }, 'stock', 2);
    await products().decrement({ id: vase.id }, 'stock', 1);
    await products().update({ id: vase.id }, { stock: 7 });
    expect(suite.log.warnings).toHaveLength(1);
    expect(suite.log.warnings[0]).toContain('FoProduct');
    expect(suite.log.warnings[0]).toMatch(/increment\(\)/);
    expect(suite.log.warnings[0]).toContain('no product.updated webhook');
    await products().softDelete({ id: vase.id });
    await products().restore({ id: vase.id });
    expect(suite.log.warnings).toHaveLength(3);
    expect(suite.log.warnings[1]).toContain('softDelete()');
    expect(suite.log.warnings[2]).toContain('restore()');
    // Nothing sent carries a field the database does not have.
    expect(await suite.webhooks.next()).toEqual([]);
  });
});
