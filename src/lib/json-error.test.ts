import { describe, expect, it } from 'vitest';
import { describeJsonError, firstSyntaxErrorOffset } from './json-error.ts';

function errorOf(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error(`parsed: ${text}`);
}

const secret = 'sk_live_Zq8v3RmT0pX2';

/** Every run of 3 characters of the secret: none may appear in a message. */
function fragments(value: string): string[] {
  return Array.from({ length: value.length - 2 }, (_, i) => value.slice(i, i + 3));
}

describe('describeJsonError', () => {
  const broken: Array<[string, string]> = [
    [`{\n  "host": "h",\n  "password": ${secret}\n}`, 'unexpected character at line 3, column 15'],
    [`{\n  "password": "${secret}\n}`, 'a control character (such as a line break or tab) inside a string at line 2, column 36'],
    [`{"password": "${secret}"`, "expected ',' or '}' at line 1, column 36"],
    [`{"password": "${secret}`, "a string is not closed at line 1, column 35"],
    [`{"password": `, "the text ends too early at line 1, column 14"],
    [`{"password": "${secret}",}`, 'expected a double-quoted property name at line 1, column 37'],
    [`{"password": "${secret}" "x": 1}`, "expected ',' or '}' at line 1, column 37"],
    [`{"password": "${secret}"} ${secret}`, 'unexpected text after the end of the JSON value at line 1, column 38'],
    [`\r\n{"password": '${secret}'}`, 'unexpected character at line 2, column 14'],
  ];

  it.each(broken)('names only line and column for %j', (text, expected) => {
    const message = describeJsonError(text, errorOf(text));
    expect(message).toBe(expected);
    for (const piece of fragments(secret)) expect(message).not.toContain(piece);
  });

  it('finds the same offset as V8 wherever V8 reports one', () => {
    const samples = ['{"a":1,}', '{"a":"x', '{"a":1} x', '{a:1}', '{"a":"b\nc"}', '[1,2', '{"a" 1}', '{"a":"\\q"}', '{"a":01}', '[1,]', '{"a":tru}', '{"a":"\\u12"}'];
    for (const text of samples) {
      const position = /at position (\d+)/.exec((errorOf(text) as Error).message)?.[1];
      if (position !== undefined) expect([text, firstSyntaxErrorOffset(text)]).toEqual([text, Number(position)]);
    }
  });
});
