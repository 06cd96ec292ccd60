import { z } from 'zod';
import type { Logger } from '../logger.js';
import { apiKeyGuard } from './api-key.js';
import { type BasicUser, basicGuard } from './basic.js';
import { bearerGuard } from './bearer.js';
import type { Credential } from './credentials.js';
import type { Guard } from './guard.js';
import { type JwtOptions, jwtGuard } from './jwt.js';

export interface ApiKeyAuth {
  /** Accepted `X-API-Key` values, raw or `sha256:<hex>`; several while rotating. @default process.env.HIWELINK_API_KEY */
  apiKey: Credential | readonly Credential[];
}
export interface BearerAuth {
  /** Accepted static `Authorization: Bearer` tokens, raw or `sha256:<hex>`. */
  bearer: Credential | readonly Credential[];
}
export interface BasicAuth {
  /** Accepted `Authorization: Basic` users; passwords raw or `sha256:<hex>`. */
  basic: BasicUser | readonly BasicUser[];
}
export interface JwtAuth {
  /** `Authorization: Bearer <JWT>` verified with a secret, a public key or a JWKS URL. */
  jwt: JwtOptions;
}

/** How HiWelink authenticates: one of the built-in methods, or any {@link Guard}. */
export type AuthOptions = ApiKeyAuth | BearerAuth | BasicAuth | JwtAuth | Guard;

const credential = z.string().refine((value) => value.trim() !== '', 'must not be empty or blank');
const credentials = z.union([credential, z.array(credential).min(1, 'must list at least one')], {
  error: 'must be a non-empty string or a list of them',
});
const user = z.strictObject({
  username: z
    .string()
    .min(1, 'must not be empty')
    .regex(/^[^:]*$/, 'must not contain a colon (RFC 7617)'),
  password: credential,
});
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

const jwt = z
  .strictObject({
    secret: z.string().min(32, 'must be at least 32 characters: HS256 needs a 256-bit key').optional(),
    publicKey: z.string().optional(),
    jwksUrl: z
      .url({ protocol: /^https?$/ })
      .refine(
        (url) => url.startsWith('https:') || LOOPBACK.test(new URL(url).hostname),
        'must be https (plain http only on a loopback host)',
      )
      .optional(),
    algorithms: z
      .array(z.string().regex(/^(?!none$)/i, "must not include 'none'"))
      .min(1)
      .optional(),
    issuer: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    clockToleranceSeconds: z.number().min(0).max(300).optional(),
  })
  .refine(
    (options) =>
      [options.secret, options.publicKey, options.jwksUrl].filter((key) => key !== undefined).length === 1,
    'needs exactly one of secret, publicKey or jwksUrl',
  );

export const authSchema = z.union(
  [
    z.strictObject({ apiKey: credentials }),
    z.strictObject({ bearer: credentials }),
    z.strictObject({
      basic: z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(user).min(1)),
    }),
    z.strictObject({ jwt }),
    z.custom<Guard>((value) => typeof (value as Guard | null)?.authenticate === 'function'),
  ],
  {
    error: 'must be one of { apiKey }, { bearer }, { basic }, { jwt }, or a guard with authenticate(request)',
  },
);

/** One credential or a list of them, as a list. */
export const list = <T>(value: T | readonly T[]): T[] => (Array.isArray(value) ? [...value] : [value as T]);

/** Builds the guard for validated auth options; throws naming the option when a JWT key cannot work. */
export function createGuard(auth: AuthOptions, realm: string, logger: Logger): Guard {
  if ('apiKey' in auth) return apiKeyGuard(list(auth.apiKey));
  if ('bearer' in auth) return bearerGuard(list(auth.bearer), realm);
  if ('basic' in auth) return basicGuard(list(auth.basic), realm);
  if ('jwt' in auth) return jwtGuard(auth.jwt, realm, logger);
  return auth;
}
