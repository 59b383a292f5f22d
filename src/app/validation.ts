import type { z } from 'zod';
import type { ValidationIssue } from '../domain/errors.ts';

/** zod issues as path + message. zod's messages name expected and received types, never input values. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}
