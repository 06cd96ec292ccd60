import { createHash, timingSafeEqual } from 'node:crypto';

/** @typedef {import('@hiwelink/core').AuthOptions} AuthOptions */

/** Stops the start with a message that says what to set. */
function missing(/** @type {string} */ name) {
  return new Error(`${name} is not set: put it in .env (npm start reads it) or in the environment`);
}

/**
 * How HiWelink authenticates, from HIWELINK_AUTH (api-key, bearer or basic) and HIWELINK_API_KEY.
 * Enter the same method and key in the HiWelink dashboard.
 * @returns {AuthOptions}
 */
export function authFromEnv(env = process.env) {
  const key = env.HIWELINK_API_KEY;
  if (!key) throw missing('HIWELINK_API_KEY');
  const method = env.HIWELINK_AUTH ?? 'api-key';
  if (method === 'api-key') return { apiKey: key };
  if (method === 'bearer') return { bearer: key };
  if (method === 'basic') return { basic: { username: env.HIWELINK_USERNAME ?? 'hiwelink', password: key } };
  throw new Error(`HIWELINK_AUTH must be api-key, bearer or basic, not '${method}'`);
}

/** The port to listen on (0 picks a free one) and the host. */
export function listenFromEnv(env = process.env) {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be 0 to 65535, not '${env.PORT}'`);
  return { port, host: env.HOST ?? '127.0.0.1' };
}

const sha256 = (/** @type {string} */ value) => createHash('sha256').update(value).digest();

/**
 * A check of `Authorization: Bearer <ADMIN_TOKEN>` for the admin API. Digests have equal lengths,
 * so the comparison takes the same time whatever the client sent.
 * @returns {(authorization: string | undefined) => boolean}
 */
export function adminGuard(env = process.env) {
  const token = env.ADMIN_TOKEN;
  if (!token) throw missing('ADMIN_TOKEN');
  const expected = sha256(token);
  return (authorization) => {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), expected);
  };
}
