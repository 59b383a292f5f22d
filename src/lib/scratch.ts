import fs from 'node:fs';
import path from 'node:path';

/**
 * Entity uploads received by a server stream to `tmp/upload-<pid>-<random>/` in the home (a folder of their
 * own, so that load errors name the caller's file). The server removes the folder when the load ends, but a
 * server that is killed mid-upload cannot: the next process to open the home sweeps it, as it sweeps the
 * `parts-*` folders of killed runs (src/engine/files.ts), by the same rule: the pid in the name is not alive.
 */
export const UPLOAD_DIR_PREFIX = 'upload-';

/** The prefix of this process's upload folders, for `fs.mkdtempSync`. */
export function uploadDirPrefix(tmpDir: string): string {
  return path.join(tmpDir, `${UPLOAD_DIR_PREFIX}${process.pid}-`);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the folders `<prefix><pid>-…` in `tmpDir` whose process is gone (never this process's); returns their
 * names. A name without a pid is left alone, unless `withoutPid` says such names are dead leftovers too.
 */
export function sweepDeadProcessDirs(tmpDir: string, prefix: string, options: { alive?: (pid: number) => boolean; withoutPid?: 'keep' | 'remove' } = {}): string[] {
  const alive = options.alive ?? isProcessAlive;
  let names: string[];
  try {
    names = fs.readdirSync(tmpDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined ? options.withoutPid !== 'remove' : Number(pid) === process.pid || alive(Number(pid))) continue;
    fs.rmSync(path.join(tmpDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Removes the upload folders in `tmpDir` whose process is gone; returns their names. */
export function sweepUploadDirs(tmpDir: string, alive: (pid: number) => boolean = isProcessAlive): string[] {
  return sweepDeadProcessDirs(tmpDir, UPLOAD_DIR_PREFIX, { alive });
}
