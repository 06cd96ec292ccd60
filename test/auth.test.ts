import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessLogEntry, AuthOptions, HiwelinkOptions, ListCallback } from '@hiwelink/core';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frameworks, type RunningApp } from './support/frameworks.js';
import { type Reply, send } from './support/http-client.js';

const list: ListCallback = ({ perPage, offset }) => ({
  items: [{ id: String(offset + 1), name: 'Item' }].slice(0, perPage),
  total: 1,
});
const quiet = { warn() {}, error() {} };
const SECRET = 'a-hs256-secret-of-at-least-32-chars!';
const TOKEN = 'hwk_live_7d1f0b9a2c4e6a8b0d2f4a6c8e0b2d4f';
const b64url = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const sha256Hex = async (text: string) =>
  (await import('node:crypto')).createHash('sha256').update(text).digest('hex');

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (raw: string | Buffer) => ({ authorization: `Basic ${Buffer.from(raw).toString('base64')}` });

function hs256(claims: Record<string, unknown>, secret: string | Uint8Array = SECRET, header = {}) {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(key);
}

function expectRefused(reply: Reply, challenge: string | undefined) {
  expect(reply.status).toBe(401);
  expect(reply.json()).toEqual({ error: 'Unauthorized', code: 'unauthorized' });
  expect(reply.headers['www-authenticate']).toBe(challenge);
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const rs256 = (claims: Record<string, unknown>, key: KeyObject = rsa.privateKey, kid = 'k1') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);

let jwks: { url: string; close(): void };
beforeAll(async () => {
  const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  jwks = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    close: () => server.close(),
  };
});
afterAll(() => jwks.close());

describe.each(frameworks)('$name', (framework) => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  async function start(auth: AuthOptions | undefined, extra: Partial<HiwelinkOptions> = {}) {
    app = await framework.start({
      products: list,
      orders: list,
      logger: quiet,
      auth,
      ...extra,
    } as HiwelinkOptions);
    const url = app.url;
    return (headers: Record<string, string | string[]> = {}, path = '/api/products') =>
      send(`${url}${path}`, { headers });
  }

  describe('bearer tokens', () => {
    const challenge = 'Bearer realm="hiwelink"';
    it('accepts the token under any casing of the scheme, on every path', async () => {
      const get = await start({ bearer: TOKEN });
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        for (const path of ['/health', '/api/products', '/api/orders']) {
          expect((await get({ authorization: `${scheme} ${TOKEN}` }, path)).status).toBe(200);
        }
      }
    });

    it.each<[string, Record<string, string | string[]>]>([
      ['no credential', {}],
      ['Bearer alone', { authorization: 'Bearer' }],
      ['an empty token', { authorization: 'Bearer ' }],
      ['a wrong token', bearer('hwk_live_wrong')],
      ['a token one character off', bearer(`${TOKEN.slice(0, -1)}e`)],
      ['a prefix of the token', bearer(TOKEN.slice(0, 12))],
      ['an 8 KB token', bearer('t'.repeat(8 * 1024))],
      ['the token as an X-API-Key', { 'x-api-key': TOKEN }],
      ['the token as a basic password', basic(`hiwelink:${TOKEN}`)],
    ])('refuses %s with 401 and a Bearer challenge', async (_case, headers) => {
      const get = await start({ bearer: TOKEN });
      expectRefused(await get(headers), challenge);
    });

    it('accepts every token of a rotation, raw or as a SHA-256 digest', async () => {
      const get = await start({ bearer: ['hwk_old_token_0001', `sha256:${await sha256Hex(TOKEN)}`] });
      expect((await get(bearer('hwk_old_token_0001'))).status).toBe(200);
      expect((await get(bearer(TOKEN))).status).toBe(200);
      expectRefused(await get(bearer(`sha256:${await sha256Hex(TOKEN)}`)), challenge);
    });
  });

  describe('API key given as a digest', () => {
    it('matches the raw key against its configured SHA-256', async () => {
      const get = await start({ apiKey: `sha256:${(await sha256Hex(TOKEN)).toUpperCase()}` });
      expect((await get({ 'x-api-key': TOKEN })).status).toBe(200);
      expectRefused(await get({ 'x-api-key': 'hwk_live_other' }), undefined);
    });
  });

  describe('basic', () => {
    const challenge = 'Basic realm="hiwelink", charset="UTF-8"';
    const users = [
      { username: 'hiwelink', password: 'pa:ss:word' },
      { username: 'zoë', password: 'pässwörd ✓' },
    ];
    it('accepts each user, a password holding colons, UTF-8, and any casing of the scheme', async () => {
      const get = await start({ basic: users });
      expect((await get(basic('hiwelink:pa:ss:word'))).status).toBe(200);
      expect((await get(basic('zoë:pässwörd ✓'))).status).toBe(200);
      const encoded = Buffer.from('hiwelink:pa:ss:word').toString('base64');
      expect((await get({ authorization: `basic ${encoded}` })).status).toBe(200);
    });

    it.each<[string, Record<string, string>]>([
      ['no credential', {}],
      ['no colon', basic('hiwelinkpa:ss:word'.replace(/:/g, ''))],
      ['a wrong password', basic('hiwelink:pa:ss:wore')],
      ['another user with the right password', basic('admin:pa:ss:word')],
      ['one user with the other user’s password', basic('hiwelink:pässwörd ✓')],
      [
        'bytes that are not UTF-8',
        basic(Buffer.concat([Buffer.from('zo'), Buffer.from([0xeb]), Buffer.from(':x')])),
      ],
      ['text that is not base64', { authorization: 'Basic ***' }],
      ['Basic alone', { authorization: 'Basic' }],
      ['the credential as a bearer token', bearer(Buffer.from('hiwelink:pa:ss:word').toString('base64'))],
    ])('refuses %s with 401 and a Basic challenge', async (_case, headers) => {
      const get = await start({ basic: users });
      expectRefused(await get(headers), challenge);
    });
  });

  describe('JWT with a shared secret', () => {
    const challenge = 'Bearer realm="hiwelink"';
    const auth = { jwt: { secret: SECRET, issuer: 'hiwelink', audience: 'store' } };
    const good = { iss: 'hiwelink', aud: 'store', sub: 'crawler', exp: now() + 600 };

    it('accepts a token with exp, issuer and audience', async () => {
      const get = await start(auth);
      expect((await get(bearer(await hs256(good)))).status).toBe(200);
    });

    it('honours the clock tolerance around exp and nbf', async () => {
      const get = await start({ jwt: { ...auth.jwt, clockToleranceSeconds: 30 } });
      expect((await get(bearer(await hs256({ ...good, exp: now() - 10, nbf: now() + 10 })))).status).toBe(
        200,
      );
    });

    const refused: [string, () => Promise<Record<string, string>>][] = [
      ['an expired token', async () => bearer(await hs256({ ...good, exp: now() - 60 }))],
      ['a token without exp', async () => bearer(await hs256({ iss: 'hiwelink', aud: 'store' }))],
      [
        'a token not valid before a future nbf',
        async () => bearer(await hs256({ ...good, nbf: now() + 600 })),
      ],
      ['a token signed with another secret', async () => bearer(await hs256(good, `${SECRET}x`))],
      ['another issuer', async () => bearer(await hs256({ ...good, iss: 'someone' }))],
      ['another audience', async () => bearer(await hs256({ ...good, aud: 'other' }))],
      ['alg none', async () => bearer(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(good)}.`)],
      ['two segments', async () => bearer((await hs256(good)).split('.').slice(0, 2).join('.'))],
      ['four segments', async () => bearer(`${await hs256(good)}.${b64url('x')}`)],
      ['an RS256 token', async () => bearer(await rs256(good))],
      ['the JWT as an X-API-Key', async () => ({ 'x-api-key': await hs256(good) })],
    ];
    it.each(refused)('refuses %s with 401', async (_case, headers) => {
      const get = await start(auth);
      expectRefused(await get(await headers()), challenge);
    });

    it('never answers 5xx to a 1 MB token', async () => {
      const get = await start(auth);
      const huge = await hs256({ ...good, pad: 'x'.repeat(1024 * 1024) });
      const reply = await get(bearer(huge)).catch((error: NodeJS.ErrnoException) => error);
      // Node refuses headers over 16 KB itself (431) and may close the socket while we still send.
      if (reply instanceof Error) expect(reply.code).toMatch(/^(ECONNRESET|EPIPE)$/);
      else expect([401, 431]).toContain(reply.status);
    });
  });

  describe('JWT with a public key or a key set', () => {
    const good = { sub: 'crawler', exp: now() + 600 };
    it('accepts RS256 with the public key, and refuses HS256 signed with that public key', async () => {
      const get = await start({ jwt: { publicKey: rsaPublicPem } });
      expect((await get(bearer(await rs256(good)))).status).toBe(200);
      const confused = await hs256(good, new TextEncoder().encode(rsaPublicPem));
      expectRefused(await get(bearer(confused)), 'Bearer realm="hiwelink"');
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      expectRefused(await get(bearer(await rs256(good, other))), 'Bearer realm="hiwelink"');
    });

    it('fetches keys from a JWKS URL and refuses unknown key ids', async () => {
      const get = await start({ jwt: { jwksUrl: jwks.url } });
      expect((await get(bearer(await rs256(good)))).status).toBe(200);
      expectRefused(await get(bearer(await rs256(good, rsa.privateKey, 'k2'))), 'Bearer realm="hiwelink"');
    });
  });

  describe('rate limit', () => {
    it('answers 429 with Retry-After and RateLimit headers past the limit, then resets', async () => {
      const get = await start(
        { apiKey: [TOKEN, 'hwk_second_key_0001'] },
        { rateLimit: { limit: 3, windowMs: 1000 } },
      );
      const first = await get({ 'x-api-key': TOKEN });
      expect(first.headers['ratelimit-policy']).toBe('"hiwelink";q=3;w=1');
      expect(first.headers.ratelimit).toMatch(/^"hiwelink";r=2;t=1$/);
      await get({ 'x-api-key': TOKEN });
      await get({ 'x-api-key': TOKEN });
      const limited = await get({ 'x-api-key': TOKEN });
      expect(limited.status).toBe(429);
      expect(limited.json()).toEqual({ error: 'Too Many Requests', code: 'rate_limited' });
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.headers.ratelimit).toBe('"hiwelink";r=0;t=1');
      expect((await get({ 'x-api-key': 'hwk_second_key_0001' })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await get({ 'x-api-key': TOKEN })).status).toBe(200);
    });

    it('limits failed attempts per address, so keys cannot be guessed without end', async () => {
      const get = await start({ apiKey: TOKEN }, { rateLimit: { limit: 2, windowMs: 60_000 } });
      expect((await get({ 'x-api-key': 'guess-1' })).status).toBe(401);
      expect((await get({ 'x-api-key': 'guess-2' })).status).toBe(401);
      expect((await get({ 'x-api-key': 'guess-3' })).status).toBe(429);
      expect((await get({ 'x-api-key': TOKEN })).status).toBe(200);
    });

    it('is off by default', async () => {
      const get = await start({ apiKey: TOKEN });
      const reply = await get({ 'x-api-key': TOKEN });
      expect(reply.headers.ratelimit).toBeUndefined();
    });
  });

  describe('address allow-list, proxies and HTTPS', () => {
    const key = { 'x-api-key': TOKEN };
    it.each([
      [['127.0.0.0/8'], 200],
      [['127.0.0.1'], 200],
      [['::ffff:127.0.0.1'], 200],
      [['::ffff:127.0.0.0/104'], 200],
      [['10.0.0.0/8', '192.168.0.0/16'], 403],
      [['::1'], 403],
    ])('allow-list %j gives a client on 127.0.0.1 %i', async (allowIps, status) => {
      const get = await start({ apiKey: TOKEN }, { allowIps });
      const reply = await get(key);
      expect(reply.status).toBe(status);
      if (status === 403) expect(reply.json()).toEqual({ error: 'Forbidden', code: 'ip_not_allowed' });
    });

    it('ignores a spoofed X-Forwarded-For from a proxy it does not trust', async () => {
      const get = await start({ apiKey: TOKEN }, { allowIps: ['10.0.0.0/8'] });
      expect((await get({ ...key, 'x-forwarded-for': '10.1.2.3' })).status).toBe(403);
    });

    it('believes a trusted proxy, but only up to the first untrusted hop', async () => {
      const get = await start({ apiKey: TOKEN }, { allowIps: ['10.0.0.0/8'], trustProxy: 'loopback' });
      expect((await get({ ...key, 'x-forwarded-for': '10.1.2.3' })).status).toBe(200);
      expect((await get({ ...key, 'x-forwarded-for': '10.1.2.3, 203.0.113.9' })).status).toBe(403);
      expect((await get(key)).status).toBe(403);
    });

    it('requires HTTPS: 403 for plain HTTP unless a trusted proxy says the client used HTTPS', async () => {
      const direct = await start({ apiKey: TOKEN }, { requireHttps: true });
      const plain = await direct({ ...key, 'x-forwarded-proto': 'https' });
      expect(plain.status).toBe(403);
      expect(plain.json()).toEqual({ error: 'HTTPS is required', code: 'https_required' });
      await app?.close();
      const proxied = await start(
        { apiKey: TOKEN },
        { requireHttps: true, trustProxy: ['127.0.0.1/32', '::1'] },
      );
      expect((await proxied({ ...key, 'x-forwarded-proto': 'https' })).status).toBe(200);
      expect((await proxied({ ...key, 'x-forwarded-proto': 'http' })).status).toBe(403);
    });
  });

  describe('access log', () => {
    it('reports each request once, with a key fingerprint and never the key', async () => {
      const entries: AccessLogEntry[] = [];
      const get = await start({ apiKey: TOKEN }, { accessLog: (entry) => entries.push(entry) });
      await get({ 'x-api-key': TOKEN }, '/api/orders?page=1');
      await get({ 'x-api-key': 'wrong' }, '/health');
      expect(entries).toHaveLength(2);
      const [served, refused] = entries;
      expect(served).toMatchObject({ ip: '127.0.0.1', method: 'GET', path: '/api/orders', status: 200 });
      expect(served?.credentialId).toMatch(/^[0-9a-f]{12}$/);
      expect(served?.durationMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(entries)).not.toContain(TOKEN);
      expect(refused).toMatchObject({ path: '/health', status: 401 });
      expect(refused).not.toHaveProperty('credentialId');
    });

    it('keeps serving when the hook throws', async () => {
      const get = await start(
        { apiKey: TOKEN },
        {
          accessLog: () => {
            throw new Error('log sink down');
          },
        },
      );
      expect((await get({ 'x-api-key': TOKEN })).status).toBe(200);
    });
  });
});
