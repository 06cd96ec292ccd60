// A separate process running the built durable emitter, for the crash and multi-worker tests.
// Configured by the HIWELINK_CHILD environment variable (JSON); it emits `events` (if any), prints
// one JSON line when they are all queued, and keeps delivering until it is killed or sent SIGTERM.
import axios from 'axios';
import { createDurableWebhookEmitter } from '../../packages/webhooks-bullmq/dist/index.js';

const config = JSON.parse(process.env.HIWELINK_CHILD ?? '{}');
const emitter = createDurableWebhookEmitter(
  {
    url: config.url,
    storeToken: config.storeToken,
    secret: config.secret,
    connection: config.connection,
    queueName: config.queueName,
    concurrency: config.concurrency,
    retryDelaysMs: config.retryDelaysMs,
    jitter: 0,
    timeoutMs: config.timeoutMs,
    lockDurationMs: config.lockDurationMs,
    mapping: { products: { passthrough: ['seq'] } },
    // Tells the receiver which process sent each request.
    http: axios.create({ headers: { 'x-test-worker': config.name } }),
    logger: { warn() {}, error: (_details, message) => console.error(`[${config.name}] ${message}`) },
  },
  {},
);

for (const product of config.events ?? []) {
  if (!(await emitter.productUpdated(product))) {
    console.error(`[${config.name}] product ${product.id} was not queued`);
    process.exit(1);
  }
}
console.log(JSON.stringify({ ready: true, emitted: config.events?.length ?? 0 }));

process.on('SIGTERM', () => {
  emitter.close(5000).then(() => process.exit(0));
});
