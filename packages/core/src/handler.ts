import { createAdmission } from './access/admission.js';
import type { Client } from './access/client.js';
import { errorResponse, HiwelinkError, jsonHeaders, jsonResponse } from './errors.js';
import type { CoreRequest, CoreResponse } from './http.js';
import { openApiFor } from './openapi.js';
import { type HiwelinkOptions, type ListCallback, resolveOptions } from './options.js';
import { type PageMeta, pageMeta, parsePagination } from './pagination.js';
import { createRecordMapper } from './records/mapper.js';
import { reviewPage } from './records/page.js';

type Route = 'health' | 'products' | 'orders' | 'openapi';

export interface Hiwelink {
  /** Whether `path` is one of ours; adapters let every other path fall through to the host app. */
  owns(path: string): boolean;
  /** Answers a request on one of our paths. Never rejects: every failure becomes a JSON answer. */
  handle(request: CoreRequest): Promise<CoreResponse>;
  /** The paths served, for frameworks that register routes up front. */
  readonly paths: readonly string[];
}

const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Runs `work` with a signal that aborts when the client leaves or `timeoutMs` passes; past the
 * deadline the answer is a 503 whatever the callback does later.
 */
async function withDeadline<T>(
  work: (signal: AbortSignal) => T | Promise<T>,
  clientSignal: AbortSignal,
  timeoutMs: number,
): Promise<Awaited<T>> {
  const controller = new AbortController();
  const abortWithClient = () => controller.abort(clientSignal.reason);
  clientSignal.addEventListener('abort', abortWithClient, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HiwelinkError('callback_timeout', 'The store did not answer in time');
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
    clientSignal.removeEventListener('abort', abortWithClient);
  }
}

function isListResult(value: unknown): value is { items: unknown[]; total: number } {
  const result = value as { items?: unknown; total?: unknown } | null;
  return (
    Array.isArray(result?.items) &&
    typeof result.total === 'number' &&
    Number.isSafeInteger(result.total) &&
    result.total >= 0
  );
}

const healthResponse = (healthy: boolean) =>
  jsonResponse(healthy ? 200 : 503, {
    status: healthy ? 'ok' : 'error',
    timestamp: new Date().toISOString(),
  });

/** What one request gathers on its way through: for the access log and the rate-limit headers. */
interface Visit {
  started: number;
  /** Resolved on first use: most stores configure nothing that needs the client's address. */
  client: () => Client;
  headers: Record<string, string>;
  credentialId?: string;
}

/** A store bug, reported to the store's logs; the client sees a plain 500. */
class CallbackContractError extends Error {
  override name = 'CallbackContractError';
}

/** Creates the framework-free HiWelink handler. Throws `HiwelinkConfigError` on bad options. */
export function createHiwelink(options: HiwelinkOptions): Hiwelink {
  const config = resolveOptions(options);
  const admit = createAdmission(config);
  const mappers = {
    products: createRecordMapper('products', config.mapping.products, config.storeBaseUrl),
    orders: createRecordMapper('orders', config.mapping.orders, config.storeBaseUrl),
  };
  // A mistyped `fields` path would otherwise be reported on every page of every crawl.
  const reportedPaths = new Set<string>();
  const routes = new Map<string, Route>([
    [config.paths.health, 'health'],
    [config.paths.products, 'products'],
    [config.paths.orders, 'orders'],
  ]);
  // The OpenAPI document never changes once the options are resolved: serialized once, here.
  const openapiBody = config.openapiPath === undefined ? '' : JSON.stringify(openApiFor(config));
  const openapiHeaders = jsonHeaders(openapiBody);
  if (config.openapiPath !== undefined) routes.set(config.openapiPath, 'openapi');

  async function list(route: 'products' | 'orders', callback: ListCallback, request: CoreRequest) {
    const pagination = parsePagination(request.query, config.defaultPerPage, config.maxPerPage);
    const result = await withDeadline(
      (signal) => callback({ ...pagination, signal }),
      request.signal,
      config.timeoutMs,
    );
    if (!isListResult(result)) {
      throw new CallbackContractError(
        `${route} callback must resolve to { items: array, total: non-negative integer }`,
      );
    }
    const meta = pageMeta(result.total, pagination);
    const data = checkPage(route, result.items, meta);
    if (config.bareArray) return jsonResponse(200, data);
    return jsonResponse(200, { data, meta });
  }

  /**
   * Maps a page's records and reports what would hurt the crawl. Nothing is dropped: the crawler
   * stops at the first short page, so a missing record would hide every record after it.
   */
  function checkPage(route: 'products' | 'orders', items: unknown[], meta: PageMeta): unknown[] {
    const mapped = items.map(mappers[route]);
    const { problems, unlinked, missingPaths } = reviewPage(route, mapped, meta, config.strict);
    const path = config.paths[route];
    for (const missing of missingPaths) {
      const problem = `mapping.${route}.fields: ${missing} is in none of the records`;
      if (config.strict) problems.push(problem);
      else if (!reportedPaths.has(problem)) config.logger.warn({ path }, problem);
      reportedPaths.add(problem);
    }
    if (problems.length > 0) {
      if (config.strict) throw new HiwelinkError('invalid_record', problems.join('\n'));
      config.logger.warn({ path }, problems.join('\n'));
    }
    if (unlinked.length > 0) {
      config.logger.warn(
        { path, ids: unlinked.slice(0, 5).map((entry) => entry.record.id) },
        `${route} page ${meta.current_page}: ${unlinked.length} product(s) have neither permalink nor slug; HiWelink will link the homepage`,
      );
    }
    return mapped.map((entry) => entry.record);
  }

  async function health(request: CoreRequest) {
    const check = config.health;
    if (!check) return healthResponse(true);
    const outcome = await withDeadline((signal) => check({ signal }), request.signal, config.timeoutMs);
    return healthResponse(outcome !== false);
  }

  async function answer(route: Route, request: CoreRequest, visit: Visit): Promise<CoreResponse> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HiwelinkError('method_not_allowed', `Method ${request.method} is not allowed here`, {
        headers: { allow: ALLOWED_METHODS },
      });
    }
    visit.credentialId = (await admit(request, visit.client, visit.headers)).credentialId;
    if (route === 'health') return health(request);
    if (route === 'openapi') return { status: 200, headers: { ...openapiHeaders }, body: openapiBody };
    return list(route, config[route], request);
  }

  function logAccess(request: CoreRequest, visit: Visit, status: number) {
    try {
      config.accessLog?.({
        ip: visit.client().ip,
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
  function failure(route: Route, request: CoreRequest, error: unknown): CoreResponse {
    const timedOut = error instanceof HiwelinkError && error.code === 'callback_timeout';
    if (error instanceof HiwelinkError && error.status < 500) return errorResponse(error);
    const what = route === 'health' ? 'health check' : `${route} callback`;
    if (error instanceof HiwelinkError && !timedOut) {
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

  return {
    paths: [...routes.keys()],
    owns: (path) => routes.has(path),
    async handle(request) {
      const route = routes.get(request.path);
      if (!route) return errorResponse(new HiwelinkError('not_found', 'Not Found'));
      let client: Client | undefined;
      const visit: Visit = {
        started: performance.now(),
        client: () => (client ??= config.client(request)),
        headers: {},
      };
      let response: CoreResponse;
      try {
        response = await answer(route, request, visit);
      } catch (error) {
        response = failure(route, request, error);
      }
      Object.assign(response.headers, visit.headers);
      logAccess(request, visit, response.status);
      return response;
    },
  };
}
