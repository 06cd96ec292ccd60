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
  await store.app.listen({ port: config.port, host: '0.0.0.0' });
} catch (error) {
  console.error(`Cannot start the store: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const { port } = store.app.server.address() as AddressInfo;
const url = `http://127.0.0.1:${port}`;
const [products, orders] = await Promise.all([
  store.sequelize.model('Product').count(),
  store.sequelize.model('Order').count(),
]);
const webhooks = store.webhooks.enabled
  ? `on: queued in ${redact(config.redisUrl)} as '${config.queueName}', sent to ${config.webhookUrl}`
  : 'off (set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send changes to HiWelink)';

console.log(`HiWelink example store (Fastify + PostgreSQL) listening on ${url}`);
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
