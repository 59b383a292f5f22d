import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { Io } from '../../src/cli/output.ts';
import { ensureServer, tokenForRole, viaServer } from './server.ts';

/** Points the CLI at the home's server as an account of `OUTFLOW_ROLE`'s role; returns how to undo it. */
async function connectToServer(home: string): Promise<() => void> {
  const server = await ensureServer(home);
  // Through a server, OUTFLOW_USER/OUTFLOW_ROLE grant nothing: they pick a test account's token instead.
  const role = process.env.OUTFLOW_ROLE || 'admin';
  const user = process.env.OUTFLOW_USER;
  if (role === 'admin' && !user) return () => {};
  const saved = { url: process.env.OUTFLOW_URL, token: process.env.OUTFLOW_TOKEN };
  process.env.OUTFLOW_URL = server.url;
  process.env.OUTFLOW_TOKEN = await tokenForRole(server, role, user);
  return () => {
    for (const [key, value] of [['OUTFLOW_URL', saved.url], ['OUTFLOW_TOKEN', saved.token]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not). */
  json<T = any>(): T;
}

/** Commands that never go through a server: they have no home, or are the server. */
const LOCAL_COMMANDS = new Set(['demo', 'serve', 'destinations', '--help', 'help']);

/**
 * Runs `outflow …` in this process against `home`, capturing what it prints. With OUTFLOW_TEST_VIA_SERVER=1
 * a server owns the home and the command goes through its API; `OUTFLOW_ROLE` then picks a token of an
 * account with that role, since through a server the variable itself grants nothing.
 */
export async function outflow(home: string, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (t) => (stdout += t.endsWith('\n') ? t : `${t}\n`), err: (t) => (stderr += t.endsWith('\n') ? t : `${t}\n`), interactive: false };
  const restore = viaServer && !LOCAL_COMMANDS.has(args[0] ?? '') ? await connectToServer(home) : () => {};
  let code: number;
  try {
    code = await main(['node', 'outflow', ...args, '--home', home], io);
  } finally {
    restore();
  }
  return {
    code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`outflow ${args.join(' ')} did not print JSON (exit ${code}).\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
    },
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `outflow-${prefix}-`));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** A strict RFC 4180 parser for checking what we wrote: every record must be well-formed. */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < text.length && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') throw new Error(`bad quote at offset ${i}`);
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at offset ${i}`);
      quoted = true;
      i++;
    } else if (ch === delimiter) {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += ch === '\r' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
