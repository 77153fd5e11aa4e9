/**
 * The history-archive part of the SQLite adapter: one opaque blob per account, replaced
 * only by compare-and-swap on its version, and its key envelopes. The version check and
 * the write are one statement, so two writers naming the same version cannot both win.
 */
import type Database from 'better-sqlite3';
import type { ArchiveStore } from '../archive-delegate.js';
import { archiveWriteResult } from '../checks.js';
import { type Row, toArchive, toArchiveKey } from '../rows.js';
import type { ArchiveKeyRecord, ArchiveRecord, Storage } from '../storage.js';

/** The archive methods of {@link Storage} over one SQLite connection. */
export class SqliteArchive implements ArchiveStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      get: p('SELECT version, data, updated_at FROM archives WHERE account_id = ?'),
      create: p(
        'INSERT INTO archives (account_id, version, data, updated_at) VALUES (?, 1, ?, ?) ON CONFLICT DO NOTHING',
      ),
      replace: p(
        'UPDATE archives SET version = version + 1, data = ?, updated_at = ? WHERE account_id = ? AND version = ?',
      ),
      deleteArchive: p('DELETE FROM archives WHERE account_id = ?'),
      deleteKeys: p('DELETE FROM archive_keys WHERE account_id = ?'),
      keys: p('SELECT slot, envelope FROM archive_keys WHERE account_id = ? ORDER BY slot'),
      insertKey: p('INSERT INTO archive_keys (account_id, slot, envelope) VALUES (?, ?, ?)'),
      deleteKey: p('DELETE FROM archive_keys WHERE account_id = ? AND slot = ?'),
    };
  }

  async getArchive(accountId: Uint8Array): Promise<ArchiveRecord | undefined> {
    const row = this.s.get.get(accountId) as Row | undefined;
    return row && toArchive(row);
  }

  async putArchive(
    accountId: Uint8Array,
    expectedVersion: number,
    data: Uint8Array,
    updatedAt: number,
  ): Promise<number | 'conflict'> {
    const r =
      expectedVersion === 0
        ? this.s.create.run(accountId, data, updatedAt)
        : this.s.replace.run(data, updatedAt, accountId, expectedVersion);
    return archiveWriteResult(r.changes, expectedVersion);
  }

  async deleteArchive(accountId: Uint8Array): Promise<boolean> {
    return this.db
      .transaction(() => this.s.deleteArchive.run(accountId).changes + this.s.deleteKeys.run(accountId).changes > 0)
      .immediate();
  }

  async getArchiveKeys(accountId: Uint8Array): Promise<ArchiveKeyRecord[]> {
    return (this.s.keys.all(accountId) as Row[]).map(toArchiveKey);
  }

  async replaceArchiveKeys(accountId: Uint8Array, keys: readonly ArchiveKeyRecord[]): Promise<void> {
    this.db
      .transaction(() => {
        this.s.deleteKeys.run(accountId);
        for (const k of keys) this.s.insertKey.run(accountId, k.slot, k.envelope);
      })
      .immediate();
  }

  async deleteArchiveKey(accountId: Uint8Array, slot: number): Promise<boolean> {
    return this.s.deleteKey.run(accountId, slot).changes === 1;
  }
}
