import { InvalidArgumentError } from 'commander';

/**
 * A commander parser for whole-number options (`--limit`, `--rows`, `--port`, `--every`): `abc`, `1.5` or
 * `-3` stop the command before it opens anything, with exit code 2, instead of reaching the database as NaN.
 */
export function integerOption(min = 1, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive whole number' : `a whole number of at least ${min}`) : `a whole number from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected ${range}.`);
    }
    return n;
  };
}

/** Commander parser for a port number (0 picks a free one). */
export const parsePort = integerOption(0, 65_535);

/** Commander parser for a count such as `--limit`: a whole number of at least 1. */
export const parsePositiveInt = integerOption(1);
