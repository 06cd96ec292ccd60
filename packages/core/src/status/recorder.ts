import { minuteOf } from './activity.js';
import { redactor } from './redact.js';

/** How many of each kept: the page's memory stays the same however long the store runs. */
export const KEPT = {
  /** Records HiWelink will skip, per list, newest first. */
  skipped: 20,
  /** Ids of products without a link, per list, in the current crawl. */
  unlinked: 20,
  /** Warning and error lines the kit logged. */
  log: 50,
} as const;

/** A crawl pause longer than this (ms) ends it: the next page starts a new one. */
const CRAWL_GAP_MS = 15 * 60_000;

export type SeenRoute = 'health' | 'products' | 'orders' | 'openapi';

/** What a served list page held, for the crawl figures. */
export interface PageServed {
  page: number;
  perPage: number;
  lastPage: number;
  records: number;
  /** Records HiWelink will skip, with why. */
  skipped: { id: string | null; reason: string }[];
  /** Ids of products HiWelink can only link to the homepage. */
  unlinked: string[];
}

/** One answered request on the API paths. */
export interface Seen {
  route: SeenRoute;
  status: number;
  /** When the request came, in ms since the epoch. */
  at: number;
  durationMs: number;
  /** Fingerprint of the accepted credential. */
  credentialId?: string | undefined;
  page?: PageServed | undefined;
  /** What the store's log says went wrong, for a 5xx. */
  cause?: string | undefined;
}

/** One crawl: pages of a list served in order, from page 1 (or from where this process came in). */
export interface CrawlRun {
  startedAt: string;
  lastAt: string;
  /** First page of the run: 1 unless this process started mid-crawl. */
  fromPage: number;
  pages: number;
  records: number;
  perPage: number;
  lastPage: number;
  /** The last page has been served. */
  complete: boolean;
  /** From the first request to the end of the last answer, in ms. */
  durationMs: number;
}

export interface ListReport {
  lastRequestAt: string | null;
  /** Status of the last answer. */
  lastStatus: number | null;
  /** Answers since this process started, by HTTP status. */
  answers: Record<string, number>;
  lastCrawl: CrawlRun | null;
  lastFailure: { at: string; status: number; cause: string } | null;
  /** Fingerprint of the credential on the last accepted request. */
  lastCredential: string | null;
  skipped: { at: string; page: number; id: string | null; reason: string }[];
  /** Products without a link in the last crawl (count, and the first ids). */
  unlinked: { count: number; ids: string[] };
}

export interface LogLine {
  at: string;
  level: 'warn' | 'error';
  message: string;
}

export interface RequestMinute {
  /** Start of the minute, ISO 8601. */
  minute: string;
  requests: number;
  /** Answers with a 4xx or 5xx status. */
  errors: number;
}

interface Run {
  startedAt: number;
  lastAt: number;
  finishedAt: number;
  fromPage: number;
  lastServed: number;
  pages: number;
  records: number;
  perPage: number;
  lastPage: number;
  unlinkedCount: number;
  unlinkedIds: string[];
}

interface ListState {
  lastRequestAt: number | undefined;
  lastStatus: number | undefined;
  answers: Map<number, number>;
  run: Run | undefined;
  lastFailure: { at: number; status: number; cause: string } | undefined;
  lastCredential: string | undefined;
  skipped: { at: number; page: number; id: string | null; reason: string }[];
}

/** A time in ms since the epoch as the report writes it: ISO 8601 text. */
export const iso = (time: number) => new Date(time).toISOString();

/** Pushes to the front, keeping at most `max`. */
function keepNewest<T>(list: T[], entries: T[], max: number) {
  list.unshift(...entries.slice(-max).reverse());
  if (list.length > max) list.length = max;
}

/**
 * What HiWelink's crawler did to this process, in fixed-size memory: per route the answers by
 * status, the current or last crawl, the last failure, records it will skip; requests per minute
 * for the last hour; the kit's recent warning and error lines.
 */
export function createRecorder({
  now = Date.now,
  tidy = redactor([]),
}: {
  /** The clock, in ms since the epoch. */
  now?: () => number;
  /** Applied to every text kept (ids, reasons, causes, log lines): the page's `redactor`, to bound and clean them. */
  tidy?: (text: string) => string;
} = {}) {
  const lists = new Map<SeenRoute, ListState>();
  const minutes: { minute: number; requests: number; errors: number }[] = [];
  const log: LogLine[] = [];

  const stateOf = (route: SeenRoute): ListState => {
    let state = lists.get(route);
    if (!state) {
      state = {
        lastRequestAt: undefined,
        lastStatus: undefined,
        answers: new Map(),
        run: undefined,
        lastFailure: undefined,
        lastCredential: undefined,
        skipped: [],
      };
      lists.set(route, state);
    }
    return state;
  };

  function count(at: number, error: boolean) {
    const minute = minuteOf(at);
    let last = minutes[minutes.length - 1];
    if (last?.minute !== minute) {
      last = { minute, requests: 0, errors: 0 };
      minutes.push(last);
      if (minutes.length > 60) minutes.shift();
    }
    last.requests += 1;
    if (error) last.errors += 1;
  }

  function crawl(state: ListState, seen: Seen, page: PageServed) {
    const finishedAt = seen.at + seen.durationMs;
    let run = state.run;
    const same = run !== undefined && page.perPage === run.perPage && seen.at - run.lastAt < CRAWL_GAP_MS;
    // The page asked again (the crawler retrying one whose answer it lost) is still this crawl.
    const repeat = same && page.page > 1 && page.page === run?.lastServed;
    // Only the next page continues it: after a jump, "pages from N" would count pages never served.
    const continues = same && page.page === (run?.lastServed ?? 0) + 1 && page.page > 1;
    if (!run || !(continues || repeat)) {
      run = {
        startedAt: seen.at,
        lastAt: seen.at,
        finishedAt,
        fromPage: page.page,
        lastServed: 0,
        pages: 0,
        records: 0,
        perPage: page.perPage,
        lastPage: page.lastPage,
        unlinkedCount: 0,
        unlinkedIds: [],
      };
      state.run = run;
    }
    run.lastAt = seen.at;
    run.finishedAt = finishedAt;
    run.lastPage = page.lastPage;
    if (repeat) return;
    run.lastServed = page.page;
    run.pages += 1;
    run.records += page.records;
    run.unlinkedCount += page.unlinked.length;
    for (const id of page.unlinked)
      if (run.unlinkedIds.length < KEPT.unlinked) run.unlinkedIds.push(tidy(id));
    keepNewest(
      state.skipped,
      page.skipped.slice(-KEPT.skipped).map((entry) => ({
        at: seen.at,
        page: page.page,
        id: entry.id === null ? null : tidy(entry.id),
        reason: tidy(entry.reason),
      })),
      KEPT.skipped,
    );
  }

  return {
    /** Records one answered request. Cheap: a few map and array updates. */
    seen(seen: Seen) {
      const state = stateOf(seen.route);
      state.lastRequestAt = seen.at;
      state.lastStatus = seen.status;
      state.answers.set(seen.status, (state.answers.get(seen.status) ?? 0) + 1);
      if (seen.credentialId !== undefined) state.lastCredential = seen.credentialId;
      if (seen.status >= 500) {
        state.lastFailure = {
          at: seen.at,
          status: seen.status,
          cause: tidy(seen.cause ?? 'see the store log'),
        };
      }
      // An empty page past the last one is a probe (`hiwelink verify` asks for page 100000), not a crawl.
      const probe = seen.page !== undefined && seen.page.records === 0 && seen.page.page > seen.page.lastPage;
      if (seen.status === 200 && seen.page && !probe) crawl(state, seen, seen.page);
      if (seen.route !== 'openapi') count(seen.at, seen.status >= 400);
    },

    /** Keeps a warning or error line the kit logged. */
    note(level: 'warn' | 'error', message: string) {
      keepNewest(log, [{ at: iso(now()), level, message: tidy(message) }], KEPT.log);
    },

    /** The figures, ready for the page and its JSON. */
    report() {
      const list = (route: SeenRoute): ListReport => {
        const state = lists.get(route);
        const run = state?.run;
        return {
          lastRequestAt: state?.lastRequestAt === undefined ? null : iso(state.lastRequestAt),
          lastStatus: state?.lastStatus ?? null,
          answers: Object.fromEntries(
            [...(state?.answers ?? [])].sort(([a], [b]) => a - b).map(([status, n]) => [String(status), n]),
          ),
          lastCrawl: run
            ? {
                startedAt: iso(run.startedAt),
                lastAt: iso(run.lastAt),
                fromPage: run.fromPage,
                pages: run.pages,
                records: run.records,
                perPage: run.perPage,
                lastPage: run.lastPage,
                complete: run.lastServed >= run.lastPage,
                durationMs: Math.round(run.finishedAt - run.startedAt),
              }
            : null,
          lastFailure: state?.lastFailure ? { ...state.lastFailure, at: iso(state.lastFailure.at) } : null,
          lastCredential: state?.lastCredential ?? null,
          skipped: (state?.skipped ?? []).map((entry) => ({ ...entry, at: iso(entry.at) })),
          unlinked: { count: run?.unlinkedCount ?? 0, ids: run ? [...run.unlinkedIds] : [] },
        };
      };
      const current = minuteOf(now());
      const byMinute = new Map(minutes.map((entry) => [entry.minute, entry]));
      const perMinute: RequestMinute[] = Array.from({ length: 60 }, (_, index) => {
        const minute = current - (59 - index) * 60_000;
        const entry = byMinute.get(minute);
        return { minute: iso(minute), requests: entry?.requests ?? 0, errors: entry?.errors ?? 0 };
      });
      return {
        products: list('products'),
        orders: list('orders'),
        health: list('health'),
        perMinute,
        log: [...log],
      };
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;
export type CrawlReport = ReturnType<Recorder['report']>;
