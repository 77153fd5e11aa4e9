// `npm run typecheck`: the package builds (tsc -b) plus every test and bench project,
// which vitest and tsx run without type-checking.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
const projects = ['tsconfig.json'];
for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const test = join(group, name, 'tsconfig.test.json');
    if (existsSync(test)) projects.push(test);
  }
}
if (existsSync('bench/tsconfig.json')) projects.push('bench/tsconfig.json');

let failed = false;
for (const project of projects) {
  const args = project === 'tsconfig.json' ? ['-b', project] : ['-p', project, '--noEmit'];
  try {
    execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit' });
    console.log(`typecheck ok: ${project}`);
  } catch {
    failed = true;
    console.error(`typecheck FAILED: ${project}`);
  }
}
process.exit(failed ? 1 : 0);
