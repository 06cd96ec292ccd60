// A script that emits to the durable emitter while Redis is unreachable, then exits at once
// (process.exit) or awaits close(). Configured by HIWELINK_CHILD (JSON): `connection`, `url`,
// `events` and `end` ('exit', 'close', or 'signal': SIGTERM with nothing listening to it).
import { createDurableWebhookEmitter } from '../../packages/webhooks-bullmq/dist/index.js';

const config = JSON.parse(process.env.HIWELINK_CHILD ?? '{}');
const webhooks = createDurableWebhookEmitter(
  {
    url: config.url,
    storeToken: 'tok',
    connection: config.connection,
    queueName: 'hiwelink-exit-child',
    worker: false,
    onFailure: (failure) =>
      console.log(JSON.stringify({ onFailure: failure.data.id, reason: failure.reason })),
  },
  {},
);
for (let id = 1; id <= config.events; id++) {
  console.log(
    JSON.stringify({ emitted: id, stored: await webhooks.productUpdated({ id, name: `product ${id}` }) }),
  );
}
if (config.end === 'exit') process.exit(0);
if (config.end === 'signal') process.kill(process.pid, 'SIGTERM');
else {
  const report = await webhooks.close(500);
  console.log(JSON.stringify({ held: report.held.length }));
}
