/**
 * The SQLite adapter of {@link Storage} (better-sqlite3): WAL journal, synchronous=FULL
 * so that a commit survives `kill -9` and power loss, numbered migrations. Calls are
 * synchronous underneath; each multi-statement operation is one transaction, so one-time
 * prekeys are consumed atomically and a mailbox batch commits as a whole.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
import { MAILBOX_SQL, MailboxWriter } from './mailbox-writer.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteArchive } from './sqlite-archive.js';

type Db = Database.Database;

/** Options of {@link SqliteStorage.open}. */
export interface SqliteOptions {
  /** Busy timeout when another process holds the write lock (ms). */
  readonly busyTimeoutMs?: number;
  /**
   * Commit mailbox batches on a worker thread with a second connection, so that the event
   * loop does not stop for their statements and fsync (default true; `:memory:` databases
   * always commit in-thread, a second connection would open another database).
   */
  readonly mailboxWorker?: boolean;
}

/** SQLite storage. Open with {@link SqliteStorage.open}. */
export class SqliteStorage extends ArchiveDelegate implements Storage {
  private readonly db: Db;
  private readonly s: ReturnType<typeof prepare>;
  private readonly writer: MailboxWriter | undefined;
  protected readonly archive: SqliteArchive;

  private constructor(db: Db, writer: MailboxWriter | undefined) {
    super();
    this.db = db;
    this.s = prepare(db);
    this.writer = writer;
    this.archive = new SqliteArchive(db);
  }

  /**
   * Open (creating the file and its directory) and migrate a database. `:memory:` works too.
   * @throws Error when the file cannot be opened or the schema is newer than this code.
   */
  static open(file: string, options: SqliteOptions = {}): SqliteStorage {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    migrate(db);
    const worker = file !== ':memory:' && options.mailboxWorker !== false;
    return new SqliteStorage(db, worker ? new MailboxWriter(file, busyTimeoutMs) : undefined);
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return num((this.db.prepare('SELECT version FROM schema_version').get() as Row).version);
  }

  /** Every table's rows, for the metadata tests (dump the whole database). */
  dump(): Record<string, Row[]> {
    const tables = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return Object.fromEntries(
      tables.map(({ name }) => [name, this.db.prepare(`SELECT * FROM "${name}"`).all() as Row[]]),
    );
  }

  async close(): Promise<void> {
    // No await without a writer: the connection closes before close() returns.
    if (this.writer) await this.writer.close();
    if (this.db.open) this.db.close();
  }

  async secret(name: string, create: () => Uint8Array): Promise<Uint8Array> {
    return this.db.transaction(() => {
      const row = this.s.getSecret.get(name) as Row | undefined;
      if (row) return bytes(row.value);
      const value = create();
      this.s.putSecret.run(name, value);
      return value;
    })();
  }

  async putChallenge(nonceHash: Uint8Array, expiresAt: number): Promise<void> {
    this.s.putChallenge.run(nonceHash, expiresAt);
  }

  async consumeChallenge(nonceHash: Uint8Array, now: number): Promise<boolean> {
    const row = this.s.takeChallenge.get(nonceHash) as Row | undefined;
    return row !== undefined && num(row.expires_at) > now;
  }

  async createAccount(input: NewAccount): Promise<{ logIndex: number } | 'exists'> {
    return this.db
      .transaction(() => {
        const { account, device } = input;
        if (this.s.getAccount.get(account.id) || this.s.accountByKey.get(account.identityKey)) return 'exists' as const;
        this.s.insertAccount.run(
          account.id,
          account.identityKey,
          account.deviceList,
          account.deviceListCounter,
          account.accessKeyHash,
          account.createdAt,
        );
        this.insertDevice(device);
        this.writePreKeys(device.accountId, device.deviceId, input.prekeys);
        return { logIndex: this.appendLog(account.id, input.log) };
      })
      .immediate();
  }

  async getAccount(accountId: Uint8Array): Promise<AccountRecord | undefined> {
    const row = this.s.getAccount.get(accountId) as Row | undefined;
    return row && toAccount(row);
  }

  async listDevices(accountId: Uint8Array): Promise<DeviceRecord[]> {
    return (this.s.listDevices.all(accountId) as Row[]).map(toDevice);
  }

  async getDevice(accountId: Uint8Array, deviceId: number): Promise<DeviceRecord | undefined> {
    const row = this.s.getDevice.get(accountId, deviceId) as Row | undefined;
    return row && toDevice(row);
  }

  async changeDeviceList(change: DeviceListChange): Promise<{ logIndex: number } | 'stale'> {
    return this.db
      .transaction(() => {
        const row = this.s.getAccount.get(change.accountId) as Row | undefined;
        if (!row || num(row.device_list_counter) !== change.expectedCounter) return 'stale' as const;
        this.s.updateDeviceList.run(change.deviceList, change.counter, change.accountId);
        for (const deviceId of change.removedDeviceIds) this.purgeDevice(change.accountId, deviceId);
        if (change.device) {
          this.insertDevice(change.device.record);
          this.writePreKeys(change.accountId, change.device.record.deviceId, change.device.prekeys);
        }
        return { logIndex: this.appendLog(change.accountId, change.log) };
      })
      .immediate();
  }

  async deleteAccount(accountId: Uint8Array): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (!this.s.getAccount.get(accountId)) return false;
        for (const row of this.s.listDevices.all(accountId) as Row[]) this.purgeDevice(accountId, num(row.device_id));
        // Undelivered messages it sent (authenticated sends name it) go too: nothing of it remains.
        this.db
          .prepare(
            'DELETE FROM message_targets WHERE message_seq IN (SELECT seq FROM messages WHERE source_account = ?)',
          )
          .run(accountId);
        this.db.prepare('DELETE FROM messages WHERE source_account = ?').run(accountId);
        this.db.prepare('DELETE FROM log_entries WHERE account_id = ?').run(accountId);
        this.db.prepare('DELETE FROM archives WHERE account_id = ?').run(accountId);
        this.db.prepare('DELETE FROM archive_keys WHERE account_id = ?').run(accountId);
        this.db.prepare('DELETE FROM accounts WHERE id = ?').run(accountId);
        return true;
      })
      .immediate();
  }

  async setAccessKeyHash(accountId: Uint8Array, hash: Uint8Array | null): Promise<void> {
    this.db.prepare('UPDATE accounts SET access_key_hash = ? WHERE id = ?').run(hash, accountId);
  }

  async touchDevice(accountId: Uint8Array, deviceId: number, lastSeenAt: number): Promise<void> {
    this.s.touchDevice.run(lastSeenAt, accountId, deviceId, lastSeenAt);
  }

  async putToken(tokenHash: Uint8Array, record: TokenRecord): Promise<void> {
    this.s.putToken.run(tokenHash, record.accountId, record.deviceId, record.expiresAt);
  }

  async getToken(tokenHash: Uint8Array): Promise<TokenRecord | undefined> {
    const row = this.s.getToken.get(tokenHash) as Row | undefined;
    return row && toToken(row);
  }

  async deleteToken(tokenHash: Uint8Array): Promise<void> {
    this.s.deleteToken.run(tokenHash);
  }

  async storePreKeys(
    accountId: Uint8Array,
    deviceId: number,
    keys: PreKeyWrite,
    maxOneTime: number,
  ): Promise<'ok' | 'too-many'> {
    return uploadWithinCap(() =>
      this.db
        .transaction(() => {
          this.writePreKeys(accountId, deviceId, keys);
          checkPreKeyCap(this.count(accountId, deviceId), maxOneTime);
        })
        .immediate(),
    );
  }

  async countPreKeys(accountId: Uint8Array, deviceId: number): Promise<{ oneTime: number; kem: number }> {
    return this.count(accountId, deviceId);
  }

  async takeBundles(accountId: Uint8Array, deviceIds?: readonly number[]): Promise<TakenBundle[]> {
    return this.db
      .transaction(() => {
        const devices = (this.s.listDevices.all(accountId) as Row[]).filter((d) =>
          wantsDevice(deviceIds, num(d.device_id)),
        );
        const bundles: TakenBundle[] = [];
        for (const d of devices) {
          const deviceId = num(d.device_id);
          const spk = this.s.getSignedPreKey.get(accountId, deviceId) as Row | undefined;
          const lastResort = this.s.getLastResort.get(accountId, deviceId) as Row | undefined;
          if (!spk || !lastResort) continue;
          const opk = this.s.takeOneTime.get(accountId, deviceId, accountId, deviceId) as Row | undefined;
          const kem = this.s.takeKem.get(accountId, deviceId, accountId, deviceId) as Row | undefined;
          bundles.push(toBundle(d, spk, lastResort, opk, kem));
        }
        return bundles;
      })
      .immediate();
  }

  async applyMailboxBatch(batch: MailboxBatch): Promise<MailboxBatchResult> {
    if (this.writer) return this.writer.apply(batch);
    return this.db
      .transaction(() => {
        const seqs: number[] = [];
        for (const m of batch.inserts) {
          const seq = num(
            this.s.insertMessage.get(
              m.id,
              m.blob,
              m.source?.accountId ?? null,
              m.source?.deviceId ?? null,
              m.expiresAt,
            ),
          );
          for (const t of m.targets) this.s.insertTarget.run(t.accountId, t.deviceId, seq);
          seqs.push(seq);
        }
        const acked = batch.acks.map((ack) => {
          const done: Uint8Array[] = [];
          for (const id of ack.ids) {
            const seq = this.s.takeTarget.get(ack.accountId, ack.deviceId, id);
            if (seq === undefined) continue;
            done.push(id);
            this.s.dropIfDone.run(seq, seq);
          }
          return done;
        });
        return { seqs, acked };
      })
      .immediate();
  }

  async pendingMessages(
    accountId: Uint8Array,
    deviceId: number,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<StoredMessage[]> {
    return (this.s.pending.all(accountId, deviceId, afterSeq, now, limit) as Row[]).map(toStoredMessage);
  }

  async prune(now: number): Promise<PruneResult> {
    return this.db
      .transaction(() => {
        this.db
          .prepare('DELETE FROM message_targets WHERE message_seq IN (SELECT seq FROM messages WHERE expires_at <= ?)')
          .run(now);
        const messages = this.db.prepare('DELETE FROM messages WHERE expires_at <= ?').run(now).changes;
        const tokens = this.db.prepare('DELETE FROM tokens WHERE expires_at <= ?').run(now).changes;
        const challenges = this.db.prepare('DELETE FROM challenges WHERE expires_at <= ?').run(now).changes;
        this.db
          .prepare(
            'DELETE FROM attachment_chunks WHERE attachment_id IN (SELECT id FROM attachments WHERE expires_at <= ?)',
          )
          .run(now);
        const attachments = this.db.prepare('DELETE FROM attachments WHERE expires_at <= ?').run(now).changes;
        const provisioning = this.db.prepare('DELETE FROM provisioning WHERE expires_at <= ?').run(now).changes;
        return { messages, tokens, challenges, attachments, provisioning };
      })
      .immediate();
  }

  async putProvisioning(channel: Uint8Array, blob: Uint8Array, expiresAt: number, now: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM provisioning WHERE channel = ? AND expires_at <= ?').run(channel, now);
        const r = this.db
          .prepare('INSERT INTO provisioning (channel, blob, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(channel, blob, expiresAt);
        return r.changes === 1;
      })
      .immediate();
  }

  async takeProvisioning(channel: Uint8Array, now: number): Promise<Uint8Array | undefined> {
    const row = this.db.prepare('DELETE FROM provisioning WHERE channel = ? RETURNING blob, expires_at').get(channel) as
      | Row
      | undefined;
    return row && num(row.expires_at) > now ? bytes(row.blob) : undefined;
  }

  async logLeafHashes(): Promise<Uint8Array[]> {
    return (this.db.prepare('SELECT leaf_hash FROM log_leaves ORDER BY idx').all() as Row[]).map((r) =>
      bytes(r.leaf_hash),
    );
  }

  async latestLogEntry(accountId: Uint8Array): Promise<{ index: number; entry: Uint8Array } | undefined> {
    const row = this.db
      .prepare('SELECT idx, entry FROM log_entries WHERE account_id = ? ORDER BY idx DESC LIMIT 1')
      .get(accountId) as Row | undefined;
    return row && toLogEntry(row);
  }

  async setDiscoverable(accountId: Uint8Array, displayName: string | null): Promise<void> {
    this.db
      .prepare('UPDATE accounts SET discoverable_name = ?, discoverable_lower = ? WHERE id = ?')
      .run(displayName, discoverableLower(displayName), accountId);
  }

  async getDiscoverable(accountId: Uint8Array): Promise<string | null> {
    const row = this.db.prepare('SELECT discoverable_name FROM accounts WHERE id = ?').get(accountId) as
      | Row
      | undefined;
    return (row?.discoverable_name as string | null | undefined) ?? null;
  }

  async searchDiscoverable(query: string, limit: number, exclude: Uint8Array): Promise<DiscoverableAccount[]> {
    const pattern = discoveryPattern(query);
    const rows = this.db
      .prepare(
        `SELECT id, identity_key, discoverable_name FROM accounts
         WHERE discoverable_lower LIKE ? ESCAPE '\\' AND id <> ? ORDER BY discoverable_lower, id LIMIT ?`,
      )
      .all(pattern, exclude, limit) as Row[];
    return rows.map(toDiscoverable);
  }

  async createAttachment(id: Uint8Array, record: AttachmentRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO attachments (id, size, chunk_size, received, next_index, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(id, record.size, record.chunkSize, record.received, record.nextIndex, record.expiresAt);
  }

  async getAttachment(id: Uint8Array, now: number): Promise<AttachmentRecord | undefined> {
    const row = this.s.getAttachment.get(id) as Row | undefined;
    return row && num(row.expires_at) > now ? toAttachment(row) : undefined;
  }

  async appendAttachmentChunk(
    id: Uint8Array,
    index: number,
    data: Uint8Array,
  ): Promise<AttachmentRecord | 'conflict' | 'missing'> {
    return this.db
      .transaction(() => {
        const row = this.s.getAttachment.get(id) as Row | undefined;
        if (!row) return 'missing' as const;
        const next = appendedAttachment(toAttachment(row), index, data.length);
        if (next === 'conflict') return next;
        this.db
          .prepare('INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES (?, ?, ?)')
          .run(id, index, data);
        this.db
          .prepare('UPDATE attachments SET received = ?, next_index = ? WHERE id = ?')
          .run(next.received, next.nextIndex, id);
        return next;
      })
      .immediate();
  }

  async readAttachmentChunk(id: Uint8Array, index: number): Promise<Uint8Array | undefined> {
    const row = this.db
      .prepare('SELECT data FROM attachment_chunks WHERE attachment_id = ? AND idx = ?')
      .get(id, index) as Row | undefined;
    return row && bytes(row.data);
  }

  private insertDevice(d: DeviceRecord): void {
    this.s.insertDevice.run(d.accountId, d.deviceId, d.deviceKey, d.certificate, d.createdAt, d.lastSeenAt);
  }

  private writePreKeys(accountId: Uint8Array, deviceId: number, keys: PreKeyWrite): void {
    if (keys.replaceOneTimePreKeys) {
      this.db.prepare('DELETE FROM one_time_prekeys WHERE account_id = ? AND device_id = ?').run(accountId, deviceId);
      this.db.prepare('DELETE FROM kem_prekeys WHERE account_id = ? AND device_id = ?').run(accountId, deviceId);
    }
    const spk = keys.signedPreKey;
    if (spk) this.s.putSignedPreKey.run(accountId, deviceId, spk.id, spk.publicKey, spk.signature);
    const lr = keys.lastResortKemPreKey;
    if (lr) this.s.putLastResort.run(accountId, deviceId, lr.id, lr.publicKey, lr.signature);
    for (const k of keys.oneTimePreKeys ?? []) this.s.putOneTime.run(accountId, deviceId, k.id, k.publicKey);
    for (const k of keys.kemPreKeys ?? []) this.s.putKem.run(accountId, deviceId, k.id, k.publicKey, k.signature);
  }

  private count(accountId: Uint8Array, deviceId: number): { oneTime: number; kem: number } {
    const oneTime = num((this.s.countOneTime.get(accountId, deviceId) as Row).n);
    const kem = num((this.s.countKem.get(accountId, deviceId) as Row).n);
    return { oneTime, kem };
  }

  private appendLog(accountId: Uint8Array, log: LogAppend): number {
    const index = num((this.s.appendLeaf.get(log.leafHash) as Row).idx);
    this.s.insertLogEntry.run(index, accountId, log.entry);
    return index;
  }

  /** Remove a device and everything that belongs to it, including its mailbox targets. */
  private purgeDevice(accountId: Uint8Array, deviceId: number): void {
    for (const table of DEVICE_TABLES) {
      this.db.prepare(`DELETE FROM ${table} WHERE account_id = ? AND device_id = ?`).run(accountId, deviceId);
    }
    const seqs = this.db
      .prepare('SELECT message_seq FROM message_targets WHERE account_id = ? AND device_id = ?')
      .all(accountId, deviceId) as Row[];
    this.db.prepare('DELETE FROM message_targets WHERE account_id = ? AND device_id = ?').run(accountId, deviceId);
    for (const row of seqs) this.s.dropIfDone.run(num(row.message_seq), num(row.message_seq));
    this.db.prepare('DELETE FROM devices WHERE account_id = ? AND device_id = ?').run(accountId, deviceId);
  }
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  let version = row?.version ?? 0;
  checkSchemaVersion(version, MIGRATIONS);
  for (const m of MIGRATIONS) {
    if (m.version <= version) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('UPDATE schema_version SET version = ?').run(m.version);
    })();
    version = m.version;
  }
}

function prepare(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    getSecret: p('SELECT value FROM server_secrets WHERE name = ?'),
    putSecret: p('INSERT INTO server_secrets (name, value) VALUES (?, ?)'),
    putChallenge: p('INSERT INTO challenges (nonce_hash, expires_at) VALUES (?, ?)'),
    takeChallenge: p('DELETE FROM challenges WHERE nonce_hash = ? RETURNING expires_at'),
    getAccount: p('SELECT * FROM accounts WHERE id = ?'),
    accountByKey: p('SELECT id FROM accounts WHERE identity_key = ?'),
    insertAccount: p(
      'INSERT INTO accounts (id, identity_key, device_list, device_list_counter, access_key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    updateDeviceList: p('UPDATE accounts SET device_list = ?, device_list_counter = ? WHERE id = ?'),
    insertDevice: p(
      'INSERT INTO devices (account_id, device_id, device_key, certificate, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    listDevices: p('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id'),
    getDevice: p('SELECT * FROM devices WHERE account_id = ? AND device_id = ?'),
    touchDevice: p('UPDATE devices SET last_seen_at = ? WHERE account_id = ? AND device_id = ? AND last_seen_at <> ?'),
    putToken: p('INSERT INTO tokens (token_hash, account_id, device_id, expires_at) VALUES (?, ?, ?, ?)'),
    getToken: p('SELECT account_id, device_id, expires_at FROM tokens WHERE token_hash = ?'),
    deleteToken: p('DELETE FROM tokens WHERE token_hash = ?'),
    putSignedPreKey: p(
      `INSERT INTO signed_prekeys (account_id, device_id, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, device_id) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`,
    ),
    putLastResort: p(
      `INSERT INTO last_resort_kem_prekeys (account_id, device_id, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, device_id) DO UPDATE SET key_id = excluded.key_id, public_key = excluded.public_key, signature = excluded.signature`,
    ),
    putOneTime: p(
      `INSERT INTO one_time_prekeys (account_id, device_id, key_id, public_key) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, device_id, key_id) DO UPDATE SET public_key = excluded.public_key`,
    ),
    putKem: p(
      `INSERT INTO kem_prekeys (account_id, device_id, key_id, public_key, signature) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, device_id, key_id) DO UPDATE SET public_key = excluded.public_key, signature = excluded.signature`,
    ),
    getSignedPreKey: p(
      'SELECT key_id, public_key, signature FROM signed_prekeys WHERE account_id = ? AND device_id = ?',
    ),
    getLastResort: p(
      'SELECT key_id, public_key, signature FROM last_resort_kem_prekeys WHERE account_id = ? AND device_id = ?',
    ),
    takeOneTime: p(
      `DELETE FROM one_time_prekeys WHERE account_id = ? AND device_id = ? AND key_id =
       (SELECT MIN(key_id) FROM one_time_prekeys WHERE account_id = ? AND device_id = ?) RETURNING key_id, public_key`,
    ),
    takeKem: p(
      `DELETE FROM kem_prekeys WHERE account_id = ? AND device_id = ? AND key_id =
       (SELECT MIN(key_id) FROM kem_prekeys WHERE account_id = ? AND device_id = ?) RETURNING key_id, public_key, signature`,
    ),
    countOneTime: p('SELECT COUNT(*) AS n FROM one_time_prekeys WHERE account_id = ? AND device_id = ?'),
    countKem: p('SELECT COUNT(*) AS n FROM kem_prekeys WHERE account_id = ? AND device_id = ?'),
    // The mailbox's hot statements return one value (pluck): no row object per message.
    insertMessage: p(MAILBOX_SQL.insertMessage).pluck(),
    insertTarget: p(MAILBOX_SQL.insertTarget),
    takeTarget: p(MAILBOX_SQL.takeTarget).pluck(),
    dropIfDone: p(MAILBOX_SQL.dropIfDone),
    pending: p(
      `SELECT m.seq, m.id, m.blob, m.source_account, m.source_device FROM message_targets t
       JOIN messages m ON m.seq = t.message_seq
       WHERE t.account_id = ? AND t.device_id = ? AND t.message_seq > ? AND m.expires_at > ?
       ORDER BY t.message_seq LIMIT ?`,
    ),
    appendLeaf: p(
      'INSERT INTO log_leaves (idx, leaf_hash) VALUES ((SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves), ?) RETURNING idx',
    ),
    insertLogEntry: p('INSERT INTO log_entries (idx, account_id, entry) VALUES (?, ?, ?)'),
    getAttachment: p('SELECT size, chunk_size, received, next_index, expires_at FROM attachments WHERE id = ?'),
  };
}
