import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatReport, type VerifyReport, verifyStore } from '@hiwelink/cli';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '../support/catalog.js';

/*
 * Kind: a `hiwelink verify` check weaker than the crawler's own stop rule. HiWelink asks for page 1,
 * 2, ... and stops at the first page holding fewer records than it asked for; whatever it has not
 * seen by then is not synced. A store passes only if that crawl, at every page size the platform
 * may use (50 and 100), reaches as many distinct records as the store says it holds.
 */

const KEY = 'hwk_test_verify_stop_rule';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

interface Quirks {
  /** What the store serves when asked for `perPage` records: the size it really pages by. */
  pageSize?: (asked: number) => number;
  /** Records left out of `page` when asked for `perPage`. */
  drop?: (page: number, perPage: number) => boolean;
  /** Bare arrays instead of `{ data, meta }`. */
  bare?: boolean;
  /** A lying meta.last_page that agrees with the short page. */
  lastPage?: (perPage: number) => number | undefined;
  /** Serves page 1 whatever `page` asks for. */
  ignorePage?: boolean;
  /** Serves full pages of fresh records forever, past meta.last_page. */
  endless?: boolean;
}

/** List requests each test's stores answered: a crawl that does not stop runs this up. */
let listRequests = 0;

/** A hand-written store over `count` products and 7 orders, with the quirks asked for. */
async function store(count: number, quirks: Quirks = {}): Promise<string> {
  const lists = {
    '/api/products': catalog(count),
    '/api/orders': Array.from({ length: 7 }, (_, index) => ({ id: String(index + 1) })),
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.headers['x-api-key'] !== KEY) return send(401, { error: 'Unauthorized' });
    if (url.pathname === '/health') return send(200, { status: 'ok' });
    const list = lists[url.pathname as keyof typeof lists];
    if (!list) return send(404, {});
    listRequests += 1;
    const page = quirks.ignorePage ? 1 : Number(url.searchParams.get('page') ?? 1);
    const asked = Number(url.searchParams.get('per_page') ?? 50);
    const perPage = quirks.pageSize ? quirks.pageSize(asked) : asked;
    if (perPage > 100) return send(400, { error: 'per_page' });
    let data = quirks.endless
      ? catalog(page * perPage).slice((page - 1) * perPage)
      : list.slice((page - 1) * perPage, page * perPage);
    if (quirks.drop?.(page, perPage)) data = data.slice(1);
    if (quirks.bare) return send(200, data);
    const lastPage = Math.max(1, Math.ceil(list.length / perPage));
    send(200, {
      data,
      meta: {
        current_page: page,
        per_page: perPage,
        total: list.length,
        last_page: quirks.lastPage?.(perPage) ?? lastPage,
      },
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(() => {
  listRequests = 0;
});

const verify = (baseUrl: string) => verifyStore({ baseUrl, credential: { apiKey: KEY } });
const check = (report: VerifyReport, id: string) => report.checks.find((entry) => entry.id === id);
const failed = (report: VerifyReport) =>
  report.checks.filter((entry) => entry.status === 'failed').map((entry) => entry.id);

describe('verify uses the crawler stop rule at every page size', () => {
  it('fails the store of the issue: per_page=100 clamped to 50 on 250 products', async () => {
    const report = await verify(await store(250, { pageSize: (asked) => Math.min(asked, 50) }));
    expect(failed(report)).toContain('products-complete');
    expect(check(report, 'products-complete')?.detail).toContain(
      'per_page=100: 50 of 250 products; page 1 held 50 records and ended the crawl',
    );
    expect(report.ok).toBe(false);
    expect(formatReport(report)).not.toContain('Ready for HiWelink');
  });

  it('fails the same clamp served as bare arrays, with no meta to compare', async () => {
    const report = await verify(await store(250, { pageSize: (asked) => Math.min(asked, 50), bare: true }));
    expect(failed(report)).toContain('products-complete');
    expect(report.ok).toBe(false);
  });

  it('fails a short page that only happens at per_page=100, even when meta.last_page agrees', async () => {
    const report = await verify(
      await store(250, {
        drop: (page, perPage) => perPage === 100 && page === 2,
        lastPage: (perPage) => (perPage === 100 ? 2 : undefined),
      }),
    );
    expect(failed(report)).toContain('products-complete');
    expect(check(report, 'products-complete')?.detail).toContain('per_page=100: 199 of 250 products');
  });

  it('fails a short page in bare arrays, where no meta says more pages follow', async () => {
    const report = await verify(
      await store(123, { bare: true, drop: (page, perPage) => perPage === 50 && page === 2 }),
    );
    expect(failed(report)).toContain('products-complete');
    expect(check(report, 'products-complete')?.detail).toContain('per_page=50: 99 of 123 products');
  });

  it('fails per_page=101 clamped to any smaller size, not only to 100', async () => {
    const report = await verify(await store(250, { pageSize: (asked) => (asked > 100 ? 50 : asked) }));
    expect(failed(report)).toEqual(['per-page-101']);
  });

  it('fails per_page=101 clamped to 100 on a catalog smaller than a page', async () => {
    const report = await verify(await store(30, { pageSize: (asked) => Math.min(asked, 100) }));
    expect(failed(report)).toEqual(['per-page-101']);
  });

  it('passes a store that pages correctly, including a total that is a multiple of both sizes', async () => {
    for (const count of [250, 200, 0]) {
      const report = await verify(await store(count));
      expect(failed(report), `${count} products`).toEqual([]);
      expect(check(report, 'products-complete')).toMatchObject({ status: 'ok' });
      expect(check(report, 'products-complete')?.detail).toBe(
        `per_page=50: ${count} of ${count}; per_page=100: ${count} of ${count}`,
      );
    }
  });

  it('stops a crawl at the first page that brings no new ids, and says the store ignores `page`', async () => {
    const report = await verify(await store(250, { ignorePage: true }));
    // 4 crawls of 2 pages, 2 auth probes, per_page=101 and a page past the end: not 4 × 10,000.
    expect(listRequests).toBeLessThan(20);
    expect(failed(report)).toContain('products-pages');
    expect(check(report, 'products-pages')?.detail).toContain('the store ignores `page`');
    expect(check(report, 'products-duplicates')?.detail).toContain('the store ignores `page`');
    expect(check(report, 'products-complete')?.detail).toContain('the store ignores `page`');
    expect(report.ok).toBe(false);
  });

  it('stops a crawl that runs past meta.last_page with full pages', async () => {
    const report = await verify(await store(250, { endless: true }));
    expect(listRequests).toBeLessThan(40);
    expect(failed(report)).toContain('products-pages');
    expect(check(report, 'products-pages')?.detail).toContain('past meta.last_page 5');
  });
});
