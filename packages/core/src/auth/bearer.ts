import { type Credential, secretMatcher } from './credentials.js';
import type { Guard } from './guard.js';
import { parseBearer } from './headers.js';

/** Accepts `Authorization: Bearer <token>` with one of the static `tokens`. */
export function bearerGuard(tokens: readonly Credential[], realm: string): Guard {
  const match = secretMatcher(tokens);
  return {
    challenge: `Bearer realm="${realm}"`,
    authenticate(request) {
      const token = parseBearer(request.headers.authorization);
      return token === null ? null : match(token);
    },
  };
}
