import { describe, expect, it } from 'vitest';
import { createRecordMapper } from './mapper.js';

// The alias table of HiWelink's connector documentation, written out here independently of
// aliases.ts so that a change there that loses a documented alias fails this test.
const DOCUMENTED_PRODUCT_ALIASES: [string, string[], unknown, unknown][] = [
  ['id', ['product_id', 'sku'], 42, '42'],
  ['name', ['title', 'product_name'], 'Blue Hoodie', 'Blue Hoodie'],
  ['price', ['selling_price', 'current_price'], '$349.99', 349.99],
  ['regular_price', ['original_price', 'list_price'], 'USD 399.99', 399.99],
  ['sale_price', ['discount_price'], '349.99', 349.99],
  ['sku', ['product_sku', 'code'], 'WH-1000XM5', 'WH-1000XM5'],
  ['description', ['full_description', 'body'], '<p>Soft</p>', '<p>Soft</p>'],
  ['short_description', ['summary', 'excerpt'], 'Soft', 'Soft'],
  ['stock_status', ['availability'], 'instock', 'in_stock'],
  ['stock_quantity', ['stock', 'inventory', 'quantity'], '42', 42],
  ['categories', ['category', 'product_categories'], 'Electronics, Audio', ['Electronics', 'Audio']],
  ['tags', ['product_tags', 'labels'], ['wireless'], ['wireless']],
  [
    'images',
    ['photos', 'gallery', 'image_urls'],
    [{ src: 'https://cdn.test/a.jpg' }],
    ['https://cdn.test/a.jpg'],
  ],
  ['attributes', ['variations', 'options'], { color: 'Black' }, { color: 'Black' }],
  [
    'permalink',
    ['product_url', 'url', 'link', 'product_link', 'html_url', 'web_url', 'href', 'page_url', 'detail_url'],
    'https://store.test/product/blue-hoodie',
    'https://store.test/product/blue-hoodie',
  ],
  [
    'slug',
    ['handle', 'product_slug', 'permalink_slug', 'url_key', 'url_slug', 'seo_slug'],
    'blue-hoodie',
    'blue-hoodie',
  ],
];

const DOCUMENTED_ORDER_ALIASES: [string, string[], unknown, unknown][] = [
  ['id', ['order_id', 'order_number'], 456, '456'],
  ['order_number', ['order_no', 'number'], 'ORD-2024-0456', 'ORD-2024-0456'],
  ['status', ['order_status', 'state'], 'completed', 'completed'],
  ['total', ['total_amount', 'grand_total', 'order_total'], '699.98', 699.98],
  ['customer_email', ['email', 'billing_email'], 'alice@example.com', 'alice@example.com'],
  ['customer_name', ['customer', 'buyer_name'], 'Alice Johnson', 'Alice Johnson'],
  [
    'items',
    ['line_items', 'products', 'order_items'],
    [{ product_id: 123, name: 'Headphones', quantity: '2', price: '$349.99' }],
    [{ product_id: '123', name: 'Headphones', quantity: 2, price: 349.99 }],
  ],
  ['currency', ['currency_code'], 'usd', 'USD'],
  ['created_at', ['date', 'order_date', 'created_date'], 1705314600, '2024-01-15T10:30:00.000Z'],
];

const products = createRecordMapper<Record<string, unknown>>('products');
const orders = createRecordMapper<Record<string, unknown>>('orders');
const base = { id: 'p1', name: 'Mug', slug: 'mug' };

describe('documented aliases', () => {
  for (const [field, aliases, stored, expected] of DOCUMENTED_PRODUCT_ALIASES) {
    it.each([field, ...aliases])(`product ${field} is read from %s`, (name) => {
      // The other required fields come from base, without the canonical field under test.
      const others = Object.fromEntries(Object.entries(base).filter(([key]) => key !== field));
      const { record } = products({ ...others, [name]: stored });
      expect(record[field]).toEqual(expected);
    });
  }
  for (const [field, aliases, stored, expected] of DOCUMENTED_ORDER_ALIASES) {
    it.each([field, ...aliases])(`order ${field} is read from %s`, (name) => {
      const record = field === 'id' ? { [name]: stored } : { id: 'o1', [name]: stored };
      expect(orders(record).record[field]).toEqual(expected);
    });
  }

  it('prefers the canonical name, then aliases in the documented order', () => {
    expect(products({ ...base, name: 'Canonical', title: 'Alias' }).record.name).toBe('Canonical');
    expect(products({ ...base, name: undefined, product_name: 'Second', title: 'First' }).record.name).toBe(
      'First',
    );
    expect(products({ name: 'Mug', product_id: 7, sku: 'SKU-7' }).record).toMatchObject({
      id: '7',
      sku: 'SKU-7',
    });
  });

  it('also finds camelCase names, as ORMs return them', () => {
    const record = products({
      id: 1,
      name: 'Mug',
      regularPrice: '9.50',
      stockQuantity: 3,
      productUrl: 'https://s.test/p/1',
    });
    expect(record.record).toMatchObject({
      regular_price: 9.5,
      stock_quantity: 3,
      permalink: 'https://s.test/p/1',
    });
    expect(orders({ orderId: 9, createdAt: new Date('2024-01-15T10:30:00Z') }).record).toEqual({
      id: '9',
      created_at: '2024-01-15T10:30:00.000Z',
    });
  });
});

describe('field mappings, mappers and options', () => {
  it('follows field_mappings, with dot paths, instead of the aliases for those fields', () => {
    const mapper = createRecordMapper<Record<string, unknown>>('products', {
      fields: {
        name: 'product_title',
        price: 'pricing.retail',
        stock_quantity: 'qty_on_hand',
        slug: 'url_key',
      },
    });
    const { record } = mapper({
      id: 1,
      product_title: 'Lamp',
      title: 'ignored: name is mapped elsewhere',
      pricing: { retail: '$20.00' },
      qty_on_hand: 0,
      url_key: 'lamp',
    });
    expect(record).toEqual({
      id: '1',
      name: 'Lamp',
      price: 20,
      stock_quantity: 0,
      stock_status: 'out_of_stock',
      slug: 'lamp',
    });
  });

  it('names a fields path that is not in the record, even when others are null', () => {
    const mapper = createRecordMapper<Record<string, unknown>>('products', {
      fields: { stock_quantity: 'qty_onhand', price: 'pricing.retail', sale_price: 'promo' },
    });
    expect(mapper({ id: 1, name: 'Lamp', pricing: {}, promo: null }).missingPaths).toEqual([
      "price ← 'pricing.retail'",
      "stock_quantity ← 'qty_onhand'",
    ]);
  });

  it('coerces the output of a mapper function like any record', () => {
    const mapper = createRecordMapper<{ sku: string; cents: number }>('products', {
      map: (row) => ({ id: row.sku, name: row.sku.toLowerCase(), price: row.cents / 100, permalink: null }),
    });
    expect(mapper({ sku: 'MUG-1', cents: 1250 })).toEqual({
      record: { id: 'MUG-1', name: 'mug-1', price: 12.5 },
      unlinked: true,
    });
  });

  it('drops unknown fields unless passed through, and omits personal data on request', () => {
    const row = {
      id: 1,
      customer_email: 'a@b.test',
      customer_name: 'A',
      internal_note: 'x',
      big: 10n,
      bigger: 2n ** 60n,
    };
    expect(orders(row).record).toEqual({ id: '1', customer_email: 'a@b.test', customer_name: 'A' });
    const open = createRecordMapper('orders', { passthrough: true, omit: ['customer_email'] });
    // A bigint passed through is a JSON number while safe, its decimal text beyond.
    expect(open(row).record).toEqual({
      id: '1',
      customer_name: 'A',
      internal_note: 'x',
      big: 10,
      bigger: '1152921504606846976',
    });
    const listed = createRecordMapper('orders', { passthrough: ['internal_note'] });
    expect(listed(row).record).toMatchObject({ internal_note: 'x' });
    expect(listed(row).record).not.toHaveProperty('big');
  });

  it('links products: the record’s permalink, else link(), else the store URL and slug', () => {
    const linked = createRecordMapper<Record<string, unknown>>(
      'products',
      { link: (row) => (row.id === 2 ? `https://shop.test/p/${row.id}` : undefined) },
      'https://shop.test',
    );
    expect(linked({ id: 1, name: 'A', permalink: '/custom/a' }).record.permalink).toBe(
      'https://shop.test/custom/a',
    );
    expect(linked({ id: 2, name: 'B', slug: 'b' }).record.permalink).toBe('https://shop.test/p/2');
    expect(linked({ id: 3, name: 'C', slug: 'c d' }).record.permalink).toBe(
      'https://shop.test/product/c%20d',
    );
    expect(linked({ id: 4, name: 'D' })).toMatchObject({ unlinked: true });
    const slashed = createRecordMapper<Record<string, unknown>>('products', {}, 'https://shop.test/');
    expect(slashed({ id: 5, name: 'E', slug: 'e' }).record.permalink).toBe('https://shop.test/product/e');
  });

  it('derives price and stock status when only their sources are there', () => {
    expect(products({ ...base, regular_price: 10, sale_price: 8 }).record.price).toBe(8);
    expect(products({ ...base, list_price: '10.00' }).record.price).toBe(10);
    expect(products({ ...base, stock: 5 }).record.stock_status).toBe('in_stock');
    expect(products({ ...base, stock: 5, availability: 'backorder' }).record.stock_status).toBe(
      'on_backorder',
    );
  });

  it('maps order items and addresses', () => {
    const { record } = orders({
      id: 1,
      line_items: [{ productId: 7, title: 'Mug', qty: '2', unit_price: '$4.50' }, 'junk'],
      shipping_address: {
        address1: '1 Main St',
        city: 'Springfield',
        postal_code: '12345',
        country_code: 'US',
      },
      billing_address: {},
    });
    expect(record).toEqual({
      id: '1',
      items: [{ product_id: '7', name: 'Mug', quantity: 2, price: 4.5 }, {}],
      shipping_address: { street: '1 Main St', city: 'Springfield', zip: '12345', country: 'US' },
    });
  });
});

describe('invalid records', () => {
  it.each([
    ['a product without id', products({ name: 'Mug' }), 'no id'],
    ['a product without name', products({ id: 1 }), 'no name'],
    ['a product with neither', products({ title: '' }), 'no id and no name'],
    ['an order without id', orders({ status: 'paid' }), 'no id'],
    ['something that is not an object', products('row 3' as never), 'not an object'],
  ])('marks %s', (_case, mapped, reason) => {
    expect(mapped.invalid).toBe(reason);
  });

  it('keeps what it could map, so the page keeps its length', () => {
    expect(products({ title: 'Nameless id' })).toEqual({
      record: { name: 'Nameless id' },
      invalid: 'no id',
      unlinked: true,
    });
  });
});
