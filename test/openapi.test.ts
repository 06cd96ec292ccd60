import type { HiwelinkOptions, ListCallback, Logger } from '@hiwelink/core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameworks, type RunningApp } from './support/frameworks.js';
import { type Reply, send } from './support/http-client.js';

const KEY = 'sk_test_4f8d2a1b9c3e7f6a0b2d4e8c1a3f5b7d';
const auth = { 'x-api-key': KEY };
const quiet: Logger = { warn: () => {}, error: () => {} };

/** Records as a store keeps them: none of the canonical names, so every answer goes through the mapping. */
const products: ListCallback = ({ offset, perPage }) => {
  const records = [7, 8, 9, 10].map((id) => ({
    product_id: id,
    title: `Mug ${id}`,
    list_price: '$12.50',
    selling_price: 'USD 9.99',
    availability: 'instock',
    photos: [{ url: 'https://x.test/a.jpg' }, { src: 'https://x.test/b.jpg' }],
    category: 'Kitchen, Gifts',
    handle: `mug-${id}`,
  }));
  return { items: records.slice(offset, offset + perPage), total: records.length };
};

const orders: ListCallback = () => ({
  items: [
    {
      order_id: 1001,
      order_no: 'A-1001',
      order_status: 'paid',
      order_total: '25.00',
      currency_code: 'eur',
      email: 'buyer@x.test',
      line_items: [{ productId: 7, title: 'Mug 7', qty: '2', unit_price: '12.50' }],
      shipping_address: { address1: '1 Main St', town: 'Springfield', postcode: '12345' },
      order_date: new Date('2026-01-02T03:04:05Z'),
    },
  ],
  total: 1,
});

const options: HiwelinkOptions = {
  products,
  orders,
  auth: { apiKey: KEY },
  logger: quiet,
  openapiPath: '/openapi.json',
};

interface Document {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
}

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** Validates answers against the schemas the served document declares, its components resolving in place. */
function checker(document: Document) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  ajv.addVocabulary(Object.keys(document));
  ajv.addSchema(document, 'openapi.json');
  return (path: string, reply: Reply) => {
    const declared = document.paths[path]?.get?.responses[String(reply.status)];
    expect(declared, `${path} declares no ${reply.status} answer`).toBeDefined();
    expect(Object.keys(declared?.content ?? {})).toEqual(['application/json']);
    expect(reply.headers['content-type']).toMatch(/^application\/json\b/);
    const at = pointer(
      'paths',
      path,
      'get',
      'responses',
      String(reply.status),
      'content',
      'application/json',
    );
    const validate = ajv.getSchema(`openapi.json#/${at}/schema`) as ValidateFunction;
    const body = reply.json();
    expect(validate(body), `${path} ${reply.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    return body;
  };
}

describe.each(frameworks)('$name', (framework) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await framework.start(options);
  });
  afterAll(() => app.close());

  it('serves a valid OpenAPI document behind the same auth, and every answer matches it', async () => {
    const served = await send(`${app.url}/openapi.json`, { headers: auth });
    expect(served.status).toBe(200);
    const document = served.json() as Document;
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);

    const check = checker(document);
    check('/openapi.json', await send(`${app.url}/openapi.json`));
    expect((await send(`${app.url}/openapi.json`, { method: 'HEAD', headers: auth })).status).toBe(200);

    const health = check('/health', await send(`${app.url}/health`, { headers: auth }));
    expect(health).toMatchObject({ status: 'ok' });

    const page = check(
      '/api/products',
      await send(`${app.url}/api/products?page=1&per_page=3`, { headers: auth }),
    );
    expect(page).toMatchObject({
      data: [
        {
          id: '7',
          name: 'Mug 7',
          regular_price: 12.5,
          price: 9.99,
          stock_status: 'in_stock',
          images: ['https://x.test/a.jpg', 'https://x.test/b.jpg'],
          categories: ['Kitchen', 'Gifts'],
          slug: 'mug-7',
        },
        { id: '8' },
        { id: '9' },
      ],
      meta: { current_page: 1, per_page: 3, total: 4, last_page: 2 },
    });

    const sales = check('/api/orders', await send(`${app.url}/api/orders`, { headers: auth }));
    expect(sales).toMatchObject({
      data: [
        {
          id: '1001',
          total: 25,
          currency: 'EUR',
          items: [{ product_id: '7', quantity: 2, price: 12.5 }],
          shipping_address: { street: '1 Main St', city: 'Springfield', zip: '12345' },
          created_at: '2026-01-02T03:04:05.000Z',
        },
      ],
    });

    const invalid = check(
      '/api/products',
      await send(`${app.url}/api/products?per_page=0`, { headers: auth }),
    );
    expect(invalid).toMatchObject({ code: 'invalid_per_page', parameter: 'per_page' });
    const refused = check('/api/orders', await send(`${app.url}/api/orders`));
    expect(refused).toMatchObject({ code: 'unauthorized' });
  });

  it('answers 401 for the document without the key', async () => {
    const reply = await send(`${app.url}/openapi.json`);
    expect(reply.status).toBe(401);
    expect(reply.json()).toEqual({ error: 'Unauthorized', code: 'unauthorized' });
  });
});
