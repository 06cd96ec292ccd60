import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';
import type { CoreRequest } from '../http.js';

/** How far to believe `X-Forwarded-For` / `X-Forwarded-Proto`: proxy addresses, CIDRs or `loopback`, `linklocal`, `uniquelocal`. */
export type TrustProxy = string | readonly string[];

export interface Client {
  /** The client's address: the peer's, or the nearest untrusted hop that the trusted proxies name. */
  ip: string;
  /** Whether the client reached us over TLS, directly or, by a trusted proxy's word, through it. */
  secure: boolean;
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client; IPv4-mapped forms are folded to IPv4. */
export function canonicalIp(address: string | undefined): string {
  if (address === undefined || !ipaddr.isValid(address)) return address ?? '';
  return ipaddr.process(address).toString();
}

/**
 * The rate-limit bucket of a client address: an IPv4 address alone, an IPv6 address by its
 * `/ipv6Subnet` prefix (e.g. `2001:db8:0:100::/56`), since one subscriber is handed a whole /56 or
 * /64 and can rotate through its addresses at will (RIPE-690). IPv4-mapped IPv6 counts as the
 * IPv4 address it maps. Anything that is not an IP address is its own bucket.
 */
export function addressBucket(address: string, ipv6Subnet: number): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4' || ipv6Subnet === 128) return ip.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${ipv6Subnet}`).toString()}/${ipv6Subnet}`;
}

// `203.0.113.9:1000`, `[2001:db8::1]:443`, `[2001:db8::1]`: how proxies write an address with its port.
const IPV4_WITH_PORT = /^([\d.]+):\d{1,5}$/;
const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;

/**
 * An address as a proxy may write it in `X-Forwarded-For`, without its port: `203.0.113.9:1000` is
 * `203.0.113.9`, `[2001:db8::1]:443` and `[2001:db8::1]` are `2001:db8::1` (RFC 3986's form of an
 * IPv6 host, which Azure Application Gateway and some CDNs send). Only when what remains is an IP
 * address; anything else comes back as it was.
 */
export function withoutPort(entry: string): string {
  const address = (IPV4_WITH_PORT.exec(entry) ?? BRACKETED.exec(entry))?.[1];
  return address !== undefined && ipaddr.isValid(address) ? address : entry;
}

/** `X-Forwarded-For` with each entry's port removed (see {@link withoutPort}), for proxy-addr. */
function forwardedWithoutPorts(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const entries = (Array.isArray(header) ? header.join(',') : header).split(',');
  return entries.map((entry) => withoutPort(entry.trim())).join(', ');
}

/** Compiles the trust setting once; throws a TypeError naming the bad entry. */
export function clientResolver(trustProxy: TrustProxy | undefined): (request: CoreRequest) => Client {
  if (trustProxy === undefined) {
    return (request) => ({ ip: canonicalIp(request.remoteAddress), secure: request.secure });
  }
  const trust = proxyaddr.compile(typeof trustProxy === 'string' ? [trustProxy] : [...trustProxy]);
  return (request) => {
    const peer = request.remoteAddress ?? '';
    const viaTrustedProxy = peer !== '' && trust(peer, 0);
    const proto = request.headers['x-forwarded-proto'];
    const forwardedProto = typeof proto === 'string' ? proto.split(',')[0]?.trim().toLowerCase() : undefined;
    return {
      // Ports are removed first: a trusted hop written with its port is still that proxy, and one
      // client on many source ports is one client.
      ip: canonicalIp(
        proxyaddr(
          {
            headers: { 'x-forwarded-for': forwardedWithoutPorts(request.headers['x-forwarded-for']) },
            socket: { remoteAddress: peer },
          } as never,
          trust,
        ),
      ),
      secure: request.secure || (viaTrustedProxy && forwardedProto === 'https'),
    };
  };
}

/** Compiles an allow-list of addresses and CIDR ranges; throws naming an entry that is neither. */
export function ipAllowList(entries: readonly string[]): (ip: string) => boolean {
  const ranges = entries.map((entry) => {
    if (ipaddr.isValidCIDR(entry)) {
      const [address, bits] = ipaddr.parseCIDR(entry);
      // An IPv4-mapped IPv6 range is the IPv4 range it maps.
      if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96] as [ipaddr.IPv4, number];
      }
      return [address, bits] as [ipaddr.IPv4 | ipaddr.IPv6, number];
    }
    if (ipaddr.isValid(entry)) {
      const address = ipaddr.process(entry);
      return [address, address.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number];
    }
    throw new TypeError(`'${entry}' is not an IP address or CIDR range`);
  });
  return (ip) => {
    if (!ipaddr.isValid(ip)) return false;
    const address = ipaddr.process(ip);
    return ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));
  };
}
