// HiWelink adapters against hand-written routes in the same framework and a bare node:http server.
// Measurement only: nothing here passes or fails on speed. See bench/README.md.
//
//   npm run bench                          build the packages, then run everything
//   BENCH_SECONDS=5 node bench/run.mjs     longer measurements (default 2.5 s each)
//
// Environment: BENCH_SECONDS (per measurement, default 2.5), BENCH_WARMUP_SECONDS (per server and
// scenario, default 0.5), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS (default 50), BENCH_SERVERS
// (comma-separated server ids, default all: see servers.mjs), BENCH_SCENARIOS (comma-separated
// scenario ids: products, store, health, unauthorized; default all), BENCH_CRAWL=0 and BENCH_WEBHOOKS=0
// (skip the crawl and webhook parts).

import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import {
  ask,
  BenchError,
  forkChild,
  killChildren,
  markdownTable,
  stopChildren,
  targetTable,
} from './common.mjs';
import { runCrawlBench } from './crawl.mjs';
import { API_KEY, PRODUCTS } from './data.mjs';
import { storePayload } from './handwritten.mjs';
import { SERVERS, STORE_PATH } from './servers.mjs';
import { runWebhookBench } from './webhooks.mjs';

function numberFromEnv(name, fallback, { integer = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new BenchError(`${name}=${raw} is not a valid ${integer ? 'positive integer' : 'positive number'}`);
  }
  return value;
}

const RESULTS_FILE = fileURLToPath(new URL('results.json', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('server.mjs', import.meta.url));

const EXPECTED_META = { current_page: 1, per_page: 100, total: PRODUCTS.length, last_page: 10 };
const EXPECTED_PAGE = JSON.stringify(PRODUCTS.slice(0, 100));

// The store-rows page as the hand-mapped route builds it, in its JSON form: every server, adapter
// included, must answer these values (key order aside) before anything is timed.
const STORE_PAGE = { page: 7, perPage: 100 };
const EXPECTED_STORE = JSON.parse(JSON.stringify(storePayload(STORE_PAGE)));

/** What differs between two arrays of records: the first record and field that do, or nothing. */
function firstDifference(actual, expected) {
  if (!Array.isArray(actual) || actual.length !== expected.length) {
    return `data has ${Array.isArray(actual) ? actual.length : 'no'} records, expected ${expected.length}`;
  }
  for (let index = 0; index < expected.length; index++) {
    const fields = new Set([...Object.keys(actual[index] ?? {}), ...Object.keys(expected[index])]);
    for (const field of fields) {
      if (!isDeepStrictEqual(actual[index]?.[field], expected[index][field])) {
        return `record ${index} (id ${expected[index].id}) ${field} is ${JSON.stringify(actual[index]?.[field])}, expected ${JSON.stringify(expected[index][field])}`;
      }
    }
  }
}

const SCENARIOS = [
  {
    id: 'products',
    label: 'products ×100',
    path: '/api/products?per_page=100',
    withKey: true,
    status: 200,
    check(body) {
      if (JSON.stringify(body?.meta) !== JSON.stringify(EXPECTED_META)) {
        return `meta is ${JSON.stringify(body?.meta)}, expected ${JSON.stringify(EXPECTED_META)}`;
      }
      if (JSON.stringify(body.data) !== EXPECTED_PAGE) return 'data is not products 1 to 100';
    },
  },
  {
    id: 'store',
    label: 'store rows ×100',
    path: `${STORE_PATH}?page=${STORE_PAGE.page}&per_page=${STORE_PAGE.perPage}`,
    withKey: true,
    status: 200,
    check(body) {
      if (!isDeepStrictEqual(body?.meta, EXPECTED_STORE.meta)) {
        return `meta is ${JSON.stringify(body?.meta)}, expected ${JSON.stringify(EXPECTED_STORE.meta)}`;
      }
      return firstDifference(body.data, EXPECTED_STORE.data);
    },
  },
  {
    id: 'health',
    label: 'health',
    path: '/health',
    withKey: true,
    status: 200,
    check(body) {
      if (body?.status !== 'ok' || Number.isNaN(Date.parse(body.timestamp))) {
        return `body is ${JSON.stringify(body)}, expected { status: 'ok', timestamp }`;
      }
    },
  },
  {
    id: 'unauthorized',
    label: 'products, no key (401)',
    path: '/api/products',
    withKey: false,
    status: 401,
    check(body) {
      if (typeof body?.error !== 'string') return `body is ${JSON.stringify(body)}, expected { error, ... }`;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Child processes

async function startServer(server) {
  const child = forkChild(SERVER_ENTRY, [server.id]);
  const { port } = await ask(child, 'ready', server.id, 15_000);
  return { ...server, child, url: `http://127.0.0.1:${port}` };
}

/** CPU time (user + system, µs) the server's process has used so far. */
async function serverCpu(server) {
  const { micros } = await ask(server.child, 'cpu', `${server.id} (CPU time)`, 5_000, { type: 'cpu' });
  return micros;
}

process.on('exit', killChildren);
process.on('SIGINT', () => {
  killChildren();
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------
// Checks and measurements

const headersFor = (scenario) => (scenario.withKey ? { 'x-api-key': API_KEY } : {});

/** A server answering errors fast would fake a result: every server must answer every scenario right. */
async function preflight(servers) {
  const problems = [];
  for (const server of servers) {
    for (const scenario of SCENARIOS) {
      const where = `${server.id} GET ${scenario.path}${scenario.withKey ? '' : ' (no key)'}`;
      try {
        const response = await fetch(server.url + scenario.path, { headers: headersFor(scenario) });
        const text = await response.text();
        if (response.status !== scenario.status) {
          problems.push(
            `${where}: status ${response.status}, expected ${scenario.status}: ${text.slice(0, 200)}`,
          );
          continue;
        }
        const type = response.headers.get('content-type') ?? '';
        if (!type.startsWith('application/json')) {
          problems.push(`${where}: content-type '${type}', expected application/json`);
          continue;
        }
        const problem = scenario.check(JSON.parse(text));
        if (problem) problems.push(`${where}: ${problem}`);
      } catch (error) {
        problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new BenchError(
      `Aborting: not every server answers every scenario as expected, so a measurement would mean nothing.\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
}

async function load(server, scenario, seconds, connections) {
  const cpuBefore = await serverCpu(server);
  const result = await autocannon({
    url: server.url + scenario.path,
    headers: headersFor(scenario),
    connections,
    duration: seconds,
    // autocannon stops on a sample tick; a short interval keeps runs close to `seconds`.
    sampleInt: 250,
  });
  const cpuMicros = (await serverCpu(server)) - cpuBefore;
  const statuses = Object.keys(result.statusCodeStats ?? {});
  const wrongStatus = statuses.filter((status) => Number(status) !== scenario.status);
  if (result.errors > 0 || result.timeouts > 0 || wrongStatus.length > 0 || result.requests.total === 0) {
    throw new BenchError(
      `Aborting: ${server.id} on ${scenario.path} under load: ${result.requests.total} responses, ` +
        `${result.errors} errors, ${result.timeouts} timeouts, status codes ${JSON.stringify(result.statusCodeStats)} ` +
        `(expected only ${scenario.status}).`,
    );
  }
  return {
    reqPerSec: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    // All of the server process's threads; robust to the load generator being the bottleneck.
    cpuMicrosPerRequest: cpuMicros / result.requests.total,
    requests: result.requests.total,
    seconds: result.duration,
    bytesPerResponse: Math.round(result.throughput.total / result.requests.total),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const twoDigits = (value) => value.toFixed(2);

function tableRows(rows) {
  const find = (framework, variant, scenario) =>
    rows.find((row) => row.framework === framework && row.variant === variant && row.scenario === scenario);
  return rows.map((row) => {
    const handWritten = find(row.framework, 'hand-written', row.scenario);
    const bare = find('node:http', 'bare', row.scenario);
    let ratio = null;
    if (row.variant === 'bare') ratio = 1;
    else if (handWritten) ratio = row.reqPerSec / handWritten.reqPerSec;
    return {
      ...row,
      ratio,
      ratioToBare: bare ? row.reqPerSec / bare.reqPerSec : null,
      // The same comparison in server CPU per request: it holds even where autocannon, sharing
      // the CPUs, caps the req/s of the fastest servers.
      cpuRatio: handWritten ? handWritten.cpuMicrosPerRequest / row.cpuMicrosPerRequest : null,
    };
  });
}

function renderTable(rows) {
  const header = [
    'framework',
    'variant',
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'vs hand-written',
    'vs node:http',
    'server CPU µs/req',
    'CPU vs hand-written',
  ];
  const cells = rows.map((row) => [
    row.framework,
    row.variant,
    SCENARIOS.find((scenario) => scenario.id === row.scenario).label,
    integer.format(row.reqPerSec),
    String(row.p50),
    String(row.p99),
    row.ratio === null ? '–' : row.variant === 'bare' ? '1 (reference)' : twoDigits(row.ratio),
    row.ratioToBare === null ? '–' : twoDigits(row.ratioToBare),
    integer.format(row.cpuMicrosPerRequest),
    row.cpuRatio === null || row.variant !== 'adapter' ? '–' : twoDigits(row.cpuRatio),
  ]);
  return markdownTable(header, cells, [false, false, false, true, true, true, true, true, true, true]);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const seconds = numberFromEnv('BENCH_SECONDS', 2.5);
  const warmupSeconds = numberFromEnv('BENCH_WARMUP_SECONDS', 0.5);
  const rounds = numberFromEnv('BENCH_ROUNDS', 2, { integer: true });
  const connections = numberFromEnv('BENCH_CONNECTIONS', 50, { integer: true });
  const only = process.env.BENCH_SERVERS?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !SERVERS.some((server) => server.id === id)) ?? [];
  if (unknown.length > 0) {
    throw new BenchError(
      `BENCH_SERVERS: unknown server ${unknown.join(', ')}; known: ${SERVERS.map((s) => s.id).join(', ')}`,
    );
  }
  const selected = only?.length ? SERVERS.filter((server) => only.includes(server.id)) : SERVERS;
  const scenarioIds = process.env.BENCH_SCENARIOS?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const unknownScenarios =
    scenarioIds?.filter((id) => !SCENARIOS.some((scenario) => scenario.id === id)) ?? [];
  if (unknownScenarios.length > 0) {
    throw new BenchError(
      `BENCH_SCENARIOS: unknown scenario ${unknownScenarios.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`,
    );
  }
  // Every scenario is still checked before timing; only the selected ones are measured.
  const measured = scenarioIds?.length ? SCENARIOS.filter((s) => scenarioIds.includes(s.id)) : SCENARIOS;

  const cells = selected.length * measured.length;
  const estimate = Math.round(cells * (warmupSeconds + rounds * seconds));
  console.log(
    `HiWelink bench: ${selected.length} servers × ${measured.length} scenarios, ${connections} connections, ` +
      `${warmupSeconds} s warm-up, ${rounds} interleaved rounds of ${seconds} s (≈ ${estimate} s). ` +
      `Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}.`,
  );

  const servers = await Promise.all(selected.map(startServer));
  await preflight(servers);
  console.log('Preflight: every server answers 200 / 200 / 401 with the expected bodies.');

  for (const server of servers) {
    for (const scenario of measured) await load(server, scenario, warmupSeconds, connections);
  }

  /** measurements[server.id][scenario.id] = one entry per round */
  const measurements = Object.fromEntries(servers.map((server) => [server.id, {}]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of measured) {
      // Round-robin over servers, starting one further along each round.
      for (let step = 0; step < servers.length; step++) {
        const server = servers[(step + round) % servers.length];
        const measured = await load(server, scenario, seconds, connections);
        measurements[server.id][scenario.id] ??= [];
        measurements[server.id][scenario.id].push(measured);
        process.stderr.write(
          `  round ${round + 1}/${rounds}  ${scenario.id.padEnd(12)} ${server.id.padEnd(20)} ` +
            `${integer.format(measured.reqPerSec).padStart(7)} req/s\n`,
        );
      }
    }
  }
  await stopChildren();

  const rows = tableRows(
    servers.flatMap((server) =>
      measured.map((scenario) => {
        const runs = measurements[server.id][scenario.id];
        const best = runs.reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a));
        return {
          framework: server.framework,
          variant: server.variant,
          server: server.id,
          scenario: scenario.id,
          path: scenario.path,
          withKey: scenario.withKey,
          status: scenario.status,
          reqPerSec: best.reqPerSec,
          p50: best.p50,
          p99: best.p99,
          // Lowest of the rounds: contention only ever adds CPU time.
          cpuMicrosPerRequest: Math.min(...runs.map((run) => run.cpuMicrosPerRequest)),
          bytesPerResponse: best.bytesPerResponse,
          rounds: runs,
        };
      }),
    ),
  );
  // Grouped by scenario, so each framework's variants sit next to each other.
  rows.sort(
    (a, b) =>
      SCENARIOS.findIndex((s) => s.id === a.scenario) - SCENARIOS.findIndex((s) => s.id === b.scenario),
  );

  console.log(
    `\nBest of ${rounds} rounds per row (req/s and that round's latencies; CPU: lowest round). ` +
      'Ratios are req/s over req/s.\n',
  );
  console.log(renderTable(rows));

  // Each in its own child processes, after the HTTP servers have stopped.
  let crawl;
  if (process.env.BENCH_CRAWL !== '0') {
    console.log('\nDeep pages and memory: the demo store on 100,000 products (bench/crawl.mjs)\n');
    crawl = await runCrawlBench();
    console.log(targetTable(crawl));
  }
  let webhooks;
  if (process.env.BENCH_WEBHOOKS !== '0') {
    console.log('\nWebhooks: the in-memory emitter against a local receiver (bench/webhooks.mjs)\n');
    webhooks = await runWebhookBench();
    console.log(targetTable(webhooks));
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    settings: { seconds, warmupSeconds, rounds, connections, pick: 'best req/s of the rounds' },
    results: rows,
    crawl,
    webhooks,
  };
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

try {
  await main();
} catch (error) {
  killChildren();
  console.error(error instanceof BenchError ? `\n${error.message}` : error);
  process.exitCode = 1;
}
