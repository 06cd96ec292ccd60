import { createWebhookEmitter } from '@hiwelink/core';

/**
 * Tells HiWelink about each committed change, signed and retried in the background. Off (a no-op,
 * said once at start) until HIWELINK_WEBHOOK_URL and HIWELINK_STORE_TOKEN are set;
 * HIWELINK_WEBHOOK_SECRET signs the deliveries.
 */
export const webhooks = createWebhookEmitter();

/** The store's `onChange` hook. @param {import('./store.js').Change} change */
export function announce(change) {
  if (change.action === 'created') webhooks.productCreated(change.record);
  else if (change.action === 'updated') webhooks.productUpdated(change.record);
  else webhooks.productDeleted(change.record);
}
