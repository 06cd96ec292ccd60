import { BEYOND_LATIN1, CONTROL_CHARACTER as CONTROL, TOKEN68 } from '@hiwelink/core';

/** How HiWelink authenticates to the store, with what each method needs besides `HIWELINK_API_KEY`. */
export type AuthConfig =
  /** `X-API-Key: <HIWELINK_API_KEY>` */
  | { method: 'api-key' }
  /** `Authorization: Bearer <HIWELINK_API_KEY>` */
  | { method: 'bearer' }
  /** `Authorization: Basic`, `username` with HIWELINK_API_KEY as the password */
  | { method: 'basic'; username: string }
  /** `Authorization: Bearer <JWT>` signed HS256 with `secret`; HIWELINK_API_KEY is unused */
  | { method: 'jwt'; secret: string };

export type AuthMethod = AuthConfig['method'];

/**
 * Where the store announces its product and order changes: on when `url` and `storeToken` are both
 * set, off when neither is.
 */
export interface WebhookConfig {
  /** HiWelink's base URL, http(s) (`HIWELINK_WEBHOOK_URL`). @default unset: webhooks off */
  url: string | undefined;
  /** The store's token from the HiWelink dashboard (`HIWELINK_STORE_TOKEN`). @default unset: webhooks off */
  storeToken: string | undefined;
  /** Signs each delivery, `whsec_<base64>` or any string (`HIWELINK_WEBHOOK_SECRET`). @default unset: unsigned */
  secret: string | undefined;
}

/**
 * Where the webhooks wait for delivery (`WEBHOOK_QUEUE`): in this process's memory, lost at exit
 * (`memory`), or in Redis through BullMQ (`redis`), where they outlive a restart and an event
 * given up stays as a dead letter the status page can resend.
 */
export type QueueConfig =
  | { kind: 'memory' }
  | {
      kind: 'redis';
      /** `redis://` or `rediss://` URL (`REDIS_URL`). @default 'redis://127.0.0.1:6379' */
      redisUrl: string;
      /** The BullMQ queue's name, no ':' (`HIWELINK_QUEUE`). @default 'hiwelink-webhooks' */
      queueName: string;
    };

/** What `WEBHOOK_QUEUE` may be. */
export const WEBHOOK_QUEUES: readonly QueueConfig['kind'][] = ['memory', 'redis'];

/** The demo store's settings, read once from the environment at startup. */
export interface StoreConfig {
  /** Listen port; 0 picks a free one (`PORT`). @default 3000 */
  port: number;
  /**
   * The address to listen on (`HOST`): 127.0.0.1 serves this machine only; 0.0.0.0 (or ::) every
   * interface, as a container or a proxy on another host needs. An IPv6 address may come in
   * brackets, as in a URL ([::1]). @default '127.0.0.1'
   */
  host: string;
  /**
   * Time limits for slow clients, in ms: `headersTimeoutMs` to send the request headers
   * (`HEADERS_TIMEOUT_MS`, default 10000; Node's own is 60000), `requestTimeoutMs` for the whole
   * request, body included (`REQUEST_TIMEOUT_MS`, default 30000; Node's own is 300000; at least
   * the headers' limit), `keepAliveTimeoutMs` for an idle keep-alive connection
   * (`KEEP_ALIVE_TIMEOUT_MS`, default 5000; behind a load balancer, above its idle timeout). None
   * may be 0, which Node reads as no limit.
   */
  timeouts: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** How HiWelink authenticates (`HIWELINK_AUTH`). @default { method: 'api-key' } */
  auth: AuthConfig;
  /** The key, static bearer token or basic password HiWelink sends. @default generated once and kept in the database */
  apiKey: string | undefined;
  /** Bearer token for the store's admin API. @default generated once and kept in the database */
  adminToken: string | undefined;
  /**
   * Bearer token of the status page at `/hiwelink/status` (`STATUS_TOKEN`); at least 16 characters,
   * neither ADMIN_TOKEN nor HIWELINK_API_KEY. @default generated once and kept in the database
   */
  statusToken: string | undefined;
  /** Products created on first start. @default 250 */
  seedProducts: number;
  /** Orders created on first start. @default 1200 */
  seedOrders: number;
  /** SQLite file, relative to the working directory, or `:memory:`. @default './data/store.db' */
  databaseFile: string;
  /**
   * The kit's `strict` (`HIWELINK_STRICT=1`): a page holding a record HiWelink would skip answers
   * 500 instead of logging a warning. For development and tests. @default false
   */
  strict: boolean;
  /** Webhooks to HiWelink after each committed admin write. */
  webhooks: WebhookConfig;
  /** Where those webhooks wait (`WEBHOOK_QUEUE`). @default { kind: 'memory' } */
  queue: QueueConfig;
}

export const AUTH_METHODS: readonly AuthMethod[] = ['api-key', 'bearer', 'jwt', 'basic'];

const DEFAULT_BASIC_USER = 'hiwelink';
const MIN_JWT_SECRET = 32;
const DIGEST = /^sha256:[0-9a-fA-F]{64}$/;

/** An empty variable counts as unset, as with `PORT= npm start` or `${PORT:-}` in compose files. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number, rule: string): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value <= max)) throw new Error(`${name} must be ${rule}, got '${raw}'`);
  return value;
}

function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = read(env, name);
  if (value !== undefined && value.trim() !== value) {
    throw new Error(`${name} must not start or end with whitespace`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = read(env, name) ?? '0';
  if (value !== '0' && value !== '1') throw new Error(`${name} must be 0 or 1, got '${value}'`);
  return value === '1';
}

function authMethod(env: NodeJS.ProcessEnv): AuthMethod {
  const value = read(env, 'HIWELINK_AUTH') ?? 'api-key';
  const method = AUTH_METHODS.find((known) => known === value);
  if (method === undefined) {
    throw new Error(`HIWELINK_AUTH must be one of ${AUTH_METHODS.join(', ')}; got '${value}'`);
  }
  return method;
}

function basicUser(env: NodeJS.ProcessEnv): string {
  const value = read(env, 'HIWELINK_BASIC_USER') ?? DEFAULT_BASIC_USER;
  if (value.trim() === '') throw new Error('HIWELINK_BASIC_USER must not be blank');
  // RFC 7617 splits user and password at the first colon, so a user cannot hold one.
  if (value.includes(':')) throw new Error(`HIWELINK_BASIC_USER must not contain ':', got '${value}'`);
  if (value.trim() !== value) throw new Error('HIWELINK_BASIC_USER must not start or end with whitespace');
  return value;
}

function jwtSecret(env: NodeJS.ProcessEnv): string {
  const value = secret(env, 'HIWELINK_JWT_SECRET');
  if (value === undefined) {
    throw new Error(
      "HIWELINK_JWT_SECRET is required when HIWELINK_AUTH is 'jwt' (try: openssl rand -hex 32)",
    );
  }
  if (value.length < MIN_JWT_SECRET) {
    throw new Error(
      `HIWELINK_JWT_SECRET must be at least ${MIN_JWT_SECRET} characters, got ${value.length}: ` +
        'HS256 needs a 256-bit key (try: openssl rand -hex 32)',
    );
  }
  return value;
}

function authConfig(env: NodeJS.ProcessEnv, method: AuthMethod): AuthConfig {
  if (method === 'basic') return { method, username: basicUser(env) };
  if (method === 'jwt') return { method, secret: jwtSecret(env) };
  return { method };
}

const MIN_SECRET = 16;
const KEYGEN = 'make one with: npx hiwelink keygen';

function apiKey(env: NodeJS.ProcessEnv, method: AuthMethod): string | undefined {
  const value = secret(env, 'HIWELINK_API_KEY');
  if (value === undefined || method === 'jwt') return value;
  // The kit refuses these too, but would name auth.apiKey rather than the variable to fix.
  if (CONTROL.test(value)) {
    throw new Error(
      'HIWELINK_API_KEY must not contain control characters (a tab or line break inside?): no header can carry them',
    );
  }
  if (method !== 'basic' && BEYOND_LATIN1.test(value)) {
    throw new Error(
      'HIWELINK_API_KEY holds a character above U+00FF (another script, an emoji?): no HTTP header can carry it, so it could never match',
    );
  }
  // The kit would take this for a digest, and the store could then print no working credential.
  if (DIGEST.test(value)) {
    throw new Error(
      'HIWELINK_API_KEY must be the key itself, not a sha256: digest: the demo store prints it for you to use',
    );
  }
  if (method === 'bearer' && !TOKEN68.test(value)) {
    throw new Error(
      "HIWELINK_API_KEY must hold only letters, digits and -._~+/ (then any '=') to be sent as " +
        'Authorization: Bearer (RFC 6750)',
    );
  }
  if (method !== 'basic' && value.length < MIN_SECRET) {
    throw new Error(
      `HIWELINK_API_KEY must be at least ${MIN_SECRET} characters, got ${value.length}: a short key can be guessed ` +
        `(unset it to have one generated, or ${KEYGEN})`,
    );
  }
  return value;
}

/**
 * A bearer token of the store's own (ADMIN_TOKEN, STATUS_TOKEN), held to the rules of a bearer
 * HIWELINK_API_KEY, since it travels the same way (`Authorization: Bearer`): no surrounding
 * whitespace, token68 only (no space inside, no other script), at least 16 characters.
 */
function ownToken(env: NodeJS.ProcessEnv, name: 'ADMIN_TOKEN' | 'STATUS_TOKEN'): string | undefined {
  const value = secret(env, name);
  if (value === undefined) return value;
  if (!TOKEN68.test(value)) {
    throw new Error(
      `${name} must hold only letters, digits and -._~+/ (then any '=') to be sent as Authorization: Bearer (RFC 6750)`,
    );
  }
  if (value.length < MIN_SECRET) {
    throw new Error(
      `${name} must be at least ${MIN_SECRET} characters, got ${value.length}: a short token can be guessed ` +
        `(unset it to have one generated, or ${KEYGEN})`,
    );
  }
  return value;
}

/**
 * STATUS_TOKEN, which reads the status page: one of its own, so that whoever holds it can neither
 * write through the admin API nor crawl the store (the kit refuses the API key itself).
 */
function statusToken(env: NodeJS.ProcessEnv): string | undefined {
  const value = ownToken(env, 'STATUS_TOKEN');
  for (const other of ['ADMIN_TOKEN', 'HIWELINK_API_KEY']) {
    if (value !== undefined && value === read(env, other)) {
      throw new Error(
        `STATUS_TOKEN must not be ${other}: give the status page a token of its own (${KEYGEN})`,
      );
    }
  }
  return value;
}

const WEBHOOK_URL = 'HIWELINK_WEBHOOK_URL';
const STORE_TOKEN = 'HIWELINK_STORE_TOKEN';
const WEBHOOK_SECRET = 'HIWELINK_WEBHOOK_SECRET';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function webhookUrl(env: NodeJS.ProcessEnv): string | undefined {
  const value = secret(env, WEBHOOK_URL);
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    throw new Error(`${WEBHOOK_URL} must be an http(s) URL such as https://app.hiwelink.com, got '${value}'`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error(`${WEBHOOK_URL} must not hold a query or fragment, got '${value}'`);
  }
  return value;
}

function webhookSecret(env: NodeJS.ProcessEnv): string | undefined {
  const value = secret(env, WEBHOOK_SECRET);
  // The kit decodes what follows whsec_ as base64 and would skip anything else, down to an empty key.
  if (value?.startsWith('whsec_') && !(value.length > 6 && BASE64.test(value.slice(6)))) {
    throw new Error(`${WEBHOOK_SECRET} must be whsec_ followed by base64, as HiWelink shows it`);
  }
  return value;
}

function webhookConfig(env: NodeJS.ProcessEnv): WebhookConfig {
  const config = { url: webhookUrl(env), storeToken: secret(env, STORE_TOKEN), secret: webhookSecret(env) };
  // Half a configuration is a mistake to report, not a reason to start silently without webhooks.
  if (config.url === undefined && config.storeToken !== undefined) {
    throw new Error(`${WEBHOOK_URL} is required when ${STORE_TOKEN} is set: together they turn webhooks on`);
  }
  if (config.storeToken === undefined && config.url !== undefined) {
    throw new Error(`${STORE_TOKEN} is required when ${WEBHOOK_URL} is set: together they turn webhooks on`);
  }
  if (config.secret !== undefined && config.url === undefined) {
    throw new Error(
      `${WEBHOOK_SECRET} is set but webhooks are off: set ${WEBHOOK_URL} and ${STORE_TOKEN} too, or unset it`,
    );
  }
  return config;
}

function queueConfig(env: NodeJS.ProcessEnv): QueueConfig {
  const value = read(env, 'WEBHOOK_QUEUE') ?? 'memory';
  if (value === 'memory') return { kind: value };
  if (value !== 'redis') {
    throw new Error(`WEBHOOK_QUEUE must be one of ${WEBHOOK_QUEUES.join(', ')}; got '${value}'`);
  }
  const redisUrl = read(env, 'REDIS_URL') ?? 'redis://127.0.0.1:6379';
  let protocol: string | undefined;
  try {
    protocol = new URL(redisUrl).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    // Not echoed: the URL may hold a password.
    throw new Error('REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379');
  }
  const queueName = read(env, 'HIWELINK_QUEUE') ?? 'hiwelink-webhooks';
  // BullMQ separates its Redis keys with ':' and refuses such a name; whitespace is a slip.
  if (!/^[^\s:]{1,100}$/.test(queueName)) {
    throw new Error(
      `HIWELINK_QUEUE must be 1 to 100 characters without ':' or whitespace, got '${queueName}'`,
    );
  }
  return { kind: value, redisUrl, queueName };
}

const HOUR_MS = 3_600_000;

function timeouts(env: NodeJS.ProcessEnv): StoreConfig['timeouts'] {
  const ms = 'a whole number of milliseconds up to 3600000';
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, HOUR_MS, ms);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, HOUR_MS, ms);
  const keepAliveTimeoutMs = integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, HOUR_MS, ms);
  // In Node 0 turns a limit off: a slow or idle client could then hold its connection for ever.
  for (const [name, value] of [
    ['REQUEST_TIMEOUT_MS', requestTimeoutMs],
    ['KEEP_ALIVE_TIMEOUT_MS', keepAliveTimeoutMs],
  ] as const) {
    if (value === 0) throw new Error(`${name} (0) must be more than 0: 0 would turn the limit off`);
  }
  // Node refuses a headers limit above the request's, and 0 would turn the headers limit off.
  if (headersTimeoutMs === 0 || headersTimeoutMs > requestTimeoutMs) {
    throw new Error(
      `HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must be more than 0 and at most REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
  };
}

/** Reads and checks the environment; throws an Error naming the variable when a value cannot work. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const method = authMethod(env);
  const count = 'a non-negative integer';
  const seedProducts = integer(env, 'SEED_PRODUCTS', 250, Number.MAX_SAFE_INTEGER, count);
  const seedOrders = integer(env, 'SEED_ORDERS', 1200, Number.MAX_SAFE_INTEGER, count);
  if (seedOrders > 0 && seedProducts === 0) {
    throw new Error(
      `SEED_ORDERS is ${seedOrders} but SEED_PRODUCTS is 0: seeded orders need products to reference`,
    );
  }
  return {
    port: integer(env, 'PORT', 3000, 65_535, 'an integer from 0 to 65535'),
    // An IPv6 address as URLs write it, [::1]: listen() wants the address inside the brackets.
    host: (read(env, 'HOST') ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'),
    timeouts: timeouts(env),
    auth: authConfig(env, method),
    apiKey: apiKey(env, method),
    adminToken: ownToken(env, 'ADMIN_TOKEN'),
    statusToken: statusToken(env),
    seedProducts,
    seedOrders,
    databaseFile: read(env, 'DATABASE_FILE') ?? './data/store.db',
    strict: flag(env, 'HIWELINK_STRICT'),
    webhooks: webhookConfig(env),
    queue: queueConfig(env),
  };
}
