// Kind: structured fields kept as JSON text, as SQL columns without a JSON type hold them (SQLite
// TEXT, MySQL TEXT, a denormalised export): an order's items and addresses, a product's
// categories, tags, images and attributes. Each is read as the structure the text holds, on the
// page and in the webhook, never left out because it arrived as a string.
import { createWebhookEmitter } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';
import { startReceiver } from '../support/receiver.js';

const KEY = 'sk_test_json_text_columns_0123456789abcdef';
const auth = { 'x-api-key': KEY };

const row = {
  id: 7,
  status: 'processing',
  total: '22.00',
  items: JSON.stringify([
    { product_id: 3, name: 'Mug', quantity: 2, price: '11.00' },
    { product_id: 4, name: 'Lid', quantity: 1, price: 0 },
  ]),
  shipping_address: JSON.stringify({ line1: '1 Main St', city: 'Springfield', country_code: 'US' }),
  billing_address: ' {"city":"Shelbyville"} ',
};
const product = {
  id: 3,
  name: 'Mug',
  slug: 'mug',
  categories: '["Kitchen","Gifts"]',
  images: '["https://cdn.example.com/mug.jpg"]',
  attributes: '{"colour":"red"}',
};

const expectedOrder = {
  id: '7',
  status: 'processing',
  total: 22,
  items: [
    { product_id: '3', name: 'Mug', quantity: 2, price: 11 },
    { product_id: '4', name: 'Lid', quantity: 1, price: 0 },
  ],
  shipping_address: { street: '1 Main St', city: 'Springfield', country: 'US' },
  billing_address: { city: 'Shelbyville' },
};

describe.each(frameworks)('$name', (framework) => {
  const start = startPerTest(framework);

  it('reads items, addresses, lists and attributes from JSON text', async () => {
    const logger = recordingLogger();
    const app = await start({
      products: () => ({ items: [product], total: 1 }),
      orders: () => ({ items: [row], total: 1 }),
      auth: { apiKey: KEY },
      logger,
    });
    const orders = await send(`${app.url}/api/orders`, { headers: auth });
    expect(orders.status).toBe(200);
    expect(JSON.parse(orders.body).data).toEqual([expect.objectContaining(expectedOrder)]);
    const products = await send(`${app.url}/api/products`, { headers: auth });
    expect(JSON.parse(products.body).data[0]).toMatchObject({
      categories: ['Kitchen', 'Gifts'],
      images: ['https://cdn.example.com/mug.jpg'],
      attributes: { colour: 'red' },
    });
    expect(logger.entries.map((entry) => entry.message)).toEqual([]);
  });
});

it('the webhook carries the same order', async () => {
  const receiver = await startReceiver();
  const emitter = createWebhookEmitter(
    { url: receiver.url, storeToken: 'json-text-columns', retryDelaysMs: [], logger: recordingLogger() },
    {},
  );
  try {
    expect(emitter.orderUpdated(row)).toBe(true);
    expect(await emitter.close(5000)).toMatchObject({ delivered: 1 });
    expect(receiver.delivered()[0]?.body.data).toEqual(expect.objectContaining(expectedOrder));
  } finally {
    await receiver.close();
  }
});
