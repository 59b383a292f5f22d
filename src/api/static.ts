import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

/**
 * Where `npm run build` (vite build web) writes the web app: `web/dist` in the package root. This module runs
 * from src/api/static.ts (tsx, tests) and from the bundle bin/outflow.cjs builds (dist/outflow.mjs), at
 * different depths, so the root is found as the nearest folder above it with a package.json, not by a
 * fixed `../..` (which, from the bundle, pointed outside the package and served "not built").
 */
export const DEFAULT_WEB_ROOT = path.join(packageRoot(path.dirname(fileURLToPath(import.meta.url))), 'web', 'dist');

function packageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..', '..');
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

// The app loads only its own files and talks only to this server; nothing may frame it (clickjacking).
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Serves the built web app for every GET outside /api: a file of the build when the path names one, else
 * index.html, so that a reload on /exports/abc opens the app there (the app routes on the client).
 */
export function webAppHandler(root: string) {
  const base = path.resolve(root);
  return async (c: Context, next: () => Promise<void>) => {
    const urlPath = c.req.path;
    if (urlPath === '/api' || urlPath.startsWith('/api/')) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return next();
    }
    // Resolve inside the build folder only: `..` or an absolute path never reaches another file.
    const candidate = path.resolve(base, `.${path.posix.normalize(`/${decoded}`)}`);
    const inside = candidate === base || candidate.startsWith(base + path.sep);
    let file = inside && isFile(candidate) ? candidate : path.join(base, 'index.html');
    if (!isFile(file)) {
      return c.text('The web app is not built: run `npm run build` (or `npm install`, which builds it), then restart `outflow serve`. The API is at /api.', 404);
    }
    const ext = path.extname(file);
    // Vite names built assets by content hash, so they never change; index.html must always be fetched again.
    const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    const headers: Record<string, string> = { 'Content-Type': TYPES[ext] ?? 'application/octet-stream', 'Cache-Control': cache, ...SECURITY_HEADERS };
    file = fs.realpathSync(file);
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    return c.body(new Uint8Array(fs.readFileSync(file)), 200, headers);
  };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
