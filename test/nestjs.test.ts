import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createWebhookEmitter, HiwelinkConfigError } from '@hiwelink/core';
import {
  HIWELINK_WEBHOOKS,
  HiwelinkModule,
  type HiwelinkModuleOptions,
  type HiwelinkWebhooks,
  InjectHiwelinkWebhooks,
} from '@hiwelink/nestjs';
import {
  Controller,
  Get,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runScript } from './support/emitters.js';
import { send } from './support/http-client.js';
import { startReceiver } from './support/receiver.js';

// What the conformance suite does not reach: forRootAsync with options from another provider, the
// webhook emitter injected into a service and closed with the app, and Nest's global prefix. Each
// case runs on both Nest platforms. Decorators are called as the functions they are, so the tests
// need no decorator compiler options.

const KEY = 'sk_test_nestjs_module_0123456789abcdef';
const TOKEN = 'whsec_nestjs_module_test_token';
const quiet = { warn() {}, error() {} };
const catalog: Array<{ id: string; name: string; slug?: string }> = [
  { id: '1', name: 'Blue Hoodie', slug: 'blue-hoodie' },
];
const list = () => ({ items: catalog, total: catalog.length });
/** The options every module here starts from. */
const base = { products: list, orders: list, auth: { apiKey: KEY } };

/** A stand-in for @nestjs/config's ConfigService: an injectable that answers get(key). */
class ConfigService {
  readonly values: Record<string, string> = { HIWELINK_API_KEY: KEY, BASE_PATH: '/hw' };
  get(key: string): string | undefined {
    return this.values[key];
  }
}
Injectable()(ConfigService);
class ConfigModule {}
Module({ providers: [ConfigService], exports: [ConfigService] })(ConfigModule);

/** A service of the app that writes a product, then emits its event. */
class ProductsService {
  constructor(readonly webhooks: HiwelinkWebhooks) {}
  create(product: { id: string; name: string }) {
    catalog.push(product);
    return this.webhooks.productCreated(product);
  }
}
Injectable()(ProductsService);
InjectHiwelinkWebhooks()(ProductsService, undefined, 0);

class ProductsController {
  constructor(readonly service: ProductsService) {}
  hello() {
    return 'mine';
  }
}
Inject(ProductsService)(ProductsController, undefined, 0);
const hello = Object.getOwnPropertyDescriptor(ProductsController.prototype, 'hello') as PropertyDescriptor;
Get('hello')(ProductsController.prototype, 'hello', hello);
Controller()(ProductsController);

const platforms = [
  { name: 'express', adapter: () => new ExpressAdapter() },
  { name: 'fastify', adapter: () => new FastifyAdapter() },
];

describe.each(platforms)('HiwelinkModule on Nest ($name)', ({ adapter }) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** Creates the app with `hiwelink` imported; `configure` runs before listening. */
  async function start(
    hiwelink: ReturnType<typeof HiwelinkModule.forRoot>,
    configure?: (app: INestApplication) => void,
  ) {
    class AppModule {}
    Module({ imports: [hiwelink], controllers: [ProductsController], providers: [ProductsService] })(
      AppModule,
    );
    const app = await NestFactory.create(AppModule as Type, adapter(), {
      logger: false,
      abortOnError: false,
    });
    configure?.(app);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await app.close();
    };
    cleanup.push(close);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { app, url: `http://127.0.0.1:${port}`, close };
  }

  it('takes its options from forRootAsync, with a config provider injected', async () => {
    const { url } = await start(
      HiwelinkModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          products: list,
          orders: list,
          auth: { apiKey: config.get('HIWELINK_API_KEY') ?? '' },
          basePath: config.get('BASE_PATH'),
          webhooks: { logger: quiet },
        }),
      }),
    );
    const page = (await send(`${url}/hw/api/products`, { headers: { 'x-api-key': KEY } })).json() as {
      data: Array<{ name: string }>;
    };
    expect(page.data[0]?.name).toBe('Blue Hoodie');
    expect((await send(`${url}/hw/api/products`)).status).toBe(401);
    expect((await send(`${url}/hello`)).body).toBe('mine');
  });

  it('rejects app.listen() with the kit error when forRootAsync gives bad options', async () => {
    const failed = start(
      HiwelinkModule.forRootAsync({
        useFactory: () => ({
          ...base,
          basePath: 'no-slash',
          webhooks: { logger: quiet },
        }),
      }),
    );
    await expect(failed).rejects.toThrow(HiwelinkConfigError);
    await expect(failed).rejects.toThrow(/basePath/);
    // With a global prefix too, the basePath is judged as given.
    const prefixed = start(
      HiwelinkModule.forRoot({
        ...base,
        basePath: 'v2',
        webhooks: { logger: quiet },
      }),
      (app) => app.setGlobalPrefix('v1'),
    );
    await expect(prefixed).rejects.toThrow(/basePath: must be '' or start with '\/'/);
    const badTimeout = start(
      HiwelinkModule.forRoot({
        ...base,
        webhooksCloseTimeoutMs: -1,
      }),
    );
    await expect(badTimeout).rejects.toThrow(/webhooksCloseTimeoutMs: must be a number of milliseconds/);
  });

  it('serves under the global prefix, and lists the prefixed paths in its OpenAPI document', async () => {
    const { url } = await start(
      HiwelinkModule.forRoot({
        ...base,
        openapiPath: '/openapi.json',
        webhooks: { logger: quiet },
      }),
      (app) => app.setGlobalPrefix('v1'),
    );
    const headers = { 'x-api-key': KEY };
    expect((await send(`${url}/v1/health`, { headers })).status).toBe(200);
    expect((await send(`${url}/health`, { headers })).status).toBe(404);
    expect((await send(`${url}/v1/hello`)).body).toBe('mine');
    const document = (await send(`${url}/v1/openapi.json`, { headers })).json() as { paths: object };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/health', '/v1/api/products', '/v1/api/orders']),
    );
  });

  it('injects the emitter into a service, and delivers what it emitted before app.close()', async () => {
    // Emitted right before close: the delivery is still on its way when app.close() is called.
    const receiver = await startReceiver();
    cleanup.push(receiver.close);
    const { app, close } = await start(
      HiwelinkModule.forRoot({
        ...base,
        webhooks: { url: receiver.url, storeToken: TOKEN, logger: quiet },
      }),
    );
    const service = app.get(ProductsService);
    const webhooks = app.get<HiwelinkWebhooks>(HIWELINK_WEBHOOKS);
    expect(service.webhooks).toBe(webhooks);
    expect(service.create({ id: '2', name: 'Red Scarf' })).toBe(true);
    await close();
    expect(receiver.delivered().map((entry) => [entry.body.event, entry.body.data.name])).toEqual([
      ['product.created', 'Red Scarf'],
    ]);
    // Closed: nothing queued or running, and a later event is refused.
    expect(service.create({ id: '3', name: 'Late' })).toBe(false);
  });

  it('says nothing of webhooks at startup when they are left out, and says it once when the app emits', async () => {
    // Nothing in the environment either: webhooks are likely not wanted, and a warning at every
    // start would be noise. A service that emits hears why nothing is sent, once.
    vi.stubEnv('HIWELINK_WEBHOOK_URL', '');
    vi.stubEnv('HIWELINK_STORE_TOKEN', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    cleanup.push(async () => {
      warn.mockRestore();
      vi.unstubAllEnvs();
    });
    const { app, url, close } = await start(HiwelinkModule.forRoot(base));
    expect((await send(`${url}/health`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    const webhooks = app.get<HiwelinkWebhooks>(HIWELINK_WEBHOOKS);
    expect(warn).not.toHaveBeenCalled();
    expect(app.get(ProductsService).create({ id: '4', name: 'Unsent' })).toBe(false);
    expect(webhooks.orderCreated({ id: '1003' })).toBe(false);
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
      '[hiwelink] webhooks are off: set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send them',
    ]);
    await close();
    catalog.pop();
  });

  it('tells at startup, as before, when the environment asks for webhooks it cannot send', async () => {
    vi.stubEnv('HIWELINK_WEBHOOK_URL', 'ftp://hooks.example');
    vi.stubEnv('HIWELINK_STORE_TOKEN', TOKEN);
    cleanup.push(async () => {
      vi.unstubAllEnvs();
    });
    await expect(start(HiwelinkModule.forRoot(base))).rejects.toThrow(
      /webhook URL must start with http:\/\/ or https:\/\/, got 'ftp:\/\/hooks.example'/,
    );
  });

  it('names the fix when a forRootAsync factory returns no options', async () => {
    const failed = start(
      HiwelinkModule.forRootAsync({
        // A factory written with braces and no return, as JavaScript lets it be.
        useFactory: (() => {}) as unknown as () => HiwelinkModuleOptions,
      }),
    );
    await expect(failed).rejects.toThrow(HiwelinkConfigError);
    await expect(failed).rejects.toThrow(/options are undefined; .*must return, an object/);
  });

  it('takes its options from a useClass or useExisting provider, by its create()', async () => {
    class HiwelinkConfig {
      create(): HiwelinkModuleOptions {
        return { products: list, orders: list, auth: { apiKey: KEY }, basePath: '/c' };
      }
    }
    Injectable()(HiwelinkConfig);
    class HiwelinkConfigModule {}
    Module({ providers: [HiwelinkConfig], exports: [HiwelinkConfig] })(HiwelinkConfigModule);
    for (const hiwelink of [
      HiwelinkModule.forRootAsync({ useClass: HiwelinkConfig }),
      HiwelinkModule.forRootAsync({ imports: [HiwelinkConfigModule], useExisting: HiwelinkConfig }),
    ]) {
      const { url, close } = await start(hiwelink);
      expect((await send(`${url}/c/health`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
      expect((await send(`${url}/c/health`)).status).toBe(401);
      await close();
    }
  });

  it('closes an emitter it was given on app.close(), reporting what it could not deliver', async () => {
    const failures: string[] = [];
    // Nothing listens here: the event cannot be delivered, and close() reports it.
    const emitter = createWebhookEmitter(
      {
        url: 'http://127.0.0.1:9',
        storeToken: TOKEN,
        retryDelaysMs: [60_000],
        logger: quiet,
        onFailure: (failure) => failures.push(`${failure.event}: ${failure.reason}`),
      },
      {},
    );
    const { app, close } = await start(
      HiwelinkModule.forRoot({
        ...base,
        webhooks: emitter,
        webhooksCloseTimeoutMs: 300,
      }),
    );
    expect(app.get(ProductsService).webhooks).toBe(emitter);
    emitter.orderCreated({ id: '1001', status: 'pending' });
    const closing = Date.now();
    await close();
    expect(Date.now() - closing).toBeLessThan(5_000);
    expect(emitter.orderCreated({ id: '1002', status: 'pending' })).toBe(false);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^order\.created: /);
  });
});

describe('HiwelinkModule with enableShutdownHooks()', () => {
  const CHILD = fileURLToPath(new URL('./support/nestjs-shutdown-child.mjs', import.meta.url));

  it('delivers what was emitted when SIGTERM stops the app, then lets the process end', async () => {
    const receiver = await startReceiver();
    try {
      const result = await runScript(CHILD, { url: receiver.url, events: 3 }, 10_000);
      // Nest re-raises the signal once its hooks have run: the process ends by SIGTERM, not a kill.
      expect(result).toMatchObject({ signal: 'SIGTERM', stdout: [] });
      expect(receiver.delivered().map((entry) => entry.body.data.id)).toEqual(['1', '2', '3']);
    } finally {
      await receiver.close();
    }
  });

  it('reports what it could not deliver within webhooksCloseTimeoutMs', async () => {
    const probe = await startReceiver();
    await probe.close();
    const started = Date.now();
    const result = await runScript(CHILD, { url: probe.url, events: 2 }, 10_000);
    expect(result).toMatchObject({ signal: 'SIGTERM' });
    expect(result.stdout).toEqual([{ onFailure: '1' }, { onFailure: '2' }]);
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
