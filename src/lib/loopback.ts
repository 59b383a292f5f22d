/**
 * Whether a host name or address is this machine's loopback (`localhost`, 127.0.0.0/8, `::1`, with or
 * without the brackets a URL puts around IPv6): only this machine can reach it.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1';
}
