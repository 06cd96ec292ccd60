import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { AuthOptions } from './auth/options.js';
import { type AuthKind, type OpenApiOptions, openApiDocument, openApiFor } from './openapi.js';
import { HiwelinkConfigError, type HiwelinkOptions, resolveOptions } from './options.js';
import { orderSchema, productSchema } from './records/schemas.js';

interface Schema {
  [key: string]: unknown;
}
interface Document {
  openapi: string;
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
  components: {
    schemas: Record<string, Schema>;
    parameters: Record<string, { schema: Schema }>;
    securitySchemes?: Record<string, Schema>;
  };
}

const documentFor = (options: OpenApiOptions = {}) => openApiDocument(options) as unknown as Document;

async function expectValid(document: Document) {
  const validator = new Validator();
  const result = await validator.validate(document as unknown as Record<string, unknown>);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
}

/** Every schema in the document, compiled in strict mode: broken refs and unknown keywords throw. */
function compileAll(document: Document) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  ajv.addVocabulary(Object.keys(document));
  ajv.addSchema(document, 'openapi.json');
  const at = (...parts: string[]) =>
    `openapi.json#/${parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
  for (const name of Object.keys(document.components.schemas)) {
    expect(ajv.getSchema(at('components', 'schemas', name))).toBeTypeOf('function');
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [status, response] of Object.entries(item.get?.responses ?? {})) {
      if (response.content) {
        expect(
          ajv.getSchema(
            at('paths', path, 'get', 'responses', status, 'content', 'application/json', 'schema'),
          ),
        ).toBeTypeOf('function');
      }
    }
  }
  return (name: string) => ajv.getSchema(at('components', 'schemas', name)) as (value: unknown) => boolean;
}

const list = () => ({ items: [], total: 0 });

describe('openApiDocument', () => {
  it.each<[AuthKind, Schema | undefined]>([
    ['apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' }],
    ['bearer', { type: 'http', scheme: 'bearer' }],
    ['jwt', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }],
    ['basic', { type: 'http', scheme: 'basic' }],
    ['custom', undefined],
  ])('is a valid OpenAPI 3.1 document with %s auth', async (auth, scheme) => {
    const document = documentFor({ auth, openapiPath: '/openapi.json' });
    await expectValid(document);
    compileAll(document);
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes?.[auth]).toEqual(scheme);
    expect(document.security).toEqual(scheme ? [{ [auth]: [] }] : undefined);
  });

  it('follows custom paths, basePath, page sizes and bare arrays', async () => {
    const document = documentFor({
      paths: { products: '/catalog', orders: '/sales' },
      basePath: '/hw',
      openapiPath: '/spec',
      maxPerPage: 250,
      defaultPerPage: 25,
      bareArray: true,
      title: 'My shop',
      version: '2.0.0',
    });
    await expectValid(document);
    compileAll(document);
    expect(Object.keys(document.paths)).toEqual(['/hw/health', '/hw/catalog', '/hw/sales', '/hw/spec']);
    expect(document.components.parameters.per_page?.schema).toMatchObject({
      minimum: 1,
      maximum: 250,
      default: 25,
    });
    const ok = document.paths['/hw/catalog']?.get?.responses['200']?.content;
    expect(ok).toEqual({
      'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Product' } } },
    });
  });

  it('documents GET and HEAD on every path, HEAD without bodies', () => {
    const document = documentFor();
    expect(Object.keys(document.paths)).toEqual(['/health', '/api/products', '/api/orders']);
    for (const item of Object.values(document.paths)) {
      expect(Object.keys(item.head?.responses ?? {})).toEqual(Object.keys(item.get?.responses ?? {}));
      for (const response of Object.values(item.head?.responses ?? {}))
        expect(response.content).toBeUndefined();
    }
    expect(Object.keys(document.paths['/api/orders']?.get?.responses ?? {})).toEqual([
      '200',
      '400',
      '401',
      '403',
      '429',
      '500',
      '503',
    ]);
  });

  it('holds the record schemas zod emits, refs pointing into components', () => {
    const { schemas } = documentFor().components;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['Product', 'Order', 'OrderItem', 'Address', 'PageMeta', 'Health', 'Error']),
    );
    expect(schemas.Product).toMatchObject({ type: 'object', required: ['id', 'name'] });
    expect(schemas.Order).toMatchObject({
      properties: {
        items: { type: 'array', items: { $ref: '#/components/schemas/OrderItem' } },
        shipping_address: { $ref: '#/components/schemas/Address' },
      },
    });
    expect(JSON.stringify(schemas)).not.toMatch(/"\$(id|schema|defs)"|#\/\$defs/);
  });

  it('agrees with the zod schemas on what a record is', () => {
    const valid = compileAll(documentFor());
    const samples: [string, typeof productSchema | typeof orderSchema, unknown][] = [
      ['Product', productSchema, { id: '7', name: 'Mug', price: 12.5, stock_status: 'in_stock' }],
      ['Product', productSchema, { id: '7' }],
      ['Product', productSchema, { id: '7', name: 'Mug', stock_status: 'instock' }],
      ['Product', productSchema, { id: 7, name: 'Mug' }],
      ['Order', orderSchema, { id: '1', items: [{ product_id: '7', quantity: 2 }], billing_address: {} }],
      ['Order', orderSchema, { id: '1', items: [{ quantity: 1.5 }] }],
      ['Order', orderSchema, { id: '' }],
    ];
    for (const [name, schema, sample] of samples) {
      expect(valid(name)(sample), JSON.stringify(sample)).toBe(schema.safeParse(sample).success);
    }
  });

  it('narrows each error status to its codes', () => {
    const responses = documentFor().paths['/api/products']?.get?.responses ?? {};
    const codes = (status: string) => {
      type Content = Record<string, { schema: { properties: { code: Schema } } }>;
      return (responses[status]?.content as Content | undefined)?.['application/json']?.schema.properties
        .code;
    };
    expect(codes('400')).toEqual({ enum: ['invalid_page', 'invalid_per_page'] });
    expect(codes('401')).toEqual({ enum: ['unauthorized'] });
    expect(codes('403')).toEqual({ enum: ['ip_not_allowed', 'https_required'] });
    expect(codes('429')).toEqual({ enum: ['rate_limited'] });
    expect(codes('503')).toEqual({ enum: ['callback_timeout'] });
  });
});

describe('openApiFor', () => {
  const base: HiwelinkOptions = { products: list, orders: list };
  const guard = { authenticate: () => null };

  it.each<[AuthOptions, AuthKind]>([
    [{ apiKey: 'sk_test_key_0123456789' }, 'apiKey'],
    [{ bearer: 'token_0123456789abcdef' }, 'bearer'],
    [{ jwt: { secret: 's'.repeat(32) } }, 'jwt'],
    [{ basic: { username: 'hiwelink', password: 'secret-0123456789ab' } }, 'basic'],
    [guard, 'custom'],
  ])('declares the auth method the options configure (%#)', async (auth, kind) => {
    const config = resolveOptions({ ...base, auth }, {});
    expect(config.authKind).toBe(kind);
    const document = openApiFor(config) as unknown as Document;
    await expectValid(document);
    expect(Object.keys(document.components.securitySchemes ?? {})).toEqual(kind === 'custom' ? [] : [kind]);
  });

  it('uses the resolved paths, basePath included, and the page sizes', () => {
    const config = resolveOptions(
      {
        ...base,
        auth: { apiKey: 'sk_test_key_0123456789' },
        basePath: '/hw',
        openapiPath: '/openapi.json',
        maxPerPage: 20,
        defaultPerPage: 10,
      },
      {},
    );
    expect(config.openapiPath).toBe('/hw/openapi.json');
    const document = openApiFor(config) as unknown as Document;
    expect(Object.keys(document.paths)).toEqual([
      '/hw/health',
      '/hw/api/products',
      '/hw/api/orders',
      '/hw/openapi.json',
    ]);
    expect(document.components.parameters.per_page?.schema).toMatchObject({ maximum: 20, default: 10 });
  });

  it.each([
    ['not a path', 'openapi.json', "openapiPath: must start with '/'"],
    [
      'one of the other paths',
      '/health',
      'openapiPath: must differ from the health, products and orders paths',
    ],
  ])('refuses an openapiPath that is %s', (_, openapiPath, problem) => {
    const attempt = () =>
      resolveOptions({ ...base, auth: { apiKey: 'sk_test_key_0123456789' }, openapiPath }, {});
    expect(attempt).toThrow(HiwelinkConfigError);
    expect(attempt).toThrow(problem);
  });
});
