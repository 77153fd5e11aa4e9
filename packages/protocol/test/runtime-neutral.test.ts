import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The main entry must run in browsers: only src/node/ may touch Node built-ins.
const src = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('runtime neutrality', () => {
  const core = files(src).filter((f) => f.endsWith('.ts') && !f.includes(`${join(src, 'node')}`));
  it('has core files to check', () => {
    expect(core.length).toBeGreaterThan(5);
  });
  it.each(core.map((f) => [f.slice(src.length + 1), f]))('%s uses no Node built-ins', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/from ['"]node:/);
    expect(text).not.toMatch(/\bBuffer\.(from|alloc|allocUnsafe|isBuffer|concat|compare)\b/);
    expect(text).not.toMatch(/\bprocess\./);
  });
});
