/**
 * The stored form of a session: one versioned MessagePack array holding the identity
 * keys, the complete ratchet state (skipped keys with their timestamps) and the
 * initiator's pending prekey data. Decoding is strict: every length, counter and
 * cross-field rule is checked, so a corrupt record is refused rather than half used.
 * See docs/PROTOCOL.md section "Sessions".
 */
import { InvalidSessionError } from './errors.js';
import { ML_KEM_1024_CIPHERTEXT_LENGTH } from './keys.js';
import { MAX_PREKEY_ID } from './prekeys.js';
import {
  type ChainState,
  MAX_MESSAGE_NUMBER,
  MAX_STORED_PREVIOUS_CHAINS,
  MAX_STORED_SKIPPED_KEYS,
  type PreviousChain,
  type RatchetFields,
  type SkippedKey,
} from './ratchet.js';
import { decodeWire, encodeWire, type WireReader } from './wire.js';

/** Current version of the stored session format. */
export const SESSION_STATE_VERSION = 1;

/** What the initiator repeats in every message until the first reply arrives. */
export interface PendingPreKey {
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number | undefined;
  readonly kemPreKeyId: number;
  readonly kemCiphertext: Uint8Array;
}

/** Everything a session is made of, apart from its dependencies. */
export interface SessionFields {
  readonly localIdentityKey: Uint8Array;
  readonly remoteIdentityKey: Uint8Array;
  /** True on the side that ran PQXDH as initiator (Alice); it decides the AD order. */
  readonly initiator: boolean;
  readonly pending: PendingPreKey | undefined;
  /** Responder only: digest of the initial message's PQXDH fields, to recognise repeated prekey messages. */
  readonly preKeyDigest: Uint8Array | undefined;
  readonly ratchet: Omit<RatchetFields, 'associatedData'>;
}

/** Chain indices count up to one past the last u32 message number. */
const MAX_INDEX = MAX_MESSAGE_NUMBER + 1;

function chain(key: Uint8Array | undefined, index: number): ChainState | undefined {
  return key === undefined ? undefined : { key, index };
}

/** Serialise a session (see the field list in docs/PROTOCOL.md). */
export function encodeSessionState(fields: SessionFields): Uint8Array {
  const r = fields.ratchet;
  const p = fields.pending;
  return encodeWire([
    SESSION_STATE_VERSION,
    fields.localIdentityKey,
    fields.remoteIdentityKey,
    fields.initiator,
    r.rootKey,
    r.sendingKeyPair?.privateKey ?? null,
    r.sendingKeyPair?.publicKey ?? null,
    r.remoteRatchetKey ?? null,
    r.sending?.key ?? null,
    r.sending?.index ?? 0,
    r.receiving?.key ?? null,
    r.receiving?.index ?? 0,
    r.previousCounter,
    r.previousChains.map((c) => [c.remoteKey, c.end]),
    r.skipped.map((s) => [s.remoteKey, s.index, s.messageKey, s.createdAt]),
    p ? [[p.baseKey, p.signedPreKeyId, p.oneTimePreKeyId ?? null, p.kemPreKeyId, p.kemCiphertext]] : [],
    fields.preKeyDigest ?? null,
  ]);
}

function fail(message: string): never {
  throw new InvalidSessionError(`session state: ${message}`);
}

function readPending(r: WireReader): PendingPreKey {
  const pending = {
    baseKey: r.bytes('baseKey', 32),
    signedPreKeyId: r.uint('signedPreKeyId', MAX_PREKEY_ID),
    oneTimePreKeyId: r.optionalUint('oneTimePreKeyId', MAX_PREKEY_ID),
    kemPreKeyId: r.uint('kemPreKeyId', MAX_PREKEY_ID),
    kemCiphertext: r.bytes('kemCiphertext', ML_KEM_1024_CIPHERTEXT_LENGTH),
  };
  r.end();
  return pending;
}

/**
 * Parse a stored session and check its consistency.
 * @throws InvalidSessionError for corrupt or inconsistent state; UnsupportedVersionError
 *   for a version this library does not know.
 */
export function decodeSessionState(bytes: Uint8Array): SessionFields {
  return decodeWire(bytes, {
    what: 'session state',
    versions: [SESSION_STATE_VERSION],
    error: (m) => new InvalidSessionError(m),
    read: (r) => {
      const localIdentityKey = r.bytes('localIdentityKey', 32);
      const remoteIdentityKey = r.bytes('remoteIdentityKey', 32);
      const initiator = r.boolean('initiator');
      const rootKey = r.bytes('rootKey', 32);
      const privateKey = r.optionalBytes('sendingPrivateKey', 32);
      const publicKey = r.optionalBytes('sendingPublicKey', 32);
      const remoteRatchetKey = r.optionalBytes('remoteRatchetKey', 32);
      const sendingKey = r.optionalBytes('sendingChainKey', 32);
      const sendingIndex = r.uint('sendingIndex', MAX_INDEX);
      const receivingKey = r.optionalBytes('receivingChainKey', 32);
      const receivingIndex = r.uint('receivingIndex', MAX_INDEX);
      const previousCounter = r.uint('previousCounter', MAX_INDEX);
      const previousChains = r.array('previousChains', MAX_STORED_PREVIOUS_CHAINS, (c): PreviousChain => {
        const entry = { remoteKey: c.bytes('remoteKey', 32), end: c.uint('end', MAX_INDEX) };
        c.end();
        return entry;
      });
      const skipped = r.array('skipped', MAX_STORED_SKIPPED_KEYS, (s): SkippedKey => {
        const entry = {
          remoteKey: s.bytes('remoteKey', 32),
          index: s.uint('index', MAX_MESSAGE_NUMBER),
          messageKey: s.bytes('messageKey', 32),
          createdAt: s.uint('createdAt'),
        };
        s.end();
        return entry;
      });
      const pendingList = r.array('pending', 1, readPending);
      const preKeyDigest = r.optionalBytes('preKeyDigest', 32);
      r.end();

      if ((privateKey === undefined) !== (publicKey === undefined)) fail('half a ratchet key pair');
      if (sendingKey !== undefined && privateKey === undefined) fail('sending chain without a ratchet key pair');
      if (privateKey === undefined && remoteRatchetKey === undefined)
        fail('neither a ratchet key pair nor a remote key');
      if (sendingKey === undefined && sendingIndex !== 0) fail('sending index without a sending chain');
      if (receivingKey === undefined && receivingIndex !== 0) fail('receiving index without a receiving chain');
      if (receivingKey !== undefined && remoteRatchetKey === undefined) fail('receiving chain without a ratchet key');
      const pending = pendingList[0];
      if (initiator && preKeyDigest !== undefined) fail('initiator with a prekey digest');
      if (!initiator && (pending !== undefined || preKeyDigest === undefined)) {
        fail('responder must have a prekey digest and no pending prekey');
      }
      return {
        localIdentityKey,
        remoteIdentityKey,
        initiator,
        pending,
        preKeyDigest,
        ratchet: {
          rootKey,
          sendingKeyPair: privateKey === undefined || publicKey === undefined ? undefined : { privateKey, publicKey },
          remoteRatchetKey,
          sending: chain(sendingKey, sendingIndex),
          receiving: chain(receivingKey, receivingIndex),
          previousCounter,
          previousChains,
          skipped,
        },
      };
    },
  });
}
