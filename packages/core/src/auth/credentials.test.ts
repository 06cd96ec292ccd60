import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialDigest, keygen } from './credentials.js';

describe('keygen', () => {
  it('makes prefixed 256-bit keys, each different, with the digest to store instead', () => {
    const keys = Array.from({ length: 50 }, () => keygen());
    expect(new Set(keys.map(({ key }) => key)).size).toBe(50);
    for (const { key, digest } of keys) {
      expect(key).toMatch(/^hwk_live_[0-9a-f]{64}$/);
      expect(digest).toBe(`sha256:${createHash('sha256').update(key).digest('hex')}`);
      expect(credentialDigest(digest).equals(credentialDigest(key))).toBe(true);
    }
    expect(keygen('sk_test_').key).toMatch(/^sk_test_[0-9a-f]{64}$/);
  });
});

describe('credentialDigest', () => {
  it('reads sha256:<hex> in either case and hashes anything else', () => {
    const hex = createHash('sha256').update('secret').digest('hex');
    expect(credentialDigest(`sha256:${hex.toUpperCase()}`).toString('hex')).toBe(hex);
    expect(credentialDigest('secret').toString('hex')).toBe(hex);
    // Not a 64-digit digest: taken as a raw secret.
    expect(credentialDigest('sha256:abc').toString('hex')).toBe(
      createHash('sha256').update('sha256:abc').digest('hex'),
    );
  });
});
