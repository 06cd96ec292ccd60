import { timingSafeEqual } from 'node:crypto';
import { fingerprint, sha256 } from './compare.js';
import { type Credential, credentialDigest } from './credentials.js';
import type { Guard, Principal } from './guard.js';
import { parseBasic } from './headers.js';

export interface BasicUser {
  username: string;
  /** The password, or `sha256:<hex>` of it. */
  password: Credential;
}

/** The `credentialId` a request signing in as `user` is given: user and password together. */
export const basicCredentialId = (user: BasicUser): string =>
  fingerprint(sha256(Buffer.concat([sha256(user.username), credentialDigest(user.password)])));

/** Accepts `Authorization: Basic` for one of `users`; user and password are both always compared. */
export function basicGuard(users: readonly BasicUser[], realm: string): Guard {
  const expected = users.map((user) => ({
    username: sha256(user.username),
    password: credentialDigest(user.password),
    principal: { credentialId: basicCredentialId(user) },
  }));
  return {
    challenge: `Basic realm="${realm}", charset="UTF-8"`,
    authenticate(request) {
      const presented = parseBasic(request.headers.authorization);
      if (!presented) return null;
      const username = sha256(presented.username);
      const password = sha256(presented.password);
      let match: Principal | null = null;
      for (const user of expected) {
        // Bitwise & rather than &&: both comparisons run whatever the first one says.
        const both =
          Number(timingSafeEqual(username, user.username)) & Number(timingSafeEqual(password, user.password));
        if (both === 1 && match === null) match = user.principal;
      }
      return match;
    },
  };
}
