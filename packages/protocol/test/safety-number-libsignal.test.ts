// Differential test: our safety numbers against @signalapp/libsignal-client's Fingerprint
// for seeded random keys and identifiers. Never skipped: a missing native module fails.
import { Fingerprint, PrivateKey } from '@signalapp/libsignal-client';
import { computeSafetyNumber, encodeWire } from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { providers, rng, toHex } from './support.js';

/** libsignal's scannable protobuf, version 0: 08 00 12 22 0a 20 <local32> 1a 22 0a 20 <remote32>. */
function libsignalHalves(scannable: Uint8Array): [Uint8Array, Uint8Array] {
  expect(toHex(scannable.subarray(0, 6))).toBe('080012220a20');
  expect(toHex(scannable.subarray(38, 42))).toBe('1a220a20');
  expect(scannable.length).toBe(74);
  return [scannable.slice(6, 38), scannable.slice(42, 74)];
}

interface Case {
  localId: Uint8Array<ArrayBuffer>;
  localKey: ReturnType<PrivateKey['getPublicKey']>;
  remoteId: Uint8Array<ArrayBuffer>;
  remoteKey: ReturnType<PrivateKey['getPublicKey']>;
  iterations: number;
}

function cases(label: number, count: number): Case[] {
  const random = rng(label);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    // Identifier lengths 0..40 cover empty ids, VAULTEX's 16-byte user IDs and longer ones.
    const length = () => random(1)[0]! % 41;
    out.push({
      localId: Uint8Array.from(random(length())),
      localKey: PrivateKey.deserialize(Uint8Array.from(random(32))).getPublicKey(),
      remoteId: Uint8Array.from(random(i % 3 === 0 ? 16 : length())),
      remoteKey: PrivateKey.deserialize(Uint8Array.from(random(32))).getPublicKey(),
      // Every fifth case uses the real 5200; the rest use 2..1025 to keep the suite fast while
      // still covering the loop bounds (the digits' derivation is the same for any count).
      iterations: i % 5 === 0 ? 5200 : 2 + (new DataView(random(2).buffer).getUint16(0) % 1024),
    });
  }
  return out;
}

describe.each(providers)('safety numbers vs libsignal-client ($name)', (provider) => {
  it('gives the same 60 digits and 32-byte scannable halves for 50 random key pairs', () => {
    let compared = 0;
    for (const c of cases(401, 50)) {
      const theirs = Fingerprint.new(c.iterations, 0, c.localId, c.localKey, c.remoteId, c.remoteKey);
      const ours = computeSafetyNumber(
        {
          localIdentifier: c.localId,
          localKey: c.localKey.serialize(),
          remoteIdentifier: c.remoteId,
          remoteKey: c.remoteKey.serialize(),
          iterations: c.iterations,
        },
        provider,
      );
      expect(ours.digits).toBe(theirs.displayableFingerprint().toString());
      const [local, remote] = libsignalHalves(theirs.scannableFingerprint().toBuffer());
      expect(toHex(ours.qrPayload)).toBe(toHex(encodeWire([1, local, remote])));
      compared++;
    }
    expect(compared).toBe(50);
  });

  it('agrees on the same key and identifier on both sides (degenerate but legal input)', () => {
    const random = rng(402);
    const key = PrivateKey.deserialize(Uint8Array.from(random(32))).getPublicKey();
    const id = Uint8Array.from(random(16));
    const theirs = Fingerprint.new(5200, 0, id, key, id, key).displayableFingerprint().toString();
    const ours = computeSafetyNumber(
      { localIdentifier: id, localKey: key.serialize(), remoteIdentifier: id, remoteKey: key.serialize() },
      provider,
    );
    expect(ours.digits).toBe(theirs);
    expect(ours.digits.slice(0, 30)).toBe(ours.digits.slice(30));
  });
});
