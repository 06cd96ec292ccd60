import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HiwelinkError } from './errors.js';
import { pageMeta, parsePagination } from './pagination.js';

const parse = (query: string) => parsePagination(query, 50, 100);

function refusal(query: string): HiwelinkError {
  try {
    parse(query);
  } catch (error) {
    if (error instanceof HiwelinkError) return error;
    throw error;
  }
  throw new Error(`${query} was accepted`);
}

describe('parsePagination', () => {
  it('defaults to page 1 of 50', () => {
    expect(parse('')).toEqual({ page: 1, perPage: 50, offset: 0 });
  });

  it('accepts every in-range pair, with the offset the repository needs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 100 }),
        (page, perPage) => {
          expect(parse(`page=${page}&per_page=${perPage}`)).toEqual({
            page,
            perPage,
            offset: (page - 1) * perPage,
          });
          expect(parse(`per_page=${perPage}&page=${page}`)).toEqual({
            page,
            perPage,
            offset: (page - 1) * perPage,
          });
        },
      ),
    );
  });

  it('never throws anything but a HiwelinkError naming the parameter, for any query string', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-composite', maxLength: 60 }),
        fc.string({ maxLength: 40 }),
        (a, b) => {
          for (const query of [a, `page=${a}`, `per_page=${a}&page=${b}`, `page=${encodeURIComponent(a)}`]) {
            try {
              const { page, perPage, offset } = parse(query);
              expect(Number.isSafeInteger(page) && page >= 1).toBe(true);
              expect(Number.isSafeInteger(perPage) && perPage >= 1 && perPage <= 100).toBe(true);
              expect(offset).toBe((page - 1) * perPage);
            } catch (error) {
              expect(error).toBeInstanceOf(HiwelinkError);
              expect(['page', 'per_page']).toContain((error as HiwelinkError).details.parameter);
              expect((error as HiwelinkError).status).toBe(400);
            }
          }
        },
      ),
    );
  });

  it('refuses any value that is not a plain integer in range, never clamping it', () => {
    const notAnInteger = fc.oneof(
      fc.integer({ max: 0 }).map(String),
      fc.integer({ min: 101 }).map(String),
      fc.double({ noInteger: true, noNaN: true }).map(String),
      fc.string({ minLength: 1 }).filter((text) => !/^[0-9]+$/.test(text)),
    );
    fc.assert(
      fc.property(notAnInteger, (value) => {
        const error = refusal(`per_page=${encodeURIComponent(value)}`);
        expect(error.code).toBe('invalid_per_page');
      }),
    );
  });

  it('refuses a parameter given twice, even with equal values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), (value) => {
        expect(refusal(`page=${value}&page=${value}`).details.parameter).toBe('page');
        expect(refusal(`per_page=${value}&per_page=${value}`).details.parameter).toBe('per_page');
      }),
    );
  });

  it('keeps the offset a safe integer for the largest page it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), (perPage) => {
        const maxPage = Math.floor(Number.MAX_SAFE_INTEGER / perPage);
        expect(Number.isSafeInteger(parse(`page=${maxPage}&per_page=${perPage}`).offset)).toBe(true);
        expect(refusal(`page=${maxPage + 1}&per_page=${perPage}`).code).toBe('invalid_page');
      }),
    );
  });
});

describe('pageMeta', () => {
  it('gives the last page that holds the final record, and 1 for an empty list', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 1000 }),
        (total, perPage, page) => {
          const meta = pageMeta(total, { page, perPage, offset: (page - 1) * perPage });
          expect(meta).toMatchObject({ current_page: page, per_page: perPage, total });
          expect(meta.last_page).toBeGreaterThanOrEqual(1);
          if (total === 0) expect(meta.last_page).toBe(1);
          else {
            expect((meta.last_page - 1) * perPage).toBeLessThan(total);
            expect(meta.last_page * perPage).toBeGreaterThanOrEqual(total);
          }
        },
      ),
    );
  });
});
