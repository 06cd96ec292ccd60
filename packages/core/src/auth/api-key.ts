import { type Credential, secretMatcher } from './credentials.js';
import type { Guard } from './guard.js';

/**
 * Accepts requests whose `X-API-Key` header equals one of `keys`. A repeated header arrives as
 * one comma-joined value and so never matches.
 */
export function apiKeyGuard(keys: readonly Credential[]): Guard {
  const match = secretMatcher(keys);
  return {
    authenticate(request) {
      const presented = request.headers['x-api-key'];
      if (typeof presented !== 'string' || presented === '') return null;
      return match(presented);
    },
  };
}
