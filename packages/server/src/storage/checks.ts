/**
 * Decisions shared by the SQLite and PostgreSQL adapters: the checks and values that do
 * not depend on the SQL dialect or the driver. Keeping them in one place keeps the two
 * adapters' behaviour identical (the conformance suite checks it from outside).
 */
import type { AttachmentRecord } from './storage.js';

/** A migration: its number and the SQL that brings the schema from the previous one. */
export interface NumberedMigration {
  readonly version: number;
  readonly sql: string;
}

/** Raised inside a prekey upload's transaction to roll it back when a cap is exceeded. */
export class TooManyPreKeys extends Error {}

/**
 * The tables whose rows belong to one device (besides its mailbox targets and the device
 * row itself), purged when the device is removed.
 */
export const DEVICE_TABLES = [
  'tokens',
  'signed_prekeys',
  'last_resort_kem_prekeys',
  'one_time_prekeys',
  'kem_prekeys',
] as const;

/**
 * Refuse a database whose schema is newer than the newest migration this code knows.
 * @param version - the schema version stored in the database.
 * @param migrations - the adapter's migrations in ascending order.
 * @throws Error when the database schema is newer than this code (running on would misread it).
 */
export function checkSchemaVersion(version: number, migrations: readonly NumberedMigration[]): void {
  const latest = migrations.at(-1)?.version ?? 0;
  if (version > latest) throw new Error(`database schema ${version} is newer than this server (${latest})`);
}

/**
 * Throw {@link TooManyPreKeys} when an upload left more one-time (or one-time KEM) prekeys
 * than the cap allows, so that the adapter's transaction rolls back.
 * @param count - the device's counts after the upload.
 * @param maxOneTime - the cap, per kind.
 * @throws TooManyPreKeys when either count exceeds the cap.
 */
export function checkPreKeyCap(count: { oneTime: number; kem: number }, maxOneTime: number): void {
  if (count.oneTime > maxOneTime || count.kem > maxOneTime) throw new TooManyPreKeys();
}

/**
 * Run a prekey upload (the adapter's transaction, which calls {@link checkPreKeyCap}) and
 * map the cap's rollback to 'too-many'.
 * @param upload - the upload; a synchronous throw counts like a rejection.
 * @returns 'ok' when it committed, 'too-many' when the cap rolled it back.
 * @throws whatever else the upload throws (driver errors pass through).
 */
export async function uploadWithinCap(upload: () => unknown): Promise<'ok' | 'too-many'> {
  try {
    await upload();
    return 'ok';
  } catch (e) {
    if (e instanceof TooManyPreKeys) return 'too-many';
    throw e;
  }
}

/**
 * Whether a bundle request covers a device: all devices when no list is given.
 * @param deviceIds - the requested devices, or undefined for all.
 * @param deviceId - the device in question.
 */
export function wantsDevice(deviceIds: readonly number[] | undefined, deviceId: number): boolean {
  return deviceIds === undefined || deviceIds.includes(deviceId);
}

/**
 * The attachment after appending chunk `index` of `length` bytes, or 'conflict' when the
 * chunk is out of order, overruns the declared size, or is short without being the last.
 * @param a - the attachment as stored.
 * @param index - the chunk's index.
 * @param length - the chunk's length in bytes.
 */
export function appendedAttachment(a: AttachmentRecord, index: number, length: number): AttachmentRecord | 'conflict' {
  const received = a.received + length;
  const fullChunk = length === a.chunkSize || received === a.size;
  if (index !== a.nextIndex || received > a.size || !fullChunk) return 'conflict';
  return { ...a, received, nextIndex: index + 1 };
}

/**
 * The outcome of an archive compare-and-swap write: the new version when the one statement
 * changed a row, 'conflict' when the stored version was not the expected one.
 * @param changedRows - rows the INSERT (expected 0) or UPDATE (expected n) changed.
 * @param expectedVersion - the version the writer based its archive on.
 */
export function archiveWriteResult(changedRows: number, expectedVersion: number): number | 'conflict' {
  return changedRows === 1 ? expectedVersion + 1 : 'conflict';
}

/**
 * Escape LIKE wildcards so a search matches literally.
 * @param text - the literal text.
 * @returns the text with `\`, `%` and `_` escaped by `\` (for `LIKE ... ESCAPE '\'`).
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/gu, (c) => `\\${c}`);
}

/**
 * The LIKE pattern of a discovery search: the query, lower-cased and literal, anywhere in
 * the lower-cased display name.
 * @param query - the search text.
 */
export function discoveryPattern(query: string): string {
  return `%${escapeLike(query.toLowerCase())}%`;
}

/**
 * The lower-cased display name stored beside it for case-insensitive search (null when not
 * discoverable).
 * @param displayName - the display name, or null.
 */
export function discoverableLower(displayName: string | null): string | null {
  return displayName === null ? null : displayName.toLowerCase();
}
