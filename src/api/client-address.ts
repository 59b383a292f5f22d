import net from 'node:net';
import { ConfigError } from '../domain/errors.ts';

/**
 * Which peers are reverse proxies whose `X-Forwarded-For` names the real client (OUTFLOW_TRUSTED_PROXIES).
 * Without it the header is ignored: anyone could write it, and choose which address their failed sign-ins
 * count against; with every request coming from a proxy, though, all clients share its address.
 */
export interface TrustedProxies {
  trusts(address: string): boolean;
}

export const NO_TRUSTED_PROXIES: TrustedProxies = { trusts: () => false };

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Parses a comma-separated list of addresses and CIDR ranges: `127.0.0.1, 10.0.0.0/8, fd00::/8`. */
export function parseTrustedProxies(value: string | undefined, setting = 'OUTFLOW_TRUSTED_PROXIES'): TrustedProxies {
  const entries = (value ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return NO_TRUSTED_PROXIES;
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = net.isIP(address ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new ConfigError(
        'invalid_settings',
        `${setting} has "${entry}", which is not an IP address or CIDR range. List your reverse proxies' addresses, comma-separated, e.g. 127.0.0.1,10.0.0.0/8.`,
      );
    }
    list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return {
    trusts(raw) {
      const address = plainAddress(raw);
      const family = net.isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the last address in
 * `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it was called from;
 * entries further left were written by the client and prove nothing).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: TrustedProxies): string | undefined {
  if (!peer) return undefined;
  let address = plainAddress(peer);
  if (!forwardedFor || !trusted.trusts(address)) return address;
  const hops = forwardedFor.split(',').map((h) => h.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i]!);
    if (net.isIP(hop) === 0) break;
    address = hop;
    if (!trusted.trusts(hop)) break;
  }
  return address;
}
