import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { openHome, type Home, type OpenHomeOptions } from '../../app/home.ts';
import { ValidationError } from '../../domain/errors.ts';

export interface CommonOptions {
  home?: string;
  json?: boolean;
}

/** The --home given on the sub-command or on `outflow` itself. */
export function homeOption(command: Command): string | undefined {
  let current: Command | null = command;
  while (current) {
    const value = current.opts().home as string | undefined;
    if (value) return value;
    current = current.parent;
  }
  return undefined;
}

/** Opens the home for one command and always closes it. */
export async function withHome<T>(command: Command, fn: (home: Home) => Promise<T>, options: OpenHomeOptions = {}): Promise<T> {
  const home = await openHome({ dir: homeOption(command), ...options });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

/** Reads a JSON config from a file, or from standard input for `-`. */
export function readJsonConfig(source: string | undefined): unknown {
  if (source === undefined) return undefined;
  let text: string;
  try {
    text = source === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(source, 'utf8');
  } catch (error) {
    throw new ValidationError(`Cannot read the config ${source === '-' ? 'from standard input' : `file ${source}`}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`The config ${source === '-' ? 'on standard input' : `in ${source}`} is not valid JSON: ${(error as Error).message}.`);
  }
}

export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

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
