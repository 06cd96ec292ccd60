import { createHiwelink, HiwelinkConfigError, type HiwelinkOptions } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { recordingLogger } from './support/driver-values.js';
import { cleanupsAfterEach, durableEmitters, memoryEmitter, privateDurable } from './support/emitters.js';
import { frameworks, startPerTest } from './support/frameworks.js';
import { send } from './support/http-client.js';
import { startReceiver } from './support/receiver.js';
import { freePort, privateRedis, redisServerAvailable } from './support/redis-server.js';
import { connectRedis } from './support/services.js';
import { crawl, listProducts } from './support/status-crawl.js';

const KEY = 'hwk_live_status_page_api_key_0001';
const TOKEN = 'hws_status_token_0123456789abcdef';
const EMAIL = 'jane.doe@example.com';

const options = (extra: Partial<HiwelinkOptions> = {}): HiwelinkOptions => ({
  auth: { apiKey: KEY },
  storeBaseUrl: 'https://shop.example.com',
  products: listProducts,
  orders: () => {
    // The driver's message carries the connection string (with the key as password) and an email.
    throw new Error(`connect failed: postgres://shop:${KEY}@db/shop for ${EMAIL}`);
  },
  status: { path: '/hiwelink/status', auth: { bearer: TOKEN } },
  logger: recordingLogger(),
  ...extra,
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const html = { accept: 'text/html,application/xhtml+xml' };

describe.each(frameworks)('status page on $name', (framework) => {
  const start = startPerTest(framework);
  const defer = cleanupsAfterEach();

  it('shows the crawl as JSON behind its own token, mounted under a prefix', async () => {
    const app = await start(options(), '/store');
    const base = `${app.url}/store`;
    await crawl(base, KEY);
    // hiwelink verify's probe past the last page: answered, but not a crawl.
    const probe = await send(`${base}/api/products?page=100000&per_page=3`, {
      headers: { 'x-api-key': KEY },
    });
    expect(probe.status).toBe(200);
    expect(
      (await send(`${base}/api/orders`, { headers: { 'x-api-key': 'hwk_live_wrong_key_000000000' } })).status,
    ).toBe(401);
    const reply = await send(`${base}/hiwelink/status`, { headers: bearer(TOKEN) });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.headers['cache-control']).toBe('no-store');
    const report = reply.json() as {
      crawls: Record<
        string,
        {
          answers: Record<string, number>;
          lastCrawl: { pages: number; records: number; complete: boolean } | null;
          lastFailure: { cause: string } | null;
          skipped: { id: string }[];
          unlinked: { count: number; ids: string[] };
          lastCredential: string | null;
        }
      >;
      setup: { auth: { method: string; fingerprints: string[] } };
      webhooks: { connected: boolean };
      requestsPerMinute: { requests: number }[];
    };
    const { products, orders } = report.crawls;
    expect(products?.lastCrawl).toMatchObject({ pages: 3, records: 7, complete: true });
    expect(products?.answers).toEqual({ '200': 4 });
    expect(products?.skipped.map((entry) => entry.id)).toEqual(['4']);
    expect(products?.unlinked).toEqual({ count: 2, ids: ['6', '7'] });
    expect(orders?.answers).toEqual({ '401': 2, '500': 1 });
    expect(orders?.lastFailure?.cause).toContain('orders callback failed');
    expect(products?.lastCredential).toBe(report.setup.auth.fingerprints[0]);
    expect(report.setup.auth.method).toBe('apiKey');
    expect(report.webhooks).toEqual({ connected: false });
    expect(report.requestsPerMinute).toHaveLength(60);
    expect(report.requestsPerMinute.at(-1)?.requests).toBe(7);
    // Neither key, token nor email, even though the callback's error held two of them.
    for (const secret of [KEY, TOKEN, EMAIL]) expect(reply.body).not.toContain(secret);
    expect(orders?.lastFailure?.cause).toContain('[secret]');
    expect(orders?.lastFailure?.cause).toContain('[email]');
  });

  it('answers a browser with HTML under a strict CSP, signed in with the token as password', async () => {
    const app = await start(options());
    await crawl(app.url, KEY);
    const reply = await send(`${app.url}/hiwelink/status`, {
      headers: { ...html, ...basic('anyone', TOKEN) },
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(reply.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(reply.headers['x-frame-options']).toBe('DENY');
    expect(reply.body).toContain('Crawls by HiWelink');
    // The crawl ended on a wrong key: that is what HiWelink gets now.
    expect(reply.body).toContain('The last request was one of them');
    await send(`${app.url}/health`, { headers: { 'x-api-key': KEY } });
    const after = await send(`${app.url}/hiwelink/status`, {
      headers: { ...html, ...basic('anyone', TOKEN) },
    });
    expect(after.body).not.toContain('The last request was one of them');
    expect(after.body).toContain('Requests accepted since');
    expect(reply.body).not.toMatch(/<script|https?:\/\/(?!shop\.example\.com)/);
    for (const secret of [KEY, TOKEN, EMAIL]) expect(reply.body).not.toContain(secret);
  });

  it('refuses every request without its own credential, HiWelink key included', async () => {
    const app = await start(options());
    const url = `${app.url}/hiwelink/status`;
    for (const headers of [
      {} as Record<string, string>,
      { 'x-api-key': KEY },
      bearer(KEY),
      basic('x', KEY),
      bearer(`${TOKEN}x`),
    ]) {
      const reply = await send(url, { headers });
      expect(reply.status).toBe(401);
      expect(reply.json()).toMatchObject({ code: 'unauthorized' });
      expect(reply.headers['www-authenticate']).toMatch(/^Basic realm=/);
    }
    const page = await send(url, { headers: html });
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Sign in');
    expect(page.body).not.toContain('Crawls by HiWelink');
    for (const method of ['POST', 'HEAD']) expect((await send(url, { method })).status).toBe(401);
  });

  it('resends a given-up webhook, sends a test event and requests a sync, then sends the browser back', async () => {
    let accept = false;
    const { emitter, receiver } = await memoryEmitter(defer, () => ({ status: accept ? 200 : 400 }), {
      secret: 'status-page-test-webhook-secret-0123',
    });
    const app = await start(
      options({ status: { path: '/hiwelink/status', auth: { bearer: TOKEN }, webhooks: emitter } }),
      '/store',
    );
    const url = `${app.url}/store/hiwelink/status`;
    emitter.orderCreated({
      id: 'o-1',
      order_number: 'A1',
      total: 5,
      status: 'pending',
      customer_email: EMAIL,
    });
    type Report = {
      webhooks: {
        counts: { givenUp: number };
        recent: { id: string; state: string; attempts: number; lastStatus?: number; updatedAt: string }[];
        perMinute: { minute: string }[];
      };
      actions: { csrf: string };
    };
    const report = async () => (await send(url, { headers: bearer(TOKEN) })).json() as Report;
    await expect.poll(async () => (await report()).webhooks.counts.givenUp, { timeout: 10_000 }).toBe(1);
    const { webhooks, actions } = await report();
    const failed = webhooks.recent[0];
    expect(failed).toMatchObject({ state: 'given_up', attempts: 1, lastStatus: 400 });
    // Times as ISO 8601 text, as everywhere else in the report.
    expect(failed?.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(webhooks.perMinute.at(-1)?.minute).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    accept = true;
    const resend = await send(`${url}?action=resend&id=${failed?.id}&csrf=${actions.csrf}`, {
      method: 'POST',
      headers: { ...html, ...basic('me', TOKEN), 'sec-fetch-site': 'same-origin' },
    });
    expect(resend.status).toBe(303);
    expect(resend.headers.location).toBe('?notice=resent');
    await expect
      .poll(() => receiver.received.filter((entry) => entry.status === 200).length, { timeout: 10_000 })
      .toBe(1);
    const redelivered = receiver.received.find((entry) => entry.status === 200);
    expect(redelivered?.headers['webhook-id']).toBe(failed?.id);
    const again = await send(`${url}?action=resend&id=${failed?.id}&csrf=${actions.csrf}`, {
      method: 'POST',
      headers: bearer(TOKEN),
    });
    expect(again.status).toBe(404);
    expect(again.json()).toMatchObject({ code: 'not_found' });
    const test = await send(`${url}?action=test-event&csrf=${actions.csrf}`, {
      method: 'POST',
      headers: bearer(TOKEN),
    });
    expect(test.json()).toMatchObject({ ok: true, notice: 'test_sent' });
    const sync = await send(`${url}?action=sync&csrf=${actions.csrf}`, {
      method: 'POST',
      headers: bearer(TOKEN),
    });
    expect(sync.json()).toMatchObject({ ok: true, notice: 'sync_requested' });
    await expect
      .poll(() => receiver.received.map((entry) => entry.body.event), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['product.updated', 'sync.requested']));
    expect(
      receiver.received.find((entry) => entry.body.event === 'product.updated')?.body.data,
    ).toMatchObject({ id: '1' });
    const page = await send(url, { headers: { ...html, ...basic('me', TOKEN) } });
    expect(page.body).toContain(`<code>${failed?.id}</code>`);
    expect(page.body).toContain('Request a full sync');
    expect(page.body).not.toContain(EMAIL);
  });

  it('checks the CSRF value and the origin of every action', async () => {
    const app = await start(options());
    const url = `${app.url}/hiwelink/status`;
    const { actions } = (await send(url, { headers: bearer(TOKEN) })).json() as { actions: { csrf: string } };
    const post = (query: string, headers: Record<string, string> = {}) =>
      send(`${url}?${query}`, { method: 'POST', headers: { ...bearer(TOKEN), ...headers } });
    expect((await post('action=sync')).status).toBe(403);
    expect((await post('action=sync&csrf=wrong')).status).toBe(403);
    const crossSite = await post(`action=sync&csrf=${actions.csrf}`, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.json()).toMatchObject({ code: 'csrf_failed' });
    expect((await post(`action=nothing&csrf=${actions.csrf}`)).json()).toMatchObject({
      code: 'invalid_action',
    });
    expect((await post(`action=resend&id=${encodeURIComponent('<x>')}&csrf=${actions.csrf}`)).status).toBe(
      400,
    );
    // No emitter given: an action has nothing to act on.
    const refused = await post(`action=sync&csrf=${actions.csrf}`);
    expect(refused.status).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'refused' });
    const put = await send(url, { method: 'PUT', headers: bearer(TOKEN) });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
  });
});

describe('status page options', () => {
  const problems = (extra: Partial<HiwelinkOptions>) => {
    try {
      createHiwelink(options(extra));
    } catch (error) {
      expect(error).toBeInstanceOf(HiwelinkConfigError);
      return (error as HiwelinkConfigError).problems.join('\n');
    }
    throw new Error('expected a HiwelinkConfigError');
  };

  it('is never open: a missing or blank credential stops the start, naming the fix', () => {
    expect(problems({ status: { path: '/s' } as never })).toMatch(
      /status\.auth: is required: the status page is never open/,
    );
    expect(problems({ status: { path: '/s', auth: { bearer: undefined as unknown as string } } })).toMatch(
      /status\.auth: bearer is undefined \(an unset environment variable\?\)/,
    );
    expect(problems({ status: { path: '/s', auth: { bearer: '   ' } } })).toMatch(/status\.auth\.bearer/);
  });

  it('refuses HiWelink’s own credential, a short one and a clashing path', () => {
    expect(problems({ status: { path: '/s', auth: { bearer: KEY } } })).toMatch(
      /must not be a credential HiWelink uses/,
    );
    expect(problems({ status: { path: '/s', auth: { bearer: ` ${KEY}\n` } } })).toMatch(
      /must not be a credential HiWelink uses/,
    );
    expect(problems({ status: { path: '/s', auth: { bearer: 'short' } } })).toMatch(/at least 16 characters/);
    expect(
      problems({ status: { path: '/s', auth: { basic: { username: 'me', password: 'short' } } } }),
    ).toMatch(/status\.auth\.basic\.password: must be at least 16/);
    expect(problems({ status: { path: '/api/products', auth: { bearer: TOKEN } } })).toMatch(
      /status\.path: must differ/,
    );
    expect(problems({ status: { path: 'status', auth: { bearer: TOKEN } } })).toMatch(
      /status\.path: must start with/,
    );
    expect(problems({ status: { path: '/s', auth: { bearer: TOKEN }, webhooks: {} as never } })).toMatch(
      /status\.webhooks: must be a webhook emitter/,
    );
  });

  it('trims a token’s trailing newline with a warning, and the trimmed token signs in', async () => {
    const logger = recordingLogger();
    const kit = createHiwelink(options({ logger, status: { path: '/s', auth: { bearer: `${TOKEN}\n` } } }));
    expect(logger.entries.map((line) => line.message).join('\n')).toMatch(
      /status\.auth\.bearer: surrounding whitespace removed/,
    );
    const answer = await kit.handle({
      method: 'GET',
      path: '/s',
      query: '',
      headers: bearer(TOKEN),
      remoteAddress: '127.0.0.1',
      secure: false,
      signal: new AbortController().signal,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('surrounding whitespace removed');
  });
});

describe('status page with the durable emitter', async () => {
  const redis = await connectRedis();
  const defer = cleanupsAfterEach();
  const start = startPerTest(
    frameworks.find((framework) => framework.name === 'express 5') as (typeof frameworks)[number],
  );
  const outage = redisServerAvailable();

  it.skipIf(!redis)('shows the dead letters from Redis and resends one from the page', async () => {
    let accept = false;
    const receiver = await startReceiver(() => ({ status: accept ? 200 : 422 }));
    defer(receiver.close);
    const durable = durableEmitters(redis, defer);
    const emitter = durable.emitter(durable.queueName(), receiver.url, {
      secret: 'status-page-test-webhook-secret-0123',
    });
    const app = await start(
      options({ status: { path: '/status', auth: { bearer: TOKEN }, webhooks: emitter } }),
    );
    const url = `${app.url}/status`;
    expect(
      await emitter.orderCreated({
        id: 'o-9',
        order_number: 'A9',
        total: 5,
        status: 'pending',
        customer_email: EMAIL,
      }),
    ).toBe(true);
    type Report = {
      webhooks: { source: string; counts: { dead: number }; recent: { id: string; state: string }[] };
      actions: { csrf: string };
    };
    const report = async () => (await send(url, { headers: bearer(TOKEN) })).json() as Report;
    await expect.poll(async () => (await report()).webhooks.counts.dead, { timeout: 15_000 }).toBe(1);
    const { webhooks, actions } = await report();
    expect(webhooks.source).toBe('redis');
    const dead = webhooks.recent.find((record) => record.state === 'dead');
    const page = await send(url, { headers: { ...html, ...basic('me', TOKEN) } });
    expect(page.body).toContain('dead letters');
    expect(page.body).toContain(`id=${dead?.id}`);
    accept = true;
    const resend = await send(`${url}?action=resend&id=${dead?.id}&csrf=${actions.csrf}`, {
      method: 'POST',
      headers: bearer(TOKEN),
    });
    expect(resend.json()).toMatchObject({ ok: true, notice: 'resent' });
    await expect
      .poll(() => receiver.received.filter((entry) => entry.status === 200).length, { timeout: 15_000 })
      .toBe(1);
    expect(receiver.received.find((entry) => entry.status === 200)?.headers['webhook-id']).toBe(dead?.id);
    await expect.poll(async () => (await report()).webhooks.counts.dead, { timeout: 15_000 }).toBe(0);
  });

  it.skipIf(!outage)(
    'keeps answering while Redis hangs: the figures say why, an action answers 503',
    async () => {
      const own = privateRedis(await freePort());
      await own.start();
      defer(own.kill);
      const emitter = privateDurable(defer, `status-${Date.now()}`, 500)(own.url, 'http://127.0.0.1:9');
      const app = await start(
        options({ status: { path: '/status', auth: { bearer: TOKEN }, webhooks: emitter } }),
      );
      const url = `${app.url}/status`;
      const { actions } = (await send(url, { headers: bearer(TOKEN) })).json() as {
        actions: { csrf: string };
      };
      own.pause();
      const reply = await send(url, { headers: bearer(TOKEN) });
      expect(reply.status).toBe(200);
      expect((reply.json() as { webhooks: { error: string } }).webhooks.error).toMatch(
        /Redis did not answer within 2000 ms/,
      );
      const page = await send(url, { headers: { ...html, ...basic('me', TOKEN) } });
      expect(page.status).toBe(200);
      expect(page.body).toContain('The figures could not be read');
      const sync = await send(`${url}?action=sync&csrf=${actions.csrf}`, {
        method: 'POST',
        headers: bearer(TOKEN),
      });
      // The emitter holds the event in memory while Redis hangs and says it is not stored: refused, not lost.
      expect([409, 503]).toContain(sync.status);
      own.resume();
    },
  );
});
