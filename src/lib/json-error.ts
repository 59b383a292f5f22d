/**
 * Describes why JSON text does not parse, by line and column only. V8's messages quote the text around the
 * error (`Unexpected token 's', ..."assword": s3cr3t"... is not valid JSON`), and in a config file that text
 * can be the start of a secret, so the message itself is never shown: only its kind and the position.
 */
export function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reported = /at position (\d+)/.exec(message)?.[1];
  const offset = reported !== undefined ? Number(reported) : /end of JSON input/.test(message) ? text.length : firstSyntaxErrorOffset(text);
  const { line, column } = lineAndColumn(text, offset);
  return `${reasonOf(message)} at line ${line}, column ${column}`;
}

/** V8's message kinds, reworded without any of the source text some of them carry. */
const REASONS: Array<[RegExp, string]> = [
  [/^Unexpected end of JSON input/, 'the text ends too early'],
  [/^Unterminated string/, 'a string is not closed'],
  [/^Bad control character/, 'a control character (such as a line break or tab) inside a string'],
  [/^Bad (escaped character|Unicode escape)/, 'a bad escape sequence in a string'],
  [/^Expected (property name|double-quoted property name)/, 'expected a double-quoted property name'],
  [/^Expected ',' or '\}'/, "expected ',' or '}'"],
  [/^Expected ',' or '\]'/, "expected ',' or ']'"],
  [/^Expected ':'/, "expected ':'"],
  [/^Unexpected non-whitespace character after JSON/, 'unexpected text after the end of the JSON value'],
];

function reasonOf(message: string): string {
  return REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'unexpected character';
}

/** 1-based line and column (in characters) of `offset`; CRLF and LF both end a line. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split(/\r\n|\n|\r/);
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/**
 * The offset of the first character that makes `text` invalid JSON (RFC 8259), or `text.length` when it
 * ends too early. Used for the V8 messages that carry a snippet instead of a position.
 */
export function firstSyntaxErrorOffset(text: string): number {
  let i = 0;
  class Stop {
    constructor(readonly at: number) {}
  }
  const stop = (at = i): never => {
    throw new Stop(at);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) stop(i - 1);
  };
  const digits = () => {
    if (!/[0-9]/.test(text[i] ?? '')) stop();
    while (/[0-9]/.test(text[i] ?? '')) i++;
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const string = () => {
    if (text[i] !== '"') stop();
    i++;
    for (;;) {
      if (i >= text.length) stop();
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < ' ') stop();
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          for (let h = i + 2; h < i + 6; h++) if (!/[0-9a-fA-F]/.test(text[h] ?? '')) stop(h);
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i += 2;
        else stop(i + 1);
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') stop();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else stop();
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else stop();
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number();
    stop();
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (error) {
    if (error instanceof Stop) return Math.min(error.at, text.length);
    throw error;
  }
}
