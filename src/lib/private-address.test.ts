import { describe, expect, it } from 'vitest';
import { isPrivateAddress, privateAddressOf } from './private-address.ts';

describe('private addresses', () => {
  it('tells loopback, private, link-local and unspecified addresses from public ones', () => {
    for (const ip of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd12:3456::1', '::ffff:127.0.0.1', '[::1]', '224.0.0.1']) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', 'not-an-ip']) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });

  it('resolves a host name and finds any private address among its answers', async () => {
    const lookup = async (host: string) => ({ 'hooks.example.com': ['93.184.216.34'], 'sneaky.example.com': ['93.184.216.34', '10.0.0.5'] })[host] ?? Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    expect(await privateAddressOf(new URL('https://hooks.example.com/x'), lookup)).toBeNull();
    expect(await privateAddressOf(new URL('https://sneaky.example.com/x'), lookup)).toBe('10.0.0.5');
    expect(await privateAddressOf(new URL('https://unknown.example.com/x'), lookup)).toBeNull();
    expect(await privateAddressOf(new URL('http://[::1]:8080/x'), lookup)).toBe('::1');
    // The real resolver: localhost is this machine.
    expect(await privateAddressOf(new URL('http://localhost:9/x'))).toMatch(/^(127\.|::1$)/);
  });
});
