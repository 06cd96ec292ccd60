// A script that emits webhooks and ends, as a backfill or import script would. Configured by the
// HIWELINK_CHILD environment variable (JSON): `url` of the receiver, `events` to emit, and `end`:
// 'fall-off' (the script just ends), 'exit' (process.exit(0) at once) or 'close' (awaits close()).
import { createWebhookEmitter } from '../../packages/core/dist/index.js';

const config = JSON.parse(process.env.HIWELINK_CHILD ?? '{}');
const webhooks = createWebhookEmitter(
  {
    url: config.url,
    storeToken: 'tok',
    retryDelaysMs: [60_000],
    onFailure: (failure) =>
      console.log(JSON.stringify({ onFailure: failure.data.id, reason: failure.reason })),
  },
  {},
);
for (let id = 1; id <= config.events; id++) webhooks.productUpdated({ id, name: `product ${id}` });
if (config.end === 'exit') process.exit(0);
if (config.end === 'close') {
  const report = await webhooks.close(1000);
  console.log(JSON.stringify({ undelivered: report.undelivered.length }));
}
