import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_ALIASES, PRODUCT_ALIASES } from './aliases.js';
import { toMoney, toUrl } from './coerce.js';
import { compilingShapes, createGeneralRecordMapper, createRecordMapper, type RecordKind } from './mapper.js';

// The mapper plans, per shape of plain record, which keys and `fields` columns it reads; records
// of other shapes, class instances and proxies take the general path. Both must give the same
// answer for every record, byte for byte, whatever shapes come and go.

const names = (aliases: Record<string, readonly string[]>) =>
  Object.entries(aliases).flatMap(([field, more]) => [field, ...more]);
const KEYS = [...new Set([...names(PRODUCT_ALIASES), ...names(ORDER_ALIASES)])];
/** Keys a shape's key list must tell apart: empty, holding a newline, and the parts of one. */
const ODD_KEYS = ['', 'id\nname', 'sku\nmissing', 'missing'];

/** Stands for a getter that throws, as an ORM's lazy field may. */
const THROWS = Symbol('throws');

/** A record as a counterexample shows it, its throwing getters as such. */
const shown = (record: object) =>
  `{ ${Object.keys(record)
    .map((key) => {
      const getter = Object.getOwnPropertyDescriptor(record, key)?.get;
      return `${JSON.stringify(key)}: ${getter ? '<throws>' : fc.stringify((record as Record<string, unknown>)[key])}`;
    })
    .join(', ')} }`;

/** A value whose every reading throws: an ORM proxy gone stale. */
const hostile = () =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('stale proxy');
      },
      getPrototypeOf: () => {
        throw new Error('stale proxy');
      },
      ownKeys: () => {
        throw new Error('stale proxy');
      },
    },
  );

const value = fc.oneof(
  fc.constant(THROWS),
  fc.constant(null).map(hostile),
  fc.constantFrom('', ' ', null, undefined, 0, 1, -3, 42, 'instock', '399.99', '$1,299.50', ' 12 '),
  fc.constantFrom('/images/a.jpg', 'img/b.png', '../up.jpg', '/a/./b', '//cdn.test/x', 'http://x.test/y'),
  fc.constantFrom('Electronics, Audio', 'a,,b', '["x","y"]', '{"color":"red"}', 'blue-hoodie'),
  fc.string(),
  fc.double(),
  fc.bigInt(),
  fc.date(),
  fc.array(fc.oneof(fc.string(), fc.constantFrom('/p/1.jpg', 'https://cdn.test/2.jpg')), { maxLength: 3 }),
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, maxDepth: 2 }),
);

/** A few shapes (lists of keys, some nested as `parent.child`), then records of those shapes. */
const page = fc
  .array(
    fc.uniqueArray(fc.oneof(fc.constantFrom(...KEYS, ...ODD_KEYS), fc.string({ maxLength: 6 })), {
      maxLength: 12,
    }),
    { minLength: 1, maxLength: 3 },
  )
  .chain((shapes) =>
    fc.array(
      fc.nat(shapes.length - 1).chain((index) =>
        fc.tuple(...(shapes[index] as string[]).map(() => value)).map((values) => {
          const record: Record<string, unknown> = {};
          (shapes[index] as string[]).forEach((key, at) => {
            const descriptor =
              values[at] === THROWS
                ? {
                    get: () => {
                      throw new Error(`lazy ${key}`);
                    },
                  }
                : { value: values[at], writable: true };
            Object.defineProperty(record, key, { ...descriptor, enumerable: true });
          });
          // fast-check prints a counterexample by reading it: a getter must not throw there.
          Object.defineProperty(record, fc.toStringMethod, { value: () => shown(record) });
          return record;
        }),
      ),
      { maxLength: 8 },
    ),
  );

const fieldsFor = (kind: RecordKind) =>
  fc.dictionary(
    fc.constantFrom(...Object.keys(kind === 'products' ? PRODUCT_ALIASES : ORDER_ALIASES)),
    fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom('meta.sku', 'a.b', 'missing', 'constructor', '')),
    { maxKeys: 5 },
  );

const BASES = [
  undefined,
  'https://shop.example.com',
  'https://Shop.Example.COM:443/store',
  'http://x.test/a/b/',
];

describe('record mapper: shape plans', () => {
  for (const kind of ['products', 'orders'] as const) {
    it(`maps ${kind} as the general path does, field order included`, () => {
      fc.assert(
        fc.property(
          page,
          fc.option(fieldsFor(kind), { nil: undefined }),
          fc.constantFrom(...BASES),
          fc.constantFrom(false, true),
          (records, fields, base, passthrough) => {
            const mapping = { ...(fields ? { fields } : {}), passthrough };
            const planned = createRecordMapper<Record<string, unknown>>(kind, mapping, base);
            const general = createGeneralRecordMapper<Record<string, unknown>>(kind, mapping, base);
            for (const record of records) {
              const fast = planned(record);
              const slow = general(record);
              expect(fast).toEqual(slow);
              expect(Object.keys(fast.record)).toEqual(Object.keys(slow.record));
              expect(JSON.stringify(fast.record)).toBe(JSON.stringify(slow.record));
            }
          },
        ),
        { numRuns: 400 },
      );
      // Every shape met was compiled: code that failed to compile would have switched it off.
      expect(compilingShapes()).toBe(true);
    });
  }

  it('tells apart shapes whose keys would join alike', () => {
    // ['id', 'name'] and ['id\nname'] (a key with a newline, as a CSV header may hold), [''] and
    // []: one shape each, or the second record is read by the first one's plan.
    const mapping = { fields: { sku: 'code' }, passthrough: true };
    const planned = createRecordMapper<Record<string, unknown>>('products', mapping);
    const general = createGeneralRecordMapper<Record<string, unknown>>('products', mapping);
    const records = [
      { 'id\nname': 'x' },
      { id: 1, name: 'N' },
      { code: 'c', x: 1 },
      { 'code\nx': 2 },
      { '': 'empty' },
      {},
    ];
    for (const record of records) expect(planned(record)).toEqual(general(record));
    expect(planned({ 'id\nname': 'y' }).record).toEqual({ 'id\nname': 'y' });
    expect(planned({ id: 2, name: 'M' }).record).toEqual({ id: '2', name: 'M' });
  });

  it('leaves a `fields` path that is no text to each record, as a read that failed', () => {
    // Webhook emitters take `mapping` unchecked: a JavaScript caller's number must not throw at startup.
    const fields = { sku: 5 as unknown as string };
    const planned = createRecordMapper<Record<string, unknown>>('products', { fields });
    const general = createGeneralRecordMapper<Record<string, unknown>>('products', { fields });
    const record = { id: 1, name: 'N', 5: 'five' };
    expect(planned(record)).toEqual(general(record));
    expect(planned(record).record).toEqual({ id: '1', name: 'N' });
    expect(planned(record).dropped?.map((drop) => drop.path)).toEqual(['sku']);
  });

  it('reads a record of a learned shape afresh when its values change type', () => {
    const mapper = createRecordMapper<Record<string, unknown>>('products', {
      fields: { regular_price: 'list_price', images: 'paths' },
    });
    const first = mapper({ id: 1, title: 'A', list_price: '10.50', paths: ['https://cdn.test/a.jpg'] });
    const second = mapper({ id: 2, title: 'B', list_price: null, paths: 'https://cdn.test/b.jpg' });
    expect(first.record).toEqual({
      id: '1',
      name: 'A',
      regular_price: 10.5,
      images: ['https://cdn.test/a.jpg'],
      price: 10.5,
    });
    expect(second.record).toEqual({ id: '2', name: 'B', images: ['https://cdn.test/b.jpg'] });
  });
});

describe('relative URLs joined as text', () => {
  /** What toUrl did before it joined plain paths itself: the URL parser for every relative one. */
  function parsed(value: string, base: string): string | undefined {
    const text = value.trim();
    if (text === '') return undefined;
    if (/^https?:\/\//i.test(text)) return text;
    try {
      return new URL(text, `${base}/`).toString();
    } catch {
      return undefined;
    }
  }

  // Paths of the characters a plain path may hold (dot segments, `//` and all), and of any kind.
  const pathText = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'a/.-Z9@'.split('')), maxLength: 12 }),
    fc.string({ unit: fc.constantFrom(..."ab/.-_~%:?#@!$&'()*+,;= \\\tZ9é".split('')), maxLength: 16 }),
  );

  it('gives what the URL parser gives, for any path and base', () => {
    fc.assert(
      fc.property(
        pathText,
        fc.constantFrom(
          ...(BASES.filter(Boolean) as string[]),
          'https://shop.test/a?x=1',
          'not a url',
          'ftp://f.test',
        ),
        (path, base) => {
          expect(toUrl(path, base)).toBe(parsed(path, base));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('plain decimal prices', () => {
  it('read as the currency pattern reads them', () => {
    const MONEY =
      /^(?:[A-Za-z]{3}\s*|[$€£¥₹]\s*)?(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?:\s*[A-Za-z]{3})?$/;
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'-0123456789.,e $'.split('')), maxLength: 10 }),
        (text) => {
          const digits = MONEY.exec(text.trim())?.[1];
          expect(toMoney(text)).toBe(digits === undefined ? undefined : Number(digits.replaceAll(',', '')));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
