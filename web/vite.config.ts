import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web app has its own Vite root (this folder). No React plugin: esbuild's automatic JSX runtime is all
// the build needs (no Fast Refresh in development, which `npm run dev:web` does not promise).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
