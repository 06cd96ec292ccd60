import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * The HMAC key a secret stands for: Standard Webhooks secrets (`whsec_<base64>`) are the bytes the
 * base64 encodes; any other secret is its UTF-8 bytes. Both signatures use the same key.
 */
export function signingKey(secret: string): Buffer {
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

/** Request headers as Node, Express, Fastify and Koa give them, or a Fetch `Headers`. */
export type WebhookHeaders = Record<string, string | string[] | undefined> | Headers;

const header = (headers: WebhookHeaders, name: string) => {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const plain = headers as Record<string, string | string[] | undefined>;
  const value = plain[name] ?? plain[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

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

/** The body as bytes; a TypeError that says what to pass for anything else. */
function rawBytes(rawBody: unknown): Buffer {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (rawBody instanceof Uint8Array)
    return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  if (rawBody instanceof ArrayBuffer) return Buffer.from(rawBody);
  const parsed =
    typeof rawBody === 'object' && rawBody !== null
      ? ': a body already parsed as JSON, whose exact bytes are gone'
      : '';
  throw new TypeError(
    `verifyWebhook: rawBody must be the request body exactly as received, as a Buffer or string (got ${kindOf(rawBody)}${parsed}). ${RAW_BODY_HOWTO}.`,
  );
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a received webhook against `secret`: the Standard Webhooks signature when its headers are
 * there (rejecting timestamps more than `toleranceSeconds` away, against replays), otherwise
 * `X-Webhook-Signature`. `rawBody` must be the bytes as received, before any JSON parsing (a
 * Buffer, Uint8Array, ArrayBuffer or string); `headers` the request's headers (`req.headers`,
 * `ctx.headers`, or a Fetch `Headers`). Throws a TypeError that says what to pass when `rawBody`
 * is anything else (a parsed object, `undefined`), when `headers` is not an object, or when
 * `secret` is missing or empty (an empty key would accept signatures anyone can make).
 */
export function verifyWebhook(
  rawBody: string | Buffer | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret: string,
  { toleranceSeconds = 300, now = Date.now() }: { toleranceSeconds?: number; now?: number } = {},
): VerifyResult {
  if (typeof secret !== 'string' || secret === '') {
    throw new TypeError(
      `verifyWebhook: secret is missing (got ${secret === '' ? 'an empty string' : kindOf(secret)}): pass the webhook secret from the HiWelink dashboard, usually process.env.HIWELINK_WEBHOOK_SECRET (is it set in this process?)`,
    );
  }
  if (typeof headers !== 'object' || headers === null) {
    throw new TypeError(
      `verifyWebhook: headers must be the request's headers object (req.headers in Express and Fastify, ctx.headers in Koa, or a Fetch Headers), got ${kindOf(headers)}`,
    );
  }
  const body = rawBytes(rawBody);
  const key = signingKey(secret);
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
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
  const signature = header(headers, 'x-webhook-signature');
  if (!signature) return { ok: false, reason: 'no signature headers' };
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(signature)?.[1];
  if (!hex) return { ok: false, reason: 'X-Webhook-Signature is not sha256=<hex>' };
  const expected = createHmac('sha256', key).update(body).digest();
  return sameBytes(Buffer.from(hex, 'hex'), expected)
    ? { ok: true, scheme: 'hmac-sha256' }
    : { ok: false, reason: 'signature mismatch' };
}
