/**
 * The SQLite backend of the SQLCipher store: row mapping and SQL for every operation of
 * {@link StoreBackend}, over an already keyed and migrated connection. better-sqlite3 is
 * synchronous, so every operation is atomic on its own; those that touch several rows run
 * in `db.transaction`, which nests as a savepoint inside an open store transaction.
 */
import type Database from 'better-sqlite3-multiple-ciphers';
import { ClientError } from '../../errors.js';
import { type ListContactsOptions, SCHEMA_VERSION } from '../../storage/client-store.js';
import { statusesBefore } from '../../storage/message-status.js';
import type {
  ContactRecord,
  ConversationRecord,
  ExpiredMessage,
  KeyHistoryEntry,
  ListMessagesOptions,
  MessageChanges,
  MessageRecord,
  MessageStatus,
  OutboxRecord,
  PrekeyInfo,
  PrekeyKind,
  PrekeyRecord,
  ProfileRecord,
  RetentionPolicy,
  StoreDump,
} from '../../storage/records.js';
import type { StoreBackend } from '../../storage/store-backend.js';
import { deleteProfileFiles } from './profile-files.js';

type Db = Database.Database;
type Row = Record<string, unknown>;

// Column values of a row read back from our own schema; SQLCipher authenticated the pages.
const blob = (v: unknown): Uint8Array => new Uint8Array(v as Uint8Array);
const optBlob = (v: unknown): Uint8Array | undefined => (v === null ? undefined : blob(v));
const num = (v: unknown): number => v as number;
const str = (v: unknown): string => v as string;
const bool = (v: unknown): boolean => v === 1;
/** `{ key: v }`, or `{}` for a NULL column: unset optional fields are absent. */
const opt = <K extends string, T>(key: K, v: T | null | undefined): { [P in K]?: T } =>
  (v === undefined || v === null ? {} : { [key]: v }) as { [P in K]?: T };

function profileFromRow(r: Row): ProfileRecord {
  return {
    userId: str(r.user_id),
    accountPublicKey: blob(r.account_public_key),
    accountSecretKey: blob(r.account_secret_key),
    deviceId: num(r.device_id),
    deviceSecretKey: blob(r.device_secret_key),
    devicePublicKey: blob(r.device_public_key),
    certificate: blob(r.certificate),
    ...opt('deviceList', optBlob(r.device_list)),
    deviceListCounter: num(r.device_list_counter),
    serverUrl: str(r.server_url),
    displayName: str(r.display_name),
    createdAt: num(r.created_at),
    accessKey: blob(r.access_key),
    settings: {
      readReceipts: bool(r.read_receipts),
      typingIndicators: bool(r.typing_indicators),
      discoverable: bool(r.discoverable),
    },
    ...avatarFromRow(r),
  };
}

/** Both avatar columns, or neither (the store core only writes them together). */
function avatarFromRow(r: Row): { avatar?: Uint8Array; avatarMime?: string } {
  return r.avatar === null || r.avatar_mime === null ? {} : { avatar: blob(r.avatar), avatarMime: str(r.avatar_mime) };
}

function contactFromRow(r: Row): ContactRecord {
  return {
    accountId: str(r.account_id),
    identityKey: blob(r.identity_key),
    displayName: str(r.display_name),
    state: str(r.state) as ContactRecord['state'],
    verified: bool(r.verified),
    ...(r.key_change_new_key === null
      ? {}
      : { keyChange: { newKey: blob(r.key_change_new_key), seenAt: num(r.key_change_seen_at) } }),
    ...opt('accessKey', optBlob(r.access_key)),
    ...opt('deviceList', optBlob(r.device_list)),
    addedAt: num(r.added_at),
    ...avatarFromRow(r),
  };
}

function conversationFromRow(r: Row): ConversationRecord {
  return {
    id: str(r.id),
    kind: str(r.kind) as ConversationRecord['kind'],
    ...opt('title', r.title as string | null),
    lastMessageAt: num(r.last_message_at),
    ...opt('lastMessagePreview', r.last_message_preview as string | null),
    unread: num(r.unread),
    ...opt('muted', r.muted === null ? undefined : bool(r.muted)),
    ...opt('disappearingSeconds', r.disappearing_seconds as number | null),
    ...opt('retention', retentionFromRow(r)),
  };
}

function retentionFromRow(r: Row): RetentionPolicy | undefined {
  const mode = r.retention_mode as string | null;
  if (mode === null) return undefined;
  if (mode === 'ttl') return { mode, ttlSeconds: num(r.retention_ttl_seconds) };
  return { mode: mode as 'burn-on-read' | 'history' };
}

function messageFromRow(r: Row): MessageRecord {
  return {
    id: str(r.id),
    conversationId: str(r.conversation_id),
    senderAccountId: str(r.sender_account_id),
    senderDeviceId: num(r.sender_device_id),
    direction: str(r.direction) as MessageRecord['direction'],
    sentAt: num(r.sent_at),
    receivedAt: num(r.received_at),
    body: blob(r.body),
    status: str(r.status) as MessageStatus,
    ...opt('editedAt', r.edited_at as number | null),
    ...opt('deletedAt', r.deleted_at as number | null),
    ...opt('expiresAt', r.expires_at as number | null),
  };
}

function outboxFromRow(r: Row): OutboxRecord {
  return {
    id: str(r.id),
    createdAt: num(r.created_at),
    attempts: num(r.attempts),
    nextAttemptAt: num(r.next_attempt_at),
    kind: str(r.kind),
    payload: blob(r.payload),
  };
}

const flag = (b: boolean): number => (b ? 1 : 0);
const nullable = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

const MESSAGE_COLUMNS =
  'id, conversation_id, sender_account_id, sender_device_id, direction, sent_at, received_at, body, status, edited_at, deleted_at, expires_at';

/** SQLite result codes that mean the file is not readable as our database. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** The backend over an open, keyed and migrated connection. */
export class SqlCipherBackend implements StoreBackend {
  readonly schemaVersion = SCHEMA_VERSION;
  private readonly statements = new Map<string, Database.Statement<unknown[], Row>>();
  private savepoints = 0;
  private open = true;

  constructor(
    private readonly db: Db,
    private readonly directory: string,
  ) {}

  private q(sql: string): Database.Statement<unknown[], Row> {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare<unknown[], Row>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private changed(sql: string, ...params: unknown[]): boolean {
    return this.q(sql).run(...params).changes > 0;
  }

  getProfile(): ProfileRecord | undefined {
    const r = this.q('SELECT * FROM profile WHERE singleton = 1').get();
    return r && profileFromRow(r);
  }
  putProfile(p: ProfileRecord): void {
    this.q(
      `INSERT OR REPLACE INTO profile (singleton, user_id, account_public_key, account_secret_key, device_id,
        device_secret_key, device_public_key, certificate, device_list, device_list_counter, server_url, display_name,
        created_at, access_key, read_receipts, typing_indicators, discoverable, avatar, avatar_mime)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      p.userId,
      p.accountPublicKey,
      p.accountSecretKey,
      p.deviceId,
      p.deviceSecretKey,
      p.devicePublicKey,
      p.certificate,
      nullable(p.deviceList),
      p.deviceListCounter,
      p.serverUrl,
      p.displayName,
      p.createdAt,
      p.accessKey,
      flag(p.settings.readReceipts),
      flag(p.settings.typingIndicators),
      flag(p.settings.discoverable),
      nullable(p.avatar),
      nullable(p.avatarMime),
    );
  }

  putPrekey(p: PrekeyRecord): void {
    this.q('INSERT OR REPLACE INTO prekeys (kind, id, record, created_at, last_resort) VALUES (?, ?, ?, ?, ?)').run(
      p.kind,
      p.id,
      p.record,
      p.createdAt,
      flag(p.lastResort),
    );
  }
  getPrekey(kind: PrekeyKind, id: number): PrekeyRecord | undefined {
    const r = this.q('SELECT * FROM prekeys WHERE kind = ? AND id = ?').get(kind, id);
    return r && { kind, id, record: blob(r.record), createdAt: num(r.created_at), lastResort: bool(r.last_resort) };
  }
  deletePrekey(kind: PrekeyKind, id: number): boolean {
    return this.changed('DELETE FROM prekeys WHERE kind = ? AND id = ?', kind, id);
  }
  listPrekeys(kind: PrekeyKind): PrekeyInfo[] {
    return this.q('SELECT id, created_at, last_resort FROM prekeys WHERE kind = ? ORDER BY id')
      .all(kind)
      .map((r) => ({ kind, id: num(r.id), createdAt: num(r.created_at), lastResort: bool(r.last_resort) }));
  }
  countPrekeys(kind: PrekeyKind): number {
    return num(this.q('SELECT count(*) AS n FROM prekeys WHERE kind = ? AND last_resort = 0').get(kind)?.n);
  }

  putSession(accountId: string, deviceId: number, record: Uint8Array): void {
    this.q('INSERT OR REPLACE INTO sessions (account_id, device_id, record) VALUES (?, ?, ?)').run(
      accountId,
      deviceId,
      record,
    );
  }
  getSession(accountId: string, deviceId: number): Uint8Array | undefined {
    const r = this.q('SELECT record FROM sessions WHERE account_id = ? AND device_id = ?').get(accountId, deviceId);
    return r && blob(r.record);
  }
  listSessionDevices(accountId: string): number[] {
    return this.q('SELECT device_id FROM sessions WHERE account_id = ? ORDER BY device_id')
      .all(accountId)
      .map((r) => num(r.device_id));
  }
  deleteSession(accountId: string, deviceId: number): boolean {
    return this.changed('DELETE FROM sessions WHERE account_id = ? AND device_id = ?', accountId, deviceId);
  }
  deleteSessions(accountId: string): number {
    return this.q('DELETE FROM sessions WHERE account_id = ?').run(accountId).changes;
  }

  putSenderKey(distributionId: string, accountId: string, deviceId: number, record: Uint8Array): void {
    this.q(
      'INSERT OR REPLACE INTO sender_keys (distribution_id, account_id, device_id, record) VALUES (?, ?, ?, ?)',
    ).run(distributionId, accountId, deviceId, record);
  }
  getSenderKey(distributionId: string, accountId: string, deviceId: number): Uint8Array | undefined {
    const r = this.q(
      'SELECT record FROM sender_keys WHERE distribution_id = ? AND account_id = ? AND device_id = ?',
    ).get(distributionId, accountId, deviceId);
    return r && blob(r.record);
  }
  deleteSenderKey(distributionId: string, accountId: string, deviceId: number): boolean {
    return this.changed(
      'DELETE FROM sender_keys WHERE distribution_id = ? AND account_id = ? AND device_id = ?',
      distributionId,
      accountId,
      deviceId,
    );
  }
  deleteSenderKeys(distributionId: string): number {
    return this.q('DELETE FROM sender_keys WHERE distribution_id = ?').run(distributionId).changes;
  }

  putContact(c: ContactRecord): void {
    // An upsert, not INSERT OR REPLACE: a replace deletes the row and would cascade to the key history.
    this.q(
      `INSERT INTO contacts (account_id, identity_key, display_name, state, verified, key_change_new_key,
        key_change_seen_at, access_key, device_list, added_at, avatar, avatar_mime)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET identity_key = excluded.identity_key,
        display_name = excluded.display_name, state = excluded.state, verified = excluded.verified,
        key_change_new_key = excluded.key_change_new_key, key_change_seen_at = excluded.key_change_seen_at,
        access_key = excluded.access_key, device_list = excluded.device_list, added_at = excluded.added_at,
        avatar = excluded.avatar, avatar_mime = excluded.avatar_mime`,
    ).run(
      c.accountId,
      c.identityKey,
      c.displayName,
      c.state,
      flag(c.verified),
      nullable(c.keyChange?.newKey),
      nullable(c.keyChange?.seenAt),
      nullable(c.accessKey),
      nullable(c.deviceList),
      c.addedAt,
      nullable(c.avatar),
      nullable(c.avatarMime),
    );
  }
  getContact(accountId: string): ContactRecord | undefined {
    const r = this.q('SELECT * FROM contacts WHERE account_id = ?').get(accountId);
    return r && contactFromRow(r);
  }
  listContacts(options?: ListContactsOptions): ContactRecord[] {
    const rows =
      options?.state === undefined
        ? this.q('SELECT * FROM contacts ORDER BY added_at, account_id').all()
        : this.q('SELECT * FROM contacts WHERE state = ? ORDER BY added_at, account_id').all(options.state);
    return rows.map(contactFromRow);
  }
  deleteContact(accountId: string): boolean {
    // key_history rows go with it (ON DELETE CASCADE).
    return this.changed('DELETE FROM contacts WHERE account_id = ?', accountId);
  }
  appendKeyHistory(accountId: string, entry: KeyHistoryEntry): boolean {
    return this.db.transaction(() => {
      if (!this.q('SELECT 1 FROM contacts WHERE account_id = ?').get(accountId)) return false;
      this.q(
        `INSERT INTO key_history (account_id, seq, identity_key, seen_at)
         SELECT ?, coalesce(max(seq), 0) + 1, ?, ? FROM key_history WHERE account_id = ?`,
      ).run(accountId, entry.identityKey, entry.seenAt, accountId);
      return true;
    })();
  }
  listKeyHistory(accountId: string): KeyHistoryEntry[] {
    return this.q('SELECT identity_key, seen_at FROM key_history WHERE account_id = ? ORDER BY seq')
      .all(accountId)
      .map((r) => ({ identityKey: blob(r.identity_key), seenAt: num(r.seen_at) }));
  }

  putConversation(c: ConversationRecord): void {
    this.q(
      `INSERT OR REPLACE INTO conversations (id, kind, title, last_message_at, last_message_preview, unread, muted,
        disappearing_seconds, retention_mode, retention_ttl_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      c.id,
      c.kind,
      nullable(c.title),
      c.lastMessageAt,
      nullable(c.lastMessagePreview),
      c.unread,
      c.muted === undefined ? null : flag(c.muted),
      nullable(c.disappearingSeconds),
      nullable(c.retention?.mode),
      c.retention?.mode === 'ttl' ? c.retention.ttlSeconds : null,
    );
  }
  getConversation(id: string): ConversationRecord | undefined {
    const r = this.q('SELECT * FROM conversations WHERE id = ?').get(id);
    return r && conversationFromRow(r);
  }
  listConversations(limit?: number): ConversationRecord[] {
    return this.q('SELECT * FROM conversations ORDER BY last_message_at DESC, id LIMIT ?')
      .all(limit ?? -1)
      .map(conversationFromRow);
  }
  deleteConversation(id: string): boolean {
    return this.db.transaction(() => {
      this.q('DELETE FROM messages WHERE conversation_id = ?').run(id);
      return this.changed('DELETE FROM conversations WHERE id = ?', id);
    })();
  }

  insertMessage(m: MessageRecord): boolean {
    return this.changed(
      `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      m.id,
      m.conversationId,
      m.senderAccountId,
      m.senderDeviceId,
      m.direction,
      m.sentAt,
      m.receivedAt,
      m.body,
      m.status,
      nullable(m.editedAt),
      nullable(m.deletedAt),
      nullable(m.expiresAt),
    );
  }
  getMessage(id: string): MessageRecord | undefined {
    const r = this.q(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`).get(id);
    return r && messageFromRow(r);
  }
  updateMessageStatus(id: string, status: MessageStatus): boolean {
    const from = statusesBefore(status);
    if (from.length === 0) return false;
    // One statement: the forward-only rule holds even against another connection.
    return this.changed(
      `UPDATE messages SET status = ? WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`,
      status,
      id,
      ...from,
    );
  }
  updateMessage(id: string, c: MessageChanges): boolean {
    return this.changed(
      `UPDATE messages SET body = coalesce(?, body), edited_at = coalesce(?, edited_at),
        deleted_at = coalesce(?, deleted_at), expires_at = coalesce(?, expires_at) WHERE id = ?`,
      nullable(c.body),
      nullable(c.editedAt),
      nullable(c.deletedAt),
      nullable(c.expiresAt),
      id,
    );
  }
  listMessages(conversationId: string, o: ListMessagesOptions): MessageRecord[] {
    const rows = o.before
      ? this.q(
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND (sent_at < ? OR (sent_at = ? AND id < ?))
           ORDER BY sent_at DESC, id DESC LIMIT ?`,
        ).all(conversationId, o.before.sentAt, o.before.sentAt, o.before.id, o.limit)
      : this.q(
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY sent_at DESC, id DESC LIMIT ?`,
        ).all(conversationId, o.limit);
    return rows.map(messageFromRow);
  }
  countMessages(conversationId: string): number {
    return num(this.q('SELECT count(*) AS n FROM messages WHERE conversation_id = ?').get(conversationId)?.n);
  }
  deleteMessage(id: string): boolean {
    return this.changed('DELETE FROM messages WHERE id = ?', id);
  }
  deleteExpiredMessages(now: number, limit?: number): ExpiredMessage[] {
    return this.db.transaction(() => {
      const due = this.q(
        `SELECT id, conversation_id FROM messages WHERE expires_at IS NOT NULL AND expires_at <= ?
         ORDER BY expires_at, id LIMIT ?`,
      )
        .all(now, limit ?? -1)
        .map((r) => ({ id: str(r.id), conversationId: str(r.conversation_id) }));
      for (const m of due) this.q('DELETE FROM messages WHERE id = ?').run(m.id);
      return due;
    })();
  }

  enqueueOutbox(e: OutboxRecord): boolean {
    return this.changed(
      `INSERT INTO outbox (id, created_at, attempts, next_attempt_at, kind, payload) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      e.id,
      e.createdAt,
      e.attempts,
      e.nextAttemptAt,
      e.kind,
      e.payload,
    );
  }
  getOutbox(id: string): OutboxRecord | undefined {
    const r = this.q('SELECT * FROM outbox WHERE id = ?').get(id);
    return r && outboxFromRow(r);
  }
  listDueOutbox(now: number, limit: number): OutboxRecord[] {
    return this.q('SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?')
      .all(now, limit)
      .map(outboxFromRow);
  }
  rescheduleOutbox(id: string, attempts: number, nextAttemptAt: number): boolean {
    return this.changed(
      'UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?',
      attempts,
      nextAttemptAt,
      id,
    );
  }
  removeOutbox(id: string): boolean {
    return this.changed('DELETE FROM outbox WHERE id = ?', id);
  }

  markSeen(id: string, at: number): boolean {
    return this.changed('INSERT INTO seen (id, seen_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', id, at);
  }
  pruneSeen(before: number): number {
    return this.q('DELETE FROM seen WHERE seen_at < ?').run(before).changes;
  }

  getTreeHead(): Uint8Array | undefined {
    const r = this.q("SELECT value FROM state WHERE name = 'tree_head'").get();
    return r && blob(r.value);
  }
  putTreeHead(treeHead: Uint8Array): void {
    this.q("INSERT OR REPLACE INTO state (name, value) VALUES ('tree_head', ?)").run(treeHead);
  }

  exportAll(): StoreDump {
    // One read transaction, so the dump is a consistent snapshot.
    return this.db.transaction((): StoreDump => {
      const profile = this.getProfile();
      const treeHead = this.getTreeHead();
      const history = new Map<string, KeyHistoryEntry[]>();
      for (const r of this.q(
        'SELECT account_id, identity_key, seen_at FROM key_history ORDER BY account_id, seq',
      ).all()) {
        const list = history.get(str(r.account_id)) ?? [];
        list.push({ identityKey: blob(r.identity_key), seenAt: num(r.seen_at) });
        history.set(str(r.account_id), list);
      }
      return {
        ...(profile ? { profile } : {}),
        ...(treeHead ? { treeHead } : {}),
        prekeys: this.q('SELECT * FROM prekeys ORDER BY kind, id')
          .all()
          .map((r) => ({
            kind: str(r.kind) as PrekeyKind,
            id: num(r.id),
            record: blob(r.record),
            createdAt: num(r.created_at),
            lastResort: bool(r.last_resort),
          })),
        sessions: this.q('SELECT * FROM sessions ORDER BY account_id, device_id')
          .all()
          .map((r) => ({ accountId: str(r.account_id), deviceId: num(r.device_id), record: blob(r.record) })),
        senderKeys: this.q('SELECT * FROM sender_keys ORDER BY distribution_id, account_id, device_id')
          .all()
          .map((r) => ({
            distributionId: str(r.distribution_id),
            accountId: str(r.account_id),
            deviceId: num(r.device_id),
            record: blob(r.record),
          })),
        contacts: this.listContacts(),
        keyHistory: [...history].map(([accountId, entries]) => ({ accountId, entries })),
        conversations: this.listConversations(),
        messages: this.q(`SELECT ${MESSAGE_COLUMNS} FROM messages ORDER BY conversation_id, sent_at, id`)
          .all()
          .map(messageFromRow),
        outbox: this.q('SELECT * FROM outbox ORDER BY created_at, id').all().map(outboxFromRow),
        seen: this.q('SELECT id, seen_at FROM seen ORDER BY id')
          .all()
          .map((r) => ({ id: str(r.id), at: num(r.seen_at) })),
      };
    })();
  }

  begin(): void {
    // IMMEDIATE takes the write lock now, so a commit cannot fail with SQLITE_BUSY halfway.
    this.db.exec('BEGIN IMMEDIATE');
    this.savepoints = 0;
  }
  commit(): void {
    this.db.exec('COMMIT');
  }
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
  savepoint(): void {
    this.db.exec(`SAVEPOINT sp${++this.savepoints}`);
  }
  releaseSavepoint(): void {
    this.db.exec(`RELEASE sp${this.savepoints--}`);
  }
  rollbackToSavepoint(): void {
    const name = `sp${this.savepoints--}`;
    this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.statements.clear();
    this.db.close();
  }

  wipe(): void {
    this.close();
    deleteProfileFiles(this.directory);
  }

  mapError(error: unknown): ClientError | undefined {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
    if (CORRUPT_CODES.has(code)) return new ClientError('STORE_CORRUPT', `profile database is damaged (${code})`);
    return new ClientError('STORAGE_FAILED', `profile database failed (${code})`, { cause: error });
  }
}
