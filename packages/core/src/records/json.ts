/**
 * One rule for the values database drivers return that JSON cannot hold, or holds wrongly: applied
 * by the record mapper to every value it sends without coercing it to a canonical type (passed-
 * through fields, `attributes`), so the list pages and the webhook data carry the same JSON.
 */
import { isPlainArray, stringForm } from './coerce.js';

/** A value left out of a record, and why. `path` is dot-separated; `[]` stands for any array index. */
export interface DroppedValue {
  path: string;
  reason: string;
}

/** Deeper values are dropped: JSON.stringify and our own walk would otherwise exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Why a value whose reading threw (a getter, a proxy trap, a toString) is left out. */
export const readFailure = (error: unknown) => `reading it threw: ${describeError(error)}`;

const NONE: readonly DroppedValue[] = Object.freeze([]);

const UNREAD = Symbol('unread');

/** Sets a field, `__proto__` included (a plain assignment would set the prototype instead). */
export function setField(target: Record<string, unknown>, name: string, value: unknown) {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else target[name] = value;
}

/** Walks one value; what it drops is noted, `copy` forces fresh objects and arrays. */
class JsonWalk {
  copy = false;
  #dropped: DroppedValue[] | undefined;
  readonly #ancestors = new Set<object>();
  /** Where the walk is: names, and `[]` for an array element. Joined only when a value is dropped. */
  readonly #path: string[] = [];

  start(path: string, copy: boolean) {
    this.copy = copy;
    this.#path.length = 0;
    if (path !== '') this.#path.push(path);
  }

  drop(reason: string): undefined {
    let path = '';
    for (const segment of this.#path) path += segment === '[]' || path === '' ? segment : `.${segment}`;
    this.#dropped ??= [];
    this.#dropped.push({ path, reason });
    return undefined;
  }

  /** What was dropped since the last call. */
  takeDropped(): readonly DroppedValue[] {
    const dropped = this.#dropped ?? NONE;
    this.#dropped = undefined;
    return dropped;
  }

  /** `key` is what JSON.stringify would pass to a `toJSON` of this value: its name or index. */
  value(value: unknown, key: string | number): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return Number.isFinite(value) ? value : this.drop(`${value} is not a JSON number`);
      case 'bigint':
        // Exact either way: a safe integer as a number, anything larger as its decimal text.
        return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
      case 'undefined':
        return undefined;
      case 'function':
      case 'symbol':
        return this.drop(`a ${typeof value} has no JSON form`);
    }
    if (value === null) return null;
    const object = value as object;
    if (this.#ancestors.has(object)) return this.drop('circular reference');
    if (this.#ancestors.size >= MAX_JSON_DEPTH)
      return this.drop(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.#ancestors.add(object);
    try {
      return this.object(object, key);
    } catch (error) {
      // A getter, a proxy trap or a toString that throws: only this value is lost.
      return this.drop(readFailure(error));
    } finally {
      this.#ancestors.delete(object);
    }
  }

  object(value: object, key: string | number): unknown {
    const prototype = Object.getPrototypeOf(value);
    // Plain objects and arrays first: nearly every value is one.
    const { toJSON } = value as { toJSON?: unknown };
    const hasToJSON = typeof toJSON === 'function';
    if (prototype === Object.prototype || prototype === null) {
      if (!hasToJSON) return this.fields(value, true);
    } else if (Array.isArray(value) && !hasToJSON) return this.array(value);
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? this.drop('invalid date') : value.toISOString();
    }
    if (ArrayBuffer.isView(value)) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    }
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      return Buffer.from(value).toString('base64');
    }
    if (value instanceof Map) return this.map(value);
    if (value instanceof Set) return this.array([...value], true);
    // Boxed primitives, as JSON.stringify unwraps them.
    if (value instanceof Number || value instanceof String || value instanceof Boolean) {
      return this.value(value.valueOf(), key);
    }
    if (value instanceof BigInt) return this.value(value.valueOf(), key);
    if (hasToJSON) {
      let json: unknown;
      try {
        json = toJSON.call(value, String(key));
      } catch (error) {
        return this.drop(`its toJSON() threw: ${describeError(error)}`);
      }
      // A toJSON that returns its own object means "my fields" (an array: its elements), as
      // JSON.stringify reads it.
      if (json !== value) return this.value(json, key);
      if (Array.isArray(value)) return this.array(value, true);
    } else if (prototype !== Object.prototype && prototype !== null) {
      // Decimal, ObjectId and UUID classes: their text is the value; a plain entity has none.
      const text = stringForm(value);
      if (text !== undefined) return text;
    }
    return this.fields(value, false);
  }

  array(items: readonly unknown[], fresh = false): unknown[] {
    let out: unknown[] | undefined = fresh || this.copy ? [] : undefined;
    this.#path.push('[]');
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      const safe = this.value(item, index);
      // Left-out elements are null, as in JSON.stringify: the positions of the others still count.
      const kept = safe === undefined ? null : safe;
      if (out === undefined && kept !== item) out = items.slice(0, index);
      out?.push(kept);
    }
    this.#path.pop();
    return out ?? (items as unknown[]);
  }

  map(map: Map<unknown, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, item] of map) {
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') {
        this.drop(`a Map key of type ${key === null ? 'null' : typeof key} has no JSON name`);
        continue;
      }
      const name = String(key);
      this.#path.push(name);
      const safe = this.value(item, name);
      this.#path.pop();
      if (safe !== undefined) setField(out, name, safe);
    }
    return out;
  }

  /** The own enumerable fields; a plain object needing no change is returned as it is. */
  fields(value: object, plain: boolean): Record<string, unknown> {
    const source = value as Record<string, unknown>;
    const names = Object.keys(source);
    let out: Record<string, unknown> | undefined = this.copy || !plain ? {} : undefined;
    for (let index = 0; index < names.length; index++) {
      const name = names[index] as string;
      this.#path.push(name);
      // A getter that throws leaves `item` unread, which differs from any value: the object is copied.
      let item: unknown = UNREAD;
      let safe: unknown;
      try {
        item = source[name];
        safe = this.value(item, name);
      } catch (error) {
        this.drop(readFailure(error));
      }
      this.#path.pop();
      if (out === undefined && safe !== item) {
        out = {};
        for (const earlier of names.slice(0, index)) setField(out, earlier, source[earlier]);
      }
      if (out !== undefined && safe !== undefined) setField(out, name, safe);
    }
    return out ?? source;
  }
}

const isJsonScalar = (value: unknown) =>
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  value === null ||
  (typeof value === 'number' && Number.isFinite(value));

/**
 * Whether `value` is a plain object or array holding only JSON scalars (most attributes are):
 * then it needs no walk. A getter that throws means no: the walk will handle it.
 */
function isFlatJson(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return isJsonScalar(value);
  try {
    if (Array.isArray(value)) return isPlainArray(value) && value.every(isJsonScalar);
    if (Object.getPrototypeOf(value) !== Object.prototype) return false;
    const record = value as Record<string, unknown>;
    if (typeof record.toJSON === 'function') return false;
    for (const key in record) if (Object.hasOwn(record, key) && !isJsonScalar(record[key])) return false;
    return true;
  } catch {
    return false;
  }
}

/** The walker free for the next call. */
let idle: JsonWalk | undefined;

/**
 * A JSON form of `value` that JSON.stringify cannot fail on, and the values it had to leave out.
 *
 * - `bigint`: a JSON number when it is a safe integer (|n| ≤ 2^53 − 1), else its decimal text.
 * - `Date`: ISO 8601 in UTC; an invalid date is dropped.
 * - `Buffer`, typed arrays, `DataView`, `ArrayBuffer`: their bytes in base64.
 * - `Map`: an object (string, number and bigint keys; other keys dropped); `Set`: an array.
 * - Objects and arrays with `toJSON()` (decimal.js, Prisma's Decimal, bson's ObjectId, Luxon, ORM models): its
 *   result, walked again; a `toJSON` that throws drops the value. Other class instances whose
 *   `toHexString()` or own `toString()` gives text (not `[object …]`): that text. Anything else:
 *   its own enumerable fields, as JSON.stringify reads them.
 * - Non-finite numbers, functions, symbols, circular references and values nested deeper than
 *   {@link MAX_JSON_DEPTH} levels are dropped: left out of an object, `null` in an array (the
 *   places of the other elements keep their meaning). `undefined` is left out silently, as in JSON.
 *
 * Never throws. Objects and arrays that need no change are returned as they are unless `copy` is
 * set (a webhook waits in a queue while the store may change its objects in place).
 *
 * @param path Where `value` sits, for the dropped entries: e.g. `brand` gives `brand.logo`.
 * @returns `value` in JSON form (`undefined` when dropped entirely) and the dropped values, in order.
 */
export function toJsonValue(
  value: unknown,
  path = '',
  copy = false,
): { value: unknown; dropped: readonly DroppedValue[] } {
  if (!copy && isFlatJson(value)) return { value, dropped: NONE };
  // One walker serves every call (a page maps thousands of values); a toJSON that calls back in
  // while it is busy gets one of its own.
  const walk = idle ?? new JsonWalk();
  idle = undefined;
  walk.start(path, copy);
  try {
    return { value: walk.value(value, ''), dropped: walk.takeDropped() };
  } finally {
    idle = walk;
  }
}

/**
 * Logs each dropped value once per place (`where` and path), not once per record: a page of 100
 * records with the same cycle is one warning, and so is every later page. Remembers at most
 * `limit` places (then starts over), since paths through Map keys are the store's data.
 *
 * @param warn Receives `(details, message)`, e.g. the kit's `logger.warn`.
 * @returns `(where, dropped)`: `where` names what was being sent, e.g. `products page 2`'s route.
 */
export function dropReporter(warn: (details: object, message: string) => void, limit = 1000) {
  const reported = new Set<string>();
  return (where: string, dropped: readonly DroppedValue[], details: object = {}) => {
    for (const { path, reason } of dropped) {
      const place = `${where}\n${path}`;
      if (reported.has(place)) continue;
      if (reported.size >= limit) reported.clear();
      reported.add(place);
      warn({ ...details, field: path }, `${where}: '${path}' left out: ${reason}`);
    }
  };
}
