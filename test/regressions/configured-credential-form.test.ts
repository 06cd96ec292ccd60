import { createHash } from 'node:crypto';
import type { AuthOptions, HiwelinkOptions } from '@hiwelink/core';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../examples/express-sqlite/src/config.js';
import { frameworks, type RunningApp } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

// Issue #12: `HIWELINK_API_KEY="<key>\n"` (a Kubernetes secret, `echo` into a file) worked through
// the default, but the README's own `{ apiKey }`, `{ bearer }` and `{ basic }` forms started without
// a word and answered 401 to everything; and a 1-character key was accepted. The kind: every
// configured credential form. Whitespace that can never match (API key, bearer token, sha256:
// digest) is trimmed with one startup warning; where it is legal (basic, JWT secret) it is kept
// and warned about; a raw API key or bearer token under 16 characters is refused, a short basic
// password warned about.

const KEY = 'hwk_live_credential_form_0123456789';
const OTHER = 'hwk_live_credential_form_rotation_2';
const PASSWORD = 'a-basic-password-long-enough';
const SECRET = 'a-hs256-secret-of-at-least-32-chars!';
const digest = (value: string) => createHash('sha256').update(value).digest('hex');
const list = () => ({ items: [], total: 0 });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe.each(frameworks)('$name', (framework) => {
  let app: RunningApp | undefined;
  const savedEnvKey = process.env.HIWELINK_API_KEY;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (savedEnvKey === undefined) delete process.env.HIWELINK_API_KEY;
    else process.env.HIWELINK_API_KEY = savedEnvKey;
  });

  /** Starts the kit with `auth` and records every warning it logs. */
  async function start(auth: AuthOptions | undefined) {
    const warnings: string[] = [];
    const options: HiwelinkOptions = {
      products: list,
      orders: list,
      auth,
      logger: { warn: (_details, message) => warnings.push(message), error() {} },
    };
    app = await framework.start(options);
    const url = app.url;
    const status = async (headers: Record<string, string>) =>
      (await send(`${url}/health`, { headers })).status;
    return { status, warnings };
  }

  const trimmed: [string, () => AuthOptions | undefined, Record<string, string>[], RegExp][] = [
    [
      'an API key with a trailing newline',
      () => ({ apiKey: `${KEY}\n` }),
      [{ 'x-api-key': KEY }],
      /auth\.apiKey/,
    ],
    [
      'a rotation list with CRLF and leading spaces',
      () => ({ apiKey: [`  ${KEY}\r\n`, OTHER] }),
      [{ 'x-api-key': KEY }, { 'x-api-key': OTHER }],
      /auth\.apiKey\.0/,
    ],
    ['a bearer token with a trailing newline', () => ({ bearer: `${KEY}\n` }), [bearer(KEY)], /auth\.bearer/],
    [
      'HIWELINK_API_KEY with a trailing newline',
      () => {
        process.env.HIWELINK_API_KEY = `${KEY}\n`;
        return undefined;
      },
      [{ 'x-api-key': KEY }],
      /HIWELINK_API_KEY/,
    ],
    [
      'an upper-case sha256: digest with a trailing newline',
      () => ({ apiKey: `sha256:${digest(KEY).toUpperCase()}\n` }),
      [{ 'x-api-key': KEY }],
      /auth\.apiKey/,
    ],
    [
      'a SHA256: digest of a bearer token with spaces around',
      () => ({ bearer: ` SHA256:${digest(KEY)} ` }),
      [bearer(KEY)],
      /auth\.bearer/,
    ],
    [
      'a basic password given as a digest with a trailing newline',
      () => ({ basic: { username: 'hiwelink', password: `sha256:${digest(PASSWORD)}\n` } }),
      [basic('hiwelink', PASSWORD)],
      /auth\.basic\.0\.password/,
    ],
  ];

  it.each(trimmed)(
    'trims %s, accepts the credential, and warns once',
    async (_case, auth, accepted, where) => {
      const { status, warnings } = await start(auth());
      for (const headers of accepted) expect(await status(headers)).toBe(200);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(where);
      expect(warnings[0]).toMatch(/whitespace/);
      expect(warnings[0]).not.toContain(KEY);
    },
  );

  it('keeps surrounding whitespace of a basic user or password, which is legal, and warns once', async () => {
    const { status, warnings } = await start({
      basic: [
        { username: 'hiwelink', password: `${PASSWORD}\n` },
        { username: 'spaced ', password: PASSWORD },
      ],
    });
    expect(await status(basic('hiwelink', `${PASSWORD}\n`))).toBe(200);
    expect(await status(basic('hiwelink', PASSWORD))).toBe(401);
    expect(await status(basic('spaced ', PASSWORD))).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/auth\.basic\.0\.password.*whitespace/);
    expect(warnings[0]).toMatch(/auth\.basic\.1\.username.*whitespace/);
    expect(warnings[0]).not.toContain(PASSWORD);
  });

  it('keeps surrounding whitespace of a JWT secret, which the signer may share, and warns once', async () => {
    const secret = `${SECRET}\n`;
    const { status, warnings } = await start({ jwt: { secret } });
    const token = await new SignJWT({ sub: 'crawler' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret));
    expect(await status(bearer(token))).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/auth\.jwt\.secret.*whitespace/);
  });

  it('warns once about a basic password shorter than 16 characters', async () => {
    const { status, warnings } = await start({ basic: { username: 'hiwelink', password: 'short-pw' } });
    expect(await status(basic('hiwelink', 'short-pw'))).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/auth\.basic\.0\.password.*16 characters/);
  });

  it('starts without a warning when every credential is clean', async () => {
    const { status, warnings } = await start({ apiKey: [KEY, `sha256:${digest(OTHER)}`] });
    expect(await status({ 'x-api-key': OTHER })).toBe(200);
    expect(warnings).toEqual([]);
  });

  it.each<[string, () => AuthOptions | undefined, RegExp]>([
    ['a 1-character API key', () => ({ apiKey: 'k' }), /auth\.apiKey: must be at least 16 characters, got 1/],
    [
      'a short key in a rotation list',
      () => ({ apiKey: [KEY, 'sk_old_key_0001'] }),
      /auth\.apiKey\.1: must be at least 16 characters, got 15/,
    ],
    [
      'a short bearer token',
      () => ({ bearer: 'short-token\n' }),
      /auth\.bearer: must be at least 16 characters, got 11/,
    ],
    [
      'a 1-character HIWELINK_API_KEY',
      () => {
        process.env.HIWELINK_API_KEY = 'k';
        return undefined;
      },
      /HIWELINK_API_KEY: must be at least 16 characters, got 1/,
    ],
    [
      'a digest that is not 64 hex digits',
      () => ({ apiKey: `sha256:${'ab'.repeat(31)}` }),
      /auth\.apiKey: .*64 hex digits/,
    ],
    [
      'a bearer token that cannot travel in an Authorization header',
      () => ({ bearer: `${KEY} two words` }),
      /auth\.bearer: must hold only letters, digits/,
    ],
    [
      'an API key with a line break inside',
      () => ({ apiKey: `${KEY}\nsecond-line` }),
      /auth\.apiKey: must not contain control characters/,
    ],
  ])('refuses %s at startup, saying why', async (_case, auth, problem) => {
    await expect(start(auth())).rejects.toThrow(problem);
  });
});

describe('the demo store', () => {
  it.each(['api-key', 'bearer'])(
    'HIWELINK_AUTH=%s refuses a 1-character HIWELINK_API_KEY, naming it',
    (auth) => {
      expect(() => readConfig({ HIWELINK_AUTH: auth, HIWELINK_API_KEY: 'k' })).toThrow(
        /^HIWELINK_API_KEY must be at least 16 characters, got 1/,
      );
    },
  );
});
