import { z } from 'zod';
import { apiKeyGuard } from './auth/api-key.js';
import type { Guard } from './auth/guard.js';
import { consoleLogger, type Logger } from './logger.js';

/** What a repository callback is asked for. */
export interface ListQuery {
  /** 1-based page number. */
  page: number;
  perPage: number;
  /** `(page - 1) * perPage`, ready for `OFFSET`. */
  offset: number;
  /** Aborts when the client goes away or the callback runs past `timeoutMs`. */
  signal: AbortSignal;
}

/** One page of records and the total count across all pages. */
export interface ListResult<T = unknown> {
  items: readonly T[];
  total: number;
}

export type ListCallback<T = unknown> = (query: ListQuery) => ListResult<T> | Promise<ListResult<T>>;

/** Deep health check, such as a database ping. Throw, reject or return `false` to answer 503. */
export type HealthCheck = (context: { signal: AbortSignal }) => unknown;

export interface ApiKeyAuth {
  /** Accepted `X-API-Key` values; several at once while rotating. @default process.env.HIWELINK_API_KEY */
  apiKey: string | readonly string[];
}

/** An auth method: one of the built-in variants, or any {@link Guard}. */
export type AuthOptions = ApiKeyAuth | Guard;

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
  /** Paths served, exactly as configured in the HiWelink dashboard. */
  paths?: HiwelinkPaths;
  /** Prefix for all three paths, e.g. `'/hiwelink'`; Fastify's `prefix` lands here. @default '' */
  basePath?: string;
  /** Page size when `per_page` is absent. @default 50 */
  defaultPerPage?: number;
  /** Largest `per_page` accepted; larger is a 400, never a clamp. @default 100 */
  maxPerPage?: number;
  /** A callback running longer than this answers 503 and its signal aborts. @default 10000 */
  timeoutMs?: number;
  /** Answer lists as a bare JSON array instead of `{ data, meta }`. @default false */
  bareArray?: boolean;
  /** Where callback failures are reported. @default console */
  logger?: Logger;
}

export interface ResolvedOptions {
  products: ListCallback;
  orders: ListCallback;
  health: HealthCheck | undefined;
  guard: Guard;
  paths: Required<HiwelinkPaths>;
  defaultPerPage: number;
  maxPerPage: number;
  timeoutMs: number;
  bareArray: boolean;
  logger: Logger;
}

const fn = (shape: string) =>
  z.custom<(...args: never[]) => unknown>(
    (value) => typeof value === 'function',
    `must be a function ${shape}`,
  );

const listCallback = fn('({ page, perPage, offset, signal }) => ({ items, total })');

const path = z
  .string()
  .regex(/^\/[^?#\s]*$/, "must start with '/' and hold no '?', '#' or spaces, e.g. '/api/products'");

const apiKey = z.string().refine((key) => key.trim() !== '', 'must not be empty or blank');

const guard = z.custom<Guard>(
  (value) => typeof (value as Guard | null)?.authenticate === 'function',
  'must be { apiKey } or a guard with an authenticate(request) method',
);

const auth = z.union(
  [
    z.strictObject({
      apiKey: z.union([apiKey, z.array(apiKey).min(1, 'must list at least one key')], {
        error: 'must be a non-empty key or a list of keys',
      }),
    }),
    guard,
  ],
  { error: 'must be { apiKey: string | string[] } or a guard with an authenticate(request) method' },
);

const schema = z
  .strictObject({
    products: listCallback,
    orders: listCallback,
    health: fn('({ signal }) => boolean | Promise<boolean>').optional(),
    auth: auth.optional(),
    paths: z.strictObject({ health: path, products: path, orders: path }).partial().optional(),
    basePath: z
      .string()
      .regex(/^(\/[^?#\s]*[^/?#\s])?$/, "must be '' or start with '/' and not end with one, e.g. '/hiwelink'")
      .optional(),
    defaultPerPage: z.int().min(1).optional(),
    maxPerPage: z.int().min(1).optional(),
    timeoutMs: z.int().min(1).optional(),
    bareArray: z.boolean().optional(),
    logger: z
      .custom<Logger>(
        (value) =>
          typeof (value as Logger | null)?.warn === 'function' &&
          typeof (value as Logger).error === 'function',
        'must have warn(details, message) and error(details, message) methods',
      )
      .optional(),
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
  });

const defaultPaths: Required<HiwelinkPaths> = {
  health: '/health',
  products: '/api/products',
  orders: '/api/orders',
};

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

/** Validates options once, when the router/plugin/middleware is created, and fills defaults. */
export function resolveOptions(
  options: HiwelinkOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const parsed = schema.safeParse(options ?? {});
  const problems = parsed.success ? [] : parsed.error.issues.map(describe);
  const envKey = env.HIWELINK_API_KEY?.trim();
  if (options?.auth === undefined && !envKey) {
    problems.push('auth: no API key configured: set HIWELINK_API_KEY or pass auth: { apiKey }');
  }
  if (!parsed.success || problems.length > 0) throw new HiwelinkConfigError(problems);
  const value = parsed.data;
  const authOption = (value.auth as AuthOptions | undefined) ?? { apiKey: envKey as string };
  return {
    products: value.products as ListCallback,
    orders: value.orders as ListCallback,
    health: value.health as HealthCheck | undefined,
    guard: 'apiKey' in authOption ? apiKeyGuard([authOption.apiKey].flat()) : authOption,
    paths: prefixed(value.basePath ?? '', { ...defaultPaths, ...value.paths }),
    defaultPerPage: value.defaultPerPage ?? 50,
    maxPerPage: value.maxPerPage ?? 100,
    timeoutMs: value.timeoutMs ?? 10_000,
    bareArray: value.bareArray ?? false,
    logger: value.logger ?? consoleLogger,
  };
}
