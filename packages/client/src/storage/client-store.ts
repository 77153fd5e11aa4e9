/**
 * The client's storage interface. One async interface, three adapters (memory for tests,
 * SQLCipher in Node, IndexedDB in browsers) that pass one conformance suite
 * (`runStoreConformance`). Every method validates its arguments (a bad one is a
 * `ClientError` INVALID_ARGUMENT and changes nothing), copies bytes in and out (callers
 * cannot mutate stored state through a reference) and returns records in the shapes of
 * `records.ts`.
 *
 * Calls on a store are serialised: a call made while a transaction is open waits until it
 * has finished, so nothing outside a transaction ever sees its partial writes.
 */
import type {
  ContactRecord,
  ContactState,
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
  StoreDump,
} from './records.js';

/**
 * The storage schema version every adapter is at after opening. Version 2 added message
 * expiry (disappearing messages) and the per-conversation timer; version 3 the
 * per-conversation retention policy; version 4 avatars on the profile and on contacts.
 */
export const SCHEMA_VERSION = 4;

/** Size bounds the stores enforce on their inputs. */
export const STORE_LIMITS = {
  /** Opaque state records: sessions, sender keys, prekeys, device lists, tree heads. */
  maxRecordBytes: 4 * 1024 * 1024,
  /** A message body (the encoded content; attachments live elsewhere). */
  maxBodyBytes: 1024 * 1024,
  /** An outbox payload. */
  maxPayloadBytes: 8 * 1024 * 1024,
  /** Display names and conversation titles, in UTF-16 code units. */
  maxNameLength: 256,
  /** A conversation's last-message preview. */
  maxPreviewLength: 1024,
  maxServerUrlLength: 2048,
  /** Outbox ids, outbox kinds and seen server message ids. */
  maxTokenLength: 128,
  /** Largest page of {@link ClientStore.listMessages}, {@link ClientStore.listDueOutbox}. */
  maxPage: 1000,
} as const;

/** Optional filter of {@link ClientStore.listContacts}. */
export interface ListContactsOptions {
  readonly state?: ContactState;
}

/**
 * Everything a client stores. All methods are async and may reject with a `ClientError`:
 * INVALID_ARGUMENT for a bad argument, STORE_CLOSED after close/wipe, STORE_CORRUPT for
 * stored data that fails to decode, STORAGE_FAILED for an I/O failure.
 */
export interface ClientStore {
  /** The schema version of the open store: always {@link SCHEMA_VERSION}. */
  readonly schemaVersion: number;

  // Profile
  /** The profile, or undefined before one was written. */
  getProfile(): Promise<ProfileRecord | undefined>;
  /** Create or replace the profile. */
  putProfile(profile: ProfileRecord): Promise<void>;

  // Prekeys
  /** Create or replace a prekey. `lastResort` must be false unless kind is 'kem'. */
  putPrekey(prekey: PrekeyRecord): Promise<void>;
  getPrekey(kind: PrekeyKind, id: number): Promise<PrekeyRecord | undefined>;
  /** Returns false when there was no such prekey. */
  deletePrekey(kind: PrekeyKind, id: number): Promise<boolean>;
  /** Prekeys of a kind without their secrets, by ascending id. */
  listPrekeys(kind: PrekeyKind): Promise<PrekeyInfo[]>;
  /** How many prekeys of a kind are held, last-resort KEM keys not counted. */
  countPrekeys(kind: PrekeyKind): Promise<number>;

  // Sessions
  putSession(accountId: string, deviceId: number, record: Uint8Array): Promise<void>;
  getSession(accountId: string, deviceId: number): Promise<Uint8Array | undefined>;
  /** Device ids with a session for the account, ascending. */
  listSessionDevices(accountId: string): Promise<number[]>;
  deleteSession(accountId: string, deviceId: number): Promise<boolean>;
  /** Deletes every session of the account; returns how many there were. */
  deleteSessions(accountId: string): Promise<number>;

  // Sender keys
  putSenderKey(distributionId: string, accountId: string, deviceId: number, record: Uint8Array): Promise<void>;
  getSenderKey(distributionId: string, accountId: string, deviceId: number): Promise<Uint8Array | undefined>;
  deleteSenderKey(distributionId: string, accountId: string, deviceId: number): Promise<boolean>;
  /** Deletes every sender key of a distribution (a group re-key); returns how many there were. */
  deleteSenderKeys(distributionId: string): Promise<number>;

  // Contacts
  /** Create or replace a contact (its key history is kept). */
  putContact(contact: ContactRecord): Promise<void>;
  getContact(accountId: string): Promise<ContactRecord | undefined>;
  /** Contacts by (addedAt, accountId). */
  listContacts(options?: ListContactsOptions): Promise<ContactRecord[]>;
  /** Deletes the contact and its key history. */
  deleteContact(accountId: string): Promise<boolean>;
  /**
   * Append to the contact's identity-key history (append-only: entries are never changed).
   * @throws ClientError NOT_FOUND when there is no such contact.
   */
  appendKeyHistory(accountId: string, entry: KeyHistoryEntry): Promise<void>;
  /** The history, oldest first. */
  listKeyHistory(accountId: string): Promise<KeyHistoryEntry[]>;

  // Conversations
  /** Create or replace a conversation. */
  putConversation(conversation: ConversationRecord): Promise<void>;
  getConversation(id: string): Promise<ConversationRecord | undefined>;
  /** Most recent first: by lastMessageAt descending, then id ascending. */
  listConversations(limit?: number): Promise<ConversationRecord[]>;
  /** Deletes the conversation and all its messages. */
  deleteConversation(id: string): Promise<boolean>;

  // Messages
  /** Insert a message; false (and nothing changed) when its id is already stored. */
  insertMessage(message: MessageRecord): Promise<boolean>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /**
   * Move a message's status forward (pending < sent < delivered < read; failed only from
   * pending). Returns false, changing nothing, for an unknown id or a move that is not forward.
   */
  updateMessageStatus(id: string, status: MessageStatus): Promise<boolean>;
  /** Set edit/deletion/expiry fields or replace the body; false for an unknown id. */
  updateMessage(id: string, changes: MessageChanges): Promise<boolean>;
  /** Newest first in (sentAt, id) order, keyset paged with `before`. */
  listMessages(conversationId: string, options: ListMessagesOptions): Promise<MessageRecord[]>;
  countMessages(conversationId: string): Promise<number>;
  deleteMessage(id: string): Promise<boolean>;
  /** Delete up to `limit` messages with expiresAt <= now, earliest first; returns them. */
  deleteExpiredMessages(now: number, limit?: number): Promise<ExpiredMessage[]>;

  // Outbox
  /** Add an entry; false (and nothing changed) when its id is already queued. */
  enqueueOutbox(entry: OutboxRecord): Promise<boolean>;
  getOutbox(id: string): Promise<OutboxRecord | undefined>;
  /** Entries with nextAttemptAt <= now, by (nextAttemptAt, createdAt, id). */
  listDueOutbox(now: number, limit: number): Promise<OutboxRecord[]>;
  /** Record a failed attempt; false for an unknown id. */
  rescheduleOutbox(id: string, attempts: number, nextAttemptAt: number): Promise<boolean>;
  removeOutbox(id: string): Promise<boolean>;

  // Seen server message ids (at-least-once delivery de-duplication)
  /** Remember a server message id; true when it was new, false when already seen. */
  markSeen(id: string, at: number): Promise<boolean>;
  /** Forget ids seen before `before` (strictly); returns how many. */
  pruneSeen(before: number): Promise<number>;

  // Key transparency
  getTreeHead(): Promise<Uint8Array | undefined>;
  /** Replace the last verified signed tree head. */
  putTreeHead(treeHead: Uint8Array): Promise<void>;

  // Backups
  /** Every record of the store (for `client.backup.export`); a consistent snapshot. */
  exportAll(): Promise<StoreDump>;
  /**
   * Write a dump into this EMPTY store, atomically (all or nothing). Every record is
   * validated as by the put methods.
   * @throws ClientError PROFILE_EXISTS when the store already holds a profile;
   *   INVALID_ARGUMENT for a malformed record.
   */
  importAll(dump: StoreDump): Promise<void>;

  /**
   * Run `fn` atomically: every write it makes through the handle it is given commits
   * together when it resolves, and none does when it throws (the error is rethrown).
   * Use only the handle inside `fn` (calls on the outer store wait for the transaction,
   * so awaiting one there deadlocks), and do not await foreign I/O (network, timers)
   * inside it: an IndexedDB transaction auto-commits when its body waits on anything
   * else, and a SQLite transaction would hold the store for the duration.
   * Nested calls on the handle are savepoints: an inner throw undoes only the inner writes.
   * @throws ClientError TRANSACTION_CLOSED when the handle is used after the transaction ended.
   */
  transaction<T>(fn: (tx: ClientStore) => Promise<T>): Promise<T>;

  /** Finish pending calls and close; later calls reject with STORE_CLOSED. Idempotent. */
  close(): Promise<void>;
  /** Destroy all data of this store (the SQLCipher adapter deletes its files) and close it. */
  wipe(): Promise<void>;
}
