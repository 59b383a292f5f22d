import { randomBytes } from 'node:crypto';

/**
 * A short, time-ordered id such as `run_lq2x9k1f3a7be2`: sorting ids sorts by creation time, which keeps
 * run history readable without a second sort key.
 */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(4).toString('hex')}`;
}
