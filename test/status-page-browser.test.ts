import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, readConfig, STATUS_PATH } from '../examples/express-sqlite/dist/app.js';
import { openBrowser, watchProblems } from './support/browser.js';
import { serveStore } from './support/demo-in-process.js';
import { cleanupsAfterEach, durableEmitters, REDIS_URL } from './support/emitters.js';
import { startReceiver } from './support/receiver.js';
import { connectRedis } from './support/services.js';

/*
 * The status page in a real browser, on the demo store, with each of its webhook queues
 * (WEBHOOK_QUEUE=memory and redis): HiWelink crawls it, a receiver refuses one event for good and
 * fails another, then recovers; the page shows the crawl and each delivery's attempts, its Resend
 * button delivers the refused event again, and it never shows a secret or a customer's email.
 * `UPDATE_SCREENSHOT=1` writes the README's screenshot (docs/status-page.png) from the memory run.
 */

const browser = await openBrowser();
afterAll(() => browser?.close());
// Only the redis run needs it: without Redis that run skips (CI=true: fails), the memory one runs.
const redis = await connectRedis();
afterAll(() => redis?.quit());

const API_KEY = 'hwk_live_browser_test_api_key_0001';
const ADMIN_TOKEN = 'adm_browser_test_admin_token_0001';
const STATUS_TOKEN = 'hws_browser_test_status_token_0001';
const WEBHOOK_SECRET = 'whsec_YnJvd3Nlci10ZXN0LXdlYmhvb2stc2VjcmV0LTAwMDE=';
const PER_PAGE = 25;

type Mode = 'refuse' | 'fail' | 'accept';

/** A row's text as the reader sees it: the rendered text keeps the table's cells apart. */
// biome-ignore lint/performance/useDomNodeTextContent: textContent runs the cells together
const shown = (locator: Locator) => locator.innerText();

/**
 * What the page shows, by queue: where its figures come from; the refused (422) event, which the
 * in-memory emitter gives up and the durable one moves to the dead-letter set (either can be
 * resent); and the counts, where the durable emitter adds the dead letters, none once resent.
 */
const QUEUES = [
  {
    queue: 'memory',
    source: 'This instance only (in-memory emitter).',
    refused: /given up\s+1\s+422/,
    counts: /\b1\s+retrying\s+1\s+given up since start$/,
    // Given up since start: a resend does not undo it.
    resentCounts: /\b1\s+given up since start$/,
  },
  {
    queue: 'redis',
    source: 'From Redis: every instance on this queue.',
    refused: /dead\s+1\s+422/,
    counts: /\b1\s+retrying\s+1\s+given up \(kept\)\s+1\s+dead letters$/,
    resentCounts: /\b0\s+dead letters$/,
  },
] as const;

describe.skipIf(!browser).each(QUEUES)(
  'status page in Chromium, on the demo store ($queue queue)',
  ({ queue, source, refused: refusedShown, counts, resentCounts }) => {
    const defer = cleanupsAfterEach();
    const queues = durableEmitters(redis, defer);

    it.skipIf(queue === 'redis' && !redis)(
      'shows the crawl and the failed webhook, resends it, and keeps every secret off the page',
      async () => {
        let mode: Mode = 'refuse';
        const receiver = await startReceiver(() =>
          mode === 'accept' ? { status: 200 } : mode === 'refuse' ? { status: 422 } : { status: 503 },
        );
        defer(receiver.close);
        // A queue of this run's own, its keys deleted after the store has closed.
        const durable = queue === 'redis' ? { REDIS_URL, HIWELINK_QUEUE: queues.queueName() } : {};
        const store = createStore(
          readConfig({
            WEBHOOK_QUEUE: queue,
            ...durable,
            DATABASE_FILE: ':memory:',
            SEED_PRODUCTS: '60',
            SEED_ORDERS: '4',
            HIWELINK_API_KEY: API_KEY,
            ADMIN_TOKEN,
            STATUS_TOKEN,
            HIWELINK_WEBHOOK_URL: receiver.url,
            HIWELINK_STORE_TOKEN: 'store-token-browser-test',
            HIWELINK_WEBHOOK_SECRET: WEBHOOK_SECRET,
          }),
        );
        const base = await serveStore(store, defer);
        const admin = (path: string, body: object) =>
          fetch(`${base}/admin${path}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });

        // HiWelink's crawl: 60 products in pages of 25, then the orders.
        for (const page of [1, 2, 3]) {
          const reply = await fetch(`${base}/api/products?page=${page}&per_page=${PER_PAGE}`, {
            headers: { 'x-api-key': API_KEY },
          });
          expect(reply.status).toBe(200);
        }
        const orders = (await (
          await fetch(`${base}/api/orders?per_page=10`, { headers: { 'x-api-key': API_KEY } })
        ).json()) as { data: { id: string; customer_email?: string }[] };
        const emails = orders.data.map((order) => order.customer_email).filter(Boolean) as string[];
        expect(emails.length).toBeGreaterThan(0);

        // One event refused for good (422), one order event failing (503) and retried later.
        expect((await admin('/products/1', { name: 'Lamp refused' })).status).toBe(200);
        await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
        mode = 'fail';
        const order = orders.data[0]?.id as string;
        expect((await admin(`/orders/${order}`, { status: 'completed' })).status).toBe(200);
        await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(2);

        const context = await (browser as NonNullable<typeof browser>).newContext({
          httpCredentials: { username: 'store-dev', password: STATUS_TOKEN },
          viewport: { width: 1280, height: 900 },
        });
        defer(() => context.close());
        const page = await context.newPage();
        const problems = await watchProblems(page);
        const url = `${base}${STATUS_PATH}`;
        const opened = await page.goto(url);
        expect(opened?.status()).toBe(200);

        const crawls = page.locator('#crawls');
        await expect
          .poll(() => shown(crawls.locator('tr', { hasText: 'products' }).first()))
          .toContain('3 page(s) from 1, 60 record(s)');
        const hooks = page.locator('#webhooks');
        const refused = hooks.locator('tr', { hasText: 'product.updated' });
        expect(await shown(hooks)).toContain(source);
        expect(await shown(hooks.locator('.counts'))).toMatch(counts);
        expect(await shown(refused)).toMatch(refusedShown);
        expect(await shown(refused)).not.toContain('next attempt');
        const failing = hooks.locator('tr', { hasText: 'order.updated' });
        expect(await shown(failing)).toMatch(/retrying\s+1\s+503.*next attempt/s);

        if (process.env.UPDATE_SCREENSHOT === '1' && queue === 'memory') {
          const docs = fileURLToPath(new URL('../docs', import.meta.url));
          mkdirSync(docs, { recursive: true });
          await page.screenshot({ path: join(docs, 'status-page.png'), fullPage: true });
        } else {
          await page.screenshot({
            path: join(tmpdir(), `status-page-${queue}-${process.pid}.png`),
            fullPage: true,
          });
        }

        // The receiver recovers: Resend delivers the refused event, with its webhook-id.
        mode = 'accept';
        const refusedId = receiver.received[0]?.headers['webhook-id'];
        await refused.getByRole('button', { name: 'Resend' }).click();
        await expect.poll(() => shown(page.locator('.notice'))).toContain('queued again');
        expect(new URL(page.url()).search).toBe('?notice=resent');
        await expect
          .poll(
            () =>
              receiver.received
                .filter((entry) => entry.status === 200)
                .map((entry) => entry.headers['webhook-id']),
            {
              timeout: 10_000,
            },
          )
          .toContain(refusedId);
        /** The row of `event` once the page is reloaded: the emitter records an answer just after it arrives. */
        const rowAfterReload = async (event: string) => {
          await page.reload();
          return shown(hooks.locator('tr', { hasText: event }));
        };
        await expect
          .poll(() => rowAfterReload('product.updated'), { timeout: 10_000, interval: 500 })
          .toMatch(/delivered\s+1\s+200/);
        expect(await shown(hooks.locator('.counts'))).toMatch(resentCounts);
        // The failing order event goes through on its own retry: the first waits about 10 s, and on
        // a slow machine it may come before the receiver recovers, so the second (about 30 s
        // later) is waited for too.
        await expect
          .poll(() => rowAfterReload('order.updated'), { timeout: 75_000, interval: 1_000 })
          .toMatch(/delivered\s+[23]\s+200/);

        const html = await page.content();
        for (const secret of [API_KEY, ADMIN_TOKEN, STATUS_TOKEN, WEBHOOK_SECRET, ...emails]) {
          expect(html).not.toContain(secret);
        }
        expect(problems).toEqual({ consoleErrors: [], pageErrors: [], cspViolations: [] });

        // Without the token: 401, and nothing of the report. (A headless page without credentials
        // cancels the sign-in prompt, so the browser's own request client asks.)
        const stranger = await (browser as NonNullable<typeof browser>).newContext();
        defer(() => stranger.close());
        const refusedPage = await stranger.request.get(url, { headers: { accept: 'text/html' } });
        expect(refusedPage.status()).toBe(401);
        expect(refusedPage.headers()['www-authenticate']).toMatch(/^Basic /);
        expect(await refusedPage.text()).not.toContain('Crawls by HiWelink');
        const withKey = await stranger.request.get(url, { headers: { 'x-api-key': API_KEY } });
        expect(withKey.status()).toBe(401);
      },
      150_000,
    );
  },
);
