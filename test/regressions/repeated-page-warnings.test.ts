import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

/*
 * Kind: a warning about the catalogue itself (records HiWelink will skip, products without a link)
 * logged on every page of every crawl. The same pages hold the same faults at each crawl, so the
 * log filled with one line per page per crawl and hid everything else. Each kind is now logged
 * once per list every 10 minutes, saying how many pages in between were alike.
 */

const KEY = 'hwk_live_repeated_warnings_key_001';
// Every product lacks a link; every third one lacks a name, so HiWelink skips it.
const PRODUCTS = Array.from({ length: 30 }, (_, index) => ({
  id: index + 1,
  name: index % 3 === 0 ? undefined : `Lamp ${index + 1}`,
  price: 5,
}));

describe.each(frameworks)('catalogue warnings on $name', (framework) => {
  const start = startPerTest(framework);

  it('are logged once per list and kind while crawls repeat, with the pages in between counted', async () => {
    const logger = recordingLogger();
    const app = await start({
      auth: { apiKey: KEY },
      products: ({ offset, perPage }) => ({
        items: PRODUCTS.slice(offset, offset + perPage),
        total: PRODUCTS.length,
      }),
      orders: () => ({ items: [], total: 0 }),
      logger,
    });
    for (let crawl = 0; crawl < 3; crawl++) {
      for (const page of [1, 2, 3]) {
        const reply = await send(`${app.url}/api/products?page=${page}&per_page=10`, {
          headers: { 'x-api-key': KEY },
        });
        expect(reply.status).toBe(200);
      }
    }
    const lines = logger.entries.map((entry) => entry.message);
    expect(lines.filter((line) => line.includes('neither permalink nor slug'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('HiWelink will skip'))).toHaveLength(1);
    // The first line names what it saw: the page, how many, and some ids.
    const unlinked = logger.entries.find((entry) => entry.message.includes('neither permalink nor slug'));
    expect(unlinked?.message).toMatch(/^products page 1: 10 product\(s\)/);
    expect(unlinked?.details).toMatchObject({ ids: ['1', '2', '3', '4', '5'] });
  });
});
