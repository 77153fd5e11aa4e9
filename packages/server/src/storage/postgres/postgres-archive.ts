/**
 * The history-archive part of the PostgreSQL adapter (same behaviour as SQLite's). The
 * compare-and-swap is one statement: at READ COMMITTED a concurrent `UPDATE ... WHERE
 * version = n` waits for the first writer's row lock, re-checks the condition against the
 * committed row and matches nothing; a concurrent first `INSERT ... ON CONFLICT DO NOTHING`
 * waits for the first insert and inserts nothing. Replacing the key envelopes takes a
 * transaction-scoped advisory lock per account, so two replacements never interleave.
 */
import type pg from 'pg';
import type { ArchiveStore } from '../archive-delegate.js';
import { archiveWriteResult } from '../checks.js';
import { type Row, toArchive, toArchiveKey } from '../rows.js';
import type { ArchiveKeyRecord, ArchiveRecord, Storage } from '../storage.js';
import { buf } from './pg-values.js';

type Query = Pick<pg.PoolClient, 'query'>;

/** Serialises key-envelope replacements of one account (a one-bigint key: its own lock space). */
const LOCK_KEYS = `SELECT pg_advisory_xact_lock(hashtextextended('vaultex archive keys ' || encode($1::bytea, 'hex'), 0))`;

/** The archive methods of {@link Storage} over a pool and the adapter's transaction runner. */
export class PostgresArchive implements ArchiveStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly tx: <T>(fn: (c: Query) => Promise<T>) => Promise<T>,
  ) {}

  async getArchive(accountId: Uint8Array): Promise<ArchiveRecord | undefined> {
    const row = (
      await this.pool.query('SELECT version, data, updated_at FROM archives WHERE account_id = $1', [buf(accountId)])
    ).rows[0] as Row | undefined;
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
        ? await this.pool.query(
            'INSERT INTO archives (account_id, version, data, updated_at) VALUES ($1, 1, $2, $3) ON CONFLICT DO NOTHING',
            [buf(accountId), buf(data), updatedAt],
          )
        : await this.pool.query(
            'UPDATE archives SET version = version + 1, data = $1, updated_at = $2 WHERE account_id = $3 AND version = $4',
            [buf(data), updatedAt, buf(accountId), expectedVersion],
          );
    return archiveWriteResult(r.rowCount ?? 0, expectedVersion);
  }

  async deleteArchive(accountId: Uint8Array): Promise<boolean> {
    return this.tx(async (c) => deleteArchiveRows(c, accountId));
  }

  async getArchiveKeys(accountId: Uint8Array): Promise<ArchiveKeyRecord[]> {
    const r = await this.pool.query('SELECT slot, envelope FROM archive_keys WHERE account_id = $1 ORDER BY slot', [
      buf(accountId),
    ]);
    return (r.rows as Row[]).map(toArchiveKey);
  }

  async replaceArchiveKeys(accountId: Uint8Array, keys: readonly ArchiveKeyRecord[]): Promise<void> {
    await this.tx(async (c) => {
      const id = buf(accountId);
      await c.query(LOCK_KEYS, [id]);
      await c.query('DELETE FROM archive_keys WHERE account_id = $1', [id]);
      if (keys.length === 0) return;
      await c.query(
        `INSERT INTO archive_keys (account_id, slot, envelope)
         SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])`,
        [id, keys.map((k) => k.slot), keys.map((k) => buf(k.envelope))],
      );
    });
  }

  async deleteArchiveKey(accountId: Uint8Array, slot: number): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM archive_keys WHERE account_id = $1 AND slot = $2', [
      buf(accountId),
      slot,
    ]);
    return r.rowCount === 1;
  }
}

/**
 * Delete an account's archive and key envelopes inside the caller's transaction (also used
 * by account deletion).
 * @returns whether anything was deleted.
 */
export async function deleteArchiveRows(c: Query, accountId: Uint8Array): Promise<boolean> {
  const id = buf(accountId);
  await c.query(LOCK_KEYS, [id]);
  const archive = (await c.query('DELETE FROM archives WHERE account_id = $1', [id])).rowCount ?? 0;
  const keys = (await c.query('DELETE FROM archive_keys WHERE account_id = $1', [id])).rowCount ?? 0;
  return archive + keys > 0;
}
