import { type Credential, type VerifyReport, verifyStore } from '@hiwelink/cli';
import type { AuthOptions } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { frameworks } from '../support/frameworks.js';

// Issue #12: `hiwelink verify --api-key "$K<newline>"` passed the crawl (fetch trims header values)
// but built its wrong-credential probe from the untrimmed key, failed inside fetch, blamed the
// store and printed the whole key; a wrong key gave six FAILs blaming pagination; a bearer token
// with a space passed the credential check; `localhost:3000` read as a URL with scheme
// `localhost:`. The kind: the credential and URL given to verify, taken as the kit takes a
// configured one, and never printed.

const KEY = 'hwk_live_verify_given_0123456789abcdef';
const list = () => ({ items: [], total: 0 });

async function verifyAgainst(auth: AuthOptions, credential: Credential): Promise<VerifyReport> {
  const app = await frameworks[0]?.start({ products: list, orders: list, auth });
  try {
    return await verifyStore({ baseUrl: app?.url ?? '', credential });
  } finally {
    await app?.close();
  }
}

const failed = (report: VerifyReport) => report.checks.filter((check) => check.status === 'failed');

describe('hiwelink verify takes the given credential as the kit takes a configured one', () => {
  it.each<[string, AuthOptions, Credential]>([
    ['an API key with a trailing newline', { apiKey: KEY }, { apiKey: `${KEY}\n` }],
    ['a bearer token with surrounding spaces', { bearer: KEY }, { bearer: ` ${KEY} ` }],
  ])('trims %s with one warning, passes, and never prints it', async (_case, auth, credential) => {
    const report = await verifyAgainst(auth, credential);
    expect(failed(report)).toEqual([]);
    const warnings = report.checks.filter((check) => check.id === 'credential');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.status).toBe('warning');
    expect(warnings[0]?.detail).toMatch(/surrounding whitespace removed/);
    expect(JSON.stringify(report)).not.toContain(KEY.slice(4));
  });

  it.each<[string, Credential]>([
    ['an API key with a line break inside', { apiKey: `${KEY.slice(0, 12)}\n${KEY.slice(12)}` }],
    ['a bearer token with a space inside', { bearer: 'abc def 0123456789abcdef' }],
    ['a bearer token with a comma', { bearer: `${KEY},x` }],
  ])('refuses %s in the credential check, without printing it', async (_case, credential) => {
    const report = await verifyAgainst({ apiKey: KEY }, credential);
    expect(report.ok).toBe(false);
    expect(failed(report).map((check) => check.id)).toEqual(['credential']);
    const text = JSON.stringify(report);
    expect(text).not.toContain(KEY.slice(12));
    expect(text).not.toContain('def 0123456789abcdef');
  });
});

describe('hiwelink verify with a credential the store refuses', () => {
  it.each<[string, Credential, RegExp]>([
    [
      'a wrong API key',
      { apiKey: `${KEY}_rotated` },
      /^the store refused the credential you gave \(401\): check --api-key \/ --bearer \/ --basic, and that the store's key is the same$/,
    ],
    ['no credential', {}, /^no credential was given and the store answered 401: give --api-key/],
  ])(
    'says once that the store refused %s, and skips the checks that need data',
    async (_case, credential, said) => {
      const report = await verifyAgainst({ apiKey: KEY }, credential);
      expect(report.ok).toBe(false);
      const failures = failed(report);
      expect(failures.map((check) => check.id)).toEqual(['credential-refused']);
      expect(failures[0]?.detail).toMatch(said);
      for (const id of ['products-pages', 'orders-duplicates', 'per-page-101', 'past-the-end', 'latency'])
        expect(report.checks.find((check) => check.id === id)).toBeUndefined();
      expect(report.checks.find((check) => check.id === 'data')?.status).toBe('skipped');
      expect(JSON.stringify(report)).not.toContain(KEY.slice(4));
    },
  );
});

describe('hiwelink verify with a base URL without a scheme', () => {
  it.each(['localhost:3000', '127.0.0.1:3000', 'api.example.com:8443/hiwelink'])(
    "says '%s' is not a URL",
    async (baseUrl) => {
      const report = await verifyStore({ baseUrl, credential: { apiKey: KEY } });
      expect(report.ok).toBe(false);
      expect(report.checks).toEqual([
        expect.objectContaining({ id: 'url', status: 'failed', detail: `'${baseUrl}' is not a URL` }),
      ]);
    },
  );
});
