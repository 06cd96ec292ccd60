// The demo store (examples/express-sqlite, built by `tsc -b`) crawled the way HiWelink crawls it,
// over a 100,000-product catalog: how long a deep page takes next to the first, and how much the
// server's memory grows over a full crawl, with keyset continuation (the demo as it ships) and
// without (the kit's `keyset: false`, so every page is an OFFSET). Measurement only: nothing here
// passes or fails on speed. See the "Deep pages and memory" section of bench/README.md.
//
//   node bench/crawl.mjs                    prints a table (about 45 s)
//   import { runCrawlBench } from './crawl.mjs'; const rows = await runCrawlBench();
//
// Processes: the caller's (which only forks, sends requests and collects), one that seeds the
// catalog into a temporary SQLite file, and one server per mode over that file, each reporting its
// own RSS. Progress goes to stderr.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { ask, BenchError, forkChild, stopChildren, targetTable } from './common.mjs';

const SELF = fileURLToPath(import.meta.url);
const DEMO = new URL('../examples/express-sqlite/dist/app.js', import.meta.url).href;

const SETTINGS = { products: 100_000, perPage: 100, deepPage: 1_000, repetitions: 50, probeRuns: 50 };
const API_KEY = 'sk_bench_crawl_0123456789abcdef0123456789abcdef';
/** What the demo reads from the environment, given here instead: the catalog, its file, the key. */
const storeEnv = (file) => ({
  DATABASE_FILE: file,
  SEED_PRODUCTS: String(SETTINGS.products),
  SEED_ORDERS: '0',
  HIWELINK_API_KEY: API_KEY,
});

const MODES = [
  { id: 'keyset', label: 'keyset (demo as shipped)' },
  { id: 'offset', label: 'offset (kit keyset: false)' },
];

const progress = (text) => process.stderr.write(`  crawl: ${text}\n`);
const MB = 1024 * 1024;
const ms = (value) => `${value.toFixed(2)} ms`;
const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Milliseconds of each of `runs` calls of `fn`, after one call to warm it. */
function timed(fn, runs) {
  fn();
  return Array.from({ length: runs }, () => {
    const start = performance.now();
    fn();
    return performance.now() - start;
  });
}

// ---------------------------------------------------------------------------------------------
// Seeder (child process): the demo's own first start, which seeds in one transaction.

async function runSeeder(file) {
  const { createStore, readConfig } = await import(DEMO);
  const start = performance.now();
  const store = createStore(readConfig(storeEnv(file)));
  const seedMs = performance.now() - start;
  const count = store.db.prepare('SELECT COUNT(*) FROM products').pluck().get();
  // Closing the last connection checkpoints the WAL into the file, so the servers start alike.
  store.close();
  process.send?.({ type: 'seeded', seedMs, count, bytes: statSync(file).size }, () => process.disconnect());
}

// ---------------------------------------------------------------------------------------------
// Server (child process): the demo over the seeded file, as it ships or with the kit's
// `keyset: false`. Reports its RSS and, on request, what its repository calls cost in-process.

async function runServer(file, mode) {
  const { createStore, readConfig } = await import(DEMO);
  const store = createStore(readConfig(storeEnv(file)), mode === 'offset' ? { keyset: false } : {});
  const { app } = store;

  let peak = 0;
  let sampler;
  /** RSS, V8's heap and the size of each of its spaces: where a growth went. */
  const memory = () => ({
    ...process.memoryUsage(),
    spaces: Object.fromEntries(
      v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]),
    ),
  });
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
    return rss;
  };
  const server = http.createServer((request, response) => {
    if (sampler) response.once('finish', sample);
    app(request, response);
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));

  process.on('message', (message) => {
    if (message?.type === 'rss-start') {
      // Sampled after every response and every 5 ms between, until `rss-peak`.
      peak = 0;
      sampler = setInterval(sample, 5);
      process.send?.({ type: 'rss-start', rss: sample(), memory: memory() });
    } else if (message?.type === 'rss-peak') {
      clearInterval(sampler);
      sampler = undefined;
      const rss = sample();
      process.send?.({ type: 'rss-peak', rss, peak, memory: memory() });
    } else if (message?.type === 'probe') {
      process.send?.({ type: 'probe', ...probe(store) });
    }
  });
  process.on('disconnect', () => {
    server.close();
    store.close();
  });
}

/** What the repository and its queries cost in the server, without HTTP, the kit or mapping. */
function probe({ db, repository }) {
  const { perPage, deepPage, probeRuns } = SETTINGS;
  const deepOffset = (deepPage - 1) * perPage;
  const lastIdBefore = db
    .prepare('SELECT id FROM products ORDER BY id LIMIT 1 OFFSET ?')
    .pluck()
    .get(deepOffset - 1);
  const count = db.prepare('SELECT COUNT(*) FROM products').pluck();
  const plan = (sql, ...params) =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail)
      .join('; ');
  const cost = (fn) => median(timed(fn, probeRuns));
  return {
    cacheSizePragma: db.pragma('cache_size', { simple: true }),
    countMs: cost(() => count.get()),
    page1Ms: cost(() => repository.listProducts({ perPage, offset: 0 })),
    deepByOffsetMs: cost(() => repository.listProducts({ perPage, offset: deepOffset })),
    deepByAfterMs: cost(() => repository.listProducts({ perPage, offset: deepOffset, after: lastIdBefore })),
    plans: {
      count: plan('SELECT COUNT(*) FROM products'),
      offset: plan('SELECT * FROM products ORDER BY id LIMIT ? OFFSET ?', perPage, deepOffset),
      after: plan('SELECT * FROM products WHERE id > ? ORDER BY id LIMIT ?', lastIdBefore, perPage),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Caller

/** GET over one keep-alive connection; `ms` is from the request to the last byte of the body. */
function get(server, page) {
  const path = `/api/products?page=${page}&per_page=${SETTINGS.perPage}`;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const request = http.get(
      { host: '127.0.0.1', port: server.port, path, agent: server.agent, headers: { 'x-api-key': API_KEY } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const ms = performance.now() - start;
          if (response.statusCode !== 200) {
            reject(new BenchError(`${server.mode.id}: ${path} answered ${response.statusCode}`));
            return;
          }
          resolve({ ms, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
}

/** A page must hold exactly the products a crawl expects there, or a fast answer would fake a result. */
function check(server, page, body) {
  const { perPage, products } = SETTINGS;
  const first = (page - 1) * perPage + 1;
  const ids = body.data.map((product) => product.id);
  const expected = Array.from({ length: Math.min(perPage, products - first + 1) }, (_, i) =>
    String(first + i),
  );
  if (ids.join() !== expected.join() || body.meta.total !== products) {
    throw new BenchError(
      `${server.mode.id}: page ${page} holds ids ${ids[0]}..${ids.at(-1)} (${ids.length}) of ${body.meta.total}, ` +
        `expected ${expected[0]}..${expected.at(-1)} of ${products}`,
    );
  }
}

async function startServer(file, mode) {
  const child = forkChild(SELF, ['server', file, mode.id]);
  const { port } = await ask(child, 'ready', `${mode.id} server`, 30_000);
  return { mode, child, port, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
}

/** Pages 1 to the last in order, as HiWelink does, sampling the server's RSS throughout. */
async function crawlWithRss(server) {
  check(server, 1, (await get(server, 1)).body);
  const { rss: startRss, memory: startMemory } = await ask(
    server.child,
    'rss-start',
    `${server.mode.id} server`,
    5_000,
    {
      type: 'rss-start',
    },
  );
  const started = performance.now();
  let lastPage = 1;
  for (let page = 1; page <= lastPage; page++) {
    const { body } = await get(server, page);
    check(server, page, body);
    lastPage = body.meta.last_page;
  }
  const crawlMs = performance.now() - started;
  const {
    rss: endRss,
    peak,
    memory: endMemory,
  } = await ask(server.child, 'rss-peak', `${server.mode.id} server`, 5_000, {
    type: 'rss-peak',
  });
  return {
    pages: lastPage,
    crawlMs,
    startRss,
    endRss,
    peakRss: peak,
    growthMB: (peak - startRss) / MB,
    startMemory,
    endMemory,
  };
}

/**
 * Page `deepPage` reached as a crawl reaches it (the page before served just before), then page 1,
 * `repetitions` times; the servers take turns, so noise on the machine hits both alike.
 */
async function latencies(servers) {
  const { deepPage, repetitions } = SETTINGS;
  const samples = new Map(servers.map((server) => [server, { first: [], deep: [] }]));
  for (let round = 0; round < repetitions; round++) {
    for (let step = 0; step < servers.length; step++) {
      const server = servers[(round + step) % servers.length];
      // The untimed request first takes what a server pays for having sat idle during the other's turn.
      check(server, deepPage - 1, (await get(server, deepPage - 1)).body);
      const deep = await get(server, deepPage);
      check(server, deepPage, deep.body);
      const first = await get(server, 1);
      check(server, 1, first.body);
      samples.get(server).first.push(first.ms);
      samples.get(server).deep.push(deep.ms);
    }
  }
  return new Map(
    servers.map((server) => {
      const { first, deep } = samples.get(server);
      const firstMs = median(first);
      const deepMs = median(deep);
      return [server, { firstMs, deepMs, ratio: deepMs / firstMs, repetitions }];
    }),
  );
}

function toRows({ seeded, crawls, latency, probed }) {
  const { products, perPage, deepPage, repetitions, probeRuns } = SETTINGS;
  const rows = [
    {
      id: 'seed',
      measurement: `seed ${products.toLocaleString('en-US')} products (one transaction; not measured)`,
      result: `${(seeded.seedMs / 1000).toFixed(1)} s, ${mb(seeded.bytes)} SQLite file`,
      target: '–',
      met: null,
      numbers: { seedMs: seeded.seedMs, bytes: seeded.bytes, products: seeded.count },
    },
  ];
  for (const [server, numbers] of latency) {
    const keyset = server.mode.id === 'keyset';
    rows.push({
      id: `latency-${server.mode.id}`,
      measurement: `${server.mode.label}: page ${deepPage} vs page 1, per_page=${perPage}, median of ${repetitions}`,
      result: `page 1 ${ms(numbers.firstMs)}, page ${deepPage} ${ms(numbers.deepMs)}: ${numbers.ratio.toFixed(2)}×`,
      target: keyset ? '≤ 1.5×' : '–',
      met: keyset ? numbers.ratio <= 1.5 : null,
      numbers,
    });
  }
  for (const [server, numbers] of crawls) {
    const keyset = server.mode.id === 'keyset';
    rows.push({
      id: `rss-${server.mode.id}`,
      measurement: `${server.mode.label}: server RSS over a full crawl (${numbers.pages} pages of ${perPage})`,
      result:
        `${mb(numbers.startRss)} after page 1, peak ${mb(numbers.peakRss)}: +${numbers.growthMB.toFixed(1)} MB; ` +
        `crawl ${(numbers.crawlMs / 1000).toFixed(1)} s`,
      target: keyset ? '< 50 MB' : '–',
      met: keyset ? numbers.growthMB < 50 : null,
      numbers,
    });
  }
  rows.push({
    id: 'repository',
    measurement: `in the server, no HTTP: COUNT(*) for total; listProducts page 1, page ${deepPage} (median of ${probeRuns})`,
    result:
      `COUNT(*) ${ms(probed.countMs)}; page 1 ${ms(probed.page1Ms)}, page ${deepPage} by offset ` +
      `${ms(probed.deepByOffsetMs)}, by after ${ms(probed.deepByAfterMs)}`,
    target: '–',
    met: null,
    numbers: probed,
  });
  return rows;
}

/**
 * Seeds a 100,000-product catalog into a temporary file, serves it from two child processes (keyset
 * and offset), and returns one row per line of the table:
 * `{ id, measurement, result, target, met, numbers }`. About 45 s; prints only progress, on stderr.
 */
export async function runCrawlBench() {
  const dir = mkdtempSync(join(tmpdir(), 'hiwelink-crawl-bench-'));
  const file = join(dir, 'store.db');
  try {
    progress(`seeding ${SETTINGS.products.toLocaleString('en-US')} products into ${file}`);
    const seeded = await ask(forkChild(SELF, ['seed', file]), 'seeded', 'seeder', 120_000);
    if (seeded.count !== SETTINGS.products) {
      throw new BenchError(`the seeder made ${seeded.count} products, not ${SETTINGS.products}`);
    }
    const servers = [];
    for (const mode of MODES) servers.push(await startServer(file, mode));

    const crawls = new Map();
    for (const server of servers) {
      progress(`${server.mode.id}: full crawl, sampling the server's RSS`);
      crawls.set(server, await crawlWithRss(server));
    }
    progress(`page 1 and page ${SETTINGS.deepPage}, ${SETTINGS.repetitions} times on each server`);
    const latency = await latencies(servers);
    const keysetServer = servers.find((server) => server.mode.id === 'keyset');
    const probed = await ask(keysetServer.child, 'probe', 'keyset server', 60_000, { type: 'probe' });
    for (const server of servers) server.agent.destroy();
    return toRows({ seeded, crawls, latency, probed });
  } finally {
    await stopChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function runChild(role, args) {
  try {
    if (role === 'seed') await runSeeder(...args);
    else await runServer(...args);
  } catch (error) {
    process.send?.({
      type: 'failed',
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exitCode = 1;
    process.disconnect?.();
  }
}

if (process.argv[1] === SELF) {
  const [role, ...args] = process.argv.slice(2);
  if (role === 'seed' || role === 'server') await runChild(role, args);
  else {
    try {
      const started = Date.now();
      const rows = await runCrawlBench();
      const { plans, cacheSizePragma } = rows.find((row) => row.id === 'repository').numbers;
      console.log(
        `Deep pages and memory (${((Date.now() - started) / 1000).toFixed(0)} s, Node ${process.version}; ` +
          `SQLite cache_size ${cacheSizePragma}):\n`,
      );
      console.log(targetTable(rows));
      console.log(`\nQuery plans: COUNT(*): ${plans.count}; OFFSET: ${plans.offset}; after: ${plans.after}`);
    } catch (error) {
      console.error(error instanceof BenchError ? `\n${error.message}` : error);
      process.exitCode = 1;
    }
  }
}
