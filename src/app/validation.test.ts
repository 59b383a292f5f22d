import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { zodIssues } from './validation.ts';

const messages = (schema: z.ZodType, input: unknown) => {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error('expected a refusal');
  return zodIssues(parsed.error).map((i) => `${i.path}: ${i.message}`);
};

describe('zod issues in plain words (the CLI and the web app show them)', () => {
  it('says what to do instead of naming types and operators', () => {
    const schema = z.object({
      name: z.string().min(1),
      segments: z.array(z.string()).min(1),
      port: z.number().int().min(1).max(65_535),
      limit: z.number().positive(),
      big: z.number().max(1_000_000),
      mode: z.enum(['full', 'mirror']),
      url: z.url(),
      missing: z.string(),
    });
    expect(messages(schema, { name: '', segments: [], port: 70_000, limit: 0, big: 2_000_000, mode: 'x', url: 'nope' })).toEqual([
      'name: Required: fill this in.',
      'segments: Pick at least one.',
      'port: Must be at most 65,535.',
      'limit: Must be more than 0.',
      'big: Must be at most 1,000,000.',
      'mode: Must be one of: full, mirror.',
      'url: Must be a web address (https://…).',
      'missing: Required: fill this in.',
    ]);
    for (const line of messages(schema, {})) expect(line).not.toMatch(/expected|>=|Too small|received/i);
  });

  it('keeps a message the schema wrote itself', () => {
    expect(messages(z.object({ folder: z.string().refine((f) => !f.includes('..'), { message: 'must not contain ".." segments' }) }), { folder: 'a/../b' })).toEqual(['folder: must not contain ".." segments']);
  });
});
