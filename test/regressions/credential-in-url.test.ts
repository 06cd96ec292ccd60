import { createWebhookEmitter, HiwelinkConfigError } from '@hiwelink/core';
import { createDurableWebhookEmitter } from '@hiwelink/webhooks-bullmq';
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/driver-values.js';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { demoStore, listening } from '../support/stores.js';

/*
 * Kind: a URL option holding a user and password (`http://admin:pw@host`). The demo store's banner
 * printed HIWELINK_WEBHOOK_URL whole, password included (its REDIS_URL was already hidden). The status page's
 * set-up showed `storeBaseUrl` whole, password included; and links and image URLs built from it
 * went to HiWelink with the credentials in them, from the API and from both emitters. Such a URL
 * now stops the start, and the message never repeats the password.
 */

const URL_WITH_CREDENTIALS = 'http://admin:pw-0123456789@localhost:3000/shop';

const refusal = (create: () => unknown) => {
  try {
    create();
  } catch (error) {
    expect(error).toBeInstanceOf(HiwelinkConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a HiwelinkConfigError');
};

describe.each(frameworks)('storeBaseUrl with a user and password on $name', (framework) => {
  const start = startPerTest(framework);

  it('stops the start, naming the option, without the password', async () => {
    const failed = start({
      auth: { apiKey: 'hwk_live_credential_url_api_key_01' },
      storeBaseUrl: URL_WITH_CREDENTIALS,
      products: () => ({ items: [], total: 0 }),
      orders: () => ({ items: [], total: 0 }),
      status: { path: '/status', auth: { bearer: 'hws_credential_url_status_token_01' } },
      logger: recordingLogger(),
    });
    await expect(failed).rejects.toThrow(/storeBaseUrl: must not hold a user or password/);
    await expect(failed).rejects.not.toThrow(/pw-0123456789/);
  });
});

describe('storeBaseUrl with a user and password in an emitter', () => {
  it('stops the in-memory and the durable emitter at creation, without the password', () => {
    const options = {
      url: 'http://127.0.0.1:9',
      storeToken: 'store-token',
      storeBaseUrl: URL_WITH_CREDENTIALS,
    };
    for (const create of [
      () => createWebhookEmitter(options, {}),
      () => createDurableWebhookEmitter(options, {}),
    ]) {
      const message = refusal(create);
      expect(message).toMatch(/webhooks\.storeBaseUrl: must not hold a user or password/);
      expect(message).not.toContain('pw-0123456789');
    }
  });
});

describe('a webhook URL with a user and password in the demo store', () => {
  it('is printed in the banner without the password', async () => {
    const store = demoStore.launch({
      HIWELINK_WEBHOOK_URL: 'http://hooks:pw-0123456789@127.0.0.1:9',
      HIWELINK_STORE_TOKEN: 'store-token',
    });
    try {
      await listening(store);
      expect(store.stdout()).toMatch(
        /webhooks\s+on: admin changes go to http:\/\/hooks:\*\*\*@127\.0\.0\.1:9\//,
      );
      expect(store.stdout()).not.toContain('pw-0123456789');
    } finally {
      await store.stop();
    }
  });
});
