import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Transaction, UniqueConstraintError } from 'sequelize';
import type { Db } from './db.js';

interface ProductInput {
  title: string;
  handle: string;
  list_price: number;
  stock?: number;
}

const fields = {
  title: { type: 'string', minLength: 1, maxLength: 200 },
  handle: { type: 'string', maxLength: 200, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
  list_price: { type: 'number', minimum: 0, maximum: 99_999_999.99 },
  stock: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
};
const newProduct = {
  type: 'object',
  properties: fields,
  required: ['title', 'handle', 'list_price'],
  additionalProperties: false,
};
const productPatch = { type: 'object', properties: fields, minProperties: 1, additionalProperties: false };
// A plain decimal id, matched as text: typed 'integer', Ajv would coerce '0x10' to 16 and '1e1'
// to 10, so another spelling would reach another product. Past 2^31 - 1 is a 404 (no such row).
const byId = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } },
  required: ['id'],
};
const MAX_ID = 2_147_483_647;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The store's back office, behind `Authorization: Bearer <ADMIN_TOKEN>`. Each write runs in a
 * transaction; the Sequelize hooks send its webhooks once it has committed, and none if it fails.
 */
export function adminRoutes({ sequelize, Product }: Db, token: string) {
  const expected = digest(`Bearer ${token}`);

  /** The product with this id, locked until the transaction ends; null when there is none. */
  const lockProduct = (id: string, transaction: Transaction) =>
    Number(id) > MAX_ID ? null : Product.findByPk(id, { transaction, lock: true });

  return async (admin: FastifyInstance) => {
    admin.addHook('onRequest', async (request, reply) => {
      if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
      }
    });

    admin.setErrorHandler((error, _request, reply) => {
      if (error instanceof UniqueConstraintError) {
        const field = error.errors[0]?.path ?? 'a unique field';
        return reply.code(409).send({ error: `${field} is already taken` });
      }
      throw error; // Fastify's own answer: 400 for a body that fails its schema, 500 for the rest
    });

    // One product, or a list imported all or none: if one fails, the rows before it are rolled
    // back and their product.created webhooks are never sent.
    admin.post<{ Body: ProductInput | ProductInput[] }>(
      '/products',
      {
        schema: {
          body: { anyOf: [newProduct, { type: 'array', items: newProduct, minItems: 1, maxItems: 100 }] },
        },
      },
      async (request, reply) => {
        const inputs = Array.isArray(request.body) ? request.body : [request.body];
        const created = await sequelize.transaction(async (transaction) => {
          const rows = [];
          for (const input of inputs) rows.push(await Product.create(input, { transaction }));
          return rows;
        });
        return reply.code(201).send(Array.isArray(request.body) ? created : created[0]);
      },
    );

    admin.patch<{ Params: { id: string }; Body: Partial<ProductInput> }>(
      '/products/:id',
      { schema: { params: byId, body: productPatch } },
      async (request, reply) => {
        const updated = await sequelize.transaction(async (transaction) => {
          const product = await lockProduct(request.params.id, transaction);
          // instance.update() runs the per-row hooks; Product.update(values, { where }) would not.
          return product?.update(request.body, { transaction });
        });
        if (!updated) return reply.code(404).send({ error: `no product ${request.params.id}` });
        return updated;
      },
    );

    admin.delete<{ Params: { id: string } }>(
      '/products/:id',
      { schema: { params: byId } },
      async (request, reply) => {
        const deleted = await sequelize.transaction(async (transaction) => {
          const product = await lockProduct(request.params.id, transaction);
          await product?.destroy({ transaction });
          return product !== null;
        });
        if (!deleted) return reply.code(404).send({ error: `no product ${request.params.id}` });
        return reply.code(204).send();
      },
    );
  };
}
