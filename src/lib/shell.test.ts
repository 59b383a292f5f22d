import { describe, expect, it } from 'vitest';
import { outflowCommand, shellQuote } from './shell.ts';

describe('shellQuote', () => {
  it('leaves plain words bare and quotes the rest so a shell reads back the same word', () => {
    expect(shellQuote('nightly')).toBe('nightly');
    expect(shellQuote('run_0mwt.x-1')).toBe('run_0mwt.x-1');
    expect(shellQuote('MS Ads')).toBe('"MS Ads"');
    expect(shellQuote("Ada's list")).toBe(`"Ada's list"`);
    expect(shellQuote('cost $5')).toBe(`'cost $5'`);
    expect(shellQuote(`it's $5`)).toBe(`'it'\\''s $5'`);
    expect(shellQuote('')).toBe('""');
    expect(outflowCommand('connection', 'authorize', 'MS Ads')).toBe('outflow connection authorize "MS Ads"');
  });
});
