import dns from 'node:dns/promises';
import net from 'node:net';

// Addresses a webhook must not reach unless an administrator allows it: this machine, the private networks
// around it and their link-local metadata services (169.254.169.254). A contributor can set an export's
// webhook; without this, they could make the server post to internal services.
const PRIVATE = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(address, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local, shared, multicast or unspecified. */
export function isPrivateAddress(ip: string): boolean {
  const address = ip.replace(/^\[|\]$/g, '');
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPrivateAddress(mapped[1]!);
  const family = net.isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export type Lookup = (hostname: string) => Promise<string[]>;

const LOOKUP_TIMEOUT_MS = 5000;

/** Every address the system resolver gives for a name (as a connection would resolve it). */
export const systemLookup: Lookup = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`resolving ${hostname} took over ${LOOKUP_TIMEOUT_MS / 1000} s`), { code: 'ETIMEOUT' })), LOOKUP_TIMEOUT_MS);
  });
  try {
    return (await Promise.race([dns.lookup(hostname, { all: true, verbatim: true }), timeout])).map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The private address a URL's host is or resolves to, or null when it is public. A name that does not
 * resolve is not private (nothing could be reached there); every address of a name that resolves to several
 * must be public.
 */
export async function privateAddressOf(url: URL, lookup: Lookup = systemLookup): Promise<string | null> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) !== 0) return isPrivateAddress(host) ? host : null;
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch {
    return null;
  }
  return addresses.find(isPrivateAddress) ?? null;
}
