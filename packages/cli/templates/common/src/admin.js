/**
 * The store's admin API, framework-free: each server maps `POST /admin/products`,
 * `PATCH /admin/products/:id` and `DELETE /admin/products/:id` onto `handle`, and sends back the
 * `{ status, body }` it answers.
 */

/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./store.js').ProductInput} ProductInput */
/** @typedef {{ status: number, body?: unknown }} Answer */

const FIELDS = {
  name: 'text',
  slug: 'slug',
  description: 'text',
  categories: 'text',
  images: 'text',
  regular_price: 'price',
  sale_price: 'price-or-null',
  stock_quantity: 'count',
};

/** @param {string} field @param {string} message @returns {Answer} */
const invalid = (field, message) => ({ status: 400, body: { error: `${field}: ${message}`, field } });

/**
 * Checks a JSON body field by field; the first problem is a 400 that names the field.
 * @param {unknown} body
 * @returns {{ input: ProductInput } | { error: Answer }}
 */
function readProduct(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: { status: 400, body: { error: 'the body must be a JSON object' } } };
  }
  /** @type {Record<string, unknown>} */
  const input = {};
  for (const [field, value] of Object.entries(body)) {
    const kind = FIELDS[/** @type {keyof typeof FIELDS} */ (field)];
    if (kind === undefined) return { error: invalid(field, 'is not a known field') };
    if (kind === 'text' && (typeof value !== 'string' || (field === 'name' && value.trim() === '')))
      return { error: invalid(field, 'must be a non-empty string') };
    if (kind === 'slug' && (typeof value !== 'string' || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(value)))
      return { error: invalid(field, 'must be lowercase letters and digits joined by hyphens') };
    if (kind === 'price' || (kind === 'price-or-null' && value !== null)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        return { error: invalid(field, 'must be a number, 0 or more') };
    }
    if (kind === 'count' && (!Number.isInteger(value) || /** @type {number} */ (value) < 0))
      return { error: invalid(field, 'must be an integer, 0 or more') };
    input[field] = value;
  }
  return { input };
}

/** A duplicate slug: SQLite's UNIQUE constraint, or PostgreSQL's unique_violation (23505). @param {unknown} error */
const conflict = (error) =>
  error instanceof Error &&
  (/UNIQUE constraint/.test(error.message) || /** @type {{ code?: unknown }} */ (error).code === '23505')
    ? { status: 409, body: { error: 'slug: another product has it' } }
    : undefined;

/**
 * @param {Store} store
 * @param {(authorization: string | undefined) => boolean} authorized
 */
export function createAdmin(store, authorized) {
  return {
    /** Whether the request may use the admin API; check before reading its body. */
    authorized,

    /**
     * @param {'POST' | 'PATCH' | 'DELETE'} method
     * @param {string | undefined} id
     * @param {unknown} body
     * @returns {Promise<Answer>}
     */
    async handle(method, id, body) {
      try {
        if (method === 'DELETE') {
          return id !== undefined && (await store.deleteProduct(id))
            ? { status: 204 }
            : { status: 404, body: { error: `no product with id '${id}'` } };
        }
        const read = readProduct(body);
        if ('error' in read) return read.error;
        if (method === 'POST') {
          const { name, regular_price } = read.input;
          if (name === undefined) return invalid('name', 'is required');
          if (regular_price === undefined) return invalid('regular_price', 'is required');
          return { status: 201, body: await store.createProduct({ ...read.input, name, regular_price }) };
        }
        const product = id === undefined ? undefined : await store.updateProduct(id, read.input);
        return product
          ? { status: 200, body: product }
          : { status: 404, body: { error: `no product with id '${id}'` } };
      } catch (error) {
        const answer = conflict(error);
        if (answer) return answer;
        throw error;
      }
    },
  };
}

/** @typedef {ReturnType<typeof createAdmin>} Admin */
