import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

/** @typedef {import('@hiwelink/core').AuthOptions} AuthOptions */

/** Stops the start with a message that says what to set. */
function missing(/** @type {string} */ name) {
  return new Error(`${name} is not set: put it in .env (npm start reads it) or in the environment`);
}

/**
 * How HiWelink authenticates, from HIWELINK_AUTH (api-key, bearer or basic) and HIWELINK_API_KEY.
 * Enter the same method and key in the HiWelink dashboard.
 * @returns {AuthOptions}
 */
export function authFromEnv(env = process.env) {
  const key = env.HIWELINK_API_KEY;
  if (!key) throw missing('HIWELINK_API_KEY');
  const method = env.HIWELINK_AUTH ?? 'api-key';
  if (method === 'api-key') return { apiKey: key };
  if (method === 'bearer') return { bearer: key };
  if (method === 'basic') return { basic: { username: env.HIWELINK_USERNAME ?? 'hiwelink', password: key } };
  throw new Error(`HIWELINK_AUTH must be api-key, bearer or basic, not '${method}'`);
}

/**
 * Prints why the store cannot start, in one line that names what to set, and exits with code 1.
 * No stack trace: every start-up error here is a setting to fix, not a bug to debug.
 * @param {unknown} error
 * @returns {never}
 */
export function cannotStart(error) {
  console.error(`Cannot start the store: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * Runs one start-up step (sync or async); a throw ends the start through `cannotStart`.
 * @template T
 * @param {() => T | Promise<T>} step
 * @returns {Promise<T>}
 */
export async function startup(step) {
  try {
    return await step();
  } catch (error) {
    return cannotStart(error);
  }
}

/** A whole number of milliseconds (or a port) from the environment; empty means the default. */
function whole(
  /** @type {NodeJS.ProcessEnv} */ env,
  /** @type {string} */ name,
  /** @type {number} */ fallback,
  /** @type {number} */ max,
) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) > max)
    throw new Error(`${name} must be a whole number from 0 to ${max}, not '${raw}'`);
  return Number(raw);
}

/**
 * @typedef {object} ListenConfig
 * @property {number} port PORT, 0 to 65535; 0 picks a free one. Default 3000.
 * @property {string} host HOST, the address to listen on. Default 127.0.0.1: this machine only;
 *   0.0.0.0 (or ::) listens on every interface, as a container or a proxy on another host needs.
 * @property {number} headersTimeoutMs HEADERS_TIMEOUT_MS: a client gets this long to send its
 *   request headers, then gets a 408 and is closed. Default 10000 (Node's own: 60000).
 * @property {number} requestTimeoutMs REQUEST_TIMEOUT_MS: the whole request, body included.
 *   Default 30000 (Node's own: 300000). At least HEADERS_TIMEOUT_MS.
 * @property {number} keepAliveTimeoutMs KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is
 *   closed after this long. Default 5000; behind a load balancer, set it above the balancer's idle
 *   timeout, or the balancer may reuse a connection the store is closing.
 */

/**
 * Where the store listens, and the time limits that keep slow clients from holding connections
 * open (slowloris): read from the environment, each checked.
 * @returns {ListenConfig}
 */
export function listenFromEnv(env = process.env) {
  const headersTimeoutMs = whole(env, 'HEADERS_TIMEOUT_MS', 10_000, 3_600_000);
  const requestTimeoutMs = whole(env, 'REQUEST_TIMEOUT_MS', 30_000, 3_600_000);
  // Node refuses a headers timeout longer than the request's: say so in our words.
  if (headersTimeoutMs === 0 || requestTimeoutMs < headersTimeoutMs)
    throw new Error(
      `HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must be more than 0 and at most REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  return {
    port: whole(env, 'PORT', 3000, 65_535),
    host: env.HOST || '127.0.0.1',
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: whole(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 3_600_000),
  };
}

/**
 * A Node HTTP server for `handler` with the time limits of `config`. Node checks the headers and
 * request timeouts on a timer (`connectionsCheckingInterval`, 30 s by default): here at most 1 s,
 * so a slow client is closed close to its deadline.
 * @param {import('node:http').RequestListener} handler
 * @param {ListenConfig} config
 */
export function createHttpServer(handler, config) {
  const server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  return server;
}

/**
 * Listens on `config.host`:`config.port`, then prints the address actually bound. A port in use, a
 * HOST that is not an address of this machine, or a port that needs privileges end the start with
 * one line naming the variable.
 * @param {import('node:http').Server} server
 * @param {ListenConfig} config
 */
export async function listen(server, config) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve(undefined));
  }).catch((error) => cannotStart(listenError(error, config)));
  console.log(`Store listening on ${urlOf(server)}`);
}

/** @param {NodeJS.ErrnoException} error @param {ListenConfig} config */
export function listenError(error, { port, host }) {
  if (error.code === 'EADDRINUSE')
    return `PORT ${port} is in use on ${host}: set PORT to a free port, or 0 for any`;
  if (error.code === 'EACCES') return `PORT ${port} needs privileges: use a port above 1023`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return `HOST '${host}' is not an address of this machine: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`;
  return `cannot listen on ${host}:${port}: ${error.message}`;
}

/** The URL of the address `server` is bound to, e.g. http://127.0.0.1:3000 or http://[::]:3000. */
export function urlOf(/** @type {import('node:net').Server} */ server) {
  const address = server.address();
  if (address === null || typeof address === 'string') return String(address);
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

const sha256 = (/** @type {string} */ value) => createHash('sha256').update(value).digest();

/**
 * A check of `Authorization: Bearer <ADMIN_TOKEN>` for the admin API. Digests have equal lengths,
 * so the comparison takes the same time whatever the client sent.
 * @returns {(authorization: string | undefined) => boolean}
 */
export function adminGuard(env = process.env) {
  const token = env.ADMIN_TOKEN;
  if (!token) throw missing('ADMIN_TOKEN');
  const expected = sha256(token);
  return (authorization) => {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), expected);
  };
}
