// A Nest app with HiwelinkModule and `enableShutdownHooks()` that emits webhooks and then gets
// SIGTERM, as a container being stopped does. Configured by HIWELINK_CHILD (JSON): `url` of the
// receiver and `events` to emit. Prints each event given up (onFailure) as a JSON line.

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HIWELINK_WEBHOOKS, HiwelinkModule } from '../../packages/nestjs/dist/index.js';

const config = JSON.parse(process.env.HIWELINK_CHILD ?? '{}');
const list = () => ({ items: [], total: 0 });
class AppModule {}
Module({
  imports: [
    HiwelinkModule.forRoot({
      products: list,
      orders: list,
      auth: { apiKey: 'sk_test_nestjs_shutdown_0123456789' },
      webhooks: {
        url: config.url,
        storeToken: 'tok',
        retryDelaysMs: [60_000],
        onFailure: (failure) => console.log(JSON.stringify({ onFailure: failure.data.id })),
      },
      webhooksCloseTimeoutMs: 500,
    }),
  ],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
const webhooks = app.get(HIWELINK_WEBHOOKS);
for (let id = 1; id <= config.events; id++) webhooks.productUpdated({ id, name: `product ${id}` });
process.kill(process.pid, 'SIGTERM');
