import type { CoreResponse } from './http.js';

/** Stable error codes: clients and tests may rely on them. */
export const errorStatus = {
  invalid_page: 400,
  invalid_per_page: 400,
  unauthorized: 401,
  ip_not_allowed: 403,
  https_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  internal_error: 500,
  invalid_record: 500,
  callback_timeout: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** The one error type core throws and answers with; its message is safe to show a client. */
export class HiwelinkError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { parameter?: string; headers?: Record<string, string> } = {},
  ) {
    // These errors become answers, never logged traces: capturing a stack would cost more than
    // the rest of a 401 or 400.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'HiwelinkError';
    this.status = errorStatus[code];
  }
}

export const jsonHeaders = (body: string): Record<string, string> => ({
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(Buffer.byteLength(body)),
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

export function jsonResponse(
  status: number,
  payload: unknown,
  extraHeaders?: Record<string, string>,
): CoreResponse {
  const body = JSON.stringify(payload);
  return { status, headers: { ...jsonHeaders(body), ...extraHeaders }, body };
}

/** Anything that is not a HiwelinkError is a server fault: the client learns nothing about it. */
export function errorResponse(error: unknown): CoreResponse {
  if (!(error instanceof HiwelinkError)) {
    return jsonResponse(500, { error: 'Internal Server Error', code: 'internal_error' });
  }
  const { parameter, headers } = error.details;
  return jsonResponse(
    error.status,
    parameter
      ? { error: error.message, code: error.code, parameter }
      : { error: error.message, code: error.code },
    headers,
  );
}
