import type { Logger } from '@hiwelink/core';
import fc from 'fast-check';

/**
 * Values as database drivers hand them over, without the drivers: what each class copies is the
 * part of the real one the kit can see (its methods and own properties).
 */

/** Like MongoDB's `ObjectId` (bson): 12 bytes, `toHexString()`, `toString()` and `toJSON()` in hex, an `id` getter. */
export class ObjectIdLike {
  readonly #bytes: Buffer;
  constructor(hex: string) {
    this.#bytes = Buffer.from(hex, 'hex');
  }
  get id(): Buffer {
    return this.#bytes;
  }
  get _bsontype() {
    return 'ObjectId';
  }
  toHexString() {
    return this.#bytes.toString('hex');
  }
  toString() {
    return this.toHexString();
  }
  toJSON() {
    return this.toHexString();
  }
}

/** An id object whose only readable form is `toString()` (a driver's UUID class, say): no toJSON, no toHexString. */
export class UuidLike {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString() {
    return this.#text;
  }
}

/** Like decimal.js / Prisma's Decimal without its toJSON: own digit fields, and `toString()` is the number. */
export class DecimalLike {
  readonly d: number[];
  readonly e: number;
  readonly s: number;
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
    this.d = [Number.parseInt(text, 10) || 0];
    this.e = 0;
    this.s = text.startsWith('-') ? -1 : 1;
  }
  toString() {
    return this.#text;
  }
}

/** A model whose `toJSON` throws (a lazy ORM relation read after its session closed). */
export class BrokenModel {
  readonly name = 'broken';
  toJSON(): never {
    throw new Error('session closed');
  }
}

/** A plain class instance, as TypeORM hands entities over. */
export class Entity {
  constructor(
    readonly code: bigint,
    readonly label: string,
  ) {}
}

export interface Logged {
  level: 'warn' | 'error';
  details: object;
  message: string;
}

export function recordingLogger(): Logger & { entries: Logged[] } {
  const entries: Logged[] = [];
  return {
    entries,
    warn: (details, message) => entries.push({ level: 'warn', details, message }),
    error: (details, message) => entries.push({ level: 'error', details, message }),
  };
}

/** An ORM object whose lazy field throws when read after its session closed. */
export function throwingGetter(): Record<string, unknown> {
  return Object.defineProperty({ loaded: 1 }, 'lazy', {
    enumerable: true,
    get() {
      throw new Error('session closed');
    },
  });
}

/** A proxy whose every operation throws, as a revoked one does. */
export function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/**
 * A proxy of a detached ORM object: listing or reading its fields throws. (Unlike a revoked one,
 * it answers `in`, which fast-check itself needs of any value it generates.)
 */
export function hostileProxy(): object {
  const detached = () => {
    throw new Error('detached');
  };
  return new Proxy(
    {},
    {
      ownKeys: detached,
      getOwnPropertyDescriptor: detached,
      get: (_target, key) => (typeof key === 'symbol' ? undefined : detached()),
    },
  );
}

/** An array given its own `toJSON` (as some ORMs wrap collections): JSON.stringify calls it. */
export function arrayWithToJSON<T>(items: T[], toJSON: () => unknown): T[] {
  return Object.assign([...items], { toJSON });
}

/** An Array subclass with a `toJSON` returning a bigint inside (a collection class of an ORM). */
export class JsonArray<T> extends Array<T> {
  toJSON() {
    return [2n ** 64n];
  }
}

/** A record behind a proxy whose `trap` throws (a detached ORM entity); every other read works. */
export function proxyRecord<T extends object>(record: T, trap: 'getPrototypeOf' | 'ownKeys'): T {
  return new Proxy(record, {
    [trap]: () => {
      throw new Error(`${trap} detached`);
    },
  });
}

/** An object that holds itself, one level down. */
export function withCycle(value: Record<string, unknown>): Record<string, unknown> {
  const node: Record<string, unknown> = { ...value };
  node.self = node;
  return node;
}

const hex24 = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));

/** Every kind of value a driver may return, alone. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
  fc.date({ noInvalidDate: false }),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(Symbol('driver')),
  fc.constant(() => 'a function'),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 16 }),
  fc.float64Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => bytes.buffer),
  hex24.map((hex) => new ObjectIdLike(hex)),
  fc.uuid().map((text) => new UuidLike(text)),
  fc.double({ noNaN: true }).map((number) => new DecimalLike(String(number))),
  fc.constant(new BrokenModel()),
  fc.tuple(fc.bigInt(), fc.string()).map(([code, label]) => new Entity(code, label)),
  fc.constant(Object.create(null)),
  fc.constant(new Number(4)),
  fc.constant(Object(7n)),
  fc.constant(new Error('a driver error')),
  fc.constant(throwingGetter()),
  fc.constant(hostileProxy()),
  fc.constant(
    arrayWithToJSON(['a'], () => {
      throw new Error('collection closed');
    }),
  ),
  fc.constant(arrayWithToJSON(['b'], () => 5n)),
  fc.constant(JsonArray.from(['https://example.com/a.jpg'])),
);

/** Trees of driver values: arrays, plain objects, Maps and Sets of them, some holding themselves. */
export const driverValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    fc
      .dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 })
      .map((object) => withCycle(object)),
    fc
      .array(fc.tuple(fc.oneof(fc.string(), fc.integer(), fc.bigInt(), fc.constant({})), tie('value')), {
        maxLength: 3,
      })
      .map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
  ),
})).value;

/** Ids as drivers return them: numbers, text, bigints, ObjectIds, UUID objects. */
export const driverId: fc.Arbitrary<unknown> = fc.oneof(
  fc.nat(),
  fc.bigInt({ min: 1n }),
  hex24.map((hex) => new ObjectIdLike(hex)),
  fc.uuid().map((text) => new UuidLike(text)),
  fc.string({ minLength: 1 }).filter((text) => text.trim() !== ''),
);
