import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { verifyStore } from '@hiwelink/cli';
import { hiwelink } from '@hiwelink/express';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { catalog } from './support/catalog.js';

const KEY = 'hwk_test_verify_key';
const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server) {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The store done right: the kit over an in-memory catalog. */
function healthyStore(products = catalog(123)) {
  const app = express();
  const page =
    (records: unknown[]) =>
    ({ perPage, offset }: { perPage: number; offset: number }) => ({
      items: records.slice(offset, offset + perPage),
      total: records.length,
    });
  app.use(
    hiwelink({
      products: page(products),
      orders: page(catalog(7).map(({ id }) => ({ id }))),
      auth: { apiKey: KEY },
      logger: { warn() {}, error() {} },
    }),
  );
  return createServer(app);
}

interface Breakage {
  shortPage?: boolean;
  duplicates?: boolean;
  missingNames?: boolean;
  metaLies?: boolean;
  clamps?: boolean;
  deepPageFails?: boolean;
  openHealth?: boolean;
}

/** A hand-written store with one mistake of the kind copy-pasted snippets make. */
function brokenStore(breakage: Breakage) {
  const records = catalog(123);
  return createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const authorized = request.headers['x-api-key'] === KEY;
    if (url.pathname === '/health')
      return authorized || breakage.openHealth ? send(200, { status: 'ok' }) : send(401, {});
    if (!authorized) return send(401, { error: 'Unauthorized' });
    const page = Number(url.searchParams.get('page') ?? 1);
    let perPage = Number(url.searchParams.get('per_page') ?? 50);
    if (breakage.clamps) perPage = Math.min(perPage, 100);
    else if (perPage > 100) return send(400, { error: 'per_page' });
    const list = url.pathname === '/api/orders' ? records.slice(0, 7).map(({ id }) => ({ id })) : records;
    if (breakage.deepPageFails && page === 3) return send(500, { error: 'boom' });
    let data: unknown[] = list.slice((page - 1) * perPage, page * perPage);
    if (breakage.shortPage && page === 2) data = data.slice(1);
    if (breakage.duplicates && page === 2) data = [list[0], ...data.slice(1)];
    if (breakage.missingNames)
      data = data.map((record, index) => (index === 3 ? { ...(record as object), name: undefined } : record));
    const total = breakage.metaLies ? list.length + 10 : list.length;
    send(200, {
      data,
      meta: {
        current_page: page,
        per_page: perPage,
        total,
        last_page: Math.max(1, Math.ceil(total / perPage)),
      },
    });
  });
}

const failedIds = (report: { checks: { id: string; status: string }[] }) =>
  report.checks.filter((check) => check.status === 'failed').map((check) => check.id);

describe('hiwelink verify', () => {
  it('passes a healthy store with nothing failed or warned about its contract', async () => {
    const baseUrl = await listen(healthyStore());
    const report = await verifyStore({ baseUrl, credential: { apiKey: KEY } });
    expect(failedIds(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.find((check) => check.id === 'products-pages')?.detail).toBe(
      '3 page(s), 123 record(s)',
    );
    expect(report.checks.filter((check) => check.status === 'warning')).toEqual([]);
    expect(report.checks.find((check) => check.id === 'products-deep-pages')?.detail).toBe(
      '3 page(s): too few to compare',
    );
  });

  it.each<[string, Breakage, string[]]>([
    ['a short page', { shortPage: true }, ['products-complete']],
    ['duplicates across pages', { duplicates: true }, ['products-duplicates']],
    ['products without names', { missingNames: true }, ['products-required']],
    ['a meta that lies', { metaLies: true }, ['products-complete', 'orders-complete']],
    ['a clamped per_page', { clamps: true }, ['per-page-101']],
    ['a 500 on a deep page', { deepPageFails: true }, ['products-pages']],
    ['health without auth', { openHealth: true }, ['health-auth']],
  ])('flags %s', async (_case, breakage, expected) => {
    const baseUrl = await listen(brokenStore(breakage));
    const report = await verifyStore({ baseUrl, credential: { apiKey: KEY } });
    for (const id of expected) expect(failedIds(report)).toContain(id);
    expect(report.ok).toBe(false);
  });

  it('does not flag the hand-written store when nothing is broken', async () => {
    const baseUrl = await listen(brokenStore({}));
    const report = await verifyStore({ baseUrl, credential: { apiKey: KEY } });
    expect(failedIds(report)).toEqual([]);
  });

  it('fails plain HTTP on a public host without connecting anywhere else', async () => {
    const report = await verifyStore({
      baseUrl: 'http://192.0.2.1:9',
      credential: { apiKey: KEY },
      timeoutMs: 500,
    });
    expect(report.checks[0]).toMatchObject({ id: 'https', status: 'failed' });
    expect(report.ok).toBe(false);
  });

  it('warns when deep pages are slow, as OFFSET makes them, and not when they are not', async () => {
    // Each page sleeps 1.5 ms per row before it, as a database walking them would: page 1 at 0 ms,
    // page 20 at 285 ms. The margins (3x and 50 ms) are far from both.
    const records = catalog(200);
    const store = (slow: boolean) => {
      const app = express();
      app.use(
        hiwelink({
          products: async ({ perPage, offset }) => {
            if (slow) await new Promise((resolve) => setTimeout(resolve, offset * 1.5));
            return { items: records.slice(offset, offset + perPage), total: records.length };
          },
          orders: () => ({ items: [], total: 0 }),
          auth: { apiKey: KEY },
          logger: { warn() {}, error() {} },
        }),
      );
      return createServer(app);
    };
    const deepPages = async (slow: boolean) => {
      const baseUrl = await listen(store(slow));
      // One page size: the other crawls would only add sleeping pages to the run.
      const report = await verifyStore({
        baseUrl,
        credential: { apiKey: KEY },
        perPage: 10,
        pageSizes: [10],
      });
      return report.checks.find((check) => check.id === 'products-deep-pages');
    };
    const slow = await deepPages(true);
    expect(slow?.status).toBe('warning');
    expect(slow?.hint).toContain('`after`');
    expect((await deepPages(false))?.status).toBe('ok');
  });

  it('runs as a command: table and exit code 0 when green, 1 when not, 2 on bad usage', async () => {
    const healthy = await listen(healthyStore());
    const broken = await listen(brokenStore({ clamps: true }));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
    // spawnSync blocks this process, which serves the stores: run the child asynchronously instead.
    const runAsync = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        import('node:child_process').then(({ execFile }) => {
          execFile(process.execPath, [bin, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
            resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
        });
      });
    const green = await runAsync(['verify', healthy, '--api-key', KEY]);
    expect(green.stdout).toContain('Ready for HiWelink');
    expect(green.status).toBe(0);
    const red = await runAsync(['verify', broken, '--api-key', KEY, '--json']);
    expect(red.status).toBe(1);
    expect(
      JSON.parse(red.stdout).checks.find((check: { id: string }) => check.id === 'per-page-101').status,
    ).toBe('failed');
    const help = run(['verify', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('hiwelink verify <base-url>');
    const usage = run(['verify']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('verify needs the store base URL');
  });
});
