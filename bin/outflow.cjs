#!/usr/bin/env node
'use strict';
// CommonJS, unlike the rest of the package: libuv sizes its thread pool from UV_THREADPOOL_SIZE when the pool
// starts, and Node starts it before an ES module's first line runs (it reads the module through the pool), so
// an ESM entry setting the variable got the default four threads. DuckDB's COPY holds a pool thread for the
// whole of a file part, and gzip waits on the pool too: with four threads, three gzipped parts shared one
// thread for zlib (measured: 1.06x the time of a run with 16), and more parts at once could wait on each other
// for ever. A CommonJS file runs before anything touches the pool. src/engine/files.ts sizes the parts it
// renders at once to the pool this sets.
process.env.UV_THREADPOOL_SIZE ??= '16';

const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
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

async function start() {
  // Compiling TypeScript on every start (tsx) costs ~1.4 s and ~100 MB; an esbuild bundle of our own code starts
  // in a fraction of that (bin/build-cli.js says how it is cut). `npm install` builds it (prepare); it is rebuilt
  // here, on first use and whenever a source file is newer.
  let entry = entryFile;
  // An installed package (npm pack → npm install -g) ships the bundle and no sources: nothing to rebuild.
  if (fs.existsSync(sources) && !isFresh()) {
    try {
      const { buildCli } = await import(pathToFileURL(path.join(__dirname, 'build-cli.js')).href);
      await buildCli();
    } catch {
      // A read-only install or a missing esbuild: run the sources through tsx instead.
      const { register } = await import('tsx/esm/api');
      register();
      entry = path.join(sources, 'cli', 'main.ts');
    }
  }
  const { main } = await import(pathToFileURL(entry).href);
  process.exitCode = await main(process.argv);
}

void start();
