/**
 * Quotes `value` for a POSIX shell when it needs it, so a command we suggest in a message can be pasted as
 * it is: `nightly` stays bare, `MS Ads` becomes `'MS Ads'`, and `it's` becomes `'it'\''s'`.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
