import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { addressBucket } from './client.js';

describe('addressBucket', () => {
  // Global unicast (2000::/3), so no address is IPv4-mapped: seven bytes are the /56 network.
  const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
  const address = (network: Uint8Array, host: Uint8Array) =>
    ipaddr.fromByteArray([0x20, ...network, ...host]).toString();

  it('gives every address of one IPv6 /56 the same bucket, and another /56 another', () => {
    fc.assert(
      fc.property(bytes(6), bytes(6), bytes(9), bytes(9), (network, otherNetwork, host, otherHost) => {
        const bucket = addressBucket(address(network, host), 56);
        expect(addressBucket(address(network, otherHost), 56)).toBe(bucket);
        const sameNetwork = network.every((byte, index) => byte === otherNetwork[index]);
        expect(addressBucket(address(otherNetwork, otherHost), 56) === bucket).toBe(sameNetwork);
      }),
    );
  });

  it.each([
    ['2001:db8:0:1::5', 56, '2001:db8::/56'],
    ['2001:db8:0:1ff::5', 56, '2001:db8:0:100::/56'],
    ['2001:db8:0:1ff::5', 64, '2001:db8:0:1ff::/64'],
    ['2001:db8:0:1ff::5', 128, '2001:db8:0:1ff::5'],
    ['::ffff:203.0.113.9', 56, '203.0.113.9'],
    ['203.0.113.9', 56, '203.0.113.9'],
    ['not an address', 56, 'not an address'],
  ])('%s with ipv6Subnet %i is counted as %s', (address, bits, bucket) => {
    expect(addressBucket(address, bits)).toBe(bucket);
  });
});
