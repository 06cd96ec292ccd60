export { apiKeyGuard } from './auth/api-key.js';
export type { Guard, Principal } from './auth/guard.js';
export { type ErrorCode, errorStatus, HiwelinkError } from './errors.js';
export { createHiwelink, type Hiwelink } from './handler.js';
export type { CoreRequest, CoreResponse } from './http.js';
export type { Logger } from './logger.js';
export { toCoreRequest } from './node.js';
export {
  type ApiKeyAuth,
  type AuthOptions,
  type HealthCheck,
  HiwelinkConfigError,
  type HiwelinkOptions,
  type HiwelinkPaths,
  type ListCallback,
  type ListQuery,
  type ListResult,
} from './options.js';
export { type PageMeta, type Pagination, pageMeta, parsePagination } from './pagination.js';
