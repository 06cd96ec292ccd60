import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Emitter } from '@hiwelink/orm';
import { hiwelinkExtension } from '@hiwelink/orm/prisma';
import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, it } from 'vitest';
import { type Delivered, ormSuite, recordingLogger } from './support/orm-events.js';
import { connectPostgres, rejectAtCommit } from './support/postgres.js';
import { generatePrismaClient, prismaTables } from './support/prisma.js';
import { repo } from './support/readme.js';

const pg = await connectPostgres();

type Row = { id: number } & Record<string, unknown>;

/** What these tests call of a model; the generated client is loaded at run time, so typed here. */
interface Delegate {
  create(args: object): Promise<Row>;
  createMany(args: object): Promise<{ count: number }>;
  createManyAndReturn(args: object): Promise<Row[]>;
  update(args: object): Promise<Row>;
  updateMany(args: object): Promise<{ count: number }>;
  updateManyAndReturn(args: object): Promise<Row[]>;
  upsert(args: object): Promise<Row>;
  delete(args: object): Promise<Row>;
  deleteMany(args: object): Promise<{ count: number }>;
  findMany(args?: object): Promise<Row[]>;
}

interface Client {
  product: Delegate;
  order: Delegate;
  note: Delegate;
  $transaction<T>(work: (tx: Client) => Promise<T>): Promise<T>;
  $transaction(batch: Promise<unknown>[]): Promise<unknown[]>;
  $extends(extension: unknown): Client;
  $executeRawUnsafe(sql: string): Promise<number>;
  $disconnect(): Promise<void>;
}

describe.skipIf(!pg)('Prisma client extension', () => {
  const db = pg as NonNullable<typeof pg>;
  // Generated for this run, inside the repository (gitignored) so that it finds @prisma/client.
  const generated = join(repo, '.scaffold-test', `prisma-${randomUUID()}`);
  /** The client without the extension, and a maker of clients with it. */
  let base: Client;
  let prisma: Client;

  const suite = ormSuite(db, 'orm_prisma', async ({ schema, webhooks, log }) => {
    const entry = await generatePrismaClient(generated);
    const { PrismaClient } = (await import(entry)) as { PrismaClient: new (options: object) => Client };
    await db.client.query(prismaTables(schema.name));
    await rejectAtCommit(db.client, schema.name, 'products', 'title', 'rejected at commit');
    base = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }, { schema: schema.name }) });
    prisma = base.$extends(
      hiwelinkExtension({
        emitter: webhooks.emitter,
        models: { products: 'Product', orders: 'Order' },
        logger: log.logger,
      }),
    );
    return async () => {
      await base.$disconnect();
      rmSync(generated, { recursive: true, force: true });
    };
  });

  const rowExists = async (id: number) =>
    (await db.client.query(`SELECT 1 FROM "${suite.schema.name}".products WHERE id = $1`, [id])).rowCount ===
    1;
  const eventsOf = (events: Delivered[]) => events.map(({ event, id }) => [event, id]);

  it('sends create, update, upsert and delete once each, with the record as committed, and returns what the query did', async () => {
    const mug = await prisma.product.create({
      data: { title: 'Mug', handle: 'mug', list_price: '12.50', stock: 3 },
    });
    expect(mug).toMatchObject({ title: 'Mug', handle: 'mug', stock: 3 });
    expect(String(mug.list_price)).toBe('12.5'); // a Prisma Decimal, as the query returned it
    const updated = await prisma.product.update({
      where: { id: mug.id },
      data: { title: 'Blue mug', stock: 2 },
    });
    expect(updated).toMatchObject({ id: mug.id, title: 'Blue mug', stock: 2 });
    await prisma.product.upsert({
      where: { id: mug.id },
      create: { title: 'never', list_price: '1.00' },
      update: { stock: { increment: 5 } },
    });
    const deleted = await prisma.product.delete({ where: { id: mug.id } });
    expect(deleted).toMatchObject({ id: mug.id, title: 'Blue mug', stock: 7 });
    const order = await prisma.order.create({ data: { status: 'processing', grand_total: '25.00' } });

    const id = String(mug.id);
    const product = (name: string, stock: number) => ({
      id,
      name,
      slug: 'mug',
      price: 12.5,
      regular_price: 12.5,
      stock_quantity: stock,
      stock_status: 'in_stock',
    });
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.created', id, data: product('Mug', 3) },
      { event: 'product.updated', id, data: product('Blue mug', 2) },
      // The upsert: the stock the database computed, not what was passed.
      { event: 'product.updated', id, data: product('Blue mug', 7) },
      // Prisma's delete returns the row and it is handed over; the contract's deletion carries the id.
      { event: 'product.deleted', id, data: { id } },
      {
        event: 'order.created',
        id: String(order.id),
        data: { id: String(order.id), status: 'processing', total: 25 },
      },
    ]);
    expect(await rowExists(mug.id)).toBe(false);
  });

  it('holds an interactive transaction’s writes until it has committed, then sends them in order', async () => {
    let before: unknown[] = ['not checked'];
    const mug = await prisma.$transaction(async (tx) => {
      const created = await tx.product.create({ data: { title: 'Tx mug', list_price: '9.00' } });
      await tx.product.update({ where: { id: created.id }, data: { stock: 7 } });
      await tx.order.create({ data: { status: 'pending', grand_total: '9.00' } });
      before = await suite.webhooks.next(); // the emitter has drained: nothing was handed to it yet
      return created;
    });
    expect(before).toEqual([]);
    const events = await suite.webhooks.next();
    expect(events.map(({ event }) => event)).toEqual(['product.created', 'product.updated', 'order.created']);
    expect(events[0]).toMatchObject({ id: String(mug.id), data: { name: 'Tx mug', stock_quantity: 0 } });
    expect(events[1]).toMatchObject({ id: String(mug.id), data: { name: 'Tx mug', stock_quantity: 7 } });
  });

  it('sends nothing for an interactive transaction whose callback throws', async () => {
    let id = 0;
    await expect(
      prisma.$transaction(async (tx) => {
        id = (await tx.product.create({ data: { title: 'Rolled back mug', list_price: '1.00' } })).id;
        await tx.order.create({ data: { status: 'pending', grand_total: '1.00' } });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await rowExists(id)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('sends nothing when COMMIT itself fails (a deferred constraint)', async () => {
    let id = 0;
    let before: unknown[] = ['not checked'];
    await expect(
      prisma.$transaction(async (tx) => {
        id = (await tx.product.create({ data: { title: 'rejected at commit', list_price: '5.00' } })).id;
        before = await suite.webhooks.next();
      }),
    ).rejects.toThrow('rejected at commit');
    expect(before).toEqual([]);
    expect(await rowExists(id)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('sends a batch $transaction’s writes once it has committed, and nothing for one that fails', async () => {
    const [mug, order] = (await prisma.$transaction([
      prisma.product.create({ data: { title: 'Batch mug', list_price: '2.00' } }),
      prisma.order.create({ data: { status: 'paid', grand_total: '2.00' } }),
    ])) as [Row, Row];
    expect(eventsOf(await suite.webhooks.next())).toEqual([
      ['product.created', String(mug.id)],
      ['order.created', String(order.id)],
    ]);

    // A statement fails: the batch rolls back.
    await expect(
      prisma.$transaction([
        prisma.product.create({ data: { title: 'Batch mug 2', list_price: '2.00' } }),
        prisma.product.create({ data: { title: 'Batch mug', list_price: '2.00' } }), // title is unique
      ]),
    ).rejects.toThrow();
    // COMMIT fails: every statement succeeded, the deferred constraint refuses the commit.
    await expect(
      prisma.$transaction([
        prisma.order.create({ data: { status: 'pending', grand_total: '3.00' } }),
        prisma.product.create({ data: { title: 'rejected at commit', list_price: '2.00' } }),
      ]),
    ).rejects.toThrow('rejected at commit');
    expect(await prisma.product.findMany({ where: { title: 'Batch mug 2' } })).toEqual([]);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('holds writes made by helper code given `tx`, and those of a nested transaction, for the outer commit', async () => {
    /** Code of yours that takes whatever client it is given. */
    const restock = (client: Client, id: number) =>
      client.product.update({ where: { id }, data: { stock: { increment: 10 } } });
    let afterNested: unknown[] = ['not checked'];
    let droppedId = 0;
    const { outer, inner } = await prisma.$transaction(async (tx) => {
      const outer = await tx.product.create({ data: { title: 'Outer mug', list_price: '2.00' } });
      await restock(tx, outer.id);
      const inner = await tx.$transaction(async (nested) =>
        nested.product.create({ data: { title: 'Inner mug', list_price: '3.00' } }),
      );
      // A nested transaction that rolls back (a savepoint): its writes are dropped, the rest stays.
      await tx
        .$transaction(async (nested) => {
          droppedId = (await nested.product.create({ data: { title: 'Dropped mug', list_price: '3.00' } }))
            .id;
          throw new Error('savepoint fails');
        })
        .catch(() => {});
      afterNested = await suite.webhooks.next(); // the nested ones are done, the outer one still open
      return { outer, inner };
    });
    expect(afterNested).toEqual([]);
    expect(await rowExists(droppedId)).toBe(false);
    const events = await suite.webhooks.next();
    expect(eventsOf(events)).toEqual([
      ['product.created', String(outer.id)],
      ['product.updated', String(outer.id)],
      ['product.created', String(inner.id)],
    ]);
    expect(events[1]?.data).toMatchObject({ stock_quantity: 10 });
  });

  it('sends nothing from a nested transaction whose outer transaction rolls back', async () => {
    let innerId = 0;
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.$transaction(async (nested) => {
          innerId = (await nested.product.create({ data: { title: 'Doomed inner mug', list_price: '3.00' } }))
            .id;
        });
        throw new Error('outer fails after the inner committed');
      }),
    ).rejects.toThrow('outer fails');
    expect(await rowExists(innerId)).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('sends at once a write made outside the transaction whose callback it runs in', async () => {
    let outside = 0;
    await expect(
      prisma.$transaction(async () => {
        // The extended client, not `tx`: its own connection, committed whatever the callback does.
        outside = (await prisma.order.create({ data: { status: 'outside', grand_total: '1.00' } })).id;
        throw new Error('the transaction rolls back');
      }),
    ).rejects.toThrow('rolls back');
    expect(eventsOf(await suite.webhooks.next())).toEqual([['order.created', String(outside)]]);
  });

  it('keeps concurrent transactions apart: the one that commits sends, the one that rolls back does not', async () => {
    let release = () => {};
    const bothOpen = new Promise<void>((resolve) => {
      release = resolve;
    });
    let doomed = 0;
    const [kept] = await Promise.all([
      prisma.$transaction(async (tx) => {
        const row = await tx.product.create({ data: { title: 'Concurrent kept', list_price: '1.00' } });
        await bothOpen;
        return row;
      }),
      prisma
        .$transaction(async (tx) => {
          doomed = (await tx.product.create({ data: { title: 'Concurrent doomed', list_price: '1.00' } })).id;
          release();
          throw new Error('rolls back while the other is open');
        })
        .catch(() => {}),
    ]);
    expect(await rowExists(doomed)).toBe(false);
    expect(eventsOf(await suite.webhooks.next())).toEqual([['product.created', String(kept.id)]]);
  });

  it('warns, and sends nothing, for its writes batched by a $transaction it did not wrap', async () => {
    // `base` is the client the extension was added to: its $transaction is not followed.
    const [row] = (await base.$transaction([
      prisma.product.create({ data: { title: 'Unseen batch mug', list_price: '1.00' } }),
    ])) as [Row];
    expect(await rowExists(row.id)).toBe(true);
    expect(await suite.webhooks.next()).toEqual([]);
    expect(suite.log.warnings).toEqual([
      'Product.create() ran in a transaction this extension did not see start, so no product.created ' +
        'webhook is sent for it; call $transaction on the extended client',
    ]);
  });

  it('sends each row of createManyAndReturn and updateManyAndReturn, and warns once per call about count-only writes', async () => {
    const rows = await prisma.product.createManyAndReturn({
      data: [
        { title: 'Bulk A', list_price: '1.00', stock: 1 },
        { title: 'Bulk B', list_price: '1.00', stock: 1 },
      ],
    });
    const ids = rows.map((row) => row.id);
    expect(eventsOf(await suite.webhooks.next())).toEqual(ids.map((id) => ['product.created', String(id)]));
    const changed = await prisma.product.updateManyAndReturn({
      where: { id: { in: ids } },
      data: { stock: 4 },
    });
    const updated = await suite.webhooks.next();
    expect(eventsOf(updated).sort()).toEqual(
      changed.map((row) => ['product.updated', String(row.id)]).sort(),
    );
    expect(updated.every(({ data }) => data.stock_quantity === 4)).toBe(true);

    expect(await prisma.product.createMany({ data: [{ title: 'Bulk C', list_price: '1.00' }] })).toEqual({
      count: 1,
    });
    await prisma.product.createMany({ data: [{ title: 'Bulk D', list_price: '1.00' }] });
    expect(await prisma.product.updateMany({ where: { id: { in: ids } }, data: { stock: 0 } })).toEqual({
      count: 2,
    });
    await prisma.product.updateMany({ where: { id: { in: ids } }, data: { stock: 1 } });
    expect(await prisma.product.deleteMany({ where: { id: { in: ids } } })).toEqual({ count: 2 });
    await prisma.order.deleteMany({ where: { status: 'none such' } });
    expect(suite.log.warnings).toEqual([
      'Product.createMany() resolves to a count, not the rows, so no product.created webhook is sent for ' +
        'them; use createManyAndReturn(), or emit the events yourself after the commit',
      'Product.updateMany() resolves to a count, not the rows, so no product.updated webhook is sent for ' +
        'them; use updateManyAndReturn(), or emit the events yourself after the commit',
      'Product.deleteMany() resolves to a count, not the rows, so no product.deleted webhook is sent for ' +
        'them; delete the rows one at a time with delete(), or emit the events yourself after the commit',
      'Order.deleteMany() resolves to a count, not the rows, so no order.deleted webhook is sent for ' +
        'them; delete the rows one at a time with delete(), or emit the events yourself after the commit',
    ]);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('warns once per call and path about nested writes that change its models, which it does not see', async () => {
    const mug = await prisma.product.create({ data: { title: 'Line mug', list_price: '4.00', stock: 5 } });
    // Linking an existing product changes no product row: no warning.
    const order = await prisma.order.create({
      data: {
        status: 'paid',
        grand_total: '4.00',
        lines: { create: [{ quantity: 1, product: { connect: { id: mug.id } } }] },
      },
      include: { lines: true },
    });
    const line = (order.lines as Row[])[0] as Row;
    const nestedCreate = () =>
      prisma.order.create({
        data: {
          status: 'paid',
          grand_total: '3.00',
          lines: {
            create: [
              {
                quantity: 1,
                product: { create: { title: `Nested mug ${randomUUID()}`, list_price: '3.00' } },
              },
            ],
          },
        },
      });
    const second = await nestedCreate();
    const third = await nestedCreate();
    // The stock kept in step with the order: product.updated would be due, and is not sent.
    await prisma.order.update({
      where: { id: order.id },
      data: {
        lines: {
          update: { where: { id: line.id }, data: { product: { update: { stock: { decrement: 1 } } } } },
        },
      },
    });
    expect(eventsOf(await suite.webhooks.next())).toEqual([
      ['product.created', String(mug.id)],
      ['order.created', String(order.id)],
      ['order.created', String(second.id)],
      ['order.created', String(third.id)],
      ['order.updated', String(order.id)],
    ]);
    expect(suite.log.warnings).toEqual([
      'Order.create() writes Product rows through a nested write (lines.create.product.create), which this ' +
        'extension does not see, so no product.created webhook is sent for them; write Product with its own ' +
        'calls (in a $transaction with the rest), or emit the events yourself after the commit',
      'Order.update() writes Product rows through a nested write (lines.update.product.update), which this ' +
        'extension does not see, so no product.updated webhook is sent for them; write Product with its own ' +
        'calls (in a $transaction with the rest), or emit the events yourself after the commit',
    ]);
  });

  it('sends nothing for models it was not given, reads, failed writes and raw queries', async () => {
    const note = await prisma.note.create({ data: { body: 'hello' } });
    await prisma.note.update({ where: { id: note.id }, data: { body: 'bye' } });
    await prisma.note.delete({ where: { id: note.id } });
    await prisma.product.findMany();
    await expect(prisma.product.update({ where: { id: -1 }, data: { stock: 1 } })).rejects.toThrow();
    await prisma.$executeRawUnsafe(
      `INSERT INTO "${suite.schema.name}".products (title, list_price) VALUES ('Raw mug', 1)`,
    );
    expect(await suite.webhooks.next()).toEqual([]);
    expect(suite.log.warnings).toEqual([]);
  });

  it('returns the write’s result when the emitter throws, and logs the failure', async () => {
    const log = recordingLogger();
    const down = (): never => {
      throw new Error('emitter down');
    };
    const broken: Emitter = {
      productCreated: down,
      productUpdated: down,
      productDeleted: down,
      orderCreated: down,
      orderUpdated: down,
      orderDeleted: down,
      requestSync: down,
    };
    const client = base.$extends(
      hiwelinkExtension({ emitter: broken, models: { products: 'Product' }, logger: log.logger }),
    );
    const mug = await client.product.create({ data: { title: 'Unsent mug', list_price: '1.00' } });
    expect(mug).toMatchObject({ title: 'Unsent mug' });
    const inTx = await client.$transaction(async (tx) =>
      tx.product.update({ where: { id: mug.id }, data: { stock: 2 } }),
    );
    expect(inTx).toMatchObject({ id: mug.id, stock: 2 });
    expect(await rowExists(mug.id)).toBe(true);
    expect(log.errors).toEqual([
      'webhook product.created not queued: emitter down',
      'webhook product.updated not queued: emitter down',
    ]);
  });

  it('refuses, when extending, model names the client does not have and options naming none', () => {
    const extend = (models: { products?: string; orders?: string }) => () =>
      base.$extends(hiwelinkExtension({ emitter: suite.webhooks.emitter, models }));
    expect(extend({ products: 'product' })).toThrow(
      `hiwelinkExtension: models.products is 'product', which is not a model of this Prisma client; ` +
        'name it as schema.prisma does (e.g. "Product" for model Product)',
    );
    expect(extend({ orders: 'Orders' })).toThrow("models.orders is 'Orders'");
    expect(extend({})).toThrow('hiwelinkExtension: options.models names no model');
    expect(extend({ products: 'Product', orders: 'Product' })).toThrow('are both');
  });
});
