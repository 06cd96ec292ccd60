import { once } from 'node:events';
import { type AccessLogEntry, HiwelinkConfigError, type ListCallback } from '@hiwelink/core';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createFetchHandler, type FetchHandlerOptions } from './index.js';

// The handler called as Next.js, Bun or Workers call it: with a Request and the platform's context.
// The conformance suite runs it over real HTTP; these cases need a client address of our choosing.

const KEY = 'hwk_live_fetch_unit_test_key_0123456789';
const list: ListCallback = () => ({ items: [{ id: '1', name: 'Mug', slug: 'mug' }], total: 1 });
const quiet = { warn() {}, error() {} };
const base = { products: list, orders: list, auth: { apiKey: KEY }, logger: quiet };

/** The platform's context in these tests: just the peer's address. */
interface Peer {
  ip: string;
}
const withPeer = { clientAddress: (_request: Request, peer: Peer) => peer.ip };

const get = (path: string, headers: Record<string, string> = { 'x-api-key': KEY }, init: RequestInit = {}) =>
  new Request(`http://shop.example${path}`, { headers, ...init });

function refusal<Context>(options: FetchHandlerOptions<unknown, unknown, Context>): string[] {
  try {
    createFetchHandler(options);
  } catch (error) {
    if (error instanceof HiwelinkConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('options that need the client address', () => {
  it.each([
    ['allowIps', { allowIps: ['203.0.113.0/24'] }],
    ['trustProxy', { trustProxy: 'loopback' }],
    ['rateLimit', { rateLimit: true }],
    ['rateLimit', { rateLimit: { limit: 5 } }],
  ])('refuses %s without clientAddress, naming the option to add', (option, extra) => {
    const problems = refusal({ ...base, ...extra });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${option}: .*add clientAddress: \\(request, context\\)`));
  });

  it('lists every refusal at once, with the kit’s own problems', () => {
    const problems = refusal({ ...base, allowIps: ['10.0.0.1'], rateLimit: true, timeoutMs: 0 });
    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual([
      'allowIps',
      'rateLimit',
      'timeoutMs',
    ]);
  });

  it('accepts them with clientAddress, and rateLimit: false without it', () => {
    expect(refusal({ ...base, rateLimit: false })).toEqual([]);
    expect(
      refusal({ ...base, ...withPeer, allowIps: ['10.0.0.1'], trustProxy: 'loopback', rateLimit: true }),
    ).toEqual([]);
  });

  it('refuses a clientAddress that is not a function', () => {
    expect(refusal({ ...base, clientAddress: '127.0.0.1' as never })).toEqual([
      'clientAddress: must be a function (request, context) => string | undefined',
    ]);
  });
});

describe('clientAddress', () => {
  it('feeds the allow-list from the context the platform passes', async () => {
    const handler = createFetchHandler({ ...base, ...withPeer, allowIps: ['203.0.113.0/24'] });
    expect((await handler(get('/api/products'), { ip: '203.0.113.9' })).status).toBe(200);
    const refused = await handler(get('/api/products'), { ip: '198.51.100.1' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'Forbidden', code: 'ip_not_allowed' });
  });

  it('is the peer that trustProxy believes X-Forwarded-For from', async () => {
    const handler = createFetchHandler({
      ...base,
      ...withPeer,
      trustProxy: '10.0.0.1',
      allowIps: ['203.0.113.7'],
    });
    const forwarded = { 'x-api-key': KEY, 'x-forwarded-for': '203.0.113.7' };
    expect((await handler(get('/health', forwarded), { ip: '10.0.0.1' })).status).toBe(200);
    // The same header from an untrusted peer is the peer's own claim: the peer is the client.
    expect((await handler(get('/health', forwarded), { ip: '10.0.0.2' })).status).toBe(403);
  });

  it('counts callers without an accepted credential per address for the rate limit', async () => {
    const handler = createFetchHandler({ ...base, ...withPeer, rateLimit: { limit: 2 } });
    const guess = (ip: string) => handler(get('/api/products', { 'x-api-key': 'wrong' }), { ip });
    expect((await guess('198.51.100.1')).status).toBe(401);
    expect((await guess('198.51.100.1')).status).toBe(401);
    const limited = await guess('198.51.100.1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another address has its own count.
    expect((await guess('198.51.100.2')).status).toBe(401);
  });

  it('gives the access log the address, or "" without clientAddress', async () => {
    const entries: AccessLogEntry[] = [];
    const accessLog = (entry: AccessLogEntry) => entries.push(entry);
    await createFetchHandler({ ...base, ...withPeer, accessLog })(get('/health'), { ip: '2001:db8::1' });
    await createFetchHandler({ ...base, accessLog })(get('/health'));
    expect(entries.map((entry) => entry.ip)).toEqual(['2001:db8::1', '']);
  });

  it('answers 500 and logs when it throws, asked only when an option needs the address', async () => {
    const errors: string[] = [];
    let asked = 0;
    const handler = createFetchHandler({
      ...base,
      logger: { warn() {}, error: (_details, message) => errors.push(message) },
      allowIps: ['10.0.0.1'],
      clientAddress: () => {
        asked++;
        throw new Error('no socket');
      },
    });
    const answer = await handler(get('/api/products'));
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ error: 'Internal Server Error', code: 'internal_error' });
    expect(errors).toHaveLength(1);
    expect(asked).toBe(1);
    // An unknown path never needs it.
    expect((await handler(get('/elsewhere'))).status).toBe(404);
    expect(asked).toBe(1);
  });

  // The 2 a.m. case: Hono's app.mount without optionHandler passes c.env, not the Context, so
  // getConnInfo(c) throws on every request. The log must point at clientAddress, not the callback.
  it.each([
    ['/api/products', { allowIps: ['10.0.0.1'] }, { 'x-api-key': KEY }],
    // The rate limit counts a caller without an accepted credential by its address.
    ['/api/orders', { rateLimit: true }, { 'x-api-key': 'guess' }],
    ['/health', { rateLimit: true }, { 'x-api-key': 'guess' }],
  ])(
    'logs a throw on %s once, as clientAddress’s, with the access log still written',
    async (path, extra, headers) => {
      const errors: { message: string; err: unknown }[] = [];
      const entries: AccessLogEntry[] = [];
      const cause = new Error("Cannot read properties of undefined (reading 'incoming')");
      const handler = createFetchHandler({
        ...base,
        ...extra,
        logger: {
          warn() {},
          error: (details, message) => errors.push({ message, err: (details as { err?: unknown }).err }),
        },
        accessLog: (entry) => entries.push(entry),
        clientAddress: () => {
          throw cause;
        },
      });
      const answer = await handler(get(path, headers));
      // A 500 on /health too: the store is not down, its wiring is wrong.
      expect(answer.status).toBe(500);
      expect(await answer.json()).toEqual({ error: 'Internal Server Error', code: 'internal_error' });
      expect(errors).toEqual([{ message: expect.stringMatching(/clientAddress threw/), err: cause }]);
      expect(entries.map(({ ip, status }) => ({ ip, status }))).toEqual([{ ip: '', status: 500 }]);
    },
  );

  it('reports a throw met first by the access log, and the answer stands', async () => {
    const errors: string[] = [];
    const entries: AccessLogEntry[] = [];
    const handler = createFetchHandler({
      ...base,
      logger: { warn() {}, error: (_details, message) => errors.push(message) },
      accessLog: (entry) => entries.push(entry),
      clientAddress: () => {
        throw new Error('no socket');
      },
    });
    expect((await handler(get('/api/products'))).status).toBe(200);
    expect(errors).toEqual([expect.stringMatching(/clientAddress threw/)]);
    expect(entries.map(({ ip, status }) => ({ ip, status }))).toEqual([{ ip: '', status: 200 }]);
  });
});

describe('requests and answers', () => {
  it('takes HTTPS from the URL scheme the runtime wrote', async () => {
    const handler = createFetchHandler({ ...base, requireHttps: true });
    const plain = await handler(get('/health'));
    expect(plain.status).toBe(403);
    expect(await plain.json()).toMatchObject({ code: 'https_required' });
    const tls = await handler(new Request('https://shop.example/health', { headers: { 'x-api-key': KEY } }));
    expect(tls.status).toBe(200);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const handler = createFetchHandler(base);
    const answer = await handler(get('/api/products', { 'x-api-key': KEY }, { method: 'HEAD' }));
    const full = await handler(get('/api/products'));
    expect(answer.status).toBe(200);
    expect(answer.body).toBeNull();
    expect(answer.headers.get('content-length')).toBe(full.headers.get('content-length'));
  });

  it('serves under basePath, and answers 404 JSON before auth on any other path', async () => {
    const handler = createFetchHandler({ ...base, basePath: '/store' });
    expect(handler.paths).toEqual(['/store/health', '/store/api/products', '/store/api/orders']);
    expect((await handler(get('/store/api/orders?page=1&per_page=1'))).status).toBe(200);
    const other = await handler(get('/api/orders', {}));
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'Not Found', code: 'not_found' });
  });

  it('rejects a Hono Context given for the Request with a TypeError naming the fix', async () => {
    const handler = createFetchHandler(base);
    const app = new Hono();
    // What a JavaScript app (no type check) writes at 2 a.m.: the handler as Hono's own.
    app.all('/health', handler as never);
    const thrown: unknown[] = [];
    app.onError((error, c) => {
      thrown.push(error);
      return c.text('host error', 500);
    });
    expect((await app.fetch(get('/health'))).status).toBe(500);
    expect(thrown).toEqual([expect.any(TypeError)]);
    expect((thrown[0] as Error).message).toBe(
      'the @hiwelink/fetch handler takes a fetch Request, got a Context; under Hono pass c.req.raw: (c) => hiwelink(c.req.raw, c)',
    );
    await expect(handler('http://shop.example/health' as never)).rejects.toThrow(/got http:\/\/shop/);
  });

  it('reads the query from the URL: a bad per_page is a 400 naming it', async () => {
    const answer = await createFetchHandler(base)(get('/api/products?per_page=0'));
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ parameter: 'per_page' });
  });

  it('aborts the callback’s signal when the request’s signal aborts (the client left)', async () => {
    let started: (signal: AbortSignal) => void = () => {};
    const running = new Promise<AbortSignal>((resolve) => {
      started = resolve;
    });
    const handler = createFetchHandler({
      ...base,
      products: ({ signal }) => {
        started(signal);
        return new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      },
    });
    const client = new AbortController();
    const answer = handler(get('/api/products', { 'x-api-key': KEY }, { signal: client.signal }));
    const signal = await running;
    expect(signal.aborted).toBe(false);
    const aborted = once(signal, 'abort');
    client.abort(new Error('client closed the connection'));
    await aborted;
    expect(signal.aborted).toBe(true);
    // The handler still settles with an answer (nobody reads it): it never hangs or rejects.
    expect((await answer).status).toBeGreaterThanOrEqual(400);
  });
});
