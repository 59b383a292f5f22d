import fs from 'node:fs';
import type { Command } from 'commander';
import type { Home, OpenHomeOptions } from '../../app/home.ts';
import { resolveHomeDir } from '../../app/home-dir.ts';
import type { OutflowClient } from '../../client/client.ts';
import { remoteClient } from '../../client/remote.ts';
import { readServerFile } from '../../server/server-file.ts';
import { renewLocalToken } from '../../client/local-token.ts';
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
  const { openHome } = await import('../../app/home.ts');
  const home = await openHome({ dir: homeOption(command), ...options });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

/**
 * The client a command talks through: the server's API when `OUTFLOW_URL` is set or a server owns the
 * home (it wrote `<home>/server.json`), else the use cases on the home, opened by this process. The command
 * prints the same either way.
 */
export async function openClient(command: Command, env: NodeJS.ProcessEnv = process.env): Promise<OutflowClient> {
  if (env.OUTFLOW_URL) {
    if (!env.OUTFLOW_TOKEN) throw new ValidationError('OUTFLOW_URL is set but OUTFLOW_TOKEN is not: create a token with `outflow token create` on the server and set OUTFLOW_TOKEN.');
    return remoteClient(env.OUTFLOW_URL, env.OUTFLOW_TOKEN);
  }
  const dir = resolveHomeDir(homeOption(command), env);
  const server = readServerFile(dir);
  if (server) {
    // Whoever can read the home owns it: when the server's CLI token was revoked (in the web app, say), the
    // key beside it in server.json gets a new one instead of locking this machine's CLI out.
    const renewKey = server.renewKey;
    return remoteClient(server.url, server.token, renewKey ? { renewToken: () => renewLocalToken(server.url, renewKey) } : {});
  }
  // The stores, DuckDB and the queue are loaded only here, when this process works on the home itself: through a
  // server the CLI needs none of them (see src/cli/main.ts).
  const [{ openHome }, { localClient }] = await Promise.all([import('../../app/home.ts'), import('../../client/local.ts')]);
  return localClient(await openHome({ dir, env }));
}

/** Runs `fn` with the command's client and always closes it. */
export async function withClient<T>(command: Command, fn: (client: OutflowClient) => Promise<T>): Promise<T> {
  const client = await openClient(command);
  try {
    return await fn(client);
  } finally {
    await client.close();
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

export { integerOption } from './options.ts';

/** What `--if-match` says, for every command that takes it. */
export const IF_MATCH_HELP = 'only if it is still the version with this ETag (the etag of `show --json`); refused (exit 4) when someone changed it since';

/**
 * `--if-match <etag>` as the ETag the API compares: quoted (a shell makes typing the quotes awkward, so they are
 * optional), or `*`. Anything that cannot be an ETag is refused here, the same with or without a server.
 */
export function ifMatchOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '*') return text;
  const inner = /^"(.*)"$/.exec(text)?.[1] ?? text;
  if (!/^[\x21\x23-\x7E]+$/.test(inner)) {
    throw new ValidationError(`--if-match takes an ETag as \`show --json\` prints it (its "etag"), e.g. --if-match '"exp_0mwt1ab2c3d4e5f6.3"'; "${value}" is not one.`);
  }
  return `"${inner}"`;
}
