import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { createLogger } from './logger.ts';
import { redactUrl, redactUrls, redactUrlsDeep } from './redact-url.ts';

describe('URL redaction', () => {
  it('drops user name, password, query and fragment, and marks that it did', () => {
    expect(redactUrl('https://user:pa55@proxy.example.com:8443/api/v1?api_key=k3y#x')).toBe('https://•••@proxy.example.com:8443/api/v1?•••');
    expect(redactUrl('https://proxy.example.com?token=t')).toBe('https://proxy.example.com?•••');
    expect(redactUrl('https://api.iterable.com')).toBe('https://api.iterable.com');
    expect(redactUrl('https://api.iterable.com/')).toBe('https://api.iterable.com/');
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('redacts every URL inside a message, keeping the sentence around it', () => {
    expect(redactUrls('Request cannot be constructed from a URL that includes credentials: https://u:p@h.example/x?k=1.')).toBe(
      'Request cannot be constructed from a URL that includes credentials: https://•••@h.example/x?•••.',
    );
    expect(redactUrlsDeep({ msg: 'at http://a:b@h/', err: { message: 'see https://h/?key=v' }, n: 1 })).toEqual({ msg: 'at http://•••@h/', err: { message: 'see https://h/?•••' }, n: 1 });
  });

  it('keeps them out of log lines: message, fields and errors', () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const log = createLogger({ stream });
    const url = 'https://user:pa55@h.example/x?api_key=k3y';
    log.warn({ baseUrl: url, err: new Error(`fetch ${url} failed`), nested: { at: url } }, `cannot reach ${url}`);
    expect(text).toContain('https://•••@h.example/x?•••');
    expect(text).not.toMatch(/pa55|k3y/);
  });
});
