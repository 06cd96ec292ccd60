import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createHiwelink,
  createWebhookEmitter,
  HiwelinkConfigError,
  type HiwelinkOptions,
  toCoreRequest,
  type WebhookEmitter,
  type WebhookEmitterOptions,
  type WebhookEvents,
} from '@hiwelink/core';
import {
  ConfigurableModuleBuilder,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  RequestMethod,
} from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';

export type { HiwelinkOptions } from '@hiwelink/core';

/**
 * An emitter the module can hand to your services and close at shutdown: the in-memory one
 * (`createWebhookEmitter` from `@hiwelink/core`) or the durable one
 * (`createDurableWebhookEmitter` from `@hiwelink/webhooks-bullmq`).
 */
export interface HiwelinkWebhooks<Product = unknown, Order = unknown>
  extends WebhookEvents<Product, Order, unknown> {
  /** Delivers or reports what is still queued; awaited when the application shuts down. */
  close(timeoutMs?: number): Promise<unknown>;
}

/** `HiwelinkModule.forRoot()`'s options: the kit's, plus the webhook emitter. */
export interface HiwelinkModuleOptions<Product = unknown, Order = unknown>
  extends HiwelinkOptions<Product, Order> {
  /**
   * The emitter injected with `@InjectHiwelinkWebhooks()`: an emitter you made (in-memory or
   * BullMQ), or options for the in-memory one (`createWebhookEmitter`'s, which reads
   * `HIWELINK_WEBHOOK_URL`, `HIWELINK_STORE_TOKEN` and `HIWELINK_WEBHOOK_SECRET` by default). Either is closed on application
   * shutdown (`app.close()`, or a signal after `app.enableShutdownHooks()`), after the HTTP server
   * has stopped, so what requests emitted is delivered or reported. @default {} (the in-memory
   * emitter from the environment; a no-op when no URL is set, made at the first event when neither
   * `HIWELINK_WEBHOOK_URL` nor `HIWELINK_STORE_TOKEN` is set, so that its "webhooks are off"
   * warning comes once, from the code that emits, not at every start)
   */
  webhooks?: WebhookEmitterOptions<Product, Order> | HiwelinkWebhooks<Product, Order>;
  /**
   * Milliseconds the emitter's `close()` gets at shutdown to deliver what is queued before it
   * reports the rest as undelivered (0 or more; `Infinity` waits as long as it takes). Keep it
   * under your platform's kill grace period (Kubernetes: 30 s). @default 30000
   */
  webhooksCloseTimeoutMs?: number;
}

/** The injection token of the webhook emitter; `@InjectHiwelinkWebhooks()` is `@Inject()` with it. */
export const HIWELINK_WEBHOOKS = Symbol('HIWELINK_WEBHOOKS');

/** Injects the module's webhook emitter (a `HiwelinkWebhooks`) into a constructor parameter. */
export const InjectHiwelinkWebhooks = (): ParameterDecorator => Inject(HIWELINK_WEBHOOKS);

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<HiwelinkModuleOptions>({
    moduleName: 'Hiwelink',
  })
    .setClassMethodName('forRoot')
    // Global by default, so a service in any module can inject the emitter without importing it.
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

const isEmitter = (value: HiwelinkModuleOptions['webhooks']): value is HiwelinkWebhooks =>
  typeof (value as HiwelinkWebhooks | undefined)?.close === 'function';

/** Closes the emitter once the server has stopped (Nest calls onApplicationShutdown after that). */
@Injectable()
class WebhooksShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(HIWELINK_WEBHOOKS) private readonly webhooks: HiwelinkWebhooks,
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: HiwelinkModuleOptions,
  ) {}

  async onApplicationShutdown() {
    await this.webhooks.close(this.options.webhooksCloseTimeoutMs);
  }
}

/**
 * The in-memory emitter from the environment, made at its first use rather than at startup: left
 * out with nothing set in the environment, `webhooks` are likely not wanted, and the emitter's
 * "webhooks are off" warning on every start would only be noise. A service that emits gets it
 * then, once, with the variables to set. Closing it unmade reports nothing undelivered.
 */
function lazyEmitter(): WebhookEmitter {
  let made: WebhookEmitter | undefined;
  let closed = false;
  // After close(), an event still reaches an emitter, a closed one, which says it was not sent.
  const emitter = () => {
    if (made) return made;
    made = createWebhookEmitter();
    if (closed) void made.close(0);
    return made;
  };
  const events: Array<keyof WebhookEvents> = [
    'productCreated',
    'productUpdated',
    'productDeleted',
    'orderCreated',
    'orderUpdated',
    'orderDeleted',
    'requestSync',
  ];
  const emit = Object.fromEntries(
    events.map((name) => [
      name,
      (entity?: unknown) => (emitter()[name] as (entity: unknown) => boolean)(entity),
    ]),
  ) as unknown as WebhookEvents;
  return {
    ...emit,
    get enabled() {
      return emitter().enabled;
    },
    stats: () => made?.stats() ?? { queued: 0, inFlight: 0, delivered: 0, failed: 0 },
    flush: async (timeoutMs?: number) => (made ? made.flush(timeoutMs) : { remaining: 0 }),
    // The status page reading them wants webhooks: the emitter is made then, as `enabled` makes it.
    activity: (options) => emitter().activity(options),
    resend: (id) => emitter().resend(id),
    close: async (timeoutMs?: number) => {
      closed = true;
      return made
        ? made.close(timeoutMs)
        : { queued: 0, inFlight: 0, delivered: 0, failed: 0, undelivered: [] };
    },
  };
}

/**
 * The emitter the options ask for. Options that are not an object (a `forRootAsync` factory that
 * returns nothing) and a bad close timeout are refused here, at startup.
 */
function webhooksFrom(options: HiwelinkModuleOptions | undefined): HiwelinkWebhooks {
  if (typeof options !== 'object' || options === null) {
    throw new HiwelinkConfigError([
      `HiwelinkModule: the options are ${String(options)}; forRoot() takes, and a forRootAsync() ` +
        'factory (or useClass/useExisting create()) must return, an object: { products, orders, ... }',
    ]);
  }
  const { webhooks, webhooksCloseTimeoutMs: timeout } = options;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0)) {
    throw new HiwelinkConfigError([
      `webhooksCloseTimeoutMs: must be a number of milliseconds, 0 or more (or Infinity), not ${String(timeout)}`,
    ]);
  }
  if (isEmitter(webhooks)) return webhooks;
  // Either variable set means webhooks are wanted: made now, so that a bad URL or a missing
  // token is told at startup.
  const unset = !process.env.HIWELINK_WEBHOOK_URL?.trim() && !process.env.HIWELINK_STORE_TOKEN?.trim();
  return webhooks === undefined && unset ? lazyEmitter() : createWebhookEmitter(webhooks);
}

/** `/store/` and `store` as Nest joins a global prefix to a route: `/store`; none is ''. */
const prefixPath = (prefix: string) => (prefix === '' ? '' : `/${prefix.replace(/^\/+|\/+$/g, '')}`);

/**
 * Serves `/health`, `/api/products` and `/api/orders` (or your `paths`, under `basePath`) in a
 * Nest application on either platform, `@nestjs/platform-express` or `@nestjs/platform-fastify`:
 * `imports: [HiwelinkModule.forRoot({ products, orders })]`, or `forRootAsync({ imports, inject,
 * useFactory })` for options from other providers. A global prefix (`app.setGlobalPrefix('v1')`)
 * applies to these paths as to your controllers', and the OpenAPI document lists them with it.
 * Every other request goes on to your routes. Bad options reject `app.init()` / `app.listen()`
 * with a `HiwelinkConfigError` saying what to fix; bad `webhooks` / `webhooksCloseTimeoutMs` fail
 * `NestFactory.create()` with it (Nest aborts the process there unless `abortOnError: false`).
 * Also provides the webhook emitter (see `HiwelinkModuleOptions.webhooks`), global unless
 * `isGlobal: false`.
 */
@Module({
  providers: [
    {
      provide: HIWELINK_WEBHOOKS,
      inject: [MODULE_OPTIONS_TOKEN],
      useFactory: webhooksFrom,
    },
    WebhooksShutdown,
  ],
  exports: [HIWELINK_WEBHOOKS],
})
export class HiwelinkModule extends ConfigurableModuleClass implements NestModule {
  constructor(
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: HiwelinkModuleOptions,
    @Inject(ApplicationConfig) private readonly config: ApplicationConfig,
  ) {
    super();
  }

  /** Called by Nest in `app.init()`, after `setGlobalPrefix()`, so the prefix is known here. */
  configure(consumer: MiddlewareConsumer) {
    const { webhooks: _, webhooksCloseTimeoutMs: __, ...options } = this.options;
    const prefix = prefixPath(this.config.getGlobalPrefix());
    const own = options.basePath;
    // Joined to the prefix only when it is a path: anything else goes to core as given, which
    // names it ('v2' after '/v1' would otherwise pass as '/v1v2').
    const joins = own === undefined || own === '' || (typeof own === 'string' && own.startsWith('/'));
    const kit = createHiwelink({ ...options, basePath: joins ? `${prefix}${own ?? ''}` : own });
    const serve = (
      request: IncomingMessage & { originalUrl?: string },
      response: ServerResponse,
      next: (error?: unknown) => void,
    ) => {
      // Express and Nest's Fastify middleware runner both strip a matched mount path from `url`;
      // `originalUrl` keeps the URL as requested, which is what the kit's paths are matched to.
      const url = request.originalUrl ?? request.url ?? '/';
      const end = url.indexOf('?');
      const path = end === -1 ? url : url.slice(0, end);
      if (!kit.owns(path)) {
        next();
        return;
      }
      // The kit answers this request, nothing routes it after: its URL is put back as requested,
      // for the access log and the signal.
      request.url = url;
      kit
        .respond(toCoreRequest(request, response, path), (answer) => {
          response.writeHead(answer.status, answer.headers);
          response.end(answer.body);
        })
        ?.catch(next);
    };
    // Every path (under the global prefix, which Nest adds): the kit decides what is its own.
    consumer.apply(serve).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
