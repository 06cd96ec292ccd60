/**
 * Coercions from whatever a store keeps to the documented canonical values. Each is total: any
 * input gives a canonical value or `undefined` (left out), never a throw; and canonical input
 * comes back unchanged.
 */
import type { StockStatus } from './schemas.js';

type Maybe<T> = T | undefined;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function toText(value: unknown): Maybe<string> {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint')
    return String(value);
  return undefined;
}

/**
 * Whether JSON.stringify writes `value` as its elements alone: an array of Array.prototype with no
 * `toJSON` of its own. A subclass, or an array given a `toJSON`, is stringified through that method.
 * May throw what a proxy trap throws.
 */
export const isPlainArray = (value: unknown[]) =>
  Object.getPrototypeOf(value) === Array.prototype && !Object.hasOwn(value, 'toJSON');

/** A non-empty string without surrounding spaces: a label or URL that needs no cleaning. */
const isCleanText = (value: unknown): value is string =>
  typeof value === 'string' && value !== '' && value.trim() === value;

const ABSOLUTE_URL = /^https?:\/\//i;

const isAbsoluteUrl = (value: unknown): value is string => isCleanText(value) && ABSOLUTE_URL.test(value);

/** A JSON array or object stored as text (a common way to keep lists in SQL columns), parsed. */
export function parsedJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  // Most text starts with a printable ASCII character other than `[` and `{`: no JSON, no regex.
  const first = value.charCodeAt(0);
  if (first > 32 && first < 127 && first !== 91 && first !== 123) return value;
  if (!/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * The text an object of a driver's own class stands for: `toHexString()` (MongoDB's ObjectId, bson's
 * UUID), else its own `toString()` (Decimal, big.js, a UUID class), unless that is JavaScript's
 * `[object …]`, empty, or the element list of an array or the local-time text of a Date.
 * May throw what the object's method throws.
 */
export function stringForm(value: object): Maybe<string> {
  const { toHexString } = value as { toHexString?: unknown };
  if (typeof toHexString === 'function') {
    const hex: unknown = toHexString.call(value);
    return typeof hex === 'string' && hex !== '' ? hex : undefined;
  }
  if (Array.isArray(value) || value instanceof Date || value.toString === Object.prototype.toString) {
    return undefined;
  }
  if (typeof value.toString !== 'function') return undefined;
  const text = String(value);
  return text === '' || /^\[object [^\]]*\]$/.test(text) ? undefined : text;
}

/**
 * Ids are strings: `42`, `42n` and `' 42 '` all become `'42'`; an id object (ObjectId, a UUID class)
 * becomes its {@link stringForm}, binary ids (a `Buffer`, as MySQL returns `BINARY(16)`) their hex.
 */
export function toId(value: unknown): Maybe<string> {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : toText(value);
  if (typeof value !== 'object' || value === null) return toText(value)?.trim();
  if (value instanceof Uint8Array) return value.length > 0 ? Buffer.from(value).toString('hex') : undefined;
  try {
    return toText(stringForm(value))?.trim();
  } catch {
    return undefined;
  }
}

// "349.99", "$349.99", "USD 349.99", "€ 1,299.50", "349.99 EUR"
const MONEY = /^(?:[A-Za-z]{3}\s*|[$€£¥₹]\s*)?(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?:\s*[A-Za-z]{3})?$/;

const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;

// decimal.js, Prisma's Decimal and big.js print exponent notation past 1e21 or below 1e-7.
const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i;

/**
 * A number in a form a database driver returns one: a finite number; a bigint within ±(2^53 − 1)
 * (Prisma's BigInt, pg's int8 parsed as BigInt, better-sqlite3's `safeIntegers`); or a Decimal-like
 * object (Prisma's Decimal, decimal.js, big.js) whose `toString()` is a decimal number, exponent
 * notation included. Anything else, or a bigint beyond the safe range, gives `undefined`.
 */
export function toNumber(value: unknown): Maybe<number> {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : undefined;
  }
  if (!isRecord(value) || value instanceof Date) return undefined;
  try {
    const text = stringForm(value)?.trim();
    const number = text !== undefined && DECIMAL_TEXT.test(text) ? Number(text) : undefined;
    return number !== undefined && Number.isFinite(number) ? number : undefined;
  } catch {
    return undefined;
  }
}

/** Prices as numbers, from numbers, numeric or currency-prefixed strings, bigints and Decimal-like objects. */
export function toMoney(value: unknown): Maybe<number> {
  if (typeof value === 'string') {
    // Plain decimal text, as DECIMAL columns come back ('399.99'): MONEY's digits are the whole text.
    if (PLAIN_DECIMAL.test(value)) return Number(value);
    const digits = MONEY.exec(value.trim())?.[1];
    return digits === undefined ? undefined : Number(digits.replaceAll(',', ''));
  }
  const number = toNumber(value);
  if (number !== undefined || !isRecord(value)) return number;
  // A money class whose text carries a currency ("$349.99").
  try {
    const text = stringForm(value);
    return text === undefined ? undefined : toMoney(text);
  } catch {
    return undefined;
  }
}

export function toInteger(value: unknown): Maybe<number> {
  const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : toMoney(value);
  return number !== undefined && Number.isSafeInteger(Math.trunc(number)) ? Math.trunc(number) : undefined;
}

// A Map, not an object: a row's text such as `constructor` must not find Object.prototype's members.
const STOCK_SPELLINGS = new Map<string, StockStatus>();
for (const [status, spellings] of Object.entries({
  in_stock: ['in_stock', 'instock', 'in stock', 'in-stock', 'available', 'true', '1', 'yes'],
  out_of_stock: [
    'out_of_stock',
    'outofstock',
    'out of stock',
    'out-of-stock',
    'unavailable',
    'sold_out',
    'soldout',
    'false',
    '0',
    'no',
  ],
  on_backorder: ['on_backorder', 'onbackorder', 'backorder', 'backordered', 'on backorder'],
  preorder: ['preorder', 'pre_order', 'pre-order'],
})) {
  for (const spelling of spellings) STOCK_SPELLINGS.set(spelling, status as StockStatus);
}

/**
 * A stock status from its spellings, a boolean, or 1 / 0 in any driver number form (a TINYINT(1)
 * as a number, SQLite's integer as a bigint, a Decimal), see {@link toNumber}.
 */
export function toStockStatus(value: unknown): Maybe<StockStatus> {
  if (typeof value === 'boolean') return value ? 'in_stock' : 'out_of_stock';
  if (typeof value !== 'string') {
    const number = toNumber(value);
    return number === 1 ? 'in_stock' : number === 0 ? 'out_of_stock' : undefined;
  }
  return STOCK_SPELLINGS.get(value.trim().toLowerCase());
}

/**
 * An array that needs no copy: of Array.prototype, without a `toJSON` of its own (JSON.stringify
 * would call that), and every element canonical. A proxy whose trap throws is not.
 */
function canonicalArray(value: unknown, element: (item: unknown) => boolean): value is string[] {
  try {
    return Array.isArray(value) && value.length > 0 && isPlainArray(value) && value.every(element);
  } catch {
    return false;
  }
}

/**
 * The elements of a list a store keeps: an array (a subclass too) or a Set, always as a fresh plain
 * array (`Array.from`, so a subclass's species and `toJSON` do not come along); anything else,
 * `undefined`.
 */
export function listItems(value: unknown): Maybe<unknown[]> {
  return Array.isArray(value) || value instanceof Set ? Array.from(value as Iterable<unknown>) : undefined;
}

/** Labels from an array or Set (of strings, ids or `{ name }` objects) or a comma-separated string. */
export function toLabels(value: unknown): Maybe<string[]> {
  // Already canonical, as most stores keep them: returned as is, without a copy.
  if (canonicalArray(value, isCleanText)) return value;
  const json = parsedJson(value);
  const parts = typeof json === 'string' ? json.split(',') : (listItems(json) ?? []);
  const labels: string[] = [];
  for (const part of parts) {
    // Text (nearly every label) is trimmed once; toText would only check what trim() gives anyway.
    const label =
      typeof part === 'string'
        ? part.trim()
        : (isRecord(part) ? toText(part.name ?? part.title ?? part.label) : toText(part))?.trim();
    if (label !== undefined && label !== '') labels.push(label);
  }
  return labels.length > 0 ? labels : undefined;
}

/**
 * Image URLs from a string (one URL, or several separated by commas), a JSON array as text, or an
 * array or Set of strings or `{ url | src }` objects; relative ones resolved against `base`.
 */
export function toImages(value: unknown, base?: string): Maybe<string[]> {
  if (canonicalArray(value, isAbsoluteUrl)) return value;
  const json = parsedJson(value);
  const parts = listItems(json) ?? (typeof json === 'string' ? splitUrls(json) : [json]);
  const join = base === undefined ? undefined : joinerFor(base);
  const urls: string[] = [];
  for (const part of parts) {
    const text = isRecord(part) ? toText(part.url ?? part.src) : toText(part);
    const url = text === undefined ? undefined : (join?.(text) ?? toUrl(text, base));
    if (url !== undefined) urls.push(url);
  }
  return urls.length > 0 ? urls : undefined;
}

// Split only where every piece is itself a URL or a path: a comma may also belong to one URL.
function splitUrls(text: string): string[] {
  const pieces = text.split(/\s*,\s*/);
  return pieces.length > 1 && pieces.every((piece) => /^(https?:\/\/|\/)/i.test(piece)) ? pieces : [text];
}

/**
 * A relative path made only of characters the URL parser keeps as they are (no `%`, `\\`, `:`,
 * `?`, `#`, spaces or controls), not starting with `.`; {@link joinerFor} also requires no `//`
 * start and no `/.` (so no `.` or `..` segment): resolving it against a base is then joining text.
 */
const PLAIN_PATH = /^[A-Za-z0-9\-_~!$&'()*+,;=@/][A-Za-z0-9\-._~!$&'()*+,;=@/]*$/;

/** The last base URL's joiner: a store has one base URL, so one is kept. */
let lastJoiner: { base: string; join: ((path: string) => string | undefined) | undefined } | undefined;

/**
 * Resolves a {@link PLAIN_PATH} against `base` by joining text: the root-relative ones to the
 * base's origin, the others to the base itself, both as `new URL(…, base + '/')` serializes them
 * (so the host comes out lower-cased, a default port dropped). `undefined` for any other text, and
 * for a base that is no http(s) URL or carries a query or fragment: `toUrl` decides those.
 */
function joinerFor(base: string): ((path: string) => string | undefined) | undefined {
  if (lastJoiner?.base === base) return lastJoiner.join;
  let join: ((path: string) => string | undefined) | undefined;
  try {
    const resolved = new URL(`${base}/`);
    // The root URL without its final slash, which a root-relative path brings.
    const root = new URL('/', resolved).href.slice(0, -1);
    if (/^https?:$/.test(resolved.protocol) && resolved.search === '' && resolved.hash === '') {
      const own = resolved.href;
      join = (path) => {
        if (!PLAIN_PATH.test(path) || path.startsWith('//') || path.includes('/.')) return undefined;
        return path[0] === '/' ? root + path : own + path;
      };
    }
  } catch {
    // Not a URL: toUrl leaves every relative path out.
  }
  lastJoiner = { base, join };
  return join;
}

/** An absolute URL as is, or a relative one resolved against `base`; anything else is left out. */
export function toUrl(value: unknown, base?: string): Maybe<string> {
  const text = toText(value)?.trim();
  if (text === undefined) return undefined;
  if (ABSOLUTE_URL.test(text)) return text;
  if (base === undefined) return undefined;
  const joined = joinerFor(base)?.(text);
  if (joined !== undefined) return joined;
  try {
    return new URL(text, `${base}/`).toString();
  } catch {
    return undefined;
  }
}

/**
 * ISO 8601 in UTC, from a Date, a date string, or epoch seconds or milliseconds (below 1e11 in
 * magnitude: seconds) as a number, digit text, or any driver number form ({@link toNumber}: a safe
 * bigint from an int8 column, a Decimal).
 */
export function toIsoDate(value: unknown): Maybe<string> {
  let date: Date | undefined;
  const epoch = value instanceof Date || typeof value === 'string' ? undefined : toNumber(value);
  if (value instanceof Date) date = value;
  else if (epoch !== undefined) date = new Date(Math.abs(epoch) < 1e11 ? epoch * 1000 : epoch);
  else if (typeof value === 'string' && value.trim() !== '') {
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) date = new Date(Number(trimmed) * (trimmed.length <= 11 ? 1000 : 1));
    // A date and time without a zone, as SQL databases print them, is UTC, never the server's zone.
    else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed)) {
      date = new Date(`${trimmed.replace(' ', 'T')}Z`);
    } else date = new Date(trimmed);
  }
  if (date === undefined || Number.isNaN(date.getTime())) return undefined;
  try {
    return date.toISOString();
  } catch {
    return undefined;
  }
}

/** Key-value attributes: an object or an array as they are, a Map as an object. */
export function toAttributes(input: unknown): Maybe<Record<string, unknown> | unknown[]> {
  const value = parsedJson(input);
  if (value instanceof Map) {
    // Only keys that are already names: an object key has no meaningful attribute name.
    const entries = [...value].filter(([key]) => typeof key === 'string' || typeof key === 'number');
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  if (Array.isArray(value)) return value.length > 0 ? value : undefined;
  if (isRecord(value) && !(value instanceof Date)) return Object.keys(value).length > 0 ? value : undefined;
  return undefined;
}
