import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../domain/errors.ts';
import { closestMatch } from '../lib/edit-distance.ts';

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
