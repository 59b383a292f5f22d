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

/** Removes the upload folders in `tmpDir` whose process is gone; returns their names. */
export function sweepUploadDirs(tmpDir: string, alive: (pid: number) => boolean = isProcessAlive): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(tmpDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = new RegExp(`^${UPLOAD_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
    // A name without a pid is not ours to judge: leave it.
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    fs.rmSync(path.join(tmpDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
