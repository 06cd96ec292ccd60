import {
  ADDRESS_OPTIONS,
  type CoreRequest,
  createHiwelink,
  HiwelinkConfigError,
  type HiwelinkOptions,
} from '@hiwelink/core';

export type { HiwelinkOptions } from '@hiwelink/core';

/** The kit's options, plus what a fetch `Request` cannot tell: who is calling. */
export interface FetchHandlerOptions<Product = unknown, Order = unknown, Context = unknown>
  extends HiwelinkOptions<Product, Order> {
  /**
   * The address of the peer that connected (not a forwarded one: `trustProxy` reads
   * `X-Forwarded-For` from it), since a `Request` does not carry it. `context` is the handler's
   * second argument as the platform passes it. Per platform:
   * Hono on Node or Bun: `(request, c: Context) => getConnInfo(c).remote.address` (from
   * `@hono/node-server/conninfo` or `hono/bun`); Bun: `(request, server) => server.requestIP(request)?.address`;
   * Deno: `(request, info) => info.remoteAddr.hostname`; Cloudflare Workers, where the edge is the
   * peer: `(request) => request.headers.get('cf-connecting-ip') ?? undefined`.
   * Required by `allowIps`, `trustProxy` and `rateLimit`, which are refused without it. Without it
   * the access log's `ip` is `''`. A function that throws answers 500 (on `/health` too) and is
   * logged once as clientAddress's failure; the access log then gets `ip: ''`.
   * @default none
   */
  clientAddress?: (request: Request, context: Context) => string | undefined;
}

/**
 * `(request, context?) => Promise<Response>`: Next.js route handlers, Hono, Bun, Deno, Workers and
 * Elysia's `.mount` call it. `context` is required only when `clientAddress` needs it.
 */
export type FetchHandler<Context = unknown> = ((
  request: Request,
  ...context: unknown extends Context ? [context?: Context] : [context: Context]
) => Promise<Response>) & {
  /** The paths served (with `basePath`), e.g. to register one route each in Hono. */
  readonly paths: readonly string[];
};

/** What was passed instead of a Request, for the TypeError. */
function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  const name = value.constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** Core's request over a fetch `Request`; the address is asked for only when core needs it. */
class FetchRequest implements CoreRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly secure: boolean;
  readonly signal: AbortSignal;
  readonly #address: () => string | undefined;

  constructor(request: Request, url: URL, address: () => string | undefined) {
    this.method = request.method;
    this.path = url.pathname;
    this.query = url.search.slice(1);
    // A Headers object already has lower-case names and joins repeated fields with ', '.
    this.headers = Object.fromEntries(request.headers);
    // The scheme is what the runtime saw: Node's servers, Bun and Deno write https for a TLS
    // connection, Workers for a visitor who used https.
    this.secure = url.protocol === 'https:';
    this.signal = request.signal;
    this.#address = address;
  }

  get remoteAddress(): string | undefined {
    return this.#address();
  }
}

/**
 * Serves `/health`, `/api/products` and `/api/orders` (or your `paths`, under `basePath`) as a
 * fetch-standard handler: `(request: Request, context?) => Promise<Response>`. A path it does not
 * serve gets the kit's `404 {"code":"not_found"}`, before any auth; register it on its `paths`
 * only (Next.js route files, Hono's `app.all(path, ...)`) to leave the others to your app. HEAD
 * answers carry the GET answer's headers and no body. For a `Request`, the returned promise never
 * rejects; anything else as the first argument (a Hono `Context`, say) rejects with a `TypeError`
 * naming the fix.
 * Throws `HiwelinkConfigError` here, at startup, when the options cannot work, including
 * `allowIps`, `trustProxy` or `rateLimit` without `clientAddress`. (`next build` loads route
 * modules, so under Next.js this also runs, and may throw, at build time.)
 */
export function createFetchHandler<Product, Order, Context = unknown>(
  options: FetchHandlerOptions<Product, Order, Context>,
): FetchHandler<Context> {
  const { clientAddress, ...kitOptions } = options ?? ({} as FetchHandlerOptions<Product, Order, Context>);
  const problems: string[] = [];
  if (clientAddress !== undefined && typeof clientAddress !== 'function') {
    problems.push('clientAddress: must be a function (request, context) => string | undefined');
  } else if (clientAddress === undefined) {
    for (const [option, does] of Object.entries(ADDRESS_OPTIONS)) {
      const value = kitOptions[option as keyof typeof ADDRESS_OPTIONS];
      if (value === undefined || value === false) continue;
      problems.push(
        `${option}: ${does}, and a fetch Request carries no client address: add clientAddress: (request, context) => address, e.g. Hono's getConnInfo(c).remote.address or Bun's server.requestIP(request)?.address`,
      );
    }
  }
  let kit: ReturnType<typeof createHiwelink> | undefined;
  try {
    kit = createHiwelink(kitOptions as HiwelinkOptions);
  } catch (error) {
    if (!(error instanceof HiwelinkConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !kit) throw new HiwelinkConfigError(problems);
  const { handle } = kit;
  const handler = async (request: Request, context?: Context) => {
    // A wiring bug, not a request: `app.all(path, hiwelink)` in Hono hands over its Context.
    if (typeof request?.url !== 'string' || typeof request.headers?.entries !== 'function') {
      throw new TypeError(
        `the @hiwelink/fetch handler takes a fetch Request, got ${describe(request)}; under Hono pass c.req.raw: (c) => hiwelink(c.req.raw, c)`,
      );
    }
    const url = new URL(request.url);
    const address = () => clientAddress?.(request, context as Context);
    const answer = await handle(new FetchRequest(request, url, address));
    return new Response(request.method === 'HEAD' ? null : answer.body, {
      status: answer.status,
      headers: answer.headers,
    });
  };
  return Object.assign(handler, { paths: kit.paths }) as FetchHandler<Context>;
}
