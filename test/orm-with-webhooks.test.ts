import { withWebhooks } from '@hiwelink/orm/with-webhooks';
import { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { type Delivered, ormSuite } from './support/orm-events.js';
import { connectPostgres, rejectAtCommit } from './support/postgres.js';

const pg = await connectPostgres();

interface ProductRow {
  id: number;
  title: string;
  list_price: string;
}

interface OrderRow {
  id: number;
  status: string;
  grand_total: string;
}

const summary = (events: Delivered[]) => events.map(({ event, id }) => `${event} ${id}`);

describe.skipIf(!pg)('withWebhooks around hand-written SQL', () => {
  const db = pg as NonNullable<typeof pg>;
  let pool: Pool;
  let products: string;
  let orders: string;

  const suite = ormSuite(db, 'orm_with_webhooks', async () => {
    products = `"${suite.schema.name}".products`;
    orders = `"${suite.schema.name}".orders`;
    await db.client.query(
      `CREATE TABLE ${products} (id serial PRIMARY KEY, title text NOT NULL UNIQUE, list_price numeric(10, 2) NOT NULL)`,
    );
    await db.client.query(
      `CREATE TABLE ${orders} (id serial PRIMARY KEY, status text NOT NULL, grand_total numeric(10, 2) NOT NULL)`,
    );
    await rejectAtCommit(db.client, suite.schema.name, 'products', 'title', 'rejected at commit');
    pool = new Pool({ connectionString: db.url, max: 2 });
    return () => pool.end();
  });

  /** A repository as one would write it over `pg`: each function commits its own write. */
  function productRepository() {
    return {
      async create(input: { title: string; list_price: string }): Promise<ProductRow | undefined> {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query<ProductRow>(
            `INSERT INTO ${products} (title, list_price) VALUES ($1, $2) RETURNING *`,
            [input.title, input.list_price],
          );
          await client.query('COMMIT');
          return rows[0];
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
      },
      async update(id: number, patch: { title: string }): Promise<ProductRow | null> {
        const { rows } = await pool.query<ProductRow>(
          `UPDATE ${products} SET title = $2 WHERE id = $1 RETURNING *`,
          [id, patch.title],
        );
        return rows[0] ?? null;
      },
      async delete(id: number): Promise<Pick<ProductRow, 'id'> | null> {
        const { rows } = await pool.query<ProductRow>(`DELETE FROM ${products} WHERE id = $1 RETURNING id`, [
          id,
        ]);
        return rows[0] ?? null;
      },
      async count(): Promise<number> {
        return Number((await pool.query(`SELECT count(*) AS n FROM ${products}`)).rows[0].n);
      },
    };
  }

  const rowExists = async (title: string) =>
    ((await pool.query(`SELECT 1 FROM ${products} WHERE title = $1`, [title])).rowCount ?? 0) > 0;

  it('sends created, updated and deleted once each function has resolved, a deletion with its id only', async () => {
    const plain = productRepository();
    const repository = withWebhooks(plain, suite.webhooks.emitter, {
      kind: 'products',
      logger: suite.log.logger,
    });
    const before = await repository.count();

    const handedOver = () => suite.webhooks.emitter.stats().queued + suite.webhooks.emitter.stats().delivered;
    const handed = handedOver();
    const mug = (await repository.create({ title: 'Mug', list_price: '12.50' })) as ProductRow;
    // Handed over before create() resolved, not on some later flush.
    expect(handedOver()).toBe(handed + 1);
    expect(await repository.update(mug.id, { title: 'Blue mug' })).toMatchObject({ title: 'Blue mug' });
    expect(await repository.delete(mug.id)).toEqual({ id: mug.id });

    const id = String(mug.id);
    expect(await suite.webhooks.next()).toEqual([
      { event: 'product.created', id, data: { id, name: 'Mug', price: 12.5, regular_price: 12.5 } },
      { event: 'product.updated', id, data: { id, name: 'Blue mug', price: 12.5, regular_price: 12.5 } },
      { event: 'product.deleted', id, data: { id } },
    ]);
    // The rest of the repository is there as it was; the original is left unwrapped.
    expect(await repository.count()).toBe(before);
    expect(repository.create).not.toBe(plain.create);
    expect(Object.keys(repository).sort()).toEqual(['create', 'delete', 'update']);
  });

  it('sends nothing when the function throws, and passes its error on unchanged', async () => {
    const repository = withWebhooks(productRepository(), suite.webhooks.emitter, {
      kind: 'products',
      logger: suite.log.logger,
    });
    await repository.create({ title: 'Taken', list_price: '1.00' });
    await suite.webhooks.next();

    const duplicate = await repository
      .create({ title: 'Taken', list_price: '2.00' })
      .catch((error: unknown) => error);
    expect(duplicate).toMatchObject({ code: '23505' }); // pg's unique_violation, as thrown
    // Its own COMMIT fails: the row is not there and nothing is sent.
    await expect(repository.create({ title: 'rejected at commit', list_price: '3.00' })).rejects.toThrow(
      'rejected at commit',
    );
    expect(await rowExists('rejected at commit')).toBe(false);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('sends nothing for a write that found no row', async () => {
    const repository = withWebhooks(productRepository(), suite.webhooks.emitter, {
      kind: 'products',
      logger: suite.log.logger,
    });
    expect(await repository.update(-1, { title: 'Nobody' })).toBeNull();
    expect(await repository.delete(-1)).toBeNull();
    expect(await suite.webhooks.next()).toEqual([]);
    expect(suite.log.warnings).toEqual([]);
  });

  it('sends one event per row of a function that resolves to several', async () => {
    const repository = withWebhooks(
      {
        async create(rows: { status: string; grand_total: string }[]) {
          const values = rows.map((_, index) => `($${index * 2 + 1}, $${index * 2 + 2})`).join(', ');
          const result = await pool.query<OrderRow>(
            `INSERT INTO ${orders} (status, grand_total) VALUES ${values} RETURNING *`,
            rows.flatMap((row) => [row.status, row.grand_total]),
          );
          return result.rows;
        },
        async update(ids: number[], status: string) {
          const result = await pool.query<OrderRow>(
            `UPDATE ${orders} SET status = $2 WHERE id = ANY($1) RETURNING *`,
            [ids, status],
          );
          return result.rows;
        },
      },
      suite.webhooks.emitter,
      { kind: 'orders', logger: suite.log.logger },
    );
    const created = await repository.create([
      { status: 'pending', grand_total: '1.00' },
      { status: 'pending', grand_total: '2.00' },
    ]);
    const ids = created.map((row) => row.id);
    await repository.update(ids, 'shipped');
    const events = await suite.webhooks.next();
    expect(summary(events)).toEqual([
      ...ids.map((id) => `order.created ${id}`),
      ...ids.map((id) => `order.updated ${id}`),
    ]);
    expect(events.slice(2).map(({ data }) => data.status)).toEqual(['shipped', 'shipped']);
  });

  it('warns once and sends nothing when a function resolves to a count instead of rows', async () => {
    const countingDelete = async (id: number) =>
      (await pool.query(`DELETE FROM ${products} WHERE id = $1`, [id])).rowCount;
    // @ts-expect-error a row count is not a row: the types refuse it
    withWebhooks({ delete: countingDelete }, suite.webhooks.emitter, { kind: 'products' });

    const repository = withWebhooks(
      { delete: countingDelete as unknown as (id: number) => Promise<null> },
      suite.webhooks.emitter,
      { kind: 'products', logger: suite.log.logger },
    );
    const mug = await productRepository().create({ title: 'Counted mug', list_price: '1.00' });
    expect(await repository.delete(mug?.id as number)).toBe(1);
    expect(await repository.delete(mug?.id as number)).toBe(0);
    expect(suite.log.warnings).toEqual([
      "products delete() resolved to number (1) instead of the row(s) it wrote, so no webhook is sent for it; return the rows (e.g. .returning('*'))",
    ]);
    expect(await suite.webhooks.next()).toEqual([]);
  });

  it('refuses a repository with nothing to wrap', () => {
    expect(() => withWebhooks({}, suite.webhooks.emitter, { kind: 'orders' })).toThrow(
      'withWebhooks: the repository has no create, update or delete function',
    );
  });
});
