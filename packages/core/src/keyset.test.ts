import { describe, expect, it } from 'vitest';
import { createPageKeys, idKey } from './keyset.js';

describe('page keys', () => {
  it('gives page N+1 the key remembered for page N at the same size and route', () => {
    const keys = createPageKeys();
    keys.remember('products', 1, 50, 50);
    expect(keys.after('products', 2, 50)).toBe(50);
    expect(keys.after('products', 2, 25)).toBeUndefined();
    expect(keys.after('orders', 2, 50)).toBeUndefined();
    expect(keys.after('products', 3, 50)).toBeUndefined();
    expect(keys.after('products', 1, 50)).toBeUndefined();
  });

  it('forgets the least recently served page past its limit, and keys older than maxAgeMs', () => {
    let now = 0;
    const keys = createPageKeys(2, 1000, () => now);
    keys.remember('products', 1, 50, 'a');
    keys.remember('products', 2, 50, 'b');
    keys.remember('products', 3, 50, 'c');
    expect(keys.after('products', 2, 50)).toBeUndefined();
    expect(keys.after('products', 3, 50)).toBe('b');
    now = 1001;
    expect(keys.after('products', 4, 50)).toBeUndefined();
  });

  it('replaces a page served again, and a page without a key forgets the old one', () => {
    const keys = createPageKeys();
    keys.remember('products', 1, 50, 'old');
    keys.remember('products', 1, 50, 'new');
    expect(keys.after('products', 2, 50)).toBe('new');
    keys.remember('products', 1, 50, undefined);
    expect(keys.after('products', 2, 50)).toBeUndefined();
  });

  it('reads the id of a record as the store keeps it', () => {
    expect(idKey({ id: 42 })).toBe(42);
    expect(idKey({ name: 'no id' })).toBeUndefined();
    expect(idKey(null)).toBeUndefined();
  });
});
