import fs from 'node:fs';
import path from 'node:path';

/** What a running server tells the CLI on the same machine: where it listens and a credential to use. */
export interface ServerFile {
  url: string;
  pid: number;
  token: string;
  /**
   * Proves to the server that the caller can read its home: with it the CLI gets a new local token when the one
   * above was revoked (POST /api/v1/local-token). Absent in files of earlier versions.
   */
  renewKey?: string;
}

const FILE = 'server.json';

export function writeServerFile(dir: string, content: ServerFile): void {
  const target = path.join(dir, FILE);
  const temp = `${target}.${process.pid}.tmp`;
  // Readable by the home's owner only: the token is an administrator's.
  fs.writeFileSync(temp, JSON.stringify(content, null, 2), { mode: 0o600 });
  fs.renameSync(temp, target);
}

/** Removes the file if this process wrote it (a newer server may have replaced it). */
export function removeServerFile(dir: string, pid: number): void {
  const current = readServerFile(dir);
  if (current?.pid === pid) fs.rmSync(path.join(dir, FILE), { force: true });
}

/** The running server of this home, or null when there is none (no file, or its process is gone). */
export function readServerFile(dir: string): ServerFile | null {
  let content: ServerFile;
  try {
    content = JSON.parse(fs.readFileSync(path.join(dir, FILE), 'utf8')) as ServerFile;
  } catch {
    return null;
  }
  if (typeof content?.url !== 'string' || typeof content.token !== 'string' || !Number.isInteger(content.pid)) return null;
  try {
    process.kill(content.pid, 0);
  } catch (error) {
    // EPERM: alive but another user's; ESRCH: gone, and the file is stale.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return content;
}
