import { timingSafeEqual } from 'node:crypto';
import { fingerprint, sha256 } from './compare.js';
import { type Credential, credentialDigest } from './credentials.js';
import type { Guard } from './guard.js';
import { parseBasic } from './headers.js';

export interface BasicUser {
  username: string;
  /** The password, or `sha256:<hex>` of it. */
  password: Credential;
}

/** Accepts `Authorization: Basic` for one of `users`; user and password are both always compared. */
export function basicGuard(users: readonly BasicUser[], realm: string): Guard {
  const expected = users.map((user) => ({
    username: sha256(user.username),
    password: credentialDigest(user.password),
  }));
  return {
    challenge: `Basic realm="${realm}", charset="UTF-8"`,
    authenticate(request) {
      const presented = parseBasic(request.headers.authorization);
      if (!presented) return null;
      const username = sha256(presented.username);
      const password = sha256(presented.password);
      let match: Buffer | undefined;
      for (const user of expected) {
        // Bitwise & rather than &&: both comparisons run whatever the first one says.
        const both =
          Number(timingSafeEqual(username, user.username)) & Number(timingSafeEqual(password, user.password));
        if (both === 1 && match === undefined) match = user.password;
      }
      return match ? { credentialId: fingerprint(sha256(Buffer.concat([username, match]))) } : null;
    },
  };
}
