import type { AddressInfo } from 'node:net';
import { createStore, readConfig, type Store, type StoreConfig } from './app.js';

/** A connection string without its password, for printing. */
function redact(url: string) {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

let config: StoreConfig;
let store: Store;
try {
  config = readConfig();
  store = await createStore(config);
  await store.app.listen({ port: config.port, host: config.host }).catch(async (error) => {
    await store.close();
    throw new Error(listenProblem(error, config));
  });
} catch (error) {
  console.error(`Cannot start the store: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/** What to change when the store cannot listen, naming the variable at fault. */
function listenProblem(error: NodeJS.ErrnoException, { port, host }: StoreConfig): string {
  if (error.code === 'EADDRINUSE')
    return `PORT ${port} is in use on ${host}: set PORT to a free port, or 0 for any`;
  if (error.code === 'EACCES') return `PORT ${port} needs privileges: use a port above 1023`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return `HOST '${host}' is not an address of this machine: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`;
  return `cannot listen on ${host}:${port}: ${error.message}`;
}

const { address, family, port } = store.app.server.address() as AddressInfo;
// The address really bound; the curl lines get a loopback one when that is every interface.
const bound = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
const everywhere = address === '0.0.0.0' || address === '::';
const url = everywhere ? `http://${family === 'IPv6' ? '[::1]' : '127.0.0.1'}:${port}` : bound;
const [products, orders] = await Promise.all([
  store.sequelize.model('Product').count(),
  store.sequelize.model('Order').count(),
]);
const webhooks = store.webhooks.enabled
  ? `on: queued in ${redact(config.redisUrl)} as '${config.queueName}', sent to ${redact(config.webhookUrl ?? '')}`
  : 'off (set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send changes to HiWelink)';

console.log(
  `HiWelink example store (Fastify + PostgreSQL) listening on ${bound}${everywhere ? ' (every interface)' : ''}`,
);
console.log(
  `  database  ${redact(config.databaseUrl)}, schema ${config.schema} (${products} products, ${orders} orders)`,
);
const digest = config.apiKey.startsWith('sha256:')
  ? ', a digest: HiWelink sends the key it was made from'
  : '';
console.log(`  API key   ${config.apiKey}  (HiWelink sends it in X-API-Key${digest})`);
console.log(`  webhooks  ${webhooks}`);
console.log(
  `  admin     ${config.adminToken ? `${url}/admin/products, Authorization: Bearer $ADMIN_TOKEN` : 'off (set ADMIN_TOKEN)'}`,
);
console.log('');
console.log(`Try it:  curl -H "X-API-Key: $HIWELINK_API_KEY" '${url}/api/products?page=1&per_page=5'`);

let stopping = false;
async function shutdown(signal: NodeJS.Signals) {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`${signal} received, closing (queued webhooks stay in Redis; Ctrl+C again to force)`);
  await store.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
