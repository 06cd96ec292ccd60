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
 * Kind: a malformed part of a request that reaches a store's own routes (a bad % escape in the path
 * or query, a body that is not JSON or not an object, a wrong content type, a body over the limit,
 * an id that is not a plain integer or past the largest one). Each must be a 4xx JSON answer with
 * a stable `code`, never a 500, an HTML page or a stack trace in the log: in the demo store and in
 * every store `hiwelink init` writes.
 */

interface Case {
  name: string;
  method: string;
  path: string;
  contentType?: string;
  body?: string;
  /** Statuses accepted: some frameworks refuse a bad URL before routing (400), others after (404). */
  status: number[];
  code?: string[];
  /** What the error message must say. */
  says?: RegExp;
}

const json = 'application/json';
const valid = JSON.stringify({ name: 'Lamp', regular_price: 5 });
const CASES: Case[] = [
  {
    name: 'bad % in an admin id',
    method: 'PATCH',
    path: '/admin/products/%zz',
    contentType: json,
    body: '{}',
    status: [400],
    code: ['invalid_path'],
  },
  {
    name: 'truncated UTF-8 escape in an admin id',
    method: 'DELETE',
    path: '/admin/products/%E0%A4%A',
    status: [400],
    code: ['invalid_path'],
  },
  {
    name: 'bad % in an unknown path',
    method: 'GET',
    path: '/%zz',
    status: [400, 404],
    code: ['invalid_path', 'not_found'],
  },
  {
    name: 'bad % in the query of a list',
    method: 'GET',
    path: '/api/products?page=%zz',
    status: [400],
    code: ['invalid_page'],
  },
  {
    name: 'bad % in the query of an admin path',
    method: 'PATCH',
    path: '/admin/products/1?x=%zz',
    contentType: json,
    body: '{"name":"Renamed"}',
    status: [200],
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/admin/products',
    contentType: json,
    body: '{"name":',
    status: [400],
    code: ['invalid_json'],
  },
  {
    name: 'a JSON array',
    method: 'POST',
    path: '/admin/products',
    contentType: json,
    body: '[1]',
    status: [400],
    code: ['invalid_body'],
  },
  {
    name: 'JSON null',
    method: 'POST',
    path: '/admin/products',
    contentType: json,
    body: 'null',
    status: [400],
    code: ['invalid_body', 'invalid_json'],
  },
  {
    name: 'a wrong content type',
    method: 'POST',
    path: '/admin/products',
    contentType: 'text/plain',
    body: valid,
    status: [400, 415],
    code: ['invalid_body', 'unsupported_media_type'],
  },
  {
    name: 'a form body',
    method: 'POST',
    path: '/admin/products',
    contentType: 'application/x-www-form-urlencoded',
    body: 'name=Lamp&regular_price=5',
    status: [400, 415],
    code: ['invalid_body', 'unsupported_media_type'],
  },
  {
    name: 'a field of the wrong type',
    method: 'POST',
    path: '/admin/products',
    contentType: json,
    body: '{"name":5,"regular_price":1}',
    status: [400],
    code: ['invalid_body'],
  },
  // A value of the wrong type is not a missing one (zod 4 leaves `input` out of its issues).
  ...(
    [
      ['regular_price', '{"name":"Lamp","regular_price":"12.50"}', /^regular_price: .*number/],
      ['name', '{"name":5,"regular_price":1}', /^name: .*string/],
      [
        'stock_quantity',
        '{"name":"Lamp","regular_price":1,"stock_quantity":"3"}',
        /^stock_quantity: .*integer/,
      ],
      ['regular_price 1e400', '{"name":"Lamp","regular_price":1e400}', /^regular_price: .*number/],
    ] as const
  ).map(
    ([field, body, says]): Case => ({
      name: `${field} of the wrong type`,
      method: 'POST',
      path: '/admin/products',
      contentType: json,
      body,
      status: [400],
      code: ['invalid_body'],
      says,
    }),
  ),
  // Keys that are Object.prototype names are fields like any other: unknown ones.
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map(
    (key): Case => ({
      name: `a body key ${key}`,
      method: 'POST',
      path: '/admin/products',
      contentType: json,
      body: `{"name":"Lamp","regular_price":1,"${key}":{"x":1}}`,
      status: [400],
      code: ['invalid_body'],
      says: new RegExp(`^${key}: is not a known field`),
    }),
  ),
  {
    name: 'a body over the limit',
    method: 'POST',
    path: '/admin/products',
    contentType: json,
    body: JSON.stringify({ name: 'x'.repeat(200_000), regular_price: 1 }),
    status: [413],
    code: ['body_too_large'],
  },
  ...['1e1', '0x10', '-1', '01', '+1', '1.0', '99999999999999999999', '9007199254740993', '2147483648'].map(
    (id): Case => ({
      name: `id ${id}`,
      method: 'PATCH',
      path: `/admin/products/${id}`,
      contentType: json,
      body: '{"stock_quantity":3}',
      status: [404],
      code: ['not_found'],
    }),
  ),
  {
    name: 'an unknown admin path',
    method: 'GET',
    path: '/admin/nothing',
    status: [404, 405],
    code: ['not_found', 'method_not_allowed'],
  },
];

async function expectAnswers(target: StoreTarget, env: Record<string, string> = {}) {
  const store = target.launch(env);
  try {
    const url = await listening(store);
    for (const entry of CASES) {
      const headers: Record<string, string> = { authorization: `Bearer ${target.adminToken}` };
      if (entry.path.startsWith('/api/')) Object.assign(headers, target.apiHeaders);
      if (entry.contentType) headers['content-type'] = entry.contentType;
      const reply = await send(`${url}${entry.path}`, { method: entry.method, headers, body: entry.body });
      const where = `${target.name}: ${entry.name} (${entry.method} ${entry.path.slice(0, 40)})`;
      expect(entry.status, `${where}: status ${reply.status} ${reply.body.slice(0, 200)}`).toContain(
        reply.status,
      );
      expect(reply.headers['content-type'], where).toMatch(/^application\/json/);
      const body = reply.json() as { error?: unknown; code?: unknown };
      if (entry.code) {
        expect(entry.code, `${where}: ${reply.body.slice(0, 200)}`).toContain(body.code);
        expect(typeof body.error, where).toBe('string');
      }
      if (entry.says) expect(body.error, where).toMatch(entry.says);
    }
    // Product 10 exists: '1e1' and '01' must not have reached it under another spelling.
    const ten = await send(`${url}/admin/products/10`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${target.adminToken}`, 'content-type': json },
      body: '{}',
    });
    expect(ten.status, `${target.name}: product 10`).toBe(200);
    expect((ten.json() as { stock_quantity?: number }).stock_quantity, target.name).not.toBe(3);
  } finally {
    await store.stop();
  }
  expect(store.stderr(), `${target.name} logged a stack`).not.toMatch(STACK_LINE);
  expect(store.stderr(), `${target.name} logged an error`).not.toMatch(/error/i);
}

/**
 * examples/fastify-postgres answers with Fastify's own codes (FST_ERR_...): any 4xx JSON with a
 * code passes, and no other spelling of an id may reach product 1.
 */
async function expectExampleAnswers(target: StoreTarget) {
  const store = target.launch();
  try {
    const url = await listening(store);
    const admin = { authorization: `Bearer ${target.adminToken}`, 'content-type': json };
    const stockOfFirst = async () => {
      const reply = await send(`${url}/api/products?page=1&per_page=1`, { headers: target.apiHeaders });
      return (reply.json() as { data: { id: string; stock_quantity: number }[] }).data[0];
    };
    const before = await stockOfFirst();
    expect(before?.id).toBe('1');
    const requests: [string, string, string?][] = [
      ['PATCH', '/admin/products/%zz', '{"stock":777}'],
      ['DELETE', '/admin/products/%E0%A4%A'],
      ['POST', '/admin/products', '{"title":'],
      ['POST', '/admin/products', '[1]'],
      ...['01', '+1', '1e0', '0x1', '1.0', '99999999999999999999'].map((id): [string, string, string] => [
        'PATCH',
        `/admin/products/${id}`,
        '{"stock":777}',
      ]),
    ];
    for (const [method, path, body] of requests) {
      const reply = await send(`${url}${path}`, { method, headers: admin, body });
      const where = `${target.name}: ${method} ${path} answered ${reply.status} ${reply.body.slice(0, 200)}`;
      expect(reply.status >= 400 && reply.status < 500, where).toBe(true);
      expect(reply.headers['content-type'], where).toMatch(/^application\/json/);
      expect(typeof (reply.json() as { code?: unknown }).code, where).toBe('string');
    }
    expect(await stockOfFirst(), `${target.name}: product 1 was changed`).toEqual(before);
  } finally {
    await store.stop();
  }
  expect(store.stderr(), `${target.name} logged a stack`).not.toMatch(STACK_LINE);
}

const root = scaffoldRoot();
afterAll(root.remove);

describe('malformed requests get a 4xx JSON answer with a code', () => {
  it('in the demo store', async () => {
    await expectAnswers(demoStore);
  });

  for (const framework of FRAMEWORKS) {
    it(`in the ${framework} scaffold on SQLite`, async () => {
      await expectAnswers(scaffoldStore(root.dir, framework, 'sqlite'));
    });
  }

  describe('on PostgreSQL', () => {
    let postgres: Postgres | undefined;
    const drops: (() => Promise<void>)[] = [];
    beforeAll(async () => {
      postgres = await connectPostgres();
    });
    afterAll(async () => {
      for (const drop of drops) await drop();
      await postgres?.close();
    });
    it('in the fastify-postgres example', async (context) => {
      if (!postgres) return context.skip('PostgreSQL is not reachable (see the warning above)');
      const schema = await postgres.createSchema('malformed_example');
      drops.push(schema.drop);
      await expectExampleAnswers(fastifyPostgresExample(postgres.url, schema.name));
    });
    for (const framework of FRAMEWORKS) {
      it(`in the ${framework} scaffold`, async (context) => {
        if (!postgres) return context.skip('PostgreSQL is not reachable (see the warning above)');
        const schema = await postgres.createSchema(`malformed_${framework}`);
        drops.push(schema.drop);
        await expectAnswers(scaffoldStore(root.dir, framework, 'postgres'), {
          DATABASE_URL: postgres.url,
          DATABASE_SCHEMA: schema.name,
        });
      });
    }
  });
});
