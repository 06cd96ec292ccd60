// A separate process running the built in-memory emitter on records holding values as database
// drivers return them, so that an unhandled rejection (which ends a Node process) is observable as
// the exit code. Configured by HIWELINK_CHILD (JSON: { url, storeToken }); prints one JSON line
// with what each emit returned and what close() reported, then exits 0.
import { createWebhookEmitter } from '../../packages/core/dist/index.js';

const config = JSON.parse(process.env.HIWELINK_CHILD ?? '{}');
const warnings = [];
const emitter = createWebhookEmitter(
  {
    url: config.url,
    storeToken: config.storeToken,
    retryDelaysMs: [],
    mapping: { products: { passthrough: true }, orders: { passthrough: true } },
    logger: {
      warn: (_details, message) => warnings.push(message),
      error: (_details, message) => warnings.push(message),
    },
  },
  {},
);

const cyclic = { name: 'parent' };
cyclic.self = cyclic;
const emitted = [
  // The record: Prisma BigInt columns, pg int8 as BigInt, better-sqlite3 safeIntegers.
  emitter.productUpdated({ id: 42n, name: 'Mug', brand: { id: 5n } }),
  emitter.productCreated({ id: 43n, name: 'Jug', weight_grams: 2n ** 64n, tree: cyclic }),
  emitter.orderCreated({ id: 9007199254740993n, total: 12n, lines: [{ sku: 'MUG', qty: 1n }] }),
];
const report = await emitter.close(10_000);
console.log(JSON.stringify({ emitted, delivered: report.delivered, failed: report.failed, warnings }));
