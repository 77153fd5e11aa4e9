/**
 * Key types and their canonical encodings. Wherever a public key enters a KDF,
 * associated data or a signature it is `Encode(PK)` = one type byte || raw key, so a
 * key of one type can never be confused with another (as PQXDH section 2.5 requires).
 */
import { assertBytes, assertFunction, assertProvider } from './assert.js';
import { concatBytes } from './bytes.js';
import { InvalidKeyError } from './errors.js';
import type { CryptoProvider } from './provider/provider.js';
import type { RandomSource } from './random.js';

/** Type bytes of encoded public keys. X25519 uses libsignal's 0x05 (DJB). */
export const KeyType = {
  X25519: 0x05,
  Ed25519: 0x06,
  MlKem1024: 0x0a,
} as const;

export const X25519_KEY_LENGTH = 32;
export const ED25519_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;
export const ML_KEM_1024_PUBLIC_KEY_LENGTH = 1568;
export const ML_KEM_1024_SECRET_KEY_LENGTH = 3168;
export const ML_KEM_1024_CIPHERTEXT_LENGTH = 1568;

/** An X25519 key pair (raw 32-byte keys). */
export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** An Ed25519 key pair (32-byte secret seed, 32-byte public key). */
export interface Ed25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** Generate an X25519 key pair from the given randomness. */
export function generateX25519KeyPair(provider: CryptoProvider, random: RandomSource): X25519KeyPair {
  assertProvider(provider);
  assertFunction(random, 'random');
  const privateKey = random(32);
  return { privateKey, publicKey: provider.x25519PublicKey(privateKey) };
}

/** Generate an Ed25519 key pair from the given randomness. */
export function generateEd25519KeyPair(provider: CryptoProvider, random: RandomSource): Ed25519KeyPair {
  assertProvider(provider);
  assertFunction(random, 'random');
  const secretKey = random(32);
  return { secretKey, publicKey: provider.ed25519PublicKey(secretKey) };
}

/**
 * `Encode(PK)`: type byte || raw public key.
 * @throws InvalidKeyError when the raw key has the wrong length for its type.
 */
export function encodePublicKey(type: (typeof KeyType)[keyof typeof KeyType], raw: Uint8Array): Uint8Array {
  assertBytes(raw, 'publicKey');
  const expected = type === KeyType.MlKem1024 ? ML_KEM_1024_PUBLIC_KEY_LENGTH : 32;
  if (raw.length !== expected) throw new InvalidKeyError(`public key of type ${type} must be ${expected} bytes`);
  return concatBytes(Uint8Array.of(type), raw);
}

/**
 * Parse an encoded public key of an expected type.
 * @throws InvalidKeyError on a wrong type byte or length.
 */
export function decodePublicKey(type: (typeof KeyType)[keyof typeof KeyType], encoded: Uint8Array): Uint8Array {
  assertBytes(encoded, 'encodedPublicKey');
  const expected = (type === KeyType.MlKem1024 ? ML_KEM_1024_PUBLIC_KEY_LENGTH : 32) + 1;
  if (encoded.length !== expected || encoded[0] !== type) {
    throw new InvalidKeyError(`expected an encoded key of type ${type} (${expected} bytes)`);
  }
  return encoded.slice(1);
}
