import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { argon2id } from '@noble/hashes/argon2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { InvalidKeyError, InvalidMessageError } from '../errors.js';
import type { CryptoProvider } from './provider.js';

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i]!;
  return acc === 0;
}

/** Wrap a library failure on untrusted key material into our typed error. */
function keyOp<T>(what: string, op: () => T): T {
  try {
    return op();
  } catch {
    throw new InvalidKeyError(`${what}: invalid key`);
  }
}

/**
 * The pure-TypeScript provider over @noble/* (audited). Works in Node and browsers.
 * @example const sig = nobleProvider.ed25519Sign(secret, message);
 */
export const nobleProvider: CryptoProvider = {
  name: 'noble',
  sha256: (data) => sha256(data),
  sha512: (data) => sha512(data),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt.length === 0 ? undefined : salt, info, length),
  aesGcmEncrypt: (key, nonce, plaintext, aad) => gcm(key, nonce, aad).encrypt(plaintext),
  aesGcmDecrypt: (key, nonce, sealed, aad) => {
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      throw new InvalidMessageError('authentication failed');
    }
  },
  x25519PublicKey: (privateKey) => x25519.getPublicKey(privateKey),
  x25519: (privateKey, publicKey) => {
    const shared = keyOp('x25519', () => x25519.getSharedSecret(privateKey, publicKey));
    if (isAllZero(shared)) throw new InvalidKeyError('x25519: low-order public key');
    return shared;
  },
  ed25519PublicKey: (secretKey) => ed25519.getPublicKey(secretKey),
  ed25519Sign: (secretKey, message) => ed25519.sign(message, secretKey),
  ed25519Verify: (publicKey, message, signature) => {
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  ed25519PublicToX25519: (publicKey) => keyOp('ed25519 public key', () => ed25519.utils.toMontgomery(publicKey)),
  ed25519SecretToX25519: (secretKey) => ed25519.utils.toMontgomerySecret(secretKey),
  mlKem1024KeyPair: (seed) => ml_kem1024.keygen(seed),
  mlKem1024Encapsulate: (publicKey, m) => keyOp('ml-kem-1024 public key', () => ml_kem1024.encapsulate(publicKey, m)),
  mlKem1024Decapsulate: (cipherText, secretKey) =>
    keyOp('ml-kem-1024 decapsulation', () => ml_kem1024.decapsulate(cipherText, secretKey)),
  argon2id: (password, salt, params) =>
    argon2id(password, salt, { t: params.t, m: params.m, p: params.p, dkLen: params.dkLen }),
};
