/** Parsers for the Authorization header. Total: any input yields a value or `null`, never a throw. */

import { TOKEN68 } from './header-values.js';

const MAX_CREDENTIAL_LENGTH = 8 * 1024;

function credentialsFor(scheme: string, header: unknown): string | null {
  if (typeof header !== 'string' || header.length > MAX_CREDENTIAL_LENGTH) return null;
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space).toLowerCase() !== scheme) return null;
  const credentials = header.slice(space + 1).replace(/^ +/, '');
  return TOKEN68.test(credentials) ? credentials : null;
}

/** The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235). */
export const parseBearer = (header: unknown): string | null => credentialsFor('bearer', header);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The user and password of `Authorization: Basic <base64(user:password)>` (RFC 7617): strict
 * base64, UTF-8, split at the first colon so the password may hold more of them.
 */
export function parseBasic(header: unknown): { username: string; password: string } | null {
  const encoded = credentialsFor('basic', header);
  if (encoded === null || !BASE64.test(encoded)) return null;
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
