// A script that emits webhooks and ends, as a backfill or import script would. Configured by the
// HIWELINK_CHILD environment variable (JSON): `url` of the receiver, `events` to emit, and `end`:
// 'fall-off' (the script just ends), 'exit' (process.exit(0) at once), 'close' (awaits close()),
// 'signal' (SIGTERM, nothing listening) or 'signal-handled' (SIGTERM to its own handler, which
// awaits close() and exits). `retryDelaysMs` overrides the schedule (default one retry at 60 s).
import { createWebhookEmitter } from '../../packages/core/dist/index.js';

const config = JSON.parse(process.env.HIWELINK_CHILD ?? '{}');
const webhooks = createWebhookEmitter(
  {
    url: config.url,
    storeToken: 'tok',
    retryDelaysMs: config.retryDelaysMs ?? [60_000],
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
if (config.end === 'signal-handled') {
  process.on('SIGTERM', async () => {
    const report = await webhooks.close(1000);
    console.log(JSON.stringify({ undelivered: report.undelivered.length }));
    process.exit(0);
  });
}
if (config.end?.startsWith('signal')) {
  setInterval(() => {}, 1000); // a server would keep it running
  process.kill(process.pid, 'SIGTERM');
}
