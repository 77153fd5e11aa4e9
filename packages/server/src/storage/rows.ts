/**
 * Row -> record mapping shared by the SQLite and PostgreSQL adapters. Both drivers hand
 * back rows keyed by column name, BLOB/bytea values as Buffers and integers as JS numbers
 * (the PostgreSQL pool parses BIGINT to number), so one mapping serves both; each adapter
 * keeps its own SQL and driver calls.
 */
import type {
  AccountRecord,
  ArchiveKeyRecord,
  ArchiveRecord,
  AttachmentRecord,
  DeviceRecord,
  DiscoverableAccount,
  StoredMessage,
  TakenBundle,
  TokenRecord,
} from './storage.js';

/** A result row as both drivers return it: column name -> value. */
export type Row = Record<string, unknown>;

/**
 * A plain `Uint8Array` view of a BLOB or bytea value (the drivers return Buffers); no copy.
 * @param value - a Buffer or Uint8Array from a result row.
 * @returns a view over the same memory.
 */
export function bytes(value: unknown): Uint8Array {
  const b = value as Uint8Array;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * An integer column as a number. The schema keeps every stored integer below 2^53 and both
 * drivers already return numbers, so this only narrows the type.
 * @param value - an integer from a result row.
 */
export function num(value: unknown): number {
  return value as number;
}

/**
 * An `accounts` row (`SELECT *`) as an {@link AccountRecord}.
 * @param row - a row with the columns of `accounts`.
 */
export function toAccount(row: Row): AccountRecord {
  return {
    id: bytes(row.id),
    identityKey: bytes(row.identity_key),
    deviceList: bytes(row.device_list),
    deviceListCounter: num(row.device_list_counter),
    accessKeyHash: row.access_key_hash ? bytes(row.access_key_hash) : null,
    createdAt: num(row.created_at),
  };
}

/**
 * A `devices` row (`SELECT *`) as a {@link DeviceRecord}.
 * @param row - a row with the columns of `devices`.
 */
export function toDevice(row: Row): DeviceRecord {
  return {
    accountId: bytes(row.account_id),
    deviceId: num(row.device_id),
    deviceKey: bytes(row.device_key),
    certificate: bytes(row.certificate),
    createdAt: num(row.created_at),
    lastSeenAt: num(row.last_seen_at),
  };
}

/**
 * An `attachments` row (size, chunk_size, received, next_index, expires_at) as an
 * {@link AttachmentRecord}.
 * @param row - a row with those columns.
 */
export function toAttachment(row: Row): AttachmentRecord {
  return {
    size: num(row.size),
    chunkSize: num(row.chunk_size),
    received: num(row.received),
    nextIndex: num(row.next_index),
    expiresAt: num(row.expires_at),
  };
}

/**
 * A `tokens` row (account_id, device_id, expires_at) as a {@link TokenRecord}.
 * @param row - a row with those columns.
 */
export function toToken(row: Row): TokenRecord {
  return { accountId: bytes(row.account_id), deviceId: num(row.device_id), expiresAt: num(row.expires_at) };
}

/**
 * A pending-message row (m.seq, m.id, m.blob, m.source_account, m.source_device) as a
 * {@link StoredMessage}; `source` only for authenticated sends (sealed ones have none).
 * @param row - a row with those columns.
 */
export function toStoredMessage(row: Row): StoredMessage {
  return {
    seq: num(row.seq),
    id: bytes(row.id),
    blob: bytes(row.blob),
    ...(row.source_account
      ? { source: { accountId: bytes(row.source_account), deviceId: num(row.source_device) } }
      : {}),
  };
}

/**
 * A discovery search row (id, identity_key, discoverable_name) as a {@link DiscoverableAccount}.
 * @param row - a row with those columns.
 */
export function toDiscoverable(row: Row): DiscoverableAccount {
  return {
    accountId: bytes(row.id),
    identityKey: bytes(row.identity_key),
    displayName: row.discoverable_name as string,
  };
}

/**
 * A `log_entries` row (idx, entry) as the index and entry bytes.
 * @param row - a row with those columns.
 */
export function toLogEntry(row: Row): { index: number; entry: Uint8Array } {
  return { index: num(row.idx), entry: bytes(row.entry) };
}

/**
 * An `archives` row (version, data, updated_at) as an {@link ArchiveRecord}.
 * @param row - a row with those columns.
 */
export function toArchive(row: Row): ArchiveRecord {
  return { version: num(row.version), data: bytes(row.data), updatedAt: num(row.updated_at) };
}

/**
 * An `archive_keys` row (slot, envelope) as an {@link ArchiveKeyRecord}.
 * @param row - a row with those columns.
 */
export function toArchiveKey(row: Row): ArchiveKeyRecord {
  return { slot: num(row.slot), envelope: bytes(row.envelope) };
}

/**
 * The bundle handed out for one device from the rows read (and taken) for it. Without a
 * one-time KEM prekey left, the last-resort KEM key stands in and is marked as such.
 * @param device - the `devices` row.
 * @param signed - the signed prekey row (key_id, public_key, signature).
 * @param lastResort - the last-resort KEM prekey row (key_id, public_key, signature).
 * @param oneTime - the one-time prekey row taken (key_id, public_key), if any was left.
 * @param kem - the one-time KEM prekey row taken (key_id, public_key, signature), if any was left.
 */
export function toBundle(
  device: Row,
  signed: Row,
  lastResort: Row,
  oneTime: Row | undefined,
  kem: Row | undefined,
): TakenBundle {
  const kemKey = kem ?? lastResort;
  return {
    deviceId: num(device.device_id),
    deviceKey: bytes(device.device_key),
    signedPreKey: { id: num(signed.key_id), publicKey: bytes(signed.public_key), signature: bytes(signed.signature) },
    ...(oneTime ? { oneTimePreKey: { id: num(oneTime.key_id), publicKey: bytes(oneTime.public_key) } } : {}),
    kemPreKey: {
      id: num(kemKey.key_id),
      publicKey: bytes(kemKey.public_key),
      signature: bytes(kemKey.signature),
      lastResort: kem === undefined,
    },
  };
}
