import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compareScannedSafetyNumber,
  computeSafetyNumber,
  encodePublicKey,
  encodeWire,
  InvalidArgumentError,
  InvalidMessageError,
  KeyType,
  SAFETY_NUMBER_QR_TEXT_PREFIX,
  type SafetyNumberInput,
  safetyNumberQrText,
  UnsupportedVersionError,
  userIdFromIdentityKey,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { hex, providers, rng, toHex } from './support.js';

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'safety-number.json'), 'utf8'));
const lib = vectors.libsignal;
const vx = vectors.vaultex;

/** The input as the other party sees it. */
function mirror(input: SafetyNumberInput): SafetyNumberInput {
  return {
    ...input,
    localIdentifier: input.remoteIdentifier,
    localKey: input.remoteKey,
    remoteIdentifier: input.localIdentifier,
    remoteKey: input.localKey,
  };
}

describe.each(providers)('safety numbers ($name)', (provider) => {
  const account = (secret: Uint8Array) => {
    const publicKey = provider.ed25519PublicKey(secret);
    return {
      publicKey,
      userId: userIdFromIdentityKey(publicKey, provider),
      key: encodePublicKey(KeyType.Ed25519, publicKey),
    };
  };
  const alice = account(hex(vx.aliceSecretKey));
  const bob = account(hex(vx.bobSecretKey));
  const aliceView: SafetyNumberInput = {
    localIdentifier: alice.userId,
    localKey: alice.key,
    remoteIdentifier: bob.userId,
    remoteKey: bob.key,
  };

  it("matches libsignal's published NumericFingerprint vector for both parties", () => {
    const input: SafetyNumberInput = {
      localIdentifier: utf8ToBytes(lib.aliceIdentifier),
      localKey: hex(lib.aliceKey),
      remoteIdentifier: utf8ToBytes(lib.bobIdentifier),
      remoteKey: hex(lib.bobKey),
      iterations: lib.iterations,
    };
    const a = computeSafetyNumber(input, provider);
    const b = computeSafetyNumber(mirror(input), provider);
    expect(a.digits).toBe(lib.displayable);
    expect(b.digits).toBe(lib.displayable);
    // The scannable halves are libsignal's 32-byte LogicalFingerprint contents.
    expect(toHex(a.qrPayload)).toBe(toHex(encodeWire([1, hex(lib.aliceFingerprint32), hex(lib.bobFingerprint32)])));
    expect(toHex(b.qrPayload)).toBe(toHex(encodeWire([1, hex(lib.bobFingerprint32), hex(lib.aliceFingerprint32)])));
  });

  it('reproduces the frozen VAULTEX fixture (user IDs and Ed25519-encoded account keys)', () => {
    expect(toHex(alice.publicKey)).toBe(vx.alicePublicKey);
    expect(toHex(alice.userId)).toBe(vx.aliceUserId);
    expect(toHex(bob.userId)).toBe(vx.bobUserId);
    const a = computeSafetyNumber(aliceView, provider);
    const b = computeSafetyNumber(mirror(aliceView), provider);
    expect(a.digits).toBe(vx.digits);
    expect(b.digits).toBe(vx.digits);
    expect(toHex(a.qrPayload)).toBe(vx.aliceQrPayload);
    expect(toHex(b.qrPayload)).toBe(vx.bobQrPayload);
    expect(safetyNumberQrText(a.qrPayload)).toBe(vx.aliceQrText);
  });

  it('shows 60 digits in 12 groups of 5', () => {
    const { digits, groups } = computeSafetyNumber(aliceView, provider);
    expect(digits).toMatch(/^\d{60}$/u);
    expect(groups).toHaveLength(12);
    for (const g of groups) expect(g).toMatch(/^\d{5}$/u);
    expect(groups.join('')).toBe(digits);
  });

  it('is symmetric: both sides of random conversations see the same digits', () => {
    const random = rng(301);
    for (let i = 0; i < 4; i++) {
      const input: SafetyNumberInput = {
        localIdentifier: random(16),
        localKey: encodePublicKey(KeyType.Ed25519, random(32)),
        remoteIdentifier: random(16),
        remoteKey: encodePublicKey(KeyType.Ed25519, random(32)),
        iterations: 1024,
      };
      const mine = computeSafetyNumber(input, provider);
      const theirs = computeSafetyNumber(mirror(input), provider);
      expect(theirs.digits).toBe(mine.digits);
      expect(toHex(theirs.qrPayload)).not.toBe(toHex(mine.qrPayload));
      expect(compareScannedSafetyNumber(mine, theirs.qrPayload)).toBe(true);
    }
  });

  it('changes when a key, an identifier or the iteration count changes', () => {
    const base = computeSafetyNumber(aliceView, provider).digits;
    const otherKey = encodePublicKey(KeyType.Ed25519, rng(302)(32));
    expect(computeSafetyNumber({ ...aliceView, remoteKey: otherKey }, provider).digits).not.toBe(base);
    const otherId = Uint8Array.from(bob.userId);
    otherId[15]! ^= 1;
    expect(computeSafetyNumber({ ...aliceView, remoteIdentifier: otherId }, provider).digits).not.toBe(base);
    expect(computeSafetyNumber({ ...aliceView, iterations: 5199 }, provider).digits).not.toBe(base);
  });

  describe('QR comparison', () => {
    const mine = computeSafetyNumber(aliceView, provider);
    const peer = computeSafetyNumber(mirror(aliceView), provider);

    it('accepts the peer’s code, as bytes and as text', () => {
      expect(compareScannedSafetyNumber(mine, peer.qrPayload)).toBe(true);
      expect(compareScannedSafetyNumber(peer, mine.qrPayload)).toBe(true);
      expect(compareScannedSafetyNumber(mine, safetyNumberQrText(peer.qrPayload))).toBe(true);
      // Lower-case hex is accepted too (some generators normalise case).
      const lower = SAFETY_NUMBER_QR_TEXT_PREFIX + toHex(peer.qrPayload);
      expect(compareScannedSafetyNumber(mine, lower)).toBe(true);
    });

    it('rejects our own code, a man in the middle and a different identifier', () => {
      expect(compareScannedSafetyNumber(mine, mine.qrPayload)).toBe(false);
      // Mallory sits between: Bob sees Mallory's key where Alice's should be.
      const mallory = account(rng(303)(32));
      const bobSeesMallory = computeSafetyNumber(
        { localIdentifier: bob.userId, localKey: bob.key, remoteIdentifier: alice.userId, remoteKey: mallory.key },
        provider,
      );
      expect(compareScannedSafetyNumber(mine, bobSeesMallory.qrPayload)).toBe(false);
      expect(compareScannedSafetyNumber(bobSeesMallory, mine.qrPayload)).toBe(false);
      // A third party's own code.
      const carol = account(rng(304)(32));
      const carolWithAlice = computeSafetyNumber(
        { localIdentifier: carol.userId, localKey: carol.key, remoteIdentifier: alice.userId, remoteKey: alice.key },
        provider,
      );
      expect(compareScannedSafetyNumber(mine, carolWithAlice.qrPayload)).toBe(false);
    });

    it('rejects one flipped bit in either half', () => {
      for (const offset of [4, 40]) {
        const bad = Uint8Array.from(peer.qrPayload);
        bad[offset]! ^= 0x01;
        expect(compareScannedSafetyNumber(mine, bad)).toBe(false);
      }
    });

    it('throws typed errors for garbage payloads', () => {
      const half = new Uint8Array(32);
      const cases: [unknown, new (...args: never[]) => Error][] = [
        [new Uint8Array(0), InvalidMessageError],
        [rng(305)(70), InvalidMessageError],
        [encodeWire({ version: 1 }), InvalidMessageError],
        [encodeWire([1, half]), InvalidMessageError],
        [encodeWire([1, half, new Uint8Array(31)]), InvalidMessageError],
        [encodeWire([1, half, half, half]), InvalidMessageError],
        [encodeWire([1, 'x'.repeat(32), half]), InvalidMessageError],
        [encodeWire([2, half, half]), UnsupportedVersionError],
        ['', InvalidMessageError],
        ['hello', InvalidMessageError],
        [`${SAFETY_NUMBER_QR_TEXT_PREFIX}`, InvalidMessageError],
        [`${SAFETY_NUMBER_QR_TEXT_PREFIX}ABC`, InvalidMessageError],
        [`${SAFETY_NUMBER_QR_TEXT_PREFIX}ZZ`, InvalidMessageError],
        [`${SAFETY_NUMBER_QR_TEXT_PREFIX}${'00'.repeat(400)}`, InvalidMessageError],
        [safetyNumberQrText(encodeWire([9, half, half])), UnsupportedVersionError],
        [42, InvalidArgumentError],
        [null, InvalidArgumentError],
        [new Uint16Array(70), InvalidArgumentError],
      ];
      for (const [scanned, error] of cases) {
        expect(() => compareScannedSafetyNumber(mine, scanned as Uint8Array)).toThrow(error);
      }
    });

    it('refuses an own value that did not come from computeSafetyNumber', () => {
      expect(() => compareScannedSafetyNumber({ ...mine, qrPayload: new Uint8Array(3) }, peer.qrPayload)).toThrow(
        InvalidArgumentError,
      );
      expect(() => compareScannedSafetyNumber(null as never, peer.qrPayload)).toThrow(InvalidArgumentError);
    });
  });

  it('refuses misuse with InvalidArgumentError', () => {
    const bad: Partial<Record<keyof SafetyNumberInput, unknown>>[] = [
      { iterations: 1 },
      { iterations: 1_000_001 },
      { iterations: 2.5 },
      { iterations: '5200' },
      { version: 1 },
      { version: -1 },
      { localKey: new Uint8Array(0) },
      { remoteKey: 'key' },
      { localIdentifier: [1, 2, 3] },
      { remoteIdentifier: new Uint8Array(1025) },
    ];
    for (const patch of bad) {
      expect(() => computeSafetyNumber({ ...aliceView, ...patch } as SafetyNumberInput, provider)).toThrow(
        InvalidArgumentError,
      );
    }
    expect(() => computeSafetyNumber(undefined as never, provider)).toThrow(InvalidArgumentError);
    expect(() => safetyNumberQrText('x' as never)).toThrow(InvalidArgumentError);
  });
});
