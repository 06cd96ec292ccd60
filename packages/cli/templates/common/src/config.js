import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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
  const raw = env.HIWELINK_API_KEY;
  if (!raw?.trim()) throw missing('HIWELINK_API_KEY');
  const method = env.HIWELINK_AUTH ?? 'api-key';
  // A key or bearer token with whitespace around it (a newline from `echo` into a file) could never
  // match: trimmed, with a warning naming the variable. A basic password may hold it (RFC 7617).
  const key = method === 'basic' ? raw : trimmed('HIWELINK_API_KEY', raw);
  if (method === 'api-key') return { apiKey: key };
  if (method === 'bearer') return { bearer: key };
  if (method === 'basic') return { basic: { username: env.HIWELINK_USERNAME ?? 'hiwelink', password: key } };
  throw new Error(`HIWELINK_AUTH must be api-key, bearer or basic, not '${method}'`);
}

/** `value` without surrounding whitespace, with a warning naming `name` when there was some. */
function trimmed(/** @type {string} */ name, /** @type {string} */ value) {
  const clean = value.trim();
  if (clean !== value)
    console.warn(`[store] ${name}: surrounding whitespace removed, since no request can carry it`);
  return clean;
}

/**
 * The option paths the kit names in its errors, as the variables they come from here
 * (see authFromEnv), so the line says what to change.
 * @type {[RegExp, string][]}
 */
const KIT_OPTION_VARIABLES = [
  // First: `status.auth.bearer` holds `auth.bearer`.
  [/\bstatus\.auth(\.bearer)?(?=[:\s])/g, 'STATUS_TOKEN'],
  [/\bauth\.basic(\.\d+)?\.username\b/g, 'HIWELINK_USERNAME'],
  [/\bauth\.(apiKey|bearer|basic(\.\d+)?\.password)\b/g, 'HIWELINK_API_KEY'],
];

/**
 * What a start-up error says, in one line: the kit's HiwelinkConfigError lists its problems by
 * option path, translated here to the environment variable to fix.
 * @param {unknown} error
 */
function startupMessage(error) {
  const problems = /** @type {{ name?: unknown, problems?: unknown }} */ (error)?.problems;
  if (/** @type {Error} */ (error)?.name === 'HiwelinkConfigError' && Array.isArray(problems)) {
    return problems
      .map((problem) =>
        KIT_OPTION_VARIABLES.reduce((text, [path, name]) => text.replace(path, name), String(problem)),
      )
      .join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Prints why the store cannot start, in one line that names what to set, and exits with code 1.
 * No stack trace: every start-up error here is a setting to fix, not a bug to debug.
 * @param {unknown} error
 * @returns {never}
 */
export function cannotStart(error) {
  console.error(`Cannot start the store: ${startupMessage(error)}`);
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
 *   An IPv6 address may come in brackets, as in a URL ([::1]).
 * @property {number} headersTimeoutMs HEADERS_TIMEOUT_MS: a client gets this long to send its
 *   request headers, then gets a 408 and is closed. Default 10000 (Node's own: 60000).
 * @property {number} requestTimeoutMs REQUEST_TIMEOUT_MS: the whole request, body included.
 *   Default 30000 (Node's own: 300000). At least HEADERS_TIMEOUT_MS.
 * @property {number} keepAliveTimeoutMs KEEP_ALIVE_TIMEOUT_MS: an idle keep-alive connection is
 *   closed after this long. Default 5000; behind a load balancer, set it above the balancer's idle
 *   timeout, or the balancer may reuse a connection the store is closing. None of the three may be
 *   0, which Node reads as no limit.
 */

/**
 * Where the store listens, and the time limits that keep slow clients from holding connections
 * open (slowloris): read from the environment, each checked.
 * @returns {ListenConfig}
 */
export function listenFromEnv(env = process.env) {
  const headersTimeoutMs = whole(env, 'HEADERS_TIMEOUT_MS', 10_000, 3_600_000);
  const requestTimeoutMs = whole(env, 'REQUEST_TIMEOUT_MS', 30_000, 3_600_000);
  const keepAliveTimeoutMs = whole(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 3_600_000);
  // In Node 0 turns a limit off: a slow or idle client could then hold its connection for ever.
  for (const [name, value] of /** @type {const} */ ([
    ['REQUEST_TIMEOUT_MS', requestTimeoutMs],
    ['KEEP_ALIVE_TIMEOUT_MS', keepAliveTimeoutMs],
  ])) {
    if (value === 0) throw new Error(`${name} (0) must be more than 0: 0 would turn the limit off`);
  }
  // Node refuses a headers timeout longer than the request's: say so in our words.
  if (headersTimeoutMs === 0 || requestTimeoutMs < headersTimeoutMs)
    throw new Error(
      `HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must be more than 0 and at most REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  return {
    port: whole(env, 'PORT', 3000, 65_535),
    // An IPv6 address as URLs write it, [::1]: listen() wants the address inside the brackets.
    host: (env.HOST || '127.0.0.1').replace(/^\[(.*)\]$/, '$1'),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
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
 * one line naming the variable. With `status`, says where the status page is and its token when
 * it was generated (one from .env is not printed).
 * @param {import('node:http').Server} server
 * @param {ListenConfig} config
 * @param {StatusConfig} [status]
 */
export async function listen(server, config, status) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve(undefined));
  }).catch((error) => cannotStart(listenError(error, config)));
  console.log(`Store listening on ${urlOf(server)}`);
  if (status) {
    console.log(
      `  status page  ${urlOf(server)}${STATUS_PATH}  (npx hiwelink status <url> --token <STATUS_TOKEN>)`,
    );
    console.log(
      status.generated
        ? `  status token ${status.token}  (generated for this run; set STATUS_TOKEN in .env to keep one)`
        : '  status token STATUS_TOKEN, from .env or the environment',
    );
  }
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

/** Shortest ADMIN_TOKEN or STATUS_TOKEN accepted, as for HIWELINK_API_KEY: 16 characters. */
const MIN_TOKEN_LENGTH = 16;
// RFC 7235 token68: all an `Authorization: Bearer` credential may hold (RFC 6750).
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * A bearer token of the store's own from `env[name]`, held to the rules of a bearer
 * HIWELINK_API_KEY: surrounding whitespace trimmed with a warning; a token outside token68 (a space
 * inside, another script), which no request can carry, or one under 16 characters, which can be
 * guessed, stops the start. Undefined when the variable is unset or blank.
 * @param {NodeJS.ProcessEnv} env
 * @param {'ADMIN_TOKEN' | 'STATUS_TOKEN'} name
 * @returns {string | undefined}
 */
function ownToken(env, name) {
  const raw = env[name];
  if (!raw?.trim()) return undefined;
  const token = trimmed(name, raw);
  if (!TOKEN68.test(token))
    throw new Error(
      `${name} must hold only letters, digits and -._~+/ (then '='): nothing else travels in Authorization: Bearer (RFC 6750)`,
    );
  if (token.length < MIN_TOKEN_LENGTH)
    throw new Error(
      `${name} must be at least ${MIN_TOKEN_LENGTH} characters, got ${token.length}: a short token can be guessed (make one with: npx hiwelink keygen)`,
    );
  return token;
}

/**
 * A check of `Authorization: Bearer <ADMIN_TOKEN>` for the admin API. Digests have equal lengths,
 * so the comparison takes the same time whatever the client sent. ADMIN_TOKEN follows the rules of
 * a bearer HIWELINK_API_KEY (see ownToken).
 * @returns {(authorization: string | undefined) => boolean}
 * @throws {Error} naming ADMIN_TOKEN when it is missing or cannot work
 */
export function adminGuard(env = process.env) {
  const token = ownToken(env, 'ADMIN_TOKEN');
  if (token === undefined) throw missing('ADMIN_TOKEN');
  const expected = sha256(token);
  return (authorization) => {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), expected);
  };
}

/** Where the kit serves the status page: `npx hiwelink status <url>/hiwelink/status` reads it. */
export const STATUS_PATH = '/hiwelink/status';

/**
 * @typedef {object} StatusConfig
 * @property {string} token The status page's bearer token (in a browser: the password, any user name).
 * @property {boolean} generated True when STATUS_TOKEN was unset and the token made for this run.
 */

/**
 * The status page's token: STATUS_TOKEN, held to the rules of ADMIN_TOKEN and never equal to it
 * (the kit also refuses HIWELINK_API_KEY); when unset, a random one for this run, which the
 * start-up banner prints.
 * @returns {StatusConfig}
 * @throws {Error} naming STATUS_TOKEN when it cannot work
 */
export function statusFromEnv(env = process.env) {
  const token = ownToken(env, 'STATUS_TOKEN');
  if (token === undefined) return { token: `hws_${randomBytes(32).toString('hex')}`, generated: true };
  if (token === env.ADMIN_TOKEN?.trim())
    throw new Error('STATUS_TOKEN must not be ADMIN_TOKEN: give the status page a token of its own');
  return { token, generated: false };
}
