import { describe, expect, it } from 'vitest';
import { escapeUnsafe, findUnsafeChar } from './text.ts';

describe('unsafe characters', () => {
  it('finds NUL, newline, ESC, C1 controls and bidi overrides, and nothing in ordinary text', () => {
    for (const char of ['\0', '\n', '\r', '\x1b', '\x7f', '\x9b', '\u202e', '\u2066', '\u2069', '\u200f', '\u2028']) {
      expect(findUnsafeChar(`ab${char}c`)).toEqual({ char, index: 2 });
    }
    expect(findUnsafeChar('Gold customers: <b>NL</b> & "DE" — Zürich 東京 😀')).toBeNull();
  });

  it('escapes them as JSON does, keeping what the caller asks, so JSON text stays valid', () => {
    expect(escapeUnsafe('a\x1b[31mred\u202eb\nc\td', '\n')).toBe('a\\u001b[31mred\\u202eb\nc\\u0009d');
    const json = JSON.stringify({ name: 'x\u202e\x9by' });
    expect(JSON.parse(escapeUnsafe(json, '\n'))).toEqual({ name: 'x\u202e\x9by' });
  });
});
