import type { HiwelinkOptions } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

/*
 * Kind: text of unbounded length from the store reaching the status page (a record id, a callback's
 * error message). The page keeps it in memory, cleans it of secrets and emails and renders it: each
 * must stay bounded in memory and size, and the cleaning must not go quadratic on a long string (a
 * 1 MB one held the event loop for minutes). A secret cut by the bound must not leak its start.
 */

const KEY = 'hwk_live_unbounded_text_api_key_01';
const TOKEN = 'hws_unbounded_text_status_token_01';
const HUGE = 'x'.repeat(100_000);

describe('status page with 100 kB texts from the store', () => {
  const start = startPerTest(frameworks[0] as (typeof frameworks)[number]);

  it('keeps and shows them cut short, with no part of a secret', async () => {
    const options: HiwelinkOptions = {
      auth: { apiKey: KEY },
      // The record has no name: HiWelink will skip it, and the page lists its (huge) id.
      products: () => ({ items: [{ id: `${HUGE}<script>`, price: 1 }], total: 1 }),
      orders: () => {
        // The key sits across the 1000th character of the cause, where a cut would split it.
        throw new Error(`${'y'.repeat(960)} ${KEY} ${HUGE}`);
      },
      status: { path: '/status', auth: { bearer: TOKEN } },
      logger: recordingLogger(),
    };
    const app = await start(options);
    expect((await send(`${app.url}/api/products`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await send(`${app.url}/api/orders`, { headers: { 'x-api-key': KEY } })).status).toBe(500);
    for (const accept of ['application/json', 'text/html']) {
      const reply = await send(`${app.url}/status`, {
        headers: { authorization: `Bearer ${TOKEN}`, accept },
      });
      expect(reply.status).toBe(200);
      expect(reply.body.length).toBeLessThan(50_000);
      expect(reply.body).not.toContain('<script>');
      expect(reply.body).not.toContain(KEY.slice(0, 12));
    }
    const report = (
      await send(`${app.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json() as {
      crawls: { products: { skipped: { id: string }[] }; orders: { lastFailure: { cause: string } } };
      log: { message: string }[];
    };
    expect(report.crawls.products.skipped[0]?.id).toMatch(/^x+…$/);
    const { cause } = report.crawls.orders.lastFailure;
    expect(cause).toMatch(/^orders callback failed: Error: y+ \[secr/);
    expect(cause.length).toBeLessThanOrEqual(1000);
    expect(report.log.length).toBeGreaterThan(0);
    for (const line of report.log) expect(line.message.length).toBeLessThanOrEqual(1000);
  }, 60_000);
});
