/**
 * Characters that must never reach a terminal, a table or a log line as they are: C0 and C1 controls (NUL,
 * newline, ESC, DEL, CSI …), the line and paragraph separators, and the bidirectional-text controls
 * (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069), with which a name can show one text and hold
 * another ("Trojan Source", CVE-2021-42574).
 */
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/** The first unsafe character of `text` and its position, or null. */
export function findUnsafeChar(text: string): { char: string; index: number } | null {
  const match = UNSAFE.exec(text);
  return match ? { char: match[0], index: match.index } : null;
}

/** `U+001B`: how a message names a character it will not print. */
export function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * `text` with every unsafe character written as a `\uXXXX` escape (the JSON spelling, so JSON stays valid
 * JSON). `keep` lists characters to leave as they are: the line breaks and tabs of multi-line output.
 */
export function escapeUnsafe(text: string, keep = ''): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE_ALL, (char) => (keep.includes(char) ? char : `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`));
}
