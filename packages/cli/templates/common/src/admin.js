/**
 * The store's admin API, framework-free: each server maps `POST /admin/products`,
 * `PATCH /admin/products/:id` and `DELETE /admin/products/:id` onto `handle`, and sends back the
 * `{ status, body }` it answers.
 */

/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./store.js').ProductInput} ProductInput */
/** @typedef {{ status: number, body?: unknown }} Answer */

/** Bodies larger than this many bytes are refused with a 413. */
export const BODY_LIMIT = 100_000;

/**
 * An error answer: `{ error, code, field? }`, `code` one of the stable codes below.
 * @param {number} status @param {string} code @param {string} error @param {string} [field]
 * @returns {Answer}
 */
const fail = (status, code, error, field) => ({
  status,
  body: field === undefined ? { error, code } : { error, code, field },
});

/** Answers for requests no route serves, or that cannot be read; each server sends them as JSON. */
export const ANSWERS = {
  notFound: fail(404, 'not_found', 'Not Found'),
  invalidPath: fail(400, 'invalid_path', 'Malformed percent-encoding in the request path'),
  invalidJson: fail(400, 'invalid_json', 'Malformed JSON body'),
  notJson: fail(
    400,
    'invalid_body',
    'The body must be a JSON object sent with Content-Type: application/json',
  ),
  tooLarge: fail(413, 'body_too_large', `Request body over ${BODY_LIMIT} bytes`),
  unauthorized: fail(
    401,
    'unauthorized',
    'Missing or wrong admin token (Authorization: Bearer $ADMIN_TOKEN)',
  ),
  internal: fail(500, 'internal_error', 'Internal Server Error'),
};

/**
 * The answer to an error a framework raised before the route ran: a bad `%` escape, a body that
 * is not JSON or too large, or any other 4xx it detected. Anything else is the store's fault: the
 * caller logs it, and the client gets a bare 500 without its details.
 * @param {unknown} error
 * @returns {Answer | undefined} undefined for a server error
 */
export function clientErrorAnswer(error) {
  /** @type {{ status?: unknown, statusCode?: unknown, type?: unknown, code?: unknown }} */
  const details = typeof error === 'object' && error !== null ? error : {};
  const { type, code } = details;
  const given = Number(details.status ?? details.statusCode ?? 0);
  // Express's router (URIError), Fastify (FST_ERR_BAD_URL), Koa (a failed decodeURIComponent).
  if (error instanceof URIError || code === 'FST_ERR_BAD_URL') return ANSWERS.invalidPath;
  // body-parser (Express), Fastify's JSON parser, and JSON.parse's SyntaxError (Koa).
  if (
    type === 'entity.parse.failed' ||
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    error instanceof SyntaxError
  )
    return ANSWERS.invalidJson;
  if (given === 413) return ANSWERS.tooLarge;
  if (given === 415 || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return ANSWERS.notJson;
  if (given >= 400 && given < 500) {
    return fail(given, 'bad_request', error instanceof Error ? error.message : 'Bad Request');
  }
  return undefined;
}

/** A product id as the store assigns them: a positive integer in plain decimal, at most 2^31 - 1. */
const PRODUCT_ID = /^[1-9][0-9]{0,9}$/;
const isProductId = (/** @type {string} */ id) => PRODUCT_ID.test(id) && Number(id) <= 2_147_483_647;

/** Whether the body is JSON by its `Content-Type` (any charset parameter aside). */
const isJson = (/** @type {string | undefined} */ contentType) =>
  /^application\/json\s*(;|$)/i.test(contentType ?? '');

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
const invalid = (field, message) => fail(400, 'invalid_body', `${field}: ${message}`, field);

/**
 * Checks a JSON body field by field; the first problem is a 400 that names the field.
 * @param {unknown} body
 * @returns {{ input: ProductInput } | { error: Answer }}
 */
function readProduct(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: ANSWERS.notJson };
  }
  /** @type {Record<string, unknown>} */
  const input = {};
  for (const [field, value] of Object.entries(body)) {
    // Own keys only: `constructor` or `__proto__` would otherwise find Object.prototype's members.
    const kind = Object.hasOwn(FIELDS, field)
      ? FIELDS[/** @type {keyof typeof FIELDS} */ (field)]
      : undefined;
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
    ? fail(409, 'conflict', 'slug: another product has it', 'slug')
    : undefined;

/**
 * A write the database refused for a reason of its own, not the request's: a file made read-only,
 * a full disk, a lock held too long. A 503 the client may retry, logged in one line, not a crash.
 * @param {unknown} error
 */
function unavailable(error) {
  const code = /** @type {{ code?: unknown }} */ (error)?.code;
  if (typeof code !== 'string' || !/^SQLITE_(READONLY|IOERR|FULL|BUSY|LOCKED|CANTOPEN)/.test(code))
    return undefined;
  console.error(`[store] the database refused a write (${code}: ${/** @type {Error} */ (error).message})`);
  return fail(503, 'database_unavailable', 'The database cannot take writes now: try again later');
}

/**
 * @param {Store} store
 * @param {(authorization: string | undefined) => boolean} authorized
 */
export function createAdmin(store, authorized) {
  return {
    /**
     * The answer that refuses a request before its body is read: a 401 without the admin token, a
     * 400 for a POST or PATCH whose body is not declared JSON. Undefined when the request may go on.
     * @param {string} method
     * @param {{ authorization?: string, contentType?: string }} headers
     * @returns {Answer | undefined}
     */
    refuse(method, { authorization, contentType }) {
      if (!authorized(authorization)) return ANSWERS.unauthorized;
      if ((method === 'POST' || method === 'PATCH') && !isJson(contentType)) return ANSWERS.notJson;
      return undefined;
    },

    /**
     * @param {'POST' | 'PATCH' | 'DELETE'} method
     * @param {string | undefined} id
     * @param {unknown} body
     * @returns {Promise<Answer>}
     */
    async handle(method, id, body) {
      const missing = fail(404, 'not_found', `No product with id '${id}'`);
      // '01', '1e1' or '+1' would reach product 1 or 10 through the database's own conversions.
      if (id !== undefined && !isProductId(id)) return missing;
      try {
        if (method === 'DELETE') {
          return id !== undefined && (await store.deleteProduct(id)) ? { status: 204 } : missing;
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
        return product ? { status: 200, body: product } : missing;
      } catch (error) {
        const answer = conflict(error) ?? unavailable(error);
        if (answer) return answer;
        throw error;
      }
    },
  };
}

/** @typedef {ReturnType<typeof createAdmin>} Admin */
