/**
 * Sender Keys for groups (docs/PROTOCOL.md, "Sender Keys"), as in Signal: each sender
 * device has, per group distribution, a symmetric chain (HMAC ratchet) and an Ed25519
 * signing key. It sends the chain's current key and the signing public key to every
 * member once, over the pairwise sessions (a distribution message); then each group
 * message is encrypted once for all members and signed.
 *
 * A state is a mutable object behind a read-only view: encryption advances it, and
 * decryption advances it only when the message authenticates, so a failed decryption
 * leaves it exactly as it was. Keeping one state object per (group, sender device) and
 * updating it in place avoids copying up to 2,000 stored keys on every message.
 */
import { assertBytes, assertFunction, assertInteger, assertObject } from './assert.js';
import { equalBytes, utf8ToBytes, wipe } from './bytes.js';
import {
  DuplicateMessageError,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidSessionError,
  InvalidSignatureError,
  NoSenderKeyError,
  TooManySkippedError,
} from './errors.js';
import { ED25519_SIGNATURE_LENGTH, generateEd25519KeyPair } from './keys.js';
import type { CryptoProvider } from './provider/provider.js';
import type { Clock, RandomSource } from './random.js';
import { decodeWire, encodeWire, type WireReader } from './wire.js';

const VERSION = 1;
const STATE_VERSION = 1;
const MESSAGE_KEY_INFO = utf8ToBytes('VAULTEX_SenderKey');
const ZERO_SALT = new Uint8Array(32);
const SEED_INPUT = Uint8Array.of(0x01);
const CHAIN_INPUT = Uint8Array.of(0x02);
const TAG_LENGTH = 16;
const MAX_UINT32 = 0xffff_ffff;

/** Length of a distribution id (a random UUID's 16 bytes, chosen by the sender per group). */
export const DISTRIBUTION_ID_LENGTH = 16;
/** Chains a state keeps (newest first); older ones are evicted, as in Signal. */
export const MAX_SENDER_KEY_CHAINS = 5;
/** Largest plaintext {@link groupEncrypt} accepts (8 MiB), inside the 16 MiB wire limit. */
export const MAX_GROUP_PLAINTEXT = 8 * 1024 * 1024;
/** Hard ceiling on stored skipped keys per chain, whatever the configured limit. */
export const MAX_STORED_SKIPPED_KEYS = 25_000;
/** Hard ceiling on the configurable forward jump. */
const MAX_FORWARD_JUMP_CEILING = 1_000_000;

/** Bounds applied when decrypting. */
export interface SenderKeyLimits {
  /** Most iterations a message may lie ahead of its chain (Signal: 25,000). */
  readonly maxForwardJump: number;
  /** Most skipped message keys kept per chain; the oldest are evicted first (Signal: 2,000). */
  readonly maxSkippedKeys: number;
  /** Skipped keys older than this many milliseconds are deleted. */
  readonly maxSkippedAge: number;
}

/** Default bounds: 25,000 forward, 2,000 stored per chain, 30 days. */
export const DEFAULT_SENDER_KEY_LIMITS: SenderKeyLimits = Object.freeze({
  maxForwardJump: 25_000,
  maxSkippedKeys: 2_000,
  maxSkippedAge: 30 * 24 * 60 * 60 * 1000,
});

/**
 * Read-only view of a sender-key state. Obtain one from {@link createSenderKey},
 * {@link processDistributionMessage} or {@link deserializeSenderKeyState}; only this
 * module's functions change it.
 */
export interface SenderKeyState {
  readonly distributionId: Uint8Array;
  /** Chain id of the newest chain. */
  readonly chainId: number;
  /** Next iteration of the newest chain. */
  readonly iteration: number;
  /** Chain ids held, newest first. */
  readonly chainIds: readonly number[];
  /** True for the sender's own state (it holds the signing secret key). */
  readonly canEncrypt: boolean;
}

/** The routing fields of a sender-key or distribution message (no secrets). */
export interface SenderKeyMessageHeader {
  readonly distributionId: Uint8Array;
  readonly chainId: number;
  readonly iteration: number;
}

interface SkippedKey {
  readonly seed: Uint8Array;
  readonly storedAt: number;
}

interface Chain {
  readonly chainId: number;
  /** Next iteration: the one `chainKey` belongs to. 2^32 once the chain is exhausted. */
  iteration: number;
  chainKey: Uint8Array;
  readonly signingPublicKey: Uint8Array;
  readonly signingSecretKey: Uint8Array | undefined;
  /** Message-key seeds of skipped iterations; Map order is insertion order, oldest first. */
  readonly skipped: Map<number, SkippedKey>;
}

class State implements SenderKeyState {
  constructor(
    readonly id: Uint8Array,
    readonly chains: Chain[],
  ) {}
  get distributionId(): Uint8Array {
    return this.id.slice();
  }
  get chainId(): number {
    return this.chains[0]!.chainId;
  }
  get iteration(): number {
    return this.chains[0]!.iteration;
  }
  get chainIds(): readonly number[] {
    return this.chains.map((c) => c.chainId);
  }
  get canEncrypt(): boolean {
    return this.chains[0]!.signingSecretKey !== undefined;
  }
}

function internal(state: SenderKeyState): State {
  if (!(state instanceof State)) throw new InvalidArgumentError('state: expected a SenderKeyState from this library');
  return state;
}

function newChain(provider: CryptoProvider, random: RandomSource, avoidChainId?: number): Chain {
  let chainId: number;
  do {
    const bytes = random(4);
    chainId = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  } while (chainId === avoidChainId);
  const chainKey = random(32);
  const signing = generateEd25519KeyPair(provider, random);
  return {
    chainId,
    iteration: 0,
    chainKey,
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.secretKey,
    skipped: new Map(),
  };
}

/**
 * Create the sender's own state for a group distribution: random chain id, chain key
 * and signing key, iteration 0. Randomness is drawn in that order (4, 32, 32 bytes).
 * @throws InvalidArgumentError when `distributionId` is not 16 bytes.
 * @example const mine = createSenderKey(distributionId, provider, systemRandom);
 */
export function createSenderKey(
  distributionId: Uint8Array,
  provider: CryptoProvider,
  random: RandomSource,
): SenderKeyState {
  assertBytes(distributionId, 'distributionId', DISTRIBUTION_ID_LENGTH);
  assertFunction(random, 'random');
  return new State(distributionId.slice(), [newChain(provider, random)]);
}

/**
 * Re-key: a new own state for the same distribution id with a fresh chain (new chain id,
 * chain key and signing key). Used when a member leaves: send the new distribution
 * message to the remaining members only. `state` itself is left unchanged.
 * @throws InvalidArgumentError when `state` is not the sender's own state.
 */
export function rotateSenderKey(state: SenderKeyState, provider: CryptoProvider, random: RandomSource): SenderKeyState {
  const own = internal(state);
  if (!own.canEncrypt) throw new InvalidArgumentError('state: only the sender can rotate its sender key');
  assertFunction(random, 'random');
  return new State(own.id.slice(), [newChain(provider, random, own.chainId)]);
}

/**
 * The distribution message of the sender's current chain:
 * `[1, distributionId, chainId, iteration, chainKey, signingPublicKey]`. It holds the
 * chain key: send it only inside pairwise end-to-end encrypted sessions.
 * @throws InvalidArgumentError when `state` is not the sender's own state.
 */
export function createDistributionMessage(state: SenderKeyState): Uint8Array {
  const own = internal(state);
  if (!own.canEncrypt) throw new InvalidArgumentError('state: only the sender creates distribution messages');
  const chain = own.chains[0]!;
  return encodeWire([VERSION, own.id, chain.chainId, chain.iteration, chain.chainKey, chain.signingPublicKey]);
}

interface Distribution extends SenderKeyMessageHeader {
  readonly chainKey: Uint8Array;
  readonly signingPublicKey: Uint8Array;
}

function decodeDistribution(bytes: Uint8Array): Distribution {
  return decodeWire(bytes, {
    what: 'sender key distribution message',
    versions: [VERSION],
    read: (r) => {
      const value: Distribution = {
        distributionId: r.bytes('distributionId', DISTRIBUTION_ID_LENGTH),
        chainId: r.uint('chainId', MAX_UINT32),
        iteration: r.uint('iteration', MAX_UINT32),
        chainKey: r.bytes('chainKey', 32),
        signingPublicKey: r.bytes('signingPublicKey', 32),
      };
      r.end();
      return value;
    },
  });
}

/**
 * Read the distribution id, chain id and iteration of a distribution message, e.g. to
 * find the state it belongs to.
 * @throws InvalidArgumentError when `bytes` is not a Uint8Array.
 * @throws InvalidMessageError when malformed; UnsupportedVersionError for an unknown version.
 */
export function readDistributionMessageHeader(bytes: Uint8Array): SenderKeyMessageHeader {
  assertBytes(bytes, 'bytes');
  const { distributionId, chainId, iteration } = decodeDistribution(bytes);
  return { distributionId, chainId, iteration };
}

/**
 * Receiver side: build a state from a distribution message, or add its chain to
 * `existing` (the state held for the same sender and distribution id), which is then
 * updated in place and returned. A chain already held (same chain id and signing key)
 * is kept as is, so a repeated distribution message cannot rewind it; the newest
 * {@link MAX_SENDER_KEY_CHAINS} chains are kept.
 * @throws InvalidArgumentError when `existing` is the sender's own state.
 * @throws InvalidMessageError when malformed or for another distribution id than `existing`;
 * UnsupportedVersionError for an unknown version.
 */
export function processDistributionMessage(bytes: Uint8Array, existing?: SenderKeyState): SenderKeyState {
  assertBytes(bytes, 'bytes');
  const target = existing === undefined ? undefined : internal(existing);
  if (target?.canEncrypt)
    throw new InvalidArgumentError('existing: the sender own state cannot take distribution messages');
  const d = decodeDistribution(bytes);
  const chain: Chain = {
    chainId: d.chainId,
    iteration: d.iteration,
    chainKey: d.chainKey,
    signingPublicKey: d.signingPublicKey,
    signingSecretKey: undefined,
    skipped: new Map(),
  };
  if (target === undefined) return new State(d.distributionId, [chain]);
  if (!equalBytes(target.id, d.distributionId)) {
    throw new InvalidMessageError('distribution message is for another distribution id');
  }
  const same = target.chains.findIndex((c) => c.chainId === d.chainId);
  if (same >= 0) {
    if (equalBytes(target.chains[same]!.signingPublicKey, d.signingPublicKey)) return target;
    target.chains.splice(same, 1);
  }
  target.chains.unshift(chain);
  target.chains.splice(MAX_SENDER_KEY_CHAINS);
  return target;
}

function messageKeys(provider: CryptoProvider, seed: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const okm = provider.hkdfSha256(seed, ZERO_SALT, MESSAGE_KEY_INFO, 44);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32) };
}

function associatedData(distributionId: Uint8Array, chainId: number, iteration: number): Uint8Array {
  const ad = new Uint8Array(DISTRIBUTION_ID_LENGTH + 8);
  ad.set(distributionId, 0);
  const view = new DataView(ad.buffer);
  view.setUint32(DISTRIBUTION_ID_LENGTH, chainId, false);
  view.setUint32(DISTRIBUTION_ID_LENGTH + 4, iteration, false);
  return ad;
}

function signedPart(distributionId: Uint8Array, chainId: number, iteration: number, ciphertext: Uint8Array) {
  return encodeWire([VERSION, distributionId, chainId, iteration, ciphertext]);
}

/**
 * Encrypt and sign one group message with the sender's own state, advancing its chain.
 * Wire: `[1, distributionId, chainId, iteration, ciphertext, signature]`. Pad first.
 * @throws InvalidArgumentError when `state` is not the sender's own state or the plaintext is too long.
 * @throws InvalidSessionError when the chain is exhausted (2^32 messages): rotate.
 */
export function groupEncrypt(state: SenderKeyState, plaintext: Uint8Array, provider: CryptoProvider): Uint8Array {
  const own = internal(state);
  assertBytes(plaintext, 'plaintext', { max: MAX_GROUP_PLAINTEXT });
  const chain = own.chains[0]!;
  if (chain.signingSecretKey === undefined) {
    throw new InvalidArgumentError('state: only the sender own state can encrypt');
  }
  if (chain.iteration > MAX_UINT32) throw new InvalidSessionError('sender key chain is exhausted; rotate it');
  const iteration = chain.iteration;
  const seed = provider.hmacSha256(chain.chainKey, SEED_INPUT);
  const { key, nonce } = messageKeys(provider, seed);
  const ciphertext = provider.aesGcmEncrypt(key, nonce, plaintext, associatedData(own.id, chain.chainId, iteration));
  const signature = provider.ed25519Sign(
    chain.signingSecretKey,
    signedPart(own.id, chain.chainId, iteration, ciphertext),
  );
  const next = provider.hmacSha256(chain.chainKey, CHAIN_INPUT);
  wipe(chain.chainKey);
  wipe(seed);
  wipe(key);
  chain.chainKey = next;
  chain.iteration = iteration + 1;
  return encodeWire([VERSION, own.id, chain.chainId, iteration, ciphertext, signature]);
}

interface GroupMessage extends SenderKeyMessageHeader {
  readonly ciphertext: Uint8Array;
  readonly signature: Uint8Array;
}

function decodeGroupMessage(bytes: Uint8Array): GroupMessage {
  return decodeWire(bytes, {
    what: 'sender key message',
    versions: [VERSION],
    read: (r) => {
      const value: GroupMessage = {
        distributionId: r.bytes('distributionId', DISTRIBUTION_ID_LENGTH),
        chainId: r.uint('chainId', MAX_UINT32),
        iteration: r.uint('iteration', MAX_UINT32),
        ciphertext: r.bytes('ciphertext', { min: TAG_LENGTH, max: MAX_GROUP_PLAINTEXT + TAG_LENGTH }),
        signature: r.bytes('signature', ED25519_SIGNATURE_LENGTH),
      };
      r.end();
      return value;
    },
  });
}

/**
 * Read the routing fields of a sender-key message (nothing is verified), e.g. to find
 * the state for its distribution id.
 * @throws InvalidArgumentError when `bytes` is not a Uint8Array.
 * @throws InvalidMessageError when malformed; UnsupportedVersionError for an unknown version.
 */
export function readSenderKeyMessageHeader(bytes: Uint8Array): SenderKeyMessageHeader {
  assertBytes(bytes, 'bytes');
  const { distributionId, chainId, iteration } = decodeGroupMessage(bytes);
  return { distributionId, chainId, iteration };
}

function checkLimits(limits: SenderKeyLimits): void {
  assertObject(limits, 'limits');
  assertInteger(limits.maxForwardJump, 'limits.maxForwardJump', 0, MAX_FORWARD_JUMP_CEILING);
  assertInteger(limits.maxSkippedKeys, 'limits.maxSkippedKeys', 0, MAX_STORED_SKIPPED_KEYS);
  assertInteger(limits.maxSkippedAge, 'limits.maxSkippedAge');
}

function isExpired(entry: SkippedKey, now: number, limits: SenderKeyLimits): boolean {
  return now - entry.storedAt > limits.maxSkippedAge;
}

/** Delete expired keys (oldest first, stopping at the first live one) and trim to the bound. */
function prune(chain: Chain, now: number, limits: SenderKeyLimits): void {
  for (const [iteration, entry] of chain.skipped) {
    if (chain.skipped.size > limits.maxSkippedKeys || isExpired(entry, now, limits)) {
      wipe(entry.seed);
      chain.skipped.delete(iteration);
    } else {
      break;
    }
  }
}

/**
 * Verify and decrypt a group message. Messages may arrive out of order: keys of skipped
 * iterations are kept within `limits`. On any error the state is unchanged.
 * @throws InvalidArgumentError for a wrong argument type or limits out of range.
 * @throws InvalidMessageError when malformed, for another distribution id, or when the
 * ciphertext does not authenticate; UnsupportedVersionError for an unknown version.
 * @throws NoSenderKeyError when the state holds no chain with the message's chain id.
 * @throws InvalidSignatureError when the signature does not verify (checked before anything else).
 * @throws DuplicateMessageError when the iteration was already decrypted, or its stored key
 * was evicted or expired.
 * @throws TooManySkippedError when the message lies more than `limits.maxForwardJump` ahead.
 */
export function groupDecrypt(
  state: SenderKeyState,
  message: Uint8Array,
  provider: CryptoProvider,
  clock: Clock,
  limits: SenderKeyLimits = DEFAULT_SENDER_KEY_LIMITS,
): Uint8Array {
  const st = internal(state);
  assertBytes(message, 'message');
  assertFunction(clock, 'clock');
  checkLimits(limits);
  const m = decodeGroupMessage(message);
  if (!equalBytes(m.distributionId, st.id))
    throw new InvalidMessageError('sender key message is for another distribution id');
  const chain = st.chains.find((c) => c.chainId === m.chainId);
  if (chain === undefined) throw new NoSenderKeyError(m.chainId);
  if (
    !provider.ed25519Verify(
      chain.signingPublicKey,
      signedPart(m.distributionId, m.chainId, m.iteration, m.ciphertext),
      m.signature,
    )
  ) {
    throw new InvalidSignatureError('sender key message signature does not verify');
  }
  const now = clock();
  assertInteger(now, 'clock()');
  const ad = associatedData(st.id, m.chainId, m.iteration);

  if (m.iteration < chain.iteration) {
    const entry = chain.skipped.get(m.iteration);
    if (entry === undefined || isExpired(entry, now, limits)) throw new DuplicateMessageError(m.iteration);
    const { key, nonce } = messageKeys(provider, entry.seed);
    const plaintext = provider.aesGcmDecrypt(key, nonce, m.ciphertext, ad);
    chain.skipped.delete(m.iteration);
    wipe(entry.seed);
    prune(chain, now, limits);
    return plaintext;
  }

  const jump = m.iteration - chain.iteration;
  if (jump > limits.maxForwardJump) {
    throw new TooManySkippedError(
      `message is ${jump} iterations ahead of its chain; the limit is ${limits.maxForwardJump}`,
    );
  }
  // Derive on the side and commit only once the message has authenticated.
  const stored: [number, Uint8Array][] = [];
  let chainKey = chain.chainKey;
  for (let i = chain.iteration; i < m.iteration; i++) {
    const seed = provider.hmacSha256(chainKey, SEED_INPUT);
    // Only the newest maxSkippedKeys would survive eviction anyway.
    if (m.iteration - i <= limits.maxSkippedKeys) stored.push([i, seed]);
    const next = provider.hmacSha256(chainKey, CHAIN_INPUT);
    if (chainKey !== chain.chainKey) wipe(chainKey);
    chainKey = next;
  }
  const seed = provider.hmacSha256(chainKey, SEED_INPUT);
  const { key, nonce } = messageKeys(provider, seed);
  let plaintext: Uint8Array;
  try {
    plaintext = provider.aesGcmDecrypt(key, nonce, m.ciphertext, ad);
  } catch (e) {
    for (const [, s] of stored) wipe(s);
    throw e;
  }
  const next = provider.hmacSha256(chainKey, CHAIN_INPUT);
  if (chainKey !== chain.chainKey) wipe(chainKey);
  wipe(chain.chainKey);
  wipe(seed);
  for (const [i, s] of stored) chain.skipped.set(i, { seed: s, storedAt: now });
  chain.chainKey = next;
  chain.iteration = m.iteration + 1;
  prune(chain, now, limits);
  return plaintext;
}

/**
 * Serialise a state for storage:
 * `[1, distributionId, [[chainId, iteration, chainKey, signingPublicKey, signingSecretKey | nil,
 * [[iteration, seed, storedAt]...]]...]]`, chains newest first, skipped keys oldest first.
 * It holds secrets: store it encrypted.
 * @throws InvalidArgumentError when `state` is not a SenderKeyState.
 */
export function serializeSenderKeyState(state: SenderKeyState): Uint8Array {
  const st = internal(state);
  return encodeWire([
    STATE_VERSION,
    st.id,
    st.chains.map((c) => [
      c.chainId,
      c.iteration,
      c.chainKey,
      c.signingPublicKey,
      c.signingSecretKey ?? null,
      [...c.skipped].map(([i, k]) => [i, k.seed, k.storedAt]),
    ]),
  ]);
}

function readChain(r: WireReader): Chain {
  const chainId = r.uint('chainId', MAX_UINT32);
  const iteration = r.uint('iteration', MAX_UINT32 + 1);
  const chainKey = r.bytes('chainKey', 32);
  const signingPublicKey = r.bytes('signingPublicKey', 32);
  const signingSecretKey = r.optionalBytes('signingSecretKey', 32);
  const skipped = new Map<number, SkippedKey>();
  r.array('skipped', MAX_STORED_SKIPPED_KEYS, (k) => {
    const i = k.uint('iteration', MAX_UINT32);
    const seed = k.bytes('seed', 32);
    const storedAt = k.uint('storedAt');
    k.end();
    if (i >= iteration || skipped.has(i)) throw new InvalidSessionError('sender key state: inconsistent skipped key');
    skipped.set(i, { seed, storedAt });
  });
  r.end();
  return { chainId, iteration, chainKey, signingPublicKey, signingSecretKey, skipped };
}

/**
 * Restore a state written by {@link serializeSenderKeyState}.
 * @throws InvalidArgumentError when `bytes` is not a Uint8Array.
 * @throws InvalidSessionError when the bytes are malformed or inconsistent;
 * UnsupportedVersionError for an unknown version.
 */
export function deserializeSenderKeyState(bytes: Uint8Array): SenderKeyState {
  assertBytes(bytes, 'bytes');
  return decodeWire(bytes, {
    what: 'sender key state',
    versions: [STATE_VERSION],
    error: (m) => new InvalidSessionError(m),
    read: (r) => {
      const id = r.bytes('distributionId', DISTRIBUTION_ID_LENGTH);
      const chains = r.array('chains', MAX_SENDER_KEY_CHAINS, readChain);
      r.end();
      if (chains.length === 0) throw new InvalidSessionError('sender key state: no chain');
      if (new Set(chains.map((c) => c.chainId)).size !== chains.length) {
        throw new InvalidSessionError('sender key state: repeated chain id');
      }
      // The sender's own state holds exactly one chain, with its signing secret.
      if (chains.some((c) => c.signingSecretKey !== undefined) && chains.length !== 1) {
        throw new InvalidSessionError('sender key state: signing secret in a receiver state');
      }
      return new State(id, chains);
    },
  });
}
