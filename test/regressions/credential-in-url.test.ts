import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

/*
 * Kind: a URL option holding a user and password (`http://admin:pw@host`), shown somewhere as
 * configured. The status page's set-up showed `storeBaseUrl` whole, password included (the email
 * pattern hid it only when the host had a dot in it).
 */

const TOKEN = 'hws_credential_url_status_token_01';

describe('status page set-up with a store URL holding credentials', () => {
  const start = startPerTest(frameworks[0] as (typeof frameworks)[number]);

  it('shows the URL without its user and password', async () => {
    const app = await start({
      auth: { apiKey: 'hwk_live_credential_url_api_key_01' },
      storeBaseUrl: 'http://admin:pw-0123456789@localhost:3000/shop',
      products: () => ({ items: [], total: 0 }),
      orders: () => ({ items: [], total: 0 }),
      status: { path: '/status', auth: { bearer: TOKEN } },
      logger: recordingLogger(),
    });
    for (const accept of ['application/json', 'text/html']) {
      const reply = await send(`${app.url}/status`, {
        headers: { authorization: `Bearer ${TOKEN}`, accept },
      });
      expect(reply.status).toBe(200);
      expect(reply.body).not.toContain('pw-0123456789');
      expect(reply.body).not.toContain('admin');
      expect(reply.body).toContain('http://localhost:3000/shop');
    }
  });
});
