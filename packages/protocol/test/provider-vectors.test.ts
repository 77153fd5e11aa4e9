import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoProvider, InvalidKeyError, InvalidMessageError } from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { hex, providers, rng, toHex } from './support.js';

// Published vectors (sources recorded in each JSON file): both providers must agree with them.
function vectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', name), 'utf8')) as T;
}

interface Rfc7748 {
  scalarMult: { scalar: string; u: string; output: string }[];
  iterated: { start: string; after1: string; after1000: string };
  diffieHellman: Record<'alicePrivate' | 'alicePublic' | 'bobPrivate' | 'bobPublic' | 'shared', string>;
  lowOrderPublicKeys: { publicKey: string; comment: string }[];
}
interface Rfc8032 {
  vectors: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[];
}
interface Rfc5869 {
  vectors: { name: string; ikm: string; salt: string; info: string; length: number; okm: string }[];
}
interface Sha2Hmac {
  sha: { name: string; algorithm: 'sha256' | 'sha512'; message: string; digest: string }[];
  hmacSha256: { name: string; key: string; data: string; mac: string }[];
}
interface AesGcm {
  vectors: { name: string; key: string; iv: string; plaintext: string; aad: string; ciphertext: string; tag: string }[];
}

const x25519 = vectors<Rfc7748>('rfc7748.json');
const ed25519 = vectors<Rfc8032>('rfc8032.json');
const hkdf = vectors<Rfc5869>('rfc5869.json');
const sha2 = vectors<Sha2Hmac>('sha2-hmac.json');
const gcm = vectors<AesGcm>('aes-gcm.json');

function flip(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[index]! ^= mask;
  return out;
}

describe.each(providers)('provider vectors ($name)', (provider: CryptoProvider) => {
  describe('X25519 (RFC 7748)', () => {
    it.each(x25519.scalarMult.map((v, i) => [i + 1, v] as const))('section 5.2 scalar multiplication %i', (_i, v) => {
      expect(toHex(provider.x25519(hex(v.scalar), hex(v.u)))).toBe(v.output);
    });

    it('section 5.2 iterations (1 and 1,000)', () => {
      let k = hex(x25519.iterated.start);
      let u = k;
      for (let i = 1; i <= 1000; i++) {
        [k, u] = [provider.x25519(k, u), k];
        if (i === 1) expect(toHex(k)).toBe(x25519.iterated.after1);
      }
      expect(toHex(k)).toBe(x25519.iterated.after1000);
    });

    it('section 6.1 Diffie-Hellman', () => {
      const v = x25519.diffieHellman;
      expect(toHex(provider.x25519PublicKey(hex(v.alicePrivate)))).toBe(v.alicePublic);
      expect(toHex(provider.x25519PublicKey(hex(v.bobPrivate)))).toBe(v.bobPublic);
      expect(toHex(provider.x25519(hex(v.alicePrivate), hex(v.bobPublic)))).toBe(v.shared);
      expect(toHex(provider.x25519(hex(v.bobPrivate), hex(v.alicePublic)))).toBe(v.shared);
    });

    it('covers the all-zero key and both order-8 points', () => {
      const keys = x25519.lowOrderPublicKeys.map((k) => k.publicKey);
      expect(keys).toContain('00'.repeat(32));
      expect(keys).toContain('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800');
      expect(keys).toContain('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157');
    });

    it.each(x25519.lowOrderPublicKeys.map((k) => [k.publicKey, k.comment] as const))(
      'low-order public key %s (%s) throws InvalidKeyError',
      (publicKey) => {
        expect(() => provider.x25519(hex(x25519.diffieHellman.alicePrivate), hex(publicKey))).toThrow(InvalidKeyError);
      },
    );
  });

  describe('Ed25519 (RFC 8032 section 7.1)', () => {
    it('has TEST 1, 2, 3, 1024 and SHA(abc)', () => {
      expect(ed25519.vectors.map((v) => v.name)).toEqual(['1', '2', '3', '1024', 'SHA(abc)']);
    });

    it.each(ed25519.vectors.map((v) => [v.name, v] as const))('TEST %s', (_name, v) => {
      const secretKey = hex(v.secretKey);
      const publicKey = hex(v.publicKey);
      const message = hex(v.message);
      const signature = hex(v.signature);
      expect(toHex(provider.ed25519PublicKey(secretKey))).toBe(v.publicKey);
      expect(toHex(provider.ed25519Sign(secretKey, message))).toBe(v.signature);
      expect(provider.ed25519Verify(publicKey, message, signature)).toBe(true);
      // A changed message (one bit flipped, or a byte appended to the empty one) must fail.
      const otherMessage = message.length > 0 ? flip(message, message.length - 1) : Uint8Array.of(0);
      expect(provider.ed25519Verify(publicKey, otherMessage, signature)).toBe(false);
      for (const index of [0, 31, 32, 63]) {
        expect(provider.ed25519Verify(publicKey, message, flip(signature, index))).toBe(false);
      }
      expect(provider.ed25519Verify(flip(publicKey, 0), message, signature)).toBe(false);
    });
  });

  describe('HKDF-SHA-256 (RFC 5869 appendix A)', () => {
    it.each(hkdf.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
      expect(toHex(provider.hkdfSha256(hex(v.ikm), hex(v.salt), hex(v.info), v.length))).toBe(v.okm);
    });
  });

  describe('SHA-2 (FIPS 180-4) and HMAC-SHA-256 (RFC 4231)', () => {
    it.each(sha2.sha.map((v) => [v.name, v] as const))('%s', (_name, v) => {
      const digest = v.algorithm === 'sha256' ? provider.sha256(hex(v.message)) : provider.sha512(hex(v.message));
      expect(toHex(digest)).toBe(v.digest);
    });

    it.each(sha2.hmacSha256.map((v) => [v.name, v] as const))('%s', (_name, v) => {
      expect(toHex(provider.hmacSha256(hex(v.key), hex(v.data)))).toBe(v.mac);
    });
  });

  describe('AES-256-GCM (McGrew-Viega test cases 13-16)', () => {
    it.each(gcm.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
      const key = hex(v.key);
      const iv = hex(v.iv);
      const aad = hex(v.aad);
      const sealed = provider.aesGcmEncrypt(key, iv, hex(v.plaintext), aad);
      expect(toHex(sealed)).toBe(v.ciphertext + v.tag);
      expect(toHex(provider.aesGcmDecrypt(key, iv, sealed, aad))).toBe(v.plaintext);
    });

    it.each(gcm.vectors.map((v) => [v.name, v] as const))(
      '%s: any flipped tag byte -> InvalidMessageError',
      (_n, v) => {
        const sealed = hex(v.ciphertext + v.tag);
        for (let i = sealed.length - 16; i < sealed.length; i++) {
          expect(() => provider.aesGcmDecrypt(hex(v.key), hex(v.iv), flip(sealed, i), hex(v.aad))).toThrow(
            InvalidMessageError,
          );
        }
      },
    );

    it('Test Case 16: flipped ciphertext or AAD byte, or a truncated input -> InvalidMessageError', () => {
      const v = gcm.vectors.find((x) => x.name === 'Test Case 16')!;
      const sealed = hex(v.ciphertext + v.tag);
      expect(() => provider.aesGcmDecrypt(hex(v.key), hex(v.iv), flip(sealed, 0), hex(v.aad))).toThrow(
        InvalidMessageError,
      );
      expect(() => provider.aesGcmDecrypt(hex(v.key), hex(v.iv), sealed, flip(hex(v.aad), 19))).toThrow(
        InvalidMessageError,
      );
      expect(() => provider.aesGcmDecrypt(hex(v.key), hex(v.iv), sealed.subarray(0, 15), hex(v.aad))).toThrow(
        InvalidMessageError,
      );
    });
  });

  describe('Ed25519 -> X25519 conversion', () => {
    it('X25519(toX(sk_a), toX(pub_b)) == X25519(toX(sk_b), toX(pub_a)) for seeded keys', () => {
      const random = rng(7748);
      for (let i = 0; i < 8; i++) {
        const skA = random(32);
        const skB = random(32);
        const pubA = provider.ed25519PublicKey(skA);
        const pubB = provider.ed25519PublicKey(skB);
        const xA = provider.ed25519SecretToX25519(skA);
        const xB = provider.ed25519SecretToX25519(skB);
        // The converted secret's public key is the converted public key.
        expect(toHex(provider.x25519PublicKey(xA))).toBe(toHex(provider.ed25519PublicToX25519(pubA)));
        const ab = provider.x25519(xA, provider.ed25519PublicToX25519(pubB));
        const ba = provider.x25519(xB, provider.ed25519PublicToX25519(pubA));
        expect(toHex(ab)).toBe(toHex(ba));
        expect(ab.length).toBe(32);
      }
    });
  });

  describe('ML-KEM-1024', () => {
    it('round trip, and implicit rejection of a corrupted ciphertext', () => {
      const random = rng(203);
      const pair = provider.mlKem1024KeyPair(random(64));
      expect(pair.publicKey.length).toBe(1568);
      expect(pair.secretKey.length).toBe(3168);
      const { cipherText, sharedSecret } = provider.mlKem1024Encapsulate(pair.publicKey, random(32));
      expect(cipherText.length).toBe(1568);
      expect(sharedSecret.length).toBe(32);
      expect(toHex(provider.mlKem1024Decapsulate(cipherText, pair.secretKey))).toBe(toHex(sharedSecret));
      // FIPS 203 implicit rejection: no error, but a different (pseudo-random) secret.
      const rejected = provider.mlKem1024Decapsulate(flip(cipherText, 100), pair.secretKey);
      expect(rejected.length).toBe(32);
      expect(toHex(rejected)).not.toBe(toHex(sharedSecret));
      // Deterministic: the same seed gives the same key pair.
      expect(toHex(provider.mlKem1024KeyPair(new Uint8Array(64)).publicKey)).toBe(
        toHex(provider.mlKem1024KeyPair(new Uint8Array(64)).publicKey),
      );
    });
  });
});

describe('providers agree', () => {
  it('noble and node give identical ML-KEM and Ed25519->X25519 results for the same seeds', () => {
    const [a, b] = providers as [CryptoProvider, CryptoProvider];
    const seed = rng(1)(64);
    const pa = a.mlKem1024KeyPair(seed);
    const pb = b.mlKem1024KeyPair(seed);
    expect(toHex(pa.publicKey)).toBe(toHex(pb.publicKey));
    const m = new Uint8Array(32).fill(9);
    expect(toHex(a.mlKem1024Encapsulate(pa.publicKey, m).cipherText)).toBe(
      toHex(b.mlKem1024Encapsulate(pb.publicKey, m).cipherText),
    );
    const sk = rng(2)(32);
    expect(toHex(a.ed25519SecretToX25519(sk))).toBe(toHex(b.ed25519SecretToX25519(sk)));
    expect(toHex(a.ed25519PublicToX25519(a.ed25519PublicKey(sk)))).toBe(
      toHex(b.ed25519PublicToX25519(b.ed25519PublicKey(sk))),
    );
  });
});
