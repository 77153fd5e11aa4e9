import { nobleProvider } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * The Node provider must be a drop-in for the noble one: same bytes out for the same
 * bytes in, for every primitive it overrides, and plain Uint8Arrays (never Buffers,
 * which compare and serialise differently).
 */
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const data = fc.uint8Array({ maxLength: 200 });

function plain(value: Uint8Array): Uint8Array {
  expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
  return value;
}

describe('node provider equals noble provider', () => {
  it('hashes, MACs, HKDF and AES-GCM', () => {
    fc.assert(
      fc.property(bytes32, data, data, fc.integer({ min: 1, max: 96 }), (key, a, b, length) => {
        expect(plain(nodeProvider.sha256(a))).toEqual(nobleProvider.sha256(a));
        expect(plain(nodeProvider.sha512(a))).toEqual(nobleProvider.sha512(a));
        expect(plain(nodeProvider.hmacSha256(key, a))).toEqual(nobleProvider.hmacSha256(key, a));
        expect(plain(nodeProvider.hkdfSha256(a, b, key, length))).toEqual(nobleProvider.hkdfSha256(a, b, key, length));
        const nonce = key.subarray(0, 12);
        const sealed = plain(nodeProvider.aesGcmEncrypt(key, nonce, a, b));
        expect(sealed).toEqual(nobleProvider.aesGcmEncrypt(key, nonce, a, b));
        expect(plain(nodeProvider.aesGcmDecrypt(key, nonce, sealed, b))).toEqual(a);
      }),
      { seed: 11, numRuns: 60 },
    );
  });

  it('X25519 and Ed25519 keys, DH, signatures and conversions', () => {
    fc.assert(
      fc.property(bytes32, bytes32, data, (a, b, message) => {
        const pubA = plain(nodeProvider.x25519PublicKey(a));
        expect(pubA).toEqual(nobleProvider.x25519PublicKey(a));
        const pubB = nobleProvider.x25519PublicKey(b);
        expect(plain(nodeProvider.x25519(a, pubB))).toEqual(nobleProvider.x25519(a, pubB));

        const edPub = plain(nodeProvider.ed25519PublicKey(a));
        expect(edPub).toEqual(nobleProvider.ed25519PublicKey(a));
        const signature = plain(nodeProvider.ed25519Sign(a, message));
        expect(signature).toEqual(nobleProvider.ed25519Sign(a, message));
        expect(nodeProvider.ed25519Verify(edPub, message, signature)).toBe(true);
        expect(nobleProvider.ed25519Verify(edPub, message, signature)).toBe(true);

        expect(plain(nodeProvider.ed25519SecretToX25519(a))).toEqual(nobleProvider.ed25519SecretToX25519(a));
        expect(nodeProvider.ed25519PublicToX25519(edPub)).toEqual(nobleProvider.ed25519PublicToX25519(edPub));
      }),
      { seed: 12, numRuns: 40 },
    );
  });
});
