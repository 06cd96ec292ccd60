import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { connectPostgres, type Postgres } from '../support/postgres.js';
import {
  demoStore,
  FRAMEWORKS,
  fastifyPostgresExample,
  listening,
  STACK_LINE,
  type StoreTarget,
  scaffoldRoot,
  scaffoldStore,
} from '../support/stores.js';

/*
 * Kind: a store that lets slow clients hold its connections (slowloris). Node's defaults keep a
 * socket that never finishes its headers for 60 s or more, a request whose body trickles for 300 s.
 * The stores set headersTimeout, requestTimeout and keepAliveTimeout (HEADERS_TIMEOUT_MS,
 * REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS) and close such sockets, while normal requests are
 * served. Small values here keep the test short; the defaults are checked with one slow socket.
 */

interface Slow {
  /** Resolves with what the server sent before it closed the socket. */
  closed: Promise<string>;
  destroy(): void;
}

/** Opens a socket to `url` and sends `data`, then nothing more. */
function slowClient(url: string, data: string): Slow {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  socket.write(data);
  return {
    closed: new Promise((resolve) => socket.once('close', () => resolve(received))),
    destroy: () => socket.destroy(),
  };
}

/** Rejects after `ms`: an upper bound proving "closed, not held", far above the configured limit. */
const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms).unref(),
    ),
  ]);

/** An admin POST whose headers promise a body that never fully comes. */
const trickledBody = (target: StoreTarget) =>
  'POST /admin/products HTTP/1.1\r\nHost: store\r\nContent-Type: application/json\r\n' +
  `Authorization: Bearer ${target.adminToken}\r\nContent-Length: 100\r\n\r\n{"name":`;

async function expectSlowClientsClosed(target: StoreTarget) {
  // A limit Node would refuse (headers longer than the whole request) is a start-up error naming it.
  const refused = target.launch({ HEADERS_TIMEOUT_MS: '40000' });
  expect(await refused.refusal(), refused.stderr()).toBe(1);
  expect(refused.stderr()).toMatch(
    /HEADERS_TIMEOUT_MS \(40000\) must be more than 0 and at most REQUEST_TIMEOUT_MS \(30000\)/,
  );
  expect(refused.stderr()).not.toMatch(STACK_LINE);
  // 0 turns a limit off in Node: refused like HEADERS_TIMEOUT_MS=0, naming the variable.
  const zeros = ['KEEP_ALIVE_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS'].map((name) => ({
    name,
    store: target.launch({ [name]: '0' }),
  }));
  for (const { name, store } of zeros) {
    expect(await store.refusal(), `${target.name}, ${name}=0: ${store.stderr()}`).toBe(1);
    expect(store.stderr()).toMatch(new RegExp(`${name} \\(0\\) must be more than 0`));
    expect(store.stderr()).not.toMatch(STACK_LINE);
  }

  const store = target.launch({
    HEADERS_TIMEOUT_MS: '1000',
    REQUEST_TIMEOUT_MS: '2000',
    KEEP_ALIVE_TIMEOUT_MS: '500',
  });
  const slow: Slow[] = [];
  try {
    const url = await listening(store);
    // Fifty clients that never finish their headers, and one whose body stops halfway.
    for (let index = 0; index < 50; index++) slow.push(slowClient(url, 'GET /health HTTP/1.1\r\nHost: st'));
    const body = slowClient(url, trickledBody(target));
    // A normal request is served meanwhile.
    const health = await send(`${url}/health`, { headers: target.apiHeaders });
    expect(health.status, target.name).toBe(200);

    for (const client of slow) {
      const received = await within(client.closed, 15_000, `${target.name}: a slow-header socket`);
      expect(received === '' || received.startsWith('HTTP/1.1 408'), received).toBe(true);
    }
    const partial = await within(body.closed, 15_000, `${target.name}: a trickled body`);
    expect(partial === '' || partial.startsWith('HTTP/1.1 408'), partial).toBe(true);

    // An idle keep-alive connection is closed once its request is answered and the timeout passes.
    const idle = slowClient(
      url,
      `GET /health HTTP/1.1\r\nHost: store\r\nX-API-Key: ${target.apiHeaders['x-api-key']}\r\n\r\n`,
    );
    const answered = await within(idle.closed, 15_000, `${target.name}: an idle keep-alive socket`);
    expect(answered, target.name).toMatch(/^HTTP\/1\.1 200/);
  } finally {
    for (const client of slow) client.destroy();
    await store.stop();
  }
}

const root = scaffoldRoot();
const targets = new Map<string, StoreTarget>([['demo', demoStore]]);
let postgres: Postgres | undefined;
let dropSchema = async () => {};
beforeAll(async () => {
  for (const framework of FRAMEWORKS) targets.set(framework, scaffoldStore(root.dir, framework, 'sqlite'));
  postgres = await connectPostgres();
  if (postgres) {
    const schema = await postgres.createSchema('slow_clients_example');
    dropSchema = schema.drop;
    targets.set('example', fastifyPostgresExample(postgres.url, schema.name));
  }
});
afterAll(async () => {
  root.remove();
  await dropSchema();
  await postgres?.close();
});
const target = (name: string) => targets.get(name) as StoreTarget;

describe('stores close slow clients: headersTimeout, requestTimeout, keepAliveTimeout', () => {
  for (const name of ['demo', ...FRAMEWORKS, 'example']) {
    it(`the ${name} store`, async (context) => {
      if (!targets.has(name)) return context.skip('PostgreSQL is not reachable (see the warning above)');
      await expectSlowClientsClosed(target(name));
    }, 60_000);
  }

  it('by default within seconds, not the minute Node allows', async () => {
    // Started together: each default (10 s for the headers) runs out at the same time.
    const stores = [...targets.values()].map((entry) => ({ target: entry, process: entry.launch() }));
    try {
      await Promise.all(
        stores.map(async ({ target, process }) => {
          const client = slowClient(await listening(process), 'GET /health HTTP/1.1\r\nHost: st');
          await within(client.closed, 25_000, `${target.name} with its default headersTimeout`);
        }),
      );
    } finally {
      await Promise.all(stores.map(({ process }) => process.stop()));
    }
  }, 60_000);
});
