import { createHash } from 'node:crypto';

// Deliberately simple: one @, no spaces or control characters, a dotted domain with a 2+ letter TLD.
// Vendors validate more strictly; we only refuse what no vendor would take.
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@(?:[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]{0,61}[A-Za-z0-9\u00a1-\uffff])?\.)+[A-Za-z\u00a1-\uffff]{2,63}$/u;
const SHA256_HEX = /^[0-9a-f]{64}$/i;

export type EmailResult =
  | { ok: true; email: string; hashed: boolean }
  | { ok: false; code: 'missing_email' | 'invalid_email'; message: string };

/**
 * Trims and lower-cases an e-mail address and checks its shape. With `acceptsSha256`, a value that
 * already is a 64-hex SHA-256 digest passes through (lower-cased) and is marked `hashed`.
 *
 * @example
 * normalizeEmail('  Ann@Example.COM ') // { ok: true, email: 'ann@example.com', hashed: false }
 */
export function normalizeEmail(value: unknown, options: { acceptsSha256?: boolean } = {}): EmailResult {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) {
    return { ok: false, code: 'missing_email', message: 'The e-mail field is empty.' };
  }
  const text = String(value).trim().toLowerCase();
  if (options.acceptsSha256 && SHA256_HEX.test(text)) return { ok: true, email: text, hashed: true };
  if (text.length > 254 || !EMAIL.test(text)) {
    return { ok: false, code: 'invalid_email', message: 'The e-mail address is malformed.' };
  }
  return { ok: true, email: text, hashed: false };
}


/** SHA-256 of the UTF-8 bytes, lower-case hex (Microsoft Customer Match's `Email` item format). */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
