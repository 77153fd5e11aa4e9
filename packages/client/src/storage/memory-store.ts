/**
 * The in-memory adapter, for tests and ephemeral sessions. Stored values are canonical
 * copies that are never mutated in place (every update stores a new object), so a
 * transaction snapshot is a cheap copy of the maps, not of the data; values leave as fresh
 * copies, so callers cannot change stored state through a reference.
 */
import { type ClientStore, type ListContactsOptions, SCHEMA_VERSION } from './client-store.js';
import { canAdvanceStatus } from './message-status.js';
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
import type { StoreBackend } from './store-backend.js';
import { createStore } from './store-core.js';
import {
  canonicalContact,
  canonicalConversation,
  canonicalKeyHistoryEntry,
  canonicalMessage,
  canonicalOutbox,
  canonicalPrekey,
  canonicalProfile,
} from './validate.js';

interface State {
  profile: ProfileRecord | undefined;
  treeHead: Uint8Array | undefined;
  prekeys: Map<string, PrekeyRecord>;
  sessions: Map<string, Uint8Array>;
  senderKeys: Map<string, Uint8Array>;
  contacts: Map<string, ContactRecord>;
  keyHistory: Map<string, readonly KeyHistoryEntry[]>;
  conversations: Map<string, ConversationRecord>;
  messages: Map<string, MessageRecord>;
  outbox: Map<string, OutboxRecord>;
  seen: Map<string, number>;
}

function emptyState(): State {
  return {
    profile: undefined,
    treeHead: undefined,
    prekeys: new Map(),
    sessions: new Map(),
    senderKeys: new Map(),
    contacts: new Map(),
    keyHistory: new Map(),
    conversations: new Map(),
    messages: new Map(),
    outbox: new Map(),
    seen: new Map(),
  };
}

// Values are immutable once stored, so copying the maps is a complete snapshot.
function snapshot(s: State): State {
  return {
    profile: s.profile,
    treeHead: s.treeHead,
    prekeys: new Map(s.prekeys),
    sessions: new Map(s.sessions),
    senderKeys: new Map(s.senderKeys),
    contacts: new Map(s.contacts),
    keyHistory: new Map(s.keyHistory),
    conversations: new Map(s.conversations),
    messages: new Map(s.messages),
    outbox: new Map(s.outbox),
    seen: new Map(s.seen),
  };
}

const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);
const sessionKey = (accountId: string, deviceId: number): string => `${accountId}/${deviceId}`;
const senderKeyKey = (distributionId: string, accountId: string, deviceId: number): string =>
  `${distributionId}/${accountId}/${deviceId}`;

/** Compare in (sentAt, id) order. */
function byPosition(a: { sentAt: number; id: string }, b: { sentAt: number; id: string }): number {
  return a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function deleteWhere<V>(map: Map<string, V>, test: (key: string, value: V) => boolean): number {
  let n = 0;
  for (const [key, value] of map) {
    if (test(key, value)) {
      map.delete(key);
      n++;
    }
  }
  return n;
}

class MemoryBackend implements StoreBackend {
  readonly schemaVersion = SCHEMA_VERSION;
  private state = emptyState();
  /** Snapshots taken at begin() and at each savepoint, innermost last. */
  private readonly snapshots: State[] = [];

  getProfile(): ProfileRecord | undefined {
    return this.state.profile && canonicalProfile(this.state.profile);
  }
  putProfile(profile: ProfileRecord): void {
    this.state.profile = profile;
  }

  putPrekey(prekey: PrekeyRecord): void {
    this.state.prekeys.set(`${prekey.kind}/${prekey.id}`, prekey);
  }
  getPrekey(kind: PrekeyKind, id: number): PrekeyRecord | undefined {
    const p = this.state.prekeys.get(`${kind}/${id}`);
    return p && canonicalPrekey(p);
  }
  deletePrekey(kind: PrekeyKind, id: number): boolean {
    return this.state.prekeys.delete(`${kind}/${id}`);
  }
  listPrekeys(kind: PrekeyKind): PrekeyInfo[] {
    return [...this.state.prekeys.values()]
      .filter((p) => p.kind === kind)
      .sort((a, b) => a.id - b.id)
      .map(({ kind: k, id, createdAt, lastResort }) => ({ kind: k, id, createdAt, lastResort }));
  }
  countPrekeys(kind: PrekeyKind): number {
    let n = 0;
    for (const p of this.state.prekeys.values()) if (p.kind === kind && !p.lastResort) n++;
    return n;
  }

  putSession(accountId: string, deviceId: number, record: Uint8Array): void {
    this.state.sessions.set(sessionKey(accountId, deviceId), record);
  }
  getSession(accountId: string, deviceId: number): Uint8Array | undefined {
    const r = this.state.sessions.get(sessionKey(accountId, deviceId));
    return r && copy(r);
  }
  listSessionDevices(accountId: string): number[] {
    const prefix = `${accountId}/`;
    return [...this.state.sessions.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => Number(k.slice(prefix.length)))
      .sort((a, b) => a - b);
  }
  deleteSession(accountId: string, deviceId: number): boolean {
    return this.state.sessions.delete(sessionKey(accountId, deviceId));
  }
  deleteSessions(accountId: string): number {
    return deleteWhere(this.state.sessions, (k) => k.startsWith(`${accountId}/`));
  }

  putSenderKey(distributionId: string, accountId: string, deviceId: number, record: Uint8Array): void {
    this.state.senderKeys.set(senderKeyKey(distributionId, accountId, deviceId), record);
  }
  getSenderKey(distributionId: string, accountId: string, deviceId: number): Uint8Array | undefined {
    const r = this.state.senderKeys.get(senderKeyKey(distributionId, accountId, deviceId));
    return r && copy(r);
  }
  deleteSenderKey(distributionId: string, accountId: string, deviceId: number): boolean {
    return this.state.senderKeys.delete(senderKeyKey(distributionId, accountId, deviceId));
  }
  deleteSenderKeys(distributionId: string): number {
    return deleteWhere(this.state.senderKeys, (k) => k.startsWith(`${distributionId}/`));
  }

  putContact(contact: ContactRecord): void {
    this.state.contacts.set(contact.accountId, contact);
  }
  getContact(accountId: string): ContactRecord | undefined {
    const c = this.state.contacts.get(accountId);
    return c && canonicalContact(c);
  }
  listContacts(options?: ListContactsOptions): ContactRecord[] {
    return [...this.state.contacts.values()]
      .filter((c) => options?.state === undefined || c.state === options.state)
      .sort((a, b) => a.addedAt - b.addedAt || (a.accountId < b.accountId ? -1 : 1))
      .map(canonicalContact);
  }
  deleteContact(accountId: string): boolean {
    this.state.keyHistory.delete(accountId);
    return this.state.contacts.delete(accountId);
  }
  appendKeyHistory(accountId: string, entry: KeyHistoryEntry): boolean {
    if (!this.state.contacts.has(accountId)) return false;
    this.state.keyHistory.set(accountId, [...(this.state.keyHistory.get(accountId) ?? []), entry]);
    return true;
  }
  listKeyHistory(accountId: string): KeyHistoryEntry[] {
    return (this.state.keyHistory.get(accountId) ?? []).map(canonicalKeyHistoryEntry);
  }

  putConversation(conversation: ConversationRecord): void {
    this.state.conversations.set(conversation.id, conversation);
  }
  getConversation(id: string): ConversationRecord | undefined {
    const c = this.state.conversations.get(id);
    return c && canonicalConversation(c);
  }
  listConversations(limit?: number): ConversationRecord[] {
    return [...this.state.conversations.values()]
      .sort((a, b) => b.lastMessageAt - a.lastMessageAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map(canonicalConversation);
  }
  deleteConversation(id: string): boolean {
    deleteWhere(this.state.messages, (_, m) => m.conversationId === id);
    return this.state.conversations.delete(id);
  }

  insertMessage(message: MessageRecord): boolean {
    if (this.state.messages.has(message.id)) return false;
    this.state.messages.set(message.id, message);
    return true;
  }
  getMessage(id: string): MessageRecord | undefined {
    const m = this.state.messages.get(id);
    return m && canonicalMessage(m);
  }
  updateMessageStatus(id: string, status: MessageStatus): boolean {
    const m = this.state.messages.get(id);
    if (!m || !canAdvanceStatus(m.status, status)) return false;
    this.state.messages.set(id, { ...m, status });
    return true;
  }
  updateMessage(id: string, changes: MessageChanges): boolean {
    const m = this.state.messages.get(id);
    if (!m) return false;
    this.state.messages.set(id, { ...m, ...changes });
    return true;
  }
  listMessages(conversationId: string, options: ListMessagesOptions): MessageRecord[] {
    const before = options.before;
    return [...this.state.messages.values()]
      .filter((m) => m.conversationId === conversationId && (!before || byPosition(m, before) < 0))
      .sort((a, b) => byPosition(b, a))
      .slice(0, options.limit)
      .map(canonicalMessage);
  }
  countMessages(conversationId: string): number {
    let n = 0;
    for (const m of this.state.messages.values()) if (m.conversationId === conversationId) n++;
    return n;
  }
  deleteMessage(id: string): boolean {
    return this.state.messages.delete(id);
  }
  deleteExpiredMessages(now: number, limit?: number): ExpiredMessage[] {
    const due = [...this.state.messages.values()]
      .filter((m): m is MessageRecord & { expiresAt: number } => m.expiresAt !== undefined && m.expiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
    for (const m of due) this.state.messages.delete(m.id);
    return due.map((m) => ({ id: m.id, conversationId: m.conversationId }));
  }

  enqueueOutbox(entry: OutboxRecord): boolean {
    if (this.state.outbox.has(entry.id)) return false;
    this.state.outbox.set(entry.id, entry);
    return true;
  }
  getOutbox(id: string): OutboxRecord | undefined {
    const e = this.state.outbox.get(id);
    return e && canonicalOutbox(e);
  }
  listDueOutbox(now: number, limit: number): OutboxRecord[] {
    return [...this.state.outbox.values()]
      .filter((e) => e.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map(canonicalOutbox);
  }
  rescheduleOutbox(id: string, attempts: number, nextAttemptAt: number): boolean {
    const e = this.state.outbox.get(id);
    if (!e) return false;
    this.state.outbox.set(id, { ...e, attempts, nextAttemptAt });
    return true;
  }
  removeOutbox(id: string): boolean {
    return this.state.outbox.delete(id);
  }

  markSeen(id: string, at: number): boolean {
    if (this.state.seen.has(id)) return false;
    this.state.seen.set(id, at);
    return true;
  }
  pruneSeen(before: number): number {
    return deleteWhere(this.state.seen, (_, at) => at < before);
  }

  getTreeHead(): Uint8Array | undefined {
    return this.state.treeHead && copy(this.state.treeHead);
  }
  putTreeHead(treeHead: Uint8Array): void {
    this.state.treeHead = treeHead;
  }

  exportAll(): StoreDump {
    const s = this.state;
    return {
      ...(s.profile ? { profile: canonicalProfile(s.profile) } : {}),
      ...(s.treeHead ? { treeHead: copy(s.treeHead) } : {}),
      prekeys: [...s.prekeys.values()].map(canonicalPrekey),
      sessions: [...s.sessions].map(([key, record]) => {
        const [accountId = '', deviceId] = key.split('/');
        return { accountId, deviceId: Number(deviceId), record: copy(record) };
      }),
      senderKeys: [...s.senderKeys].map(([key, record]) => {
        const [distributionId = '', accountId = '', deviceId] = key.split('/');
        return { distributionId, accountId, deviceId: Number(deviceId), record: copy(record) };
      }),
      contacts: [...s.contacts.values()].map(canonicalContact),
      keyHistory: [...s.keyHistory].map(([accountId, entries]) => ({
        accountId,
        entries: entries.map(canonicalKeyHistoryEntry),
      })),
      conversations: [...s.conversations.values()].map(canonicalConversation),
      messages: [...s.messages.values()].map(canonicalMessage),
      outbox: [...s.outbox.values()].map(canonicalOutbox),
      seen: [...s.seen].map(([id, at]) => ({ id, at })),
    };
  }

  begin(): void {
    this.snapshots.length = 0;
    this.snapshots.push(snapshot(this.state));
  }
  commit(): void {
    this.snapshots.length = 0;
  }
  rollback(): void {
    const first = this.snapshots[0];
    if (first) this.state = first;
    this.snapshots.length = 0;
  }
  savepoint(): void {
    this.snapshots.push(snapshot(this.state));
  }
  releaseSavepoint(): void {
    this.snapshots.pop();
  }
  rollbackToSavepoint(): void {
    const s = this.snapshots.pop();
    if (s) this.state = s;
  }

  close(): void {}
  wipe(): void {
    this.state = emptyState();
    this.snapshots.length = 0;
  }
}

/**
 * Open an empty in-memory store (for tests; nothing is persisted).
 * @example const store = await openMemoryStore();
 */
export async function openMemoryStore(): Promise<ClientStore> {
  return createStore(new MemoryBackend());
}
