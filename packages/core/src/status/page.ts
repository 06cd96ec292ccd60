import { createHash } from 'node:crypto';
import type { ListReport, RequestMinute } from './recorder.js';
import type { ReportedActivity, ReportedDelivery, StatusReport } from './route.js';

/** Messages shown after an action; the page shows only these, never text from the URL. */
export const NOTICES = {
  resent: 'The event is queued again, with its webhook-id.',
  not_found:
    'No given-up or dead event with that webhook-id is kept: only those can be resent (a delivered one needs no resend; an older one may have aged out).',
  test_sent: 'Test event queued: product.updated for the first product of your catalogue.',
  test_empty: 'No test event: the products callback returned no product.',
  sync_requested: 'Full sync requested: sync.requested is queued.',
  refused:
    "The emitter did not confirm it has the event (is Redis answering?): it may be held in memory and sent later; see the webhooks figures and the store's log before trying again.",
  failed: "The action failed; the store's log says why.",
} as const;
export type Notice = keyof typeof NOTICES;

// The page's only style sheet, allowed by its hash: no inline style attribute, no script, nothing
// fetched from anywhere.
const CSS = `
:root{color-scheme:light dark;--bg:#f7f7f5;--card:#fff;--ink:#1d1d1b;--dim:#6b6b66;--line:#e3e3de;--ok:#1a7f37;--warn:#9a6700;--bad:#c62828;--bar:#3b6fd8}
@media (prefers-color-scheme:dark){:root{--bg:#151515;--card:#1f1f1f;--ink:#ececea;--dim:#a0a09a;--line:#333;--ok:#4ac26b;--warn:#d4a72c;--bad:#ff6b6b;--bar:#6f9bff}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{padding:16px 24px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:8px 24px;align-items:baseline}
header h1{font-size:18px;margin:0}header span,.dim{color:var(--dim)}main{padding:16px 24px;display:grid;gap:16px;max-width:1200px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;overflow-x:auto}
h2{font-size:15px;margin:0 0 10px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal}th{font-weight:600;color:var(--dim);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.counts{display:flex;flex-wrap:wrap;gap:8px 20px;margin-bottom:10px}.counts b{font-size:20px;display:block}
.notice{background:var(--card);border:1px solid var(--ok);border-radius:8px;padding:10px 16px}
form{display:inline;margin:0}button{font:inherit;padding:3px 10px;border-radius:6px;border:1px solid var(--line);background:var(--bg);color:var(--ink);cursor:pointer}
.actions{display:flex;gap:8px;margin:8px 0}svg{display:block;width:100%;height:auto}svg line{stroke:var(--line)}svg .req{fill:var(--bar)}svg .err,svg .fail{fill:var(--bad)}svg .del{fill:var(--ok)}svg text{fill:var(--dim);font-size:11px}
`;

/** The page's Content-Security-Policy: nothing but its own style sheet and forms posting to itself. */
export const STATUS_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** Text for HTML content and attribute values. */
const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

/** The day the page is rendered, UTC: a time on it is shown without its date. */
let today = '';

const time = (iso: string | null | undefined) => {
  if (!iso) return '—';
  const shown = iso.replace(/\.\d+Z$/, '').replace('T', ' ');
  return `<time datetime="${esc(iso)}">${esc(shown.startsWith(today) ? shown.slice(11) : shown)} UTC</time>`;
};

const ms = (value: number | undefined) =>
  value === undefined ? '—' : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;

const statusClass = (status: string | number) => {
  const code = Number(status);
  return code >= 500 ? 'bad' : code >= 400 ? 'warn' : 'ok';
};

function answers(list: ListReport): string {
  const entries = Object.entries(list.answers);
  if (entries.length === 0) return '<span class="dim">none yet</span>';
  return entries
    .map(([status, n]) => `<span class="${statusClass(status)}">${esc(status)}×${n}</span>`)
    .join(' ');
}

function crawlRow(name: string, list: ListReport, withCrawl: boolean): string {
  const run = list.lastCrawl;
  const crawl =
    withCrawl && run
      ? `${run.pages} page(s) from ${run.fromPage}, ${run.records} record(s), ${esc(ms(run.durationMs))}${run.complete ? '' : ` <span class="warn">(at page ${run.fromPage + run.pages - 1} of ${run.lastPage})</span>`}`
      : withCrawl
        ? '<span class="dim">no crawl yet</span>'
        : '';
  const failure = list.lastFailure
    ? `<span class="bad">${list.lastFailure.status}</span> ${time(list.lastFailure.at)}: ${esc(list.lastFailure.cause)}`
    : '';
  return `<tr><th>${esc(name)}</th><td>${time(list.lastRequestAt)}</td><td>${crawl}</td><td>${answers(list)}</td><td class="wrap">${failure}</td></tr>`;
}

function crawls(report: StatusReport): string {
  const { products, orders, health } = report.crawls;
  const skipped = [
    ...products.skipped.map((entry) => ({ list: 'products', ...entry })),
    ...orders.skipped.map((entry) => ({ list: 'orders', ...entry })),
  ];
  const skippedRows = skipped
    .map(
      (entry) =>
        `<tr><td>${esc(entry.list)}</td><td><code>${esc(entry.id ?? '(no id)')}</code></td><td>${entry.page}</td><td class="wrap">${esc(entry.reason)}</td></tr>`,
    )
    .join('');
  const unlinked = products.unlinked.count
    ? `<p class="warn">${products.unlinked.count} product(s) in the last crawl have neither permalink nor slug; HiWelink links them to the homepage: ${products.unlinked.ids.map((id) => `<code>${esc(id)}</code>`).join(', ')}</p>`
    : '';
  const credential = products.lastCredential ?? orders.lastCredential;
  const unauthorized =
    (products.answers['401'] ?? 0) + (orders.answers['401'] ?? 0) + (health.answers['401'] ?? 0);
  // The latest request on any path was refused: HiWelink is failing now, not only once.
  const latest = [products, orders, health].sort((a, b) =>
    (b.lastRequestAt ?? '').localeCompare(a.lastRequestAt ?? ''),
  )[0];
  const failing = latest?.lastStatus === 401;
  return `<section id="crawls"><h2>Crawls by HiWelink (this instance)</h2>
<table><thead><tr><th>List</th><th>Last request</th><th>Last crawl</th><th>Answers</th><th>Last failure</th></tr></thead><tbody>
${crawlRow('products', products, true)}${crawlRow('orders', orders, true)}${crawlRow('health', health, false)}</tbody></table>
${unauthorized ? `<p class="${failing ? 'warn' : 'dim'}">${unauthorized} request(s) answered 401 (no credential, or a wrong one).${failing ? ' The last request was one of them: if HiWelink sent it, the key in its dashboard is not the one configured here.' : ' Requests accepted since; <code>hiwelink verify</code> sends a few on purpose.'}</p>` : ''}
<p class="dim">Credential used by the last accepted request: <code>${esc(credential ?? '—')}</code> (configured: ${report.setup.auth.fingerprints.map((id) => `<code>${esc(id)}</code>`).join(', ') || '—'})</p>
${unlinked}
${skipped.length ? `<h2>Records HiWelink will skip</h2><table><thead><tr><th>List</th><th>Id</th><th>Page</th><th>Why</th></tr></thead><tbody>${skippedRows}</tbody></table>` : ''}
</section>`;
}

/** `deliveries` is a string when there are none to draw: why (not connected, unreadable). */
function chart(requests: RequestMinute[], deliveries: ReportedActivity['perMinute'] | string): string {
  const width = 1000;
  const height = 60;
  const step = width / 60;
  const bars = (
    values: { top: number; bottom: number; label: string }[],
    max: number,
    top: string,
    bottom: string,
    y0: number,
  ) =>
    values
      .map((value, index) => {
        const x = (index * step).toFixed(1);
        const total = value.top + value.bottom;
        if (total === 0) return '';
        const h = Math.max(1, (total / max) * height);
        const hb = (value.bottom / total) * h;
        return `<g><title>${esc(value.label)}</title><rect class="${top}" x="${x}" y="${(y0 + height - h).toFixed(1)}" width="${(step - 1).toFixed(1)}" height="${(h - hb).toFixed(1)}"/>${hb > 0 ? `<rect class="${bottom}" x="${x}" y="${(y0 + height - hb).toFixed(1)}" width="${(step - 1).toFixed(1)}" height="${hb.toFixed(1)}"/>` : ''}</g>`;
      })
      .join('');
  const clock = (iso: string) => iso.slice(11, 16);
  const req = requests.map((minute) => ({
    top: minute.requests - minute.errors,
    bottom: minute.errors,
    label: `${clock(minute.minute)}: ${minute.requests} request(s), ${minute.errors} error(s)`,
  }));
  const del = (typeof deliveries === 'string' ? [] : deliveries).map((minute) => ({
    top: minute.delivered,
    bottom: minute.failed,
    label: `${clock(minute.minute)}: ${minute.delivered} delivered, ${minute.failed} failed attempt(s)`,
  }));
  const max = (values: { top: number; bottom: number }[]) =>
    Math.max(1, ...values.map((value) => value.top + value.bottom));
  const total = (values: { top: number; bottom: number }[]) =>
    values.reduce((sum, value) => sum + value.top + value.bottom, 0);
  return `<section id="chart"><h2>The last hour</h2>
<svg viewBox="0 0 ${width} ${2 * height + 44}" role="img" aria-label="API requests and webhook deliveries per minute over the last hour">
<text x="0" y="10">API requests per minute (${total(req)}; errors in red)</text>${bars(req, max(req), 'req', 'err', 14)}<line x1="0" x2="${width}" y1="${height + 14.5}" y2="${height + 14.5}"/>
<text x="0" y="${height + 30}">Webhook attempts per minute (${typeof deliveries === 'string' ? deliveries : total(del)}; failed in red)</text>${bars(del, max(del), 'del', 'fail', height + 34)}<line x1="0" x2="${width}" y1="${2 * height + 34.5}" y2="${2 * height + 34.5}"/>
</svg><p class="dim">60 minutes, the current one last.</p></section>`;
}

function actionForm(csrf: string, action: string, label: string, id?: string): string {
  const query = `?action=${encodeURIComponent(action)}${id === undefined ? '' : `&id=${encodeURIComponent(id)}`}&csrf=${encodeURIComponent(csrf)}`;
  return `<form method="post" action="${esc(query)}"><button type="submit">${esc(label)}</button></form>`;
}

function deliveryRow(record: ReportedDelivery, csrf: string, canAct: boolean): string {
  const stateClass =
    record.state === 'delivered'
      ? 'ok'
      : record.state === 'given_up' || record.state === 'dead'
        ? 'bad'
        : 'warn';
  const last = [
    record.lastStatus === undefined
      ? ''
      : `<span class="${statusClass(record.lastStatus)}">${record.lastStatus}</span>`,
    // `HTTP 503` says no more than the status beside it.
    record.lastReason === undefined || record.lastReason === `HTTP ${record.lastStatus}`
      ? ''
      : esc(record.lastReason),
  ]
    .filter(Boolean)
    .join(' ');
  const next = record.nextAttemptAt === undefined ? '' : `next attempt ${time(record.nextAttemptAt)}`;
  const resend =
    canAct && (record.state === 'given_up' || record.state === 'dead')
      ? actionForm(csrf, 'resend', 'Resend', record.id)
      : '';
  return `<tr><td>${time(record.updatedAt)}</td><td>${esc(record.event)}</td><td><code>${esc(record.entity)}</code></td><td class="${stateClass}">${esc(record.state.replace('_', ' '))}</td><td>${record.attempts}</td><td class="wrap">${last} ${next}</td><td>${esc(ms(record.latencyMs))}</td><td><code>${esc(record.id)}</code></td><td>${resend}</td></tr>`;
}

function webhooks(report: StatusReport): string {
  const section = (body: string) => `<section id="webhooks"><h2>Webhooks</h2>${body}</section>`;
  const hooks = report.webhooks;
  if (!hooks.connected)
    return section(
      '<p class="dim">Not connected to this page: pass <code>status: { webhooks: emitter }</code> to see deliveries and act on them.</p>',
    );
  if ('error' in hooks)
    return section(`<p class="bad">The figures could not be read: ${esc(hooks.error)}</p>`);
  if (!hooks.enabled)
    return section(
      '<p class="dim">Off: set HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN to send events.</p>',
    );
  const { counts } = hooks;
  const figure = (label: string, value: number | undefined, tone = '') =>
    value === undefined ? '' : `<div><b class="${value > 0 ? tone : ''}">${value}</b>${esc(label)}</div>`;
  const csrf = report.actions.csrf;
  const canAct = report.actions.available.length > 0;
  return section(`<p class="dim">${hooks.source === 'redis' ? 'From Redis: every instance on this queue.' : 'This instance only (in-memory emitter).'}</p>
<div class="counts">${figure('queued', counts.queued)}${figure('in flight', counts.inFlight)}${figure('delivered', counts.delivered, 'ok')}${figure('retrying', counts.retrying, 'warn')}${figure(hooks.source === 'redis' ? 'given up (kept)' : 'given up since start', counts.givenUp, 'bad')}${figure('dead letters', counts.dead, 'bad')}</div>
${canAct ? `<div class="actions">${actionForm(csrf, 'test-event', 'Send a test event')}${actionForm(csrf, 'sync', 'Request a full sync')}</div>` : ''}
${hooks.recent.length ? `<table><thead><tr><th>Changed</th><th>Event</th><th>Entity</th><th>State</th><th>Attempts</th><th>Last answer</th><th>Latency</th><th>webhook-id</th><th></th></tr></thead><tbody>${hooks.recent.map((record) => deliveryRow(record, csrf, canAct)).join('')}</tbody></table>` : '<p class="dim">No events yet.</p>'}`);
}

function setup(report: StatusReport): string {
  const s = report.setup;
  const row = (label: string, value: string) =>
    `<tr><th>${esc(label)}</th><td class="wrap">${value}</td></tr>`;
  return `<section id="setup"><h2>Set-up</h2><table><tbody>
${Object.entries(s.paths)
  .map(([name, path]) => row(`path: ${name}`, `<code>${esc(path)}</code>`))
  .join('')}
${row('auth', `${esc(s.auth.method)} ${s.auth.fingerprints.map((id) => `<code>${esc(id)}</code>`).join(' ')}`)}
${row('per_page', `default ${s.perPage.default}, max ${s.perPage.max}`)}
${row('rate limit', s.rateLimit ? `${s.rateLimit.limit} per ${s.rateLimit.windowMs / 1000} s` : 'off')}
${row('allowed addresses', s.allowIps ? s.allowIps.map((ip) => `<code>${esc(ip)}</code>`).join(' ') : 'all')}
${row('callback timeout', esc(ms(s.timeoutMs)))}
${row('store URL', s.storeBaseUrl ? `<code>${esc(s.storeBaseUrl)}</code>` : '—')}
${row('startup warnings', s.warnings.length ? s.warnings.map((line) => `<div class="warn">${esc(line)}</div>`).join('') : '<span class="ok">none</span>')}
</tbody></table></section>`;
}

function log(report: StatusReport): string {
  if (report.log.length === 0) return '';
  return `<section id="log"><h2>Recent warnings and errors of the API (this instance)</h2><p class="dim">Webhook failures are listed under Webhooks.</p><table><tbody>${report.log
    .map(
      (line) =>
        `<tr><td>${time(line.at)}</td><td class="${line.level === 'error' ? 'bad' : 'warn'}">${line.level}</td><td class="wrap">${esc(line.message)}</td></tr>`,
    )
    .join('')}</tbody></table></section>`;
}

const shell = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)}</title><style>${CSS}</style></head><body>${body}</body></html>`;

/** The page, from the report (already scrubbed of secrets and emails). */
export function renderPage(report: StatusReport, notice?: Notice): string {
  today = report.generatedAt.slice(0, 10);
  const hooks = report.webhooks;
  const deliveries = !hooks.connected
    ? 'not connected'
    : 'error' in hooks
      ? 'unreadable now'
      : hooks.perMinute;
  return shell(
    'HiWelink status',
    `<header><h1>HiWelink status</h1><span>instance <code>${esc(report.instance.id)}</code>, up since ${time(report.instance.startedAt)}</span><span>as of ${time(report.generatedAt)} · <a href="?">refresh</a> · <a href="?format=json">JSON</a></span></header>
<main>${notice ? `<div class="notice" role="status">${esc(NOTICES[notice])}</div>` : ''}
${crawls(report)}${chart(report.requestsPerMinute, deliveries)}${webhooks(report)}${setup(report)}${log(report)}</main>`,
  );
}

/** What a browser shows when the sign-in prompt is cancelled. */
export function renderSignIn(token: boolean): string {
  return shell(
    'HiWelink status: sign in',
    `<main><section><h2>Sign in to the HiWelink status page</h2><p>${token ? 'Reload and enter the status token as the password (any user name).' : 'Reload and enter the status user and password.'}</p><p class="dim">This is the page's own credential, not the key HiWelink uses.</p></section></main>`,
  );
}
