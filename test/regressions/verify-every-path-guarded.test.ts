import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyStore } from '@hiwelink/cli';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from '../support/catalog.js';

/*
 * Kind: a `hiwelink verify` credential check that reads one path and vouches for all. The contract
 * guards /health, /api/products and /api/orders alike; verify only tried a wrong or missing
 * credential on /api/products, so a store serving its orders to anyone passed.
 */

const KEY = 'hwk_test_verify_guarded';
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A store whose `open` path answers without checking the key. */
async function store(open: '/api/orders' | '/api/products' | undefined): Promise<string> {
  const lists: Record<string, unknown[]> = { '/api/products': catalog(12), '/api/orders': [{ id: '1' }] };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    if (request.headers['x-api-key'] !== KEY && url.pathname !== open)
      return response.writeHead(401).end('{}');
    if (url.pathname === '/health') return response.end('{"status":"ok"}');
    const list = lists[url.pathname] ?? [];
    const page = Number(url.searchParams.get('page'));
    const perPage = Number(url.searchParams.get('per_page'));
    if (perPage > 100) return response.writeHead(400).end('{}');
    response.setHeader('content-type', 'application/json');
    const meta = { current_page: page, per_page: perPage, total: list.length };
    response.end(
      JSON.stringify({
        data: list.slice((page - 1) * perPage, page * perPage),
        meta: { ...meta, last_page: Math.max(1, Math.ceil(list.length / perPage)) },
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const failed = async (open: '/api/orders' | '/api/products' | undefined) => {
  const report = await verifyStore({ baseUrl: await store(open), credential: { apiKey: KEY } });
  return report.checks.filter((check) => check.status === 'failed');
};

describe('verify tries a missing and a wrong credential on every path', () => {
  it.each(['/api/orders', '/api/products'] as const)(
    'fails a store that serves %s to anyone',
    async (open) => {
      const checks = await failed(open);
      expect(checks.map((check) => check.id)).toEqual([
        'refuses-no-credential',
        'refuses-a-wrong-credential',
      ]);
      for (const check of checks) expect(check.detail).toContain(`${open} answered 200`);
    },
  );

  it('passes the store that guards them all', async () => {
    expect(await failed(undefined)).toEqual([]);
  });
});
