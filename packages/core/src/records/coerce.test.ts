import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  toAttributes,
  toId,
  toImages,
  toInteger,
  toIsoDate,
  toLabels,
  toMoney,
  toStockStatus,
  toText,
  toUrl,
} from './coerce.js';

const BASE = 'https://shop.example.com';
const coercions: [string, (value: unknown) => unknown][] = [
  ['toText', toText],
  ['toId', toId],
  ['toMoney', toMoney],
  ['toInteger', toInteger],
  ['toStockStatus', toStockStatus],
  ['toLabels', toLabels],
  ['toImages', (value) => toImages(value, BASE)],
  ['toUrl', (value) => toUrl(value, BASE)],
  ['toIsoDate', toIsoDate],
  ['toAttributes', toAttributes],
];

const anyInput = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true }),
  fc.string(),
  fc.double(),
  fc.constantFrom(
    '$349.99',
    'USD 349.99',
    '1,299.50',
    'instock',
    ' 42 ',
    '2024-01-15T10:30:00Z',
    '1705314600',
  ),
);

describe.each(coercions)('%s', (_name, coerce) => {
  it('is total: any input gives a value or undefined, never a throw', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        coerce(input);
      }),
    );
  });

  it('is idempotent: its own output comes back unchanged', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const once = coerce(input);
        if (once !== undefined) expect(coerce(once)).toEqual(once);
      }),
    );
  });
});

describe('canonical input passes unchanged', () => {
  it('numbers, integers, ids, statuses, labels, URLs and ISO dates', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.constantFrom('in_stock', 'out_of_stock', 'on_backorder', 'preorder'),
        fc.array(fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,20}[A-Za-z]$/), { minLength: 1 }),
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }),
        (price, count, status, labels, date) => {
          expect(toMoney(price)).toBe(price);
          expect(toInteger(count)).toBe(count);
          expect(toId(String(count))).toBe(String(count));
          expect(toStockStatus(status)).toBe(status);
          expect(toLabels(labels)).toEqual(labels);
          expect(toUrl(`${BASE}/p/1`)).toBe(`${BASE}/p/1`);
          expect(toIsoDate(date.toISOString())).toBe(date.toISOString());
        },
      ),
    );
  });
});

describe('documented formats', () => {
  it.each([
    [349.99, 349.99],
    ['349.99', 349.99],
    ['$349.99', 349.99],
    ['USD 349.99', 349.99],
    ['€12', 12],
    ['£1,299.50', 1299.5],
    ['349.99 EUR', 349.99],
    [349n, 349],
    [{ toString: () => '19.90' }, 19.9],
    ['free', undefined],
    ['12,5', undefined],
    [Number.NaN, undefined],
    [null, undefined],
  ])('price %o → %o', (input, expected) => {
    expect(toMoney(input)).toBe(expected);
  });

  const spelled = (status: string, spellings: string[]) =>
    spellings.map((spelling): [unknown, string] => [spelling, status]);
  it.each<[unknown, string | undefined]>([
    ...spelled('in_stock', ['in_stock', 'instock', 'available', 'true', '1', 'In Stock', ' AVAILABLE ']),
    ...spelled('out_of_stock', ['out_of_stock', 'outofstock', 'unavailable', 'false', '0', 'sold_out']),
    ...spelled('on_backorder', ['backorder', 'on_backorder', 'backordered']),
    ...spelled('preorder', ['preorder', 'pre-order', 'pre_order']),
    [true, 'in_stock'],
    [false, 'out_of_stock'],
    [1, 'in_stock'],
    [0, 'out_of_stock'],
    ['maybe', undefined],
    [2, undefined],
  ])('stock status %o → %o', (input, expected) => {
    expect(toStockStatus(input)).toBe(expected);
  });

  it('reads labels from arrays, {name} objects and CSV, dropping blanks', () => {
    expect(toLabels('Electronics, Audio,,  ')).toEqual(['Electronics', 'Audio']);
    expect(toLabels([{ name: 'Audio' }, 'Sale', '', null])).toEqual(['Audio', 'Sale']);
    expect(toLabels('')).toBeUndefined();
    expect(toLabels('["Audio","Sale"]')).toEqual(['Audio', 'Sale']);
    expect(toLabels('[not json')).toEqual(['[not json']);
    expect(toLabels([])).toBeUndefined();
  });

  it('reads images from strings and {url|src} objects, resolving relative paths against the store', () => {
    expect(toImages('https://cdn.test/a.jpg')).toEqual(['https://cdn.test/a.jpg']);
    expect(toImages([{ url: 'https://cdn.test/a.jpg' }, { src: '/img/b.png' }], BASE)).toEqual([
      'https://cdn.test/a.jpg',
      `${BASE}/img/b.png`,
    ]);
    expect(toImages(['/img/b.png'])).toBeUndefined();
    expect(toImages('/a.jpg, https://cdn.test/b.jpg', BASE)).toEqual([
      `${BASE}/a.jpg`,
      'https://cdn.test/b.jpg',
    ]);
    expect(toImages('https://cdn.test/w_200,h_100/a.jpg')).toEqual(['https://cdn.test/w_200,h_100/a.jpg']);
    expect(toImages('["/a.jpg","/b.jpg"]', BASE)).toEqual([`${BASE}/a.jpg`, `${BASE}/b.jpg`]);
  });

  it('turns dates into ISO 8601 UTC from Date, epoch seconds, epoch milliseconds and strings', () => {
    const iso = '2024-01-15T10:30:00.000Z';
    expect(toIsoDate(new Date(iso))).toBe(iso);
    expect(toIsoDate(1705314600)).toBe(iso);
    expect(toIsoDate(1705314600000)).toBe(iso);
    expect(toIsoDate('1705314600')).toBe(iso);
    expect(toIsoDate('2024-01-15T10:30:00Z')).toBe(iso);
    expect(toIsoDate('2024-01-15T11:30:00+01:00')).toBe(iso);
    expect(toIsoDate('2024-01-15 10:30:00')).toBe(iso);
    expect(toIsoDate('2024-01-15T10:30')).toBe(iso);
    expect(toIsoDate('not a date')).toBeUndefined();
    expect(toIsoDate(new Date(Number.NaN))).toBeUndefined();
  });

  it('reads every number form a driver returns the same way in each coercion', () => {
    const decimal = (text: string) => ({ toString: () => text }) as unknown as object;
    const iso = '2024-01-15T10:30:00.000Z';
    for (const epoch of [1705314600n, 1705314600000n, decimal('1705314600'), decimal('1.7053146E+9')]) {
      expect(toIsoDate(epoch)).toBe(iso);
    }
    expect(toIsoDate(2n ** 64n)).toBeUndefined();
    expect([toMoney(decimal('1e-7')), toMoney(decimal('1.2E+21')), toMoney(decimal('$5.00'))]).toEqual([
      1e-7, 1.2e21, 5,
    ]);
    expect([toStockStatus(1n), toStockStatus(0n), toStockStatus(decimal('1')), toStockStatus(2n)]).toEqual([
      'in_stock',
      'out_of_stock',
      'in_stock',
      undefined,
    ]);
    expect([toInteger(decimal('12')), toInteger(12n), toInteger(2n ** 60n)]).toEqual([12, 12, undefined]);
  });

  it('never returns an array JSON.stringify would read through a toJSON', () => {
    const withToJSON = Object.assign(['a'], { toJSON: () => 5n });
    class Labels extends Array<string> {
      toJSON() {
        return 5n;
      }
    }
    for (const list of [withToJSON, Labels.from(['a']), new Set(['a'])]) {
      const labels = toLabels(list);
      expect(labels).toEqual(['a']);
      expect(Object.getPrototypeOf(labels)).toBe(Array.prototype);
      expect(JSON.stringify(labels)).toBe('["a"]');
    }
    expect(JSON.stringify(toImages(Labels.from(['https://cdn.test/a.jpg'])))).toBe(
      '["https://cdn.test/a.jpg"]',
    );
  });

  it('reads attributes from objects, arrays, Maps and JSON text', () => {
    expect(toAttributes('{"color":"Black"}')).toEqual({ color: 'Black' });
    expect(toAttributes(new Map([['size', 'M']]))).toEqual({ size: 'M' });
    expect(toAttributes('Black')).toBeUndefined();
    expect(toAttributes({})).toBeUndefined();
  });

  it('turns ids into trimmed strings', () => {
    expect(toId(42)).toBe('42');
    expect(toId(42n)).toBe('42');
    expect(toId(' prod_1 ')).toBe('prod_1');
    expect(toId('')).toBeUndefined();
    expect(toId({ id: 1 })).toBeUndefined();
  });
});
