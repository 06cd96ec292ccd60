import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type VerifyReport, verifyStore } from '@hiwelink/cli';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '../support/catalog.js';

/*
 * Kind: a store that stops answering in the middle of `hiwelink verify` (a page that hangs past
 * the time limit, a connection dropped). The crawler's sync ends there, so verify reports it as a
 * failed check naming the page, instead of rejecting (the command died with "fetch failed").
 */

const KEY = 'hwk_test_verify_no_answer';
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

/** 123 products; page 2 of the products, at any size, does what `broken` says. */
async function store(broken: 'hang' | 'drop'): Promise<string> {
  const products = catalog(123);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    if (request.headers['x-api-key'] !== KEY) return response.writeHead(401).end('{}');
    if (url.pathname === '/health') return response.end('{"status":"ok"}');
    const page = Number(url.searchParams.get('page'));
    const perPage = Number(url.searchParams.get('per_page'));
    if (url.pathname === '/api/products' && page === 2) {
      if (broken === 'drop') request.socket.destroy();
      return; // 'hang': never answers
    }
    const list = url.pathname === '/api/products' ? products : [];
    const total = list.length;
    response.setHeader('content-type', 'application/json');
    response.end(
      JSON.stringify({
        data: perPage > 100 ? [] : list.slice((page - 1) * perPage, page * perPage),
        meta: {
          current_page: page,
          per_page: perPage,
          total,
          last_page: Math.max(1, Math.ceil(total / perPage)),
        },
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const check = (report: VerifyReport, id: string) => report.checks.find((entry) => entry.id === id);

describe('verify reports a store that stops answering as a failed check', () => {
  it.each(['hang', 'drop'] as const)('a products page that %ss', async (broken) => {
    const report = await verifyStore({
      baseUrl: await store(broken),
      credential: { apiKey: KEY },
      timeoutMs: 1_000,
    });
    expect(check(report, 'products-pages')).toMatchObject({ status: 'failed' });
    expect(check(report, 'products-pages')?.detail).toMatch(/^page 2 got no answer \(.+\)$/);
    expect(check(report, 'products-complete')?.detail).toContain('per_page=100: page 2 got no answer');
    expect(report.ok).toBe(false);
  });
});
