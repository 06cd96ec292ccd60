import { HiwelinkError } from './errors.js';

export interface Pagination {
  page: number;
  perPage: number;
  offset: number;
}

export interface PageMeta {
  current_page: number;
  per_page: number;
  total: number;
  last_page: number;
}

const DIGITS = /^[0-9]{1,16}$/;

function readInteger(
  params: URLSearchParams,
  name: 'page' | 'per_page',
  fallback: number,
  max: number,
  rule: string,
): number {
  const values = params.getAll(name);
  const code = name === 'page' ? 'invalid_page' : 'invalid_per_page';
  if (values.length === 0) return fallback;
  if (values.length > 1) {
    throw new HiwelinkError(code, `Query parameter '${name}' must be given once`, { parameter: name });
  }
  const raw = values[0] as string;
  const value = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= max)) {
    throw new HiwelinkError(code, `Query parameter '${name}' must be ${rule}`, { parameter: name });
  }
  return value;
}

/**
 * Reads `page` and `per_page` from a raw query string. Anything but a plain integer in range is
 * refused, never clamped: the crawler stops at the first short page, so a clamp truncates a sync.
 */
export function parsePagination(query: string, defaultPerPage: number, maxPerPage: number): Pagination {
  const params = new URLSearchParams(query);
  const perPage = readInteger(
    params,
    'per_page',
    defaultPerPage,
    maxPerPage,
    `an integer from 1 to ${maxPerPage}`,
  );
  // The page cap keeps offset a safe integer, so repositories never receive a rounded number.
  const maxPage = Math.floor(Number.MAX_SAFE_INTEGER / perPage);
  const page = readInteger(params, 'page', 1, maxPage, `an integer from 1 to ${maxPage}`);
  return { page, perPage, offset: (page - 1) * perPage };
}

export function pageMeta(total: number, { page, perPage }: Pagination): PageMeta {
  return {
    current_page: page,
    per_page: perPage,
    total,
    last_page: Math.max(1, Math.ceil(total / perPage)),
  };
}
