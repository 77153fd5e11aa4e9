/**
 * The PostgreSQL adapter of {@link Storage} (`pg`), for several relay instances sharing
 * one database. Same migrations and behaviour as SQLite (one conformance suite runs
 * against both). Differences that matter under concurrency, at READ COMMITTED:
 * - mailbox inserts take a transaction-scoped advisory lock, so message seqs commit in
 *   seq order: whoever sees seq n committed also sees every seq below it (delivery
 *   cursors and the Redis bus rely on this);
 * - one-time prekeys are taken with `FOR UPDATE SKIP LOCKED`, so concurrent takers get
 *   different keys and none goes without while keys remain;
 * - a message row is locked before its targets are removed, so two devices acknowledging
 *   the last targets at once cannot both leave the blob behind;
 * - deadlocks and serialization failures are retried (the transaction is re-run).
 * A mailbox batch is one statement (inserts only) or one transaction of four round trips,
 * however many messages and acknowledgements it holds (arrays through `unnest`; see
 * postgres-mailbox.ts).
 */
import pg from 'pg';
import { ArchiveDelegate } from '../archive-delegate.js';
import {
  appendedAttachment,
  checkPreKeyCap,
  checkSchemaVersion,
  DEVICE_TABLES,
  discoverableLower,
  discoveryPattern,
  uploadWithinCap,
  wantsDevice,
} from '../checks.js';
import {
  bytes,
  num,
  type Row,
  toAccount,
  toAttachment,
  toBundle,
  toDevice,
  toDiscoverable,
  toLogEntry,
  toStoredMessage,
  toToken,
} from '../rows.js';
import type {
  AccountRecord,
  AttachmentRecord,
  DeviceListChange,
  DeviceRecord,
  DiscoverableAccount,
  LogAppend,
  MailboxBatch,
  MailboxBatchResult,
  NewAccount,
  PreKeyWrite,
  PruneResult,
  Storage,
  StoredMessage,
  TakenBundle,
  TokenRecord,
} from '../storage.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { buf, bufOrNull } from './pg-values.js';
import { deleteArchiveRows, PostgresArchive } from './postgres-archive.js';
import { applyPostgresMailboxBatch } from './postgres-mailbox.js';

type Client = pg.PoolClient;
type Query = Pick<pg.PoolClient, 'query'>;

/** Advisory lock keys (arbitrary constants, namespaced by the first word). */
const LOCK_MIGRATE = [0x7661_756c, 1] as const;
// Key 2 is the mailbox lock (postgres-mailbox.ts).
const LOCK_LOG = [0x7661_756c, 3] as const;

/** SQLSTATEs after which a transaction is simply re-run. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/** BIGINT and COUNT(*) as JS numbers: every value we store fits in 2^53. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Options of {@link PostgresStorage.open}. */
export interface PostgresOptions {
  /** Schema to create and use instead of `public` (tests run side by side in one database). */
  readonly schema?: string;
  /** Most pooled connections of this instance. */
  readonly maxConnections?: number;
}

/** PostgreSQL storage. Open with {@link PostgresStorage.open}. */
export class PostgresStorage extends ArchiveDelegate implements Storage {
  protected readonly archive: PostgresArchive;

  private constructor(private readonly pool: pg.Pool) {
    super();
    this.archive = new PostgresArchive(pool, (fn) => this.tx(fn));
  }

  /**
   * Connect, create the schema if asked, and migrate (under an advisory lock, so instances
   * starting together migrate once).
   * @throws Error when the database is unreachable or its schema is newer than this code.
   */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStorage> {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/u.test(schema)) {
      throw new Error('schema must be a lower-case SQL identifier');
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      types: TYPES,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // An idle connection the server dropped must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    try {
      await migrate(pool, schema);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStorage(pool);
  }

  /** The schema version of the database. */
  async schemaVersion(): Promise<number> {
    return num((await this.pool.query('SELECT version FROM schema_version')).rows[0]?.version);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  /** Run `fn` in a transaction, re-running it after a deadlock or serialization failure. */
  private async tx<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      // A checked-out client that loses its connection emits 'error'; the pool only listens
      // on idle ones, and an unhandled 'error' would crash the relay. The failure reaches us
      // through the pending query instead.
      c.on('error', ignoreClientError);
      try {
        await c.query('BEGIN');
        const result = await fn(c);
        await c.query('COMMIT');
        c.off('error', ignoreClientError);
        c.release();
        return result;
      } catch (e) {
        // A failed ROLLBACK means the connection is broken: drop it from the pool.
        const broken = await c.query('ROLLBACK').then(
          () => false,
          () => true,
        );
        c.off('error', ignoreClientError);
        c.release(broken);
        const code = (e as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw e;
      }
    }
  }

  private async one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.pool.query(sql, params)).rows[0] as Row | undefined;
  }

  async secret(name: string, create: () => Uint8Array): Promise<Uint8Array> {
    const existing = await this.one('SELECT value FROM server_secrets WHERE name = $1', [name]);
    if (existing) return bytes(existing.value);
    // Two instances may race to create it: the first insert wins and both read the winner.
    await this.pool.query('INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      name,
      buf(create()),
    ]);
    return bytes((await this.one('SELECT value FROM server_secrets WHERE name = $1', [name]))!.value);
  }

  async putChallenge(nonceHash: Uint8Array, expiresAt: number): Promise<void> {
    await this.pool.query('INSERT INTO challenges (nonce_hash, expires_at) VALUES ($1, $2)', [
      buf(nonceHash),
      expiresAt,
    ]);
  }

  async consumeChallenge(nonceHash: Uint8Array, now: number): Promise<boolean> {
    const row = await this.one('DELETE FROM challenges WHERE nonce_hash = $1 RETURNING expires_at', [buf(nonceHash)]);
    return row !== undefined && num(row.expires_at) > now;
  }

  async createAccount(input: NewAccount): Promise<{ logIndex: number } | 'exists'> {
    return this.tx(async (c) => {
      const { account, device } = input;
      // ON CONFLICT without a target covers both the id and the identity key.
      const inserted = await c.query(
        `INSERT INTO accounts (id, identity_key, device_list, device_list_counter, access_key_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id`,
        [
          buf(account.id),
          buf(account.identityKey),
          buf(account.deviceList),
          account.deviceListCounter,
          bufOrNull(account.accessKeyHash),
          account.createdAt,
        ],
      );
      if (inserted.rowCount === 0) return 'exists' as const;
      await insertDevice(c, device);
      await writePreKeys(c, device.accountId, device.deviceId, input.prekeys);
      return { logIndex: await appendLog(c, account.id, input.log) };
    });
  }

  async getAccount(accountId: Uint8Array): Promise<AccountRecord | undefined> {
    const row = await this.one('SELECT * FROM accounts WHERE id = $1', [buf(accountId)]);
    return row && toAccount(row);
  }

  async listDevices(accountId: Uint8Array): Promise<DeviceRecord[]> {
    const r = await this.pool.query('SELECT * FROM devices WHERE account_id = $1 ORDER BY device_id', [buf(accountId)]);
    return (r.rows as Row[]).map(toDevice);
  }

  async getDevice(accountId: Uint8Array, deviceId: number): Promise<DeviceRecord | undefined> {
    const row = await this.one('SELECT * FROM devices WHERE account_id = $1 AND device_id = $2', [
      buf(accountId),
      deviceId,
    ]);
    return row && toDevice(row);
  }

  async changeDeviceList(change: DeviceListChange): Promise<{ logIndex: number } | 'stale'> {
    return this.tx(async (c) => {
      const id = buf(change.accountId);
      const row = (await c.query('SELECT device_list_counter FROM accounts WHERE id = $1 FOR UPDATE', [id])).rows[0] as
        | Row
        | undefined;
      if (!row || num(row.device_list_counter) !== change.expectedCounter) return 'stale' as const;
      await c.query('UPDATE accounts SET device_list = $1, device_list_counter = $2 WHERE id = $3', [
        buf(change.deviceList),
        change.counter,
        id,
      ]);
      for (const deviceId of change.removedDeviceIds) await purgeDevice(c, change.accountId, deviceId);
      if (change.device) {
        await insertDevice(c, change.device.record);
        await writePreKeys(c, change.accountId, change.device.record.deviceId, change.device.prekeys);
      }
      return { logIndex: await appendLog(c, change.accountId, change.log) };
    });
  }

  async deleteAccount(accountId: Uint8Array): Promise<boolean> {
    return this.tx(async (c) => {
      const id = buf(accountId);
      const row = (await c.query('SELECT id FROM accounts WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!row) return false;
      const devices = await c.query('SELECT device_id FROM devices WHERE account_id = $1', [id]);
      for (const d of devices.rows as Row[]) await purgeDevice(c, accountId, num(d.device_id));
      // Undelivered messages it sent (authenticated sends name it) go too: nothing of it remains.
      await c.query(
        'DELETE FROM message_targets WHERE message_seq IN (SELECT seq FROM messages WHERE source_account = $1)',
        [id],
      );
      await c.query('DELETE FROM messages WHERE source_account = $1', [id]);
      await c.query('DELETE FROM log_entries WHERE account_id = $1', [id]);
      await deleteArchiveRows(c, accountId);
      await c.query('DELETE FROM accounts WHERE id = $1', [id]);
      return true;
    });
  }

  async setAccessKeyHash(accountId: Uint8Array, hash: Uint8Array | null): Promise<void> {
    await this.pool.query('UPDATE accounts SET access_key_hash = $1 WHERE id = $2', [bufOrNull(hash), buf(accountId)]);
  }

  async touchDevice(accountId: Uint8Array, deviceId: number, lastSeenAt: number): Promise<void> {
    await this.pool.query(
      'UPDATE devices SET last_seen_at = $1 WHERE account_id = $2 AND device_id = $3 AND last_seen_at <> $1',
      [lastSeenAt, buf(accountId), deviceId],
    );
  }

  async putToken(tokenHash: Uint8Array, record: TokenRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO tokens (token_hash, account_id, device_id, expires_at) VALUES ($1, $2, $3, $4)',
      [buf(tokenHash), buf(record.accountId), record.deviceId, record.expiresAt],
    );
  }

  async getToken(tokenHash: Uint8Array): Promise<TokenRecord | undefined> {
    const row = await this.one('SELECT account_id, device_id, expires_at FROM tokens WHERE token_hash = $1', [
      buf(tokenHash),
    ]);
    return row && toToken(row);
  }

  async deleteToken(tokenHash: Uint8Array): Promise<void> {
    await this.pool.query('DELETE FROM tokens WHERE token_hash = $1', [buf(tokenHash)]);
  }

  async storePreKeys(
    accountId: Uint8Array,
    deviceId: number,
    keys: PreKeyWrite,
    maxOneTime: number,
  ): Promise<'ok' | 'too-many'> {
    return uploadWithinCap(() =>
      this.tx(async (c) => {
        // Serialise uploads for one device so two cannot each pass the cap check.
        await c.query('SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2 FOR UPDATE', [
          buf(accountId),
          deviceId,
        ]);
        await writePreKeys(c, accountId, deviceId, keys);
        checkPreKeyCap(await countKeys(c, accountId, deviceId), maxOneTime);
      }),
    );
  }

  async countPreKeys(accountId: Uint8Array, deviceId: number): Promise<{ oneTime: number; kem: number }> {
    return countKeys(this.pool, accountId, deviceId);
  }

  async takeBundles(accountId: Uint8Array, deviceIds?: readonly number[]): Promise<TakenBundle[]> {
    return this.tx(async (c) => {
      const id = buf(accountId);
      const devices = (
        (await c.query('SELECT * FROM devices WHERE account_id = $1 ORDER BY device_id', [id])).rows as Row[]
      ).filter((d) => wantsDevice(deviceIds, num(d.device_id)));
      const bundles: TakenBundle[] = [];
      for (const d of devices) {
        const deviceId = num(d.device_id);
        const params = [id, deviceId];
        const spk = (
          await c.query(
            'SELECT key_id, public_key, signature FROM signed_prekeys WHERE account_id = $1 AND device_id = $2',
            params,
          )
        ).rows[0] as Row | undefined;
        const lastResort = (
          await c.query(
            'SELECT key_id, public_key, signature FROM last_resort_kem_prekeys WHERE account_id = $1 AND device_id = $2',
            params,
          )
        ).rows[0] as Row | undefined;
        if (!spk || !lastResort) continue;
        const opk = (await c.query(takeSql('one_time_prekeys', 'key_id, public_key'), params)).rows[0] as
          | Row
          | undefined;
        const kem = (await c.query(takeSql('kem_prekeys', 'key_id, public_key, signature'), params)).rows[0] as
          | Row
          | undefined;
        bundles.push(toBundle(d, spk, lastResort, opk, kem));
      }
      return bundles;
    });
  }

  async applyMailboxBatch(batch: MailboxBatch): Promise<MailboxBatchResult> {
    return applyPostgresMailboxBatch(this.pool, batch);
  }

  async pendingMessages(
    accountId: Uint8Array,
    deviceId: number,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<StoredMessage[]> {
    const r = await this.pool.query(
      `SELECT m.seq, m.id, m.blob, m.source_account, m.source_device FROM message_targets t
       JOIN messages m ON m.seq = t.message_seq
       WHERE t.account_id = $1 AND t.device_id = $2 AND t.message_seq > $3 AND m.expires_at > $4
       ORDER BY t.message_seq LIMIT $5`,
      [buf(accountId), deviceId, afterSeq, now, limit],
    );
    return (r.rows as Row[]).map(toStoredMessage);
  }

  async prune(now: number): Promise<PruneResult> {
    return this.tx(async (c) => {
      const n = async (sql: string) => (await c.query(sql, [now])).rowCount ?? 0;
      await n('DELETE FROM message_targets WHERE message_seq IN (SELECT seq FROM messages WHERE expires_at <= $1)');
      const messages = await n('DELETE FROM messages WHERE expires_at <= $1');
      const tokens = await n('DELETE FROM tokens WHERE expires_at <= $1');
      const challenges = await n('DELETE FROM challenges WHERE expires_at <= $1');
      await n(
        'DELETE FROM attachment_chunks WHERE attachment_id IN (SELECT id FROM attachments WHERE expires_at <= $1)',
      );
      const attachments = await n('DELETE FROM attachments WHERE expires_at <= $1');
      const provisioning = await n('DELETE FROM provisioning WHERE expires_at <= $1');
      return { messages, tokens, challenges, attachments, provisioning };
    });
  }

  async putProvisioning(channel: Uint8Array, blob: Uint8Array, expiresAt: number, now: number): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM provisioning WHERE channel = $1 AND expires_at <= $2', [buf(channel), now]);
      const r = await c.query(
        'INSERT INTO provisioning (channel, blob, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [buf(channel), buf(blob), expiresAt],
      );
      return r.rowCount === 1;
    });
  }

  async takeProvisioning(channel: Uint8Array, now: number): Promise<Uint8Array | undefined> {
    const row = await this.one('DELETE FROM provisioning WHERE channel = $1 RETURNING blob, expires_at', [
      buf(channel),
    ]);
    return row && num(row.expires_at) > now ? bytes(row.blob) : undefined;
  }

  async logLeafHashes(): Promise<Uint8Array[]> {
    const r = await this.pool.query('SELECT leaf_hash FROM log_leaves ORDER BY idx');
    return (r.rows as Row[]).map((row) => bytes(row.leaf_hash));
  }

  async latestLogEntry(accountId: Uint8Array): Promise<{ index: number; entry: Uint8Array } | undefined> {
    const row = await this.one('SELECT idx, entry FROM log_entries WHERE account_id = $1 ORDER BY idx DESC LIMIT 1', [
      buf(accountId),
    ]);
    return row && toLogEntry(row);
  }

  async setDiscoverable(accountId: Uint8Array, displayName: string | null): Promise<void> {
    await this.pool.query('UPDATE accounts SET discoverable_name = $1, discoverable_lower = $2 WHERE id = $3', [
      displayName,
      discoverableLower(displayName),
      buf(accountId),
    ]);
  }

  async getDiscoverable(accountId: Uint8Array): Promise<string | null> {
    const row = await this.one('SELECT discoverable_name FROM accounts WHERE id = $1', [buf(accountId)]);
    return (row?.discoverable_name as string | null | undefined) ?? null;
  }

  async searchDiscoverable(query: string, limit: number, exclude: Uint8Array): Promise<DiscoverableAccount[]> {
    const pattern = discoveryPattern(query);
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    const r = await this.pool.query(
      `SELECT id, identity_key, discoverable_name FROM accounts
       WHERE discoverable_lower LIKE $1 ESCAPE '\\' AND id <> $2
       ORDER BY discoverable_lower COLLATE "C", id LIMIT $3`,
      [pattern, buf(exclude), limit],
    );
    return (r.rows as Row[]).map(toDiscoverable);
  }

  async createAttachment(id: Uint8Array, record: AttachmentRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO attachments (id, size, chunk_size, received, next_index, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [buf(id), record.size, record.chunkSize, record.received, record.nextIndex, record.expiresAt],
    );
  }

  async getAttachment(id: Uint8Array, now: number): Promise<AttachmentRecord | undefined> {
    const row = await this.one(
      'SELECT size, chunk_size, received, next_index, expires_at FROM attachments WHERE id = $1',
      [buf(id)],
    );
    return row && num(row.expires_at) > now ? toAttachment(row) : undefined;
  }

  async appendAttachmentChunk(
    id: Uint8Array,
    index: number,
    data: Uint8Array,
  ): Promise<AttachmentRecord | 'conflict' | 'missing'> {
    return this.tx(async (c) => {
      const row = (
        await c.query(
          'SELECT size, chunk_size, received, next_index, expires_at FROM attachments WHERE id = $1 FOR UPDATE',
          [buf(id)],
        )
      ).rows[0] as Row | undefined;
      if (!row) return 'missing' as const;
      const next = appendedAttachment(toAttachment(row), index, data.length);
      if (next === 'conflict') return next;
      await c.query('INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES ($1, $2, $3)', [
        buf(id),
        index,
        buf(data),
      ]);
      await c.query('UPDATE attachments SET received = $1, next_index = $2 WHERE id = $3', [
        next.received,
        next.nextIndex,
        buf(id),
      ]);
      return next;
    });
  }

  async readAttachmentChunk(id: Uint8Array, index: number): Promise<Uint8Array | undefined> {
    const row = await this.one('SELECT data FROM attachment_chunks WHERE attachment_id = $1 AND idx = $2', [
      buf(id),
      index,
    ]);
    return row && bytes(row.data);
  }
}

/** Delete and return the lowest-numbered key nobody else is taking right now. */
function takeSql(table: 'one_time_prekeys' | 'kem_prekeys', columns: string): string {
  return `DELETE FROM ${table} WHERE (account_id, device_id, key_id) = (
    SELECT account_id, device_id, key_id FROM ${table} WHERE account_id = $1 AND device_id = $2
    ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ${columns}`;
}

/** Swallows 'error' events of a checked-out client (see `tx`). */
function ignoreClientError(): void {}

async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  const c = await pool.connect();
  c.on('error', ignoreClientError);
  try {
    await c.query('SELECT pg_advisory_lock($1, $2)', [...LOCK_MIGRATE]);
    try {
      if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)');
      const row = (await c.query('SELECT version FROM schema_version')).rows[0] as Row | undefined;
      if (!row) await c.query('INSERT INTO schema_version (version) VALUES (0)');
      let version = row ? num(row.version) : 0;
      checkSchemaVersion(version, POSTGRES_MIGRATIONS);
      for (const m of POSTGRES_MIGRATIONS) {
        if (m.version <= version) continue;
        await c.query('BEGIN');
        try {
          await c.query(m.sql);
          await c.query('UPDATE schema_version SET version = $1', [m.version]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        }
        version = m.version;
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_MIGRATE]);
    }
  } finally {
    c.off('error', ignoreClientError);
    c.release();
  }
}

async function insertDevice(c: Query, d: DeviceRecord): Promise<void> {
  await c.query(
    'INSERT INTO devices (account_id, device_id, device_key, certificate, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [buf(d.accountId), d.deviceId, buf(d.deviceKey), buf(d.certificate), d.createdAt, d.lastSeenAt],
  );
}

async function writePreKeys(c: Query, accountId: Uint8Array, deviceId: number, keys: PreKeyWrite): Promise<void> {
  const id = buf(accountId);
  if (keys.replaceOneTimePreKeys) {
    await c.query('DELETE FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2', [id, deviceId]);
    await c.query('DELETE FROM kem_prekeys WHERE account_id = $1 AND device_id = $2', [id, deviceId]);
  }
  const spk = keys.signedPreKey;
  if (spk) {
    await c.query(
      `INSERT INTO signed_prekeys (account_id, device_id, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (account_id, device_id) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`,
      [id, deviceId, spk.id, buf(spk.publicKey), buf(spk.signature)],
    );
  }
  const lr = keys.lastResortKemPreKey;
  if (lr) {
    await c.query(
      `INSERT INTO last_resort_kem_prekeys (account_id, device_id, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (account_id, device_id) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`,
      [id, deviceId, lr.id, buf(lr.publicKey), buf(lr.signature)],
    );
  }
  const oneTime = keys.oneTimePreKeys ?? [];
  if (oneTime.length > 0) {
    await c.query(
      `INSERT INTO one_time_prekeys (account_id, device_id, key_id, public_key)
       SELECT $1, $2, * FROM unnest($3::bigint[], $4::bytea[])
       ON CONFLICT (account_id, device_id, key_id) DO UPDATE SET public_key = excluded.public_key`,
      [id, deviceId, oneTime.map((k) => k.id), oneTime.map((k) => buf(k.publicKey))],
    );
  }
  const kem = keys.kemPreKeys ?? [];
  if (kem.length > 0) {
    await c.query(
      `INSERT INTO kem_prekeys (account_id, device_id, key_id, public_key, signature)
       SELECT $1, $2, * FROM unnest($3::bigint[], $4::bytea[], $5::bytea[])
       ON CONFLICT (account_id, device_id, key_id) DO UPDATE SET public_key = excluded.public_key, signature = excluded.signature`,
      [id, deviceId, kem.map((k) => k.id), kem.map((k) => buf(k.publicKey)), kem.map((k) => buf(k.signature))],
    );
  }
}

async function countKeys(c: Query, accountId: Uint8Array, deviceId: number): Promise<{ oneTime: number; kem: number }> {
  const row = (
    await c.query(
      `SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2) AS one_time,
              (SELECT COUNT(*) FROM kem_prekeys WHERE account_id = $1 AND device_id = $2) AS kem`,
      [buf(accountId), deviceId],
    )
  ).rows[0] as Row;
  return { oneTime: num(row.one_time), kem: num(row.kem) };
}

/** Append a log leaf at the next index; the lock makes indices gap-free and unique across instances. */
async function appendLog(c: Query, accountId: Uint8Array, log: LogAppend): Promise<number> {
  await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK_LOG]);
  const row = (
    await c.query(
      'INSERT INTO log_leaves (idx, leaf_hash) VALUES ((SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves), $1) RETURNING idx',
      [buf(log.leafHash)],
    )
  ).rows[0] as Row;
  const index = num(row.idx);
  await c.query('INSERT INTO log_entries (idx, account_id, entry) VALUES ($1, $2, $3)', [
    index,
    buf(accountId),
    buf(log.entry),
  ]);
  return index;
}

/** Delete the listed messages that have no target left (the blob goes with its last target). */
async function dropIfDone(c: Query, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) return;
  await c.query(
    `DELETE FROM messages m WHERE m.seq = ANY($1::bigint[])
     AND NOT EXISTS (SELECT 1 FROM message_targets t WHERE t.message_seq = m.seq)`,
    [seqs],
  );
}

/** Remove a device and everything that belongs to it, including its mailbox targets. */
async function purgeDevice(c: Query, accountId: Uint8Array, deviceId: number): Promise<void> {
  const id = buf(accountId);
  for (const table of DEVICE_TABLES) {
    await c.query(`DELETE FROM ${table} WHERE account_id = $1 AND device_id = $2`, [id, deviceId]);
  }
  const locked = await c.query(
    `SELECT m.seq FROM messages m JOIN message_targets t ON t.message_seq = m.seq
     WHERE t.account_id = $1 AND t.device_id = $2 ORDER BY m.seq FOR UPDATE OF m`,
    [id, deviceId],
  );
  await c.query('DELETE FROM message_targets WHERE account_id = $1 AND device_id = $2', [id, deviceId]);
  await dropIfDone(
    c,
    (locked.rows as Row[]).map((r) => num(r.seq)),
  );
  await c.query('DELETE FROM devices WHERE account_id = $1 AND device_id = $2', [id, deviceId]);
}
