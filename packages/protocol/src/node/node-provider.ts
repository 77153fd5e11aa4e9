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

/**
 * KeyObject creation costs more than the operation itself, and protocol state reuses
 * the same key arrays (identity keys, ratchet keys), so a KeyObject is cached per array.
 * The cache is a hidden (non-enumerable symbol) property of the array itself, so it lives
 * exactly as long as the array: a WeakMap would keep every ratchet key's entry, with a
 * copy of its bytes, until the next full GC, and its growing ephemeron table made long
 * runs slower and slower. The entry keeps a copy of the bytes and re-checks it, so a
 * caller mutating or wiping the array never gets a stale key. An array that cannot take
 * the property (a non-extensible one) is simply not cached.
 */
interface CacheEntry {
  bytes: Uint8Array;
  key: KeyObject;
}
class KeyCache {
  private readonly slot: symbol;
  constructor(
    name: string,
    private readonly make: (raw: Uint8Array) => KeyObject,
  ) {
    this.slot = Symbol(name);
  }
  get(raw: Uint8Array): KeyObject {
    const hit = (raw as unknown as Record<symbol, CacheEntry | undefined>)[this.slot];
    if (hit !== undefined && Buffer.compare(hit.bytes, raw) === 0) return hit.key;
    const key = this.make(raw);
    const entry: CacheEntry = { bytes: new Uint8Array(raw), key };
    if (hit !== undefined) {
      hit.bytes.fill(0);
      hit.bytes = entry.bytes;
      hit.key = key;
    } else {
      Reflect.defineProperty(raw, this.slot, { value: entry, writable: false, configurable: true });
    }
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

const ZERO_SALT = new Uint8Array(32);
/** Single-byte HKDF block counters 1..255, allocated once. */
const COUNTER = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));

const b64u = (raw: Uint8Array): string => Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');

/**
 * Keys are imported as JWK, not DER: on Node 20 (OpenSSL 3) a PKCS#8/SPKI DER import goes
 * through the generic decoder and costs ~0.5 ms, ten times the X25519 operation itself,
 * while a JWK import maps to a raw-key import (~10-50 us). For a private key Node reads
 * only `d` and derives the public key itself; `x` must be present as a string, so a
 * placeholder is passed (the provider vectors would fail loudly if a Node version began
 * to check it).
 */
const PLACEHOLDER_X = b64u(new Uint8Array(32));
function okpPrivate(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new InvalidKeyError(`${crv} private key must be 32 bytes`);
  return createPrivateKey({ key: { kty: 'OKP', crv, d: b64u(raw), x: PLACEHOLDER_X }, format: 'jwk' });
}
function okpPublic(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new InvalidKeyError(`${crv} public key must be 32 bytes`);
  return createPublicKey({ key: { kty: 'OKP', crv, x: b64u(raw) }, format: 'jwk' });
}

const x25519Private = new KeyCache('x25519Private', (raw) => okpPrivate('X25519', raw));
const x25519Public = new KeyCache('x25519Public', (raw) => okpPublic('X25519', raw));
const ed25519Private = new KeyCache('ed25519Private', (raw) => okpPrivate('Ed25519', raw));
const ed25519Public = new KeyCache('ed25519Public', (raw) => okpPublic('Ed25519', raw));

function toBytes(buffer: Buffer | ArrayBuffer): Uint8Array {
  return buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function rawPublic(privateKey: KeyObject): Uint8Array {
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  // A plain Uint8Array copy, never a Buffer: callers compare and serialise these.
  return new Uint8Array(Buffer.from(x ?? '', 'base64url'));
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
  // HKDF built from HMAC: for the short outputs the ratchet asks for (32-64 bytes),
  // two or three HMAC calls beat hkdfSync, which wraps every input in a KeyObject.
  hkdfSha256: (ikm, salt, info, length) => {
    if (length > 255 * 32) return toBytes(hkdfSync('sha256', ikm, salt, info, length));
    const prk = createHmac('sha256', salt.length === 0 ? ZERO_SALT : salt)
      .update(ikm)
      .digest();
    // Off the V8 heap, not `new Uint8Array`: a small typed array lives on the heap, and
    // handing it (e.g. as an AES key) to node:crypto later forces V8 to move it, a costly
    // step on every message. Not from Node's shared buffer pool either: keys must not share
    // an ArrayBuffer with unrelated data (a copy of `.buffer` would carry both).
    const out = toBytes(Buffer.allocUnsafeSlow(length));
    let previous: Buffer | undefined;
    for (let counter = 1, offset = 0; offset < length; counter++, offset += 32) {
      const mac = createHmac('sha256', prk);
      if (previous) mac.update(previous);
      previous = mac.update(info).update(COUNTER[counter]!).digest();
      out.set(previous.subarray(0, Math.min(32, length - offset)), offset);
    }
    previous?.fill(0);
    prk.fill(0);
    return out;
  },
  aesGcmEncrypt: (key, nonce, plaintext, aad) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    // Buffer.concat draws small outputs from Node's buffer pool: a fresh Uint8Array of
    // more than 64 bytes gets its own off-heap backing store, which costs as much here as
    // the AES itself. The result is a plain Uint8Array view, as from every other method.
    return toBytes(Buffer.concat([head, tail, cipher.getAuthTag()]));
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
  x25519PublicKey: (privateKey) => rawPublic(x25519Private.get(privateKey)),
  x25519: (privateKey, publicKey) => {
    const pub = keyOp('x25519', () => x25519Public.get(publicKey));
    // OpenSSL refuses an all-zero shared secret (low-order point) by throwing.
    try {
      return toBytes(diffieHellman({ privateKey: x25519Private.get(privateKey), publicKey: pub }));
    } catch {
      throw new InvalidKeyError('x25519: low-order public key');
    }
  },
  ed25519PublicKey: (secretKey) => rawPublic(ed25519Private.get(secretKey)),
  ed25519Sign: (secretKey, message) => toBytes(sign(null, message, ed25519Private.get(secretKey))),
  // RFC 8032: the scalar is the clamped first half of SHA-512(seed); noble's conversion
  // does the same, with a slower hash.
  ed25519SecretToX25519: (secretKey) => {
    if (secretKey.length !== 32) throw new InvalidKeyError('ed25519 secret key must be 32 bytes');
    const scalar = new Uint8Array(createHash('sha512').update(secretKey).digest().subarray(0, 32));
    scalar[0]! &= 248;
    scalar[31]! &= 127;
    scalar[31]! |= 64;
    return scalar;
  },
  ed25519Verify: (publicKey, message, signature) => {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    try {
      return verify(null, message, ed25519Public.get(publicKey), signature);
    } catch {
      return false;
    }
  },
};
