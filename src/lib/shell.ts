/**
 * Quotes one word for a POSIX shell, only when it needs it, so a command suggested in a message can be
 * copied and pasted as is: `Partner` stays bare, `MS Ads` becomes `"MS Ads"`, and a name holding `$`, a
 * backtick, `\`, `"` or `!` (which double quotes would still expand) is single-quoted instead.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  if (!/[$`\\"!]/.test(word)) return `"${word}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An `outflow …` command line to suggest in a message; every argument is quoted when it needs it. */
export function outflowCommand(...args: string[]): string {
  return ['outflow', ...args.map(shellQuote)].join(' ');
}
