import type { Principal } from '../auth/guard.js';
import { HiwelinkError } from '../errors.js';
import type { CoreRequest } from '../http.js';
import type { ResolvedOptions } from '../options.js';
import { addressBucket, type Client } from './client.js';
import { withFallback } from './rate-limit.js';

/** The principal, or the 401 to answer with. */
export type Admitted = Principal | HiwelinkError;

type AdmissionConfig = Pick<ResolvedOptions, 'allowIp' | 'requireHttps' | 'guard' | 'rateLimit' | 'logger'>;

/**
 * Decides whether a request may be served, in this order: address allow-list (403), HTTPS (403),
 * credential and rate limit (429 before 401, so guessing keys is limited too), and adds the
 * rate-limit headers to `headers`. Gives the authenticated principal or, for a missing or wrong
 * credential, the 401 error (a promise of either only when the guard or the rate-limit store is
 * asynchronous); throws a HiwelinkError for the other refusals.
 */
export function createAdmission(config: AdmissionConfig) {
  const { guard, rateLimit } = config;
  // The most frequent refusal, made once: a fresh error (and a throw) per 401 cost measurably.
  const unauthorized = new HiwelinkError(
    'unauthorized',
    'Unauthorized',
    guard.challenge ? { headers: { 'www-authenticate': guard.challenge } } : {},
  );

  // A store that is down must not take the sync down with it: a time budget, then local counts.
  const hitStore =
    rateLimit &&
    withFallback(rateLimit.store, { timeoutMs: rateLimit.storeTimeoutMs, logger: config.logger });

  /** Counts the request against its bucket and adds the rate-limit headers. */
  async function limit(bucket: string, headers: Record<string, string>) {
    if (!rateLimit || !hitStore) return;
    const hit = await hitStore(bucket, rateLimit.windowMs);
    const resetSeconds = Math.max(1, Math.ceil(hit.resetMs / 1000));
    headers['ratelimit-policy'] = `"hiwelink";q=${rateLimit.limit};w=${Math.ceil(rateLimit.windowMs / 1000)}`;
    headers.ratelimit = `"hiwelink";r=${Math.max(0, rateLimit.limit - hit.count)};t=${resetSeconds}`;
    if (hit.count > rateLimit.limit) {
      throw new HiwelinkError('rate_limited', 'Too Many Requests', {
        headers: { 'retry-after': String(resetSeconds) },
      });
    }
  }

  /** Rate limit first (429 before 401, so guessing keys is limited too), then the verdict. */
  function decide(
    principal: Principal | null,
    client: () => Client,
    headers: Record<string, string>,
  ): Admitted | Promise<Admitted> {
    const verdict = () => principal ?? unauthorized;
    if (!rateLimit) return verdict();
    // Without an accepted credential, the client's network is what guesses keys: count per address.
    const bucket = principal
      ? `key:${principal.credentialId}`
      : `ip:${addressBucket(client().ip, rateLimit.ipv6Subnet)}`;
    return limit(bucket, headers).then(verdict);
  }

  /** Synchronous unless the guard (JWT with JWKS) or the rate-limit store is asynchronous. */
  return function admit(
    request: CoreRequest,
    client: () => Client,
    headers: Record<string, string>,
  ): Admitted | Promise<Admitted> {
    if (config.allowIp && !config.allowIp(client().ip))
      throw new HiwelinkError('ip_not_allowed', 'Forbidden');
    if (config.requireHttps && !client().secure)
      throw new HiwelinkError('https_required', 'HTTPS is required');
    const principal = guard.authenticate(request);
    return principal instanceof Promise
      ? principal.then((settled) => decide(settled, client, headers))
      : decide(principal, client, headers);
  };
}
