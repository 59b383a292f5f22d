import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../domain/errors.ts';
import { closestMatch } from '../lib/edit-distance.ts';
import { codePoint, escapeUnsafe, findUnsafeChar } from '../lib/text.ts';

/** zod issues as path + message. zod's messages name expected and received types, never input values. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
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
