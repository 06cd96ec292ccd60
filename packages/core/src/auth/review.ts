import type { BasicUser } from './basic.js';
import type { Credential } from './credentials.js';
import { BEYOND_LATIN1, CONTROL_CHARACTER as CONTROL, TOKEN68 } from './header-values.js';
import { type AuthOptions, list } from './options.js';

/** What checking the configured credentials found, before any guard is built from them. */
export interface CredentialReview {
  /** The auth options to use: API keys, bearer tokens and digests without surrounding whitespace. */
  auth: AuthOptions;
  /** Things changed or worth a look, one line each, never holding the secret; logged once. */
  warnings: string[];
  /** Credentials that cannot work or are too weak; each stops the start. */
  problems: string[];
}

/** Shortest raw API key or bearer token accepted: 16 characters, 96 bits if random hex or more. */
export const MIN_SECRET_LENGTH = 16;

const DIGEST = /^sha256:(.*)$/is;
const HEX64 = /^[0-9a-f]{64}$/i;
const KEYGEN = 'make one with: npx hiwelink keygen';

const one = <T>(original: T | readonly T[], values: T[]): T | T[] =>
  Array.isArray(original) ? values : (values[0] as T);

/**
 * Checks every configured credential (API keys, bearer tokens, basic users, the JWT secret) for
 * the mistakes that make it never match or easy to guess. `envName` names where a default API key
 * came from (`HIWELINK_API_KEY`), for the messages.
 *
 * - An API key, a bearer token, or any `sha256:` digest with surrounding whitespace (a newline
 *   from a Kubernetes secret or `echo` into a file) is trimmed, with a warning: no request can
 *   carry that whitespace (HTTP trims it from header values; a token68 has none), so it could
 *   never match. A digest is read in either case, `SHA256:` included.
 * - A basic user or password, or a JWT secret, keeps its whitespace, which the client or token
 *   issuer may share (RFC 7617 passwords may end in a space), with a warning.
 * - A raw API key or bearer token under {@link MIN_SECRET_LENGTH} characters, one holding a
 *   control character or a character above U+00FF (header values are bytes: RFC 9110 §5.5), a bearer token with characters outside token68, or a `sha256:` value that
 *   is not 64 hex digits, is a problem. A basic password under 16 characters is a warning only
 *   (it often belongs to an account the store does not choose), unless `shortBasicPassword` is
 *   `'refuse'`.
 */
export function reviewCredentials(
  auth: AuthOptions,
  envName?: string,
  /**
   * `refuse` makes a short basic password a problem: for an account the store chooses itself
   * (the status page's), unlike one it is given. @default 'warn'
   */
  shortBasicPassword: 'warn' | 'refuse' = 'warn',
): CredentialReview {
  const warnings: string[] = [];
  const problems: string[] = [];

  /** The digest, normalised, or the raw value after its own checks. */
  function secret(value: string, label: string, kind: 'key' | 'token'): string {
    const trimmed = value.trim();
    if (trimmed !== value) {
      warnings.push(`${label}: surrounding whitespace removed, since no request can carry it`);
    }
    const hex = DIGEST.exec(trimmed)?.[1];
    if (hex !== undefined) {
      if (HEX64.test(hex)) return `sha256:${hex.toLowerCase()}`;
      problems.push(`${label}: a sha256: digest must be 64 hex digits, got ${hex.length} characters`);
    } else if (CONTROL.test(trimmed)) {
      problems.push(
        `${label}: must not contain control characters (a line break inside?): no header can carry them`,
      );
    } else if (BEYOND_LATIN1.test(trimmed)) {
      problems.push(
        `${label}: holds a character above U+00FF (another script, an emoji, a typographic quote?): no HTTP header can carry it, so it could never match (${KEYGEN})`,
      );
    } else if (kind === 'token' && !TOKEN68.test(trimmed)) {
      problems.push(
        `${label}: must hold only letters, digits and -._~+/ (then '='): nothing else travels in Authorization: Bearer (RFC 6750)`,
      );
    } else if (trimmed.length < MIN_SECRET_LENGTH) {
      problems.push(
        `${label}: must be at least ${MIN_SECRET_LENGTH} characters, got ${trimmed.length}: a short ${kind} can be guessed (${KEYGEN})`,
      );
    }
    return trimmed;
  }

  const secrets = (value: Credential | readonly Credential[], name: string, kind: 'key' | 'token') => {
    const values = list(value);
    const label = (index: number) =>
      envName ?? (Array.isArray(value) ? `auth.${name}.${index}` : `auth.${name}`);
    return one(
      value,
      values.map((entry, index) => secret(entry, label(index), kind)),
    );
  };

  function user({ username, password }: BasicUser, index: number): BasicUser {
    const label = `auth.basic.${index}`;
    const kept = 'kept, since Basic auth can carry it: check it is meant';
    if (username.trim() !== username)
      warnings.push(`${label}.username: starts or ends with whitespace; ${kept}`);
    if (DIGEST.test(password.trim()))
      return { username, password: secret(password, `${label}.password`, 'key') };
    if (password.trim() !== password)
      warnings.push(`${label}.password: starts or ends with whitespace; ${kept}`);
    if (password.length < MIN_SECRET_LENGTH && shortBasicPassword === 'refuse') {
      problems.push(
        `${label}.password: must be at least ${MIN_SECRET_LENGTH} characters, got ${password.length}: a short password can be guessed (${KEYGEN})`,
      );
    } else if (password.length < MIN_SECRET_LENGTH) {
      warnings.push(
        `${label}.password: shorter than ${MIN_SECRET_LENGTH} characters (${password.length}), so easy to guess; turn on rateLimit or use a longer one (${KEYGEN})`,
      );
    }
    return { username, password };
  }

  let reviewed: AuthOptions = auth;
  if ('apiKey' in auth) reviewed = { apiKey: secrets(auth.apiKey, 'apiKey', 'key') };
  else if ('bearer' in auth) reviewed = { bearer: secrets(auth.bearer, 'bearer', 'token') };
  else if ('basic' in auth) reviewed = { basic: one(auth.basic, list(auth.basic).map(user)) };
  else if ('jwt' in auth && auth.jwt.secret !== undefined && auth.jwt.secret.trim() !== auth.jwt.secret) {
    warnings.push(
      'auth.jwt.secret: starts or ends with whitespace; kept, since the token issuer may sign with the same bytes: check it is meant',
    );
  }
  return { auth: reviewed, warnings, problems };
}
