import { parseArgs } from 'node:util';
import type { ListReport, ReportedDelivery, StatusReport } from '@hiwelink/core';
import { formatTable } from './report.js';
import { readCapped, whyNoAnswer } from './verify.js';

/*
 * `hiwelink status <url>`: the store's status page (the kit's `status` option) read as JSON and
 * printed as tables. Not `hiwelink webhooks status` (status.ts), which reads the durable queue's
 * counts straight from Redis.
 */

export const STORE_STATUS_USAGE = `hiwelink status <status-page-url> [--token T] [--json] [--timeout-ms 10000]
                  [--resend <webhook-id> | --test-event | --request-sync]
      The token is --token, else the HIWELINK_STATUS_TOKEN environment variable (--token wins).`;

/** The most of the page's JSON read: it holds at most a few hundred kept entries. */
const MAX_BYTES = 8 * 1024 * 1024;

/** What a failed run prints: one line, no stack. */
class StatusFailure extends Error {}

/** `url` without user and password, for printing. */
function shown(url: URL): string {
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/** The answer of one request to the page, parsed; a failure that says what went wrong otherwise. */
async function request(
  url: URL,
  init: { method: 'GET' | 'POST'; token: string; tokenFrom: string; timeoutMs: number },
): Promise<{ status: number; body: unknown }> {
  let response: Response;
  let text: string | undefined;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: { accept: 'application/json', authorization: `Bearer ${init.token}` },
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    text = await readCapped(response, MAX_BYTES);
  } catch (error) {
    if (refused(error)) {
      throw new StatusFailure(
        `nothing answers at ${url.host} (connection refused): is the store running, and on that port?`,
      );
    }
    throw new StatusFailure(`no answer from ${shown(url)}: ${whyNoAnswer(error, init.timeoutMs)}`);
  }
  // Only the status page challenges with its realm: any other 401 is another guard (HiWelink's API,
  // another app), so the URL is wrong, not the token.
  if (
    response.status === 401 &&
    !/realm="hiwelink-status"/i.test(response.headers.get('www-authenticate') ?? '')
  ) {
    throw new StatusFailure(
      `${shown(url)} answered 401 but is not the status page (its 401 does not come from it): check the URL, the path of the kit's status option (e.g. /hiwelink/status)`,
    );
  }
  if (response.status === 401) {
    throw new StatusFailure(
      `the status page at ${shown(url)} refused the token (401): the token from ${init.tokenFrom} is not the page's (the store's STATUS_TOKEN)`,
    );
  }
  if (text === undefined) {
    throw new StatusFailure(
      `${shown(url)} answered ${response.status} with over ${MAX_BYTES} bytes: not a status page`,
    );
  }
  const type = response.headers.get('content-type') ?? 'no content type';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new StatusFailure(
      `${shown(url)} answered ${response.status} with ${type.split(';')[0]}, not JSON: is this the status page's URL (the path of the kit's status option)?`,
    );
  }
  return { status: response.status, body };
}

/** Whether fetch failed because the connection was refused: nothing listens at the address. */
function refused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } }).cause;
  // A name with several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError.
  return [cause?.code, ...(cause?.errors ?? []).map((each) => each.code)].includes('ECONNREFUSED');
}

/** The page's own words for a refusal (`{ error }`), shortened; empty when it gave none. */
function saying(body: unknown): string {
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === 'string' ? `: ${error.slice(0, 300)}` : '';
}

/** Whether `body` has the shape of the page's report (the parts the tables read). */
function isReport(body: unknown): body is StatusReport {
  const report = body as Partial<StatusReport> | null;
  const list = (value: unknown) =>
    typeof value === 'object' && value !== null && 'answers' in value && 'skipped' in value;
  return (
    typeof report?.instance?.id === 'string' &&
    list(report.crawls?.products) &&
    list(report.crawls?.orders) &&
    list(report.crawls?.health) &&
    typeof report.webhooks?.connected === 'boolean' &&
    typeof report.setup?.auth === 'object' &&
    Array.isArray(report.log) &&
    typeof report.actions?.csrf === 'string'
  );
}

const ms = (value: number | undefined) =>
  value === undefined ? '—' : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;

/**
 * An ISO time as `2025-01-31 12:00:00 UTC (3 min ago)`, or `(in 8 s)` when it is still to come (a
 * next attempt), counted from the report's own clock.
 */
function when(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const delta = Math.round((now - Date.parse(iso)) / 1000);
  const seconds = Math.abs(delta);
  const span =
    seconds < 60
      ? `${seconds} s`
      : seconds < 3600
        ? `${Math.floor(seconds / 60)} min`
        : seconds < 172_800
          ? `${Math.floor(seconds / 3600)} h`
          : `${Math.floor(seconds / 86_400)} d`;
  return `${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} (${delta < 0 ? `in ${span}` : `${span} ago`})`;
}

const answers = (list: ListReport) =>
  Object.entries(list.answers)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ') || 'none yet';

function crawlsSection(report: StatusReport, now: number): string[] {
  const { products, orders, health } = report.crawls;
  const rows = (
    [
      ['products', products],
      ['orders', orders],
      ['health', health],
    ] as const
  ).map(([name, list]) => {
    const run = name === 'health' ? null : list.lastCrawl;
    return [
      name,
      when(list.lastRequestAt, now),
      run ? `${run.pages} from page ${run.fromPage}` : name === 'health' ? '' : 'no crawl yet',
      run ? String(run.records) : '',
      run ? ms(run.durationMs) : '',
      run ? (run.complete ? 'yes' : `no (at page ${run.fromPage + run.pages - 1} of ${run.lastPage})`) : '',
      answers(list),
      list.lastFailure
        ? `${list.lastFailure.status} at ${when(list.lastFailure.at, now)}: ${list.lastFailure.cause}`
        : '',
    ];
  });
  const lines = [
    'Crawls by HiWelink (this instance)',
    formatTable(
      ['LIST', 'LAST REQUEST', 'PAGES', 'RECORDS', 'DURATION', 'COMPLETE', 'ANSWERS', 'LAST FAILURE'],
      rows,
    ),
  ];
  const unauthorized = [products, orders, health].reduce((sum, list) => sum + (list.answers['401'] ?? 0), 0);
  if (unauthorized > 0) {
    // As the page says it: failing now only when the latest request was refused.
    const latest = [products, orders, health].sort((a, b) =>
      (b.lastRequestAt ?? '').localeCompare(a.lastRequestAt ?? ''),
    )[0];
    lines.push(
      latest?.lastStatus === 401
        ? `  ! ${unauthorized} request(s) answered 401 (no credential, or a wrong one), the latest one too: if HiWelink sent it, the key in its dashboard is not the one configured here.`
        : `  ${unauthorized} request(s) answered 401 (no credential, or a wrong one); requests accepted since (hiwelink verify sends a few on purpose).`,
    );
  }
  const used = products.lastCredential ?? orders.lastCredential;
  const configured = report.setup.auth.fingerprints;
  const verdict =
    used === null
      ? 'no accepted request yet'
      : configured.length === 0
        ? 'not comparable (no fingerprint for this auth method)'
        : configured.includes(used)
          ? 'matches the configured one'
          : 'is not among the configured ones';
  lines.push(
    `  Credential of the last accepted request: ${used ?? '—'} (configured: ${configured.join(', ') || '—'}): ${verdict}`,
  );
  const skipped = [
    ...products.skipped.map((entry) => ['products', entry] as const),
    ...orders.skipped.map((entry) => ['orders', entry] as const),
  ];
  lines.push('', `Records HiWelink will skip: ${skipped.length || 'none'}`);
  if (skipped.length > 0) {
    lines.push(
      formatTable(
        ['LIST', 'ID', 'PAGE', 'WHY'],
        skipped.map(([list, entry]) => [list, entry.id ?? '(no id)', String(entry.page), entry.reason]),
      ),
    );
  }
  lines.push(
    '',
    products.unlinked.count > 0
      ? `Products without a link in the last crawl: ${products.unlinked.count} (HiWelink links them to the homepage): ${products.unlinked.ids.join(', ')}`
      : 'Products without a link in the last crawl: none',
  );
  const hour = report.requestsPerMinute.reduce(
    (sum, minute) => ({ requests: sum.requests + minute.requests, errors: sum.errors + minute.errors }),
    { requests: 0, errors: 0 },
  );
  lines.push(`API requests in the last hour: ${hour.requests} (${hour.errors} answered 4xx or 5xx)`);
  return lines;
}

function deliveryRow(record: ReportedDelivery, now: number): string[] {
  return [
    when(record.updatedAt, now),
    record.event,
    record.entity,
    record.state.replace('_', ' '),
    String(record.attempts),
    // A reason that only repeats the status (`HTTP 500`) is shown once, as the status.
    [record.lastStatus, record.lastReason === `HTTP ${record.lastStatus}` ? undefined : record.lastReason]
      .filter((part) => part !== undefined)
      .join(' ') || '—',
    ms(record.latencyMs),
    record.nextAttemptAt === undefined ? '—' : when(record.nextAttemptAt, now),
    record.id,
  ];
}

function webhooksSection(report: StatusReport, now: number): string[] {
  const hooks = report.webhooks;
  if (!hooks.connected) {
    return ['Webhooks: not connected to the page (pass status: { webhooks: emitter } to see deliveries)'];
  }
  if ('error' in hooks) return [`Webhooks: the figures could not be read: ${hooks.error}`];
  if (!hooks.enabled) return ['Webhooks: off (set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN)'];
  const { counts } = hooks;
  const lines = [
    `Webhooks (${hooks.source === 'redis' ? 'from Redis: every instance on the queue' : 'this instance only: in-memory emitter'})`,
    `  queued ${counts.queued}  in flight ${counts.inFlight}  delivered ${counts.delivered}  retrying ${counts.retrying}  given up ${counts.givenUp}${counts.dead === undefined ? '' : `  dead ${counts.dead}`}`,
  ];
  lines.push(
    hooks.recent.length === 0
      ? '  No events yet.'
      : formatTable(
          [
            'CHANGED',
            'EVENT',
            'ENTITY',
            'STATE',
            'ATTEMPTS',
            'LAST ANSWER',
            'LATENCY',
            'NEXT ATTEMPT',
            'WEBHOOK-ID',
          ],
          hooks.recent.map((record) => deliveryRow(record, now)),
        ),
  );
  return lines;
}

function setupSection(report: StatusReport): string[] {
  const setup = report.setup;
  const rows = [
    ...Object.entries(setup.paths).map(([name, path]) => [`path: ${name}`, path]),
    ['auth', `${setup.auth.method} ${setup.auth.fingerprints.join(' ')}`.trim()],
    ['per_page', `default ${setup.perPage.default}, max ${setup.perPage.max}`],
    [
      'rate limit',
      setup.rateLimit ? `${setup.rateLimit.limit} per ${setup.rateLimit.windowMs / 1000} s` : 'off',
    ],
    ['allowed addresses', setup.allowIps ? setup.allowIps.join(' ') : 'all'],
    ['callback timeout', ms(setup.timeoutMs)],
    ['store URL', setup.storeBaseUrl ?? '—'],
    ['startup warnings', setup.warnings.length === 0 ? 'none' : setup.warnings.join('\n    ')],
  ];
  return ['Set-up', formatTable(['SETTING', 'VALUE'], rows)];
}

function logSection(report: StatusReport, now: number): string[] {
  // The kit's own lines: the emitter logs delivery failures to its own logger (the Webhooks section has them).
  if (report.log.length === 0)
    return ['Recent warnings and errors of the API: none (webhook failures are under Webhooks)'];
  return [
    'Recent warnings and errors of the API (this instance, newest first; webhook failures are under Webhooks)',
    formatTable(
      ['AT', 'LEVEL', 'MESSAGE'],
      report.log.map((line) => [when(line.at, now), line.level, line.message]),
    ),
  ];
}

/** The report as the terminal shows it: the page's sections, in its order, as text tables. */
export function formatStatus(report: StatusReport, url: string): string {
  const now = Date.parse(report.generatedAt);
  return [
    `HiWelink status: ${url}`,
    `instance ${report.instance.id}, up since ${when(report.instance.startedAt, now)}, as of ${report.generatedAt}`,
    '',
    ...crawlsSection(report, now),
    '',
    ...webhooksSection(report, now),
    '',
    ...setupSection(report),
    '',
    ...logSection(report, now),
  ].join('\n');
}

/**
 * `hiwelink status <url>`: prints the store's status page (tables, or the raw JSON with `--json`),
 * or runs one of its actions. Resolves with the exit code: 0 when the page answered (and the action
 * was done), 1 when it could not be read, refused the token or refused the action, each said in one
 * line on stderr that never holds the token.
 * @throws {TypeError} for arguments it cannot use (no URL, no token, a bad --timeout-ms)
 */
export async function storeStatus(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      token: { type: 'string' },
      json: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      resend: { type: 'string' },
      'test-event': { type: 'boolean' },
      'request-sync': { type: 'boolean' },
    },
  });
  const given = positionals[0];
  if (!given || positionals.length > 1) {
    throw new TypeError('status takes one URL: the status page, e.g. http://localhost:3000/hiwelink/status');
  }
  let url: URL | undefined;
  try {
    url = new URL(given);
  } catch {}
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new TypeError(`'${given}' is not an http(s) URL, e.g. http://localhost:3000/hiwelink/status`);
  }
  const tokenFrom = values.token !== undefined ? '--token' : 'HIWELINK_STATUS_TOKEN';
  const token = (values.token ?? process.env.HIWELINK_STATUS_TOKEN ?? '').trim();
  if (token === '') {
    throw new TypeError(
      'status needs the page token: --token T, or HIWELINK_STATUS_TOKEN in the environment',
    );
  }
  // Checked here so that fetch never puts the token in an error message of its own.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError(`the token from ${tokenFrom} holds characters no HTTP header can carry`);
  }
  const timeoutMs = values['timeout-ms'] === undefined ? 10_000 : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new TypeError('--timeout-ms takes a positive integer');
  const actions = [
    values.resend !== undefined ? 'resend' : undefined,
    values['test-event'] ? 'test-event' : undefined,
    values['request-sync'] ? 'sync' : undefined,
  ].filter((action) => action !== undefined);
  if (actions.length > 1) throw new TypeError('give one of --resend, --test-event, --request-sync');

  const options = { token, tokenFrom, timeoutMs };
  try {
    const answer = await request(url, { ...options, method: 'GET' });
    if (answer.status !== 200) {
      throw new StatusFailure(
        `${shown(url)} answered ${answer.status}${saying(answer.body)}${answer.status === 404 ? ": is this the status page URL (the path of the kit's status option)?" : ''}`,
      );
    }
    if (!isReport(answer.body)) {
      throw new StatusFailure(
        `${shown(url)} answered JSON that is not a HiWelink status report: is this the status page's URL?`,
      );
    }
    const report = answer.body;
    const action = actions[0];
    if (action === undefined) {
      console.log(values.json ? JSON.stringify(report, null, 2) : formatStatus(report, shown(url)));
      return 0;
    }
    if (!report.actions.available.includes(action as StatusReport['actions']['available'][number])) {
      throw new StatusFailure(
        'the status page offers no actions: no webhook emitter is connected to it (status.webhooks), or webhooks are off',
      );
    }
    const target = new URL(url);
    target.searchParams.set('action', action);
    if (values.resend !== undefined) target.searchParams.set('id', values.resend);
    target.searchParams.set('csrf', report.actions.csrf);
    const done = await request(target, { ...options, method: 'POST' });
    const message = (done.body as { message?: unknown } | null)?.message;
    if (values.json) console.log(JSON.stringify(done.body, null, 2));
    else if (done.status === 200) console.log(typeof message === 'string' ? message : `${action}: done`);
    if (done.status !== 200) {
      // The page's own message, as is: a 409 may mean the event is held and sent later, not lost.
      throw new StatusFailure(`${action}: the page answered ${done.status}${saying(done.body)}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof StatusFailure)) throw error;
    console.error(`hiwelink: ${error.message}`);
    return 1;
  }
}
