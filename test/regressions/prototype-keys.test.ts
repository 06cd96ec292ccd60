import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

/*
 * Kind: a name from the request looked up in a plain object with `in` or `[]`, which finds the
 * object's prototype too (`toString`, `constructor`, `__proto__`). The status page's `?notice=`
 * showed "function toString() { [native code] }"; only its own notices may show.
 */

const TOKEN = 'hws_prototype_keys_status_token_01';

describe('status page notice named after a prototype member', () => {
  const start = startPerTest(frameworks[0] as (typeof frameworks)[number]);

  it('shows no notice for toString, constructor, __proto__ or hasOwnProperty', async () => {
    const app = await start({
      auth: { apiKey: 'hwk_live_prototype_keys_api_key_01' },
      products: () => ({ items: [], total: 0 }),
      orders: () => ({ items: [], total: 0 }),
      status: { path: '/status', auth: { bearer: TOKEN } },
      logger: recordingLogger(),
    });
    const page = (notice: string) =>
      send(`${app.url}/status?notice=${notice}`, {
        headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/html' },
      });
    for (const notice of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const reply = await page(notice);
      expect(reply.status).toBe(200);
      expect(reply.body).not.toContain('class="notice"');
    }
    expect((await page('resent')).body).toContain('The event is queued again');
  });
});
