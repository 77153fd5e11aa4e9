import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The client core runs in browsers and Node alike: only src/node/ may touch Node built-ins
// or Node-only packages, and only src/browser/ may touch browser-only globals.
const src = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const all = files(src).filter((f) => f.endsWith('.ts'));
const inFolder = (f: string, folder: string) => f.startsWith(`${join(src, folder)}${sep}`);
const notNode = all.filter((f) => !inFolder(f, 'node'));
const core = notNode.filter((f) => !inFolder(f, 'browser'));

describe('runtime neutrality', () => {
  it('has core files to check', () => {
    expect(core.length).toBeGreaterThan(5);
  });

  it.each(notNode.map((f) => [f.slice(src.length + 1), f]))(
    '%s uses no Node built-ins or Node-only packages',
    (_n, file) => {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/from ['"]node:/);
      expect(text).not.toMatch(/from ['"](?:better-sqlite3[^'"]*|@vaultex\/protocol\/node|ws)['"]/);
      expect(text).not.toMatch(/\bBuffer\.(from|alloc|allocUnsafe|isBuffer|concat|compare)\b/);
      expect(text).not.toMatch(/\bprocess\./);
    },
  );

  it.each(core.map((f) => [f.slice(src.length + 1), f]))('%s uses no browser-only globals', (_n, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/\b(?:indexedDB|IDBKeyRange|IDBDatabase|IDBFactory|localStorage|sessionStorage)\b/);
    expect(text).not.toMatch(/\b(?:window|document)\.[A-Za-z]/);
  });
});
