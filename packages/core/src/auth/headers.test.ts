import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBasic, parseBearer } from './headers.js';

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const anyHeader = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ maxLength: 40 }).map((rest) => `Bearer ${rest}`),
  fc.string({ maxLength: 40 }).map((rest) => `Basic ${rest}`),
  fc.base64String({ maxLength: 60 }).map((encoded) => `Basic ${encoded}`),
  fc.constantFrom(undefined, null, 42, ['Bearer a', 'Bearer b'], {}),
);
const basic = (text: string | Buffer) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('parseBearer', () => {
  it('never throws, and only ever returns a token68 that follows the scheme', () => {
    fc.assert(
      fc.property(anyHeader, (header) => {
        const token = parseBearer(header);
        if (token === null) return;
        expect(token).toMatch(TOKEN68);
        expect((header as string).toLowerCase().startsWith('bearer ')).toBe(true);
        expect((header as string).endsWith(token)).toBe(true);
      }),
    );
  });

  it('reads any token68 under any casing of the scheme', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,80}=*$/),
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'),
        (token, scheme) => {
          expect(parseBearer(`${scheme} ${token}`)).toBe(token);
        },
      ),
    );
  });

  it.each([
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['another scheme', 'Basic abc'],
    ['a token with a space', 'Bearer abc def'],
    ['a token with a comma', 'Bearer abc,def'],
    ['no space after the scheme', 'Bearerabc'],
    ['an 8 KB header', `Bearer ${'a'.repeat(8 * 1024)}`],
  ])('refuses %s', (_case, header) => {
    expect(parseBearer(header)).toBeNull();
  });
});

describe('parseBasic', () => {
  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(anyHeader, (header) => {
        const parsed = parseBasic(header);
        if (parsed !== null) expect(parsed.username).not.toContain(':');
      }),
    );
  });

  it('reads back any user without a colon and any password, colons and UTF-8 included', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 30 }).filter((user) => !user.includes(':')),
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        (username, password) => {
          expect(parseBasic(basic(`${username}:${password}`))).toEqual({ username, password });
        },
      ),
    );
  });

  it('refuses a decoded value without a colon', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((text) => !text.includes(':')),
        (text) => {
          expect(parseBasic(basic(text))).toBeNull();
        },
      ),
    );
  });

  it.each([
    ['not base64', 'Basic !!!notbase64!!!'],
    ['base64 without its padding', `Basic ${Buffer.from('ab:c').toString('base64').replace(/=+$/, '')}x`],
    ['bytes that are not UTF-8', basic(Buffer.from([0x75, 0x3a, 0xff, 0xfe]))],
    ['the scheme alone', 'Basic'],
    ['a bearer token', 'Bearer dXNlcjpwYXNz'],
  ])('refuses %s', (_case, header) => {
    expect(parseBasic(header)).toBeNull();
  });

  it('accepts the scheme in any case', () => {
    expect(parseBasic(`bAsIc ${Buffer.from('hiwelink:s3:cret').toString('base64')}`)).toEqual({
      username: 'hiwelink',
      password: 's3:cret',
    });
  });
});
