import type { HiwelinkOptions, RateLimitOptions } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { frameworks, startPerTest } from '../support/frameworks.js';
import { send } from '../support/http-client.js';

// Issue #12: thirty wrong keys from one IPv4 address got 401x5 then 429x25, but the same thirty
// from thirty addresses of one IPv6 /64 got 401x30. Requests without an accepted credential now
// count per IPv6 prefix (/56 unless `rateLimit.ipv6Subnet` says otherwise); IPv4 per address, and
// an IPv4-mapped IPv6 address as the IPv4 address it maps. The addresses reach the kit the way
// they do behind a reverse proxy: X-Forwarded-For from a trusted loopback proxy, each entry with
// or without its port (`203.0.113.9:1000`, `[2001:db8::1]:443`), which is not part of the client.

const KEY = 'hwk_live_ipv6_prefix_key_0123456789';
const list = () => ({ items: [], total: 0 });
const LIMITED = [...Array(5).fill(401), ...Array(25).fill(429)];
const NEVER_LIMITED = Array(30).fill(401);
const hex = (index: number) => index.toString(16);

const SOURCES: [string, (index: number) => string, Partial<RateLimitOptions>, number[]][] = [
  ['one IPv4 address', () => '203.0.113.7', {}, LIMITED],
  ['thirty addresses of one IPv6 /64', (index) => `2001:db8:0:1::${hex(index + 1)}`, {}, LIMITED],
  ['thirty /64s of one /56 (the default prefix)', (index) => `2001:db8:0:${hex(index)}::1`, {}, LIMITED],
  [
    'an IPv4 address and its IPv4-mapped IPv6 form, in turn',
    (index) => (index % 2 ? '::ffff:203.0.113.9' : '203.0.113.9'),
    {},
    LIMITED,
  ],
  // Review of #12: an entry written with its port counted per port, as a bucket of its own.
  ['one IPv4 address on thirty ports', (index) => `203.0.113.9:${1000 + index}`, {}, LIMITED],
  [
    'one IPv6 address in brackets on thirty ports, and without a port',
    (index) => (index % 3 === 2 ? '[2001:db8::1]' : `[2001:db8::1]:${443 + index}`),
    {},
    LIMITED,
  ],
  [
    'an IPv4-mapped address in brackets with a port, and the IPv4 address with one',
    (index) => (index % 2 ? `[::ffff:203.0.113.9]:${80 + index}` : `203.0.113.9:${80 + index}`),
    {},
    LIMITED,
  ],
  [
    'one client behind a trusted proxy that writes its own port',
    (index) => `203.0.113.7, 127.0.0.1:${5000 + index}`,
    {},
    LIMITED,
  ],
  ['thirty IPv4 addresses', (index) => `203.0.113.${index + 10}`, {}, NEVER_LIMITED],
  ['thirty IPv4 addresses, each with a port', (index) => `203.0.113.${index + 10}:8080`, {}, NEVER_LIMITED],
  ['thirty different /56s', (index) => `2001:db8:${hex(index)}::1`, {}, NEVER_LIMITED],
  [
    'thirty /64s of one /56 with ipv6Subnet: 64',
    (index) => `2001:db8:0:${hex(index)}::1`,
    { ipv6Subnet: 64 },
    NEVER_LIMITED,
  ],
  [
    'thirty addresses of one /64 with ipv6Subnet: 64',
    (index) => `2001:db8:0:1::${hex(index + 1)}`,
    { ipv6Subnet: 64 },
    LIMITED,
  ],
  [
    'thirty addresses of one /64 with ipv6Subnet: 128',
    (index) => `2001:db8:0:1::${hex(index + 1)}`,
    { ipv6Subnet: 128 },
    NEVER_LIMITED,
  ],
];

describe.each(frameworks)('$name', (framework) => {
  const start = startPerTest(framework);

  it.each(SOURCES)('thirty wrong keys from %s', async (_case, address, rateLimit, expected) => {
    const options: HiwelinkOptions = {
      products: list,
      orders: list,
      auth: { apiKey: KEY },
      logger: { warn() {}, error() {} },
      trustProxy: 'loopback',
      rateLimit: { limit: 5, windowMs: 60_000, ...rateLimit },
    };
    const app = await start(options);
    const statuses: number[] = [];
    for (let index = 0; index < 30; index++) {
      const headers = { 'x-api-key': `hwk_live_guess_${index}`, 'x-forwarded-for': address(index) };
      statuses.push((await send(`${app.url}/health`, { headers })).status);
    }
    expect(statuses).toEqual(expected);
    // The accepted key counts per credential, not per address, so the crawler is never locked out.
    const crawler = await send(`${app.url}/health`, {
      headers: { 'x-api-key': KEY, 'x-forwarded-for': address(0) },
    });
    expect(crawler.status).toBe(200);
  });

  it('refuses an ipv6Subnet outside 1 to 128 at startup', async () => {
    for (const ipv6Subnet of [0, 129, 56.5]) {
      await expect(
        framework.start({ products: list, orders: list, auth: { apiKey: KEY }, rateLimit: { ipv6Subnet } }),
      ).rejects.toThrow(/rateLimit\.ipv6Subnet/);
    }
  });
});
