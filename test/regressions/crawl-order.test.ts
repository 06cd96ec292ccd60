import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

/*
 * Kind: crawl figures from pages that do not come one after another. The status page counted a
 * jump (page 1 then 3) as the same crawl, so "2 page(s) from 1" hid the page never served and a
 * jump to the last page read as complete; and a page asked again (the crawler's retry) started a
 * new crawl from that page, losing the pages before it.
 */

const KEY = 'hwk_live_crawl_order_api_key_00001';
const TOKEN = 'hws_crawl_order_status_token_00001';
const PRODUCTS = Array.from({ length: 7 }, (_, index) => ({
  id: index + 1,
  name: `Lamp ${index + 1}`,
  price: 10,
  slug: `lamp-${index + 1}`,
}));

interface Crawl {
  fromPage: number;
  pages: number;
  records: number;
  lastPage: number;
  complete: boolean;
}

describe('status page crawl figures', () => {
  const start = startPerTest(frameworks[0] as (typeof frameworks)[number]);

  async function crawled(pages: number[]): Promise<Crawl> {
    const app = await start({
      auth: { apiKey: KEY },
      products: ({ offset, perPage }) => ({
        items: PRODUCTS.slice(offset, offset + perPage),
        total: PRODUCTS.length,
      }),
      orders: () => ({ items: [], total: 0 }),
      status: { path: '/status', auth: { bearer: TOKEN } },
      logger: recordingLogger(),
    });
    for (const page of pages) {
      const reply = await send(`${app.url}/api/products?page=${page}&per_page=2`, {
        headers: { 'x-api-key': KEY },
      });
      expect(reply.status).toBe(200);
    }
    const report = (
      await send(`${app.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json() as { crawls: { products: { lastCrawl: Crawl } } };
    return report.crawls.products.lastCrawl;
  }

  it('counts a page asked again once, in the same crawl', async () => {
    expect(await crawled([1, 2, 2, 3, 4])).toMatchObject({
      fromPage: 1,
      pages: 4,
      records: 7,
      lastPage: 4,
      complete: true,
    });
  });

  it('starts a new crawl where pages jump, so a jump to the last page is not a complete crawl', async () => {
    expect(await crawled([1, 4])).toMatchObject({ fromPage: 4, pages: 1, records: 1, complete: true });
    expect(await crawled([1, 3])).toMatchObject({ fromPage: 3, pages: 1, records: 2, complete: false });
  });
});
