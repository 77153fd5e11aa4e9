/**
 * Promise helpers over the IndexedDB request API, and the adapter's database schema.
 * Awaiting these inside one transaction keeps it alive: a promise resolved from a
 * request's success event runs its continuation before the transaction can auto-commit.
 */
import { ClientError } from '../../errors.js';

/** Object store names. */
export const STORES = {
  meta: 'meta',
  state: 'state',
  prekeys: 'prekeys',
  sessions: 'sessions',
  senderKeys: 'senderKeys',
  contacts: 'contacts',
  keyHistory: 'keyHistory',
  conversations: 'conversations',
  messages: 'messages',
  outbox: 'outbox',
  seen: 'seen',
} as const;

/** Every store the data operations touch (all but meta). */
export const DATA_STORES: string[] = Object.values(STORES).filter((s) => s !== STORES.meta);

/**
 * Create or upgrade the object stores. Version 1 is the initial schema; version 2 adds
 * the message-expiry index (disappearing messages), version 3 nothing structural (retention
 * lives in the sealed conversation value), mirroring the SQL migrations. Steps
 * up to `newVersion` only (tests build an old database with it).
 */
export function upgradeSchema(db: IDBDatabase, tx: IDBTransaction, oldVersion: number, newVersion: number): void {
  if (oldVersion < 1 && newVersion >= 1) {
    db.createObjectStore(STORES.meta);
    db.createObjectStore(STORES.state);
    db.createObjectStore(STORES.prekeys);
    db.createObjectStore(STORES.sessions);
    db.createObjectStore(STORES.senderKeys);
    db.createObjectStore(STORES.contacts);
    db.createObjectStore(STORES.keyHistory);
    db.createObjectStore(STORES.conversations);
    const messages = db.createObjectStore(STORES.messages);
    messages.createIndex('byConversation', ['c', 's', 'i']);
    const outbox = db.createObjectStore(STORES.outbox);
    outbox.createIndex('due', ['n', 't', 'i']);
    const seen = db.createObjectStore(STORES.seen);
    seen.createIndex('byTime', 'at');
  }
  if (oldVersion < 2 && newVersion >= 2) {
    tx.objectStore(STORES.messages).createIndex('byExpiry', ['x', 'i']);
  }
  // Version 3 (retention policy) changed only the sealed conversation value, which is
  // versioned on its own (record-codec.ts): no object store or index changes. Version 4
  // (avatars) likewise changed only the sealed profile and contact values.
}

/** Resolve with a request's result; reject with its error. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Resolve when a transaction commits; reject when it aborts or fails. */
export function completion(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new ClientError('STORAGE_FAILED', 'IndexedDB transaction aborted'));
    tx.onerror = () => {
      // The abort event follows and settles the promise.
    };
  });
}

/** A (primary key, value) pair read through a cursor. */
export interface Entry {
  readonly key: IDBValidKey;
  readonly value: unknown;
}

/** Collect entries of a store or index in a range, in a direction, up to `limit`. */
export function entries(
  source: IDBObjectStore | IDBIndex,
  range: IDBKeyRange | null,
  direction: IDBCursorDirection = 'next',
  limit = Number.POSITIVE_INFINITY,
): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const out: Entry[] = [];
    const req = source.openCursor(range, direction);
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor || out.length >= limit) {
        resolve(out);
        return;
      }
      out.push({ key: cursor.primaryKey, value: cursor.value });
      cursor.continue();
    };
  });
}

/** All keys from `[prefix]` up to `[prefix, ...anything]` of an array-keyed store. */
export function prefixRange(keyRange: typeof IDBKeyRange, ...prefix: (string | number)[]): IDBKeyRange {
  // Arrays sort after every number and string, so [...prefix, []] is above any [...prefix, x].
  return keyRange.bound(prefix, [...prefix, []]);
}
