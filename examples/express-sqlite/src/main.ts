import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createStore, readConfig, STATUS_PATH, type Store, type StoreConfig, waitForQueue } from './app.js';
import { signToken, TOKEN_LIFETIME } from './auth.js';
import { nativeModuleHint } from './native.js';

function exitWith(message: string): never {
  console.error(`Cannot start the demo store: ${message}`);
  process.exit(1);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One shell word, whatever `value` holds. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

let config: StoreConfig;
let store: Store;
try {
  config = readConfig();
  store = createStore(config);
} catch (error) {
  exitWith(nativeModuleHint(error) ?? messageOf(error));
}
// With WEBHOOK_QUEUE=redis, a store that cannot reach Redis stops here rather than hold every change in memory.
await waitForQueue(store).catch((error: unknown) => {
  store.close();
  exitWith(messageOf(error));
});

/** The lines that tell how to authenticate, and the curl option that does it. */
async function credentials(generated: string): Promise<{ lines: string[]; curl: string }> {
  const { auth } = config;
  const key = store.apiKey;
  switch (auth.method) {
    case 'api-key':
      return {
        lines: ['auth         api-key: HiWelink sends X-API-Key', `API key      ${key}${generated}`],
        curl: `-H ${shellQuote(`X-API-Key: ${key}`)}`,
      };
    case 'bearer':
      return {
        lines: [
          'auth         bearer: HiWelink sends Authorization: Bearer <token>',
          `token        ${key}${generated}`,
        ],
        curl: `-H ${shellQuote(`Authorization: Bearer ${key}`)}`,
      };
    case 'basic':
      return {
        lines: [
          'auth         basic: HiWelink sends Authorization: Basic <user:password>',
          `user         ${auth.username}`,
          `password     ${key}${generated}`,
        ],
        curl: `-u ${shellQuote(`${auth.username}:${key}`)}`,
      };
    case 'jwt': {
      const token = await signToken(auth.secret);
      return {
        lines: [
          'auth         jwt: HiWelink sends Authorization: Bearer <JWT>, HS256 with HIWELINK_JWT_SECRET, exp required',
          `sample JWT   ${token}`,
          `             (expires in ${TOKEN_LIFETIME}; give HiWelink a token signed with the same secret)`,
        ],
        curl: `-H ${shellQuote(`Authorization: Bearer ${token}`)}`,
      };
    }
  }
}

const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.timeouts;
const server = createServer(
  {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    // Node checks both limits on a timer, every 30 s by default: at most 1 s here, so a slow
    // client is closed close to its deadline.
    connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs),
  },
  store.app,
);
server.keepAliveTimeout = keepAliveTimeoutMs;

/** What to change when the store cannot listen, naming the variable at fault. */
function listenProblem(error: NodeJS.ErrnoException): string {
  const { port, host } = config;
  if (error.code === 'EADDRINUSE')
    return `PORT ${port} is in use on ${host}: set PORT to a free port, or 0 for any`;
  if (error.code === 'EACCES') return `PORT ${port} needs privileges: use a port above 1023`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return `HOST '${host}' is not an address of this machine: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`;
  return `cannot listen on ${host}:${port}: ${messageOf(error)}`;
}

server.once('error', (error: NodeJS.ErrnoException) => {
  store.close();
  exitWith(listenProblem(error));
});

/** A URL (Redis, the webhook receiver) without its password, for printing. */
function redact(url: string): string {
  const parsed = new URL(url); // readConfig checked it
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/** Whether the admin API's changes reach HiWelink as webhooks, where they wait, and how to turn them on. */
function webhooksLine(): string {
  const { webhooks, queue } = config;
  if (!store.webhooks.enabled || webhooks.url === undefined) {
    const off =
      'off (set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send changes to HiWelink; HIWELINK_WEBHOOK_SECRET signs them)';
    // Allowed, so that WEBHOOK_QUEUE can be set once while the webhook variables come and go.
    return queue.kind === 'redis' ? `${off}; WEBHOOK_QUEUE=redis has nothing to queue until then` : off;
  }
  const signing =
    webhooks.secret === undefined
      ? 'unsigned (set HIWELINK_WEBHOOK_SECRET to sign them)'
      : 'signed with HIWELINK_WEBHOOK_SECRET';
  const waiting =
    queue.kind === 'redis'
      ? `queued in Redis ${redact(queue.redisUrl)} as '${queue.queueName}'`
      : 'queued in memory (WEBHOOK_QUEUE=redis keeps them in Redis)';
  return `on: admin changes go to ${redact(webhooks.url).replace(/\/+$/, '')}/api/generic-api/webhooks/<HIWELINK_STORE_TOKEN>/..., ${signing}; ${waiting}`;
}

server.listen(config.port, config.host, async () => {
  const { address, family, port } = server.address() as AddressInfo;
  // The address really bound; curl gets a loopback one when that is every interface.
  const bound = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  const everywhere = address === '0.0.0.0' || address === '::';
  const url = everywhere ? `http://${family === 'IPv6' ? '[::1]' : '127.0.0.1'}:${port}` : bound;
  const counts = store.db
    .prepare('SELECT (SELECT COUNT(*) FROM products) AS products, (SELECT COUNT(*) FROM orders) AS orders')
    .get() as { products: number; orders: number };
  const inMemory = config.databaseFile === ':memory:';
  const where = inMemory ? 'in memory, gone at exit' : resolve(config.databaseFile);
  const kept = inMemory ? 'for this run only' : 'once and kept in the database';
  const generated = (variable: string, value: string | undefined) =>
    value === undefined ? `  (generated ${kept}; set ${variable} to choose your own)` : '';
  const { lines, curl } = await credentials(generated('HIWELINK_API_KEY', config.apiKey));
  console.log(`HiWelink demo store listening on ${bound}${everywhere ? ' (every interface)' : ''}`);
  console.log(`  database     ${where} (${counts.products} products, ${counts.orders} orders)`);
  for (const line of lines) console.log(`  ${line}`);
  if (config.strict) console.log('  strict       on: a page with a record HiWelink would skip answers 500');
  console.log(`  webhooks     ${webhooksLine()}`);
  console.log(`  admin token  ${store.adminToken}${generated('ADMIN_TOKEN', config.adminToken)}`);
  console.log(
    `  status page  ${url}${STATUS_PATH}  (in a browser: any user name, the status token as password)`,
  );
  console.log(`  status token ${store.statusToken}${generated('STATUS_TOKEN', config.statusToken)}`);
  console.log('');
  console.log('Try it:');
  console.log(`  curl ${curl} ${shellQuote(`${url}/api/products?page=1&per_page=5`)}`);
  console.log(
    `  npx hiwelink status ${shellQuote(`${url}${STATUS_PATH}`)} --token ${shellQuote(store.statusToken)}`,
  );
});

/**
 * Says what became of the webhooks at close: the memory queue delivers what it can for up to 5 s
 * and lists what is lost; the Redis queue keeps its events for the next start, and only events
 * held in memory while Redis was unreachable are lost.
 */
function closingSummary(closing: Awaited<ReturnType<Store['shutdown']>>): void {
  if ('held' in closing) {
    const { held } = closing;
    if (held.length === 0) {
      console.log('webhooks: queued events stay in Redis for the next start');
      return;
    }
    console.error(`webhooks: ${held.length} event(s) never reached Redis, lost at exit:`);
    for (const { id, event, data } of held)
      console.error(`  ${event} id=${String(data.id)} (webhook-id ${id})`);
    return;
  }
  const { delivered, failed, undelivered } = closing;
  const summary = `webhooks: ${delivered} delivered, ${failed} given up, ${undelivered.length} not delivered`;
  (failed + undelivered.length > 0 ? console.error : console.log)(
    undelivered.length > 0 ? `${summary}, lost at exit:` : summary,
  );
  for (const { id, event, data, attempts } of undelivered) {
    console.error(`  ${event} id=${String(data.id)} (webhook-id ${id}, ${attempts} attempt(s))`);
  }
}

/** Closes the webhook queue (up to 5 s), says what became of its events, then exits. */
async function closeStore() {
  const closing = await store.shutdown(5_000);
  if (store.webhooks.enabled) closingSummary(closing);
  // A delivery still in flight would hold the process open until its own timeout.
  process.exit(0);
}

let stopping = false;
function shutdown(signal: NodeJS.Signals) {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`${signal} received, closing (press Ctrl+C again to force)`);
  server.close(() => void closeStore());
  server.closeIdleConnections();
  // Requests still running get a few seconds to finish; keep-alive sockets would hold close() open.
  setTimeout(() => server.closeAllConnections(), 5_000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
