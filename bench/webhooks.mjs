// The in-memory webhook emitter (`createWebhookEmitter` from @hiwelink/core, built by `tsc -b`):
// what emit() costs its caller, how fast it delivers next to a bare axios loop, and what it holds
// while the receiver is down. Measurement only: nothing here passes or fails on speed. See the
// "Webhooks" section of bench/README.md.
//
//   node bench/webhooks.mjs                 prints a table (about 30 s)
//   import { runWebhookBench } from './webhooks.mjs'; const rows = await runWebhookBench();
//
// Three processes: the caller's (which only forks and collects), a receiver (`node:http`, answers
// 204), and the measuring process, forked with --expose-gc so heap samples follow a full GC and
// neither the caller's heap nor its event loop leaks into the numbers. Progress goes to stderr.

import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  createMessageBuilder,
  createWebhookEmitter,
  newWebhookId,
  signatureHeaders,
  signingKey,
} from '@hiwelink/core';
import axios from 'axios';
import { ask, BenchError, forkChild, stopChildren, targetTable } from './common.mjs';
import { PRODUCTS } from './data.mjs';

const SELF = fileURLToPath(import.meta.url);

/** The bare loop must use the axios that @hiwelink/core sends with, not another copy. */
const AXIOS_VERSION = createRequire(import.meta.url)('axios/package.json').version;
const coreAxios = createRequire(fileURLToPath(import.meta.resolve('@hiwelink/core')))('axios/package.json');
if (coreAxios.version !== AXIOS_VERSION) {
  throw new Error(`bench uses axios ${AXIOS_VERSION}, @hiwelink/core uses ${coreAxios.version}`);
}
const TOKEN = '88bedac0-a8da-4700-8d07-5dbbf4fdfd6d';
const SECRET = `whsec_${Buffer.from('a 32-byte webhook signing secret').toString('base64')}`;
const PATH = `/api/generic-api/webhooks/${TOKEN}/products`;

/** Sizes of each part; small enough that the whole run stays near 30 s on 2 busy vCPUs. */
const SETTINGS = {
  emit: { warmup: 3_000, calls: 20_000, burst: 5_000, steadyCalls: 5_000 },
  delivery: { events: 3_000, warmup: 1_000, concurrency: 16, rounds: 4 },
  down: { events: 50_000, closeDeadlineMs: 500 },
};

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const micros = (value) => `${value.toFixed(1)} µs`;
const progress = (text) => process.stderr.write(`  webhooks: ${text}\n`);
const quietLogger = { warn() {}, error() {} };

/** A product from data.mjs under a new id, so that no two events coalesce. */
const productNumbered = (n) => ({ ...PRODUCTS[n % PRODUCTS.length], id: `prod_${n}` });

// ---------------------------------------------------------------------------------------------
// Receiver (child process): answers 204 to everything, counts requests and signed requests.

function runReceiver() {
  let requests = 0;
  let signed = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      if (request.headers['webhook-signature']) signed += 1;
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
  process.on('message', (message) => {
    if (message?.type === 'count') process.send?.({ type: 'count', requests, signed });
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Measuring process

/** The receiver's counters, asked over IPC (the receiver is the parent's child, so via the parent). */
function receiverCount() {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== 'count') return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
    process.send?.({ type: 'count' });
  });
}

function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

function summarize(nanos) {
  const sorted = Float64Array.from(nanos).sort();
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    calls: sorted.length,
    medianMicros: percentile(sorted, 0.5) / 1000,
    p99Micros: percentile(sorted, 0.99) / 1000,
    meanMicros: sum / sorted.length / 1000,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * emit() as its caller sees it, timed around the call only, in two patterns: bursts (a bulk
 * import: `burst` calls in one synchronous loop, so the queue grows to `burst` deep, then a
 * flush), and steady (one call per event-loop turn, so the queue is near empty and each event is
 * taken for delivery within its own emit() call).
 */
async function measureEmit(url) {
  const { warmup, calls, burst, steadyCalls } = SETTINGS.emit;
  const emitter = createWebhookEmitter(
    {
      url,
      storeToken: TOKEN,
      secret: SECRET,
      concurrency: SETTINGS.delivery.concurrency,
      logger: quietLogger,
    },
    {},
  );
  let next = 0;
  const timedBurst = async (count, into) => {
    const products = Array.from({ length: count }, () => productNumbered(next++));
    for (const product of products) {
      const start = process.hrtime.bigint();
      const accepted = emitter.productUpdated(product);
      const end = process.hrtime.bigint();
      if (!accepted) throw new BenchError('emit() refused an event while the receiver was up');
      into?.push(Number(end - start));
    }
    const { remaining } = await emitter.flush(30_000);
    if (remaining > 0) throw new BenchError(`${remaining} events still queued after a 30 s flush`);
  };
  for (let done = 0; done < warmup; done += burst) await timedBurst(Math.min(burst, warmup - done));
  const bursts = [];
  for (let done = 0; done < calls; done += burst) await timedBurst(Math.min(burst, calls - done), bursts);
  const burstSummary = summarize(bursts);
  progress(
    `emit() in bursts of ${burst}: median ${micros(burstSummary.medianMicros)} (${bursts.length} calls)`,
  );

  const steady = [];
  for (let index = 0; index < steadyCalls; index++) {
    const product = productNumbered(next++);
    const start = process.hrtime.bigint();
    const accepted = emitter.productUpdated(product);
    const end = process.hrtime.bigint();
    if (!accepted) throw new BenchError('emit() refused an event while the receiver was up');
    steady.push(Number(end - start));
    await tick();
  }
  await emitter.flush(30_000);
  const steadySummary = summarize(steady);
  progress(
    `emit() one per event-loop turn: median ${micros(steadySummary.medianMicros)} (${steady.length} calls)`,
  );
  const { delivered, failed } = await emitter.close(5_000);
  if (failed > 0 || delivered !== next) {
    throw new BenchError(`emit(): ${delivered} of ${next} events delivered, ${failed} failed`);
  }
  return { bursts: { ...burstSummary, burst }, steady: steadySummary };
}

/** What every sender shares: the same axios, request settings and agent (none set: Node's global one). */
const REQUEST = { timeout: 10_000, maxRedirects: 0, responseType: 'text' };
const KEY = signingKey(SECRET);
const bodyAsIs = (data) => data;

/**
 * The reference: `concurrency` workers each posting the next body and awaiting the answer. Unsigned,
 * axios serializes the object itself, as a hand-written sender would. Signed, it does what the
 * emitter does to a request (same headers, the exact bytes signed), without the queue.
 */
async function bareRun(client, url, bodies, concurrency, { signed = false } = {}) {
  let next = 0;
  const post = (data) => {
    if (!signed) return client.post(url + PATH, { event: 'product.updated', data }, REQUEST);
    const body = JSON.stringify({ event: 'product.updated', data });
    const signature = signatureHeaders(body, KEY, newWebhookId(), Math.floor(Date.now() / 1000));
    return client.post(url + PATH, body, {
      ...REQUEST,
      headers: { 'content-type': 'application/json', ...signature },
      transformRequest: [bodyAsIs],
    });
  };
  const worker = async () => {
    while (next < bodies.length) {
      const response = await post(bodies[next++]);
      if (response.status !== 204) throw new BenchError(`bare axios: HTTP ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function emitterRun(url, products, concurrency) {
  const emitter = createWebhookEmitter(
    { url, storeToken: TOKEN, secret: SECRET, concurrency, logger: quietLogger, timeoutMs: REQUEST.timeout },
    {},
  );
  for (const product of products) emitter.productUpdated(product);
  const { remaining } = await emitter.flush(30_000);
  const { delivered, failed } = await emitter.close(1_000);
  if (remaining > 0 || failed > 0 || delivered !== products.length) {
    throw new BenchError(`emitter: ${delivered} of ${products.length} delivered, ${failed} failed`);
  }
}

/** One timed run; the receiver must have seen exactly `events` requests, signed or not as expected. */
async function timed(label, events, signed, run) {
  const before = await receiverCount();
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { user, system } = process.cpuUsage(cpuBefore);
  const after = await receiverCount();
  const requests = after.requests - before.requests;
  const signedRequests = after.signed - before.signed;
  if (requests !== events || signedRequests !== (signed ? events : 0)) {
    throw new BenchError(
      `${label}: the receiver saw ${requests} requests (${signedRequests} signed) for ${events} events`,
    );
  }
  return { eventsPerSec: events / seconds, cpuMicrosPerEvent: (user + system) / events, seconds };
}

/**
 * The emitter against bare `axios.post` loops at the same concurrency (unsigned, and signed the
 * emitter's way), interleaved round by round; per sender, the best round's events/s and the lowest
 * round's CPU time of this process per event.
 */
async function measureDelivery(url) {
  const { events, warmup, concurrency, rounds } = SETTINGS.delivery;
  const products = Array.from({ length: events }, (_, index) => productNumbered(1_000_000 + index));
  const build = createMessageBuilder({});
  // The same bodies the emitter sends: its own mapping of the same records.
  const bodies = products.map((product) => build('products', 'updated', product).data);
  const client = axios.create();
  const senders = [
    { id: 'bare', signed: false, run: (count) => bareRun(client, url, bodies.slice(0, count), concurrency) },
    {
      id: 'bareSigned',
      signed: true,
      run: (count) => bareRun(client, url, bodies.slice(0, count), concurrency, { signed: true }),
    },
    { id: 'emitter', signed: true, run: (count) => emitterRun(url, products.slice(0, count), concurrency) },
  ];
  for (const sender of senders)
    await timed(`warm-up ${sender.id}`, warmup, sender.signed, () => sender.run(warmup));
  const runs = Object.fromEntries(senders.map((sender) => [sender.id, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const sender of senders) {
      const run = await timed(sender.id, events, sender.signed, () => sender.run(events));
      runs[sender.id].push(run);
      progress(
        `delivery round ${round}/${rounds}: ${sender.id} ${integer.format(run.eventsPerSec)} events/s, ` +
          `${integer.format(run.cpuMicrosPerEvent)} µs CPU/event`,
      );
    }
  }
  const best = (id) => ({
    eventsPerSec: Math.max(...runs[id].map((run) => run.eventsPerSec)),
    cpuMicrosPerEvent: Math.min(...runs[id].map((run) => run.cpuMicrosPerEvent)),
    rounds: runs[id],
  });
  const [bare, bareSigned, emitter] = senders.map((sender) => best(sender.id));
  return {
    events,
    concurrency,
    rounds,
    bare,
    bareSigned,
    emitter,
    ratio: emitter.eventsPerSec / bare.eventsPerSec,
    ratioToSigned: emitter.eventsPerSec / bareSigned.eventsPerSec,
    // Nobody sets an agent, so all go through http.globalAgent: keep-alive by default since Node 19.
    keepAlive: http.globalAgent.keepAlive === true,
    axiosVersion: AXIOS_VERSION,
  };
}

function memory() {
  global.gc?.();
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

/** A port nothing listens on: every attempt is refused at once. */
async function closedPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The receiver is down: what the emitter holds after `events` emits, and how close() behaves. */
async function measureDown() {
  const { events, closeDeadlineMs } = SETTINGS.down;
  const url = `http://127.0.0.1:${await closedPort()}`;
  let reported = 0;
  const reasons = new Set();
  const emitter = createWebhookEmitter(
    {
      url,
      storeToken: TOKEN,
      secret: SECRET,
      logger: quietLogger,
      onFailure(failure) {
        reported += 1;
        reasons.add(failure.reason);
      },
    },
    {},
  );
  const before = memory();
  let refused = 0;
  const start = process.hrtime.bigint();
  for (let n = 0; n < events; n++) {
    if (!emitter.productUpdated(productNumbered(2_000_000 + n))) refused += 1;
  }
  const emitSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  // Sample once every queued event has had its first attempt refused and waits for its retry, as
  // in a store whose receiver has been down for a while.
  const firstAttempts = process.hrtime.bigint();
  for (let waited = 0; emitter.stats().inFlight > 0; waited += 20) {
    if (waited > 20_000) throw new BenchError('receiver down: first attempts still running after 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const firstAttemptsSeconds = Number(process.hrtime.bigint() - firstAttempts) / 1e9;
  const after = memory();
  const stats = emitter.stats();
  progress(
    `receiver down: ${integer.format(events)} emits, ${integer.format(stats.queued)} queued, ` +
      `${integer.format(refused)} refused`,
  );

  const closeStart = process.hrtime.bigint();
  const report = await emitter.close(closeDeadlineMs);
  const closeMs = Number(process.hrtime.bigint() - closeStart) / 1e6;
  return {
    events,
    emitSeconds,
    firstAttemptsSeconds,
    rssGrowthMB: (after.rss - before.rss) / 2 ** 20,
    heapGrowthMB: (after.heapUsed - before.heapUsed) / 2 ** 20,
    gc: typeof global.gc === 'function',
    queued: stats.queued,
    failed: stats.failed,
    refused,
    reportedToOnFailure: reported,
    failureReasons: [...reasons],
    closeDeadlineMs,
    closeMs,
    undelivered: report.undelivered.length,
  };
}

async function runMeasurements(url) {
  // First, while the heap and RSS hold nothing else of ours.
  const down = await measureDown();
  const emit = await measureEmit(url);
  const delivery = await measureDelivery(url);
  return { emit, delivery, down };
}

// ---------------------------------------------------------------------------------------------
// Caller's side

const emitResult = (summary) =>
  `median ${micros(summary.medianMicros)}, p99 ${micros(summary.p99Micros)}, ` +
  `mean ${micros(summary.meanMicros)} (${integer.format(summary.calls)} calls)`;
const deliveryResult = (sender, rounds) =>
  `${integer.format(sender.eventsPerSec)} events/s (best of ${rounds}), ` +
  `${integer.format(sender.cpuMicrosPerEvent)} µs CPU/event`;

function toRows({ emit, delivery, down }) {
  const { bursts, steady } = emit;
  const { concurrency, rounds, ratio, ratioToSigned } = delivery;
  const shared = {
    events: delivery.events,
    concurrency,
    keepAlive: delivery.keepAlive,
    axiosVersion: delivery.axiosVersion,
  };
  return [
    {
      id: 'emit-burst',
      measurement: `emit(): bursts of ${integer.format(bursts.burst)}, queue up to that deep`,
      result: emitResult(bursts),
      target: 'median ≤ 20 µs',
      met: bursts.medianMicros <= 20,
      numbers: bursts,
    },
    {
      id: 'emit-steady',
      measurement: 'emit(): one per event-loop turn, queue near empty',
      result: emitResult(steady),
      target: 'median ≤ 20 µs',
      met: steady.medianMicros <= 20,
      numbers: steady,
    },
    {
      id: 'delivery-bare',
      measurement: `delivery, C=${concurrency}: bare axios.post loop`,
      result: deliveryResult(delivery.bare, rounds),
      target: '–',
      met: null,
      numbers: { ...delivery.bare, ...shared },
    },
    {
      id: 'delivery-bare-signed',
      measurement: `delivery, C=${concurrency}: bare loop, signed like the emitter`,
      result: deliveryResult(delivery.bareSigned, rounds),
      target: '–',
      met: null,
      numbers: { ...delivery.bareSigned, ...shared },
    },
    {
      id: 'delivery-emitter',
      measurement: `delivery, C=${concurrency}: emitter (signed, queued)`,
      result:
        `${deliveryResult(delivery.emitter, rounds)}; ${ratio.toFixed(2)}× bare, ` +
        `${ratioToSigned.toFixed(2)}× bare signed`,
      target: '≥ 0.90× bare',
      met: ratio >= 0.9,
      numbers: { ...delivery.emitter, ratio, ratioToSigned, ...shared },
    },
    {
      id: 'down-memory',
      measurement: `receiver down: ${integer.format(down.events)} emits, default queue bound`,
      result:
        `heap +${down.heapGrowthMB.toFixed(1)} MB, rss ${down.rssGrowthMB < 0 ? '' : '+'}${down.rssGrowthMB.toFixed(1)} MB; ` +
        `${integer.format(down.queued)} queued, ${integer.format(down.refused)} refused, ` +
        `${integer.format(down.reportedToOnFailure)} reported to onFailure`,
      target: '–',
      met: null,
      numbers: down,
    },
    {
      id: 'down-close',
      measurement: `receiver down: close(${down.closeDeadlineMs})`,
      result: `returned in ${integer.format(down.closeMs)} ms, ${integer.format(down.undelivered)} undelivered reported`,
      target: `≈ ${down.closeDeadlineMs} ms`,
      met: down.closeMs < down.closeDeadlineMs + 250,
      numbers: {
        closeMs: down.closeMs,
        undelivered: down.undelivered,
        closeDeadlineMs: down.closeDeadlineMs,
      },
    },
  ];
}

/**
 * Runs every webhook measurement (about 30 s) and returns one row per line of the table:
 * `{ id, measurement, result, target, met, numbers }`. Prints only progress, on stderr.
 */
export async function runWebhookBench() {
  try {
    const receiver = forkChild(SELF, ['receiver']);
    const { port } = await ask(receiver, 'ready', 'webhook receiver', 15_000);
    const url = `http://127.0.0.1:${port}`;
    const measurer = forkChild(SELF, ['measure', url], [...process.execArgv, '--expose-gc']);
    // The measuring process asks the receiver's counters through this process.
    measurer.on('message', (message) => {
      if (message?.type !== 'count') return;
      receiver.send({ type: 'count' });
      ask(receiver, 'count', 'webhook receiver', 5_000).then(
        (counts) => measurer.send(counts),
        () => measurer.kill(),
      );
    });
    const { results } = await ask(measurer, 'results', 'webhook measurements', 120_000);
    return toRows(results);
  } finally {
    await stopChildren();
  }
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] === SELF) {
  const role = process.argv[2];
  if (role === 'receiver') runReceiver();
  else if (role === 'measure') {
    // Once the results are sent, or when the caller went away (Ctrl-C): keep-alive sockets and
    // retry timers must not keep this process running.
    process.once('disconnect', () => process.exit());
    let message;
    try {
      message = { type: 'results', results: await runMeasurements(process.argv[3]) };
    } catch (error) {
      process.exitCode = 1;
      message = {
        type: 'failed',
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      };
    }
    process.send?.(message, () => process.disconnect());
  } else {
    try {
      const started = Date.now();
      const rows = await runWebhookBench();
      const delivery = rows.find((row) => row.id === 'delivery-emitter').numbers;
      console.log(
        `Webhooks (${((Date.now() - started) / 1000).toFixed(0)} s, Node ${process.version}, axios ${delivery.axiosVersion}, ` +
          `keep-alive ${delivery.keepAlive ? 'on' : 'off'} for every sender: none sets an agent, all use http.globalAgent):\n`,
      );
      console.log(targetTable(rows));
    } catch (error) {
      console.error(error instanceof BenchError ? `\n${error.message}` : error);
      process.exitCode = 1;
    }
  }
}
