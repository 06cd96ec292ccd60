import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { Logger } from '../logger.js';
import { fingerprint, sha256 } from './compare.js';
import type { Guard } from './guard.js';
import { parseBearer } from './headers.js';

export interface JwtOptions {
  /** Shared secret for HS256/384/512. Give exactly one of `secret`, `publicKey`, `jwksUrl`. */
  secret?: string;
  /** PEM public key (SPKI) for RS*, PS*, ES* or EdDSA. */
  publicKey?: string;
  /** URL of a JSON Web Key Set; https, or http on a loopback host. */
  jwksUrl?: string;
  /** Accepted `alg` values. @default every algorithm of the key's family; never `none` */
  algorithms?: string[];
  /** Required `iss`. */
  issuer?: string | string[];
  /** Required `aud`. */
  audience?: string | string[];
  /** Slack for `exp` and `nbf`, in seconds. @default 5 */
  clockToleranceSeconds?: number;
}

const TOKEN_FAULT =
  /^ERR_(JWT_|JWS_|JOSE_ALG_NOT_ALLOWED|JOSE_NOT_SUPPORTED|JWKS_NO_MATCHING_KEY|JWKS_MULTIPLE)/;

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const KEY_FAMILY_ALGORITHMS: Record<string, string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'rsa-pss': ['PS256', 'PS384', 'PS512'],
  ec: ['ES256', 'ES384', 'ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};
export const ASYMMETRIC_ALGORITHMS = [...new Set(Object.values(KEY_FAMILY_ALGORITHMS).flat())];

/** A verification key and the algorithms it may be used with: keeping them together is what rules out HS/RS confusion. */
interface KeyChoice {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  family: string[];
}

/** Reads the configured key; throws a message for `HiwelinkConfigError` when it cannot be used. */
function jwtKey(options: JwtOptions): KeyChoice {
  if (options.secret !== undefined) {
    return { key: new TextEncoder().encode(options.secret), family: HMAC_ALGORITHMS };
  }
  if (options.publicKey !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(options.publicKey);
    } catch {
      throw new Error('auth.jwt.publicKey: must be a PEM public key (-----BEGIN PUBLIC KEY-----)');
    }
    const family = KEY_FAMILY_ALGORITHMS[key.asymmetricKeyType ?? ''];
    if (!family) throw new Error(`auth.jwt.publicKey: ${key.asymmetricKeyType} keys are not supported`);
    return { key, family };
  }
  return { key: createRemoteJWKSet(new URL(options.jwksUrl as string)), family: ASYMMETRIC_ALGORITHMS };
}

/**
 * Accepts `Authorization: Bearer <JWT>` signed with the configured key, with an `exp` claim, not
 * before its `nbf`, and with the configured issuer and audience.
 */
export function jwtGuard(options: JwtOptions, realm: string, logger: Logger): Guard {
  const { key, family } = jwtKey(options);
  const foreign = options.algorithms?.filter((algorithm) => !family.includes(algorithm)) ?? [];
  if (foreign.length > 0) {
    throw new Error(
      `auth.jwt.algorithms: ${foreign.join(', ')} cannot be used with this key; use ${family.join(', ')}`,
    );
  }
  const verifyOptions = {
    algorithms: options.algorithms ?? family,
    requiredClaims: ['exp'],
    clockTolerance: options.clockToleranceSeconds ?? 5,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  return {
    challenge: `Bearer realm="${realm}"`,
    async authenticate(request) {
      const token = parseBearer(request.headers.authorization);
      if (token === null) return null;
      try {
        const { payload } = await jwtVerify(token, key as Uint8Array, verifyOptions);
        return { credentialId: fingerprint(sha256(`jwt:${payload.iss ?? ''}:${payload.sub ?? ''}`)) };
      } catch (error) {
        // A bad token is the client's business; a key set that cannot be fetched refuses every
        // token, so that goes to the store's logs.
        if (!TOKEN_FAULT.test((error as { code?: string }).code ?? '')) {
          logger.warn({ err: error }, 'JWT could not be verified: the key set is unavailable');
        }
        return null;
      }
    },
  };
}
