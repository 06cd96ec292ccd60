import type { CoreRequest } from '../http.js';
import { fingerprint, matchDigest, sha256 } from './compare.js';
import type { Guard } from './guard.js';

/**
 * Accepts requests whose `X-API-Key` header equals one of `keys`. A repeated header arrives as
 * one comma-joined or array value and so never matches.
 */
export function apiKeyGuard(keys: readonly string[]): Guard {
  const digests = keys.map((key) => sha256(key));
  return {
    authenticate(request: CoreRequest) {
      const presented = request.headers['x-api-key'];
      if (typeof presented !== 'string' || presented === '') return null;
      const match = matchDigest(presented, digests);
      return match ? { credentialId: fingerprint(match) } : null;
    },
  };
}
