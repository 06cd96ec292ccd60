import { z } from 'zod';
import type { AuthOptions } from './auth/options.js';
import { type ErrorCode, errorStatus } from './errors.js';
import type { HiwelinkPaths, ResolvedOptions } from './options.js';
import { addressSchema, orderItemSchema, orderSchema, productSchema } from './records/schemas.js';

/** The auth method an OpenAPI document declares; `custom` is any other guard, which has no scheme. */
export type AuthKind = 'apiKey' | 'bearer' | 'jwt' | 'basic' | 'custom';

export interface OpenApiOptions {
  /** @default '/health', '/api/products', '/api/orders' */
  paths?: HiwelinkPaths;
  /** Prefix for every path. @default '' */
  basePath?: string;
  /** Also describe the document's own path (`openapiPath` of the kit), with `basePath` applied. */
  openapiPath?: string;
  /** @default 'apiKey' */
  auth?: AuthKind;
  /** @default 100 */
  maxPerPage?: number;
  /** @default 50 */
  defaultPerPage?: number;
  /** @default false */
  bareArray?: boolean;
  /** @default 'HiWelink Generic API' */
  title?: string;
  /** Version of the document, not of the package. @default '1.0.0' */
  version?: string;
}

/** Which built-in method auth options select, checked in the same order as `createGuard`. */
export function authKindOf(auth: AuthOptions): AuthKind {
  if ('apiKey' in auth) return 'apiKey';
  if ('bearer' in auth) return 'bearer';
  if ('basic' in auth) return 'basic';
  if ('jwt' in auth) return 'jwt';
  return 'custom';
}

type Json = Record<string, unknown>;

const REF = '#/components/schemas/';
const ref = (name: string) => ({ $ref: `${REF}${name}` });

const RECORD_SCHEMAS = {
  Product: productSchema,
  Order: orderSchema,
  OrderItem: orderItemSchema,
  Address: addressSchema,
};

/** Points `#/$defs/X` at `#/components/schemas/X`, everywhere in a schema. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, REF) : rewriteRefs(inner),
    ]),
  );
}

/**
 * The record schemas as OpenAPI components. Converted as input so that objects stay open: with
 * `passthrough` mapping a record carries fields of the store's own beside the documented ones.
 * Each schema's `$id` and `$schema` go (a component is addressed by its place in the document),
 * and any nested schema with an id of its own that zod put under `$defs` becomes a component too.
 */
function recordComponents(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RECORD_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `${REF}${id}`,
  });
  const components: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $id, $schema, $defs, ...rest } = rewriteRefs(schema) as Json;
    Object.assign(components, $defs as Record<string, Json> | undefined, { [id]: rest });
  }
  return components;
}

/** The record components never change, so they are converted once. */
let records: Record<string, Json> | undefined;

function fixedComponents(maxPerPage: number): Record<string, Json> {
  const count = (minimum: number, maximum?: number) => ({
    type: 'integer',
    minimum,
    ...(maximum === undefined ? {} : { maximum }),
  });
  records ??= recordComponents();
  return {
    // A copy, so that a caller editing one document leaves the next one alone.
    ...structuredClone(records),
    PageMeta: {
      type: 'object',
      title: 'PageMeta',
      properties: {
        current_page: count(1),
        per_page: count(1, maxPerPage),
        total: count(0),
        last_page: { ...count(1), description: 'max(1, ceil(total / per_page))' },
      },
      required: ['current_page', 'per_page', 'total', 'last_page'],
      additionalProperties: false,
    },
    Health: {
      type: 'object',
      title: 'Health',
      properties: {
        status: { type: 'string', enum: ['ok', 'error'] },
        timestamp: { type: 'string', format: 'date-time' },
      },
      required: ['status', 'timestamp'],
      additionalProperties: false,
    },
    Error: {
      type: 'object',
      title: 'Error',
      properties: {
        error: { type: 'string', description: 'Safe to show; never a stack or a callback message' },
        code: { type: 'string', enum: Object.keys(errorStatus) },
        parameter: {
          type: 'string',
          enum: ['page', 'per_page'],
          description: 'The query parameter at fault',
        },
      },
      required: ['error', 'code'],
      additionalProperties: false,
    },
  };
}

const codesFor = (status: number) =>
  (Object.entries(errorStatus) as [ErrorCode, number][])
    .filter(([code, codeStatus]) => codeStatus === status && code !== 'method_not_allowed')
    .map(([code]) => code);

const STATUS_TEXT: Record<number, string> = {
  400: '`page` or `per_page` is not a plain integer in range, or is given twice',
  401: 'No credential, or a wrong one',
  403: 'Address not allowed, or plain HTTP where HTTPS is required',
  405: 'Only GET and HEAD are served on this path',
  429: 'Rate limit exceeded',
  500: 'The store callback failed, or (strict mode) a record is invalid',
  503: 'The store callback ran past its timeout',
};

const json = (schema: unknown) => ({ 'application/json': { schema } });

const health = (status: 'ok' | 'error') => ({
  ...ref('Health'),
  type: 'object',
  properties: { status: { const: status } },
});

/** An error answer whose `code` is narrowed to the codes of its status. */
function errorAnswer(status: number, headers?: Json): Json {
  return {
    description: STATUS_TEXT[status],
    ...(headers && { headers }),
    content: json({ ...ref('Error'), type: 'object', properties: { code: { enum: codesFor(status) } } }),
  };
}

function securityScheme(auth: AuthKind): Json | undefined {
  switch (auth) {
    case 'apiKey':
      return { type: 'apiKey', in: 'header', name: 'X-API-Key' };
    case 'bearer':
      return { type: 'http', scheme: 'bearer' };
    case 'jwt':
      return { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' };
    case 'basic':
      return { type: 'http', scheme: 'basic' };
    case 'custom':
      return undefined;
  }
}

const withoutBodies = (responses: Record<string, Json>) =>
  Object.fromEntries(Object.entries(responses).map(([status, { content, ...rest }]) => [status, rest]));

/** A path served for GET and HEAD: HEAD answers the same statuses and headers without a body. */
function pathItem(name: string, summary: string, responses: Record<string, Json>, parameters?: Json[]) {
  const shared = { summary, ...(parameters && { parameters }) };
  return {
    description: 'Every other method answers 405 with `Allow: GET, HEAD` before any other check.',
    get: { operationId: `get${name}`, ...shared, responses },
    head: { operationId: `head${name}`, ...shared, responses: withoutBodies(responses) },
  };
}

// A route parameter as Fastify (find-my-way) writes it: `:tenant`, optionally with a regular
// expression, `:id(^\\d+)`. `::` is an escaped literal colon.
const ROUTE_PARAMETER = /(?<!:):([A-Za-z0-9_]+)(?:\((?:\\.|[^)])*\))?/g;

/**
 * A path in OpenAPI's templating: each route parameter (`/:tenant`, as a Fastify prefix may hold)
 * becomes `{tenant}` and is declared as a required path parameter of the path item (OpenAPI 3.1,
 * Path Templating). A wildcard (`*`) has no OpenAPI form and stays as it is.
 */
function templated(path: string, item: Json): [string, Json] {
  const names: string[] = [];
  const template = path.replace(ROUTE_PARAMETER, (_match, name: string) => {
    names.push(name);
    return `{${name}}`;
  });
  if (names.length === 0) return [path, item];
  const parameters = names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  return [template, { ...item, parameters }];
}

/**
 * The OpenAPI 3.1 document of the Generic API as the kit serves it with these options. Record
 * schemas come from the same zod schemas the records are checked against.
 */
export function openApiDocument(options: OpenApiOptions = {}): Json {
  const basePath = options.basePath ?? '';
  const paths = {
    health: '/health',
    products: '/api/products',
    orders: '/api/orders',
    ...options.paths,
  };
  const auth = options.auth ?? 'apiKey';
  const maxPerPage = options.maxPerPage ?? 100;
  const defaultPerPage = options.defaultPerPage ?? 50;
  const scheme = securityScheme(auth);
  const challenge =
    auth === 'apiKey' || auth === 'custom'
      ? undefined
      : { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'The scheme and realm expected' } };
  const admission = {
    '401': errorAnswer(401, challenge),
    '403': errorAnswer(403),
    '429': errorAnswer(429, {
      'Retry-After': {
        schema: { type: 'integer', minimum: 1 },
        description: 'Seconds until the window resets',
      },
    }),
  };
  const list = (name: 'Products' | 'Orders', record: 'Product' | 'Order') => {
    const page = options.bareArray
      ? { type: 'array', items: ref(record) }
      : {
          type: 'object',
          properties: { data: { type: 'array', items: ref(record) }, meta: ref('PageMeta') },
          required: ['data', 'meta'],
          additionalProperties: false,
        };
    return pathItem(
      name,
      `One page of ${name.toLowerCase()}`,
      {
        '200': {
          description: 'Every page but the last holds exactly `per_page` records; past the end, none',
          content: json(page),
        },
        '400': errorAnswer(400),
        ...admission,
        '500': errorAnswer(500),
        '503': errorAnswer(503),
      },
      [{ $ref: '#/components/parameters/page' }, { $ref: '#/components/parameters/per_page' }],
    );
  };
  const documentPath =
    options.openapiPath === undefined
      ? []
      : [
          templated(
            basePath + options.openapiPath,
            pathItem('OpenApi', 'This document', {
              '200': { description: 'The OpenAPI document', content: json({ type: 'object' }) },
              ...admission,
            }),
          ),
        ];
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'HiWelink Generic API',
      version: options.version ?? '1.0.0',
      description:
        'The endpoints HiWelink crawls to sync a store: a health check and paginated lists of products and orders.' +
        (auth === 'custom' ? ' Requests are authenticated by a custom guard.' : ''),
    },
    ...(scheme && { security: [{ [auth]: [] }] }),
    paths: Object.fromEntries([
      templated(
        basePath + paths.health,
        pathItem('Health', 'Health check', {
          '200': { description: 'The store is up', content: json(health('ok')) },
          ...admission,
          '503': {
            description: 'The deep health check failed or timed out',
            content: json(health('error')),
          },
        }),
      ),
      templated(basePath + paths.products, list('Products', 'Product')),
      templated(basePath + paths.orders, list('Orders', 'Order')),
      ...documentPath,
    ]),
    components: {
      schemas: fixedComponents(maxPerPage),
      parameters: {
        page: {
          name: 'page',
          in: 'query',
          description:
            'Decimal digits only, at most floor((2^53 - 1) / per_page); anything else is a 400, never a clamp',
          schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1 },
        },
        per_page: {
          name: 'per_page',
          in: 'query',
          description: 'Decimal digits only; anything else is a 400, never a clamp',
          schema: { type: 'integer', minimum: 1, maximum: maxPerPage, default: defaultPerPage },
        },
      },
      responses: {
        MethodNotAllowed: {
          description: STATUS_TEXT[405],
          headers: { Allow: { schema: { type: 'string', const: 'GET, HEAD' } } },
        },
      },
      ...(scheme && { securitySchemes: { [auth]: scheme } }),
    },
  };
}

/** The document for a resolved configuration: its paths already carry `basePath`. */
export function openApiFor(config: ResolvedOptions): Json {
  return openApiDocument({
    paths: config.paths,
    openapiPath: config.openapiPath,
    auth: config.authKind,
    maxPerPage: config.maxPerPage,
    defaultPerPage: config.defaultPerPage,
    bareArray: config.bareArray,
  });
}
