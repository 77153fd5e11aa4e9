/** @vaultex/api runs in browsers too: no Node built-ins, no Buffer, no process. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');
const files = readdirSync(src).filter((f) => f.endsWith('.ts'));

describe('runtime neutrality', () => {
  it('has the schema files', () => {
    expect(files).toEqual(
      expect.arrayContaining(['accounts.ts', 'auth.ts', 'prekeys.ts', 'messages.ts', 'frames.ts', 'errors.ts']),
    );
  });
  it.each(files)('%s uses no Node built-ins and imports nothing of ours', (file) => {
    const text = readFileSync(join(src, file), 'utf8');
    expect(text).not.toMatch(/from ['"]node:/u);
    expect(text).not.toMatch(/\bBuffer\b|\bprocess\./u);
    expect(text).not.toMatch(/from ['"]@vaultex\//u);
  });
});
