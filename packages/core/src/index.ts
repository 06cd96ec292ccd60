export { type Client, canonicalIp, type TrustProxy } from './access/client.js';
export {
  memoryStore,
  type RateLimitHit,
  type RateLimitStore,
  type RedisClient,
  type RedisEval,
  redisStore,
} from './access/rate-limit.js';
export { apiKeyGuard } from './auth/api-key.js';
export { type BasicUser, basicGuard } from './auth/basic.js';
export { bearerGuard } from './auth/bearer.js';
export { type Credential, keygen } from './auth/credentials.js';
export type { Guard, Principal } from './auth/guard.js';
export { BEYOND_LATIN1, CONTROL_CHARACTER, TOKEN68 } from './auth/header-values.js';
export { parseBasic, parseBearer } from './auth/headers.js';
export { type JwtOptions, jwtGuard } from './auth/jwt.js';
export type { ApiKeyAuth, AuthOptions, BasicAuth, BearerAuth, JwtAuth } from './auth/options.js';
export { type ErrorCode, errorStatus, HiwelinkError } from './errors.js';
export { createHiwelink, type Hiwelink } from './handler.js';
export type { CoreRequest, CoreResponse } from './http.js';
export type { Logger } from './logger.js';
export { toCoreRequest } from './node.js';
export { type AuthKind, type OpenApiOptions, openApiDocument } from './openapi.js';
export {
  type AccessLogEntry,
  ADDRESS_OPTIONS,
  type HealthCheck,
  HiwelinkConfigError,
  type HiwelinkOptions,
  type HiwelinkPaths,
  type ListCallback,
  type ListQuery,
  type ListResult,
  type RateLimitOptions,
} from './options.js';
export { type PageMeta, type Pagination, pageMeta, parsePagination } from './pagination.js';
export {
  ADDRESS_ALIASES,
  ORDER_ALIASES,
  ORDER_ITEM_ALIASES,
  type OrderField,
  PRODUCT_ALIASES,
  type ProductField,
} from './records/aliases.js';
export * as coerce from './records/coerce.js';
export {
  createRecordMapper,
  type MappedRecord,
  type RecordKind,
  type RecordMapping,
} from './records/mapper.js';
export {
  type Address,
  addressSchema,
  type Order,
  type OrderItem,
  orderItemSchema,
  orderSchema,
  type Product,
  productSchema,
  STOCK_STATUSES,
  type StockStatus,
} from './records/schemas.js';
export {
  type DeliveryRecord,
  type DeliveryState,
  lastHour,
  type MinuteCount,
  minuteOf,
  type ResendResult,
  type WebhookActivity,
  type WebhookInspector,
} from './status/activity.js';
export type { CrawlRun, ListReport, LogLine, RequestMinute } from './status/recorder.js';
export type {
  Action as StatusAction,
  ReportedActivity,
  ReportedDelivery,
  StatusReport,
  StatusSetup,
  WebhooksReport,
} from './status/route.js';
export {
  FINISHED_KEPT,
  GIVEN_UP_KEPT,
  RECENT_DEFAULT,
  RECENT_MAX,
  recentLimit,
} from './webhooks/activity-log.js';
export {
  checkEmitterOptions,
  createDeliverer,
  createMessageBuilder,
  DEFAULT_RETRY_DELAYS,
  type Deliverer,
  type DeliveryOptions,
  deliverySetup,
  MAX_RETRY_AFTER_MS,
  numberRules,
  type Outcome,
  RESPONSE_EXCERPT_BYTES,
  type RecordEvents,
  type RetryOptions,
  retryDelay,
  type Topic,
  type WebhookEventName,
  type WebhookMessage,
} from './webhooks/delivery.js';
export {
  type CloseReport,
  createWebhookEmitter,
  type DeliveryFailure,
  failureReporter,
  type QueuedEvent,
  type WebhookEmitter,
  type WebhookEmitterOptions,
  type WebhookEvents,
  type WebhookStats,
} from './webhooks/emitter.js';
export { reportAtExit } from './webhooks/exit-report.js';
export {
  newWebhookId,
  signatureHeaders,
  signingKey,
  type VerifyResult,
  verifyWebhook,
  type WebhookHeaders,
} from './webhooks/signing.js';
export { LATE, MAX_TIMER_MS, waitMs, within } from './webhooks/within.js';
