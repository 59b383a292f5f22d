import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback.ts';

describe('isLoopbackHost', () => {
  it('knows this machine by every name a URL or a listen address gives it, and nothing else', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.1', '128.0.0.1', 'example.com', 'localhost.example.com', '127.0.0.1.example.com', '::2']) expect(isLoopbackHost(host), host).toBe(false);
  });
});
