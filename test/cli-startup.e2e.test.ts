import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/cli.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

/**
 * The CLI's start-up loads only what the command needs (issue 13: `outflow --help` spent ~1 s loading DuckDB,
 * BullMQ, Hono… it never used). What a process loads is read from a module resolve hook, not timed: the time
 * itself is a benchmark figure (`npm run bench -- cli`). Through a server, `run list` and `run show` need the
 * HTTP client only; help needs nothing but commander. Packages the CLI bundle holds (bin/build-cli.js) count
 * as loaded when a chunk holding them is.
 */
const BIN = path.resolve('bin/outflow.cjs');
/** The packages a command through a server may load. */
const ALLOWED = new Set(['commander']);

let home: string;
let hooks: string;
let server: ServerProcess;

beforeAll(async () => {
  home = tempDir('startup-home');
  hooks = tempDir('startup-hooks');
  // Resolve hooks run on a thread of their own: each resolved URL is appended to the file the child names.
  fs.writeFileSync(
    path.join(hooks, 'hooks.mjs'),
    `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  fs.appendFileSync(process.env.OUTFLOW_TRACE_FILE, result.url + '\\n');
  return result;
}
`,
  );
  fs.writeFileSync(path.join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(hooks, 'hooks.mjs')).href)});\n`);
  server = await startServerProcess(home);
});

afterAll(async () => {
  await server?.stop();
});

/** Runs `outflow …args` on `dir`; returns its exit code and the packages it loaded. */
async function trace(args: string[], dir = home): Promise<{ code: number | null; stderr: string; packages: string[]; twice: string[] }> {
  const file = path.join(hooks, `trace-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(file, '');
  const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(hooks, 'register.mjs')).href, BIN, ...args, '--home', dir], {
    env: { ...process.env, OUTFLOW_TEST_VIA_SERVER: '', OUTFLOW_URL: '', OUTFLOW_TOKEN: '', OUTFLOW_DEBUG: '', OUTFLOW_TRACE_FILE: file },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const fromNodeModules = new Set<string>();
  const bundled = new Set<string>();
  for (const url of fs.readFileSync(file, 'utf8').split('\n')) {
    for (const name of packagesIn(url)) fromNodeModules.add(name);
    // A file of the CLI bundle: the packages bundled into it count as loaded (its source map names them).
    if (url.startsWith('file:') && url.includes('/dist/cli/')) {
      const map = JSON.parse(fs.readFileSync(`${fileURLToPath(url)}.map`, 'utf8')) as { sources: string[] };
      for (const name of map.sources.flatMap(packagesIn)) bundled.add(name);
    }
  }
  // A package both bundled and loaded from node_modules runs twice, and its two copies do not know each
  // other's classes (a ZodError of one is no ZodError to the other).
  const twice = [...bundled].filter((name) => fromNodeModules.has(name));
  return { code, stderr, packages: [...new Set([...fromNodeModules, ...bundled])].sort(), twice };
}

function packagesIn(location: string): string[] {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(location);
  return match ? [match[1]!] : [];
}

describe('CLI start-up', () => {
  it('outflow --help and a sub-command\'s help load no package but commander', async () => {
    for (const args of [['--help'], ['export', 'run', '--help'], ['demo', '--help']]) {
      const result = await trace(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.packages.filter((p) => !ALLOWED.has(p)), `outflow ${args.join(' ')} loaded these at start-up`).toEqual([]);
    }
  });

  it('run list and run show through a server load no store, queue or server package', async () => {
    const list = await trace(['run', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.packages.filter((p) => !ALLOWED.has(p))).toEqual([]);
    // An unknown run: the server's 404 comes back through the same client and printer as a found one.
    const show = await trace(['run', 'show', 'no-such-run']);
    expect(show.stderr).toContain('no-such-run');
    expect(show.code).toBe(3);
    expect(show.packages.filter((p) => !ALLOWED.has(p))).toEqual([]);
  });

  it('without a server, the same command loads the stores it needs (the trace sees packages)', async () => {
    const other = tempDir('startup-local');
    const result = await trace(['run', 'list'], other);
    expect(result.code, result.stderr).toBe(0);
    expect(result.packages).toEqual(expect.arrayContaining(['better-sqlite3', 'kysely']));
    expect(result.twice).toEqual([]);
  });
});

describe('the executable', () => {
  it('sizes libuv\'s thread pool before anything starts it (16 threads unless UV_THREADPOOL_SIZE says otherwise)', async () => {
    // DuckDB's COPY holds a pool thread for a whole file part and gzip needs the pool beside it. An ES module
    // entry set UV_THREADPOOL_SIZE too late (Node reads the entry through the pool): runs got libuv's four.
    const own = await startServerProcess(tempDir('pool-home'), { env: { UV_THREADPOOL_SIZE: undefined } });
    try {
      expect((await own.request('GET', '/healthz')).status).toBe(200);
      // A process's threads: the main one, V8's helpers (4 on this kind of machine), the pool's, a few others.
      const threads = fs.readdirSync(`/proc/${own.child.pid}/task`).length;
      expect(threads, 'threads of `outflow serve` started without UV_THREADPOOL_SIZE').toBeGreaterThanOrEqual(17);
    } finally {
      await own.stop();
    }
  });
});
