// `npm start`: build the `vaultex` command (tsc -b apps/cli: protocol, api, server, client,
// cli) and the web app (vite build), and run `vaultex serve`: the relay and the web app on
// http://localhost:8080 with its SQLite database under ./data. Flags after `--` and
// VAULTEX_* variables configure it (see `vaultex serve --help` and docs/API.md "Limits"), e.g.
//   npm start -- --port 9000 --data /var/lib/vaultex
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
console.error('Building vaultex (tsc -b apps/cli)...');
const build = spawnSync(process.execPath, [tsc, '-b', join(root, 'apps/cli')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) {
  console.error('Build failed: see the TypeScript errors above.');
  process.exit(build.status ?? 1);
}
// The web app (apps/web/dist), served by the relay at /.
console.error('Building the web app (vite build apps/web)...');
const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
const web = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
  stdio: 'inherit',
  cwd: join(root, 'apps/web'),
});
if (web.status !== 0) {
  console.error('Web app build failed: see the errors above.');
  process.exit(web.status ?? 1);
}
process.env.VAULTEX_WEB_DIR ??= join(root, 'apps/web/dist');
// bin.js reads process.argv like the installed `vaultex` command, and handles SIGINT/SIGTERM.
process.argv = [process.argv[0], join(root, 'apps/cli/dist/bin.js'), 'serve', ...process.argv.slice(2)];
await import(pathToFileURL(join(root, 'apps/cli/dist/bin.js')).href);
