// Builds the CLI bundle bin/outflow.cjs runs: dist/cli/main.js and its chunks. `node bin/build-cli.js` (the
// prepare script) or `buildCli()` from bin/outflow.cjs when the sources are newer than the bundle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'cli');
const entryFile = path.join(outdir, 'main.js');

/**
 * Packages stay external (Node loads them from node_modules). Code splitting keeps start-up small: every
 * `await import()` in src/ becomes a chunk of its own, with the packages it imports, loaded only when a command
 * reaches it (src/cli/main.ts says which imports may be static). Chunk names carry a hash of their content, so
 * a rebuild never changes a chunk that a running process may still load; only the entry is replaced, by an
 * atomic rename, once every chunk it names is in place.
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
    packages: 'external',
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
