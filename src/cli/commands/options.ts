import { InvalidArgumentError } from 'commander';

/** Commander parser for a port number (0 picks a free one). */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535.');
  return n;
}
