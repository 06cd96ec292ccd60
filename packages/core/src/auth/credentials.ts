import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fingerprint, sha256 } from './compare.js';
import type { Principal } from './guard.js';

/**
 * A configured secret: the raw value, or `sha256:<64 hex digits>`, the SHA-256 digest of it, so
 * that the raw value need not be stored anywhere on the store's side.
 */
export type Credential = string;

// Either case, whitespace around it ignored: a digest holds none (auth/review.ts warns about it).
const DIGEST = /^\s*sha256:([0-9a-f]{64})\s*$/i;

/** The SHA-256 digest every comparison works on, whichever form the credential was given in. */
export function credentialDigest(credential: Credential): Buffer {
  const digest = DIGEST.exec(credential)?.[1];
  return digest ? Buffer.from(digest, 'hex') : sha256(credential);
}

/**
 * Finds which configured secret a presented one is. Comparing fixed-length digests keeps the time
 * independent of where the secret differs and of its length, and every candidate is compared so
 * the position of a match does not show either. Each principal is built once, not per request.
 */
export function secretMatcher(credentials: readonly Credential[]): (presented: string) => Principal | null {
  const digests = credentials.map(credentialDigest);
  const principals = credentials.map((credential) => ({ credentialId: credentialIdOf(credential) }));
  return (presented) => {
    const digest = sha256(presented);
    let match: Principal | null = null;
    for (const [index, candidate] of digests.entries()) {
      if (timingSafeEqual(digest, candidate) && match === null) match = principals[index] ?? null;
    }
    return match;
  };
}

/** The `credentialId` a request presenting this API key or bearer token is given. */
export const credentialIdOf = (credential: Credential): string => fingerprint(credentialDigest(credential));

export const isBlank = (credential: string) => credential.trim() === '';

/** A random secret for any auth method: `prefix` plus 32 random bytes (256 bits) as hex. */
export function keygen(prefix = 'hwk_live_'): { key: string; digest: string } {
  const key = `${prefix}${randomBytes(32).toString('hex')}`;
  return { key, digest: `sha256:${sha256(key).toString('hex')}` };
}
