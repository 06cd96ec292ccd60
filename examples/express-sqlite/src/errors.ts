import type { NextFunction, Request, Response } from 'express';

/** An error whose message is safe to show the client, with a stable `code` and the field at fault. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly issues?: readonly { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The shape of the errors Express's router and body-parser raise for a request they cannot read
 * (http-errors: `status` 4xx; body-parser adds `type`). The router's URIError for a bad `%` escape
 * in a path parameter carries `status` 400 and nothing else.
 */
interface RequestError {
  status: number;
  type?: string;
}

function isRequestError(error: unknown): error is RequestError {
  const status = (error as Partial<RequestError> | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** body-parser's error types, as the store's stable codes. */
const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'Malformed JSON body' },
  'entity.too.large': { status: 413, code: 'body_too_large', message: 'Request body too large' },
  'charset.unsupported': {
    status: 415,
    code: 'unsupported_media_type',
    message: 'The body must be UTF-8 JSON',
  },
  'encoding.unsupported': {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Unsupported Content-Encoding: send the body uncompressed or gzip, deflate or br',
  },
};

function clientError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (!isRequestError(error)) return undefined;
  if (error instanceof URIError)
    return new HttpError(400, 'invalid_path', 'Malformed percent-encoding in the request path');
  const known = error.type === undefined ? undefined : BODY_ERRORS[error.type];
  if (known) return new HttpError(known.status, known.code, known.message);
  // Another client mistake Express detected (an aborted body, a bad Content-Length): its own words.
  return new HttpError(error.status, 'bad_request', (error as unknown as Error).message);
}

/** Last route: whatever nobody else answered. */
export function notFound(_request: Request, response: Response): void {
  response.status(404).json({ error: 'Not Found', code: 'not_found' });
}

/** Client mistakes answer with what to fix; anything else is logged here and stays a bare 500. */
export function errorHandler(error: unknown, request: Request, response: Response, next: NextFunction): void {
  if (response.headersSent) {
    next(error);
    return;
  }
  const known = clientError(error);
  if (known) {
    const { status, code, message, field, issues } = known;
    const body = { error: message, code, ...(field === undefined ? {} : { field }) };
    response.status(status).json(issues === undefined ? body : { ...body, issues });
    return;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^SQLITE_(READONLY|IOERR|FULL|BUSY|LOCKED|CANTOPEN)/.test(code)) {
    // The database refused the write for a reason of its own (a file made read-only, a full disk,
    // a lock held too long): one line for the operator, a 503 the client may retry.
    console.error(
      `[store] ${request.method} ${request.originalUrl}: the database refused a write (${code}: ${(error as Error).message})`,
    );
    response.status(503).json({
      error: 'The database cannot take writes now: try again later',
      code: 'database_unavailable',
    });
    return;
  }
  console.error(`[store] ${request.method} ${request.originalUrl} failed:`, error);
  response.status(500).json({ error: 'Internal Server Error' });
}
