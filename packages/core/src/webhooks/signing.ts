import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * The HMAC key a secret stands for: Standard Webhooks secrets (`whsec_<base64>`) are the bytes the
 * base64 encodes; any other secret is its UTF-8 bytes. Both signatures use the same key.
 * Whitespace around the secret is ignored. Throws when a `whsec_` secret is not base64.
 */
export function signingKey(given: string): Buffer {
  // A secret read from a file or a Kubernetes secret often ends in a newline that the other side
  // (HiWelink's dashboard, the receiver's copy) does not have: signed with it, every event would
  // fail verification. Both sides trim, so sender and receiver agree.
  const secret = given.trim();
  if (!secret.startsWith('whsec_')) return Buffer.from(secret, 'utf8');
  const encoded = secret.slice(6);
  // Node decodes base64 leniently; a typo must not silently become a short or empty key.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new Error(
      'a whsec_ secret must be whsec_ followed by base64, as the Standard Webhooks spec defines',
    );
  }
  return Buffer.from(encoded, 'base64');
}

const ID_BYTES = 16;
// One randomFillSync per 256 ids: drawing 16 bytes at a time costs about 8 µs an id, on the
// caller's path of every emit. Each byte is still used once.
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

/** A new `webhook-id`: `msg_` and 128 random bits in hex. */
export function newWebhookId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return `msg_${idPool.toString('hex', idOffset - ID_BYTES, idOffset)}`;
}

/** Headers that sign `body` (the exact bytes sent) for delivery attempt at `timestamp` (Unix seconds). */
export function signatureHeaders(
  body: string,
  key: Buffer,
  id: string,
  timestamp: number,
): Record<string, string> {
  const hex = createHmac('sha256', key).update(body).digest('hex');
  const standard = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'x-webhook-signature': `sha256=${hex}`,
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${standard}`,
  };
}

export type VerifyResult =
  | { ok: true; scheme: 'standard-webhooks' | 'hmac-sha256' }
  | { ok: false; reason: string };

/**
 * Request headers as Node, Express, Fastify and Koa give them (`req.headers`), a Fetch `Headers`,
 * a `Map`, an object with other capitalisation (AWS Lambda's `event.headers`), or Node's flat
 * `req.rawHeaders` list (`[name, value, name, value, ...]`). Names match in any case (RFC 9110 §5.1).
 */
export type WebhookHeaders =
  | Record<string, string | number | readonly string[] | undefined>
  | Headers
  | ReadonlyMap<string, string | number | readonly string[] | undefined>
  | readonly string[];

type Lookup = (name: string) => unknown;

/** A case-insensitive lookup over any `WebhookHeaders` form; a TypeError for anything else. */
function headerLookup(headers: unknown): Lookup {
  if (typeof headers !== 'object' || headers === null) {
    throw new TypeError(
      `verifyWebhook: headers must be the request's headers object (req.headers in Express and Fastify, ctx.headers in Koa, or a Fetch Headers), got ${kindOf(headers)}`,
    );
  }
  if (typeof (headers as Headers).get === 'function' && !(headers instanceof Map))
    return (name) => (headers as Headers).get(name) ?? undefined;
  const byName = new Map<string, unknown>();
  const add = (name: unknown, value: unknown) => {
    // The first occurrence wins, as it does in `req.headers` for these single-valued fields.
    if (typeof name === 'string' && !byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), value);
  };
  if (Array.isArray(headers)) {
    if (headers.length % 2 !== 0 || headers.some((item) => typeof item !== 'string')) {
      throw new TypeError(
        "verifyWebhook: an array of headers must be Node's req.rawHeaders ([name, value, name, value, ...], all strings); pass req.headers instead",
      );
    }
    for (let index = 0; index < headers.length; index += 2) add(headers[index], headers[index + 1]);
  } else if (headers instanceof Map) {
    for (const [name, value] of headers) add(name, value);
  } else {
    for (const [name, value] of Object.entries(headers)) add(name, value);
  }
  return (name) => byName.get(name);
}

/** One header's value as text: a list gives its first value; a number its digits; else a TypeError. */
function header(lookup: Lookup, name: string): string | undefined {
  const raw = lookup(name);
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === null || typeof value === 'string') return value ?? undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`verifyWebhook: the ${name} header must be text, got ${kindOf(value)}`);
}

const kindOf = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : typeof value === 'undefined'
          ? 'undefined'
          : `a ${typeof value}`;

/** How to get the raw body in each framework; the error for a parsed or missing one says it. */
const RAW_BODY_HOWTO =
  "Express: express.raw({ type: 'application/json' }) on the route, then req.body; " +
  "Fastify: app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body)), then req.body; " +
  "Koa: read ctx.req to the end into a Buffer before any body parser (or koa-bodyparser's ctx.request.rawBody)";

/** Whether `value` is a stream (an `http.IncomingMessage`, a Fetch `ReadableStream`): bytes still to read. */
const isStream = (value: object) =>
  typeof (value as { pipe?: unknown }).pipe === 'function' ||
  typeof (value as { getReader?: unknown }).getReader === 'function';

/** The body as bytes; a TypeError that says what to pass for anything else. */
function rawBytes(rawBody: unknown): Buffer {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  // Any view: Buffer, Uint8Array and other typed arrays, DataView.
  if (ArrayBuffer.isView(rawBody)) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  if (rawBody instanceof ArrayBuffer || rawBody instanceof SharedArrayBuffer) return Buffer.from(rawBody);
  const what =
    typeof rawBody === 'object' && rawBody !== null
      ? isStream(rawBody)
        ? ': a stream, not yet read; read it to the end into a Buffer and pass that'
        : ': a body already parsed as JSON, whose exact bytes are gone'
      : '';
  throw new TypeError(
    `verifyWebhook: rawBody must be the request body exactly as received, as a Buffer or string (got ${kindOf(rawBody)}${what}). ${RAW_BODY_HOWTO}.`,
  );
}

/** The HMAC key: a string secret as `signingKey` reads it, or bytes used as they are. */
function keyOf(secret: unknown): Buffer {
  if (typeof secret === 'string' && secret !== '') return signingKey(secret);
  if (ArrayBuffer.isView(secret) && secret.byteLength > 0)
    return Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
  const got =
    secret === '' || (ArrayBuffer.isView(secret) && secret.byteLength === 0)
      ? 'empty'
      : secret === undefined || secret === null
        ? kindOf(secret)
        : `${kindOf(secret)}, not a string or Buffer`;
  throw new TypeError(
    `verifyWebhook: secret is missing (got ${got}): pass the webhook secret from the HiWelink dashboard, usually process.env.HIWELINK_WEBHOOK_SECRET (is it set in this process?)`,
  );
}

/** The options, checked: a wrong number must never turn the replay check off (NaN compares false). */
function checkedOptions(options: unknown): { toleranceSeconds: number; now: number } {
  if (options === undefined) return { toleranceSeconds: 300, now: Date.now() };
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `verifyWebhook: options must be an object ({ toleranceSeconds, now }) or left out, got ${kindOf(options)}`,
    );
  }
  const { toleranceSeconds = 300, now = Date.now() } = options as Record<string, unknown>;
  if (typeof toleranceSeconds !== 'number' || !Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError(
      `verifyWebhook: toleranceSeconds must be a finite number of seconds, 0 or more (got ${typeof toleranceSeconds === 'number' ? toleranceSeconds : kindOf(toleranceSeconds)})`,
    );
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError(
      `verifyWebhook: now must be a finite time in ms since the epoch, as Date.now() gives (got ${typeof now === 'number' ? now : kindOf(now)})`,
    );
  }
  return { toleranceSeconds, now };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a received webhook against `secret`: the Standard Webhooks signature when its headers are
 * there (rejecting timestamps more than `toleranceSeconds` away, against replays), otherwise
 * `X-Webhook-Signature`. `rawBody` must be the bytes as received, before any JSON parsing (a
 * Buffer or any typed array, DataView, ArrayBuffer, SharedArrayBuffer or string); `headers` the
 * request's headers in any of the `WebhookHeaders` forms, names in any case. `secret` is the
 * dashboard's secret as a string (`whsec_<base64>` or any text), or the key's bytes as a Buffer.
 * `toleranceSeconds` (default 300, finite, 0 or more) and `now` (ms since the epoch, default
 * `Date.now()`) must be finite numbers.
 *
 * Throws a TypeError that says what to pass when `rawBody` is anything else (a parsed object, a
 * stream not yet read, `undefined`), when `headers` is not one of those forms or a signature
 * header is not text, when `secret` is missing or empty (an empty key would accept signatures
 * anyone can make), or when an option is not a valid number: a bad option never turns the
 * timestamp check off.
 */
export function verifyWebhook(
  rawBody: string | Buffer | ArrayBufferView | ArrayBuffer | SharedArrayBuffer,
  headers: WebhookHeaders,
  secret: string | Buffer | Uint8Array,
  options?: { toleranceSeconds?: number; now?: number },
): VerifyResult {
  const key = keyOf(secret);
  const lookup = headerLookup(headers);
  const { toleranceSeconds, now } = checkedOptions(options);
  const body = rawBytes(rawBody);
  const id = header(lookup, 'webhook-id');
  const timestamp = header(lookup, 'webhook-timestamp');
  const signatures = header(lookup, 'webhook-signature');
  if (id !== undefined || timestamp !== undefined || signatures !== undefined) {
    if (!id || !timestamp || !signatures)
      return { ok: false, reason: 'incomplete Standard Webhooks headers' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time' };
    if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) {
      return { ok: false, reason: 'webhook-timestamp is outside the tolerance' };
    }
    const expected = createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]))
      .digest();
    const match = signatures
      .split(' ')
      .some(
        (candidate) =>
          candidate.startsWith('v1,') && sameBytes(Buffer.from(candidate.slice(3), 'base64'), expected),
      );
    return match ? { ok: true, scheme: 'standard-webhooks' } : { ok: false, reason: 'signature mismatch' };
  }
  const signature = header(lookup, 'x-webhook-signature');
  if (!signature) return { ok: false, reason: 'no signature headers' };
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1];
  if (!hex) return { ok: false, reason: 'X-Webhook-Signature is not sha256=<hex>' };
  const expected = createHmac('sha256', key).update(body).digest();
  return sameBytes(Buffer.from(hex, 'hex'), expected)
    ? { ok: true, scheme: 'hmac-sha256' }
    : { ok: false, reason: 'signature mismatch' };
}
