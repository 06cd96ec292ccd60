import { hash } from 'node:crypto';

// The one-shot hash: half the time of a createHash() object, and it runs on every request.
export const sha256 = (value: string | Buffer): Buffer => hash('sha256', value, 'buffer');

/** Short, non-reversible name for a credential, fit for logs and rate-limit buckets. */
export const fingerprint = (digest: Buffer): string => digest.subarray(0, 6).toString('hex');
