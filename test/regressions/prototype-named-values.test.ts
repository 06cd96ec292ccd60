// Kind: text from a store's rows that happens to name a member of Object.prototype (`__proto__`,
// `constructor`, `toString`, `hasOwnProperty`), used as a value the kit looks up in a table
// (stock status spellings) or as a key of a passed-through field (JSON columns parse `__proto__`
// as an own key). Such a value is unknown text, and such a key is a field like any other: never an
// inherited function or object sent as data, never a field that silently disappears.
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

const KEY = 'sk_test_prototype_named_values_0123456789';
const auth = { 'x-api-key': KEY };
const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

const products = [
  ...NAMES.map((name, index) => ({
    id: index + 1,
    name: `Mug ${index}`,
    slug: `mug-${index}`,
    stock_status: name,
  })),
  // A JSON column parsed by the driver: `__proto__` is an own key here, as JSON.parse makes it.
  { id: 10, name: 'Jug', slug: 'jug', ...JSON.parse('{"specs":{"__proto__":{"x":1},"constructor":"c"}}') },
  JSON.parse('{"id":11,"name":"Cup","slug":"cup","__proto__":{"y":2},"toString":"t"}'),
];

describe.each(frameworks)('$name', (framework) => {
  const start = startPerTest(framework);

  it('reads prototype names as unknown text and passes such keys through as fields', async () => {
    const logger = recordingLogger();
    const app = await start({
      products: () => ({ items: products, total: products.length }),
      orders: () => ({ items: [], total: 0 }),
      auth: { apiKey: KEY },
      logger,
      mapping: { products: { passthrough: true } },
    });
    const page = await send(`${app.url}/api/products`, { headers: auth });
    expect(page.status).toBe(200);
    const data = JSON.parse(page.body).data as Record<string, unknown>[];
    expect(data).toHaveLength(products.length);
    for (const [index] of NAMES.entries()) {
      expect(Object.hasOwn(data[index] as object, 'stock_status')).toBe(false);
    }
    // The raw text shows what went out; JSON.parse above would turn `__proto__` back into an own key.
    expect(page.body).toContain('"specs":{"__proto__":{"x":1},"constructor":"c"}');
    expect(page.body).toContain('"__proto__":{"y":2}');
    expect(page.body).toContain('"toString":"t"');
  });
});
