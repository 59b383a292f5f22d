#!/usr/bin/env node
// DuckDB's COPY into a FIFO and zlib run on libuv's thread pool; the default four threads starve when two
// file parts are rendered at once. Must be set before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = path.join(root, 'src');
const entryFile = path.join(root, 'dist', 'cli', 'main.js');

/** The newest modification time under `dir`, so a stale bundle is rebuilt after any source change. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isFresh() {
  try {
    return fs.statSync(entryFile).mtimeMs >= newestMtime(sources);
  } catch {
    return false;
  }
}

// Compiling TypeScript on every start (tsx) costs ~1.4 s and ~100 MB; an esbuild bundle of our own code starts in
// a fraction of that (bin/build-cli.js says how it is cut). `npm install` builds it (prepare); it is rebuilt here,
// on first use and whenever a source file is newer.
let entry = entryFile;
// An installed package (npm pack → npm install -g) ships the bundle and no sources: nothing to rebuild.
if (fs.existsSync(sources) && !isFresh()) {
  try {
    const { buildCli } = await import('./build-cli.js');
    await buildCli();
  } catch {
    // A read-only install or a missing esbuild: run the sources through tsx instead.
    const { register } = await import('tsx/esm/api');
    register();
    entry = path.join(sources, 'cli', 'main.ts');
  }
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);
