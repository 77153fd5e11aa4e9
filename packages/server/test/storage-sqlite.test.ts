import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../src/index.js';
import { MIGRATIONS } from '../src/storage/sqlite/migrations.js';
import { runStorageConformance } from './storage-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'vaultex-storage-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStorageConformance('sqlite file', async () => SqliteStorage.open(join(dir, `db-${++n}.sqlite`)));
runStorageConformance('sqlite memory', async () => SqliteStorage.open(':memory:'));

describe('sqlite adapter', () => {
  it('opens in WAL mode with synchronous=FULL and the latest schema', async () => {
    const file = join(dir, 'pragmas.sqlite');
    const s = SqliteStorage.open(file);
    expect(s.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    await s.close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('migrates once: reopening keeps data and version', async () => {
    const file = join(dir, 'reopen.sqlite');
    const s = SqliteStorage.open(file);
    await s.putChallenge(new Uint8Array(32).fill(1), 10);
    await s.close();
    const again = SqliteStorage.open(file);
    expect(again.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    expect(await again.consumeChallenge(new Uint8Array(32).fill(1), 0)).toBe(true);
    await again.close();
  });

  it('refuses a database whose schema is newer than the code', () => {
    const file = join(dir, 'future.sqlite');
    SqliteStorage.open(file).close();
    const db = new Database(file);
    db.prepare('UPDATE schema_version SET version = 999').run();
    db.close();
    expect(() => SqliteStorage.open(file)).toThrow(/newer than this server/);
  });

  it('numbers migrations 1, 2, 3... without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });
});
