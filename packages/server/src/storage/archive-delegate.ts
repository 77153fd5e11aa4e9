/**
 * The history-archive methods of {@link Storage}, which each adapter implements in a class
 * of its own (sqlite-archive.ts, postgres-archive.ts), and the forwarding both adapters
 * share to expose them as part of the whole storage.
 */
import type { ArchiveKeyRecord, ArchiveRecord, Storage } from './storage.js';

/** The archive part of {@link Storage}. */
export type ArchiveStore = Pick<
  Storage,
  'getArchive' | 'putArchive' | 'deleteArchive' | 'getArchiveKeys' | 'replaceArchiveKeys' | 'deleteArchiveKey'
>;

/**
 * Base of the storage adapters: forwards the archive methods to the adapter's
 * {@link ArchiveStore}, so each adapter writes only its SQL.
 */
export abstract class ArchiveDelegate implements ArchiveStore {
  /** The adapter's archive implementation, set by the subclass constructor. */
  protected abstract readonly archive: ArchiveStore;

  /** See {@link Storage.getArchive}. */
  getArchive(accountId: Uint8Array): Promise<ArchiveRecord | undefined> {
    return this.archive.getArchive(accountId);
  }

  /** See {@link Storage.putArchive}. */
  putArchive(accountId: Uint8Array, expected: number, data: Uint8Array, at: number): Promise<number | 'conflict'> {
    return this.archive.putArchive(accountId, expected, data, at);
  }

  /** See {@link Storage.deleteArchive}. */
  deleteArchive(accountId: Uint8Array): Promise<boolean> {
    return this.archive.deleteArchive(accountId);
  }

  /** See {@link Storage.getArchiveKeys}. */
  getArchiveKeys(accountId: Uint8Array): Promise<ArchiveKeyRecord[]> {
    return this.archive.getArchiveKeys(accountId);
  }

  /** See {@link Storage.replaceArchiveKeys}. */
  replaceArchiveKeys(accountId: Uint8Array, keys: readonly ArchiveKeyRecord[]): Promise<void> {
    return this.archive.replaceArchiveKeys(accountId, keys);
  }

  /** See {@link Storage.deleteArchiveKey}. */
  deleteArchiveKey(accountId: Uint8Array, slot: number): Promise<boolean> {
    return this.archive.deleteArchiveKey(accountId, slot);
  }
}
