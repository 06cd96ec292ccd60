import { describe, expect, it } from 'vitest';
import { dropReporter, MAX_JSON_DEPTH, toJsonValue } from './json.js';

describe('toJsonValue', () => {
  it('returns values that need no change as they are, and copies on request', () => {
    const flat = { a: 1, b: 'x', c: [true, null] };
    expect(toJsonValue(flat).value).toBe(flat);
    const nested = { a: { b: [1, { c: 'd' }] } };
    expect(toJsonValue(nested).value).toBe(nested);
    const copied = toJsonValue(nested, '', true).value as typeof nested;
    expect(copied).toEqual(nested);
    expect(copied).not.toBe(nested);
    expect(copied.a.b).not.toBe(nested.a.b);
  });

  it('copies only what changes, and names each dropped value by its path', () => {
    const shared = { ok: true };
    const row: Record<string, unknown> = { shared, list: [1, 2n, () => 0, { f: Symbol('s') }] };
    row.again = { row };
    const { value, dropped } = toJsonValue(row, 'extra');
    expect(value).toEqual({ shared, list: [1, 2, null, {}], again: {} });
    expect((value as typeof row).shared).toBe(shared);
    expect(dropped).toEqual([
      { path: 'extra.list[]', reason: 'a function has no JSON form' },
      { path: 'extra.list[].f', reason: 'a symbol has no JSON form' },
      { path: 'extra.again.row', reason: 'circular reference' },
    ]);
  });

  it('keeps a shared object that is no cycle, and a __proto__ field as a field', () => {
    const leaf = { n: 1n };
    const parsed = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    const { value, dropped } = toJsonValue({ left: leaf, right: leaf, parsed });
    expect(JSON.stringify(value)).toBe(
      '{"left":{"n":1},"right":{"n":1},"parsed":{"__proto__":{"x":1},"y":2}}',
    );
    expect(dropped).toEqual([]);
  });

  it('unwraps boxed primitives and follows toJSON, also when it returns its own object', () => {
    class Self {
      readonly a = 1n;
      toJSON() {
        return this;
      }
    }
    const { value } = toJsonValue([
      new Number(3),
      new String('s'),
      Object(5n),
      new Self(),
      new Error('boom'),
    ]);
    expect(value).toEqual([3, 's', 5, { a: 1 }, 'Error: boom']);
  });

  it(`drops what is nested deeper than ${MAX_JSON_DEPTH} levels, once`, () => {
    let deep: Record<string, unknown> = { end: true };
    for (let level = 0; level < MAX_JSON_DEPTH + 10; level++) deep = { deep };
    const { value, dropped } = toJsonValue(deep);
    expect(() => JSON.stringify(value)).not.toThrow();
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.reason).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });
});

describe('dropReporter', () => {
  it('warns once per place, and forgets past its limit', () => {
    const lines: string[] = [];
    const report = dropReporter((_details, message) => lines.push(message), 2);
    const cycle = [{ path: 'tree.self', reason: 'circular reference' }];
    report('products', cycle);
    report('products', cycle);
    report('webhook product.updated', cycle);
    expect(lines).toEqual([
      "products: 'tree.self' left out: circular reference",
      "webhook product.updated: 'tree.self' left out: circular reference",
    ]);
    report('orders', cycle);
    report('products', cycle);
    expect(lines).toHaveLength(4);
  });
});
