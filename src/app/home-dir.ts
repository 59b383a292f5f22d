import path from 'node:path';

/**
 * The home a command works on: `--home`, else `$OUTFLOW_HOME`, else `./.outflow`. A module of its own so that
 * the CLI can find a running server's `server.json` without loading the stores (home.ts loads them all).
 */
export function resolveHomeDir(dir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(dir ?? env.OUTFLOW_HOME ?? '.outflow');
}
