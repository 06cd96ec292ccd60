export {
  createDurableWebhookEmitter,
  type DurableCloseReport,
  type DurableWebhookEmitter,
  type DurableWebhookEmitterOptions,
  type DurableWebhookStats,
} from './emitter.js';
export type { HeldEvent } from './held.js';
