// `npm install` in a clone (and `npm pack`, which runs it first) builds the web app and the CLI bundle. An
// installed package (npm install -g ./outflow-<version>.tgz) ships both already built and no sources or build
// tools, so npm's run of this script there does nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (fs.existsSync(path.join(root, 'src'))) {
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  const { buildCli } = await import('./build-cli.js');
  await buildCli();
}
