import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../domain/errors.ts';
import { closestMatch } from '../lib/edit-distance.ts';
import { codePoint, escapeUnsafe, findUnsafeChar } from '../lib/text.ts';

/**
 * zod issues as path + message, in plain words: zod's own wording ("Too small: expected string to have >=1
 * characters") is for developers, and the CLI and the web app both show these messages. A message a schema
 * wrote itself is kept. Never quotes input values (they may be secrets).
 */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: plainMessage(issue) }));
}

const fmt = (n: number | bigint) => n.toLocaleString('en-US');
const TYPE_WORDS: Record<string, string> = { string: 'text', number: 'a number', int: 'a whole number', boolean: 'yes or no (true or false)', array: 'a list', object: 'a JSON object', date: 'a date' };
const FORMAT_WORDS: Record<string, string> = { email: 'an e-mail address', url: 'a web address (https://…)', uuid: 'an ID like 3fa85f64-5717-4562-b3fc-2c963f66afa6', datetime: 'a date and time like 2026-11-01T06:00:00Z', date: 'a date like 2026-11-01' };

/** zod's default wording starts like this; a schema's own message does not. */
const ZOD_DEFAULT = /^(Invalid|Too small|Too big|Expected|Unrecognized)/;

export function plainMessage(issue: z.core.$ZodIssue): string {
  if (!ZOD_DEFAULT.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if ((issue as { input?: unknown }).input === undefined) return 'Required: fill this in.';
      return `Must be ${TYPE_WORDS[issue.expected] ?? issue.expected}.`;
    case 'too_small': {
      const min = issue.minimum as number | bigint;
      if (issue.origin === 'string') return Number(min) <= 1 ? 'Required: fill this in.' : `Must be at least ${fmt(min)} characters long.`;
      if (issue.origin === 'array' || issue.origin === 'set') return Number(min) <= 1 ? 'Pick at least one.' : `Pick at least ${fmt(min)}.`;
      if (Number(min) === 0 && !issue.inclusive) return 'Must be more than 0.';
      return `Must be ${issue.inclusive === false ? 'more than' : 'at least'} ${fmt(min)}.`;
    }
    case 'too_big': {
      const max = issue.maximum as number | bigint;
      if (issue.origin === 'string') return `Must be at most ${fmt(max)} characters long.`;
      if (issue.origin === 'array' || issue.origin === 'set') return `Pick at most ${fmt(max)}.`;
      return `Must be ${issue.inclusive === false ? 'less than' : 'at most'} ${fmt(max)}.`;
    }
    case 'invalid_format':
      if (issue.format === 'regex') return issue.pattern === '^\\d+$' ? 'Must be digits only.' : 'Has the wrong format; see the field’s description.';
      return `Must be ${FORMAT_WORDS[issue.format] ?? issue.format}.`;
    case 'invalid_value':
      return `Must be one of: ${issue.values.map((v) => (v === '\t' ? 'tab' : String(v))).join(', ')}.`;
    case 'unrecognized_keys':
      return `Unknown setting${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}.`;
    case 'not_multiple_of':
      return `Must be a multiple of ${String(issue.divisor)}.`;
    default:
      return issue.message;
  }
}

/**
 * Refuses keys a schema does not know, naming the closest known key: a misspelt optional setting would
 * otherwise be dropped without a word and its default used instead.
 */
export function refuseUnknownKeys(config: Record<string, unknown>, known: string[], what: string): void {
  const unknown = Object.keys(config).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  let anyWithoutSuggestion = false;
  const parts = unknown.map((key) => {
    const suggestion = closestMatch(key, known);
    if (!suggestion) anyWithoutSuggestion = true;
    return suggestion ? `unknown key "${key}", did you mean "${suggestion}"?` : `unknown key "${key}"`;
  });
  throw new ValidationError(
    `The ${what} is invalid: ${parts.join('; ')}${anyWithoutSuggestion ? `${parts.at(-1)!.endsWith('?') ? '' : '.'} Known keys: ${known.join(', ')}.` : ''}`,
    unknown.map((key) => ({ path: key, message: 'unknown key' })),
  );
}

/**
 * Refuses a name (of a segment, export, connection, token …) holding a control character (NUL, newline, ESC
 * …) or a bidirectional-text control: printed, it would split a table row, send escape sequences to the
 * terminal of whoever lists it, or show another name than the one stored.
 */
export function checkName(name: string, what: string, path = 'name'): void {
  const unsafe = findUnsafeChar(name);
  if (!unsafe) return;
  throw new ValidationError(
    `The ${what} name "${escapeUnsafe(name)}" holds ${codePoint(unsafe.char)} at position ${unsafe.index + 1}: names may not hold control characters ` +
      '(NUL, newline, ESC …) or bidirectional-text controls, which garble terminals and tables or disguise the name. Remove it and save again.',
    [{ path, message: 'control character' }],
  );
}
