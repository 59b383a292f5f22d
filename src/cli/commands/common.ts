import fs from 'node:fs';
import type { Command } from 'commander';
import { openHome, type Home, type OpenHomeOptions } from '../../app/home.ts';
import { ValidationError } from '../../domain/errors.ts';
import { describeJsonError } from '../../lib/json-error.ts';

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
    // Never the parser's own message: it quotes the text around the error, which can be part of a secret.
    throw new ValidationError(`The config ${source === '-' ? 'on standard input' : `in ${source}`} is not valid JSON: ${describeJsonError(text, error)}. Fix it there and try again.`);
  }
}

export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
