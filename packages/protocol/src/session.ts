/**
 * Sessions: PQXDH to start, the Double Ratchet to continue, and the two message
 * formats on the wire. This is the API the clients use: {@link initiateSession} (the
 * initiator, from a prekey bundle), {@link acceptSession} (the responder, from the first
 * message) and {@link Session} for everything after. See docs/PROTOCOL.md section "Sessions".
 */
import { assertBytes, assertFunction, assertObject, assertProvider } from './assert.js';
import { equalBytes, wipe } from './bytes.js';
import { InvalidArgumentError, InvalidMessageError } from './errors.js';
import { type Ed25519KeyPair, ML_KEM_1024_CIPHERTEXT_LENGTH } from './keys.js';
import { initiatePqxdh, type PqxdhInitialMessage, pqxdhAssociatedData, respondPqxdh } from './pqxdh.js';
import { MAX_PREKEY_ID, type PreKeyBundle, type PreKeyLookup } from './prekeys.js';
import type { CryptoProvider } from './provider/provider.js';
import type { Clock, RandomSource } from './random.js';
import {
  MAX_MESSAGE_NUMBER,
  Ratchet,
  type RatchetDeps,
  type RatchetLimits,
  type RatchetMessage,
  resolveRatchetLimits,
} from './ratchet.js';
import { encodeRatchetMessage } from './ratchet-wire.js';
import { decodeSessionState, encodeSessionState, type PendingPreKey } from './session-state.js';
import { decodeWire, encodeWire, type WireReader } from './wire.js';

/** Largest plaintext {@link Session.encrypt} accepts: 1 MiB. */
export const MAX_PLAINTEXT_BYTES = 1024 * 1024;
/** Version of both message formats. */
export const MESSAGE_VERSION = 1;
/** Kind field of a ratchet message. */
export const MESSAGE_KIND_RATCHET = 1;
/** Kind field of a prekey message. */
export const MESSAGE_KIND_PREKEY = 2;
const TAG_LENGTH = 16;

/** What a session needs from its environment. */
export interface SessionDeps {
  readonly provider: CryptoProvider;
  readonly random: RandomSource;
  readonly clock: Clock;
  /** Overrides of {@link DEFAULT_RATCHET_LIMITS}. */
  readonly limits?: Partial<RatchetLimits>;
}

/** 'prekey' until the initiator has received a reply, then 'message'. */
export type MessageKind = 'prekey' | 'message';

/** The prekeys an accepted prekey message used; the caller deletes the one-time ones. */
export interface UsedPreKeys {
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId?: number;
  readonly kemPreKeyId: number;
  readonly kemLastResort: boolean;
}

/** Result of {@link acceptSession}. */
export interface AcceptedSession {
  readonly session: Session;
  readonly plaintext: Uint8Array;
  readonly usedPreKeys: UsedPreKeys;
}

type DecodedMessage =
  | { readonly kind: 'message'; readonly ratchet: RatchetMessage }
  | { readonly kind: 'prekey'; readonly ratchet: RatchetMessage; readonly prekey: PqxdhInitialMessage };

function readRatchet(r: WireReader): RatchetMessage {
  const message = {
    dh: r.bytes('dh', 32),
    pn: r.uint('pn', MAX_MESSAGE_NUMBER),
    n: r.uint('n', MAX_MESSAGE_NUMBER),
    ciphertext: r.bytes('ciphertext', { min: TAG_LENGTH, max: MAX_PLAINTEXT_BYTES + TAG_LENGTH }),
  };
  r.end();
  return message;
}

function decodeMessage(bytes: Uint8Array): DecodedMessage {
  return decodeWire(bytes, {
    what: 'message',
    versions: [MESSAGE_VERSION],
    read: (r): DecodedMessage => {
      const kind = r.uint('kind', MESSAGE_KIND_PREKEY, MESSAGE_KIND_RATCHET);
      if (kind === MESSAGE_KIND_RATCHET) return { kind: 'message', ratchet: readRatchet(r) };
      const prekey: PqxdhInitialMessage = {
        identityKey: r.bytes('identityKey', 32),
        baseKey: r.bytes('baseKey', 32),
        signedPreKeyId: r.uint('signedPreKeyId', MAX_PREKEY_ID),
        oneTimePreKeyId: r.optionalUint('oneTimePreKeyId', MAX_PREKEY_ID),
        kemPreKeyId: r.uint('kemPreKeyId', MAX_PREKEY_ID),
        kemCiphertext: r.bytes('kemCiphertext', ML_KEM_1024_CIPHERTEXT_LENGTH),
      };
      return { kind: 'prekey', prekey, ratchet: readRatchet(r) };
    },
  });
}

/**
 * Tell a prekey message from a ratchet message, validating the whole message.
 * @throws InvalidMessageError for bytes that are neither; UnsupportedVersionError for a newer version;
 *   InvalidArgumentError when `message` is not a Uint8Array.
 */
export function peekMessageKind(message: Uint8Array): MessageKind {
  assertBytes(message, 'message');
  return decodeMessage(message).kind;
}

/**
 * Identifies the PQXDH part of a prekey message: SHA-256 of the MessagePack encoding of
 * [identityKey, baseKey, spkId, opkId|nil, kemId, kemCiphertext]. The responder keeps it so
 * that a repeated prekey message is recognised as belonging to its session, and a prekey
 * message whose PQXDH fields differ in any way is not.
 */
function preKeyDigest(provider: CryptoProvider, p: PqxdhInitialMessage): Uint8Array {
  return provider.sha256(
    encodeWire([p.identityKey, p.baseKey, p.signedPreKeyId, p.oneTimePreKeyId ?? null, p.kemPreKeyId, p.kemCiphertext]),
  );
}

function ratchetDeps(deps: SessionDeps): RatchetDeps {
  assertObject(deps, 'deps');
  assertProvider(deps.provider, 'deps.provider');
  assertFunction(deps.random, 'deps.random');
  assertFunction(deps.clock, 'deps.clock');
  return { provider: deps.provider, random: deps.random, clock: deps.clock, limits: resolveRatchetLimits(deps.limits) };
}

/**
 * Start a session with a device from its prekey bundle (PQXDH as initiator). Messages are
 * prekey messages until the first reply is decrypted. Randomness is drawn in this order:
 * EKa (32), ML-KEM encapsulation (32), first ratchet key (32).
 * @throws InvalidSignatureError for a badly signed bundle (before any DH);
 *   InvalidKeyError for invalid keys; InvalidArgumentError for malformed input.
 * @example const session = initiateSession(device, bundle, { provider, random: systemRandom, clock: systemClock });
 */
export function initiateSession(local: Ed25519KeyPair, bundle: PreKeyBundle, deps: SessionDeps): Session {
  const rdeps = ratchetDeps(deps);
  const init = initiatePqxdh(local, bundle, rdeps.provider, rdeps.random);
  const ratchet = Ratchet.initAlice(init.sharedSecret, init.associatedData, init.remoteSignedPreKey, rdeps);
  wipe(init.sharedSecret);
  return new Session(
    local.publicKey.slice(),
    init.remoteIdentityKey.slice(),
    true,
    {
      baseKey: init.baseKey,
      signedPreKeyId: init.signedPreKeyId,
      oneTimePreKeyId: init.oneTimePreKeyId,
      kemPreKeyId: init.kemPreKeyId,
      kemCiphertext: init.kemCiphertext,
    },
    undefined,
    ratchet,
    rdeps.provider,
  );
}

/**
 * Accept a session from a prekey message (PQXDH as responder) and decrypt it. Nothing is
 * stored or deleted here: the caller keeps the session and deletes the consumed one-time
 * prekey and non-last-resort KEM prekey named in `usedPreKeys`. The caller should also
 * check `session.remoteIdentityKey` against the key it trusts for the sender.
 * @throws InvalidPrekeyError when a named prekey is not held; InvalidMessageError when the
 *   message is malformed, not a prekey message or does not authenticate; InvalidKeyError
 *   for invalid keys; TooManySkippedError when the first message skips too far.
 */
export function acceptSession(
  local: Ed25519KeyPair,
  message: Uint8Array,
  prekeys: PreKeyLookup,
  deps: SessionDeps,
): AcceptedSession {
  const rdeps = ratchetDeps(deps);
  assertBytes(message, 'message');
  const decoded = decodeMessage(message);
  if (decoded.kind !== 'prekey') throw new InvalidMessageError('not a prekey message');
  const { prekey } = decoded;
  const response = respondPqxdh(local, prekey, prekeys, rdeps.provider);
  const ratchet = Ratchet.initBob(response.sharedSecret, response.associatedData, response.signedPreKey.keyPair, rdeps);
  const plaintext = ratchet.decrypt(decoded.ratchet);
  const session = new Session(
    local.publicKey.slice(),
    prekey.identityKey,
    false,
    undefined,
    preKeyDigest(rdeps.provider, prekey),
    ratchet,
    rdeps.provider,
  );
  const usedPreKeys: UsedPreKeys = {
    signedPreKeyId: prekey.signedPreKeyId,
    kemPreKeyId: prekey.kemPreKeyId,
    kemLastResort: response.kemPreKey.lastResort,
    ...(prekey.oneTimePreKeyId === undefined ? {} : { oneTimePreKeyId: prekey.oneTimePreKeyId }),
  };
  return { session, plaintext, usedPreKeys };
}

/** An established pairwise session between two devices. Not safe for concurrent use. */
export class Session {
  /** This device's Ed25519 identity key. */
  readonly localIdentityKey: Uint8Array;
  /** The peer device's Ed25519 identity key. */
  readonly remoteIdentityKey: Uint8Array;
  readonly #initiator: boolean;
  #pending: PendingPreKey | undefined;
  readonly #preKeyDigest: Uint8Array | undefined;
  readonly #provider: CryptoProvider;
  readonly #ratchet: Ratchet;

  /** @internal Use {@link initiateSession}, {@link acceptSession} or {@link Session.deserialize}. */
  constructor(
    localIdentityKey: Uint8Array,
    remoteIdentityKey: Uint8Array,
    initiator: boolean,
    pending: PendingPreKey | undefined,
    preKeyDigest: Uint8Array | undefined,
    ratchet: Ratchet,
    provider: CryptoProvider,
  ) {
    if (!(ratchet instanceof Ratchet)) {
      throw new InvalidArgumentError('Session: use initiateSession, acceptSession or Session.deserialize');
    }
    this.localIdentityKey = localIdentityKey;
    this.remoteIdentityKey = remoteIdentityKey;
    this.#initiator = initiator;
    this.#pending = pending;
    this.#preKeyDigest = preKeyDigest;
    this.#provider = provider;
    this.#ratchet = ratchet;
  }

  /** True while this (initiator) side has not yet received a reply: encrypt makes prekey messages. */
  get awaitingReply(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Encrypt a message. A prekey message until the first reply is received, then a ratchet message.
   * @throws InvalidArgumentError when the plaintext is not bytes or exceeds {@link MAX_PLAINTEXT_BYTES};
   *   InvalidSessionError when the sending chain is exhausted.
   */
  encrypt(plaintext: Uint8Array): Uint8Array {
    assertBytes(plaintext, 'plaintext', { max: MAX_PLAINTEXT_BYTES });
    const m = this.#ratchet.encrypt(plaintext);
    const p = this.#pending;
    if (p === undefined) return encodeRatchetMessage(MESSAGE_VERSION, MESSAGE_KIND_RATCHET, m);
    return encodeWire([
      MESSAGE_VERSION,
      MESSAGE_KIND_PREKEY,
      this.localIdentityKey,
      p.baseKey,
      p.signedPreKeyId,
      p.oneTimePreKeyId ?? null,
      p.kemPreKeyId,
      p.kemCiphertext,
      m.dh,
      m.pn,
      m.n,
      m.ciphertext,
    ]);
  }

  /**
   * Decrypt a message of either kind. A prekey message decrypts only if it belongs to this
   * session (same initiator identity and base key). On failure the session is unchanged.
   * @throws InvalidArgumentError when `message` is not a Uint8Array;
   *   DuplicateMessageError for a replay; InvalidMessageError when the message is
   *   malformed, tampered with or for another session; TooManySkippedError when it lies
   *   too far ahead; InvalidKeyError for a low-order ratchet key.
   */
  decrypt(message: Uint8Array): Uint8Array {
    assertBytes(message, 'message');
    const decoded = decodeMessage(message);
    if (decoded.kind === 'prekey') {
      const digest = this.#preKeyDigest;
      if (digest === undefined || !equalBytes(preKeyDigest(this.#provider, decoded.prekey), digest)) {
        throw new InvalidMessageError('prekey message belongs to another session');
      }
    }
    const plaintext = this.#ratchet.decrypt(decoded.ratchet);
    this.#pending = undefined;
    return plaintext;
  }

  /** The complete state as versioned MessagePack (contains secret keys: store it encrypted). */
  serialize(): Uint8Array {
    const { associatedData: _ad, ...ratchet } = this.#ratchet.fields();
    return encodeSessionState({
      localIdentityKey: this.localIdentityKey,
      remoteIdentityKey: this.remoteIdentityKey,
      initiator: this.#initiator,
      pending: this.#pending,
      preKeyDigest: this.#preKeyDigest,
      ratchet,
    });
  }

  /**
   * Restore a session from {@link Session.serialize} output.
   * @throws InvalidSessionError for corrupt or inconsistent state; UnsupportedVersionError
   *   for an unknown version; InvalidArgumentError for malformed deps or non-bytes input.
   */
  static deserialize(bytes: Uint8Array, deps: SessionDeps): Session {
    const rdeps = ratchetDeps(deps);
    assertBytes(bytes, 'bytes');
    const fields = decodeSessionState(bytes);
    const ad = fields.initiator
      ? pqxdhAssociatedData(fields.localIdentityKey, fields.remoteIdentityKey)
      : pqxdhAssociatedData(fields.remoteIdentityKey, fields.localIdentityKey);
    const ratchet = new Ratchet({ ...fields.ratchet, associatedData: ad }, rdeps);
    return new Session(
      fields.localIdentityKey,
      fields.remoteIdentityKey,
      fields.initiator,
      fields.pending,
      fields.preKeyDigest,
      ratchet,
      rdeps.provider,
    );
  }
}
