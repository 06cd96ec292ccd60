import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type VerifyReport, verifyStore } from '@hiwelink/cli';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '../support/catalog.js';

/*
 * Kind: `hiwelink verify` describing a store's answer as something it is not. A total sent as a
 * string read as "changed", an empty first page given the per_page-clamping hint, a 429 to
 * per_page=101 passed as OK, an HTML health page called only "not {status: ok}", a page of
 * hundreds of MB read whole into memory. Each answer is reported as what it is.
 */

const KEY = 'hwk_test_verify_answer_described';
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

interface Quirks {
  /** meta.total as sent. */
  total?: (count: number) => unknown;
  /** Every list page empty, whatever meta says. */
  empty?: boolean;
  /** per_page=101 answered 429. */
  overLimited?: boolean;
  /** Page 1 of the products answered 429 once, with Retry-After: 1. */
  limitedOnce?: boolean;
  /** /health answered 200 with an HTML page. */
  htmlHealth?: boolean;
  /** Padding added to page 1 of the products, in bytes. */
  pad?: number;
}

async function store(quirks: Quirks): Promise<string> {
  const products = catalog(250);
  let limited = false;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    const send = (status: number, body: string, type = 'application/json') =>
      response.writeHead(status, { 'content-type': type, 'retry-after': '1' }).end(body);
    if (request.headers['x-api-key'] !== KEY) return send(401, '{}');
    if (url.pathname === '/health') {
      return quirks.htmlHealth
        ? send(200, '<!doctype html><p>Welcome</p>', 'text/html')
        : send(200, '{"status":"ok"}');
    }
    const page = Number(url.searchParams.get('page'));
    const perPage = Number(url.searchParams.get('per_page'));
    if (perPage > 100) return quirks.overLimited ? send(429, '{}') : send(400, '{"error":"per_page"}');
    const list = url.pathname === '/api/products' ? products : [];
    if (quirks.limitedOnce && list === products && page === 1 && !limited) {
      limited = true;
      return send(429, '{}');
    }
    const data = quirks.empty ? [] : list.slice((page - 1) * perPage, page * perPage);
    const pad = list === products && page === 1 && quirks.pad ? 'x'.repeat(quirks.pad) : undefined;
    send(
      200,
      JSON.stringify({
        data,
        meta: {
          current_page: page,
          per_page: perPage,
          total: quirks.total ? quirks.total(list.length) : list.length,
          last_page: Math.max(1, Math.ceil(list.length / perPage)),
        },
        ...(pad ? { pad } : {}),
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const check = (report: VerifyReport, id: string) => report.checks.find((entry) => entry.id === id);
const verify = async (quirks: Quirks, options: { maxPageBytes?: number } = {}) =>
  verifyStore({ baseUrl: await store(quirks), credential: { apiKey: KEY }, ...options });

describe('verify reports each answer as what it is', () => {
  it('a meta.total sent as the string "250" is not a number, not a total that changed', async () => {
    const report = await verify({ total: (count) => String(count) });
    const meta = check(report, 'products-meta');
    expect(meta?.status).toBe('failed');
    expect(meta?.detail).toContain('meta.total is the string "250", not a number');
    expect(meta?.detail).not.toContain('changed');
  });

  it('an empty page 1 with a total of 250 is an empty page, not a clamp', async () => {
    const report = await verify({ empty: true });
    const complete = check(report, 'products-complete');
    expect(complete?.status).toBe('failed');
    expect(complete?.detail).toContain('page 1 is empty though meta.total says 250');
    expect(complete?.hint).not.toMatch(/caps it lower/);
  });

  it('a 429 to per_page=101 is not OK', async () => {
    const report = await verify({ overLimited: true });
    const over = check(report, 'per-page-101');
    expect(over?.status).not.toBe('ok');
    expect(over?.detail).toContain('429');
  });

  it('a page answered after a 429 counts the wait in its latency', async () => {
    const report = await verify({ limitedOnce: true });
    const slowest = Number(/slowest page (\d+) ms/.exec(check(report, 'latency')?.detail ?? '')?.[1]);
    // Retry-After: 1 means at least 1000 ms passed between asking and getting the page.
    expect(slowest).toBeGreaterThanOrEqual(1_000);
  });

  it('a /health that answers 200 with HTML says the body is not JSON', async () => {
    const report = await verify({ htmlHealth: true });
    expect(check(report, 'health')?.detail).toMatch(/not JSON.*text\/html/);
  });

  it('a page larger than the limit fails with the limit, and is not read whole', async () => {
    const report = await verify({ pad: 300_000 }, { maxPageBytes: 100_000 });
    const pages = check(report, 'products-pages');
    expect(pages?.status).toBe('failed');
    expect(pages?.detail).toMatch(/^page 1 answered 200 with a body over 100000 bytes/);
  });
});
