import { createHash, timingSafeEqual } from 'node:crypto';

export const sha256 = (value: string | Buffer): Buffer => createHash('sha256').update(value).digest();

/** Short, non-reversible name for a credential, fit for logs and rate-limit buckets. */
export const fingerprint = (digest: Buffer): string => digest.subarray(0, 6).toString('hex');

/**
 * Finds which expected digest a presented secret matches. Comparing fixed-length digests keeps the
 * time independent of where the secret differs and of its length, and every candidate is compared
 * so the position of a match does not show either.
 */
export function matchDigest(presented: string, expected: readonly Buffer[]): Buffer | undefined {
  const digest = sha256(presented);
  let match: Buffer | undefined;
  for (const candidate of expected) {
    if (timingSafeEqual(digest, candidate) && match === undefined) match = candidate;
  }
  return match;
}
