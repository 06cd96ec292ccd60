import { createHmac, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import { basicGuard } from '../auth/basic.js';
import { credentialDigest, secretMatcher } from '../auth/credentials.js';
import { parseBasic, parseBearer } from '../auth/headers.js';
import { jsonResponse } from '../errors.js';
import type { CoreRequest, CoreResponse } from '../http.js';
import type { Logger } from '../logger.js';
import { LATE, within } from '../webhooks/within.js';
import { activitySchema, type DeliveryRecord, type WebhookActivity } from './activity.js';
import type { ResolvedStatus } from './options.js';
import { NOTICES, type Notice, renderPage, renderSignIn, STATUS_CSP } from './page.js';
import { type CrawlReport, iso } from './recorder.js';
import { redactor } from './redact.js';

/** The page's set-up section: what the kit was configured with, never a secret. */
export interface StatusSetup {
  paths: Record<string, string>;
  auth: { method: string; fingerprints: string[] };
  perPage: { default: number; max: number };
  rateLimit: { limit: number; windowMs: number } | null;
  allowIps: readonly string[] | null;
  requireHttps: boolean;
  timeoutMs: number;
  keyset: boolean;
  strict: boolean;
  storeBaseUrl: string | null;
  /** What the kit warned about when it started. */
  warnings: string[];
}

/** An event as the report lists it: `DeliveryRecord` with its times as ISO 8601 text. */
export type ReportedDelivery = Omit<DeliveryRecord, 'nextAttemptAt' | 'updatedAt'> & {
  nextAttemptAt?: string;
  updatedAt: string;
};

/** The emitter's activity as the report carries it: every time as ISO 8601 text, as elsewhere in it. */
export type ReportedActivity = Omit<WebhookActivity, 'recent' | 'perMinute'> & {
  recent: ReportedDelivery[];
  perMinute: { minute: string; delivered: number; failed: number }[];
};

/** The webhooks part of the report: the emitter's activity, or why there is none. */
export type WebhooksReport =
  | { connected: false }
  | { connected: true; error: string }
  | ({ connected: true } & ReportedActivity);

/** `activity` with its times (ms since the epoch, as emitters keep them) as ISO 8601 text. */
function reported(activity: WebhookActivity): ReportedActivity {
  return {
    ...activity,
    recent: activity.recent.map(({ nextAttemptAt, updatedAt, ...record }) => ({
      ...record,
      ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: iso(nextAttemptAt) }),
      updatedAt: iso(updatedAt),
    })),
    perMinute: activity.perMinute.map((minute) => ({ ...minute, minute: iso(minute.minute) })),
  };
}

/** What the page shows, as JSON (`Accept: application/json`) and as HTML. */
export interface StatusReport {
  /** Which process answered: crawl figures are this instance's own; durable queue figures are every instance's. */
  instance: { id: string; startedAt: string };
  generatedAt: string;
  crawls: Pick<CrawlReport, 'products' | 'orders' | 'health'>;
  /** API requests per minute over the last hour, this instance. */
  requestsPerMinute: CrawlReport['perMinute'];
  webhooks: WebhooksReport;
  setup: StatusSetup;
  /** The kit's recent warning and error lines, newest first. */
  log: CrawlReport['log'];
  /** What a POST needs: `?action=...&csrf=<csrf>`. */
  actions: { csrf: string; available: Action[] };
}

export type Action = 'resend' | 'test-event' | 'sync';

const ACTIONS: Action[] = ['resend', 'test-event', 'sync'];
/** How long an action may take, in ms; past it the answer is 503 and the log says why. */
const ACTION_TIMEOUT_MS = 10_000;
const EVENT_ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const REALM = 'Basic realm="hiwelink-status", charset="UTF-8"';

/** The dependencies the route reads; the handler supplies them. */
export interface StatusContext {
  status: ResolvedStatus;
  setup: StatusSetup;
  report: () => CrawlReport;
  logger: Logger;
  /** The first product of the catalogue, mapped by the emitter, for the test event; `undefined` when there is none. */
  firstProduct: (signal: AbortSignal) => Promise<unknown>;
}

const started = new Date().toISOString();
const instanceId = `${hostname()}:${process.pid}`;

/**
 * The status page's route: GET and HEAD answer the report (HTML when the client accepts
 * `text/html`, else JSON), POST runs an action. Everything behind the page's own credential; a POST
 * also needs the CSRF token and, from a browser, a same-origin `Sec-Fetch-Site`.
 */
export function createStatusRoute(context: StatusContext) {
  const { status, logger } = context;
  const webhooks = status.webhooks;
  const own = 'bearer' in status.auth ? status.auth.bearer : status.auth.basic.password;
  const csrf = createHmac('sha256', credentialDigest(own))
    .update('hiwelink status page actions')
    .digest('base64url')
    .slice(0, 32);
  const token = 'bearer' in status.auth ? secretMatcher([status.auth.bearer]) : undefined;
  const basic = 'basic' in status.auth ? basicGuard([status.auth.basic], 'hiwelink-status') : undefined;

  /** A token as Bearer (CLI, curl) or as the password of the browser's prompt; or the basic user. */
  function signedIn(request: CoreRequest): boolean {
    const header = request.headers.authorization;
    if (basic) return basic.authenticate(request) !== null;
    const presented = parseBearer(header) ?? parseBasic(header)?.password;
    return presented !== undefined && presented !== null && token?.(presented) != null;
  }

  // Every text, the emitter's included: no secret, no email, no megabyte of it.
  const scrub = redactor(status.secrets);

  const scrubDeep = (value: unknown): unknown =>
    typeof value === 'string'
      ? scrub(value)
      : Array.isArray(value)
        ? value.map(scrubDeep)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, scrubDeep(entry)]))
          : value;

  async function webhooksReport(): Promise<WebhooksReport> {
    if (!webhooks) return { connected: false };
    try {
      const answered = activitySchema.safeParse(await webhooks.activity({ limit: 50, timeoutMs: 2000 }));
      if (answered.success) return { connected: true, ...reported(answered.data as WebhookActivity) };
      const issue = answered.error.issues[0];
      return {
        connected: true,
        error: `the emitter's activity() answered something else than its figures: ${issue?.path.join('.') || 'the answer'}: ${issue?.message}`,
      };
    } catch (error) {
      return { connected: true, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async function report(): Promise<StatusReport> {
    const crawl = context.report();
    return scrubDeep({
      instance: { id: instanceId, startedAt: started },
      generatedAt: new Date().toISOString(),
      crawls: { products: crawl.products, orders: crawl.orders, health: crawl.health },
      requestsPerMinute: crawl.perMinute,
      webhooks: await webhooksReport(),
      setup: context.setup,
      log: crawl.log,
      actions: { csrf, available: webhooks?.enabled ? ACTIONS : [] },
    }) as StatusReport;
  }

  const wantsHtml = (request: CoreRequest) => {
    const accept = request.headers.accept;
    return (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).includes('text/html');
  };

  const html = (statusCode: number, body: string, extra: Record<string, string> = {}): CoreResponse => ({
    status: statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'content-security-policy': STATUS_CSP,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      ...extra,
    },
    body,
  });

  const problem = (statusCode: number, code: string, error: string, extra?: Record<string, string>) =>
    jsonResponse(statusCode, { error, code }, extra);

  function csrfHolds(presented: string | null): boolean {
    if (presented === null || presented.length !== csrf.length) return false;
    return timingSafeEqual(Buffer.from(presented), Buffer.from(csrf));
  }

  /** Runs an action; the outcome is a notice for the page, with the HTTP status a JSON client gets. */
  async function act(action: Action, query: URLSearchParams): Promise<[number, Notice]> {
    if (!webhooks) return [409, 'refused'];
    if (action === 'resend') {
      const result = await webhooks.resend(query.get('id') ?? '');
      return result === 'resent' ? [200, 'resent'] : [404, 'not_found'];
    }
    if (action === 'sync') return (await webhooks.requestSync()) ? [200, 'sync_requested'] : [409, 'refused'];
    const product = await context.firstProduct(AbortSignal.timeout(ACTION_TIMEOUT_MS));
    if (product === undefined) return [409, 'test_empty'];
    return (await webhooks.productUpdated(product)) ? [200, 'test_sent'] : [409, 'refused'];
  }

  async function post(request: CoreRequest, query: URLSearchParams): Promise<CoreResponse> {
    // A browser says where a request comes from; only the page's own forms may act.
    const site = request.headers['sec-fetch-site'];
    if (!csrfHolds(query.get('csrf')) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      return problem(
        403,
        'csrf_failed',
        'This action needs the csrf value of the page (actions.csrf in its JSON)',
      );
    }
    const action = query.get('action') as Action | null;
    if (action === null || !ACTIONS.includes(action)) {
      return problem(400, 'invalid_action', `action must be one of ${ACTIONS.join(', ')}`);
    }
    if (action === 'resend' && !EVENT_ID.test(query.get('id') ?? '')) {
      return problem(400, 'invalid_action', 'resend needs id: the event webhook-id');
    }
    if (webhooks && !webhooks.enabled) {
      return problem(
        409,
        'webhooks_off',
        'Webhooks are off: set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN',
      );
    }
    let outcome: [number, Notice];
    try {
      // A Redis that hangs would hold the browser's request forever: the action gets a budget.
      const done = await within(act(action, query), ACTION_TIMEOUT_MS);
      if (done === LATE) throw new Error(`no answer within ${ACTION_TIMEOUT_MS} ms (is Redis reachable?)`);
      outcome = done;
    } catch (error) {
      logger.error({ err: error, action }, `status page: ${action} failed`);
      outcome = [503, 'failed'];
    }
    const [statusCode, notice] = outcome;
    if (wantsHtml(request)) {
      // Post/Redirect/Get: a reload does not repeat the action. Relative, so any mount prefix holds.
      return {
        status: 303,
        headers: { location: `?notice=${notice}`, 'cache-control': 'no-store' },
        body: '',
      };
    }
    return statusCode === 200
      ? jsonResponse(200, { ok: true, action, notice, message: NOTICES[notice] })
      : problem(statusCode, notice, NOTICES[notice]);
  }

  return {
    async handle(request: CoreRequest): Promise<CoreResponse> {
      const method = request.method;
      if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
        return problem(405, 'method_not_allowed', `Method ${method} is not allowed here`, {
          allow: 'GET, HEAD, POST',
        });
      }
      if (!signedIn(request)) {
        const challenge = { 'www-authenticate': REALM };
        return wantsHtml(request)
          ? html(401, renderSignIn('bearer' in status.auth), challenge)
          : problem(401, 'unauthorized', 'The status page needs its own credential', challenge);
      }
      const query = new URLSearchParams(request.query);
      if (method === 'POST') return post(request, query);
      const current = await report();
      if (!wantsHtml(request) || query.get('format') === 'json') return jsonResponse(200, current);
      const notice = query.get('notice');
      return html(
        200,
        // Own keys only: `in` would find `toString` and the rest of the prototype too.
        renderPage(
          current,
          notice !== null && Object.hasOwn(NOTICES, notice) ? (notice as Notice) : undefined,
        ),
      );
    },
  };
}
