import { fingerprint, matchDigest } from './compare.js';
import { type Credential, credentialDigest } from './credentials.js';
import type { Guard } from './guard.js';
import { parseBearer } from './headers.js';

/** Accepts `Authorization: Bearer <token>` with one of the static `tokens`. */
export function bearerGuard(tokens: readonly Credential[], realm: string): Guard {
  const digests = tokens.map(credentialDigest);
  return {
    challenge: `Bearer realm="${realm}"`,
    authenticate(request) {
      const token = parseBearer(request.headers.authorization);
      const match = token === null ? undefined : matchDigest(token, digests);
      return match ? { credentialId: fingerprint(match) } : null;
    },
  };
}
