/**
 * The storage interface of the relay. Every method is async so that a networked
 * database (PostgreSQL, with the scale-out issue) can implement it; the SQLite adapter
 * is the embedded default. One conformance suite (test/storage-conformance.ts) runs
 * against every adapter. Byte strings are `Uint8Array`; times are milliseconds since
 * the epoch, already coarsened by the caller where they record activity.
 */

/** An account: its keys and nothing else (plus opt-in discovery data). */
export interface AccountRecord {
  /** 16-byte user ID. */
  readonly id: Uint8Array;
  readonly identityKey: Uint8Array;
  /** The encoded signed device list. */
  readonly deviceList: Uint8Array;
  readonly deviceListCounter: number;
  /** SHA-256 of the sealed-sender access key, or null when sealed sends are refused. */
  readonly accessKeyHash: Uint8Array | null;
  /** Day the account was created (coarsened). */
  readonly createdAt: number;
}

/** A device of an account. */
export interface DeviceRecord {
  readonly accountId: Uint8Array;
  readonly deviceId: number;
  readonly deviceKey: Uint8Array;
  /** The encoded device certificate. */
  readonly certificate: Uint8Array;
  readonly createdAt: number;
  /** Coarsened day of the last login. */
  readonly lastSeenAt: number;
}

/** A signed X25519 prekey. */
export interface StoredSignedPreKey {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** A one-time X25519 prekey. */
export interface StoredOneTimePreKey {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

/** A KEM prekey (signature covers `lastResort`). */
export interface StoredKemPreKey {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** Prekeys to store for one device; absent fields leave the stored ones alone. */
export interface PreKeyWrite {
  readonly signedPreKey?: StoredSignedPreKey;
  readonly lastResortKemPreKey?: StoredKemPreKey;
  readonly oneTimePreKeys?: readonly StoredOneTimePreKey[];
  readonly kemPreKeys?: readonly StoredKemPreKey[];
  /** Delete every stored one-time key (both kinds) before adding. */
  readonly replaceOneTimePreKeys?: boolean;
}

/** One device's bundle as taken from storage (one-time keys already deleted). */
export interface TakenBundle {
  readonly deviceId: number;
  readonly deviceKey: Uint8Array;
  readonly signedPreKey: StoredSignedPreKey;
  readonly oneTimePreKey?: StoredOneTimePreKey;
  readonly kemPreKey: StoredKemPreKey & { readonly lastResort: boolean };
}

/** A key-transparency leaf to append in the same transaction as the change it records. */
export interface LogAppend {
  readonly leafHash: Uint8Array;
  /** The encoded log entry; purged (the leaf hash kept) when the account is deleted. */
  readonly entry: Uint8Array;
}

/** A device target of a stored message. */
export interface Target {
  readonly accountId: Uint8Array;
  readonly deviceId: number;
}

/** A message to store once for all its targets. */
export interface NewMessage {
  /** 16 random bytes, stable across redeliveries. */
  readonly id: Uint8Array;
  readonly blob: Uint8Array;
  readonly expiresAt: number;
  /** The sender of an authenticated send; absent for sealed sends. */
  readonly source?: Target;
  readonly targets: readonly Target[];
}

/** A pending message as delivered to one device. */
export interface StoredMessage {
  /** Storage order: delivery is in increasing `seq`. */
  readonly seq: number;
  readonly id: Uint8Array;
  readonly blob: Uint8Array;
  readonly source?: Target;
}

/** An acknowledgement by one device. */
export interface AckRequest {
  readonly accountId: Uint8Array;
  readonly deviceId: number;
  readonly ids: readonly Uint8Array[];
}

/** Mailbox writes committed together (group commit). */
export interface MailboxBatch {
  readonly inserts: readonly NewMessage[];
  readonly acks: readonly AckRequest[];
}

/** What a committed batch did: `seqs[i]` of `inserts[i]`; `acked[j]` = ids of `acks[j]` that were pending. */
export interface MailboxBatchResult {
  readonly seqs: readonly number[];
  readonly acked: readonly (readonly Uint8Array[])[];
}

/** A new account with its first device. */
export interface NewAccount {
  readonly account: AccountRecord;
  readonly device: DeviceRecord;
  readonly prekeys: PreKeyWrite;
  readonly log: LogAppend;
}

/** A device-list change: link (with `device`) and/or removal (`removedDeviceIds`). */
export interface DeviceListChange {
  readonly accountId: Uint8Array;
  /** The counter the caller read: the change fails as stale if it moved meanwhile. */
  readonly expectedCounter: number;
  readonly deviceList: Uint8Array;
  readonly counter: number;
  readonly device?: { readonly record: DeviceRecord; readonly prekeys: PreKeyWrite };
  readonly removedDeviceIds: readonly number[];
  readonly log: LogAppend;
}

/** A session token's owner. */
export interface TokenRecord {
  readonly accountId: Uint8Array;
  readonly deviceId: number;
  readonly expiresAt: number;
}

/** Attachment upload state. */
export interface AttachmentRecord {
  readonly size: number;
  readonly chunkSize: number;
  readonly received: number;
  readonly nextIndex: number;
  readonly expiresAt: number;
}

/** An account's stored history archive (opaque ciphertext of the client). */
export interface ArchiveRecord {
  /** 1 after the first upload, one more after each. */
  readonly version: number;
  readonly data: Uint8Array;
  /** Time of the last upload (coarsened). */
  readonly updatedAt: number;
}

/** One key envelope of an account's archive (opaque to the relay). */
export interface ArchiveKeyRecord {
  readonly slot: number;
  readonly envelope: Uint8Array;
}

/** A discoverable account, as found by a search. */
export interface DiscoverableAccount {
  readonly accountId: Uint8Array;
  readonly identityKey: Uint8Array;
  readonly displayName: string;
}

/** Counts of what one pruning pass deleted. */
export interface PruneResult {
  readonly messages: number;
  readonly tokens: number;
  readonly challenges: number;
  readonly attachments: number;
  readonly provisioning: number;
}

/** The relay's storage. */
export interface Storage {
  /** Release the database. */
  close(): Promise<void>;

  /** A server secret by name, created from `create()` on first use (e.g. the log signing key). */
  secret(name: string, create: () => Uint8Array): Promise<Uint8Array>;

  /** Remember a challenge (by the SHA-256 of its nonce) until `expiresAt`. */
  putChallenge(nonceHash: Uint8Array, expiresAt: number): Promise<void>;
  /** Delete a challenge and say whether it existed and had not expired (single use). */
  consumeChallenge(nonceHash: Uint8Array, now: number): Promise<boolean>;

  /** Create an account with its first device, prekeys and log leaf; false when the id exists. */
  createAccount(input: NewAccount): Promise<{ readonly logIndex: number } | 'exists'>;
  getAccount(accountId: Uint8Array): Promise<AccountRecord | undefined>;
  listDevices(accountId: Uint8Array): Promise<DeviceRecord[]>;
  getDevice(accountId: Uint8Array, deviceId: number): Promise<DeviceRecord | undefined>;
  /** Apply a device-list change atomically: purges removed devices' tokens, prekeys and mailbox targets. */
  changeDeviceList(change: DeviceListChange): Promise<{ readonly logIndex: number } | 'stale'>;
  /** Delete every row of an account (log leaf hashes stay, their entries go). */
  deleteAccount(accountId: Uint8Array): Promise<boolean>;
  setAccessKeyHash(accountId: Uint8Array, hash: Uint8Array | null): Promise<void>;
  /** Record a (coarsened) last-seen time for a device. */
  touchDevice(accountId: Uint8Array, deviceId: number, lastSeenAt: number): Promise<void>;

  putToken(tokenHash: Uint8Array, record: TokenRecord): Promise<void>;
  getToken(tokenHash: Uint8Array): Promise<TokenRecord | undefined>;
  deleteToken(tokenHash: Uint8Array): Promise<void>;

  /** Store prekeys for a device; fails with 'too-many' when one-time keys would exceed `maxOneTime`. */
  storePreKeys(
    accountId: Uint8Array,
    deviceId: number,
    keys: PreKeyWrite,
    maxOneTime: number,
  ): Promise<'ok' | 'too-many'>;
  countPreKeys(accountId: Uint8Array, deviceId: number): Promise<{ oneTime: number; kem: number }>;
  /**
   * Take a bundle for each listed device (all devices when undefined), consuming one
   * one-time X25519 key and one one-time KEM key (else the last-resort KEM key) each,
   * atomically: two concurrent takes never return the same one-time key.
   */
  takeBundles(accountId: Uint8Array, deviceIds?: readonly number[]): Promise<TakenBundle[]>;

  /** Commit inserts and acknowledgements in one transaction. */
  applyMailboxBatch(batch: MailboxBatch): Promise<MailboxBatchResult>;
  /** Pending, unexpired messages of a device with `seq > afterSeq`, oldest first. */
  pendingMessages(
    accountId: Uint8Array,
    deviceId: number,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<StoredMessage[]>;

  /** Delete what expired at `now`. */
  prune(now: number): Promise<PruneResult>;

  /** Every log leaf hash in index order (to rebuild the Merkle tree at start-up). */
  logLeafHashes(): Promise<Uint8Array[]>;
  /** The account's latest log entry. */
  latestLogEntry(accountId: Uint8Array): Promise<{ readonly index: number; readonly entry: Uint8Array } | undefined>;

  /** Opt in (with a name) or out (null) of discovery. */
  setDiscoverable(accountId: Uint8Array, displayName: string | null): Promise<void>;
  getDiscoverable(accountId: Uint8Array): Promise<string | null>;
  /** Opted-in accounts whose name contains `query` (case-insensitive, literal), excluding one account. */
  searchDiscoverable(query: string, limit: number, exclude: Uint8Array): Promise<DiscoverableAccount[]>;

  createAttachment(id: Uint8Array, record: AttachmentRecord): Promise<void>;
  getAttachment(id: Uint8Array, now: number): Promise<AttachmentRecord | undefined>;
  /** Append chunk `index` if it is the next one and fits the declared size. */
  appendAttachmentChunk(
    id: Uint8Array,
    index: number,
    data: Uint8Array,
  ): Promise<AttachmentRecord | 'conflict' | 'missing'>;
  /** Read chunk `index` of an attachment. */
  readAttachmentChunk(id: Uint8Array, index: number): Promise<Uint8Array | undefined>;

  /** Store a provisioning message; false when the channel already holds an unexpired one. */
  putProvisioning(channel: Uint8Array, blob: Uint8Array, expiresAt: number, now: number): Promise<boolean>;
  /** Take (read and delete) a channel's unexpired provisioning message. */
  takeProvisioning(channel: Uint8Array, now: number): Promise<Uint8Array | undefined>;

  /** The account's archive, if one is stored. */
  getArchive(accountId: Uint8Array): Promise<ArchiveRecord | undefined>;
  /**
   * Store an archive if the stored version is `expectedVersion` (0: none stored), as one
   * atomic compare-and-swap: of two concurrent puts naming the same version, one wins.
   * @returns the new version (`expectedVersion + 1`), or 'conflict'.
   */
  putArchive(
    accountId: Uint8Array,
    expectedVersion: number,
    data: Uint8Array,
    updatedAt: number,
  ): Promise<number | 'conflict'>;
  /** Delete the account's archive and all its key envelopes; false when there was neither. */
  deleteArchive(accountId: Uint8Array): Promise<boolean>;
  /** The account's key envelopes in slot order. */
  getArchiveKeys(accountId: Uint8Array): Promise<ArchiveKeyRecord[]>;
  /** Replace all the account's key envelopes with `keys` (slots unique), atomically. */
  replaceArchiveKeys(accountId: Uint8Array, keys: readonly ArchiveKeyRecord[]): Promise<void>;
  /** Delete one key envelope; false when the slot was empty. */
  deleteArchiveKey(accountId: Uint8Array, slot: number): Promise<boolean>;
}
