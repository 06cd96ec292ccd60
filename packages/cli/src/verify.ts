import { createRecordMapper, type MappedRecord } from '@hiwelink/core';

/** How the crawler authenticates, as entered in the HiWelink dashboard. */
export type Credential =
  | { apiKey: string }
  | { bearer: string }
  | { basic: { username: string; password: string } }
  | Record<string, never>;

export interface VerifyOptions {
  baseUrl: string;
  credential: Credential;
  paths?: { health?: string; products?: string; orders?: string };
  /** Page size the crawl asks for, as HiWelink does. @default 50 */
  perPage?: number;
  /** One request's time limit. @default 30000 */
  timeoutMs?: number;
  /** Stop crawling a list after this many pages. @default 10000 */
  maxPages?: number;
  /** Called after each page, for a progress display. */
  onProgress?: (list: string, page: number, lastPage: number | undefined) => void;
}

export type CheckStatus = 'ok' | 'warning' | 'failed';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to change, when the check did not pass. */
  hint?: string;
}

export interface VerifyReport {
  baseUrl: string;
  checks: Check[];
  ok: boolean;
}

interface Answer {
  status: number;
  body: unknown;
  ms: number;
  /** It answered 429 first and was asked again after Retry-After. */
  rateLimited: boolean;
}

/** The headers that carry `credential`, as HiWelink's crawler sends them. */
export function credentialHeaders(credential: Credential): Record<string, string> {
  if ('apiKey' in credential) return { 'x-api-key': credential.apiKey };
  if ('bearer' in credential) return { authorization: `Bearer ${credential.bearer}` };
  if ('basic' in credential) {
    const { username, password } = credential.basic;
    return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  }
  return {};
}

/** A wrong credential of the same kind as the right one. */
function wrongCredential(credential: Credential): Credential {
  if ('apiKey' in credential) return { apiKey: `${credential.apiKey}x` };
  if ('bearer' in credential) return { bearer: `${credential.bearer}x` };
  if ('basic' in credential)
    return { basic: { ...credential.basic, password: `${credential.basic.password}x` } };
  return { apiKey: 'hiwelink-verify-wrong-key' };
}

/** A list page's records: `{ data: [...] }` or a bare array, as the connector accepts both. */
function dataOf(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  const data = (body as { data?: unknown } | undefined)?.data;
  return Array.isArray(data) ? data : undefined;
}

const LOCAL_HOSTS = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)$/;

/** Pages timed at each end of a crawl; the median of each end is compared. */
const END_PAGES = 3;

/**
 * Whether pages get slower the deeper the crawl: the sign of OFFSET paging, where the database
 * walks every earlier row. Warned only when the last pages take 3× the first and 50 ms more, so a
 * noisy run does not raise it.
 */
function deepPagesCheck(list: string, title: string, latencies: number[]): Check {
  const id = `${list}-deep-pages`;
  const heading = `${title}: deep pages`;
  if (latencies.length < 2 * END_PAGES) {
    return { id, title: heading, status: 'ok', detail: `${latencies.length} page(s): too few to compare` };
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
  const first = median(latencies.slice(0, END_PAGES));
  const last = median(latencies.slice(-END_PAGES));
  const detail = `last pages ${Math.round(last)} ms, first pages ${Math.round(first)} ms`;
  if (last >= 3 * first && last - first >= 50) {
    return {
      id,
      title: heading,
      status: 'warning',
      detail,
      hint: 'Deep pages skip every earlier row (OFFSET): seek past the `after` the kit passes, e.g. WHERE id > after ORDER BY id',
    };
  }
  return { id, title: heading, status: 'ok', detail };
}

interface ListCrawl {
  records: MappedRecord[];
  ids: string[];
  pages: number;
  failedPage?: { page: number; status: number };
  stoppedShort?: { page: number; count: number };
  metaTotal?: number;
  metaLastPage?: number;
  metaProblems: string[];
  bareArray: boolean;
  latencies: number[];
  rateLimited: number;
}

/**
 * Crawls a store the way HiWelink's connector does (health first, then every page of products
 * and orders until a short page) and checks everything that would make the sync go wrong.
 */
export async function verifyStore(options: VerifyOptions): Promise<VerifyReport> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const paths = { health: '/health', products: '/api/products', orders: '/api/orders', ...options.paths };
  const perPage = options.perPage ?? 50;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const checks: Check[] = [];
  const add = (check: Check) => checks.push(check);

  async function get(path: string, credential: Credential = options.credential): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const response = await fetch(`${base}${path}`, {
        headers: { accept: 'application/json', ...credentialHeaders(credential) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status === 429 && attempt < 3) {
        // HiWelink backs off on 429, and so does the check; the crawl reports it.
        const wait = Math.min(60, Number(response.headers.get('retry-after')) || 1);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.status, body, ms: performance.now() - started, rateLimited: attempt > 0 };
    }
  }

  let url: URL;
  try {
    url = new URL(base);
  } catch {
    add({
      id: 'url',
      title: 'Base URL',
      status: 'failed',
      detail: `'${base}' is not a URL`,
      hint: 'Give the URL as https://api.yourstore.com',
    });
    return { baseUrl: base, checks, ok: false };
  }
  const local = LOCAL_HOSTS.test(url.hostname);
  add(
    url.protocol === 'https:' || local
      ? {
          id: 'https',
          title: 'HTTPS',
          status: 'ok',
          detail: local ? 'local address: HTTPS not required here' : 'served over HTTPS',
        }
      : {
          id: 'https',
          title: 'HTTPS',
          status: 'failed',
          detail: `${url.protocol} on a public host`,
          hint: 'HiWelink refuses non-HTTPS URLs for production stores: put TLS in front of the store',
        },
  );

  // Health first, as the connector does when it connects.
  try {
    const health = await get(paths.health);
    const body = health.body as { status?: unknown } | undefined;
    if (health.status !== 200) {
      add({
        id: 'health',
        title: 'Health',
        status: 'failed',
        detail: `${paths.health} answered ${health.status}`,
        hint: 'It must answer 200 with the credential, or HiWelink will not connect',
      });
    } else {
      add({
        id: 'health',
        title: 'Health',
        status: body?.status === 'ok' ? 'ok' : 'warning',
        detail:
          body?.status === 'ok'
            ? `200 in ${Math.round(health.ms)} ms`
            : `200, but the body is not {"status":"ok",...}`,
        ...(body?.status === 'ok' ? {} : { hint: 'Answer {"status":"ok","timestamp":"<ISO 8601>"}' }),
      });
    }
    const anonymous = await get(paths.health, {});
    add(
      anonymous.status === 401 || anonymous.status === 403
        ? {
            id: 'health-auth',
            title: 'Health needs the credential',
            status: 'ok',
            detail: `${anonymous.status} without it`,
          }
        : {
            id: 'health-auth',
            title: 'Health needs the credential',
            status: 'failed',
            detail: `${paths.health} answered ${anonymous.status} without a credential`,
            hint: 'Guard /health like the other paths',
          },
    );
  } catch (error) {
    add({
      id: 'health',
      title: 'Health',
      status: 'failed',
      detail: `no answer: ${(error as Error).message}`,
      hint: 'Is the store running and reachable at this URL?',
    });
    return { baseUrl: base, checks, ok: false };
  }

  for (const [name, credential] of [
    ['no credential', {}],
    ['a wrong credential', wrongCredential(options.credential)],
  ] as const) {
    const answer = await get(`${paths.products}?page=1&per_page=1`, credential);
    add(
      answer.status === 401 || answer.status === 403
        ? {
            id: `refuses-${name.replaceAll(' ', '-')}`,
            title: `Refuses ${name}`,
            status: 'ok',
            detail: String(answer.status),
          }
        : {
            id: `refuses-${name.replaceAll(' ', '-')}`,
            title: `Refuses ${name}`,
            status: 'failed',
            detail: `${paths.products} answered ${answer.status} to ${name}`,
            hint: 'Every path must answer 401 without the right credential',
          },
    );
  }

  async function crawl(list: 'products' | 'orders'): Promise<ListCrawl> {
    const mapper = createRecordMapper(list);
    const result: ListCrawl = {
      records: [],
      ids: [],
      pages: 0,
      metaProblems: [],
      bareArray: false,
      latencies: [],
      rateLimited: 0,
    };
    const maxPages = options.maxPages ?? 10_000;
    for (let page = 1; page <= maxPages; page++) {
      const answer = await get(`${paths[list]}?page=${page}&per_page=${perPage}`);
      result.latencies.push(answer.ms);
      if (answer.rateLimited) result.rateLimited += 1;
      if (answer.status !== 200) {
        result.failedPage = { page, status: answer.status };
        return result;
      }
      const body = answer.body as { meta?: Record<string, unknown> } | unknown[] | undefined;
      const data = dataOf(body);
      if (data === undefined) {
        result.failedPage = { page, status: 200 };
        return result;
      }
      result.bareArray = Array.isArray(body);
      result.pages = page;
      const meta = Array.isArray(body) ? undefined : body?.meta;
      if (meta) {
        if (page === 1) {
          result.metaTotal = typeof meta.total === 'number' ? meta.total : undefined;
          result.metaLastPage = typeof meta.last_page === 'number' ? meta.last_page : undefined;
        }
        if (meta.current_page !== page)
          result.metaProblems.push(`page ${page}: meta.current_page is ${JSON.stringify(meta.current_page)}`);
        if (meta.per_page !== perPage)
          result.metaProblems.push(
            `page ${page}: meta.per_page is ${JSON.stringify(meta.per_page)}, asked ${perPage}`,
          );
        if (meta.total !== result.metaTotal)
          result.metaProblems.push(`page ${page}: meta.total changed to ${JSON.stringify(meta.total)}`);
      }
      for (const item of data) {
        const mapped = mapper(item);
        result.records.push(mapped);
        if (typeof mapped.record.id === 'string') result.ids.push(mapped.record.id);
      }
      options.onProgress?.(list, page, result.metaLastPage);
      if (data.length < perPage) {
        if (result.metaLastPage !== undefined && page < result.metaLastPage)
          result.stoppedShort = { page, count: data.length };
        return result;
      }
    }
    return result;
  }

  let slowestPageMs = 0;
  let pagesCrawled = 0;
  for (const list of ['products', 'orders'] as const) {
    const title = list === 'products' ? 'Products' : 'Orders';
    const result = await crawl(list);
    pagesCrawled += result.pages;
    slowestPageMs = Math.max(slowestPageMs, ...result.latencies);
    if (result.failedPage) {
      const { page, status } = result.failedPage;
      add({
        id: `${list}-pages`,
        title: `${title}: every page reachable`,
        status: 'failed',
        detail:
          status === 200
            ? `page ${page} is not {data:[...]} or a JSON array`
            : `page ${page} answered ${status}`,
        hint:
          status >= 500
            ? 'A server error on a deep page ends the sync there: check the store logs for that page'
            : 'Answer 200 with {"data":[...],"meta":{...}}',
      });
    } else {
      add({
        id: `${list}-pages`,
        title: `${title}: every page reachable`,
        status: 'ok',
        detail: `${result.pages} page(s), ${result.records.length} record(s)${result.bareArray ? ', bare arrays' : ''}`,
      });
    }
    add(deepPagesCheck(list, title, result.latencies.slice(0, result.pages)));
    const duplicates = result.ids.length - new Set(result.ids).size;
    add(
      duplicates === 0
        ? {
            id: `${list}-duplicates`,
            title: `${title}: no duplicate ids`,
            status: 'ok',
            detail: `${result.ids.length} distinct ids`,
          }
        : {
            id: `${list}-duplicates`,
            title: `${title}: no duplicate ids`,
            status: 'failed',
            detail: `${duplicates} id(s) seen twice across pages`,
            hint: 'Sort by a stable unique key (ORDER BY id): an unstable order repeats some records and hides others',
          },
    );
    if (result.stoppedShort) {
      const { page, count } = result.stoppedShort;
      add({
        id: `${list}-short-page`,
        title: `${title}: no short page before the last`,
        status: 'failed',
        detail: `page ${page} held ${count} of ${perPage} records but meta.last_page is ${result.metaLastPage}: HiWelink stops there`,
        hint: 'Every page but the last must hold exactly per_page records: never drop a record from a page',
      });
    }
    if (!result.bareArray && !result.failedPage) {
      const problems = [...result.metaProblems];
      if (result.metaTotal === undefined) problems.push('meta.total is missing');
      else if (!result.stoppedShort && result.metaTotal !== result.records.length)
        problems.push(`meta.total is ${result.metaTotal}, the crawl saw ${result.records.length}`);
      if (
        result.metaTotal !== undefined &&
        result.metaLastPage !== Math.max(1, Math.ceil(result.metaTotal / perPage))
      ) {
        problems.push(
          `meta.last_page is ${result.metaLastPage}, expected ${Math.max(1, Math.ceil(result.metaTotal / perPage))}`,
        );
      }
      add(
        problems.length === 0
          ? {
              id: `${list}-meta`,
              title: `${title}: meta consistent`,
              status: 'ok',
              detail: `total ${result.metaTotal}`,
            }
          : {
              id: `${list}-meta`,
              title: `${title}: meta consistent`,
              status: 'failed',
              detail: problems.slice(0, 3).join('; '),
              hint: 'meta must describe what the pages hold: total, per_page, current_page, last_page = max(1, ceil(total / per_page))',
            },
      );
    }
    const skipped = result.records.filter((entry) => entry.invalid);
    add(
      skipped.length === 0
        ? {
            id: `${list}-required`,
            title: `${title}: required fields`,
            status: 'ok',
            detail: list === 'products' ? 'every record has id and name' : 'every record has an id',
          }
        : {
            id: `${list}-required`,
            title: `${title}: required fields`,
            status: 'failed',
            detail: `${skipped.length} record(s) HiWelink will skip (${skipped[0]?.invalid})`,
            hint:
              list === 'products'
                ? 'Every product needs id and name (or a documented alias)'
                : 'Every order needs an id',
          },
    );
    if (list === 'products' && result.records.length > 0) {
      const share = (test: (record: Record<string, unknown>) => boolean) =>
        Math.round(
          (100 * result.records.filter((entry) => test(entry.record)).length) / result.records.length,
        );
      const coverage = {
        price: share((record) => record.price !== undefined),
        images: share((record) => Array.isArray(record.images)),
        'permalink or slug': share((record) => record.permalink !== undefined || record.slug !== undefined),
        stock: share((record) => record.stock_status !== undefined),
      };
      const missing = Object.entries(coverage).filter(([, percent]) => percent < 100);
      add({
        id: 'products-recommended',
        title: 'Products: recommended fields',
        status: missing.length === 0 ? 'ok' : 'warning',
        detail: Object.entries(coverage)
          .map(([field, percent]) => `${field} ${percent}%`)
          .join(', '),
        ...(missing.length === 0
          ? {}
          : {
              hint: 'Richer records give better answers; without permalink or slug, "View Product" opens the homepage',
            }),
      });
    }
    if (result.rateLimited > 0) {
      add({
        id: `${list}-rate-limit`,
        title: `${title}: rate limit`,
        status: 'warning',
        detail: `${result.rateLimited} page(s) answered 429 and were retried after Retry-After`,
        hint: 'HiWelink backs off too, but a full sync takes longer: allow at least 100 requests a minute',
      });
    }
  }

  // per_page: the cap must be honoured exactly, and anything above refused rather than clamped.
  const hundred = await get(`${paths.products}?page=1&per_page=100`);
  const hundredData = dataOf(hundred.body);
  add(
    hundred.status === 200 && Array.isArray(hundredData) && hundredData.length <= 100
      ? {
          id: 'per-page-100',
          title: 'per_page=100 honoured',
          status: 'ok',
          detail: `${hundredData.length} record(s)`,
        }
      : {
          id: 'per-page-100',
          title: 'per_page=100 honoured',
          status: 'failed',
          detail: `answered ${hundred.status}${Array.isArray(hundredData) ? ` with ${hundredData.length} records` : ''}`,
          hint: 'Accept per_page up to 100, the documented maximum',
        },
  );
  const over = await get(`${paths.products}?page=1&per_page=101`);
  const overData = dataOf(over.body);
  if (over.status >= 500) {
    add({
      id: 'per-page-101',
      title: 'per_page=101 not clamped',
      status: 'failed',
      detail: `answered ${over.status}`,
      hint: 'Answer 400 naming per_page, not a server error',
    });
  } else if (over.status === 200 && Array.isArray(overData) && overData.length === 100) {
    add({
      id: 'per-page-101',
      title: 'per_page=101 not clamped',
      status: 'failed',
      detail: 'answered 100 records: clamped silently',
      hint: 'A silent clamp makes the crawler see a short page and stop: answer 400 instead',
    });
  } else {
    add({ id: 'per-page-101', title: 'per_page=101 not clamped', status: 'ok', detail: String(over.status) });
  }
  const beyond = await get(`${paths.products}?page=100000&per_page=${perPage}`);
  const beyondData = dataOf(beyond.body);
  add(
    beyond.status === 200 && Array.isArray(beyondData) && beyondData.length === 0
      ? {
          id: 'past-the-end',
          title: 'A page past the end is empty',
          status: 'ok',
          detail: '200 with no records',
        }
      : {
          id: 'past-the-end',
          title: 'A page past the end is empty',
          status: beyond.status >= 500 ? 'failed' : 'warning',
          detail: `answered ${beyond.status}${Array.isArray(beyondData) ? ` with ${beyondData.length} records` : ''}`,
          hint: 'Answer 200 with "data": [] past the last page',
        },
  );

  const projectedSeconds = Math.round((pagesCrawled * slowestPageMs) / 1000);
  add({
    id: 'latency',
    title: 'Latency',
    status: slowestPageMs > 10_000 ? 'warning' : 'ok',
    detail: `slowest page ${Math.round(slowestPageMs)} ms; a full sync of ${pagesCrawled} page(s) takes at most ~${projectedSeconds} s`,
    ...(slowestPageMs > 10_000
      ? { hint: 'Pages over 10 s risk timeouts: add an index on the sort key' }
      : {}),
  });

  return { baseUrl: base, checks, ok: checks.every((check) => check.status !== 'failed') };
}
