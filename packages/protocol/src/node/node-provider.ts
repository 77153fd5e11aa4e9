/**
 * The Node provider: `node:crypto` (OpenSSL) for the primitives where it is much
 * faster than pure TypeScript (X25519, Ed25519, AES-GCM, HMAC, SHA-2, HKDF), and
 * the noble provider for ML-KEM and Argon2id, which Node 20 does not offer.
 * Passes the same vectors as {@link nobleProvider}.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { InvalidKeyError, InvalidMessageError } from '../errors.js';
import { nobleProvider } from '../provider/noble-provider.js';
import type { CryptoProvider } from '../provider/provider.js';

// DER prefixes of PKCS#8 / SPKI for raw 32-byte X25519 and Ed25519 keys (RFC 8410).
const X25519_PKCS8 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const X25519_SPKI = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);
const ED25519_PKCS8 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ED25519_SPKI = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

function der(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + raw.length);
  out.set(prefix, 0);
  out.set(raw, prefix.length);
  return out;
}

/**
 * KeyObject creation costs more than the operation itself, and protocol state reuses
 * the same key arrays (identity keys, ratchet keys), so KeyObjects are cached per array.
 * The cache keeps a copy of the bytes and re-checks it, so a caller mutating or wiping
 * the array never gets a stale key.
 */
class KeyCache {
  private readonly map = new WeakMap<Uint8Array, { bytes: Uint8Array; key: KeyObject }>();
  constructor(private readonly make: (raw: Uint8Array) => KeyObject) {}
  get(raw: Uint8Array): KeyObject {
    const hit = this.map.get(raw);
    if (hit && Buffer.compare(hit.bytes, raw) === 0) return hit.key;
    const key = this.make(raw);
    this.map.set(raw, { bytes: Uint8Array.prototype.slice.call(raw), key });
    return key;
  }
}

function keyOp<T>(what: string, op: () => T): T {
  try {
    return op();
  } catch {
    throw new InvalidKeyError(`${what}: invalid key`);
  }
}

const x25519Private = new KeyCache((raw) =>
  createPrivateKey({ key: der(X25519_PKCS8, raw), format: 'der', type: 'pkcs8' }),
);
const x25519Public = new KeyCache((raw) =>
  createPublicKey({ key: der(X25519_SPKI, raw), format: 'der', type: 'spki' }),
);
const ed25519Private = new KeyCache((raw) =>
  createPrivateKey({ key: der(ED25519_PKCS8, raw), format: 'der', type: 'pkcs8' }),
);
const ed25519Public = new KeyCache((raw) =>
  createPublicKey({ key: der(ED25519_SPKI, raw), format: 'der', type: 'spki' }),
);

function toBytes(buffer: Buffer | ArrayBuffer): Uint8Array {
  return buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function rawPublic(key: KeyObject, spkiPrefixLength: number): Uint8Array {
  const spki = key.export({ format: 'der', type: 'spki' });
  return Uint8Array.prototype.slice.call(spki, spkiPrefixLength);
}

/**
 * The provider backed by `node:crypto`.
 * @example import { nodeProvider } from '@vaultex/protocol/node';
 */
export const nodeProvider: CryptoProvider = {
  ...nobleProvider,
  name: 'node',
  sha256: (data) => toBytes(createHash('sha256').update(data).digest()),
  sha512: (data) => toBytes(createHash('sha512').update(data).digest()),
  hmacSha256: (key, data) => toBytes(createHmac('sha256', key).update(data).digest()),
  hkdfSha256: (ikm, salt, info, length) => toBytes(hkdfSync('sha256', ikm, salt, info, length)),
  aesGcmEncrypt: (key, nonce, plaintext, aad) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + tag.length);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    return out;
  },
  aesGcmDecrypt: (key, nonce, sealed, aad) => {
    if (sealed.length < 16) throw new InvalidMessageError('authentication failed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const head = decipher.update(sealed.subarray(0, sealed.length - 16));
      const tail = decipher.final();
      if (tail.length === 0) return toBytes(head);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head, 0);
      out.set(tail, head.length);
      return out;
    } catch {
      throw new InvalidMessageError('authentication failed');
    }
  },
  x25519PublicKey: (privateKey) => rawPublic(createPublicKey(x25519Private.get(privateKey)), X25519_SPKI.length),
  x25519: (privateKey, publicKey) => {
    const pub = keyOp('x25519', () => x25519Public.get(publicKey));
    // OpenSSL refuses an all-zero shared secret (low-order point) by throwing.
    try {
      return toBytes(diffieHellman({ privateKey: x25519Private.get(privateKey), publicKey: pub }));
    } catch {
      throw new InvalidKeyError('x25519: low-order public key');
    }
  },
  ed25519PublicKey: (secretKey) => rawPublic(createPublicKey(ed25519Private.get(secretKey)), ED25519_SPKI.length),
  ed25519Sign: (secretKey, message) => toBytes(sign(null, message, ed25519Private.get(secretKey))),
  ed25519Verify: (publicKey, message, signature) => {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    try {
      return verify(null, message, ed25519Public.get(publicKey), signature);
    } catch {
      return false;
    }
  },
};
