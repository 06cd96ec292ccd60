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

/** The shape body-parser gives its errors (`express.json()`). */
interface BodyParserError {
  status: number;
  type: string;
  expose: boolean;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  const candidate = error as Partial<BodyParserError> | null;
  return (
    typeof candidate?.status === 'number' && typeof candidate.type === 'string' && candidate.expose === true
  );
}

function clientError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (!isBodyParserError(error) || error.status < 400 || error.status >= 500) return undefined;
  if (error.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'Malformed JSON body');
  if (error.type === 'entity.too.large')
    return new HttpError(413, 'body_too_large', 'Request body too large');
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
  console.error(`[store] ${request.method} ${request.originalUrl} failed:`, error);
  response.status(500).json({ error: 'Internal Server Error' });
}
