export {
  createDurableWebhookEmitter,
  type DurableWebhookEmitter,
  type DurableWebhookEmitterOptions,
  type DurableWebhookStats,
} from './emitter.js';
