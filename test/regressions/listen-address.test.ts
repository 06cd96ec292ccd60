import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
 * Kind: a store that listens somewhere other than where its banner says (the demo, the
 * scaffolds, examples/fastify-postgres). The default is HOST
 * 127.0.0.1, this machine only, and the banner prints the address really bound; HOST=0.0.0.0
 * opens every interface (containers); an empty HOST is the default, and a HOST that is no address
 * of this machine stops the start with one line naming it. 127.0.0.2 stands for "another
 * interface": Linux routes all of 127/8 to the loopback device, but a socket bound to 127.0.0.1
 * accepts only that address.
 */

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function expectListening(target: StoreTarget) {
  for (const [host, bound, elsewhere] of [
    [undefined, '127.0.0.1', false],
    ['', '127.0.0.1', false],
    ['0.0.0.0', '0.0.0.0', true],
  ] as const) {
    const store = target.launch(host === undefined ? {} : { HOST: host });
    try {
      const url = new URL(await listening(store));
      const where = `${target.name}, HOST=${host}`;
      expect(url.hostname, where).toBe(bound);
      const port = Number(url.port);
      expect(await accepts('127.0.0.1', port), where).toBe(true);
      expect(await accepts('127.0.0.2', port), `${where}: reachable on another address`).toBe(elsewhere);
    } finally {
      await store.stop();
    }
  }

  // An IPv6 address written as in a URL, brackets and all: the address inside them.
  const v6 = target.launch({ HOST: '[::1]' });
  try {
    const url = new URL(await listening(v6));
    expect(url.hostname, `${target.name}, HOST=[::1]`).toBe('[::1]');
    expect(await accepts('::1', Number(url.port)), `${target.name}, HOST=[::1]`).toBe(true);
  } finally {
    await v6.stop();
  }

  const store = target.launch({ HOST: 'no-such-host.invalid' });
  const code = await store.refusal();
  const where = `${target.name}: ${store.stderr()}`;
  expect(code, where).toBe(1);
  expect(store.stderr(), where).not.toMatch(STACK_LINE);
  expect(store.stderr(), where).toMatch(/HOST 'no-such-host\.invalid' is not an address of this machine/);
}

const root = scaffoldRoot();
afterAll(root.remove);

describe('stores listen where the banner says: HOST, default 127.0.0.1', () => {
  it('the demo store', async () => {
    await expectListening(demoStore);
  });
  for (const framework of FRAMEWORKS) {
    it(`the ${framework} scaffold`, async () => {
      await expectListening(scaffoldStore(root.dir, framework, 'sqlite'));
    });
  }

  describe('on PostgreSQL', () => {
    let postgres: Postgres | undefined;
    let drop = async () => {};
    beforeAll(async () => {
      postgres = await connectPostgres();
    });
    afterAll(async () => {
      await drop();
      await postgres?.close();
    });
    it('the fastify-postgres example', async (context) => {
      if (!postgres) return context.skip('PostgreSQL is not reachable (see the warning above)');
      const schema = await postgres.createSchema('listen_example');
      drop = schema.drop;
      await expectListening(fastifyPostgresExample(postgres.url, schema.name));
    });
  });
});
