import { describe, expect, it } from 'vitest';
import { HiwelinkConfigError, type HiwelinkOptions, resolveOptions } from './options.js';

const list = () => ({ items: [], total: 0 });
const valid: HiwelinkOptions = { products: list, orders: list, auth: { apiKey: 'sk_test_key_0123456789' } };

function problemsOf(options: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    resolveOptions(options as HiwelinkOptions, env);
  } catch (error) {
    expect(error).toBeInstanceOf(HiwelinkConfigError);
    return (error as HiwelinkConfigError).problems;
  }
  throw new Error('options were accepted');
}

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const resolved = resolveOptions(valid, {});
    expect(resolved).toMatchObject({
      paths: { health: '/health', products: '/api/products', orders: '/api/orders' },
      defaultPerPage: 50,
      maxPerPage: 100,
      timeoutMs: 10_000,
      bareArray: false,
    });
  });

  it('puts basePath in front of every path', () => {
    const { paths } = resolveOptions({ ...valid, basePath: '/hw', paths: { orders: '/sales' } }, {});
    expect(paths).toEqual({ health: '/hw/health', products: '/hw/api/products', orders: '/hw/sales' });
  });

  it('reads the key from HIWELINK_API_KEY when auth is not given', async () => {
    const { guard } = resolveOptions(
      { products: list, orders: list },
      { HIWELINK_API_KEY: 'sk_from_env_0123456789' },
    );
    const request = (key: string) => ({
      method: 'GET',
      path: '/health',
      query: '',
      headers: { 'x-api-key': key },
      remoteAddress: '127.0.0.1',
      secure: false,
      signal: new AbortController().signal,
    });
    expect(await guard.authenticate(request('sk_from_env_0123456789'))).not.toBeNull();
    expect(await guard.authenticate(request('sk_other'))).toBeNull();
  });

  it.each([
    ['no options at all', undefined, 'products: must be a function'],
    [
      'no key anywhere',
      { products: list, orders: list },
      'auth: no API key configured: set HIWELINK_API_KEY',
    ],
    ['a blank key', { ...valid, auth: { apiKey: ' ' } }, 'auth.apiKey: must not be empty or blank'],
    ['an empty key list', { ...valid, auth: { apiKey: [] } }, 'auth.apiKey: must list at least one'],
    ['a key that is not a string', { ...valid, auth: { apiKey: 42 } }, 'auth: must be one of { apiKey }'],
    [
      'two auth methods at once',
      { ...valid, auth: { apiKey: 'k', bearer: 't' } },
      'auth: must be one of { apiKey }',
    ],
    [
      'a short JWT secret',
      { ...valid, auth: { jwt: { secret: 'short' } } },
      'auth.jwt.secret: must be at least 32',
    ],
    [
      'a JWT with two keys',
      { ...valid, auth: { jwt: { secret: 's'.repeat(32), jwksUrl: 'https://x.test/jwks' } } },
      'auth.jwt: needs exactly one of',
    ],
    [
      'a JWT with alg none',
      { ...valid, auth: { jwt: { secret: 's'.repeat(32), algorithms: ['none'] } } },
      "must not include 'none'",
    ],
    [
      'an RS algorithm with a secret',
      { ...valid, auth: { jwt: { secret: 's'.repeat(32), algorithms: ['RS256'] } } },
      'auth.jwt.algorithms: RS256 cannot be used with this key',
    ],
    [
      'a public key that is not PEM',
      { ...valid, auth: { jwt: { publicKey: 'abc' } } },
      'auth.jwt.publicKey: must be a PEM public key',
    ],
    [
      'a JWKS URL over plain http',
      { ...valid, auth: { jwt: { jwksUrl: 'http://idp.example.com/jwks' } } },
      'auth.jwt.jwksUrl: must be https',
    ],
    [
      'a basic user with a colon',
      { ...valid, auth: { basic: { username: 'a:b', password: 'p' } } },
      'must not contain a colon',
    ],
    ['a bad CIDR', { ...valid, allowIps: ['10.0.0.0/33'] }, "allowIps: '10.0.0.0/33' is not an IP address"],
    ['a bad trusted proxy', { ...valid, trustProxy: 'proxy.internal' }, 'trustProxy:'],
    ['a rate limit without a store method', { ...valid, rateLimit: { store: {} } }, 'rateLimit.store'],
    [
      'a rate-limit window in part seconds',
      { ...valid, rateLimit: { windowMs: 1500 } },
      'rateLimit.windowMs: must be a whole number of seconds',
    ],
    ['a store time budget of 0', { ...valid, rateLimit: { storeTimeoutMs: 0 } }, 'rateLimit.storeTimeoutMs'],
    ['a misspelt option', { ...valid, perPage: 10 }, "unknown option 'perPage'"],
    ['a relative path', { ...valid, paths: { products: 'products' } }, "paths.products: must start with '/'"],
    ['a path with a query', { ...valid, paths: { orders: '/o?x=1' } }, "paths.orders: must start with '/'"],
    ['two routes on one path', { ...valid, paths: { orders: '/health' } }, 'need distinct paths'],
    [
      'a default above the cap',
      { ...valid, maxPerPage: 20 },
      'defaultPerPage: must not exceed maxPerPage (20)',
    ],
    [
      'a base path ending in a slash',
      { ...valid, basePath: '/store/' },
      "basePath: must be '' or start with '/'",
    ],
    ['a fractional timeout', { ...valid, timeoutMs: 1.5 }, 'timeoutMs:'],
    ['a logger without error()', { ...valid, logger: { warn() {} } }, 'logger: must have warn'],
  ])('explains %s', (_case, options, problem) => {
    expect(problemsOf(options).join('\n')).toContain(problem);
  });

  it('lists every problem at once in the message', () => {
    const error = (() => {
      try {
        resolveOptions({ orders: 1, maxPerPage: 0 } as never, {});
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(
      /^Invalid HiWelink options:\n {2}- products: .*\n {2}- orders: .*\n {2}- maxPerPage: /,
    );
  });
});
