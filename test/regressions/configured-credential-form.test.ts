import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Credential, verifyStore } from '@hiwelink/cli';
import type { AuthOptions, HiwelinkOptions } from '@hiwelink/core';
import { SignJWT } from 'jose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../examples/express-sqlite/src/app.js';
import { readConfig } from '../../examples/express-sqlite/src/config.js';
import { readConfig as readExampleConfig } from '../../examples/fastify-postgres/src/config.js';
import { frameworks, type RunningApp } from '../support/frameworks.js';
import { send } from '../support/http-client.js';
import { FRAMEWORKS, listening, STACK_LINE, scaffoldRoot, scaffoldStore } from '../support/stores.js';

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

// Review of issue #12: the scaffolds built the kit outside their start-up guard, so a key the kit
// refuses crashed with a HiwelinkConfigError stack naming auth.apiKey; a key that no header can
// carry (a tab inside, a character above U+00FF) started and could never match; and ADMIN_TOKEN
// had none of these rules. The kind: a configured secret that can never match, or is guessable,
// refused at start in one line naming the variable.
describe('the kit refuses an API key no header can carry', () => {
  it.each([
    ['a key with a character above U+00FF', { apiKey: `${KEY}\u20ac` }, /auth\.apiKey: .*header/],
    ['a rotation entry in another script', { apiKey: [KEY, `ключ_${KEY}`] }, /auth\.apiKey\.1: .*header/],
  ])('%s', async (_case, auth, problem) => {
    await expect(frameworks[0]?.start({ products: list, orders: list, auth })).rejects.toThrow(problem);
  });

  it('keeps a UTF-8 basic password, which RFC 7617 allows', async () => {
    const app = await frameworks[0]?.start({
      products: list,
      orders: list,
      auth: { basic: { username: 'hiwelink', password: `${PASSWORD}\u20ac` } },
    });
    await app?.close();
  });
});

const scaffolds = scaffoldRoot();
afterAll(() => scaffolds.remove());

describe.each(FRAMEWORKS)('the %s scaffold', (framework) => {
  const target = () => scaffoldStore(scaffolds.dir, framework, 'sqlite');
  let store: ReturnType<typeof target> | undefined;

  it.each<[string, Record<string, string>, string, RegExp]>([
    ['a 1-character HIWELINK_API_KEY', { HIWELINK_API_KEY: 'a' }, 'HIWELINK_API_KEY', /16 characters/],
    ['a tab inside HIWELINK_API_KEY', { HIWELINK_API_KEY: `${KEY}\tx` }, 'HIWELINK_API_KEY', /control/],
    [
      'a HIWELINK_API_KEY in another script',
      { HIWELINK_API_KEY: `${KEY}\u20ac` },
      'HIWELINK_API_KEY',
      /header/,
    ],
    [
      "a basic user with ':'",
      { HIWELINK_AUTH: 'basic', HIWELINK_USERNAME: 'a:b', HIWELINK_API_KEY: KEY },
      'HIWELINK_USERNAME',
      /:/,
    ],
    ['a 1-character ADMIN_TOKEN', { ADMIN_TOKEN: 'a' }, 'ADMIN_TOKEN', /16 characters/],
    ['a space inside ADMIN_TOKEN', { ADMIN_TOKEN: `${KEY} x` }, 'ADMIN_TOKEN', /letters, digits/],
    ['an ADMIN_TOKEN in another script', { ADMIN_TOKEN: `${KEY}é` }, 'ADMIN_TOKEN', /letters, digits/],
    ['a 1-character STATUS_TOKEN', { STATUS_TOKEN: 'a' }, 'STATUS_TOKEN', /16 characters/],
    ['a space inside STATUS_TOKEN', { STATUS_TOKEN: `${KEY} x` }, 'STATUS_TOKEN', /letters, digits/],
    ['STATUS_TOKEN = ADMIN_TOKEN', { STATUS_TOKEN: KEY, ADMIN_TOKEN: KEY }, 'STATUS_TOKEN', /ADMIN_TOKEN/],
    [
      'STATUS_TOKEN = HIWELINK_API_KEY',
      { STATUS_TOKEN: KEY, HIWELINK_API_KEY: KEY },
      'STATUS_TOKEN',
      /credential HiWelink uses/,
    ],
  ])('refuses %s in one line naming it, no stack', async (_case, env, variable, reason) => {
    store ??= target();
    const running = store.launch(env);
    const code = await running.refusal();
    const where = running.stderr();
    expect(code, where).toBe(1);
    expect(where).not.toMatch(STACK_LINE);
    expect(where).not.toContain('auth.');
    const lines = where.split('\n').filter((line) => line.startsWith('Cannot start'));
    expect(lines, where).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(lines[0]).toMatch(reason);
  });

  it('trims an ADMIN_TOKEN with a trailing space, which no request can carry, and accepts it', async () => {
    store ??= target();
    const running = store.launch({ ADMIN_TOKEN: `${KEY} ` });
    try {
      const url = await listening(running);
      const answer = await send(`${url}/admin/products/999999`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(answer.status).toBe(404);
      expect(running.stderr()).toMatch(/ADMIN_TOKEN.*whitespace/);
    } finally {
      await running.stop();
    }
  });
});

describe('the demo store names the variable of a secret no header can carry', () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ['a tab inside HIWELINK_API_KEY', { HIWELINK_API_KEY: `${KEY}\tx` }, /^HIWELINK_API_KEY .*control/],
    ['a HIWELINK_API_KEY in another script', { HIWELINK_API_KEY: `${KEY}€` }, /^HIWELINK_API_KEY .*header/],
    ['a 1-character ADMIN_TOKEN', { ADMIN_TOKEN: 'a' }, /^ADMIN_TOKEN must be at least 16 characters/],
    ['a space inside ADMIN_TOKEN', { ADMIN_TOKEN: `${KEY} x` }, /^ADMIN_TOKEN must hold only letters/],
    ['a non-ASCII ADMIN_TOKEN', { ADMIN_TOKEN: `${KEY}é` }, /^ADMIN_TOKEN must hold only letters/],
    ['a 1-character STATUS_TOKEN', { STATUS_TOKEN: 'a' }, /^STATUS_TOKEN must be at least 16 characters/],
    ['a space inside STATUS_TOKEN', { STATUS_TOKEN: `${KEY} x` }, /^STATUS_TOKEN must hold only letters/],
    [
      'STATUS_TOKEN = ADMIN_TOKEN',
      { STATUS_TOKEN: KEY, ADMIN_TOKEN: KEY },
      /^STATUS_TOKEN must not be ADMIN_TOKEN/,
    ],
    [
      'STATUS_TOKEN = HIWELINK_API_KEY',
      { STATUS_TOKEN: KEY, HIWELINK_API_KEY: KEY },
      /^STATUS_TOKEN must not be HIWELINK_API_KEY/,
    ],
  ])('refuses %s', (_case, env, problem) => {
    expect(() => readConfig(env)).toThrow(problem);
  });
});

describe('the demo store refuses a STATUS_TOKEN equal to a secret it generated', () => {
  it.each([
    ['ADMIN_TOKEN', (store: { adminToken: string }) => store.adminToken],
    ['HIWELINK_API_KEY', (store: { apiKey: string }) => store.apiKey],
  ] as const)('the %s kept in its database', (name, secretOf) => {
    const dir = mkdtempSync(join(tmpdir(), 'hiwelink-status-token-'));
    try {
      const file = join(dir, 'store.db');
      const first = createStore(readConfig({ DATABASE_FILE: file, SEED_PRODUCTS: '1', SEED_ORDERS: '0' }));
      const generated = secretOf(first);
      first.close();
      expect(() =>
        createStore(
          readConfig({ DATABASE_FILE: file, SEED_PRODUCTS: '1', SEED_ORDERS: '0', STATUS_TOKEN: generated }),
        ),
      ).toThrow(new RegExp(`^STATUS_TOKEN must not be ${name} \\(here the one kept in the database\\)`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the fastify-postgres example holds ADMIN_TOKEN to the same rules', () => {
  it.each([
    ['a 1-character ADMIN_TOKEN', 'a', /^ADMIN_TOKEN must be at least 16 characters/],
    ['a trailing space', `${KEY} `, /^ADMIN_TOKEN must hold only letters/],
    ['a non-ASCII ADMIN_TOKEN', `${KEY}é`, /^ADMIN_TOKEN must hold only letters/],
  ])('refuses %s', (_case, token, problem) => {
    expect(() => readExampleConfig({ HIWELINK_API_KEY: KEY, ADMIN_TOKEN: token })).toThrow(problem);
  });
});

describe('hiwelink verify with a credential no header can carry', () => {
  it.each<[string, Credential]>([
    ['an API key in another script', { apiKey: `${KEY}€` }],
    ['a bearer token with a line break', { bearer: `${KEY}\nx` }],
  ])('says %s cannot be sent, not that the store does not answer', async (_case, credential) => {
    const app = await frameworks[0]?.start({ products: list, orders: list, auth: { apiKey: KEY } });
    try {
      const report = await verifyStore({ baseUrl: app?.url ?? '', credential });
      expect(report.ok).toBe(false);
      const check = report.checks.find((entry) => entry.status === 'failed');
      expect(check?.id).toBe('credential');
      expect(check?.detail).toMatch(/cannot be sent in an HTTP header/);
      expect(JSON.stringify(report)).not.toMatch(/Is the store running/);
    } finally {
      await app?.close();
    }
  });
});
