// `npm start`: build the relay (tsc -b: protocol, api, server) and run it on
// http://localhost:8080 with its SQLite database under ./data. Flags after `--` and
// VAULTEX_* variables configure it (see docs/API.md "Limits"), e.g.
//   npm start -- --port 9000 --data-dir /var/lib/vaultex
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
console.error('Building the relay (tsc -b packages/server)...');
const build = spawnSync(process.execPath, [tsc, '-b', join(root, 'packages/server')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) {
  console.error('Build failed: see the TypeScript errors above.');
  process.exit(build.status ?? 1);
}
// main.js reads its flags from process.argv and handles SIGINT/SIGTERM itself.
await import(pathToFileURL(join(root, 'packages/server/dist/main.js')).href);
