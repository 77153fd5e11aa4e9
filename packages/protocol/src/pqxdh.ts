/**
 * PQXDH (Signal, revision 3) with curve X25519, hash SHA-256, pqkem ML-KEM-1024 and
 * AEAD AES-256-GCM. One difference from the Signal spec: identity keys are Ed25519
 * device keys that sign prekeys with plain Ed25519 (not XEdDSA); their X25519 forms
 * (birational map) take part in the DHs. See docs/PROTOCOL.md section "PQXDH".
 */
import { assertBytes, assertFunction, assertInteger, assertProvider } from './assert.js';
import { bytesToHex, equalBytes, utf8ToBytes, wipe } from './bytes.js';
import { InvalidArgumentError, InvalidPrekeyError } from './errors.js';
import {
  type Ed25519KeyPair,
  encodePublicKey,
  KeyType,
  ML_KEM_1024_CIPHERTEXT_LENGTH,
  ML_KEM_1024_SECRET_KEY_LENGTH,
} from './keys.js';
import {
  type KemPreKey,
  MAX_PREKEY_ID,
  type OneTimePreKey,
  type PreKeyBundle,
  type PreKeyLookup,
  type SignedPreKey,
  verifyPreKeyBundle,
} from './prekeys.js';
import type { CryptoProvider } from './provider/provider.js';
import type { RandomSource } from './random.js';

/** HKDF info of the PQXDH KDF. */
export const PQXDH_INFO = 'VAULTEX_X25519_SHA-256_ML-KEM-1024';
const INFO_BYTES = utf8ToBytes(PQXDH_INFO);
/** Length of the shared secret SK. */
export const PQXDH_SECRET_LENGTH = 32;
/** Length of the associated data AD = Encode(IKa) || Encode(IKb). */
export const PQXDH_AD_LENGTH = 66;
const SALT = new Uint8Array(32);
const F_LENGTH = 32;

/** What the initiator learns: SK, AD and the values its initial message must carry. */
export interface PqxdhInitiation {
  readonly sharedSecret: Uint8Array;
  readonly associatedData: Uint8Array;
  /** The initiator's ephemeral public key EKa (its private half is already wiped). */
  readonly baseKey: Uint8Array;
  readonly kemCiphertext: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number | undefined;
  readonly kemPreKeyId: number;
  /** Bob's signed prekey: his first ratchet public key. */
  readonly remoteSignedPreKey: Uint8Array;
  readonly remoteIdentityKey: Uint8Array;
}

/** The PQXDH fields of an initial message, as the responder receives them. */
export interface PqxdhInitialMessage {
  /** Initiator's Ed25519 identity key. */
  readonly identityKey: Uint8Array;
  /** Initiator's ephemeral X25519 key EKa. */
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId: number | undefined;
  readonly kemPreKeyId: number;
  readonly kemCiphertext: Uint8Array;
}

/** What the responder learns: SK, AD and the prekeys the message consumed. */
export interface PqxdhResponse {
  readonly sharedSecret: Uint8Array;
  readonly associatedData: Uint8Array;
  readonly signedPreKey: SignedPreKey;
  readonly oneTimePreKey: OneTimePreKey | undefined;
  readonly kemPreKey: KemPreKey;
}

/*
 * The X25519 forms of identity keys are cached: the secret one per key array (the
 * Ed25519 seed is hashed once, and the same output array lets the Node provider reuse
 * its KeyObject), the public one per key value in a small bounded map (peers are few,
 * the Edwards-to-Montgomery map costs a field inversion). Caches are per provider so
 * that each provider computes its own forms.
 */
const secretForms = new WeakMap<CryptoProvider, WeakMap<Uint8Array, { seed: Uint8Array; x: Uint8Array }>>();
const publicForms = new WeakMap<CryptoProvider, Map<string, Uint8Array>>();
const PUBLIC_CACHE_SIZE = 256;

function x25519Secret(provider: CryptoProvider, secretKey: Uint8Array): Uint8Array {
  let cache = secretForms.get(provider);
  if (!cache) {
    cache = new WeakMap();
    secretForms.set(provider, cache);
  }
  const hit = cache.get(secretKey);
  if (hit && equalBytes(hit.seed, secretKey)) return hit.x;
  const x = provider.ed25519SecretToX25519(secretKey);
  cache.set(secretKey, { seed: secretKey.slice(), x });
  return x;
}

function x25519Public(provider: CryptoProvider, publicKey: Uint8Array): Uint8Array {
  let cache = publicForms.get(provider);
  if (!cache) {
    cache = new Map();
    publicForms.set(provider, cache);
  }
  const id = bytesToHex(publicKey);
  const hit = cache.get(id);
  if (hit) return hit;
  const x = provider.ed25519PublicToX25519(publicKey);
  if (cache.size >= PUBLIC_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(id, x);
  return x;
}

/**
 * AD = Encode(IKa) || Encode(IKb), both as Ed25519 keys; the initiator's key comes first.
 * @throws InvalidArgumentError or InvalidKeyError when a key is not 32 bytes.
 */
export function pqxdhAssociatedData(initiator: Uint8Array, responder: Uint8Array): Uint8Array {
  const out = new Uint8Array(PQXDH_AD_LENGTH);
  out.set(encodePublicKey(KeyType.Ed25519, initiator), 0);
  out.set(encodePublicKey(KeyType.Ed25519, responder), 33);
  return out;
}

/** KDF(F || DH1 || DH2 || DH3 [|| DH4] || SS); wipes its inputs and the concatenation. */
function deriveSecret(parts: Uint8Array[], provider: CryptoProvider): Uint8Array {
  let length = F_LENGTH;
  for (const part of parts) length += part.length;
  const ikm = new Uint8Array(length).fill(0xff, 0, F_LENGTH);
  let offset = F_LENGTH;
  for (const part of parts) {
    ikm.set(part, offset);
    offset += part.length;
    wipe(part);
  }
  const sk = provider.hkdfSha256(ikm, SALT, INFO_BYTES, PQXDH_SECRET_LENGTH);
  wipe(ikm);
  return sk;
}

function assertLocal(local: Ed25519KeyPair): void {
  if (typeof local !== 'object' || local === null) throw new InvalidArgumentError('local: expected key pair');
  assertBytes(local.secretKey, 'local.secretKey', 32);
  assertBytes(local.publicKey, 'local.publicKey', 32);
}

/**
 * Alice's side: verify Bob's bundle, then derive SK and AD. Randomness is drawn in this
 * order: 32 bytes for EKa, 32 bytes for the ML-KEM encapsulation.
 * @throws InvalidSignatureError when a bundle signature fails (before any DH is done);
 *   InvalidKeyError for an invalid or low-order key; InvalidArgumentError for malformed input.
 */
export function initiatePqxdh(
  local: Ed25519KeyPair,
  bundle: PreKeyBundle,
  provider: CryptoProvider,
  random: RandomSource,
): PqxdhInitiation {
  assertLocal(local);
  assertProvider(provider);
  assertFunction(random, 'random');
  verifyPreKeyBundle(bundle, provider);
  const ika = x25519Secret(provider, local.secretKey);
  const ikb = x25519Public(provider, bundle.identityKey);
  const spk = bundle.signedPreKey.publicKey;
  const ek = random(32);
  try {
    const baseKey = provider.x25519PublicKey(ek);
    const parts = [provider.x25519(ika, spk), provider.x25519(ek, ikb), provider.x25519(ek, spk)];
    if (bundle.oneTimePreKey) parts.push(provider.x25519(ek, bundle.oneTimePreKey.publicKey));
    const m = random(32);
    const { cipherText, sharedSecret } = provider.mlKem1024Encapsulate(bundle.kemPreKey.publicKey, m);
    wipe(m);
    parts.push(sharedSecret);
    return {
      sharedSecret: deriveSecret(parts, provider),
      associatedData: pqxdhAssociatedData(local.publicKey, bundle.identityKey),
      baseKey,
      kemCiphertext: cipherText,
      signedPreKeyId: bundle.signedPreKey.id,
      oneTimePreKeyId: bundle.oneTimePreKey?.id,
      kemPreKeyId: bundle.kemPreKey.id,
      remoteSignedPreKey: spk,
      remoteIdentityKey: bundle.identityKey,
    };
  } finally {
    wipe(ek);
  }
}

function lookup<T>(what: string, id: number, get: (id: number) => T | undefined): T {
  const key = get(id);
  if (key === undefined || key === null) throw new InvalidPrekeyError(`${what} ${id} is not held`);
  return key;
}

/**
 * Bob's side: look up the prekeys the message names, then derive SK and AD. The caller
 * deletes a consumed one-time prekey and a consumed non-last-resort KEM prekey.
 * @throws InvalidPrekeyError when a named prekey is not held; InvalidKeyError for an
 *   invalid or low-order key; InvalidArgumentError for malformed input or a malformed
 *   record returned by the lookup.
 */
export function respondPqxdh(
  local: Ed25519KeyPair,
  message: PqxdhInitialMessage,
  prekeys: PreKeyLookup,
  provider: CryptoProvider,
): PqxdhResponse {
  assertLocal(local);
  assertProvider(provider);
  assertBytes(message?.identityKey, 'message.identityKey', 32);
  assertBytes(message.baseKey, 'message.baseKey', 32);
  assertInteger(message.signedPreKeyId, 'message.signedPreKeyId', 0, MAX_PREKEY_ID);
  if (message.oneTimePreKeyId !== undefined) {
    assertInteger(message.oneTimePreKeyId, 'message.oneTimePreKeyId', 0, MAX_PREKEY_ID);
  }
  assertInteger(message.kemPreKeyId, 'message.kemPreKeyId', 0, MAX_PREKEY_ID);
  assertBytes(message.kemCiphertext, 'message.kemCiphertext', ML_KEM_1024_CIPHERTEXT_LENGTH);
  if (typeof prekeys !== 'object' || prekeys === null) throw new InvalidArgumentError('prekeys: expected lookup');

  const signedPreKey = lookup('signed prekey', message.signedPreKeyId, (id) => prekeys.signedPreKey(id));
  const oneTimePreKey =
    message.oneTimePreKeyId === undefined
      ? undefined
      : lookup('one-time prekey', message.oneTimePreKeyId, (id) => prekeys.oneTimePreKey(id));
  const kemPreKey = lookup('kem prekey', message.kemPreKeyId, (id) => prekeys.kemPreKey(id));
  // The lookup is the caller's store: a malformed record is misuse, reported before any DH.
  assertBytes(signedPreKey.keyPair?.privateKey, 'signedPreKey.keyPair.privateKey', 32);
  if (oneTimePreKey) assertBytes(oneTimePreKey.keyPair?.privateKey, 'oneTimePreKey.keyPair.privateKey', 32);
  assertBytes(kemPreKey.keyPair?.secretKey, 'kemPreKey.keyPair.secretKey', ML_KEM_1024_SECRET_KEY_LENGTH);
  if (typeof kemPreKey.lastResort !== 'boolean')
    throw new InvalidArgumentError('kemPreKey.lastResort: expected boolean');

  const ikb = x25519Secret(provider, local.secretKey);
  const ika = x25519Public(provider, message.identityKey);
  const ek = message.baseKey;
  const spk = signedPreKey.keyPair.privateKey;
  const parts = [provider.x25519(spk, ika), provider.x25519(ikb, ek), provider.x25519(spk, ek)];
  if (oneTimePreKey) parts.push(provider.x25519(oneTimePreKey.keyPair.privateKey, ek));
  parts.push(provider.mlKem1024Decapsulate(message.kemCiphertext, kemPreKey.keyPair.secretKey));
  return {
    sharedSecret: deriveSecret(parts, provider),
    associatedData: pqxdhAssociatedData(message.identityKey, local.publicKey),
    signedPreKey,
    oneTimePreKey,
    kemPreKey,
  };
}
