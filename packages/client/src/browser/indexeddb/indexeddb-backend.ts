/**
 * The IndexedDB backend: every record value is sealed with AES-256-GCM (see
 * {@link RecordCipher}); only the fields needed for ordering and lookup are stored in the
 * clear beside it. What that reveals to someone holding the browser profile but not the
 * passphrase (documented in docs and the adapter's TSDoc):
 * - record counts per object store and ciphertext sizes;
 * - prekey kinds and ids and which KEM prekey is last-resort (the relay publishes them);
 * - the number of sessions and the device ids per (blinded) contact;
 * - message ids (random), the blinded conversation of each message, its sentAt and
 *   expiresAt timestamps (needed for paging and expiry in index order);
 * - outbox ids, createdAt and nextAttemptAt (due order); seen-at times of blinded server ids.
 * Account ids, conversation ids, distribution ids and server message ids are blinded with
 * a keyed HMAC; names, keys, bodies and all other fields are only inside the ciphertext.
 *
 * A store transaction is one IndexedDB transaction over all data stores; savepoints keep
 * an undo journal of the writes made since they began.
 */
import { ClientError } from '../../errors.js';
import { decodeGroupRecord } from '../../group-state.js';
import { type ListContactsOptions, SCHEMA_VERSION } from '../../storage/client-store.js';
import { canAdvanceStatus } from '../../storage/message-status.js';
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
  SenderKeyEntry,
  SessionEntry,
  StoreDump,
} from '../../storage/records.js';
import type { StoreBackend } from '../../storage/store-backend.js';
import { completion, DATA_STORES, type Entry, entries, prefixRange, request, STORES } from './idb.js';
import type { RecordCipher } from './record-cipher.js';
import {
  bytesCodec,
  contactCodec,
  conversationCodec,
  keyHistoryCodec,
  messageCodec,
  outboxCodec,
  prekeyCodec,
  profileCodec,
  type RecordCodec,
} from './record-codec.js';

/** How to reach IndexedDB (the browser's globals, or a fake in tests). */
export interface IdbEnvironment {
  readonly factory: IDBFactory;
  readonly keyRange: typeof IDBKeyRange;
  readonly name: string;
}

interface Undo {
  readonly store: string;
  readonly key: IDBValidKey;
  readonly previous: unknown;
}

type Stored = Record<string, unknown> & { v: unknown };

function stored(value: unknown, store: string): Stored {
  if (typeof value !== 'object' || value === null || !('v' in value)) {
    throw new ClientError('STORE_CORRUPT', `${store}: stored value is malformed`);
  }
  return value as Stored;
}

/** The backend over an open database and the profile's record cipher. */
export class IndexedDbBackend implements StoreBackend {
  readonly schemaVersion = SCHEMA_VERSION;
  private tx: IDBTransaction | undefined;
  private txDone: Promise<void> | undefined;
  /** Undo journals of the open savepoints, innermost last. */
  private journals: Undo[][] = [];
  private open = true;
  /** Set when another tab deleted or upgraded the database and we had to close it. */
  private displaced = false;

  constructor(
    private readonly db: IDBDatabase,
    private readonly cipher: RecordCipher,
    private readonly env: IdbEnvironment,
  ) {
    db.onversionchange = () => {
      this.displaced = true;
      db.close();
    };
  }

  // Plumbing

  /** Run `fn` in the open store transaction, or in a transaction of its own. */
  private async run<T>(mode: IDBTransactionMode, fn: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    if (this.tx) return fn(this.tx);
    const tx = this.db.transaction(DATA_STORES, mode);
    const done = completion(tx);
    let result: T;
    try {
      result = await fn(tx);
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // Already finished: nothing to undo.
      }
      await done.catch(() => undefined);
      throw e;
    }
    await done;
    return result;
  }

  private seal<T>(store: string, key: IDBValidKey, codec: RecordCodec<T>, value: T): Uint8Array {
    return this.cipher.seal(store, key, codec.encode(value));
  }

  private unseal<T>(store: string, key: IDBValidKey, codec: RecordCodec<T>, value: unknown): T {
    return codec.decode(this.cipher.open(store, key, stored(value, store).v));
  }

  private async get<T>(
    tx: IDBTransaction,
    store: string,
    key: IDBValidKey,
    codec: RecordCodec<T>,
  ): Promise<T | undefined> {
    const value = await request(tx.objectStore(store).get(key));
    return value === undefined ? undefined : this.unseal(store, key, codec, value);
  }

  /** Write a value, journaling the previous one when a savepoint is open. */
  private async put(tx: IDBTransaction, store: string, key: IDBValidKey, value: unknown): Promise<void> {
    const os = tx.objectStore(store);
    const journal = this.journals.at(-1);
    if (journal) journal.push({ store, key, previous: await request(os.get(key)) });
    await request(os.put(value, key));
  }

  /** Delete a key (`previous` when the caller already read it), journaling it under a savepoint. */
  private async del(tx: IDBTransaction, store: string, key: IDBValidKey, previous?: unknown): Promise<void> {
    const os = tx.objectStore(store);
    const journal = this.journals.at(-1);
    if (journal) journal.push({ store, key, previous: previous ?? (await request(os.get(key))) });
    await request(os.delete(key));
  }

  private async deleteEntries(tx: IDBTransaction, store: string, list: Entry[]): Promise<number> {
    for (const e of list) await this.del(tx, store, e.key, e.value);
    return list.length;
  }

  private prefix(...parts: (string | number)[]): IDBKeyRange {
    return prefixRange(this.env.keyRange, ...parts);
  }

  private account(accountId: string): string {
    return this.cipher.blind('account', accountId);
  }

  private conversation(id: string): string {
    return this.cipher.blind('conversation', id);
  }

  // Profile and tree head

  getProfile(): Promise<ProfileRecord | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.state, 'profile', profileCodec));
  }
  putProfile(p: ProfileRecord): Promise<void> {
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.state, 'profile', { v: this.seal(STORES.state, 'profile', profileCodec, p) }),
    );
  }
  getTreeHead(): Promise<Uint8Array | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.state, 'treeHead', bytesCodec));
  }
  putTreeHead(treeHead: Uint8Array): Promise<void> {
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.state, 'treeHead', { v: this.seal(STORES.state, 'treeHead', bytesCodec, treeHead) }),
    );
  }

  // Prekeys: key [kind, id]; `lr` says last-resort without decrypting.

  putPrekey(p: PrekeyRecord): Promise<void> {
    const key = [p.kind, p.id];
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.prekeys, key, {
        v: this.seal(STORES.prekeys, key, prekeyCodec, p),
        lr: p.lastResort ? 1 : 0,
      }),
    );
  }
  getPrekey(kind: PrekeyKind, id: number): Promise<PrekeyRecord | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.prekeys, [kind, id], prekeyCodec));
  }
  deletePrekey(kind: PrekeyKind, id: number): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      const value = await request(tx.objectStore(STORES.prekeys).get([kind, id]));
      if (value === undefined) return false;
      await this.del(tx, STORES.prekeys, [kind, id], value);
      return true;
    });
  }
  listPrekeys(kind: PrekeyKind): Promise<PrekeyInfo[]> {
    return this.run('readonly', async (tx) =>
      (await entries(tx.objectStore(STORES.prekeys), this.prefix(kind))).map((e) => {
        const { record: _secret, ...info } = this.unseal(STORES.prekeys, e.key, prekeyCodec, e.value);
        return info;
      }),
    );
  }
  countPrekeys(kind: PrekeyKind): Promise<number> {
    return this.run('readonly', async (tx) => {
      const list = await entries(tx.objectStore(STORES.prekeys), this.prefix(kind));
      return list.filter((e) => stored(e.value, STORES.prekeys).lr === 0).length;
    });
  }

  // Sessions: key [blind(account), deviceId].

  putSession(accountId: string, deviceId: number, record: Uint8Array): Promise<void> {
    const key = [this.account(accountId), deviceId];
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.sessions, key, { v: this.seal(STORES.sessions, key, bytesCodec, record) }),
    );
  }
  getSession(accountId: string, deviceId: number): Promise<Uint8Array | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.sessions, [this.account(accountId), deviceId], bytesCodec));
  }
  listSessionDevices(accountId: string): Promise<number[]> {
    return this.run('readonly', async (tx) => {
      const keys = await request(tx.objectStore(STORES.sessions).getAllKeys(this.prefix(this.account(accountId))));
      return keys.map((k) => (k as [string, number])[1]);
    });
  }
  deleteSession(accountId: string, deviceId: number): Promise<boolean> {
    const key = [this.account(accountId), deviceId];
    return this.run('readwrite', async (tx) => {
      const value = await request(tx.objectStore(STORES.sessions).get(key));
      if (value === undefined) return false;
      await this.del(tx, STORES.sessions, key, value);
      return true;
    });
  }
  deleteSessions(accountId: string): Promise<number> {
    return this.run('readwrite', async (tx) =>
      this.deleteEntries(
        tx,
        STORES.sessions,
        await entries(tx.objectStore(STORES.sessions), this.prefix(this.account(accountId))),
      ),
    );
  }

  // Sender keys: key [blind(distribution), blind(account), deviceId].

  private senderKey(distributionId: string, accountId: string, deviceId: number): IDBValidKey {
    return [this.cipher.blind('distribution', distributionId), this.account(accountId), deviceId];
  }
  putSenderKey(distributionId: string, accountId: string, deviceId: number, record: Uint8Array): Promise<void> {
    const key = this.senderKey(distributionId, accountId, deviceId);
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.senderKeys, key, { v: this.seal(STORES.senderKeys, key, bytesCodec, record) }),
    );
  }
  getSenderKey(distributionId: string, accountId: string, deviceId: number): Promise<Uint8Array | undefined> {
    const key = this.senderKey(distributionId, accountId, deviceId);
    return this.run('readonly', (tx) => this.get(tx, STORES.senderKeys, key, bytesCodec));
  }
  deleteSenderKey(distributionId: string, accountId: string, deviceId: number): Promise<boolean> {
    const key = this.senderKey(distributionId, accountId, deviceId);
    return this.run('readwrite', async (tx) => {
      const value = await request(tx.objectStore(STORES.senderKeys).get(key));
      if (value === undefined) return false;
      await this.del(tx, STORES.senderKeys, key, value);
      return true;
    });
  }
  deleteSenderKeys(distributionId: string): Promise<number> {
    const range = this.prefix(this.cipher.blind('distribution', distributionId));
    return this.run('readwrite', async (tx) =>
      this.deleteEntries(tx, STORES.senderKeys, await entries(tx.objectStore(STORES.senderKeys), range)),
    );
  }

  // Contacts: key blind(account); key history: key [blind(account), seq].

  putContact(c: ContactRecord): Promise<void> {
    const key = this.account(c.accountId);
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.contacts, key, { v: this.seal(STORES.contacts, key, contactCodec, c) }),
    );
  }
  getContact(accountId: string): Promise<ContactRecord | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.contacts, this.account(accountId), contactCodec));
  }
  listContacts(options?: ListContactsOptions): Promise<ContactRecord[]> {
    return this.run('readonly', async (tx) =>
      (await entries(tx.objectStore(STORES.contacts), null))
        .map((e) => this.unseal(STORES.contacts, e.key, contactCodec, e.value))
        .filter((c) => options?.state === undefined || c.state === options.state)
        .sort((a, b) => a.addedAt - b.addedAt || (a.accountId < b.accountId ? -1 : 1)),
    );
  }
  deleteContact(accountId: string): Promise<boolean> {
    const key = this.account(accountId);
    return this.run('readwrite', async (tx) => {
      await this.deleteEntries(
        tx,
        STORES.keyHistory,
        await entries(tx.objectStore(STORES.keyHistory), this.prefix(key)),
      );
      const value = await request(tx.objectStore(STORES.contacts).get(key));
      if (value === undefined) return false;
      await this.del(tx, STORES.contacts, key, value);
      return true;
    });
  }
  appendKeyHistory(accountId: string, entry: KeyHistoryEntry): Promise<boolean> {
    const contact = this.account(accountId);
    return this.run('readwrite', async (tx) => {
      if ((await request(tx.objectStore(STORES.contacts).getKey(contact))) === undefined) return false;
      const [last] = await entries(tx.objectStore(STORES.keyHistory), this.prefix(contact), 'prev', 1);
      const key = [contact, last ? (last.key as [string, number])[1] + 1 : 1];
      await this.put(tx, STORES.keyHistory, key, { v: this.seal(STORES.keyHistory, key, keyHistoryCodec, entry) });
      return true;
    });
  }
  listKeyHistory(accountId: string): Promise<KeyHistoryEntry[]> {
    return this.run('readonly', async (tx) =>
      (await entries(tx.objectStore(STORES.keyHistory), this.prefix(this.account(accountId)))).map((e) =>
        this.unseal(STORES.keyHistory, e.key, keyHistoryCodec, e.value),
      ),
    );
  }

  // Conversations: key blind(id), sorted after decryption (the list is short).

  putConversation(c: ConversationRecord): Promise<void> {
    const key = this.conversation(c.id);
    return this.run('readwrite', (tx) =>
      this.put(tx, STORES.conversations, key, { v: this.seal(STORES.conversations, key, conversationCodec, c) }),
    );
  }
  getConversation(id: string): Promise<ConversationRecord | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.conversations, this.conversation(id), conversationCodec));
  }
  listConversations(limit?: number): Promise<ConversationRecord[]> {
    return this.run('readonly', async (tx) =>
      (await entries(tx.objectStore(STORES.conversations), null))
        .map((e) => this.unseal(STORES.conversations, e.key, conversationCodec, e.value))
        .sort((a, b) => b.lastMessageAt - a.lastMessageAt || (a.id < b.id ? -1 : 1))
        .slice(0, limit),
    );
  }
  deleteConversation(id: string): Promise<boolean> {
    const key = this.conversation(id);
    return this.run('readwrite', async (tx) => {
      const index = tx.objectStore(STORES.messages).index('byConversation');
      await this.deleteEntries(tx, STORES.messages, await entries(index, this.prefix(key)));
      const value = await request(tx.objectStore(STORES.conversations).get(key));
      if (value === undefined) return false;
      await this.del(tx, STORES.conversations, key, value);
      return true;
    });
  }

  // Messages: key id; plaintext index fields c (blinded conversation), s (sentAt), i (id), x (expiresAt).

  private messageValue(m: MessageRecord): Stored {
    return {
      v: this.seal(STORES.messages, m.id, messageCodec, m),
      c: this.conversation(m.conversationId),
      s: m.sentAt,
      i: m.id,
      ...(m.expiresAt === undefined ? {} : { x: m.expiresAt }),
    };
  }
  insertMessage(m: MessageRecord): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      if ((await request(tx.objectStore(STORES.messages).getKey(m.id))) !== undefined) return false;
      await this.put(tx, STORES.messages, m.id, this.messageValue(m));
      return true;
    });
  }
  getMessage(id: string): Promise<MessageRecord | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.messages, id, messageCodec));
  }
  private updateMessageWith(id: string, change: (m: MessageRecord) => MessageRecord | undefined): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      const m = await this.get(tx, STORES.messages, id, messageCodec);
      const next = m && change(m);
      if (!next) return false;
      await this.put(tx, STORES.messages, id, this.messageValue(next));
      return true;
    });
  }
  updateMessageStatus(id: string, status: MessageStatus): Promise<boolean> {
    return this.updateMessageWith(id, (m) => (canAdvanceStatus(m.status, status) ? { ...m, status } : undefined));
  }
  updateMessage(id: string, changes: MessageChanges): Promise<boolean> {
    return this.updateMessageWith(id, (m) => ({ ...m, ...changes }));
  }
  listMessages(conversationId: string, o: ListMessagesOptions): Promise<MessageRecord[]> {
    const c = this.conversation(conversationId);
    const range = o.before
      ? this.env.keyRange.bound([c], [c, o.before.sentAt, o.before.id], false, true)
      : this.prefix(c);
    return this.run('readonly', async (tx) =>
      (await entries(tx.objectStore(STORES.messages).index('byConversation'), range, 'prev', o.limit)).map((e) =>
        this.unseal(STORES.messages, e.key, messageCodec, e.value),
      ),
    );
  }
  countMessages(conversationId: string): Promise<number> {
    const range = this.prefix(this.conversation(conversationId));
    return this.run('readonly', (tx) => request(tx.objectStore(STORES.messages).index('byConversation').count(range)));
  }
  deleteMessage(id: string): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      const value = await request(tx.objectStore(STORES.messages).get(id));
      if (value === undefined) return false;
      await this.del(tx, STORES.messages, id, value);
      return true;
    });
  }
  deleteExpiredMessages(now: number, limit?: number): Promise<ExpiredMessage[]> {
    const range = this.env.keyRange.upperBound([now, []]);
    return this.run('readwrite', async (tx) => {
      const due = await entries(tx.objectStore(STORES.messages).index('byExpiry'), range, 'next', limit);
      const out = due.map((e) => {
        const m = this.unseal(STORES.messages, e.key, messageCodec, e.value);
        return { id: m.id, conversationId: m.conversationId };
      });
      await this.deleteEntries(tx, STORES.messages, due);
      return out;
    });
  }

  // Outbox: key id; plaintext index fields n (nextAttemptAt), t (createdAt), i (id).

  private outboxValue(e: OutboxRecord): Stored {
    return { v: this.seal(STORES.outbox, e.id, outboxCodec, e), n: e.nextAttemptAt, t: e.createdAt, i: e.id };
  }
  enqueueOutbox(e: OutboxRecord): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      if ((await request(tx.objectStore(STORES.outbox).getKey(e.id))) !== undefined) return false;
      await this.put(tx, STORES.outbox, e.id, this.outboxValue(e));
      return true;
    });
  }
  getOutbox(id: string): Promise<OutboxRecord | undefined> {
    return this.run('readonly', (tx) => this.get(tx, STORES.outbox, id, outboxCodec));
  }
  listDueOutbox(now: number, limit: number): Promise<OutboxRecord[]> {
    const range = this.env.keyRange.upperBound([now, []]);
    return this.run('readonly', async (tx) =>
      (await entries(tx.objectStore(STORES.outbox).index('due'), range, 'next', limit)).map((e) =>
        this.unseal(STORES.outbox, e.key, outboxCodec, e.value),
      ),
    );
  }
  rescheduleOutbox(id: string, attempts: number, nextAttemptAt: number): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      const e = await this.get(tx, STORES.outbox, id, outboxCodec);
      if (!e) return false;
      await this.put(tx, STORES.outbox, id, this.outboxValue({ ...e, attempts, nextAttemptAt }));
      return true;
    });
  }
  removeOutbox(id: string): Promise<boolean> {
    return this.run('readwrite', async (tx) => {
      const value = await request(tx.objectStore(STORES.outbox).get(id));
      if (value === undefined) return false;
      await this.del(tx, STORES.outbox, id, value);
      return true;
    });
  }

  // Seen server ids: key blind(id), plaintext `at` for pruning.

  markSeen(id: string, at: number): Promise<boolean> {
    const key = this.cipher.blind('seen', id);
    return this.run('readwrite', async (tx) => {
      if ((await request(tx.objectStore(STORES.seen).getKey(key))) !== undefined) return false;
      await this.put(tx, STORES.seen, key, { at });
      return true;
    });
  }
  pruneSeen(before: number): Promise<number> {
    const range = this.env.keyRange.upperBound(before, true);
    return this.run('readwrite', async (tx) =>
      this.deleteEntries(tx, STORES.seen, await entries(tx.objectStore(STORES.seen).index('byTime'), range)),
    );
  }

  // Backups

  /**
   * Every record. Keys hold blinded account and distribution ids, so they are mapped back
   * through the ids the store itself knows: our account, contacts, direct conversations,
   * message senders, group members (from the group records) and group ids. Seen relay ids
   * cannot be recovered (only their blinds are stored): `seen` is empty.
   */
  exportAll(): Promise<StoreDump> {
    return this.run('readonly', async (tx) => {
      const all = (store: string) => entries(tx.objectStore(store), null);
      const profile = await this.get(tx, STORES.state, 'profile', profileCodec);
      const treeHead = await this.get(tx, STORES.state, 'treeHead', bytesCodec);
      const prekeys = (await all(STORES.prekeys)).map((e) => this.unseal(STORES.prekeys, e.key, prekeyCodec, e.value));
      const contacts = (await all(STORES.contacts)).map((e) =>
        this.unseal(STORES.contacts, e.key, contactCodec, e.value),
      );
      const conversations = (await all(STORES.conversations)).map((e) =>
        this.unseal(STORES.conversations, e.key, conversationCodec, e.value),
      );
      const messages = (await all(STORES.messages)).map((e) =>
        this.unseal(STORES.messages, e.key, messageCodec, e.value),
      );
      const outbox = (await all(STORES.outbox)).map((e) => this.unseal(STORES.outbox, e.key, outboxCodec, e.value));
      const groupIds = conversations.filter((c) => c.kind === 'group').map((c) => c.id.slice(2));
      const accountIds = new Set<string>(['0'.repeat(32)]);
      if (profile) accountIds.add(profile.userId);
      for (const c of contacts) accountIds.add(c.accountId);
      for (const c of conversations) if (c.kind === 'direct') accountIds.add(c.id.slice(2));
      for (const m of messages) accountIds.add(m.senderAccountId);
      const senderKeyEntries = await all(STORES.senderKeys);
      const distributions = new Map(groupIds.map((id) => [this.cipher.blind('distribution', id), id]));
      // Group records (stored as sender keys of the all-zero account) name the members.
      const recordAccount = this.account('0'.repeat(32));
      for (const e of senderKeyEntries) {
        const [dist, account] = e.key as [string, string, number];
        if (account !== recordAccount || !distributions.has(dist)) continue;
        try {
          const record = decodeGroupRecord(this.unseal(STORES.senderKeys, e.key, bytesCodec, e.value));
          for (const m of record.state.members) accountIds.add(m.accountId);
        } catch {
          // Not a group record: nothing to learn from it.
        }
      }
      const accounts = new Map([...accountIds].map((id) => [this.account(id), id]));
      const sessions: SessionEntry[] = [];
      for (const e of await all(STORES.sessions)) {
        const [account, deviceId] = e.key as [string, number];
        const accountId = accounts.get(account);
        if (accountId === undefined) continue;
        sessions.push({ accountId, deviceId, record: this.unseal(STORES.sessions, e.key, bytesCodec, e.value) });
      }
      const senderKeys: SenderKeyEntry[] = [];
      for (const e of senderKeyEntries) {
        const [dist, account, deviceId] = e.key as [string, string, number];
        const distributionId = distributions.get(dist);
        const accountId = accounts.get(account);
        if (distributionId === undefined || accountId === undefined) continue;
        const record = this.unseal(STORES.senderKeys, e.key, bytesCodec, e.value);
        senderKeys.push({ distributionId, accountId, deviceId, record });
      }
      const history = new Map<string, KeyHistoryEntry[]>();
      for (const e of await all(STORES.keyHistory)) {
        const accountId = accounts.get((e.key as [string, number])[0]);
        if (accountId === undefined) continue;
        const list = history.get(accountId) ?? [];
        list.push(this.unseal(STORES.keyHistory, e.key, keyHistoryCodec, e.value));
        history.set(accountId, list);
      }
      return {
        ...(profile ? { profile } : {}),
        ...(treeHead ? { treeHead } : {}),
        prekeys,
        sessions,
        senderKeys,
        contacts,
        keyHistory: [...history].map(([accountId, list]) => ({ accountId, entries: list })),
        conversations,
        messages,
        outbox,
        seen: [],
      };
    });
  }

  // Transactions

  begin(): void {
    const tx = this.db.transaction(DATA_STORES, 'readwrite');
    this.tx = tx;
    this.txDone = completion(tx);
    // Observed in commit/rollback; this keeps an early abort from being reported as unhandled.
    this.txDone.catch(() => undefined);
    this.journals = [];
  }
  async commit(): Promise<void> {
    const tx = this.tx;
    const done = this.txDone;
    this.tx = undefined;
    this.journals = [];
    try {
      tx?.commit();
    } catch {
      // It auto-committed already (the body ended with no request pending): `done` says how it went.
    }
    await done;
  }
  async rollback(): Promise<void> {
    const tx = this.tx;
    const done = this.txDone;
    this.tx = undefined;
    this.journals = [];
    try {
      tx?.abort();
    } catch {
      // Already finished.
    }
    await done?.catch(() => undefined);
  }
  savepoint(): void {
    this.journals.push([]);
  }
  releaseSavepoint(): void {
    const inner = this.journals.pop() ?? [];
    this.journals.at(-1)?.push(...inner);
  }
  async rollbackToSavepoint(): Promise<void> {
    const inner = this.journals.pop() ?? [];
    const tx = this.tx;
    if (!tx) return;
    for (const u of inner.reverse()) {
      const os = tx.objectStore(u.store);
      if (u.previous === undefined) await request(os.delete(u.key));
      else await request(os.put(u.previous, u.key));
    }
  }

  // Lifecycle

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
    this.cipher.destroy();
  }
  async wipe(): Promise<void> {
    this.close();
    await request(this.env.factory.deleteDatabase(this.env.name));
  }

  mapError(error: unknown): ClientError | undefined {
    const name = (error as { name?: unknown }).name;
    // A finished transaction throws InvalidStateError, an inactive one TransactionInactiveError.
    if (this.tx && (name === 'TransactionInactiveError' || name === 'InvalidStateError')) {
      return new ClientError(
        'TRANSACTION_CLOSED',
        'IndexedDB transaction already committed: the transaction body awaited something other than the store',
      );
    }
    if (this.displaced && name === 'InvalidStateError') {
      return new ClientError('STORE_CLOSED', 'closed because another tab deleted or upgraded the database');
    }
    if (name === 'VersionError') return new ClientError('STORE_TOO_NEW', 'the database was written by a newer VAULTEX');
    return undefined;
  }
}
