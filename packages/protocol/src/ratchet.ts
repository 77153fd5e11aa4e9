/**
 * The Double Ratchet (Signal spec, section 3, without header encryption): an HKDF root
 * chain, HMAC sending and receiving chains, AES-256-GCM with the session AD and the
 * header as associated data. Skipped message keys are bounded per chain and in total,
 * and expire. See docs/PROTOCOL.md section "Double Ratchet".
 *
 * Decryption is transactional: everything is derived into locals, the AEAD is opened,
 * and only then is the state changed. A failed decrypt leaves the state untouched.
 *
 * The sending half of a DH ratchet step is deferred to the next encrypt: receiving a new
 * ratchet key derives the receiving chain and wipes our old ratchet private key at once;
 * the new key pair is drawn when there is something to send. The messages are exactly
 * those of the spec's eager order, decryption never draws randomness, and a stolen state
 * holds no ratchet private key between a receive and the next send.
 */
import { assertBytes, assertInteger, assertProvider } from './assert.js';
import { bytesToHex, equalBytes, utf8ToBytes, wipe } from './bytes.js';
import {
  DuplicateMessageError,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidSessionError,
  TooManySkippedError,
} from './errors.js';
import { generateX25519KeyPair, type X25519KeyPair } from './keys.js';
import type { CryptoProvider } from './provider/provider.js';
import type { Clock, RandomSource } from './random.js';

/** Bounds on what a session keeps for out-of-order messages. */
export interface RatchetLimits {
  /** Most message keys one message may skip in one chain (the spec's MAX_SKIP). */
  readonly maxSkip: number;
  /** Most skipped message keys kept in total; the oldest are evicted first. */
  readonly maxSkippedKeys: number;
  /** A skipped message key older than this (milliseconds, by the injected Clock) is dropped. */
  readonly skippedKeyMaxAge: number;
  /** Receiving chains remembered after they end, so that a late message on one is a duplicate. */
  readonly maxPreviousChains: number;
}

/** Defaults: 1000 per chain, 2000 in total, 30 days, 5 previous chains. */
export const DEFAULT_RATCHET_LIMITS: RatchetLimits = Object.freeze({
  maxSkip: 1000,
  maxSkippedKeys: 2000,
  skippedKeyMaxAge: 30 * 24 * 60 * 60 * 1000,
  maxPreviousChains: 5,
});

/** Hard caps on stored state, whatever the configured limits. */
export const MAX_STORED_SKIPPED_KEYS = 100_000;
export const MAX_STORED_PREVIOUS_CHAINS = 64;
/** Largest message number in a header (u32). */
export const MAX_MESSAGE_NUMBER = 0xffff_ffff;
/** Length of the header bytes appended to the session AD: 0x01 || dh || u32be(pn) || u32be(n). */
export const RATCHET_HEADER_LENGTH = 41;

/**
 * Merge partial limits over the defaults and check them.
 * @throws InvalidArgumentError for a limit that is not a non-negative integer in range.
 */
export function resolveRatchetLimits(limits?: Partial<RatchetLimits>): RatchetLimits {
  if (limits === undefined) return DEFAULT_RATCHET_LIMITS;
  if (typeof limits !== 'object' || limits === null) throw new InvalidArgumentError('limits: expected object');
  const out = { ...DEFAULT_RATCHET_LIMITS, ...limits };
  assertInteger(out.maxSkip, 'limits.maxSkip', 0, MAX_MESSAGE_NUMBER);
  assertInteger(out.maxSkippedKeys, 'limits.maxSkippedKeys', 0, MAX_STORED_SKIPPED_KEYS);
  assertInteger(out.skippedKeyMaxAge, 'limits.skippedKeyMaxAge', 0);
  assertInteger(out.maxPreviousChains, 'limits.maxPreviousChains', 0, MAX_STORED_PREVIOUS_CHAINS);
  return Object.freeze(out);
}

const RATCHET_INFO = utf8ToBytes('VAULTEX_Ratchet');
const MESSAGE_KEYS_INFO = utf8ToBytes('VAULTEX_MessageKeys');
const ZERO_SALT = new Uint8Array(32);
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

// Unchecked forms for the hot paths; the exported ones below check their arguments.
function rootStep(provider: CryptoProvider, rootKey: Uint8Array, dh: Uint8Array): [Uint8Array, Uint8Array] {
  const out = provider.hkdfSha256(dh, rootKey, RATCHET_INFO, 64);
  const keys: [Uint8Array, Uint8Array] = [out.slice(0, 32), out.slice(32, 64)];
  wipe(out);
  return keys;
}

function chainStep(provider: CryptoProvider, chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  return [provider.hmacSha256(chainKey, MESSAGE_KEY_SEED), provider.hmacSha256(chainKey, CHAIN_KEY_SEED)];
}

function expand(provider: CryptoProvider, messageKey: Uint8Array): Uint8Array {
  return provider.hkdfSha256(messageKey, ZERO_SALT, MESSAGE_KEYS_INFO, 44);
}

/**
 * KDF_RK: HKDF(dh, salt = rk, info "VAULTEX_Ratchet", 64) split into (root key, chain key).
 * @throws InvalidArgumentError unless both inputs are 32 bytes.
 */
export function kdfRootKey(provider: CryptoProvider, rootKey: Uint8Array, dh: Uint8Array): [Uint8Array, Uint8Array] {
  assertProvider(provider);
  assertBytes(rootKey, 'rootKey', 32);
  assertBytes(dh, 'dh', 32);
  return rootStep(provider, rootKey, dh);
}

/**
 * KDF_CK: message key = HMAC(ck, 0x01), next chain key = HMAC(ck, 0x02).
 * @throws InvalidArgumentError unless the chain key is 32 bytes.
 */
export function kdfChainKey(provider: CryptoProvider, chainKey: Uint8Array): [Uint8Array, Uint8Array] {
  assertProvider(provider);
  assertBytes(chainKey, 'chainKey', 32);
  return chainStep(provider, chainKey);
}

/**
 * Message key expansion: HKDF(mk, 32 zero bytes, "VAULTEX_MessageKeys", 44) = AES key (32) || nonce (12).
 * @throws InvalidArgumentError unless the message key is 32 bytes.
 */
export function expandMessageKey(provider: CryptoProvider, messageKey: Uint8Array): Uint8Array {
  assertProvider(provider);
  assertBytes(messageKey, 'messageKey', 32);
  return expand(provider, messageKey);
}

/** A sending or receiving chain: its current key and the number of the next message. */
export interface ChainState {
  key: Uint8Array;
  index: number;
}

/** A message key kept for a message that has not arrived yet. */
export interface SkippedKey {
  readonly remoteKey: Uint8Array;
  readonly index: number;
  readonly messageKey: Uint8Array;
  /** Clock time when it was stored; it expires `skippedKeyMaxAge` later. */
  readonly createdAt: number;
}

/** A receiving chain that has ended: messages on it below `end` without a stored key are duplicates. */
export interface PreviousChain {
  readonly remoteKey: Uint8Array;
  readonly end: number;
}

/** The complete ratchet state, as (de)serialised by the session. */
export interface RatchetFields {
  readonly associatedData: Uint8Array;
  rootKey: Uint8Array;
  /** Our ratchet key pair; undefined between a receiving step and the next encrypt. */
  sendingKeyPair: X25519KeyPair | undefined;
  remoteRatchetKey: Uint8Array | undefined;
  sending: ChainState | undefined;
  receiving: ChainState | undefined;
  previousCounter: number;
  previousChains: PreviousChain[];
  skipped: SkippedKey[];
}

/** Environment of a ratchet. */
export interface RatchetDeps {
  readonly provider: CryptoProvider;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly limits: RatchetLimits;
}

/** One encrypted ratchet message: header fields and AEAD output. */
export interface RatchetMessage {
  readonly dh: Uint8Array;
  readonly pn: number;
  readonly n: number;
  readonly ciphertext: Uint8Array;
}

function skippedId(remoteKey: Uint8Array, index: number): string {
  return bytesToHex(remoteKey) + index;
}

/** Derive `count` message keys from `chainKey` (not wiped); returns them and the chain key after them. */
function advance(
  provider: CryptoProvider,
  chainKey: Uint8Array,
  count: number,
): { keys: Uint8Array[]; chainKey: Uint8Array } {
  const keys: Uint8Array[] = [];
  let ck = chainKey;
  for (let i = 0; i < count; i++) {
    const [mk, next] = chainStep(provider, ck);
    if (ck !== chainKey) wipe(ck);
    keys.push(mk);
    ck = next;
  }
  return { keys, chainKey: ck };
}

function wipeAll(keys: Uint8Array[] | undefined): void {
  if (keys) for (const k of keys) wipe(k);
}

/**
 * A Double Ratchet with its state. Used through {@link Session}; exported for the
 * session code only (not part of the package's public entry point).
 */
export class Ratchet {
  private rootKey: Uint8Array;
  private sendingKeyPair: X25519KeyPair | undefined;
  private remoteRatchetKey: Uint8Array | undefined;
  private sending: ChainState | undefined;
  private receiving: ChainState | undefined;
  private previousCounter: number;
  private previousChains: PreviousChain[];
  /** Keyed by hex(remote key) + index; Map order is insertion order, i.e. oldest first. */
  private readonly skipped = new Map<string, SkippedKey>();
  private readonly adLength: number;
  /** AD || header, reused for every message: only the header part is rewritten. */
  private readonly aad: Uint8Array;
  private readonly aadView: DataView;
  private readonly deps: RatchetDeps;
  /** The clock reading of the current decrypt, taken at most once and only when needed. */
  private now: number | undefined;
  /** Bound once: a closure per decrypt would be allocated on every message. */
  private readonly time: () => number;

  constructor(fields: RatchetFields, deps: RatchetDeps) {
    this.deps = deps;
    this.time = () => {
      this.now ??= this.deps.clock();
      return this.now;
    };
    this.rootKey = fields.rootKey;
    this.sendingKeyPair = fields.sendingKeyPair;
    this.remoteRatchetKey = fields.remoteRatchetKey;
    this.sending = fields.sending;
    this.receiving = fields.receiving;
    this.previousCounter = fields.previousCounter;
    const maxPrevious = deps.limits.maxPreviousChains;
    this.previousChains = maxPrevious === 0 ? [] : fields.previousChains.slice(-maxPrevious);
    for (const entry of fields.skipped) {
      const id = skippedId(entry.remoteKey, entry.index);
      if (this.skipped.has(id)) throw new InvalidSessionError('session state repeats a skipped message key');
      this.skipped.set(id, entry);
    }
    this.evict();
    this.adLength = fields.associatedData.length;
    this.aad = new Uint8Array(this.adLength + RATCHET_HEADER_LENGTH);
    this.aad.set(fields.associatedData, 0);
    this.aad[this.adLength] = 0x01;
    this.aadView = new DataView(this.aad.buffer);
  }

  /**
   * RatchetInitAlice: a fresh ratchet key pair, DHr = Bob's signed prekey, and the first
   * sending chain from KDF_RK(SK, DH(DHs, SPKb)).
   */
  static initAlice(sharedSecret: Uint8Array, associatedData: Uint8Array, remoteKey: Uint8Array, deps: RatchetDeps) {
    const sendingKeyPair = generateX25519KeyPair(deps.provider, deps.random);
    const dh = deps.provider.x25519(sendingKeyPair.privateKey, remoteKey);
    const [rootKey, chainKey] = rootStep(deps.provider, sharedSecret, dh);
    wipe(dh);
    return new Ratchet(
      {
        associatedData,
        rootKey,
        sendingKeyPair,
        remoteRatchetKey: remoteKey.slice(),
        sending: { key: chainKey, index: 0 },
        receiving: undefined,
        previousCounter: 0,
        previousChains: [],
        skipped: [],
      },
      deps,
    );
  }

  /** RatchetInitBob: DHs = the signed prekey pair, RK = SK, no chains yet. */
  static initBob(sharedSecret: Uint8Array, associatedData: Uint8Array, signedPreKey: X25519KeyPair, deps: RatchetDeps) {
    return new Ratchet(
      {
        associatedData,
        rootKey: sharedSecret,
        sendingKeyPair: { publicKey: signedPreKey.publicKey.slice(), privateKey: signedPreKey.privateKey.slice() },
        remoteRatchetKey: undefined,
        sending: undefined,
        receiving: undefined,
        previousCounter: 0,
        previousChains: [],
        skipped: [],
      },
      deps,
    );
  }

  /** A snapshot of the state for serialisation (shares the arrays; do not mutate). */
  fields(): RatchetFields {
    return {
      associatedData: this.aad.subarray(0, this.adLength),
      rootKey: this.rootKey,
      sendingKeyPair: this.sendingKeyPair,
      remoteRatchetKey: this.remoteRatchetKey,
      sending: this.sending,
      receiving: this.receiving,
      previousCounter: this.previousCounter,
      previousChains: this.previousChains,
      skipped: [...this.skipped.values()],
    };
  }

  private header(dh: Uint8Array, pn: number, n: number): Uint8Array {
    this.aad.set(dh, this.adLength + 1);
    this.aadView.setUint32(this.adLength + 33, pn, false);
    this.aadView.setUint32(this.adLength + 37, n, false);
    return this.aad;
  }

  /** The deferred sending half of a DH ratchet step: a new key pair and a new sending chain. */
  private startSendingChain(): { chain: ChainState; keyPair: X25519KeyPair } {
    const remote = this.remoteRatchetKey;
    if (remote === undefined) throw new InvalidSessionError('session has no sending chain yet');
    const { provider } = this.deps;
    const keyPair = generateX25519KeyPair(provider, this.deps.random);
    const dh = provider.x25519(keyPair.privateKey, remote);
    const [rootKey, chainKey] = rootStep(provider, this.rootKey, dh);
    wipe(dh);
    wipe(this.rootKey);
    this.rootKey = rootKey;
    const chain = { key: chainKey, index: 0 };
    this.sending = chain;
    this.sendingKeyPair = keyPair;
    return { chain, keyPair };
  }

  /**
   * Encrypt with the next key of the sending chain (starting a new chain first if a
   * ratchet key was received since the last send).
   * @throws InvalidSessionError when there is no sending chain yet or the chain is exhausted.
   */
  encrypt(plaintext: Uint8Array): RatchetMessage {
    let chain = this.sending;
    let keyPair = this.sendingKeyPair;
    if (chain === undefined || keyPair === undefined) ({ chain, keyPair } = this.startSendingChain());
    if (chain.index > MAX_MESSAGE_NUMBER) throw new InvalidSessionError('sending chain is exhausted');
    const { provider } = this.deps;
    const mk = provider.hmacSha256(chain.key, MESSAGE_KEY_SEED);
    const next = provider.hmacSha256(chain.key, CHAIN_KEY_SEED);
    const keys = expand(provider, mk);
    const dh = keyPair.publicKey;
    const n = chain.index;
    const pn = this.previousCounter;
    const ciphertext = provider.aesGcmEncrypt(
      keys.subarray(0, 32),
      keys.subarray(32, 44),
      plaintext,
      this.header(dh, pn, n),
    );
    wipe(keys);
    wipe(mk);
    wipe(chain.key);
    chain.key = next;
    chain.index = n + 1;
    return { dh, pn, n, ciphertext };
  }

  private open(messageKey: Uint8Array, dh: Uint8Array, pn: number, n: number, ciphertext: Uint8Array): Uint8Array {
    const keys = expand(this.deps.provider, messageKey);
    try {
      return this.deps.provider.aesGcmDecrypt(
        keys.subarray(0, 32),
        keys.subarray(32, 44),
        ciphertext,
        this.header(dh, pn, n),
      );
    } finally {
      wipe(keys);
    }
  }

  /**
   * Decrypt one message. On any failure the state is unchanged.
   * @throws DuplicateMessageError when the message's key was already used (or expired, see
   *   docs); TooManySkippedError beyond `maxSkip`; InvalidMessageError when it does not
   *   authenticate; InvalidKeyError for a low-order ratchet key. Never draws randomness.
   *   Keeps `message.dh`, which must be an array the caller does not reuse or mutate.
   */
  decrypt(message: RatchetMessage): Uint8Array {
    const { dh, pn, n } = message;
    this.now = undefined;
    const time = this.time;

    if (this.skipped.size > 0) {
      const id = skippedId(dh, n);
      const entry = this.skipped.get(id);
      if (entry !== undefined && time() - entry.createdAt < this.deps.limits.skippedKeyMaxAge) {
        const plaintext = this.open(entry.messageKey, dh, pn, n, message.ciphertext);
        this.skipped.delete(id);
        wipe(entry.messageKey);
        this.expire(time());
        return plaintext;
      }
    }

    const receiving = this.receiving;
    if (receiving !== undefined && this.remoteRatchetKey !== undefined && equalBytes(dh, this.remoteRatchetKey)) {
      return this.decryptCurrent(message, receiving, time);
    }
    for (const chain of this.previousChains) {
      if (equalBytes(chain.remoteKey, dh)) {
        if (n < chain.end) throw new DuplicateMessageError(n);
        throw new InvalidMessageError('message lies beyond the end of a finished chain');
      }
    }
    return this.decryptNewChain(message, time);
  }

  private decryptCurrent(message: RatchetMessage, receiving: ChainState, time: () => number): Uint8Array {
    const { dh, pn, n } = message;
    const { provider, limits } = this.deps;
    if (n < receiving.index) throw new DuplicateMessageError(n);
    if (n - receiving.index > limits.maxSkip) {
      throw new TooManySkippedError(`message skips ${n - receiving.index} keys (limit ${limits.maxSkip})`);
    }
    const gap = n - receiving.index;
    const skipped = gap > 0 ? advance(provider, receiving.key, gap) : undefined;
    const base = skipped ? skipped.chainKey : receiving.key;
    const [mk, next] = chainStep(provider, base);
    let plaintext: Uint8Array;
    try {
      plaintext = this.open(mk, dh, pn, n, message.ciphertext);
    } catch (e) {
      wipeAll(skipped?.keys);
      if (skipped) wipe(skipped.chainKey);
      wipe(next);
      throw e;
    } finally {
      wipe(mk);
    }
    // Commit.
    if (skipped) {
      this.store(dh, receiving.index, skipped.keys, time());
      wipe(skipped.chainKey);
    }
    wipe(receiving.key);
    receiving.key = next;
    receiving.index = n + 1;
    if (this.skipped.size > 0) this.expire(time());
    return plaintext;
  }

  private decryptNewChain(message: RatchetMessage, time: () => number): Uint8Array {
    const { dh, pn, n } = message;
    const { provider, limits } = this.deps;
    const old = this.receiving;
    const oldGap = old !== undefined && pn > old.index ? pn - old.index : 0;
    if (oldGap > limits.maxSkip) throw new TooManySkippedError(`message skips ${oldGap} keys of the previous chain`);
    if (n > limits.maxSkip) throw new TooManySkippedError(`message skips ${n} keys (limit ${limits.maxSkip})`);

    const keyPair = this.sendingKeyPair;
    // Only a reply to our current ratchet key can start a chain; we have none until we send again.
    if (keyPair === undefined) throw new InvalidMessageError('message starts a chain we did not answer yet');
    const dhReceive = provider.x25519(keyPair.privateKey, dh);
    const [rootKey1, receiveKey] = rootStep(provider, this.rootKey, dhReceive);
    wipe(dhReceive);
    const oldSkipped = old !== undefined && oldGap > 0 ? advance(provider, old.key, oldGap) : undefined;
    const newSkipped = n > 0 ? advance(provider, receiveKey, n) : undefined;
    const [mk, next] = chainStep(provider, newSkipped ? newSkipped.chainKey : receiveKey);
    let plaintext: Uint8Array;
    try {
      plaintext = this.open(mk, dh, pn, n, message.ciphertext);
    } catch (e) {
      wipe(rootKey1);
      wipe(next);
      wipeAll(oldSkipped?.keys);
      wipeAll(newSkipped?.keys);
      throw e;
    } finally {
      wipe(mk);
      wipe(receiveKey);
      if (oldSkipped) wipe(oldSkipped.chainKey);
      if (newSkipped) wipe(newSkipped.chainKey);
    }

    // Commit.
    if (old !== undefined && this.remoteRatchetKey !== undefined) {
      if (oldSkipped) this.store(this.remoteRatchetKey, old.index, oldSkipped.keys, time());
      this.previousChains.push({ remoteKey: this.remoteRatchetKey, end: Math.max(old.index, pn) });
      if (this.previousChains.length > limits.maxPreviousChains) {
        this.previousChains.splice(0, this.previousChains.length - limits.maxPreviousChains);
      }
      wipe(old.key);
    }
    if (newSkipped) this.store(dh, 0, newSkipped.keys, time());
    this.previousCounter = this.sending ? this.sending.index : 0;
    if (this.sending) wipe(this.sending.key);
    this.sending = undefined;
    wipe(keyPair.privateKey);
    this.sendingKeyPair = undefined;
    // Kept as is (the decoder's own copy): the Node provider caches its key object by array.
    this.remoteRatchetKey = dh;
    this.receiving = { key: next, index: n + 1 };
    wipe(this.rootKey);
    this.rootKey = rootKey1;
    if (this.skipped.size > 0) this.expire(time());
    return plaintext;
  }

  private store(key: Uint8Array, firstIndex: number, keys: Uint8Array[], createdAt: number): void {
    for (let i = 0; i < keys.length; i++) {
      const index = firstIndex + i;
      this.skipped.set(skippedId(key, index), { remoteKey: key, index, messageKey: keys[i]!, createdAt });
    }
    this.evict();
  }

  /** Evict the oldest keys beyond the total bound. */
  private evict(): void {
    let excess = this.skipped.size - this.deps.limits.maxSkippedKeys;
    if (excess <= 0) return;
    for (const [id, entry] of this.skipped) {
      if (excess-- <= 0) break;
      wipe(entry.messageKey);
      this.skipped.delete(id);
    }
  }

  /** Drop expired keys. They were stored in time order, so stop at the first live one. */
  private expire(now: number): void {
    if (this.skipped.size === 0) return;
    const maxAge = this.deps.limits.skippedKeyMaxAge;
    for (const [id, entry] of this.skipped) {
      if (now - entry.createdAt < maxAge) break;
      wipe(entry.messageKey);
      this.skipped.delete(id);
    }
  }
}
