import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { toOrder, toProduct } from './records.js';
import { type Repository, RepositoryError } from './repository.js';

const money = z
  .number({ error: 'must be a number' })
  .min(0, 'must not be negative')
  .max(10_000_000, 'must not exceed 10000000')
  .refine(
    (amount) => Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6,
    'must have at most 2 decimals',
  );

// Categories and tags are stored comma-separated, and the kit reads them so: a comma would split one.
const label = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100)
  .regex(/^[^,]*$/, 'must not contain commas');

const productPatch = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(200),
    description: z.string().max(20_000),
    short_description: z.string().max(1_000),
    sku: z.string().trim().min(1, 'must not be empty').max(64),
    regular_price: money,
    sale_price: money.nullable(),
    stock_quantity: z.int({ error: 'must be an integer' }).min(0, 'must not be negative').max(1_000_000_000),
    categories: z.array(label).max(20),
    tags: z.array(label).max(50),
    images: z.array(z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })).max(20),
    attributes: z.record(
      z.string().min(1).max(100),
      z.union([z.string().max(1_000), z.number(), z.boolean()], {
        error: 'must be a string, number or boolean',
      }),
    ),
    slug: z
      .string()
      .max(200)
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lowercase letters and digits joined by single hyphens'),
  })
  .partial();
const productCreate = productPatch.required({ name: true, regular_price: true });

const address = z.strictObject({
  street: z.string().trim().min(1, 'must not be empty').max(200),
  city: z.string().trim().min(1, 'must not be empty').max(100),
  state: z.string().trim().max(100).default(''),
  zip: z.string().trim().max(20).default(''),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as US'),
});

const ORDER_STATUSES = [
  'pending',
  'processing',
  'on-hold',
  'shipped',
  'completed',
  'cancelled',
  'refunded',
  'failed',
] as const;

const orderPatch = z
  .strictObject({
    order_number: z.string().trim().min(1, 'must not be empty').max(64),
    status: z.enum(ORDER_STATUSES, { error: `must be one of ${ORDER_STATUSES.join(', ')}` }),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as USD'),
    customer_email: z.email({ error: 'must be an email address' }),
    customer_name: z.string().trim().max(200),
    items: z
      .array(
        z.strictObject({
          product_id: z
            .union([z.string().min(1), z.int().positive()], { error: 'must be a product id' })
            .transform(String),
          quantity: z.int({ error: 'must be an integer' }).min(1, 'must be at least 1').max(10_000),
          name: z.string().trim().min(1, 'must not be empty').max(200).optional(),
          price: money.optional(),
        }),
      )
      .min(1, 'must hold at least one item')
      .max(500),
    tax: money,
    shipping: money,
    shipping_address: address.nullable(),
    billing_address: address.nullable(),
    payment_method: z.string().trim().max(64),
    created_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  })
  .partial();
const orderCreate = orderPatch.required({ customer_email: true, items: true });

/** Fields a client may read back but not write, and where their value comes from. */
const PRODUCT_DERIVED: Record<string, string> = {
  id: 'is assigned by the store',
  price: 'follows from regular_price and sale_price; set those instead',
  stock_status: 'follows from stock_quantity; set that instead',
  permalink: 'follows from slug; set that instead',
};
const ORDER_DERIVED: Record<string, string> = {
  id: 'is assigned by the store',
  subtotal: 'follows from the items',
  total: 'follows from the items, tax and shipping',
};

/**
 * Whether `body` holds a value at `path`, by own properties only: a key named like an
 * Object.prototype member (`constructor`, `toString`) is not there unless the client sent it.
 */
function holds(body: unknown, path: readonly PropertyKey[]): boolean {
  let node = body;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return true;
}

/**
 * One `{ field, message }` per problem. A field the client sent with the wrong type says what
 * type it needs; only one it left out "is required" (zod 4 leaves the value out of its issues,
 * so the body itself says which).
 */
function problems(error: z.ZodError, derived: Record<string, string>, body: unknown) {
  return error.issues.flatMap((issue) => {
    const where = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: where ? `${where}.${key}` : key,
        message:
          (where === '' && Object.hasOwn(derived, key) ? derived[key] : undefined) ?? 'is not a known field',
      }));
    }
    const missing = issue.code === 'invalid_type' && !holds(body, issue.path);
    return [{ field: where, message: missing ? 'is required' : issue.message }];
  });
}

/** Parses a request body or throws a 400 naming the first field at fault (and listing all). */
function parseBody<T>(schema: z.ZodType<T>, body: unknown, derived: Record<string, string>): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(
      400,
      'invalid_body',
      'The body must be a JSON object sent with Content-Type: application/json',
    );
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = problems(parsed.error, derived, body);
  const first = issues[0] ?? { field: '', message: 'is invalid' };
  throw new HttpError(400, 'invalid_body', `${first.field}: ${first.message}`, first.field, issues);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/**
 * Requires `Authorization: Bearer <adminToken>`. Digests have equal lengths, so the comparison
 * takes the same time whatever the client sent.
 */
function requireToken(adminToken: string) {
  const expected = sha256(adminToken);
  return (request: Request, response: Response, next: NextFunction) => {
    const match = /^Bearer +(\S+) *$/i.exec(request.get('authorization') ?? '');
    if (match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), expected)) {
      next();
      return;
    }
    response
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="admin"')
      .json({ error: 'Missing or invalid admin token', code: 'unauthorized' });
  };
}

const notFound = (kind: string, id: string) => new HttpError(404, 'not_found', `No ${kind} with id '${id}'`);

/**
 * The store's own admin API, mounted at `/admin`: create, patch and delete products and orders. It
 * takes HiWelink's field names and answers with the record exactly as the list endpoints send it.
 */
export function adminRouter(repository: Repository, adminToken: string): Router {
  const router = Router();
  router.use((_request, response, next) => {
    response.set('Cache-Control', 'no-store');
    next();
  });
  // Authenticate before reading the body, so anonymous clients cannot make us parse anything.
  router.use(requireToken(adminToken));
  router.use(express.json());

  router.post('/products', (request, response) => {
    const product = repository.createProduct(parseBody(productCreate, request.body, PRODUCT_DERIVED));
    response.status(201).location(`/admin/products/${product.id}`).json(toProduct(product));
  });
  router.patch('/products/:id', (request, response) => {
    const patch = parseBody(productPatch, request.body, PRODUCT_DERIVED);
    const product = repository.updateProduct(request.params.id, patch);
    if (!product) throw notFound('product', request.params.id);
    response.json(toProduct(product));
  });
  router.delete('/products/:id', (request, response) => {
    if (!repository.deleteProduct(request.params.id)) throw notFound('product', request.params.id);
    response.status(204).end();
  });

  router.post('/orders', (request, response) => {
    const order = repository.createOrder(parseBody(orderCreate, request.body, ORDER_DERIVED));
    response.status(201).location(`/admin/orders/${order.id}`).json(toOrder(order));
  });
  router.patch('/orders/:id', (request, response) => {
    const patch = parseBody(orderPatch, request.body, ORDER_DERIVED);
    const order = repository.updateOrder(request.params.id, patch);
    if (!order) throw notFound('order', request.params.id);
    response.json(toOrder(order));
  });
  router.delete('/orders/:id', (request, response) => {
    if (!repository.deleteOrder(request.params.id)) throw notFound('order', request.params.id);
    response.status(204).end();
  });

  router.use((error: unknown, _request: Request, _response: Response, next: NextFunction) => {
    if (error instanceof RepositoryError) {
      next(new HttpError(error.code === 'conflict' ? 409 : 400, error.code, error.message, error.field));
      return;
    }
    next(error);
  });
  return router;
}
