import type { WebhookInspector } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

/*
 * Kind: what an object passed in by the store answers, trusted to have the shape its type says.
 * The status page rendered `webhooks.activity()` as given: an answer without `counts`, with a
 * `recent` that is not a list or a time that is not a number was a 500 in a browser. It must be
 * the page, saying the figures could not be read and why.
 */

const TOKEN = 'hws_plugin_answer_status_token_001';

const inspector = (activity: () => unknown): WebhookInspector => ({
  activity: activity as WebhookInspector['activity'],
  resend: async () => 'not_found',
  requestSync: () => true,
  productUpdated: () => true,
  enabled: true,
});

const JUNK: [string, () => unknown][] = [
  ['no counts', async () => ({ source: 'memory', enabled: true })],
  [
    'recent not a list',
    async () => ({ source: 'memory', enabled: true, counts: {}, recent: 'x', perMinute: [] }),
  ],
  [
    'a time that is text',
    async () => ({
      source: 'memory',
      enabled: true,
      counts: { queued: 0, inFlight: 0, delivered: 0, retrying: 0, givenUp: 1 },
      recent: [
        {
          id: 'msg_1',
          event: 'product.updated',
          entity: '1',
          state: 'given_up',
          attempts: 1,
          updatedAt: 'soon',
        },
      ],
      perMinute: [],
    }),
  ],
  ['a number', () => 42],
  [
    'a throw',
    () => {
      throw new Error('activity blew up');
    },
  ],
];

describe.each(JUNK)('status page whose emitter answers %s', (_name, activity) => {
  const start = startPerTest(frameworks[0] as (typeof frameworks)[number]);

  it('shows the page, saying the figures could not be read', async () => {
    const app = await start({
      auth: { apiKey: 'hwk_live_plugin_answer_api_key_001' },
      products: () => ({ items: [], total: 0 }),
      orders: () => ({ items: [], total: 0 }),
      status: { path: '/status', auth: { bearer: TOKEN }, webhooks: inspector(activity) },
      logger: recordingLogger(),
    });
    const page = await send(`${app.url}/status`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('The figures could not be read');
    const json = await send(`${app.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(json.status).toBe(200);
    expect((json.json() as { webhooks: unknown }).webhooks).toEqual({
      connected: true,
      error: expect.any(String),
    });
  });
});
