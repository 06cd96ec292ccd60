/** The store's settings, read once from the environment at start. */
export interface StoreConfig {
  /** Listen port; 0 picks a free one (`PORT`). @default 3001 */
  port: number;
  /**
   * The address to listen on (`HOST`): 127.0.0.1 serves this machine only; 0.0.0.0 (or ::) every
   * interface, as a container or a proxy on another host needs. @default '127.0.0.1'
   */
  host: string;
  /**
   * Time limits for slow clients, in ms: the request headers (`HEADERS_TIMEOUT_MS`, default 10000;
   * Node's own is 60000), the whole request (`REQUEST_TIMEOUT_MS`, default 30000; at least the
   * headers' limit), an idle keep-alive connection (`KEEP_ALIVE_TIMEOUT_MS`, default 5000; behind a
   * load balancer, above its idle timeout).
   */
  timeouts: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** PostgreSQL connection string (`DATABASE_URL`). @default postgres://postgres@127.0.0.1:5432/test */
  databaseUrl: string;
  /** The store's own PostgreSQL schema, created if missing (`DATABASE_SCHEMA`). @default hiwelink_demo */
  schema: string;
  /** Redis for the webhook queue (`REDIS_URL`). @default redis://127.0.0.1:6379 */
  redisUrl: string;
  /** Every instance with the same queue name shares the webhooks (`HIWELINK_QUEUE`). @default hiwelink-webhooks */
  queueName: string;
  /** The key HiWelink sends in `X-API-Key` (`HIWELINK_API_KEY`). Required. */
  apiKey: string;
  /** Bearer token of the admin API (`ADMIN_TOKEN`); unset: no admin API. */
  adminToken: string | undefined;
  /** HiWelink's base URL (`HIWELINK_WEBHOOK_URL`); with `storeToken`, turns webhooks on. */
  webhookUrl: string | undefined;
  /** The store token from the HiWelink dashboard (`HIWELINK_STORE_TOKEN`). */
  storeToken: string | undefined;
  /** Signs the webhooks, `whsec_<base64>` or any string (`HIWELINK_WEBHOOK_SECRET`). */
  webhookSecret: string | undefined;
  /** `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent` (`LOG_LEVEL`). @default info */
  logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// RFC 7235 token68: all an `Authorization: Bearer` credential may hold (RFC 6750).
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * ADMIN_TOKEN, held to the rules of a bearer HIWELINK_API_KEY since it travels the same way:
 * token68 only (no whitespace, no other script), at least 16 characters. Unset: no admin API.
 */
function adminToken(value: string | undefined): string | undefined {
  if (value === undefined) return value;
  if (!TOKEN68.test(value)) {
    throw new Error(
      "ADMIN_TOKEN must hold only letters, digits and -._~+/ (then any '='), no whitespace: nothing else travels in Authorization: Bearer (RFC 6750)",
    );
  }
  if (value.length < 16) {
    throw new Error(
      `ADMIN_TOKEN must be at least 16 characters, got ${value.length}: a short token can be guessed (make one with: npx hiwelink keygen)`,
    );
  }
  return value;
}

/** Reads and checks the environment; throws an Error that names the variable to fix. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  // An empty variable counts as unset, as with `PORT= npm start`.
  const read = (name: string) => (env[name] === '' ? undefined : env[name]);

  const apiKey = read('HIWELINK_API_KEY');
  if (apiKey === undefined) {
    throw new Error(
      'HIWELINK_API_KEY is required: the key HiWelink sends in X-API-Key (make one with: npx hiwelink keygen)',
    );
  }
  const port = read('PORT') ?? '3001';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got '${port}'`);
  }
  const schema = read('DATABASE_SCHEMA') ?? 'hiwelink_demo';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`DATABASE_SCHEMA must be lowercase letters, digits and _ (at most 63), got '${schema}'`);
  }
  const webhookUrl = read('HIWELINK_WEBHOOK_URL');
  const storeToken = read('HIWELINK_STORE_TOKEN');
  if ((webhookUrl === undefined) !== (storeToken === undefined)) {
    throw new Error('set both HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to turn webhooks on, or neither');
  }
  if (webhookUrl !== undefined && !/^https?:\/\/[^/]/.test(webhookUrl)) {
    throw new Error(`HIWELINK_WEBHOOK_URL must be an http(s) URL, got '${webhookUrl}'`);
  }
  /** A whole number of milliseconds, at most an hour. */
  const ms = (name: string, fallback: number) => {
    const value = read(name) ?? String(fallback);
    if (!/^\d{1,7}$/.test(value) || Number(value) > 3_600_000) {
      throw new Error(`${name} must be a whole number of milliseconds up to 3600000, got '${value}'`);
    }
    return Number(value);
  };
  const timeouts = {
    headersTimeoutMs: ms('HEADERS_TIMEOUT_MS', 10_000),
    requestTimeoutMs: ms('REQUEST_TIMEOUT_MS', 30_000),
    keepAliveTimeoutMs: ms('KEEP_ALIVE_TIMEOUT_MS', 5_000),
  };
  // In Node 0 turns a limit off: a slow or idle client could then hold its connection for ever.
  for (const [name, value] of [
    ['REQUEST_TIMEOUT_MS', timeouts.requestTimeoutMs],
    ['KEEP_ALIVE_TIMEOUT_MS', timeouts.keepAliveTimeoutMs],
  ] as const) {
    if (value === 0) throw new Error(`${name} (0) must be more than 0: 0 would turn the limit off`);
  }
  // Node refuses a headers limit above the request's, and 0 would turn the headers limit off.
  if (timeouts.headersTimeoutMs === 0 || timeouts.headersTimeoutMs > timeouts.requestTimeoutMs) {
    throw new Error(
      `HEADERS_TIMEOUT_MS (${timeouts.headersTimeoutMs}) must be more than 0 and at most REQUEST_TIMEOUT_MS (${timeouts.requestTimeoutMs})`,
    );
  }
  const logLevel = read('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  return {
    port: Number(port),
    // An IPv6 address as URLs write it, [::1]: listen() wants the address inside the brackets.
    host: (read('HOST') ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'),
    timeouts,
    databaseUrl: read('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/test',
    schema,
    redisUrl: read('REDIS_URL') ?? 'redis://127.0.0.1:6379',
    queueName: read('HIWELINK_QUEUE') ?? 'hiwelink-webhooks',
    apiKey,
    adminToken: adminToken(read('ADMIN_TOKEN')),
    webhookUrl,
    storeToken,
    webhookSecret: read('HIWELINK_WEBHOOK_SECRET'),
    logLevel,
  };
}
