import {
  BEYOND_LATIN1,
  CONTROL_CHARACTER as CONTROL,
  createRecordMapper,
  type MappedRecord,
  TOKEN68,
} from '@hiwelink/core';

/** How the crawler authenticates, as entered in the HiWelink dashboard. */
export type Credential =
  | { apiKey: string }
  | { bearer: string }
  | { basic: { username: string; password: string } }
  | Record<string, never>;

export interface VerifyOptions {
  /** The store's base URL, `http://` or `https://`; anything else fails the `url` check. */
  baseUrl: string;
  /**
   * The credential HiWelink sends. An API key or bearer token loses surrounding whitespace, with a
   * `credential` warning; one no HTTP header can carry fails the `credential` check. Never printed
   * (at most its first 4 characters).
   */
  credential: Credential;
  paths?: { health?: string; products?: string; orders?: string };
  /**
   * Page size of the main crawl, whose records the field, duplicate and latency checks read: the
   * one set in the HiWelink dashboard. @default 50
   */
  perPage?: number;
  /**
   * Every page size the crawler may use; each list is crawled once more at each size other than
   * `perPage`, and every crawl must reach as many distinct records as the store says it holds.
   * HiWelink's Generic API documents 50 as the default `per_page` and 100 as its maximum.
   * Integers from 1 to 100. @default [50, 100]
   */
  pageSizes?: number[];
  /** One request's time limit. @default 30000 */
  timeoutMs?: number;
  /** Stop crawling a list after this many pages. @default 10000 */
  maxPages?: number;
  /**
   * The most bytes read of one answer's body; a larger one fails its check unread, so a store
   * that sends hundreds of MB cannot exhaust verify's memory. @default 16777216 (16 MiB)
   */
  maxPageBytes?: number;
  /** Called after each page, for a progress display. */
  onProgress?: (list: string, page: number, lastPage: number | undefined) => void;
}

/** `skipped`: not run, because what it reads was not reachable (the store refused the credential). */
export type CheckStatus = 'ok' | 'warning' | 'failed' | 'skipped';

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
  /** The HTTP status; 0 when there was no answer at all (see `noAnswer`). */
  status: number;
  /** Why there was no answer: the connection was refused or dropped, or the time limit passed. */
  noAnswer?: string;
  /** The body was over `maxPageBytes` and was left unread. */
  tooLarge?: number;
  /** The Content-Type header, as sent. */
  contentType?: string;
  body: unknown;
  ms: number;
  /** It answered 429 first and was asked again after Retry-After. */
  rateLimited: boolean;
}

/**
 * 'answered 500', 'answered 200 with a body over N bytes', or 'got no answer (why)' when the
 * store did not answer at all.
 */
const outcome = ({ status, noAnswer, tooLarge }: { status: number; noAnswer?: string; tooLarge?: number }) =>
  status === 0
    ? `got no answer (${noAnswer})`
    : tooLarge !== undefined
      ? `answered ${status} with a body over ${tooLarge} bytes, the most verify reads of one answer (maxPageBytes)`
      : `answered ${status}`;

/** The body of `response` as text, or undefined once it passes `limit` bytes (then left unread). */
export async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  if (Number(response.headers.get('content-length')) > limit) {
    await response.body?.cancel();
    return undefined;
  }
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Why a fetch got no answer, in a few words: `nothing within 10000 ms` after its timeout signal,
 * else the error with its cause (`fetch failed: connect ECONNREFUSED 127.0.0.1:3000`).
 */
export function whyNoAnswer(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `nothing within ${timeoutMs} ms`;
  const cause = (error as { cause?: { message?: string; code?: string; hostname?: string } }).cause;
  const said = `${(error as Error).message}${cause?.message ? `: ${cause.message}` : ''}`;
  // fetch's own words name a system call or an OpenSSL routine: say what they mean for this URL.
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') {
    return `the host name ${cause.hostname ?? ''} does not resolve (${cause.code}): is it spelled right?`;
  }
  if (cause?.message === 'bad port') return 'fetch refuses that port (a reserved one): use another';
  if (/wrong version number|packet length too long/.test(said)) {
    return 'it does not speak TLS there: try http:// instead of https://';
  }
  return said;
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

/** A wrong credential of the same kind as the right one, as header-valid as it (see reviewGiven). */
function wrongCredential(credential: Credential): Credential {
  if ('apiKey' in credential) return { apiKey: `${credential.apiKey}x` };
  // In front: a token68 may end in '=', after which nothing else may follow.
  if ('bearer' in credential) return { bearer: `x${credential.bearer}` };
  if ('basic' in credential)
    return { basic: { ...credential.basic, password: `${credential.basic.password}x` } };
  return { apiKey: 'hiwelink-verify-wrong-key' };
}

/** Enough of a secret to tell which one was meant: its first 4 characters, never more. */
const glimpse = (secret: string) => `'${secret.slice(0, 4)}…'`;

interface GivenCredential {
  /** The credential to send: an API key or bearer token without surrounding whitespace. */
  credential: Credential;
  /** One line about what was changed or kept, holding no more than {@link glimpse} of the secret. */
  warning?: string;
  /** Why no HTTP header can carry it, without the secret; the crawler could not send it either. */
  problem?: string;
}

/**
 * The credential given to verify, taken as `@hiwelink/core` takes a configured one (its
 * reviewCredentials): an API key or bearer token loses surrounding whitespace, which no request
 * can carry (HTTP trims it from header values), with a warning; basic credentials keep theirs,
 * which Basic auth carries, with a warning; a control character, a character above U+00FF, or a
 * bearer token outside token68 is a problem. Nothing returned holds more than 4 characters of it.
 */
function reviewGiven(given: Credential): GivenCredential {
  const secret = (value: string, name: string, flag: string, token: boolean) => {
    const trimmed = value.trim();
    const warning =
      trimmed === value
        ? undefined
        : `surrounding whitespace removed from the ${name} ${glimpse(trimmed)} (${flag}), since no request can carry it`;
    const problem = CONTROL.test(trimmed)
      ? 'holds a line break or another control character'
      : BEYOND_LATIN1.test(trimmed)
        ? 'holds a character above U+00FF (another script, an emoji, a typographic quote?)'
        : token && !TOKEN68.test(trimmed)
          ? "holds characters other than A-Z a-z 0-9 -._~+/ (then '='), all Authorization: Bearer carries (RFC 6750)"
          : undefined;
    return {
      trimmed,
      warning,
      problem: problem && `the ${name} ${glimpse(trimmed)} (${flag}) ${problem}`,
    };
  };
  if ('apiKey' in given) {
    const { trimmed, warning, problem } = secret(given.apiKey, 'API key', '--api-key', false);
    return { credential: { apiKey: trimmed }, warning, problem };
  }
  if ('bearer' in given) {
    const { trimmed, warning, problem } = secret(given.bearer, 'bearer token', '--bearer', true);
    return { credential: { bearer: trimmed }, warning, problem };
  }
  if ('basic' in given) {
    const { username, password } = given.basic;
    const padded = [username, password].some((value) => value.trim() !== value);
    return {
      credential: given,
      ...(padded && {
        warning:
          'the basic user or password (--basic) starts or ends with whitespace; kept, since Basic auth can carry it: check it is meant',
      }),
    };
  }
  return { credential: given };
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
  /** The `per_page` this crawl asked for. */
  perPage: number;
  records: MappedRecord[];
  ids: string[];
  pages: number;
  failedPage?: { page: number; status: number; noAnswer?: string; tooLarge?: number };
  /** The page that ended the crawl by holding fewer records than asked for. */
  end?: { page: number; count: number };
  /**
   * A full page that ended the crawl for going nowhere: `repeated` when it brought no id the
   * crawl had not seen (the store ignores `page`), `pastLastPage` when it came after
   * meta.last_page. Either way the crawler would read on without end.
   */
  runaway?: { page: number; why: 'repeated' | 'pastLastPage' };
  metaTotal?: number;
  metaLastPage?: number;
  /** `meta.per_page` of page 1, when the store sends one. */
  metaPerPage?: number;
  /** `meta.total` of page 1 as sent, whatever its type: later pages are compared with it. */
  rawTotal?: unknown;
  metaProblems: string[];
  bareArray: boolean;
  latencies: number[];
  rateLimited: number;
}

/** What a crawl's runaway page says about the store, for the check details. */
function runawayDetail(crawl: ListCrawl): string {
  const { page, why } = crawl.runaway ?? { page: 0, why: 'repeated' };
  return why === 'repeated'
    ? `page ${page} brought no record that earlier pages had not: the store ignores \`page\``
    : `page ${page} is full past meta.last_page ${crawl.metaLastPage}`;
}

/** How many records the store says a list holds: `meta.total`, or the most any crawl reached. */
function heldCount(crawls: ListCrawl[]): number {
  const reached = Math.max(0, ...crawls.map((crawl) => new Set(crawl.ids).size));
  return crawls.find((crawl) => crawl.metaTotal !== undefined)?.metaTotal ?? reached;
}

/**
 * The crawler's own rule applied to each crawl: it stops at the first page holding fewer records
 * than it asked for, so every crawl must have reached as many distinct ids as the store holds.
 */
function completenessCheck(list: 'products' | 'orders', title: string, crawls: ListCrawl[]): Check {
  const held = heldCount(crawls);
  const passed: string[] = [];
  const problems: string[] = [];
  let clamped = false;
  let empty = false;
  let runaway = false;
  for (const crawl of crawls) {
    const size = `per_page=${crawl.perPage}`;
    const total = crawl.metaTotal ?? held;
    const distinct = new Set(crawl.ids).size;
    if (crawl.failedPage) {
      const { page, status, tooLarge } = crawl.failedPage;
      problems.push(
        `${size}: page ${page} ${status === 200 && tooLarge === undefined ? 'is not a list' : outcome(crawl.failedPage)}`,
      );
    } else if (crawl.runaway) {
      problems.push(`${size}: ${runawayDetail(crawl)}`);
      runaway = true;
    } else if (crawl.end?.page === 1 && crawl.end.count === 0 && total > 0) {
      problems.push(`${size}: page 1 is empty though meta.total says ${total}`);
      empty = true;
    } else if (distinct === total) {
      passed.push(`${size}: ${distinct} of ${total}`);
    } else if (distinct > total) {
      problems.push(`${size}: ${distinct} distinct ${list} crawled but meta.total says ${total}`);
    } else {
      const ended = crawl.end
        ? `; page ${crawl.end.page} held ${crawl.end.count} records and ended the crawl`
        : `; stopped after ${crawl.pages} page(s)`;
      const echoed =
        crawl.metaPerPage !== undefined && crawl.metaPerPage !== crawl.perPage
          ? ` (meta.per_page ${crawl.metaPerPage})`
          : '';
      problems.push(`${size}: ${distinct} of ${total} ${list}${ended}${echoed}`);
      if (crawl.end?.page === 1 || echoed !== '') clamped = true;
    }
  }
  const check = { id: `${list}-complete`, title: `${title}: every record crawled` };
  if (problems.length === 0) return { ...check, status: 'ok', detail: passed.join('; ') };
  return {
    ...check,
    status: 'failed',
    detail: problems.join('; '),
    hint: runaway
      ? 'Page N must hold the records after the first (N-1)*per_page, and pages past meta.last_page must be empty'
      : empty
        ? 'Page 1 must hold the first records, or meta.total must be 0 when there are none'
        : clamped
          ? 'Answer every per_page up to 100 with that many records: a store that caps it lower ends the sync after page 1'
          : 'Every page but the last must hold exactly per_page records (HiWelink stops at the first shorter one), and meta.total must count what the pages hold',
  };
}

/**
 * Crawls a store the way HiWelink's connector does (health first, then every page of products
 * and orders until a page holds fewer records than asked for) and checks everything that would make
 * the sync go wrong. Each list is crawled at `perPage` and again at every other size of
 * `pageSizes`; every crawl must reach as many distinct records as the store says it holds.
 * Never rejects for a store's fault: an unreachable or broken store is a failed check.
 * @throws {RangeError} when `perPage` or a `pageSizes` entry is not an integer from 1 to 100
 */
export async function verifyStore(options: VerifyOptions): Promise<VerifyReport> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const paths = { health: '/health', products: '/api/products', orders: '/api/orders', ...options.paths };
  const perPage = options.perPage ?? 50;
  const pageSizes = [...new Set(options.pageSizes ?? [50, 100])];
  for (const size of [perPage, ...pageSizes]) {
    if (!Number.isInteger(size) || size < 1 || size > 100)
      throw new RangeError(`page sizes must be integers from 1 to 100, got ${size}`);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxPageBytes = options.maxPageBytes ?? 16 * 1024 * 1024;
  const checks: Check[] = [];
  const add = (check: Check) => checks.push(check);
  const given = reviewGiven(options.credential);

  async function get(path: string, credential: Credential = given.credential): Promise<Answer> {
    // Timed from the first attempt: a page answered after a 429 and a wait took all of that time.
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      let text: string | undefined;
      try {
        response = await fetch(`${base}${path}`, {
          headers: { accept: 'application/json', ...credentialHeaders(credential) },
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await readCapped(response, maxPageBytes);
      } catch (error) {
        // The crawler's sync ends here too: a check to fail, not a reason for verify to throw.
        return {
          status: 0,
          noAnswer: whyNoAnswer(error, timeoutMs),
          body: undefined,
          ms: performance.now() - started,
          rateLimited: attempt > 0,
        };
      }
      if (response.status === 429 && attempt < 3) {
        // HiWelink backs off on 429, and so does the check; the crawl reports it.
        const wait = Math.min(60, Number(response.headers.get('retry-after')) || 1);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      const contentType = response.headers.get('content-type') ?? undefined;
      const answered = { status: response.status, contentType, rateLimited: attempt > 0 };
      if (text === undefined) {
        return { ...answered, tooLarge: maxPageBytes, body: undefined, ms: performance.now() - started };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { ...answered, body, ms: performance.now() - started };
    }
  }

  // `localhost:3000` parses, with the scheme `localhost:`: without http(s) it is no URL either.
  let url: URL | undefined;
  try {
    url = new URL(base);
  } catch {}
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
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

  // A credential no header can carry (a line break, a character above U+00FF) would make every
  // request fail before it leaves, which would read as a store that does not answer. The header
  // check stays as a last guard; its message is not shown, since it quotes the secret.
  let problem = given.problem;
  try {
    if (!problem) new Headers(credentialHeaders(given.credential));
  } catch {
    problem = 'the credential holds characters no HTTP header can carry';
  }
  if (problem) {
    add({
      id: 'credential',
      title: 'Credential',
      status: 'failed',
      detail: `${problem}: it cannot be sent in an HTTP header`,
      hint: 'HiWelink cannot send it either: use printable ASCII without spaces or line breaks (npx hiwelink keygen makes one)',
    });
    return { baseUrl: base, checks, ok: false };
  }
  if (given.warning) add({ id: 'credential', title: 'Credential', status: 'warning', detail: given.warning });

  // Health first, as the connector does when it connects.
  const health = await get(paths.health);
  if (health.status === 0) {
    add({
      id: 'health',
      title: 'Health',
      status: 'failed',
      detail: `no answer: ${health.noAnswer}`,
      hint: 'Is the store running and reachable at this URL?',
    });
    return { baseUrl: base, checks, ok: false };
  }
  const body = health.body as { status?: unknown } | undefined;
  // Where the health check goes: taken back if the lists refuse the credential too (one finding).
  const healthAt = checks.length;
  if (health.status !== 200 || health.tooLarge !== undefined) {
    add({
      id: 'health',
      title: 'Health',
      status: 'failed',
      detail: `${paths.health} ${outcome(health)}`,
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
          : health.body === undefined
            ? `200, but the body is not JSON (Content-Type ${health.contentType ?? 'missing'}): a login or error page?`
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
          detail: `${paths.health} ${outcome(anonymous)} without a credential`,
          hint: 'Guard /health like the other paths',
        },
  );

  // Both lists, as the crawler reads both (health-auth covers /health): one unguarded path is a leak.
  for (const [name, credential] of [
    ['no credential', {}],
    ['a wrong credential', wrongCredential(given.credential)],
  ] as const) {
    const answers = [];
    for (const path of [paths.products, paths.orders]) {
      answers.push({ path, answer: await get(`${path}?page=1&per_page=1`, credential) });
    }
    const open = answers.filter(({ answer }) => answer.status !== 401 && answer.status !== 403);
    const check = { id: `refuses-${name.replaceAll(' ', '-')}`, title: `Refuses ${name}` };
    add(
      open.length === 0
        ? { ...check, status: 'ok', detail: answers.map(({ answer }) => answer.status).join(', ') }
        : {
            ...check,
            status: 'failed',
            detail: open.map(({ path, answer }) => `${path} ${outcome(answer)} to ${name}`).join('; '),
            hint: 'Every path must answer 401 without the right credential',
          },
    );
  }

  /** One crawl of `list` at `size` records a page, stopping where HiWelink's crawler stops. */
  async function crawl(list: 'products' | 'orders', size: number): Promise<ListCrawl> {
    const mapper = createRecordMapper(list);
    // Problems seen at a page size other than the dashboard's say which size they came from.
    const at = size === perPage ? '' : `per_page=${size} `;
    const result: ListCrawl = {
      perPage: size,
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
      const answer = await get(`${paths[list]}?page=${page}&per_page=${size}`);
      result.latencies.push(answer.ms);
      if (answer.rateLimited) result.rateLimited += 1;
      if (answer.status !== 200 || answer.tooLarge !== undefined) {
        const { status, noAnswer, tooLarge } = answer;
        result.failedPage = { page, status, noAnswer, tooLarge };
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
          result.rawTotal = meta.total;
          result.metaTotal = typeof meta.total === 'number' ? meta.total : undefined;
          // The kit sends a number whatever its callback returns: a string here is the store's own code.
          if (meta.total !== undefined && typeof meta.total !== 'number')
            result.metaProblems.push(
              `${at}meta.total is the ${typeof meta.total} ${JSON.stringify(meta.total)}, not a number: HiWelink reads a JSON number`,
            );
          result.metaLastPage = typeof meta.last_page === 'number' ? meta.last_page : undefined;
          result.metaPerPage = typeof meta.per_page === 'number' ? meta.per_page : undefined;
        }
        if (meta.current_page !== page)
          result.metaProblems.push(
            `${at}page ${page}: meta.current_page is ${JSON.stringify(meta.current_page)}`,
          );
        if (meta.per_page !== size)
          result.metaProblems.push(
            `${at}page ${page}: meta.per_page is ${JSON.stringify(meta.per_page)}, asked ${size}`,
          );
        if (JSON.stringify(meta.total) !== JSON.stringify(result.rawTotal))
          result.metaProblems.push(`${at}page ${page}: meta.total changed to ${JSON.stringify(meta.total)}`);
      }
      const seen = new Set(result.ids).size;
      for (const item of data) {
        const mapped = mapper(item);
        result.records.push(mapped);
        if (typeof mapped.record.id === 'string') result.ids.push(mapped.record.id);
      }
      options.onProgress?.(list, page, result.metaLastPage);
      // A full page with nothing new, or past the last page meta gave, would keep the crawl going
      // for maxPages pages: stop at once and say why.
      if (data.length >= size && page > 1 && new Set(result.ids).size === seen) {
        result.runaway = { page, why: 'repeated' };
        return result;
      }
      if (data.length >= size && result.metaLastPage !== undefined && page > result.metaLastPage) {
        result.runaway = { page, why: 'pastLastPage' };
        return result;
      }
      // The crawler's stop rule: a page shorter than asked for is the last one it reads.
      if (data.length < size) {
        result.end = { page, count: data.length };
        return result;
      }
    }
    return result;
  }

  const isRefusal = ({ status }: { status: number }) => status === 401 || status === 403;
  /** A list's first page refused the given credential (401 or 403). */
  let refused: { status: number } | undefined;
  let slowestPageMs = 0;
  let pagesCrawled = 0;
  /** What each list holds, by the store's own account (see heldCount). */
  const heldBy = { products: 0, orders: 0 };
  for (const list of ['products', 'orders'] as const) {
    const title = list === 'products' ? 'Products' : 'Orders';
    const result = await crawl(list, perPage);
    if (result.failedPage?.page === 1 && isRefusal(result.failedPage)) {
      refused = result.failedPage;
      break;
    }
    const crawls = [result];
    for (const size of pageSizes) if (size !== perPage) crawls.push(await crawl(list, size));
    crawls.sort((a, b) => a.perPage - b.perPage);
    heldBy[list] = heldCount(crawls);
    pagesCrawled += result.pages;
    slowestPageMs = Math.max(slowestPageMs, ...crawls.flatMap((entry) => entry.latencies));
    if (result.failedPage) {
      const { page, status, tooLarge } = result.failedPage;
      add({
        id: `${list}-pages`,
        title: `${title}: every page reachable`,
        status: 'failed',
        detail:
          status === 200 && tooLarge === undefined
            ? `page ${page} is not {data:[...]} or a JSON array`
            : `page ${page} ${outcome(result.failedPage)}`,
        hint:
          tooLarge !== undefined
            ? 'Keep each page small (records, not files: link images by URL); HiWelink reads pages of at most 100 records'
            : status >= 500
              ? 'A server error on a deep page ends the sync there: check the store logs for that page'
              : 'Answer 200 with {"data":[...],"meta":{...}}',
      });
    } else if (result.runaway) {
      add({
        id: `${list}-pages`,
        title: `${title}: every page reachable`,
        status: 'failed',
        detail: runawayDetail(result),
        hint:
          result.runaway.why === 'repeated'
            ? 'Serve page N as the records after the first (N-1)*per_page: HiWelink reads pages until one is short'
            : 'meta.last_page must be the last page that holds records, and pages after it must be empty',
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
      result.runaway?.why === 'repeated'
        ? {
            id: `${list}-duplicates`,
            title: `${title}: no duplicate ids`,
            status: 'failed',
            detail: `${duplicates} id(s) seen twice: ${runawayDetail(result)}`,
            hint: 'Read `page` and skip (page - 1) * per_page records',
          }
        : duplicates === 0
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
    add(completenessCheck(list, title, crawls));
    if (!result.bareArray && !result.failedPage) {
      // What the pages hold against meta.total is the completeness check's; this one reads meta alone.
      const problems = crawls.flatMap((entry) => entry.metaProblems);
      if (result.rawTotal === undefined) problems.push('meta.total is missing');
      for (const entry of crawls) {
        if (entry.metaTotal === undefined || entry.bareArray || entry.failedPage) continue;
        const expected = Math.max(1, Math.ceil(entry.metaTotal / entry.perPage));
        if (entry.metaLastPage !== expected)
          problems.push(
            `per_page=${entry.perPage}: meta.last_page is ${entry.metaLastPage}, expected ${expected}`,
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

  if (refused) {
    // Every check that reads records would fail with advice about the store's paging, or pass on
    // no records: the one finding is the credential, said once.
    if (isRefusal(health)) checks.splice(healthAt, 1);
    const none = Object.keys(given.credential).length === 0;
    add({
      id: 'credential-refused',
      title: 'Store accepts the credential',
      status: 'failed',
      detail: none
        ? `no credential was given and the store answered ${refused.status}: give --api-key / --bearer / --basic, as set in the HiWelink dashboard`
        : `the store refused the credential you gave (${refused.status}): check --api-key / --bearer / --basic, and that the store's key is the same`,
      hint: 'The checks that read records are skipped until the store accepts it',
    });
    add({
      id: 'data',
      title: 'Records, pages and meta',
      status: 'skipped',
      detail: 'not checked: they read records, and the store gave none to this credential',
    });
    return { baseUrl: base, checks, ok: false };
  }

  // per_page above the documented maximum: refused, or honoured, but never clamped. A clamp shows
  // as a page shorter than both 101 and the catalog, or as a meta.per_page other than 101.
  const over = await get(`${paths.products}?page=1&per_page=101`);
  const overData = dataOf(over.body);
  const overPerPage = Array.isArray(over.body)
    ? undefined
    : (over.body as { meta?: { per_page?: unknown } } | undefined)?.meta?.per_page;
  const overClamped =
    over.status === 200 &&
    Array.isArray(overData) &&
    (overData.length < Math.min(101, heldBy.products) || (overPerPage !== undefined && overPerPage !== 101));
  if (over.status >= 500 || over.status === 0) {
    add({
      id: 'per-page-101',
      title: 'per_page=101 not clamped',
      status: 'failed',
      detail: outcome(over),
      hint: 'Answer 400 naming per_page, not a server error',
    });
  } else if (overClamped) {
    add({
      id: 'per-page-101',
      title: 'per_page=101 not clamped',
      status: 'failed',
      detail: `answered ${overData.length} record(s)${overPerPage === undefined ? '' : ` with meta.per_page ${JSON.stringify(overPerPage)}`}: clamped silently`,
      hint: 'A silent clamp makes the crawler see a short page and stop: answer 400 instead',
    });
  } else if (over.status !== 200 && over.status !== 400 && over.status !== 422) {
    // Neither honoured nor refused (a 429, a 401, a redirect): nothing was checked.
    add({
      id: 'per-page-101',
      title: 'per_page=101 not clamped',
      status: 'failed',
      detail: `${outcome(over)}: neither honoured (200) nor refused (400)`,
      hint: 'Answer 400 naming per_page, or honour it',
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
          status: beyond.status >= 500 || beyond.status === 0 ? 'failed' : 'warning',
          detail: `${outcome(beyond)}${Array.isArray(beyondData) ? ` with ${beyondData.length} records` : ''}`,
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
