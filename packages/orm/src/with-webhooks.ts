import {
  type BindingOptions,
  consoleLogger,
  type Emitter,
  emitRecord,
  type WriteAction,
  warnOnce,
} from './emit.js';

export type { BindingOptions, Emitter, RecordKind } from './emit.js';

/** What a write function resolves to: the row(s) it wrote, or null/undefined/[] when it wrote none. */
export type Written = object | readonly object[] | null | undefined;

/** One of your write functions. It must resolve once its write is committed. */
export type Writer = (...args: never[]) => Promise<Written>;

/** Any object with some of these write functions; its other members are left as they are. */
export interface WritableRepository {
  create?: Writer;
  update?: Writer;
  delete?: Writer;
}

const ACTIONS = { create: 'created', update: 'updated', delete: 'deleted' } as const satisfies Record<
  keyof WritableRepository,
  WriteAction
>;

/**
 * Wraps the `create`, `update` and `delete` functions of a repository built on something without
 * hooks (Knex, Drizzle, raw SQL) so that each sends its HiWelink webhook once it has resolved,
 * with every row it resolved to (return the rows: `.returning('*')` / `.returning()`). A function
 * that throws sends nothing and its error reaches the caller unchanged; a row count or any other
 * non-row result sends nothing and is warned about once.
 *
 * Each function must commit its own write before it resolves. Inside a larger transaction, call
 * the unwrapped functions and emit the events yourself after that transaction has committed.
 *
 * Returns an object that delegates to `repository` (other members included) with the three
 * functions replaced; `repository` itself is left unchanged.
 */
export function withWebhooks<R extends WritableRepository>(
  repository: R,
  emitter: Emitter,
  options: BindingOptions,
): R {
  const { kind } = options;
  const logger = options.logger ?? consoleLogger;
  const warn = warnOnce(logger);
  const wrapped = Object.create(repository) as R;
  let found = false;
  for (const method of ['create', 'update', 'delete'] as const) {
    const write = repository[method];
    if (typeof write !== 'function') continue;
    found = true;
    const action = ACTIONS[method];
    const rowsOf = (result: unknown): object[] => {
      if (result === null || result === undefined) return [];
      const all: unknown[] = Array.isArray(result) ? result : [result];
      const isRow = (row: unknown): row is object => typeof row === 'object' && row !== null;
      const odd = all.find((row) => !isRow(row));
      if (odd !== undefined) {
        warn(
          method,
          { kind, method },
          `${kind} ${method}() resolved to ${odd === null ? 'null' : typeof odd} (${String(odd)}) instead of ` +
            `the row(s) it wrote, so no webhook is sent for it; return the rows (e.g. .returning('*'))`,
        );
      }
      return all.filter(isRow);
    };
    const sendAfter = async (...args: never[]) => {
      const result = await write.apply(repository, args);
      // Handed over in order, awaited together: a durable emitter's wait is paid once per call.
      await Promise.all(rowsOf(result).map((row) => emitRecord(emitter, kind, action, row, logger)));
      return result;
    };
    Object.defineProperty(wrapped, method, {
      value: sendAfter,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (!found) throw new TypeError('withWebhooks: the repository has no create, update or delete function');
  return wrapped;
}
