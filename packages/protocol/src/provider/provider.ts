/**
 * The one interface through which @vaultex/protocol reaches cryptographic primitives.
 * Two implementations exist: {@link nobleProvider} (pure TypeScript, runs everywhere)
 * and the Node provider (`@vaultex/protocol/node`, using `node:crypto` where it is
 * much faster). Both must pass the same vectors (test/provider-vectors.test.ts).
 *
 * Providers are deterministic: randomness is passed in as seeds, never drawn inside.
 * All inputs are assumed validated by the caller; providers still throw
 * {@link ProtocolError}s (never generic errors) on invalid keys or failed authentication.
 */

/** ML-KEM key pair. */
export interface KemKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** Result of ML-KEM encapsulation. */
export interface KemEncapsulation {
  readonly cipherText: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

/** Argon2id cost parameters. */
export interface Argon2Params {
  /** iterations */
  readonly t: number;
  /** memory in KiB */
  readonly m: number;
  /** parallelism */
  readonly p: number;
  /** output length in bytes */
  readonly dkLen: number;
}

/** Primitive operations used by the protocol. */
export interface CryptoProvider {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-SHA-256 (RFC 5869). An empty salt means HashLen zero bytes, as the RFC says. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AES-256-GCM; returns ciphertext || 16-byte tag. */
  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AES-256-GCM; throws InvalidMessageError when the tag does not verify. */
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
  /** X25519 public key of a 32-byte private key (clamped per RFC 7748). */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** X25519 shared secret; throws InvalidKeyError for an all-zero result (low-order point). */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** Ed25519 public key from a 32-byte secret seed (RFC 8032). */
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Strict RFC 8032 verification; false (not a throw) for any bad signature or key. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Birational map of an Ed25519 public key to its X25519 (Montgomery) form. */
  ed25519PublicToX25519(publicKey: Uint8Array): Uint8Array;
  /** X25519 private scalar of an Ed25519 secret seed (SHA-512 of the seed, first half). */
  ed25519SecretToX25519(secretKey: Uint8Array): Uint8Array;
  /** ML-KEM-1024 (FIPS 203) key generation from a 64-byte seed (d || z). */
  mlKem1024KeyPair(seed: Uint8Array): KemKeyPair;
  /** ML-KEM-1024 encapsulation with 32 bytes of randomness `m`. */
  mlKem1024Encapsulate(publicKey: Uint8Array, m: Uint8Array): KemEncapsulation;
  mlKem1024Decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
  argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2Params): Uint8Array;
}
