/**
 * What an adapter implements: the data operations of {@link ClientStore} on inputs that
 * were already validated and copied by the shared core (`createStore`), plus transaction
 * primitives. The core serialises calls, so a backend never sees two operations at once
 * (except operations of one open transaction, which may overlap when its body does
 * `Promise.all`). Operations may be synchronous (memory, SQLite) or asynchronous
 * (IndexedDB); each must be atomic on its own.
 */
import type { ClientError } from '../errors.js';
import type { ClientStore } from './client-store.js';

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

type DataOps = Omit<ClientStore, 'schemaVersion' | 'transaction' | 'close' | 'wipe' | 'appendKeyHistory' | 'importAll'>;

/** The data operations, each allowed to return synchronously. */
export type BackendDataOps = {
  [K in keyof DataOps]: DataOps[K] extends (...args: infer A) => Promise<infer R>
    ? (...args: A) => MaybePromise<R>
    : never;
};

/** An adapter's backend. */
export interface StoreBackend extends BackendDataOps {
  /** The schema version the backend is at (the core checks it equals SCHEMA_VERSION). */
  readonly schemaVersion: number;
  /** Append to a contact's key history; false when there is no such contact. */
  appendKeyHistory(...args: Parameters<ClientStore['appendKeyHistory']>): MaybePromise<boolean>;
  /** Start a transaction: every operation until commit/rollback belongs to it. */
  begin(): MaybePromise<void>;
  commit(): MaybePromise<void>;
  /** Undo the open transaction. Called after a failed body or a failed commit. */
  rollback(): MaybePromise<void>;
  /** Open a nested savepoint inside the transaction (a stack). */
  savepoint(): MaybePromise<void>;
  /** Keep the innermost savepoint's writes (they still commit or roll back with the transaction). */
  releaseSavepoint(): MaybePromise<void>;
  /** Undo the innermost savepoint's writes and drop it. */
  rollbackToSavepoint(): MaybePromise<void>;
  /** Release resources. Called once. */
  close(): MaybePromise<void>;
  /** Destroy all data; may be called after close(). */
  wipe(): MaybePromise<void>;
  /**
   * Turn an error thrown by the backend's own machinery into a ClientError (e.g. SQLite
   * codes); errors it does not recognise become STORAGE_FAILED in the core.
   */
  mapError?(error: unknown): ClientError | undefined;
}
