// Builds the CLI bundle bin/outflow.cjs runs: dist/cli/main.js and its chunks. `node bin/build-cli.js` (the
// prepare script) or `buildCli()` from bin/outflow.cjs when the sources are newer than the bundle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'cli');
const entryFile = path.join(outdir, 'main.js');

/**
 * Packages Node loads from node_modules rather than the bundle (of those src/ imports; what they import comes
 * with them): native addons and packages that find files beside their own code at run time (a bundle would
 * move the code away from them), and the queue and PostgreSQL clients only `serve` and `worker` load, with
 * Redis or PostgreSQL configured. Everything else (kysely, zod, Hono, commander, DuckDB's JavaScript API…) is
 * bundled: Node resolved, read and compiled the files of those packages one by one (`export list` without a
 * server opened 701 of them, now 81): ~300 ms of every command that opens a store (`export list`: 0.79 s →
 * 0.45 s, farm-bench; `export run` reaches its SSH connection ~350 ms sooner).
 * Deny rather than allow: a package missing here fails loudly at load, while one missing from an allowlist
 * would be loaded twice (a bundled zod beside node_modules' zod, whose errors the bundle cannot recognise).
 */
const EXTERNAL = /^(@duckdb\/node-bindings|better-sqlite3|ssh2|pino|rotating-file-stream|bullmq|ioredis|pg|pg-copy-streams|prom-client)(\/|$)/;
const keepExternal = {
  name: 'keep-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('node:') || EXTERNAL.test(args.path) ? { path: args.path, external: true } : undefined));
  },
};

/**
 * Code splitting keeps start-up small: every `await import()` in src/ becomes a chunk of its own, with the
 * packages it bundles, loaded only when a command reaches it (src/cli/main.ts says which imports may be static).
 * Chunk names carry a hash of their content, so a rebuild never changes a chunk that a running process may
 * still load; only the entry is replaced, by an atomic rename, once every chunk it names is in place.
 */
export async function buildCli() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { main: path.join(root, 'src', 'cli', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [keepExternal],
    // Bundled CommonJS packages require() their dependencies (the external DuckDB bindings, Node's modules);
    // an ES module has no `require` of its own, and esbuild's stand-in throws without one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    chunkNames: 'chunks/[name]-[hash]',
    // Beside the code, not inside it: Node reads a map only under --enable-source-maps, so start-up skips it.
    sourcemap: 'linked',
    logLevel: 'silent',
  });
  fs.mkdirSync(outdir, { recursive: true });
  const entry = result.outputFiles.find((file) => file.path === entryFile);
  if (!entry) throw new Error(`esbuild wrote no ${entryFile}`);
  const chunks = path.join(outdir, 'chunks') + path.sep;
  for (const file of result.outputFiles) {
    // A chunk already there has this content (its name is its hash).
    if (file === entry || (file.path.startsWith(chunks) && fs.existsSync(file.path))) continue;
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    const temp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(temp, file.contents);
    fs.renameSync(temp, file.path);
  }
  const temp = `${entryFile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, entry.contents);
  fs.renameSync(temp, entryFile);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildCli();
