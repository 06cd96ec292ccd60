import { z } from 'zod';
import { clientResolver, ipAllowList, type TrustProxy } from './access/client.js';
import { memoryStore, type RateLimitStore } from './access/rate-limit.js';
import type { Guard } from './auth/guard.js';
import { type AuthOptions, authSchema, createGuard } from './auth/options.js';
import { reviewCredentials } from './auth/review.js';
import type { CoreRequest } from './http.js';
import { fieldKey, idKey, type KeyOf } from './keyset.js';
import { consoleLogger, type Logger, safeLogger } from './logger.js';
import { type AuthKind, authKindOf } from './openapi.js';
import { ORDER_ALIASES, type OrderField, PRODUCT_ALIASES, type ProductField } from './records/aliases.js';
import type { RecordMapping } from './records/mapper.js';
import { type ResolvedStatus, resolveStatus, type StatusOptions, statusSchema } from './status/options.js';

/** What a repository callback is asked for. */
export interface ListQuery {
  /** 1-based page number. */
  page: number;
  perPage: number;
  /** `(page - 1) * perPage`, ready for `OFFSET`. */
  offset: number;
  /**
   * Sort key of the last record of page `page - 1`, when this process served that page recently
   * with the same `perPage` (HiWelink crawls pages in order). Seek past it, e.g.
   * `WHERE id > ? ORDER BY id LIMIT ?`, instead of skipping `offset` rows; when it is absent, use
   * `offset`. The key is `keyset.products` / `keyset.orders` of that record, by default its id as
   * the store keeps it: the field `mapping.fields.id` names (e.g. `_id`), else `id`.
   */
  after?: unknown;
  /** Aborts when the client goes away or the callback runs past `timeoutMs`. */
  signal: AbortSignal;
}

/** One page of records and the total count across all pages. */
export interface ListResult<T = unknown> {
  items: readonly T[];
  /**
   * Records across all pages: a non-negative safe integer, also as drivers return a count, as
   * decimal text (node-postgres' `COUNT(*)`, `'250'`) or a bigint (`250n`). Anything else is a 500.
   */
  total: number | bigint | string;
}

export type ListCallback<T = unknown> = (query: ListQuery) => ListResult<T> | Promise<ListResult<T>>;

/** Deep health check, such as a database ping. Throw, reject or return `false` to answer 503. */
export type HealthCheck = (context: { signal: AbortSignal }) => unknown;

export interface HiwelinkPaths {
  /** @default '/health' */
  health?: string;
  /** @default '/api/products' */
  products?: string;
  /** @default '/api/orders' */
  orders?: string;
}

export interface HiwelinkOptions<Product = unknown, Order = unknown> {
  /** Lists one page of products. */
  products: ListCallback<Product>;
  /** Lists one page of orders. */
  orders: ListCallback<Order>;
  /** Optional deep check for `/health`. */
  health?: HealthCheck;
  /** How HiWelink authenticates. @default { apiKey: process.env.HIWELINK_API_KEY } */
  auth?: AuthOptions;
  /** Realm named in `WWW-Authenticate` for bearer, JWT and basic. @default 'hiwelink' */
  realm?: string;
  /** Per-credential request limit; `true` for 100 requests a minute. Off by default. */
  rateLimit?: boolean | RateLimitOptions;
  /** Addresses and CIDR ranges allowed to call; others get 403. @default every address */
  allowIps?: readonly string[];
  /** Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed. @default none */
  trustProxy?: TrustProxy;
  /** Answer 403 to plain HTTP, unless a trusted proxy says the client used HTTPS. @default false */
  requireHttps?: boolean;
  /** Called once per request on our paths, after the answer is ready. */
  accessLog?: (entry: AccessLogEntry) => void;
  /** Paths served, exactly as configured in the HiWelink dashboard. */
  paths?: HiwelinkPaths;
  /** Prefix for all three paths, e.g. `'/hiwelink'`; Fastify's `prefix` lands here. @default '' */
  basePath?: string;
  /** Also serve the OpenAPI document of these endpoints here, e.g. `'/openapi.json'`, behind the same auth. Off by default. */
  openapiPath?: string;
  /** Page size when `per_page` is absent. @default 50 */
  defaultPerPage?: number;
  /** Largest `per_page` accepted; larger is a 400, never a clamp. @default 100 */
  maxPerPage?: number;
  /** A callback running longer than this answers 503 and its signal aborts. @default 10000 */
  timeoutMs?: number;
  /**
   * The sort key of your records, which core remembers for the last record of each page it serves
   * and passes to the next page's callback as `after`. `false` never passes `after`.
   * @default each record's id as the store keeps it: at `mapping.<kind>.fields.id` if set, else `id`
   */
  keyset?: false | { products?: (product: Product) => unknown; orders?: (order: Order) => unknown };
  /** Answer lists as a bare JSON array instead of `{ data, meta }`. @default false */
  bareArray?: boolean;
  /** How your records become the documented fields. @default the documented aliases */
  mapping?: {
    products?: RecordMapping<Product, ProductField>;
    orders?: RecordMapping<Order, OrderField>;
  };
  /** Your shop's public URL: resolves relative links and images, and builds permalinks from slugs. */
  storeBaseUrl?: string;
  /** Fail a page (500 naming the record) instead of logging a warning when a record or page is invalid; for development and tests. @default false */
  strict?: boolean;
  /** Where callback failures are reported. @default console */
  logger?: Logger;
  /**
   * The store's status page: HiWelink's recent crawls, webhook deliveries (with resend, test event
   * and full-sync actions) and this set-up, at `status.path` behind its own credential, e.g.
   * `{ path: '/hiwelink/status', auth: { bearer: process.env.STATUS_TOKEN }, webhooks }`. Not
   * subject to `allowIps`, `rateLimit` or `requireHttps`, which are HiWelink's. Off by default.
   */
  status?: StatusOptions;
}

/**
 * The options that read the caller's address (`CoreRequest.remoteAddress`), each with what it does
 * with it. An adapter whose requests carry no address (a fetch `Request`) refuses these at creation
 * unless it is told how to find it. A new option that reads the address belongs here.
 */
export const ADDRESS_OPTIONS = {
  allowIps: 'checks the caller against the list',
  trustProxy: 'believes X-Forwarded-For only from a trusted peer',
  rateLimit: 'counts callers without an accepted credential per address',
} as const satisfies Partial<Record<keyof HiwelinkOptions, string>>;

export interface RateLimitOptions {
  /** Requests allowed per credential (or per address, before authentication) in a window. @default 100 */
  limit?: number;
  /** Window length in milliseconds, a whole number of seconds (at least 1000). @default 60000 */
  windowMs?: number;
  /** Where counts live; use `redisStore(client)` when several instances serve the store. @default memoryStore() */
  store?: RateLimitStore;
  /**
   * Time budget of one store call, in milliseconds (1 to 10000). A store that fails or takes longer
   * is replaced by counts in this process's memory until it answers again, with one warning for
   * the outage and one for the recovery; the request is never held up longer. @default 250
   */
  storeTimeoutMs?: number;
  /**
   * Prefix length, in bits (1 to 128), by which IPv6 clients without an accepted credential are
   * counted together: one subscriber usually holds a whole /56 (RIPE-690) and can rotate through
   * its addresses. `128` counts each address alone. IPv4 clients count per address. @default 56
   */
  ipv6Subnet?: number;
}

/** One request, as the access-log hook sees it. The credential appears only as a fingerprint. */
export interface AccessLogEntry {
  ip: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** Fingerprint of the accepted credential; absent when none was accepted. */
  credentialId?: string;
}

export interface ResolvedOptions {
  products: ListCallback;
  orders: ListCallback;
  health: HealthCheck | undefined;
  guard: Guard;
  authKind: AuthKind;
  rateLimit: Required<RateLimitOptions> | undefined;
  client: (request: CoreRequest) => { ip: string; secure: boolean };
  allowIp: ((ip: string) => boolean) | undefined;
  requireHttps: boolean;
  accessLog: ((entry: AccessLogEntry) => void) | undefined;
  paths: Required<HiwelinkPaths>;
  /** With `basePath` applied. */
  openapiPath: string | undefined;
  defaultPerPage: number;
  maxPerPage: number;
  timeoutMs: number;
  bareArray: boolean;
  /** `undefined` when keyset continuation is off. */
  keyset: { products: KeyOf; orders: KeyOf } | undefined;
  mapping: { products: RecordMapping<unknown>; orders: RecordMapping<unknown> };
  storeBaseUrl: string | undefined;
  strict: boolean;
  logger: Logger;
  /** `undefined` when the status page is off. */
  status: ResolvedStatus | undefined;
  /** What the kit warned about while starting, for the status page. */
  startupWarnings: string[];
}

const fn = (shape: string) =>
  z.custom<(...args: never[]) => unknown>(
    (value) => typeof value === 'function',
    `must be a function ${shape}`,
  );

const listCallback = fn('({ page, perPage, offset, after, signal }) => ({ items, total })');

const path = z
  .string()
  .regex(/^\/[^?#\s]*$/, "must start with '/' and hold no '?', '#' or spaces, e.g. '/api/products'");

function recordMapping(kind: 'products' | 'orders') {
  const known = Object.keys(kind === 'products' ? PRODUCT_ALIASES : ORDER_ALIASES);
  const field = z.string().refine((name) => known.includes(name), `must be one of ${known.join(', ')}`);
  return z
    .strictObject({
      map: fn('(record) => ({ ...canonical fields })').optional(),
      fields: z.record(field, z.string().min(1, 'must be a field name or dot path')).optional(),
      passthrough: z.union([z.boolean(), z.array(z.string())]).optional(),
      omit: z.array(field).optional(),
      link: fn('(record) => string | undefined').optional(),
    })
    .optional();
}

/**
 * `storeBaseUrl`, for the kit and both emitters: an absolute http(s) URL without a user or
 * password (links and image URLs built from it go to HiWelink), trailing slashes removed.
 */
export const storeBaseUrlSchema = z
  .url({
    protocol: /^https?$/,
    error: "must be an absolute http(s) URL such as 'https://shop.example.com'",
  })
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  }, 'must not hold a user or password: links built from it go to HiWelink with them')
  .transform((url) => url.replace(/\/+$/, ''));

const schema = z
  .strictObject({
    products: listCallback,
    orders: listCallback,
    health: fn('({ signal }) => boolean | Promise<boolean>').optional(),
    auth: authSchema.optional(),
    realm: z
      .string()
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
      .refine((realm) => !realm.includes('"'), 'must not contain a double quote')
      .optional(),
    // `true` is every default, `false` off; an object rather than a union keeps each issue's path.
    rateLimit: z
      .preprocess(
        (value) => (value === true ? {} : value === false ? undefined : value),
        z
          .strictObject({
            limit: z.int().min(1).optional(),
            windowMs: z
              .int()
              .min(1000, 'must be at least 1000')
              .multipleOf(1000, 'must be a whole number of seconds, e.g. 60000')
              .optional(),
            store: z
              .custom<RateLimitStore>(
                (value) => typeof (value as RateLimitStore | null)?.hit === 'function',
                'must have a hit(key, windowMs) method, e.g. memoryStore() or redisStore(client)',
              )
              .optional(),
            storeTimeoutMs: z.int().min(1).max(10_000).optional(),
            ipv6Subnet: z.int().min(1).max(128).optional(),
          })
          .optional(),
      )
      .optional(),
    allowIps: z
      .array(z.string())
      .min(1, 'must list at least one address; leave it out to allow all')
      .optional(),
    trustProxy: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    requireHttps: z.boolean().optional(),
    accessLog: fn('(entry) => void').optional(),
    paths: z.strictObject({ health: path, products: path, orders: path }).partial().optional(),
    openapiPath: path.optional(),
    basePath: z
      .string()
      .regex(/^(\/[^?#\s]*[^/?#\s])?$/, "must be '' or start with '/' and not end with one, e.g. '/hiwelink'")
      .optional(),
    defaultPerPage: z.int().min(1).optional(),
    maxPerPage: z.int().min(1).optional(),
    timeoutMs: z.int().min(1).optional(),
    bareArray: z.boolean().optional(),
    keyset: z
      .union([
        z.literal(false),
        z.strictObject({
          products: fn('(product) => sort key').optional(),
          orders: fn('(order) => sort key').optional(),
        }),
      ])
      .optional(),
    mapping: z
      .strictObject({ products: recordMapping('products'), orders: recordMapping('orders') })
      .partial()
      .optional(),
    storeBaseUrl: storeBaseUrlSchema.optional(),
    strict: z.boolean().optional(),
    logger: z
      .custom<Logger>(
        (value) =>
          typeof (value as Logger | null)?.warn === 'function' &&
          typeof (value as Logger).error === 'function',
        'must have warn(details, message) and error(details, message) methods',
      )
      .optional(),
    status: statusSchema.optional(),
  })
  .superRefine((options, context) => {
    const max = options.maxPerPage ?? 100;
    if ((options.defaultPerPage ?? 50) > max) {
      context.addIssue({
        code: 'custom',
        path: ['defaultPerPage'],
        message: `must not exceed maxPerPage (${max})`,
      });
    }
    const paths = Object.values({ ...defaultPaths, ...options.paths }) as string[];
    if (new Set(paths).size !== paths.length) {
      context.addIssue({
        code: 'custom',
        path: ['paths'],
        message: 'health, products and orders need distinct paths',
      });
    }
    if (options.openapiPath !== undefined && paths.includes(options.openapiPath)) {
      context.addIssue({
        code: 'custom',
        path: ['openapiPath'],
        message: 'must differ from the health, products and orders paths',
      });
    }
    const statusPath = options.status?.path;
    if (statusPath !== undefined && [...paths, options.openapiPath].includes(statusPath)) {
      context.addIssue({
        code: 'custom',
        path: ['status', 'path'],
        message: 'must differ from the health, products, orders and OpenAPI paths',
      });
    }
  });

const NO_KEY = 'auth: no API key configured: set HIWELINK_API_KEY or pass auth: { apiKey }';

const defaultPaths: Required<HiwelinkPaths> = {
  health: '/health',
  products: '/api/products',
  orders: '/api/orders',
};

/** The default sort key: where `fields.id` says the id lives, else the record's `id`. */
function idKeyOf(mapping: { fields?: { id?: unknown } } | undefined): KeyOf {
  const path = mapping?.fields?.id;
  return typeof path === 'string' ? fieldKey(path) : idKey;
}

function prefixed(basePath: string, paths: Required<HiwelinkPaths>): Required<HiwelinkPaths> {
  return {
    health: basePath + paths.health,
    products: basePath + paths.products,
    orders: basePath + paths.orders,
  };
}

/** Thrown when the kit is created with options that cannot work; the message says what to fix. */
export class HiwelinkConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid HiWelink options:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'HiwelinkConfigError';
  }
}

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    return `${where ? `${where}: ` : ''}unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: is required`;
  return `${where || 'options'}: ${issue.message}`;
}

/** Runs a builder that may refuse its input, turning the refusal into a listed problem. */
function build<T>(problems: string[], option: string, builder: () => T): T | undefined {
  try {
    return builder();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    problems.push(message.startsWith(option) ? message : `${option}: ${message}`);
    return undefined;
  }
}

/** Validates options once, when the router/plugin/middleware is created, and fills defaults. */
export function resolveOptions(
  options: HiwelinkOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(describe);
    if (options?.auth === undefined && !env.HIWELINK_API_KEY?.trim()) problems.push(NO_KEY);
    throw new HiwelinkConfigError(problems);
  }
  const value = parsed.data;
  const problems: string[] = [];
  const logger = value.logger ? safeLogger(value.logger) : consoleLogger;
  const envKey = env.HIWELINK_API_KEY;
  if (value.auth === undefined && !envKey?.trim()) problems.push(NO_KEY);
  const review = reviewCredentials(
    (value.auth as AuthOptions | undefined) ?? { apiKey: envKey ?? '' },
    value.auth === undefined ? 'HIWELINK_API_KEY' : undefined,
  );
  if (value.auth !== undefined || envKey?.trim()) problems.push(...review.problems);
  const auth = review.auth;
  const guard = build(problems, 'auth', () => createGuard(auth, value.realm ?? 'hiwelink', logger));
  const client = build(problems, 'trustProxy', () => clientResolver(value.trustProxy));
  const allowIp = value.allowIps && build(problems, 'allowIps', () => ipAllowList(value.allowIps ?? []));
  const status = value.status && resolveStatus(value.status, auth, value.basePath ?? '', problems);
  if (problems.length > 0 || !guard || !client) throw new HiwelinkConfigError(problems);
  const warnings = [...review.warnings, ...(status?.warnings ?? [])];
  // Once per kit, and only for a kit that starts: one line, never holding a secret.
  const startupWarnings: string[] = [];
  if (warnings.length > 0) {
    startupWarnings.push(`check the configured credentials: ${warnings.join('; ')}`);
    logger.warn({ credentials: warnings }, startupWarnings[0] as string);
  }
  const rateLimit = value.rateLimit;
  return {
    products: value.products as ListCallback,
    orders: value.orders as ListCallback,
    health: value.health as HealthCheck | undefined,
    guard,
    authKind: authKindOf(auth),
    rateLimit: rateLimit && {
      limit: rateLimit.limit ?? 100,
      windowMs: rateLimit.windowMs ?? 60_000,
      store: rateLimit.store ?? memoryStore(),
      storeTimeoutMs: rateLimit.storeTimeoutMs ?? 250,
      ipv6Subnet: rateLimit.ipv6Subnet ?? 56,
    },
    client,
    allowIp,
    requireHttps: value.requireHttps ?? false,
    accessLog: value.accessLog as ((entry: AccessLogEntry) => void) | undefined,
    paths: prefixed(value.basePath ?? '', { ...defaultPaths, ...value.paths }),
    openapiPath: value.openapiPath && (value.basePath ?? '') + value.openapiPath,
    defaultPerPage: value.defaultPerPage ?? 50,
    maxPerPage: value.maxPerPage ?? 100,
    timeoutMs: value.timeoutMs ?? 10_000,
    bareArray: value.bareArray ?? false,
    keyset:
      value.keyset === false
        ? undefined
        : {
            products: (value.keyset?.products as KeyOf | undefined) ?? idKeyOf(value.mapping?.products),
            orders: (value.keyset?.orders as KeyOf | undefined) ?? idKeyOf(value.mapping?.orders),
          },
    mapping: {
      products: (value.mapping?.products ?? {}) as RecordMapping<unknown>,
      orders: (value.mapping?.orders ?? {}) as RecordMapping<unknown>,
    },
    storeBaseUrl: value.storeBaseUrl,
    strict: value.strict ?? false,
    logger,
    status: status?.status,
    startupWarnings,
  };
}
