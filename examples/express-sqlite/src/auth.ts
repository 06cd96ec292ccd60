import type { HiwelinkOptions } from '@hiwelink/express';
import { SignJWT } from 'jose';
import type { AuthConfig } from './config.js';

type AuthOptions = NonNullable<HiwelinkOptions['auth']>;

export interface StoreAuth {
  /** What the store hands `hiwelink({ auth })`. */
  options: AuthOptions;
  /** The headers a client must send; in `jwt` mode they carry a token minted on each call. */
  headers(): Promise<Record<string, string>>;
}

/** How long {@link signToken}'s tokens live; jose reads the same words the store prints. */
export const TOKEN_LIFETIME = '1 hour';

/** An HS256 token the store accepts: `sub` 'hiwelink', issued now, expiring in an hour. */
export function signToken(secret: string): Promise<string> {
  return new SignJWT()
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('hiwelink')
    .setIssuedAt()
    .setExpirationTime(TOKEN_LIFETIME)
    .sign(new TextEncoder().encode(secret));
}

/** The kit's auth options for the configured method, and the credential that passes them. */
export function storeAuth(auth: AuthConfig, key: string): StoreAuth {
  switch (auth.method) {
    case 'api-key':
      return { options: { apiKey: key }, headers: async () => ({ 'X-API-Key': key }) };
    case 'bearer':
      return { options: { bearer: key }, headers: async () => ({ authorization: `Bearer ${key}` }) };
    case 'basic': {
      const encoded = Buffer.from(`${auth.username}:${key}`, 'utf8').toString('base64');
      return {
        options: { basic: { username: auth.username, password: key } },
        headers: async () => ({ authorization: `Basic ${encoded}` }),
      };
    }
    case 'jwt':
      return {
        // HS256 only: the 32-character minimum on the secret is sized for it, not for HS384/HS512.
        options: { jwt: { secret: auth.secret, algorithms: ['HS256'] } },
        headers: async () => ({ authorization: `Bearer ${await signToken(auth.secret)}` }),
      };
  }
}
