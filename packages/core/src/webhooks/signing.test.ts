import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signatureHeaders, signingKey, verifyWebhook } from './signing.js';

const NOW = 1_795_000_000_000;
const timestamp = NOW / 1000;

describe('signingKey', () => {
  it('decodes whsec_ secrets as base64 and takes any other secret as UTF-8', () => {
    expect(signingKey(`whsec_${Buffer.from('key bytes').toString('base64')}`).toString()).toBe('key bytes');
    expect(signingKey('pässword').equals(Buffer.from('pässword', 'utf8'))).toBe(true);
  });

  it.each(['whsec_', 'whsec_not base64!', 'whsec_abc'])(
    'refuses %j instead of signing with a broken key',
    (secret) => {
      expect(() => signingKey(secret)).toThrow('a whsec_ secret must be whsec_ followed by base64');
    },
  );
});

describe('verifyWebhook', () => {
  it('accepts what signatureHeaders signed, and nothing with a changed byte', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.nat(),
        (body, secret, flip) => {
          const headers = signatureHeaders(body, signingKey(secret), 'msg_1', timestamp);
          expect(verifyWebhook(body, headers, secret, { now: NOW }).ok).toBe(true);
          const bytes = Buffer.from(body);
          bytes[flip % bytes.length] = (bytes[flip % bytes.length] ?? 0) ^ 1;
          expect(verifyWebhook(bytes, headers, secret, { now: NOW }).ok).toBe(false);
        },
      ),
    );
  });

  const body = '{"event":"product.updated","data":{"id":"1"}}';
  const signed = signatureHeaders(body, signingKey('secret'), 'msg_1', timestamp);

  it.each<[string, Record<string, string>, string]>([
    ['no signature at all', {}, 'no signature headers'],
    ['only a webhook-id', { 'webhook-id': 'msg_1' }, 'incomplete Standard Webhooks headers'],
    [
      'a timestamp that is not a number',
      { ...signed, 'webhook-timestamp': 'soon' },
      'webhook-timestamp is not a Unix time',
    ],
    [
      'a stale timestamp',
      { ...signed, 'webhook-timestamp': String(timestamp - 301) },
      'webhook-timestamp is outside the tolerance',
    ],
    ['another message id', { ...signed, 'webhook-id': 'msg_2' }, 'signature mismatch'],
    [
      'a v2 signature',
      { ...signed, 'webhook-signature': signed['webhook-signature']?.replace('v1,', 'v2,') ?? '' },
      'signature mismatch',
    ],
    [
      'a hex signature without its prefix',
      { 'x-webhook-signature': 'abc' },
      'X-Webhook-Signature is not sha256=<hex>',
    ],
    ['a wrong hex signature', { 'x-webhook-signature': `sha256=${'0'.repeat(64)}` }, 'signature mismatch'],
  ])('refuses %s', (_case, headers, reason) => {
    expect(verifyWebhook(body, headers, 'secret', { now: NOW })).toEqual({ ok: false, reason });
  });

  it('accepts one valid signature among several, as during a key rotation', () => {
    const rotated = `v1,${Buffer.from('old').toString('base64')} ${signed['webhook-signature']}`;
    expect(verifyWebhook(body, { ...signed, 'webhook-signature': rotated }, 'secret', { now: NOW }).ok).toBe(
      true,
    );
  });
});
