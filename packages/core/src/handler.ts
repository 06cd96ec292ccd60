import { type Admitted, createAdmission } from './access/admission.js';
import type { Client } from './access/client.js';
import { errorResponse, HiwelinkError, jsonHeaders, jsonResponse } from './errors.js';
import type { CoreRequest, CoreResponse } from './http.js';
import { createPageKeys } from './keyset.js';
import type { Logger } from './logger.js';
import { openApiFor } from './openapi.js';
import { type HiwelinkOptions, resolveOptions } from './options.js';
import { type PageMeta, type Pagination, pageMeta, parsePagination } from './pagination.js';
import { dropReporter } from './records/json.js';
import { createRecordMapper } from './records/mapper.js';
import { reviewPage } from './records/page.js';
import { createRecorder, type PageServed, type Recorder } from './status/recorder.js';
import { redactor } from './status/redact.js';
import { createStatusRoute } from './status/route.js';

type Route = 'health' | 'products' | 'orders' | 'openapi' | 'status';

export interface Hiwelink {
  /** Whether `path` is one of ours; adapters let every other path fall through to the host app. */
  owns(path: string): boolean;
  /** Answers a request on one of our paths. Never rejects: every failure becomes a JSON answer. */
  handle(request: CoreRequest): Promise<CoreResponse>;
  /**
   * Hands the answer to `write`: in the same turn when the auth method and the callback are
   * synchronous (an API key and an in-memory or better-sqlite3 repository), as adapters want, else
   * once it is ready, and then returns a promise that settles after `write` (rejecting only if
   * `write` throws).
   */
  respond(request: CoreRequest, write: (response: CoreResponse) => void): undefined | Promise<void>;
  /**
   * The paths served (with `basePath`), for frameworks that register routes up front; such an
   * adapter passes the one its router matched as `CoreRequest.route`.
   */
  readonly paths: readonly string[];
}

const ALLOWED_METHODS = 'GET, HEAD';
/** How often, at most, one kind of page warning is logged per list, in ms. */
const PAGE_WARNING_MS = 10 * 60_000;

const isPromiseLike = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * Calls a store callback with a signal that aborts when the client leaves or `timeoutMs` passes;
 * past the deadline the answer is a 503 whatever the callback does later. A callback that answers
 * synchronously (an in-memory catalogue, better-sqlite3) needs no timer.
 */
function callStore<T>(
  work: (signal: AbortSignal) => T | PromiseLike<T>,
  clientSignal: AbortSignal,
  timeoutMs: number,
): T | Promise<T> {
  const controller = new AbortController();
  const abortWithClient = () => controller.abort(clientSignal.reason);
  // A client already gone has fired its abort event: no listener would hear it.
  if (clientSignal.aborted) abortWithClient();
  clientSignal.addEventListener('abort', abortWithClient, { once: true });
  const unlink = () => clientSignal.removeEventListener('abort', abortWithClient);
  let value: T | PromiseLike<T>;
  try {
    value = work(controller.signal);
  } catch (error) {
    unlink();
    throw error;
  }
  if (!isPromiseLike(value)) {
    unlink();
    return value;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HiwelinkError('callback_timeout', 'The store did not answer in time');
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  return Promise.race([value, deadline]).finally(() => {
    clearTimeout(timer);
    unlink();
  });
}

/**
 * A count as drivers return it: a number, the decimal text node-postgres gives for `COUNT(*)`
 * (int8), or the bigint of Prisma and better-sqlite3's `safeIntegers`. Only a non-negative safe
 * integer (at most 2^53 − 1) is one; anything else is `undefined`.
 */
function toCount(value: unknown): number | undefined {
  const count =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint' || (typeof value === 'string' && /^\d+$/.test(value))
        ? Number(value)
        : undefined;
  return count !== undefined && Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}

/** A returned value as the store's log line shows it: text quoted and cut, a bigint with its `n`. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/** The page a list callback resolved to, or a CallbackContractError naming what was wrong in it. */
function listResult(route: string, value: unknown): { items: unknown[]; total: number } {
  const result =
    typeof value === 'object' && value !== null ? (value as { items?: unknown; total?: unknown }) : {};
  const total = toCount(result.total);
  if (Array.isArray(result.items) && total !== undefined) return { items: result.items, total };
  const wrong = Array.isArray(result.items)
    ? `total was ${shown(result.total)}`
    : typeof value === 'object' && value !== null
      ? `items was ${shown(result.items)}`
      : `it was ${shown(value)}`;
  throw new CallbackContractError(
    `${route} callback must resolve to { items: array, total: non-negative integer }; ${wrong}`,
  );
}

const healthResponse = (healthy: boolean) =>
  jsonResponse(healthy ? 200 : 503, {
    status: healthy ? 'ok' : 'error',
    timestamp: new Date().toISOString(),
  });

/** What one request gathers on its way through: for the access log and the rate-limit headers. */
interface Visit {
  /** Only timed when an access log or the status page needs it. */
  started: number;
  /** What the list page held, for the status page. */
  page?: PageServed;
  /** The logged cause of a 5xx, for the status page. */
  cause?: string;
  /**
   * Resolved on first use: most stores configure nothing that needs the client's address. Throws
   * the same ClientAddressError on every call when the adapter could not read it.
   */
  client: () => Client;
  headers: Record<string, string>;
  credentialId?: string;
}

/** A store bug, reported to the store's logs; the client sees a plain 500. */
class CallbackContractError extends Error {
  override name = 'CallbackContractError';
}

/**
 * The adapter could not tell the client's address (`CoreRequest.remoteAddress` threw: a fetch
 * handler's `clientAddress`). Logged once as what it is, not as the callback's failure; the
 * client sees a plain 500.
 */
class ClientAddressError extends Error {
  override name = 'ClientAddressError';
  reported = false;
}

type Answer = CoreResponse | PromiseLike<CoreResponse>;

/** Creates the framework-free HiWelink handler. Throws `HiwelinkConfigError` on bad options. */
export function createHiwelink(options: HiwelinkOptions): Hiwelink {
  const config = resolveOptions(options);
  // The status page keeps what the crawler did and what the kit logged; without it nothing is kept.
  const recorder = config.status && createRecorder({ tidy: redactor(config.status.secrets) });
  if (recorder) config.logger = journaled(config.logger, recorder);
  const timed = config.accessLog !== undefined || recorder !== undefined;
  const admit = createAdmission(config);
  const mappers = {
    products: createRecordMapper('products', config.mapping.products, config.storeBaseUrl),
    orders: createRecordMapper('orders', config.mapping.orders, config.storeBaseUrl),
  };
  // Keyset continuation: the key of each record, and the last one of each page served recently.
  const keyset = config.keyset && { keyOf: config.keyset, memory: createPageKeys() };
  // A mistyped `fields` path would otherwise be reported on every page of every crawl.
  const reportedPaths = new Set<string>();
  const reportDropped = dropReporter((details, message) => config.logger.warn(details, message));
  const routes = new Map<string, Route>([
    [config.paths.health, 'health'],
    [config.paths.products, 'products'],
    [config.paths.orders, 'orders'],
  ]);
  // The OpenAPI document never changes once the options are resolved: serialized once, here.
  const openapiBody = config.openapiPath === undefined ? '' : JSON.stringify(openApiFor(config));
  const openapiHeaders = jsonHeaders(openapiBody);
  if (config.openapiPath !== undefined) routes.set(config.openapiPath, 'openapi');
  const statusRoute =
    config.status &&
    recorder &&
    createStatusRoute({
      status: config.status,
      setup: {
        paths: {
          ...config.paths,
          ...(config.openapiPath === undefined ? {} : { openapi: config.openapiPath }),
          status: config.status.path,
        },
        auth: { method: config.authKind, fingerprints: config.status.fingerprints },
        perPage: { default: config.defaultPerPage, max: config.maxPerPage },
        rateLimit: config.rateLimit
          ? { limit: config.rateLimit.limit, windowMs: config.rateLimit.windowMs }
          : null,
        allowIps: options.allowIps ?? null,
        requireHttps: config.requireHttps,
        timeoutMs: config.timeoutMs,
        keyset: config.keyset !== undefined,
        strict: config.strict,
        // Never holds a user or password: the options refuse one (storeBaseUrlSchema).
        storeBaseUrl: config.storeBaseUrl ?? null,
        warnings: config.startupWarnings,
      },
      report: recorder.report,
      logger: config.logger,
      firstProduct: async (signal) => {
        const page = await callStore(
          (inner) => config.products({ page: 1, perPage: 1, offset: 0, signal: inner }),
          signal,
          config.timeoutMs,
        );
        return listResult('products', page).items[0];
      },
    });
  if (config.status) routes.set(config.status.path, 'status');

  function list(route: 'products' | 'orders', request: CoreRequest, visit: Visit): Answer {
    const pagination = parsePagination(request.query, config.defaultPerPage, config.maxPerPage);
    const after = keyset?.memory.after(route, pagination.page, pagination.perPage);
    const callback = config[route];
    const result = callStore(
      (signal) =>
        callback(after === undefined ? { ...pagination, signal } : { ...pagination, after, signal }),
      request.signal,
      config.timeoutMs,
    );
    return isPromiseLike(result)
      ? result.then((settled) => listed(route, pagination, settled, visit))
      : listed(route, pagination, result, visit);
  }

  function listed(
    route: 'products' | 'orders',
    pagination: Pagination,
    settled: unknown,
    visit: Visit,
  ): CoreResponse {
    const { items, total } = listResult(route, settled);
    const meta = pageMeta(total, pagination);
    const data = checkPage(route, items, meta, visit);
    if (keyset && items.length > 0) rememberKey(keyset, route, pagination, items);
    if (config.bareArray) return jsonResponse(200, data);
    return jsonResponse(200, { data, meta });
  }

  function rememberKey(
    { keyOf, memory }: NonNullable<typeof keyset>,
    route: 'products' | 'orders',
    { page, perPage }: Pagination,
    items: unknown[],
  ) {
    let key: unknown;
    try {
      key = keyOf[route](items[items.length - 1]);
    } catch (error) {
      config.logger.error({ err: error }, `keyset.${route} failed; the next page uses offset`);
    }
    memory.remember(route, page, perPage, key);
  }

  /**
   * Maps a page's records and reports what would hurt the crawl. Nothing is dropped: the crawler
   * stops at the first short page, so a missing record would hide every record after it.
   */
  function checkPage(
    route: 'products' | 'orders',
    items: unknown[],
    meta: PageMeta,
    visit: Visit,
  ): unknown[] {
    const mapped = items.map(mappers[route]);
    const { problems, unlinked, missingPaths } = reviewPage(route, mapped, meta, config.strict);
    if (recorder) {
      const id = (record: { id?: unknown }) => (record.id === undefined ? null : String(record.id));
      visit.page = {
        page: meta.current_page,
        perPage: meta.per_page,
        lastPage: meta.last_page,
        records: mapped.length,
        skipped: mapped.flatMap((entry) =>
          entry.invalid ? [{ id: id(entry.record), reason: entry.invalid }] : [],
        ),
        unlinked: unlinked.map((entry) => id(entry.record) ?? '(no id)'),
      };
    }
    const path = config.paths[route];
    for (const entry of mapped) if (entry.dropped) reportDropped(route, entry.dropped, { path });
    for (const missing of missingPaths) {
      const problem = `mapping.${route}.fields: ${missing} is in none of the records`;
      if (config.strict) problems.push(problem);
      else if (!reportedPaths.has(problem)) config.logger.warn({ path }, problem);
      reportedPaths.add(problem);
    }
    if (problems.length > 0) {
      if (config.strict) throw new HiwelinkError('invalid_record', problems.join('\n'));
      warnPage(`${route}:problems`, { path }, problems.join('\n'));
    }
    if (unlinked.length > 0) {
      warnPage(
        `${route}:unlinked`,
        { path, ids: unlinked.slice(0, 5).map((entry) => entry.record.id) },
        `${route} page ${meta.current_page}: ${unlinked.length} product(s) have neither permalink nor slug; HiWelink will link the homepage`,
      );
    }
    return mapped.map((entry) => entry.record);
  }

  // A catalogue's faults (records HiWelink will skip, products without a link) are on the same
  // pages at every crawl: per list and kind, one line every PAGE_WARNING_MS, saying how many pages
  // in between had the same kind of fault (the status page lists them all).
  const pageWarnings = new Map<string, { at: number; pages: number }>();

  function warnPage(key: string, details: object, message: string) {
    const now = Date.now();
    const last = pageWarnings.get(key);
    if (last && now - last.at < PAGE_WARNING_MS) {
      last.pages += 1;
      return;
    }
    const since =
      last && last.pages > 0 ? ` (${last.pages} more page(s) like it since the last such line)` : '';
    config.logger.warn(details, `${message}${since}`);
    pageWarnings.set(key, { at: now, pages: 0 });
  }

  function health(request: CoreRequest): Answer {
    const check = config.health;
    if (!check) return healthResponse(true);
    const outcome = callStore((signal) => check({ signal }), request.signal, config.timeoutMs);
    return isPromiseLike(outcome)
      ? outcome.then((settled) => healthResponse(settled !== false))
      : healthResponse(outcome !== false);
  }

  function serve(route: Route, request: CoreRequest, visit: Visit, admitted: Admitted): Answer {
    if (admitted instanceof HiwelinkError) return errorResponse(admitted);
    visit.credentialId = admitted.credentialId;
    if (route === 'health') return health(request);
    if (route === 'openapi') return { status: 200, headers: { ...openapiHeaders }, body: openapiBody };
    return list(route as 'products' | 'orders', request, visit);
  }

  /** Synchronous as far as the configured auth and callbacks allow: each await costs a turn. */
  function answer(route: Route, request: CoreRequest, visit: Visit): Answer {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HiwelinkError('method_not_allowed', `Method ${request.method} is not allowed here`, {
        headers: { allow: ALLOWED_METHODS },
      });
    }
    const admitted = admit(request, visit.client, visit.headers);
    return isPromiseLike(admitted)
      ? admitted.then((settled) => serve(route, request, visit, settled))
      : serve(route, request, visit, admitted);
  }

  /** Logs an address failure the first time it reaches the store: an answer and the log may both meet it. */
  function reportAddressError(request: CoreRequest, error: ClientAddressError) {
    if (error.reported) return;
    error.reported = true;
    config.logger.error({ err: error.cause, path: request.path }, error.message);
  }

  /** The client's address for the log line: `''` when it could not be read (reported, not thrown). */
  function loggedIp(request: CoreRequest, visit: Visit): string {
    try {
      return visit.client().ip;
    } catch (error) {
      if (!(error instanceof ClientAddressError)) throw error;
      reportAddressError(request, error);
      return '';
    }
  }

  function logAccess(request: CoreRequest, visit: Visit, status: number) {
    try {
      config.accessLog?.({
        ip: loggedIp(request, visit),
        method: request.method,
        path: request.path,
        status,
        durationMs: performance.now() - visit.started,
        ...(visit.credentialId === undefined ? {} : { credentialId: visit.credentialId }),
      });
    } catch (error) {
      config.logger.error({ err: error }, 'accessLog hook failed');
    }
  }

  /** Client mistakes answer as they are; anything else is the store's fault and is logged. */
  function failure(route: Route, request: CoreRequest, error: unknown, visit: Visit): CoreResponse {
    const timedOut = error instanceof HiwelinkError && error.code === 'callback_timeout';
    if (error instanceof HiwelinkError && error.status < 500) return errorResponse(error);
    if (error instanceof ClientAddressError) {
      reportAddressError(request, error);
      return errorResponse(error);
    }
    const what = route === 'health' ? 'health check' : `${route} callback`;
    visit.cause = timedOut
      ? `${what} took longer than timeoutMs (${config.timeoutMs} ms)`
      : error instanceof Error
        ? `${what} failed: ${error.name}: ${error.message}`
        : `${what} failed`;
    if (!timedOut && request.signal.aborted) {
      // The callback gave up because its signal said the client left (a cancelled query): nobody
      // reads this answer and the store is not at fault, so no error line (nor alert) for it.
      config.logger.warn({ path: request.path }, `${what} stopped: the client closed the connection first`);
    } else if (error instanceof HiwelinkError && !timedOut) {
      config.logger.error({ path: request.path }, error.message);
    } else if (timedOut) {
      config.logger.error(
        { path: request.path },
        `${what} took longer than timeoutMs (${config.timeoutMs} ms)`,
      );
    } else {
      config.logger.error({ err: error, path: request.path }, `${what} failed`);
    }
    return route === 'health' ? healthResponse(false) : errorResponse(error);
  }

  function answerFor(request: CoreRequest): CoreResponse | Promise<CoreResponse> {
    const route = routes.get(request.route ?? request.path);
    if (!route) return errorResponse(new HiwelinkError('not_found', 'Not Found'));
    if (route === 'status' && statusRoute) {
      return statusRoute.handle(request).catch((error: unknown) => {
        config.logger.error({ err: error, path: request.path }, 'status page failed');
        return errorResponse(error);
      });
    }
    let client: Client | ClientAddressError | undefined;
    const visit: Visit = {
      started: timed ? performance.now() : 0,
      client: () => {
        if (client === undefined) {
          try {
            client = config.client(request);
          } catch (error) {
            client = new ClientAddressError(
              "the client's address could not be read: the adapter's clientAddress threw",
              { cause: error },
            );
          }
        }
        if (client instanceof ClientAddressError) throw client;
        return client;
      },
      headers: {},
    };
    const finish = (response: CoreResponse) => {
      Object.assign(response.headers, visit.headers);
      if (config.accessLog) logAccess(request, visit, response.status);
      recorder?.seen({
        route: route as Exclude<Route, 'status'>,
        status: response.status,
        at: Date.now(),
        durationMs: performance.now() - visit.started,
        credentialId: visit.credentialId,
        page: visit.page,
        cause: visit.cause,
      });
      return response;
    };
    let response: Answer;
    try {
      response = answer(route, request, visit);
    } catch (error) {
      response = failure(route, request, error, visit);
    }
    if (!isPromiseLike(response)) return finish(response);
    return Promise.resolve(response).then(finish, (error: unknown) =>
      finish(failure(route, request, error, visit)),
    );
  }

  return {
    paths: [...routes.keys()],
    owns: (path) => routes.has(path),
    handle: (request) => Promise.resolve(answerFor(request)),
    respond(request, write) {
      const response = answerFor(request);
      if (response instanceof Promise) return response.then(write);
      write(response);
    },
  };
}

/** The store's logger, with each line also kept for the status page (message and error only). */
function journaled(logger: Logger, recorder: Recorder): Logger {
  const line = (details: object, message: string) => {
    const err = (details as { err?: unknown }).err;
    return err instanceof Error ? `${message}: ${err.name}: ${err.message}` : message;
  };
  return {
    warn(details, message) {
      logger.warn(details, message);
      recorder.note('warn', line(details, message));
    },
    error(details, message) {
      logger.error(details, message);
      recorder.note('error', line(details, message));
    },
  };
}
