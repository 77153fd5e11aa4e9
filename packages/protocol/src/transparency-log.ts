/**
 * VAULTEX key transparency: an append-only RFC 9162 Merkle log of
 * (user ID -> account key, signed device list) entries, signed tree heads, and the
 * client-side checks that an entry is in the log a head commits to and that every head
 * extends the previous one. A server that shows two clients different logs (a split
 * view) must sign two inconsistent heads, and {@link verifyHeadConsistency} catches it.
 * The server holds the log in a {@link MerkleTree} whose leaves are encoded log entries.
 * See docs/PROTOCOL.md "Key transparency".
 */
import { assertBytes, assertInteger, assertObject, assertProvider, isBytes } from './assert.js';
import { equalBytes, utf8ToBytes } from './bytes.js';
import { InvalidProofError, InvalidSignatureError } from './errors.js';
import { USER_ID_LENGTH, userIdFromIdentityKey } from './identity.js';
import { ED25519_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from './keys.js';
import { hashLeaf, MERKLE_HASH_LENGTH, verifyConsistency, verifyInclusion } from './merkle.js';
import type { CryptoProvider } from './provider/provider.js';
import { decodeWire, encodeWire } from './wire.js';

/** Domain separator of the tree-head signature. */
const TREE_HEAD_CONTEXT = utf8ToBytes('VAULTEX tree head v1');

/** One log entry: the state of an account's keys at `timestamp`. */
export interface LogEntry {
  readonly version: 1;
  /** 16-byte user ID = SHA-256(accountKey)[0..16]. */
  readonly userId: Uint8Array;
  /** The account's Ed25519 identity public key (32 bytes). */
  readonly accountKey: Uint8Array;
  /** SHA-256 of the encoded signed device list (`encodeDeviceList`). */
  readonly deviceListHash: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

/** A tree head signed by the log's Ed25519 key. */
export interface SignedTreeHead {
  readonly version: 1;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly signature: Uint8Array;
}

function checkEntry(entry: LogEntry): void {
  assertObject(entry, 'entry');
  assertBytes(entry.userId, 'entry.userId', USER_ID_LENGTH);
  assertBytes(entry.accountKey, 'entry.accountKey', ED25519_KEY_LENGTH);
  assertBytes(entry.deviceListHash, 'entry.deviceListHash', MERKLE_HASH_LENGTH);
  assertInteger(entry.timestamp, 'entry.timestamp');
}

/**
 * Build the log entry for an account: the user ID is derived from the key, the device
 * list is hashed from its encoding.
 * @throws InvalidArgumentError for a key that is not 32 bytes, an empty device list
 *   encoding or a bad timestamp.
 */
export function createLogEntry(
  accountKey: Uint8Array,
  encodedDeviceList: Uint8Array,
  timestamp: number,
  provider: CryptoProvider,
): LogEntry {
  assertBytes(accountKey, 'accountKey', ED25519_KEY_LENGTH);
  assertBytes(encodedDeviceList, 'encodedDeviceList', { min: 1 });
  assertInteger(timestamp, 'timestamp');
  return {
    version: 1,
    userId: userIdFromIdentityKey(accountKey, provider),
    // A plain copy: callers may pass a Node Buffer, whose slice() is a view, not a copy.
    accountKey: new Uint8Array(accountKey),
    deviceListHash: provider.sha256(encodedDeviceList),
    timestamp,
  };
}

/**
 * Serialise a log entry: `[1, userId, accountKey, deviceListHash, timestamp]`. These
 * bytes are the Merkle leaf.
 * @throws InvalidArgumentError for malformed fields.
 */
export function encodeLogEntry(entry: LogEntry): Uint8Array {
  checkEntry(entry);
  return encodeWire([1, entry.userId, entry.accountKey, entry.deviceListHash, entry.timestamp]);
}

/**
 * Parse a log entry.
 * @throws InvalidMessageError for malformed bytes; UnsupportedVersionError for unknown versions.
 */
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  return decodeWire(bytes, {
    what: 'log entry',
    versions: [1],
    read: (r) => {
      const entry: LogEntry = {
        version: 1,
        userId: r.bytes('userId', USER_ID_LENGTH),
        accountKey: r.bytes('accountKey', ED25519_KEY_LENGTH),
        deviceListHash: r.bytes('deviceListHash', MERKLE_HASH_LENGTH),
        timestamp: r.uint('timestamp'),
      };
      r.end();
      return entry;
    },
  });
}

/**
 * The Merkle leaf hash of an entry, from its exact bytes (preferred: what the log
 * stored) or from the entry, encoded here.
 * @throws InvalidArgumentError for malformed input.
 */
export function logEntryLeafHash(entry: LogEntry | Uint8Array, provider: CryptoProvider): Uint8Array {
  assertProvider(provider);
  return hashLeaf(isBytes(entry) ? entry : encodeLogEntry(entry), provider);
}

function treeHeadSigned(treeSize: number, rootHash: Uint8Array, timestamp: number): Uint8Array {
  return encodeWire([TREE_HEAD_CONTEXT, treeSize, rootHash, timestamp]);
}

function checkHead(head: SignedTreeHead, field: string): void {
  assertObject(head, field);
  assertInteger(head.treeSize, `${field}.treeSize`);
  assertBytes(head.rootHash, `${field}.rootHash`, MERKLE_HASH_LENGTH);
  assertInteger(head.timestamp, `${field}.timestamp`);
  assertBytes(head.signature, `${field}.signature`, ED25519_SIGNATURE_LENGTH);
}

/**
 * Sign a tree head with the log's Ed25519 secret key (32-byte seed), over the encoding
 * of `["VAULTEX tree head v1" (bin), treeSize, rootHash, timestamp]`.
 * @throws InvalidArgumentError for malformed inputs.
 */
export function signTreeHead(
  logSecretKey: Uint8Array,
  treeSize: number,
  rootHash: Uint8Array,
  timestamp: number,
  provider: CryptoProvider,
): SignedTreeHead {
  assertBytes(logSecretKey, 'logSecretKey', 32);
  assertInteger(treeSize, 'treeSize');
  assertBytes(rootHash, 'rootHash', MERKLE_HASH_LENGTH);
  assertInteger(timestamp, 'timestamp');
  const signature = provider.ed25519Sign(logSecretKey, treeHeadSigned(treeSize, rootHash, timestamp));
  return { version: 1, treeSize, rootHash: new Uint8Array(rootHash), timestamp, signature };
}

/**
 * Check a tree head's signature by the log key.
 * @throws InvalidSignatureError when it does not verify; InvalidArgumentError for a
 *   malformed head object or key.
 */
export function verifyTreeHead(head: SignedTreeHead, logPublicKey: Uint8Array, provider: CryptoProvider): void {
  checkHead(head, 'head');
  assertBytes(logPublicKey, 'logPublicKey', ED25519_KEY_LENGTH);
  const ok = provider.ed25519Verify(
    logPublicKey,
    treeHeadSigned(head.treeSize, head.rootHash, head.timestamp),
    head.signature,
  );
  if (!ok) throw new InvalidSignatureError('tree head signature does not verify');
}

/** Serialise a signed tree head: `[1, treeSize, rootHash, timestamp, signature]`. */
export function encodeTreeHead(head: SignedTreeHead): Uint8Array {
  checkHead(head, 'head');
  return encodeWire([1, head.treeSize, head.rootHash, head.timestamp, head.signature]);
}

/**
 * Parse a signed tree head (signature not checked: call {@link verifyTreeHead}).
 * @throws InvalidMessageError for malformed bytes; UnsupportedVersionError for unknown versions.
 */
export function decodeTreeHead(bytes: Uint8Array): SignedTreeHead {
  return decodeWire(bytes, {
    what: 'tree head',
    versions: [1],
    read: (r) => {
      const head: SignedTreeHead = {
        version: 1,
        treeSize: r.uint('treeSize'),
        rootHash: r.bytes('rootHash', MERKLE_HASH_LENGTH),
        timestamp: r.uint('timestamp'),
        signature: r.bytes('signature', ED25519_SIGNATURE_LENGTH),
      };
      r.end();
      return head;
    },
  });
}

/**
 * Client check: `entry` is leaf `index` of the log committed to by `head`, which the log
 * key signed. Pass the entry's bytes as received where possible; an entry object is
 * re-encoded. The entry's user ID must also be the one its account key gives, so a log
 * cannot bind a user ID to somebody else's key.
 * @throws InvalidSignatureError when the head is not signed by `logPublicKey`;
 *   InvalidProofError when the proof does not place the entry in the tree, or the user ID
 *   does not match the key; InvalidMessageError when entry bytes do not parse.
 */
export function verifyEntryInclusion(
  entry: LogEntry | Uint8Array,
  index: number,
  proof: readonly Uint8Array[],
  head: SignedTreeHead,
  logPublicKey: Uint8Array,
  provider: CryptoProvider,
): void {
  verifyTreeHead(head, logPublicKey, provider);
  const parsed = isBytes(entry) ? decodeLogEntry(entry) : entry;
  const leaf = logEntryLeafHash(entry, provider);
  if (!equalBytes(userIdFromIdentityKey(parsed.accountKey, provider), parsed.userId)) {
    throw new InvalidProofError('log entry: user ID is not derived from its account key');
  }
  verifyInclusion(leaf, index, head.treeSize, proof, head.rootHash, provider);
}

/**
 * Client check run on every new head: `newHead` extends `oldHead` (the last head this
 * client accepted). Both must be signed by the log. A smaller new tree, two different
 * roots for one size, or a proof that does not connect the roots is a misbehaving log
 * (a rollback or a split view) and must be reported, not retried.
 * @throws InvalidSignatureError when either head is not signed by `logPublicKey`;
 *   InvalidProofError when the heads are not consistent.
 */
export function verifyHeadConsistency(
  oldHead: SignedTreeHead,
  newHead: SignedTreeHead,
  proof: readonly Uint8Array[],
  logPublicKey: Uint8Array,
  provider: CryptoProvider,
): void {
  verifyTreeHead(oldHead, logPublicKey, provider);
  verifyTreeHead(newHead, logPublicKey, provider);
  verifyConsistency(oldHead.treeSize, newHead.treeSize, oldHead.rootHash, newHead.rootHash, proof, provider);
}
