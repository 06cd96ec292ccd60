/**
 * One rule for the values database drivers return that JSON cannot hold, or holds wrongly: applied
 * by the record mapper to every value it sends without coercing it to a canonical type (passed-
 * through fields, `attributes`), so the list pages and the webhook data carry the same JSON.
 */
import { stringForm } from './coerce.js';

/** A value left out of a record, and why. `path` is dot-separated; `[]` stands for any array index. */
export interface DroppedValue {
  path: string;
  reason: string;
}

/** Deeper values are dropped: JSON.stringify and our own walk would otherwise exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

const isPlain = (value: object) => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A value whose reading threw (a getter, a proxy trap, a toString): it is left out. */
export const readFailure = (path: string, error: unknown): DroppedValue => ({
  path,
  reason: `reading it threw: ${describeError(error)}`,
});

const UNREAD = Symbol('unread');

/** Sets a field, `__proto__` included (a plain assignment would set the prototype instead). */
function setField(target: Record<string, unknown>, name: string, value: unknown) {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else target[name] = value;
}

/** Walks one value; `dropped` collects what was left out, `copy` forces fresh objects and arrays. */
class JsonWalk {
  readonly dropped: DroppedValue[] = [];
  readonly #ancestors = new Set<object>();

  constructor(readonly copy: boolean) {}

  drop(path: string, reason: string): undefined {
    this.dropped.push({ path, reason });
    return undefined;
  }

  value(value: unknown, path: string, key: string): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return Number.isFinite(value) ? value : this.drop(path, `${value} is not a JSON number`);
      case 'bigint':
        // Exact either way: a safe integer as a number, anything larger as its decimal text.
        return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
      case 'undefined':
        return undefined;
      case 'function':
      case 'symbol':
        return this.drop(path, `a ${typeof value} has no JSON form`);
    }
    if (value === null) return null;
    const object = value as object;
    if (this.#ancestors.has(object)) return this.drop(path, 'circular reference');
    if (this.#ancestors.size >= MAX_JSON_DEPTH) {
      return this.drop(path, `nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    this.#ancestors.add(object);
    try {
      return this.object(object, path, key);
    } catch (error) {
      // A getter, a proxy trap or a toString that throws: only this value is lost.
      this.dropped.push(readFailure(path, error));
      return undefined;
    } finally {
      this.#ancestors.delete(object);
    }
  }

  object(value: object, path: string, key: string): unknown {
    if (Array.isArray(value)) return this.array(value, path);
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? this.drop(path, 'invalid date') : value.toISOString();
    }
    if (ArrayBuffer.isView(value)) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    }
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      return Buffer.from(value).toString('base64');
    }
    if (value instanceof Map) return this.map(value, path);
    if (value instanceof Set) return this.array([...value], path, true);
    // Boxed primitives, as JSON.stringify unwraps them.
    if (value instanceof Number || value instanceof String || value instanceof Boolean) {
      return this.value(value.valueOf(), path, key);
    }
    if (value instanceof BigInt) return this.value(value.valueOf(), path, key);
    const { toJSON } = value as { toJSON?: unknown };
    if (typeof toJSON === 'function') {
      let json: unknown;
      try {
        json = toJSON.call(value, key);
      } catch (error) {
        return this.drop(path, `its toJSON() threw: ${describeError(error)}`);
      }
      // A toJSON that returns its own object means "my fields", as JSON.stringify reads it.
      if (json !== value) return this.value(json, path, key);
    } else if (!isPlain(value)) {
      // Decimal, ObjectId and UUID classes: their text is the value; a plain entity has none.
      const text = stringForm(value);
      if (text !== undefined) return text;
    }
    return this.fields(value, path);
  }

  array(items: readonly unknown[], path: string, fresh = false): unknown[] {
    let out: unknown[] | undefined = fresh || this.copy ? [] : undefined;
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      const safe = this.value(item, `${path}[]`, String(index));
      // Left-out elements are null, as in JSON.stringify: the positions of the others still count.
      const kept = safe === undefined ? null : safe;
      if (out === undefined && kept !== item) out = items.slice(0, index);
      out?.push(kept);
    }
    return out ?? (items as unknown[]);
  }

  map(map: Map<unknown, unknown>, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, item] of map) {
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') {
        this.drop(path, `a Map key of type ${key === null ? 'null' : typeof key} has no JSON name`);
        continue;
      }
      const name = String(key);
      const safe = this.value(item, path === '' ? name : `${path}.${name}`, name);
      if (safe !== undefined) setField(out, name, safe);
    }
    return out;
  }

  fields(value: object, path: string): Record<string, unknown> {
    const source = value as Record<string, unknown>;
    const names = Object.keys(source);
    let out: Record<string, unknown> | undefined = this.copy || !isPlain(value) ? {} : undefined;
    for (let index = 0; index < names.length; index++) {
      const name = names[index] as string;
      const at = path === '' ? name : `${path}.${name}`;
      // A getter that throws leaves `item` unread, which differs from any value: the object is copied.
      let item: unknown = UNREAD;
      let safe: unknown;
      try {
        item = source[name];
        safe = this.value(item, at, name);
      } catch (error) {
        this.dropped.push(readFailure(at, error));
      }
      if (out === undefined && safe !== item) {
        out = {};
        for (const earlier of names.slice(0, index)) setField(out, earlier, source[earlier]);
      }
      if (out !== undefined && safe !== undefined) setField(out, name, safe);
    }
    return out ?? source;
  }
}

/**
 * A JSON form of `value` that JSON.stringify cannot fail on, and the values it had to leave out.
 *
 * - `bigint`: a JSON number when it is a safe integer (|n| ≤ 2^53 − 1), else its decimal text.
 * - `Date`: ISO 8601 in UTC; an invalid date is dropped.
 * - `Buffer`, typed arrays, `DataView`, `ArrayBuffer`: their bytes in base64.
 * - `Map`: an object (string, number and bigint keys; other keys dropped); `Set`: an array.
 * - Objects with `toJSON()` (decimal.js, Prisma's Decimal, bson's ObjectId, Luxon, ORM models): its
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
): { value: unknown; dropped: DroppedValue[] } {
  const walk = new JsonWalk(copy);
  const safe = walk.value(value, path, '');
  return { value: safe, dropped: walk.dropped };
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
