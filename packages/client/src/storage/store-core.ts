/**
 * The shared front of every adapter: argument validation and copying, serialisation of
 * calls, transactions with savepoints, close/wipe and error typing. Adapters only supply
 * a {@link StoreBackend}; this is why every adapter refuses the same inputs the same way.
 */
import { ClientError, isClientError } from '../errors.js';
import { type ClientStore, type ListContactsOptions, SCHEMA_VERSION } from './client-store.js';
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
  StoreDump,
} from './records.js';
import type { MaybePromise, StoreBackend } from './store-backend.js';
import {
  canonicalContact,
  canonicalConversation,
  canonicalKeyHistoryEntry,
  canonicalListOptions,
  canonicalMessage,
  canonicalMessageChanges,
  canonicalOutbox,
  canonicalPrekey,
  canonicalProfile,
  checkAccountId,
  checkContactState,
  checkConversationId,
  checkDeviceId,
  checkDistributionId,
  checkInteger,
  checkLimit,
  checkMessageId,
  checkObject,
  checkPrekeyKind,
  checkRecordBytes,
  checkStatus,
  checkTime,
  checkToken,
  invalidArgument,
} from './validate.js';

/** State shared by a store and all its transaction handles. */
interface Shared {
  readonly backend: StoreBackend;
  /** Tail of the call queue: every top-level call runs after the previous one settled. */
  tail: Promise<void>;
  /** Set when close()/wipe() was called: new calls are refused at once. */
  ending: Promise<void> | undefined;
  closed: boolean;
}

/** A transaction (or savepoint) scope: its handle works only while it and its parents are open. */
class Scope {
  open = true;
  constructor(readonly parent?: Scope) {}
  get active(): boolean {
    return this.open && (this.parent?.active ?? true);
  }
}

const noop = (): void => {};

function toClientError(backend: StoreBackend, error: unknown): unknown {
  if (isClientError(error)) return error;
  const mapped = backend.mapError?.(error);
  if (mapped) return mapped;
  // Never echo the backend's message: it may quote SQL parameters.
  return new ClientError('STORAGE_FAILED', 'the storage backend failed', { cause: error });
}

/**
 * Build the {@link ClientStore} for a backend.
 * @throws ClientError STORE_CORRUPT when the backend is not at {@link SCHEMA_VERSION}.
 */
export function createStore(backend: StoreBackend): ClientStore {
  if (backend.schemaVersion !== SCHEMA_VERSION) {
    throw new ClientError('STORE_CORRUPT', `store is at schema ${backend.schemaVersion}, expected ${SCHEMA_VERSION}`);
  }
  return new StoreCore({ backend, tail: Promise.resolve(), ending: undefined, closed: false }, undefined);
}

class StoreCore implements ClientStore {
  readonly schemaVersion = SCHEMA_VERSION;

  constructor(
    private readonly shared: Shared,
    private readonly scope: Scope | undefined,
  ) {}

  private get backend(): StoreBackend {
    return this.shared.backend;
  }

  /** Call the backend, typing its errors. */
  private async call<T>(op: () => MaybePromise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw toClientError(this.backend, e);
    }
  }

  private checkUsable(): void {
    if (this.scope) {
      if (!this.scope.active) throw new ClientError('TRANSACTION_CLOSED', 'transaction handle used after it finished');
    } else if (this.shared.ending) {
      throw new ClientError('STORE_CLOSED', 'store is closed');
    }
  }

  /** Queue a task behind every earlier call (a transaction handle runs directly: it holds the queue). */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.shared.tail.then(task);
    this.shared.tail = result.then(noop, noop);
    return result;
  }

  /** Run one data operation; arguments were validated by the caller. */
  private async run<T>(op: () => MaybePromise<T>): Promise<T> {
    this.checkUsable();
    if (this.scope) return this.call(op);
    return this.enqueue(() => {
      if (this.shared.closed) throw new ClientError('STORE_CLOSED', 'store is closed');
      return this.call(op);
    });
  }

  // Profile
  async getProfile(): Promise<ProfileRecord | undefined> {
    return this.run(() => this.backend.getProfile());
  }
  async putProfile(profile: ProfileRecord): Promise<void> {
    const p = canonicalProfile(profile);
    return this.run(() => this.backend.putProfile(p));
  }

  // Prekeys
  async putPrekey(prekey: PrekeyRecord): Promise<void> {
    const p = canonicalPrekey(prekey);
    return this.run(() => this.backend.putPrekey(p));
  }
  async getPrekey(kind: PrekeyKind, id: number): Promise<PrekeyRecord | undefined> {
    const k = checkPrekeyKind(kind);
    const i = checkInteger(id, 'id', 0, 0xffff_ffff);
    return this.run(() => this.backend.getPrekey(k, i));
  }
  async deletePrekey(kind: PrekeyKind, id: number): Promise<boolean> {
    const k = checkPrekeyKind(kind);
    const i = checkInteger(id, 'id', 0, 0xffff_ffff);
    return this.run(() => this.backend.deletePrekey(k, i));
  }
  async listPrekeys(kind: PrekeyKind): Promise<PrekeyInfo[]> {
    const k = checkPrekeyKind(kind);
    return this.run(() => this.backend.listPrekeys(k));
  }
  async countPrekeys(kind: PrekeyKind): Promise<number> {
    const k = checkPrekeyKind(kind);
    return this.run(() => this.backend.countPrekeys(k));
  }

  // Sessions
  async putSession(accountId: string, deviceId: number, record: Uint8Array): Promise<void> {
    const a = checkAccountId(accountId);
    const d = checkDeviceId(deviceId);
    const r = checkRecordBytes(record);
    return this.run(() => this.backend.putSession(a, d, r));
  }
  async getSession(accountId: string, deviceId: number): Promise<Uint8Array | undefined> {
    const a = checkAccountId(accountId);
    const d = checkDeviceId(deviceId);
    return this.run(() => this.backend.getSession(a, d));
  }
  async listSessionDevices(accountId: string): Promise<number[]> {
    const a = checkAccountId(accountId);
    return this.run(() => this.backend.listSessionDevices(a));
  }
  async deleteSession(accountId: string, deviceId: number): Promise<boolean> {
    const a = checkAccountId(accountId);
    const d = checkDeviceId(deviceId);
    return this.run(() => this.backend.deleteSession(a, d));
  }
  async deleteSessions(accountId: string): Promise<number> {
    const a = checkAccountId(accountId);
    return this.run(() => this.backend.deleteSessions(a));
  }

  // Sender keys
  async putSenderKey(distributionId: string, accountId: string, deviceId: number, record: Uint8Array): Promise<void> {
    const x = checkDistributionId(distributionId);
    const a = checkAccountId(accountId);
    const d = checkDeviceId(deviceId);
    const r = checkRecordBytes(record);
    return this.run(() => this.backend.putSenderKey(x, a, d, r));
  }
  async getSenderKey(distributionId: string, accountId: string, deviceId: number): Promise<Uint8Array | undefined> {
    const x = checkDistributionId(distributionId);
    const a = checkAccountId(accountId);
    const d = checkDeviceId(deviceId);
    return this.run(() => this.backend.getSenderKey(x, a, d));
  }
  async deleteSenderKey(distributionId: string, accountId: string, deviceId: number): Promise<boolean> {
    const x = checkDistributionId(distributionId);
    const a = checkAccountId(accountId);
    const d = checkDeviceId(deviceId);
    return this.run(() => this.backend.deleteSenderKey(x, a, d));
  }
  async deleteSenderKeys(distributionId: string): Promise<number> {
    const x = checkDistributionId(distributionId);
    return this.run(() => this.backend.deleteSenderKeys(x));
  }

  // Contacts
  async putContact(contact: ContactRecord): Promise<void> {
    const c = canonicalContact(contact);
    return this.run(() => this.backend.putContact(c));
  }
  async getContact(accountId: string): Promise<ContactRecord | undefined> {
    const a = checkAccountId(accountId);
    return this.run(() => this.backend.getContact(a));
  }
  async listContacts(options?: ListContactsOptions): Promise<ContactRecord[]> {
    let filter: ListContactsOptions = {};
    if (options !== undefined) {
      const o = checkObject(options, 'options');
      if (o.state !== undefined) filter = { state: checkContactState(o.state, 'options.state') };
    }
    return this.run(() => this.backend.listContacts(filter));
  }
  async deleteContact(accountId: string): Promise<boolean> {
    const a = checkAccountId(accountId);
    return this.run(() => this.backend.deleteContact(a));
  }
  async appendKeyHistory(accountId: string, entry: KeyHistoryEntry): Promise<void> {
    const a = checkAccountId(accountId);
    const e = canonicalKeyHistoryEntry(entry);
    const found = await this.run(() => this.backend.appendKeyHistory(a, e));
    if (!found) throw new ClientError('NOT_FOUND', 'appendKeyHistory: no such contact');
  }
  async listKeyHistory(accountId: string): Promise<KeyHistoryEntry[]> {
    const a = checkAccountId(accountId);
    return this.run(() => this.backend.listKeyHistory(a));
  }

  // Conversations
  async putConversation(conversation: ConversationRecord): Promise<void> {
    const c = canonicalConversation(conversation);
    return this.run(() => this.backend.putConversation(c));
  }
  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const i = checkConversationId(id, 'id');
    return this.run(() => this.backend.getConversation(i));
  }
  async listConversations(limit?: number): Promise<ConversationRecord[]> {
    const l = limit === undefined ? undefined : checkLimit(limit);
    return this.run(() => this.backend.listConversations(l));
  }
  async deleteConversation(id: string): Promise<boolean> {
    const i = checkConversationId(id, 'id');
    return this.run(() => this.backend.deleteConversation(i));
  }

  // Messages
  async insertMessage(message: MessageRecord): Promise<boolean> {
    const m = canonicalMessage(message);
    return this.run(() => this.backend.insertMessage(m));
  }
  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const i = checkMessageId(id);
    return this.run(() => this.backend.getMessage(i));
  }
  async updateMessageStatus(id: string, status: MessageStatus): Promise<boolean> {
    const i = checkMessageId(id);
    const s = checkStatus(status);
    return this.run(() => this.backend.updateMessageStatus(i, s));
  }
  async updateMessage(id: string, changes: MessageChanges): Promise<boolean> {
    const i = checkMessageId(id);
    const c = canonicalMessageChanges(changes);
    return this.run(() => this.backend.updateMessage(i, c));
  }
  async listMessages(conversationId: string, options: ListMessagesOptions): Promise<MessageRecord[]> {
    const c = checkConversationId(conversationId);
    const o = canonicalListOptions(options);
    return this.run(() => this.backend.listMessages(c, o));
  }
  async countMessages(conversationId: string): Promise<number> {
    const c = checkConversationId(conversationId);
    return this.run(() => this.backend.countMessages(c));
  }
  async deleteMessage(id: string): Promise<boolean> {
    const i = checkMessageId(id);
    return this.run(() => this.backend.deleteMessage(i));
  }
  async deleteExpiredMessages(now: number, limit?: number): Promise<ExpiredMessage[]> {
    const n = checkTime(now, 'now');
    const l = limit === undefined ? 100 : checkLimit(limit);
    return this.run(() => this.backend.deleteExpiredMessages(n, l));
  }

  // Outbox
  async enqueueOutbox(entry: OutboxRecord): Promise<boolean> {
    const e = canonicalOutbox(entry);
    return this.run(() => this.backend.enqueueOutbox(e));
  }
  async getOutbox(id: string): Promise<OutboxRecord | undefined> {
    const i = checkToken(id, 'id');
    return this.run(() => this.backend.getOutbox(i));
  }
  async listDueOutbox(now: number, limit: number): Promise<OutboxRecord[]> {
    const n = checkTime(now, 'now');
    const l = checkLimit(limit);
    return this.run(() => this.backend.listDueOutbox(n, l));
  }
  async rescheduleOutbox(id: string, attempts: number, nextAttemptAt: number): Promise<boolean> {
    const i = checkToken(id, 'id');
    const a = checkInteger(attempts, 'attempts', 0, 0xffff_ffff);
    const t = checkTime(nextAttemptAt, 'nextAttemptAt');
    return this.run(() => this.backend.rescheduleOutbox(i, a, t));
  }
  async removeOutbox(id: string): Promise<boolean> {
    const i = checkToken(id, 'id');
    return this.run(() => this.backend.removeOutbox(i));
  }

  // Seen ids
  async markSeen(id: string, at: number): Promise<boolean> {
    const i = checkToken(id, 'id');
    const t = checkTime(at, 'at');
    return this.run(() => this.backend.markSeen(i, t));
  }
  async pruneSeen(before: number): Promise<number> {
    const t = checkTime(before, 'before');
    return this.run(() => this.backend.pruneSeen(t));
  }

  // Key transparency
  async getTreeHead(): Promise<Uint8Array | undefined> {
    return this.run(() => this.backend.getTreeHead());
  }
  async putTreeHead(treeHead: Uint8Array): Promise<void> {
    const t = checkRecordBytes(treeHead, 'treeHead');
    return this.run(() => this.backend.putTreeHead(t));
  }

  // Backups
  async exportAll(): Promise<StoreDump> {
    return this.run(() => this.backend.exportAll());
  }
  async importAll(dump: StoreDump): Promise<void> {
    const d = checkObject(dump, 'dump') as unknown as StoreDump;
    const list = <T>(value: readonly T[] | undefined, field: string): readonly T[] => {
      if (!Array.isArray(value)) throw invalidArgument(`dump.${field}`, 'expected array');
      return value;
    };
    await this.transaction(async (tx) => {
      if (await tx.getProfile()) throw new ClientError('PROFILE_EXISTS', 'importAll needs an empty store');
      // Through the public methods: each record is validated and copied as on any write.
      if (d.profile !== undefined) await tx.putProfile(d.profile);
      if (d.treeHead !== undefined) await tx.putTreeHead(d.treeHead);
      for (const p of list(d.prekeys, 'prekeys')) await tx.putPrekey(p);
      for (const e of list(d.sessions, 'sessions')) await tx.putSession(e.accountId, e.deviceId, e.record);
      for (const e of list(d.senderKeys, 'senderKeys')) {
        await tx.putSenderKey(e.distributionId, e.accountId, e.deviceId, e.record);
      }
      for (const c of list(d.contacts, 'contacts')) await tx.putContact(c);
      for (const h of list(d.keyHistory, 'keyHistory')) {
        for (const entry of list(h.entries, 'keyHistory.entries')) await tx.appendKeyHistory(h.accountId, entry);
      }
      for (const c of list(d.conversations, 'conversations')) await tx.putConversation(c);
      for (const m of list(d.messages, 'messages')) await tx.insertMessage(m);
      for (const e of list(d.outbox, 'outbox')) await tx.enqueueOutbox(e);
      for (const e of list(d.seen, 'seen')) await tx.markSeen(e.id, e.at);
    });
  }

  // Transactions
  async transaction<T>(fn: (tx: ClientStore) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw invalidArgument('fn', 'expected function');
    this.checkUsable();
    if (this.scope) return this.savepoint(fn, this.scope);
    return this.enqueue(async () => {
      if (this.shared.closed) throw new ClientError('STORE_CLOSED', 'store is closed');
      await this.call(() => this.backend.begin());
      const scope = new Scope();
      let result: T;
      try {
        result = await fn(new StoreCore(this.shared, scope));
      } catch (e) {
        scope.open = false;
        await this.rollbackQuietly();
        throw e;
      }
      scope.open = false;
      try {
        await this.call(() => this.backend.commit());
      } catch (e) {
        await this.rollbackQuietly();
        throw e;
      }
      return result;
    });
  }

  private async savepoint<T>(fn: (tx: ClientStore) => Promise<T>, parent: Scope): Promise<T> {
    await this.call(() => this.backend.savepoint());
    const scope = new Scope(parent);
    let result: T;
    try {
      result = await fn(new StoreCore(this.shared, scope));
    } catch (e) {
      scope.open = false;
      // If the outer transaction is already gone the backend has nothing to undo.
      if (parent.active) await this.call(() => this.backend.rollbackToSavepoint());
      throw e;
    }
    scope.open = false;
    if (!parent.active) throw new ClientError('TRANSACTION_CLOSED', 'transaction finished during a nested call');
    await this.call(() => this.backend.releaseSavepoint());
    return result;
  }

  /** Roll back after a failure without hiding the original error. */
  private async rollbackQuietly(): Promise<void> {
    try {
      await this.backend.rollback();
    } catch {
      // The original error is what the caller needs; the backend discards the transaction anyway.
    }
  }

  // Lifecycle
  async close(): Promise<void> {
    if (this.scope) throw invalidArgument('close', 'not available on a transaction handle');
    this.shared.ending ??= this.enqueue(async () => {
      if (this.shared.closed) return;
      this.shared.closed = true;
      await this.call(() => this.backend.close());
    });
    return this.shared.ending;
  }

  async wipe(): Promise<void> {
    if (this.scope) throw invalidArgument('wipe', 'not available on a transaction handle');
    const ending = this.close().catch(noop);
    this.shared.ending = ending;
    await ending;
    await this.call(() => this.backend.wipe());
  }
}
