import { ADDRESS_ALIASES, ORDER_ALIASES, ORDER_ITEM_ALIASES, PRODUCT_ALIASES } from './aliases.js';
import {
  listItems,
  parsedJson,
  toAttributes,
  toId,
  toImages,
  toInteger,
  toIsoDate,
  toLabels,
  toMoney,
  toStockStatus,
  toText,
  toUrl,
} from './coerce.js';
import { type DroppedValue, readFailure, setField, toJsonValue } from './json.js';

export type RecordKind = 'products' | 'orders';

/** How a store's records become the documented fields. With nothing set, the documented aliases are used. */
export interface RecordMapping<Source = never, Field extends string = string> {
  /** Your own conversion to canonical field names; its result is coerced and checked like any record. */
  map?: (record: Source) => Record<string, unknown>;
  /** Where a canonical field lives in your records (dot paths for nested values); replaces its aliases. */
  fields?: Partial<Record<Field, string>>;
  /**
   * Also send fields that are not canonical: `true` for all, or a list of names. Their values go
   * in JSON form whatever the driver returned (bigint, Decimal, Buffer, Map, Set, Date, cycles):
   * see `toJsonValue` in records/json.ts. @default false
   */
  passthrough?: boolean | readonly string[];
  /** Canonical fields never sent, for personal data such as `customer_email`. */
  omit?: readonly Field[];
  /** Permalink for a product that has none. */
  link?: (record: Source) => string | undefined;
}

export interface MappedRecord {
  record: Record<string, unknown>;
  /** Why the platform will skip this record (no id, no name), if it will. */
  invalid?: string;
  /** A product with neither permalink nor slug: "View Product" falls back to the homepage. */
  unlinked?: boolean;
  /** `fields` entries whose path is not in the record at all: most likely a typo. */
  missingPaths?: string[];
  /** Values left out because JSON cannot hold them (a cycle, a function, a throwing `toJSON`, ...). */
  dropped?: DroppedValue[];
}

type Source = Record<string, unknown>;
/** What coercing one record needs besides the value: the store's base URL, and where to note drops. */
interface Context {
  base: string | undefined;
  dropped?: DroppedValue[];
  /** `fields` entries whose path this record lacks, as `field ← 'path'`. */
  missingPaths?: string[];
}
type Coercer = (value: unknown, context: Context, path: string) => unknown;

/** A value sent as the store gave it, in its JSON form (see toJsonValue); what it lost is noted. */
function jsonField(value: unknown, context: Context, path: string): unknown {
  // Most passed-through values are text, numbers or flags: they need no walk.
  if (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    value === null ||
    value === undefined
  ) {
    return value;
  }
  const safe = toJsonValue(value, path);
  note(context, safe.dropped);
  return safe.value;
}

function note(context: Context, dropped: readonly DroppedValue[]) {
  if (dropped.length === 0) return;
  context.dropped ??= [];
  context.dropped.push(...dropped);
}

const isRecord = (value: unknown): value is Source =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const camelCase = (name: string) => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** The value at a dot path (split), and whether the path exists at all (a typo in `fields` does not). */
function at(record: Source, segments: readonly string[]): { value: unknown; exists: boolean } {
  let value: unknown = record;
  for (const key of segments) {
    if (!isRecord(value) || !(key in value)) return { value: undefined, exists: false };
    value = value[key];
  }
  return { value, exists: true };
}

/** How to fill one canonical field: the keys to try, in order, or a `fields` path; and its coercion. */
interface Step {
  field: string;
  keys: readonly string[];
  path: string | undefined;
  /** `path` split at its dots, once; `undefined` for a path that is no text (read then fails). */
  segments: readonly string[] | undefined;
  coerce: Coercer;
}

/**
 * Plans a record level once per mapper: each field's candidate keys (canonical name, then aliases,
 * each also in camelCase, as ORMs return them), so mapping a record is plain property lookups.
 */
function plan(
  aliases: Record<string, readonly string[]>,
  coercers: Record<string, Coercer>,
  fields: Record<string, string | undefined> = {},
): Step[] {
  return Object.entries(aliases).map(([field, fieldAliases]) => {
    const path = fields[field];
    return {
      field,
      keys: [...new Set([field, ...fieldAliases].flatMap((name) => [name, camelCase(name)]))],
      path,
      // A JavaScript caller may give a number: its records note the failed read, as before plans.
      segments: typeof path === 'string' ? path.split('.') : undefined,
      coerce: coercers[field] as Coercer,
    };
  });
}

/**
 * For each step of a level, what a record of one shape holds for it: the candidate keys it has
 * (a step without a `fields` path), or `fields` path's key when that path is one own key of the
 * shape (read directly, it exists); `undefined`: walk the path (`at`).
 */
type Present = readonly (readonly string[] | undefined)[];

/** One level mapped into `mapped`; `used` collects the keys read, for passthrough. */
type LevelMapper = (record: Source, context: Context, used: Set<string> | undefined) => Source;

/** What the mapper learned about one shape of record: where each step reads, and its compiled code. */
interface ShapePlan {
  present: Present;
  compiled: LevelMapper | undefined;
}

const MAX_SHAPES = 32;

/**
 * Learns, per shape of plain record (its own keys), where each step finds its value, and compiles
 * it (see compileShape). The records of a page nearly always share one shape, so mapping one then
 * skips the dozens of aliases it does not have and runs straight-line code. Class instances (ORM
 * models) may expose fields through prototype getters: they take the general path.
 */
function shapePlanner(steps: readonly Step[]): (record: Source) => ShapePlan | undefined {
  const plans = new Map<string, ShapePlan>();
  let lastKeys: readonly string[] = [];
  let lastPlan: ShapePlan | undefined;
  return (record) => {
    const prototype = Object.getPrototypeOf(record);
    if (prototype !== Object.prototype && prototype !== null) return undefined;
    if (lastPlan && hasKeys(record, lastKeys)) return lastPlan;
    const keys = Object.keys(record);
    // Injective: a key may hold any character, so ['a', 'b'] and ['a\nb'] must not meet.
    const shape = JSON.stringify(keys);
    let plan = plans.get(shape);
    if (!plan) {
      const own = new Set(keys);
      const present = steps.map(({ path, segments, keys: candidates }) => {
        if (path === undefined) return candidates.filter((key) => own.has(key));
        return segments?.length === 1 && own.has(path) ? segments : undefined;
      });
      // Past MAX_SHAPES (records with ever-changing keys), plans are made per record, uncompiled.
      const kept = plans.size < MAX_SHAPES;
      plan = { present, compiled: kept ? compileShape(steps, present) : undefined };
      if (kept) plans.set(shape, plan);
    }
    lastKeys = keys;
    lastPlan = plan;
    return plan;
  };
}

/**
 * Whether a plain record's own enumerable keys are `keys`, in order, without making the array:
 * `for…in` lists them in Object.keys' order, then any inherited enumerable key, which makes one
 * more than `keys` holds (so no match).
 */
function hasKeys(record: Source, keys: readonly string[]): boolean {
  let index = 0;
  for (const key in record) {
    if (key !== keys[index]) return false;
    index++;
  }
  return index === keys.length;
}

/** Set once a runtime refuses code from text (a Content Security Policy, some edge runtimes). */
let codegenRefused = false;

/** Whether shapes are still compiled (see compileShape). Internal, for the tests. */
export const compilingShapes = () => !codegenRefused;

/**
 * One shape's plan as straight-line code, as ajv and fast-json-stringify do per schema: each step
 * reads its keys by name (the shape's candidates in order, the first non-empty one wins) and calls
 * its coercion directly, so V8 sees one record layout and one callee per line and inlines them,
 * where mapFields' loop makes every read and call site megamorphic. What each line does is
 * mapStep's work for that step; a step whose path needs a walk calls mapStep itself. The text holds
 * only JSON-quoted keys and field names. `undefined` where a runtime forbids `new Function`.
 */
function compileShape(steps: readonly Step[], present: Present): LevelMapper | undefined {
  if (codegenRefused) return undefined;
  const quote = (text: string) => JSON.stringify(text);
  const lines = steps.map(({ field, path }, index) => {
    const known = present[index];
    if (path !== undefined && known === undefined) return `step(${index}, r, ctx, u, m);`;
    if (known === undefined || known.length === 0) return '';
    const reads =
      path !== undefined
        ? `v = r[${quote(path)}]; n = ${quote(path)};`
        : known
            .map((key, at) => {
              const read = `v = r[${quote(key)}]; if (v !== undefined && v !== null && v !== '') n = ${quote(key)};`;
              return at === 0 ? read : `if (n === undefined) { ${read} }`;
            })
            .join(' ');
    return `n = undefined;
try {
  ${reads}
  if (n !== undefined) {
    if (u !== undefined) u.add(n);
    x = c${index}(v, ctx, ${quote(field)});
    if (x !== undefined) m[${quote(field)}] = x;
    else if (!isEmpty(v)) unread(ctx, n, v, ${quote(field)});
  }
} catch (error) {
  failed(ctx, n ?? ${quote(field)}, error);
}`;
  });
  const body = `${steps.map((_, index) => `const c${index} = coercers[${index}];`).join('\n')}
return function mapShape(r, ctx, u) {
  const m = {};
  let n, v, x;
${lines.filter(Boolean).join('\n')}
  return m;
};`;
  const step = (
    index: number,
    record: Source,
    context: Context,
    used: Set<string> | undefined,
    mapped: Source,
  ) => mapStep(record, steps[index] as Step, context, undefined, used, '', mapped);
  const unread = (context: Context, name: string, value: unknown, field: string) =>
    note(context, [{ path: name, reason: `${kindOf(value)} cannot be read as ${field}` }]);
  const failed = (context: Context, name: string, error: unknown) =>
    note(context, [{ path: name, reason: readFailure(error) }]);
  try {
    const factory = new Function('coercers', 'step', 'isEmpty', 'unread', 'failed', body);
    return factory(
      steps.map((each) => each.coerce),
      step,
      isEmpty,
      unread,
      failed,
    ) as LevelMapper;
  } catch {
    codegenRefused = true;
    return undefined;
  }
}

/** Whether a value holds nothing to send: no warning when its field is left out. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map || value instanceof Set) return value.size === 0;
  return (
    isRecord(value) && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === 0
  );
}

/** What kind of value a field held, for a warning: its type or class with an article, never its data. */
function kindOf(value: unknown): string {
  let kind: string = typeof value;
  if (Array.isArray(value)) kind = 'array';
  else if (typeof value === 'object' && value !== null) {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
      ?.name;
    if (typeof name === 'string' && name !== '' && name !== 'Object') kind = name;
  }
  return `${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind}`;
}

/**
 * Maps one step of a level into `mapped`. Empty values are left out silently; a value the field's
 * coercion cannot read (a Map as labels, text as a price) or whose reading throws is noted in
 * `context` under `prefix` + its name, e.g. `items[].quantity`.
 *
 * @param known What the record's shape holds for this step (see Present); `undefined`: try every
 *   candidate key, walk the `fields` path.
 */
function mapStep(
  record: Source,
  { field, keys, path, segments, coerce }: Step,
  context: Context,
  known: readonly string[] | undefined,
  used: Set<string> | undefined,
  prefix: string,
  mapped: Source,
): void {
  let name: string | undefined;
  let value: unknown;
  try {
    if (path === undefined) {
      const candidates = known ?? keys;
      for (let position = 0; position < candidates.length; position++) {
        const key = candidates[position] as string;
        const candidate = record[key];
        if (candidate !== undefined && candidate !== null && candidate !== '') {
          name = key;
          value = candidate;
          break;
        }
      }
      if (name === undefined) return;
    } else if (known !== undefined) {
      // Named once read, as `at` does: a getter that throws is reported under the field's name.
      value = record[path];
      name = path;
    } else {
      const found = at(record, segments as readonly string[]);
      if (!found.exists) {
        context.missingPaths ??= [];
        context.missingPaths.push(`${field} ← '${path}'`);
      }
      name = path;
      value = found.value;
    }
    used?.add(name);
    const coerced = coerce(value, context, prefix + field);
    if (coerced !== undefined) mapped[field] = coerced;
    else if (!isEmpty(value)) {
      note(context, [{ path: prefix + name, reason: `${kindOf(value)} cannot be read as ${field}` }]);
    }
  } catch (error) {
    // A getter or proxy of an ORM object that throws costs this field, not the page.
    note(context, [{ path: prefix + (name ?? field), reason: readFailure(error) }]);
  }
}

/** Maps one level of a record, step by step (see mapStep). */
function mapFields(
  record: Source,
  steps: readonly Step[],
  context: Context,
  present: Present | undefined,
  used?: Set<string>,
  prefix = '',
): Source {
  const mapped: Source = {};
  for (let index = 0; index < steps.length; index++) {
    mapStep(record, steps[index] as Step, context, present?.[index], used, prefix, mapped);
  }
  return mapped;
}

const text: Coercer = (value) => toText(value);
const money: Coercer = (value) => toMoney(value);

const ADDRESS_COERCERS: Record<string, Coercer> = {
  street: text,
  city: text,
  state: text,
  zip: text,
  country: text,
};
const ITEM_COERCERS: Record<string, Coercer> = {
  // An item's product is its id, or an object holding it; an id object (ObjectId) is the id itself.
  product_id: (value) =>
    toId(isRecord(value) && typeof value.toHexString !== 'function' && 'id' in value ? value.id : value),
  name: text,
  sku: text,
  quantity: (value) => toInteger(value),
  price: money,
};

const ITEM_STEPS = plan(ORDER_ITEM_ALIASES, ITEM_COERCERS);
const ADDRESS_STEPS = plan(ADDRESS_ALIASES, ADDRESS_COERCERS);

/**
 * One nested record (an order item, an address): a plain or class object, or a Map with string
 * keys (read as the object JSON would make of it). What it loses is noted under `path`.
 */
function nested(value: unknown, steps: readonly Step[], context: Context, path: string) {
  const record =
    value instanceof Map
      ? Object.fromEntries([...value].filter(([key]) => typeof key === 'string'))
      : isRecord(value)
        ? value
        : undefined;
  if (record === undefined) {
    if (!isEmpty(value)) note(context, [{ path, reason: `${kindOf(value)} is not a record` }]);
    return undefined;
  }
  const mapped = mapFields(record, steps, context, undefined, undefined, `${path}.`);
  return Object.keys(mapped).length > 0 ? mapped : undefined;
}

const PRODUCT_COERCERS: Record<string, Coercer> = {
  id: (value) => toId(value),
  name: text,
  description: text,
  short_description: text,
  sku: text,
  price: money,
  regular_price: money,
  sale_price: money,
  stock_status: (value) => toStockStatus(value),
  stock_quantity: (value) => toInteger(value),
  categories: (value) => toLabels(value),
  tags: (value) => toLabels(value),
  images: (value, { base }) => toImages(value, base),
  attributes: (value, context, path) => jsonField(toAttributes(value), context, path),
  permalink: (value, { base }) => toUrl(value, base),
  slug: (value) => toText(value)?.trim(),
};

const ORDER_COERCERS: Record<string, Coercer> = {
  id: (value) => toId(value),
  order_number: (value) => toId(value),
  status: text,
  total: money,
  subtotal: money,
  tax: money,
  shipping: money,
  currency: (value) => toText(value)?.trim().toUpperCase(),
  customer_email: (value) => toText(value)?.trim(),
  customer_name: text,
  // An array (a subclass too: copied, so its species and toJSON stay behind) or a Set of items;
  // items and addresses also from JSON text, as SQL columns without a JSON type hold them.
  items: (value, context, path) =>
    listItems(parsedJson(value))?.map((item) => nested(item, ITEM_STEPS, context, `${path}[]`) ?? {}),
  shipping_address: (value, context, path) => nested(parsedJson(value), ADDRESS_STEPS, context, path),
  billing_address: (value, context, path) => nested(parsedJson(value), ADDRESS_STEPS, context, path),
  payment_method: text,
  created_at: (value) => toIsoDate(value),
  updated_at: (value) => toIsoDate(value),
};

/**
 * Builds the function that turns one store record into the documented shape. The same function
 * serves the list endpoints and the webhook payloads, so both send the same fields.
 */
export function createRecordMapper<Source>(
  kind: RecordKind,
  mapping: RecordMapping<Source> = {},
  storeBaseUrl?: string,
): (source: Source) => MappedRecord {
  return recordMapper(kind, mapping, storeBaseUrl, true);
}

/**
 * The mapper without shape plans: every record read through every candidate key and `fields`
 * path walked, as a class instance is. Internal, for the property test that both paths agree.
 */
export function createGeneralRecordMapper<Source>(
  kind: RecordKind,
  mapping: RecordMapping<Source> = {},
  storeBaseUrl?: string,
): (source: Source) => MappedRecord {
  return recordMapper(kind, mapping, storeBaseUrl, false);
}

/** Text that encodeURIComponent leaves as it is (slugs nearly always are): no call needed. */
const URI_COMPONENT = /^[A-Za-z0-9\-_.!~*'()]*$/;

function recordMapper<Source>(
  kind: RecordKind,
  mapping: RecordMapping<Source>,
  storeBaseUrl: string | undefined,
  byShape: boolean,
): (source: Source) => MappedRecord {
  const aliases: Record<string, readonly string[]> = kind === 'products' ? PRODUCT_ALIASES : ORDER_ALIASES;
  const steps = plan(aliases, kind === 'products' ? PRODUCT_COERCERS : ORDER_COERCERS, mapping.fields);
  const base = storeBaseUrl?.replace(/\/+$/, '');
  const omit = new Set<string>(mapping.omit ?? []);
  const passthrough = mapping.passthrough ?? false;
  const planFor = byShape ? shapePlanner(steps) : () => undefined;

  return (source) => {
    const input = mapping.map ? mapping.map(source) : source;
    if (!isRecord(input)) return { record: {}, invalid: 'not an object' };
    // Which keys fed canonical fields matters only to passthrough, which must not send them twice.
    const used = passthrough === false ? undefined : new Set<string>();
    const context: Context = { base };
    let plan: ShapePlan | undefined;
    try {
      plan = planFor(input);
    } catch {
      // A proxy whose getPrototypeOf or ownKeys trap throws: every candidate key is read instead.
    }
    const mapped = plan?.compiled
      ? plan.compiled(input, context, used)
      : mapFields(input, steps, context, plan?.present, used);
    if (kind === 'products') {
      if (mapped.price === undefined) {
        const price = mapped.sale_price ?? mapped.regular_price;
        if (price !== undefined) mapped.price = price;
      }
      if (mapped.stock_status === undefined && typeof mapped.stock_quantity === 'number') {
        mapped.stock_status = mapped.stock_quantity > 0 ? 'in_stock' : 'out_of_stock';
      }
      if (mapped.permalink === undefined) {
        const permalink =
          toUrl(mapping.link?.(source)) ??
          (context.base && typeof mapped.slug === 'string'
            ? `${context.base}/product/${URI_COMPONENT.test(mapped.slug) ? mapped.slug : encodeURIComponent(mapped.slug)}`
            : undefined);
        if (permalink !== undefined) mapped.permalink = permalink;
      }
    }
    if (passthrough !== false) {
      let names: readonly string[] = [];
      try {
        names = passthrough === true ? Object.keys(input) : passthrough;
      } catch (error) {
        // A proxy whose ownKeys trap throws: the canonical fields above were read key by key.
        note(context, [{ path: '(passed-through fields)', reason: readFailure(error) }]);
      }
      for (const name of names) {
        if (Object.hasOwn(aliases, name) || used?.has(name)) continue;
        try {
          const value = jsonField(input[name], context, name);
          if (value !== undefined) setField(mapped, name, value);
        } catch (error) {
          note(context, [{ path: name, reason: readFailure(error) }]);
        }
      }
    }
    if (omit.size > 0) for (const field of omit) delete mapped[field];
    const result: MappedRecord = { record: mapped };
    const noName = kind === 'products' && mapped.name === undefined;
    if (mapped.id === undefined) result.invalid = noName ? 'no id and no name' : 'no id';
    else if (noName) result.invalid = 'no name';
    if (kind === 'products' && mapped.permalink === undefined && mapped.slug === undefined) {
      result.unlinked = true;
    }
    if (context.missingPaths) result.missingPaths = context.missingPaths;
    if (context.dropped) result.dropped = context.dropped;
    return result;
  };
}
