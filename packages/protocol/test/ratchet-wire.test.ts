/**
 * The ratchet-message encoder of the session codec: its output must be byte-for-byte what
 * the generic MessagePack codec writes (signatures and other implementations rely on
 * canonical bytes); decoding, canonical or not, is the generic decoder's.
 */
import {
  type CryptoProvider,
  decodeWire,
  encodeWire,
  InvalidMessageError,
  Session,
  type SessionDeps,
  UnsupportedVersionError,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { establish, text } from './session-support.js';
import { providers, toHex } from './support.js';

/** Decode a message generically into its fields, then re-encode them with encodeWire. */
function reencode(message: Uint8Array): Uint8Array {
  const fields = decodeWire(message, {
    what: 'message',
    versions: [1],
    read: (r) => {
      const out = [r.uint('kind'), r.bytes('dh', 32), r.uint('pn'), r.uint('n'), r.bytes('ciphertext')];
      r.end();
      return out;
    },
  });
  return encodeWire([1, ...fields]);
}

/** Restore a session with its sending and/or receiving index and previous counter moved. */
function shifted(
  session: Session,
  deps: SessionDeps,
  change: { sendingIndex?: number; receivingIndex?: number; previousCounter?: number },
): Session {
  const items = decodeWire(session.serialize(), {
    what: 'state',
    versions: [1],
    read: (r) => {
      const out: unknown[] = [];
      for (let i = 0; i < 16; i++) out.push(r.raw(`field${i}`));
      r.end();
      return out;
    },
  });
  // Field order of the session state (docs/PROTOCOL.md): 8 sending index, 10 receiving index, 11 previous counter.
  if (change.sendingIndex !== undefined) items[8] = change.sendingIndex;
  if (change.receivingIndex !== undefined) items[10] = change.receivingIndex;
  if (change.previousCounter !== undefined) items[11] = change.previousCounter;
  return Session.deserialize(encodeWire([1, ...items]), deps);
}

describe.each(providers)('ratchet message codec ($name)', (provider: CryptoProvider) => {
  it('writes exactly the generic encoding across every integer size, and decrypts', () => {
    const pair = establish(provider, { confirm: true, label: 41 });
    // Alice's sending chain starts with her first message after Bob's reply.
    expect(text(pair.bob.decrypt(pair.alice.encrypt(utf8ToBytes('start'))))).toBe('start');
    // Same chain key on both sides, only the numbering moved: n needs uint8/uint16/uint32 forms.
    for (const [start, pn] of [
      [120, 0],
      [250, 200],
      [65_530, 65_536],
      [0xffff_fff0, 0xffff_ffff],
    ] as const) {
      const alice = shifted(pair.alice, pair.aliceDeps, { sendingIndex: start, previousCounter: pn });
      const bob = shifted(pair.bob, pair.bobDeps, { receivingIndex: start });
      for (let i = 0; i < 12; i++) {
        const message = alice.encrypt(utf8ToBytes(`m${i}`));
        expect(toHex(reencode(message))).toBe(toHex(message));
        expect(text(bob.decrypt(message))).toBe(`m${i}`);
      }
    }
  });

  it('still accepts a non-canonical encoding of the same fields (generic path)', () => {
    const { alice, bob } = establish(provider, { confirm: true, label: 42 });
    const message = alice.encrypt(utf8ToBytes('x'));
    // n (a fixint here) written as uint16, dh as bin16: same values, other bytes.
    const nAt = 1 + 1 + 1 + 2 + 32 + 1;
    expect(message[nAt]).toBeLessThan(0x80);
    const widened = new Uint8Array([
      ...message.subarray(0, 3),
      0xc5,
      0x00,
      0x20,
      ...message.subarray(5, nAt),
      0xcd,
      0x00,
      message[nAt]!,
      ...message.subarray(nAt + 1),
    ]);
    expect(text(bob.decrypt(widened))).toBe('x');
  });

  it('refuses trailing and missing bytes as InvalidMessageError, leaving the session usable', () => {
    const { alice, bob } = establish(provider, { confirm: true, label: 43 });
    const message = alice.encrypt(utf8ToBytes('y'));
    expect(() => bob.decrypt(new Uint8Array([...message, 0]))).toThrow(InvalidMessageError);
    expect(() => bob.decrypt(message.subarray(0, message.length - 1))).toThrow(InvalidMessageError);
    const tampered = message.slice();
    tampered[1] = 2; // version 2 is unknown: the generic decoder decides
    expect(() => bob.decrypt(tampered)).toThrow(UnsupportedVersionError);
    expect(text(bob.decrypt(message))).toBe('y');
  });
});
