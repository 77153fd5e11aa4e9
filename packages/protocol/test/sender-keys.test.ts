import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CryptoProvider,
  concatBytes,
  createDistributionMessage,
  createSenderKey,
  DEFAULT_SENDER_KEY_LIMITS,
  DuplicateMessageError,
  deserializeSenderKeyState,
  encodeWire,
  groupDecrypt,
  groupEncrypt,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidSessionError,
  InvalidSignatureError,
  isProtocolError,
  MAX_SENDER_KEY_CHAINS,
  manualClock,
  NoSenderKeyError,
  processDistributionMessage,
  type RandomSource,
  readDistributionMessageHeader,
  readSenderKeyMessageHeader,
  rotateSenderKey,
  type SenderKeyState,
  serializeSenderKeyState,
  TooManySkippedError,
  UnsupportedVersionError,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { hex, providers, rng, toHex } from './support.js';

interface SenderKeyVectors {
  distributionId: string;
  random: string;
  chainId: number;
  signingSecretKey: string;
  distributionMessage: string;
  messages: {
    iteration: number;
    chainKey: string;
    plaintext: string;
    seed: string;
    messageKey: string;
    nonce: string;
    message: string;
  }[];
  receiverStateV1: { state: string };
}
const vectors = JSON.parse(
  readFileSync(join(import.meta.dirname, 'vectors', 'sender-keys.json'), 'utf8'),
) as SenderKeyVectors;

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_700_000_000_000;

function fixedRandom(bytes: Uint8Array): RandomSource {
  let offset = 0;
  return (n) => {
    const out = bytes.slice(offset, offset + n);
    offset += n;
    if (out.length !== n) throw new Error('fixed random source exhausted');
    return out;
  };
}

// The formulas of docs/PROTOCOL.md "Sender Keys", written again with provider primitives.
const spec = {
  seed: (p: CryptoProvider, ck: Uint8Array) => p.hmacSha256(ck, Uint8Array.of(1)),
  next: (p: CryptoProvider, ck: Uint8Array) => p.hmacSha256(ck, Uint8Array.of(2)),
  keys: (p: CryptoProvider, seed: Uint8Array) =>
    p.hkdfSha256(seed, new Uint8Array(32), utf8ToBytes('VAULTEX_SenderKey'), 44),
  ad: (distributionId: Uint8Array, chainId: number, iteration: number) => {
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, chainId);
    new DataView(tail.buffer).setUint32(4, iteration);
    return concatBytes(distributionId, tail);
  },
  chainKeyAt(p: CryptoProvider, ck: Uint8Array, iteration: number): Uint8Array {
    let out = ck;
    for (let i = 0; i < iteration; i++) out = spec.next(p, out);
    return out;
  },
  /** A group message built from a chain key, signed with any key (the forger's, in tests). */
  message(
    p: CryptoProvider,
    a: {
      distributionId: Uint8Array;
      chainId: number;
      iteration: number;
      chainKey: Uint8Array;
      plaintext: Uint8Array;
      signer: Uint8Array;
    },
  ): Uint8Array {
    const okm = spec.keys(p, spec.seed(p, a.chainKey));
    const ct = p.aesGcmEncrypt(
      okm.slice(0, 32),
      okm.slice(32),
      a.plaintext,
      spec.ad(a.distributionId, a.chainId, a.iteration),
    );
    const sig = p.ed25519Sign(a.signer, encodeWire([1, a.distributionId, a.chainId, a.iteration, ct]));
    return encodeWire([1, a.distributionId, a.chainId, a.iteration, ct, sig]);
  },
};

/** A sender whose secrets the test knows, so it can build its state at any iteration. */
function knownSender(p: CryptoProvider, random: RandomSource, distributionId = random(16)) {
  const bytes = random(68);
  const state = createSenderKey(distributionId, p, fixedRandom(bytes));
  const chainId = new DataView(bytes.buffer).getUint32(0);
  const chainKey = bytes.slice(4, 36);
  const signingSecret = bytes.slice(36);
  const signingPublic = p.ed25519PublicKey(signingSecret);
  return {
    state,
    distributionId,
    chainId,
    chainKey,
    signingSecret,
    /** The sender's own state advanced to `iteration` without encrypting that many messages. */
    at(iteration: number): SenderKeyState {
      const ck = spec.chainKeyAt(p, chainKey, iteration);
      return deserializeSenderKeyState(
        encodeWire([1, distributionId, [[chainId, iteration, ck, signingPublic, signingSecret, []]]]),
      );
    },
  };
}

function expectUnchanged(state: SenderKeyState, action: () => unknown, error: new (...a: never[]) => Error): void {
  const before = toHex(serializeSenderKeyState(state));
  expect(action).toThrow(error);
  expect(toHex(serializeSenderKeyState(state))).toBe(before);
}

const text = (s: string) => utf8ToBytes(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

describe.each(providers)('sender keys ($name)', (p) => {
  const random = rng(0x5e4d);

  describe('vector', () => {
    const distributionId = hex(vectors.distributionId);

    it('reproduces the distribution message and group messages', () => {
      const own = createSenderKey(distributionId, p, fixedRandom(hex(vectors.random)));
      expect(own.chainId).toBe(vectors.chainId);
      expect(toHex(createDistributionMessage(own))).toBe(vectors.distributionMessage);
      for (const m of vectors.messages) {
        expect(toHex(groupEncrypt(own, hex(m.plaintext), p))).toBe(m.message);
      }
      expect(own.iteration).toBe(vectors.messages.length);
    });

    it('matches the specification recomputed from primitives', () => {
      const random = hex(vectors.random);
      expect(new DataView(random.buffer).getUint32(0)).toBe(vectors.chainId);
      let ck: Uint8Array = random.slice(4, 36);
      const signingPublic = p.ed25519PublicKey(hex(vectors.signingSecretKey));
      expect(toHex(encodeWire([1, distributionId, vectors.chainId, 0, ck, signingPublic]))).toBe(
        vectors.distributionMessage,
      );
      for (const m of vectors.messages) {
        expect(toHex(ck)).toBe(m.chainKey);
        const seed = spec.seed(p, ck);
        expect(toHex(seed)).toBe(m.seed);
        const okm = spec.keys(p, seed);
        expect(toHex(okm)).toBe(m.messageKey + m.nonce);
        const built = spec.message(p, {
          distributionId,
          chainId: vectors.chainId,
          iteration: m.iteration,
          chainKey: ck,
          plaintext: hex(m.plaintext),
          signer: hex(vectors.signingSecretKey),
        });
        expect(toHex(built)).toBe(m.message);
        ck = spec.next(p, ck);
      }
    });

    it('still reads a frozen version-1 receiver state', () => {
      const state = deserializeSenderKeyState(hex(vectors.receiverStateV1.state));
      expect(toHex(serializeSenderKeyState(state))).toBe(vectors.receiverStateV1.state);
      expect(state.canEncrypt).toBe(false);
      expect(state.iteration).toBe(3);
      const [m0, m1, m2] = vectors.messages;
      const clock = manualClock(T0 + DAY);
      expect(toHex(groupDecrypt(state, hex(m1!.message), p, clock))).toBe(m1!.plaintext);
      for (const m of [m0!, m1!, m2!]) {
        expect(() => groupDecrypt(state, hex(m.message), p, clock)).toThrow(DuplicateMessageError);
      }
    });
  });

  it('round-trips to several receivers and reads headers', () => {
    const own = createSenderKey(random(16), p, random);
    expect(own.canEncrypt).toBe(true);
    const dist = createDistributionMessage(own);
    const header = readDistributionMessageHeader(dist);
    expect(toHex(header.distributionId)).toBe(toHex(own.distributionId));
    expect(header.chainId).toBe(own.chainId);
    const receivers = [0, 1, 2].map(() => processDistributionMessage(dist));
    const clock = manualClock(T0);
    for (let i = 0; i < 10; i++) {
      const message = groupEncrypt(own, text(`message ${i}`), p);
      expect(readSenderKeyMessageHeader(message)).toMatchObject({ chainId: own.chainId, iteration: i });
      for (const r of receivers) expect(str(groupDecrypt(r, message, p, clock))).toBe(`message ${i}`);
    }
    expect(receivers[0]!.canEncrypt).toBe(false);
    expect(receivers[0]!.iteration).toBe(10);
    // Empty plaintext works too.
    expect(groupDecrypt(receivers[0]!, groupEncrypt(own, new Uint8Array(0), p), p, clock).length).toBe(0);
  });

  it('decrypts out of order, each message exactly once', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const messages = Array.from({ length: 12 }, (_, i) => groupEncrypt(own, text(`m${i}`), p));
    const clock = manualClock(T0);
    const order = [5, 0, 11, 3, 2, 1, 10, 4, 9, 6, 8, 7];
    for (const i of order) {
      expect(str(groupDecrypt(r, messages[i]!, p, clock))).toBe(`m${i}`);
      expectUnchanged(r, () => groupDecrypt(r, messages[i]!, p, clock), DuplicateMessageError);
    }
  });

  it('enforces the default forward-jump limit of 25,000', () => {
    const sender = knownSender(p, random);
    const dist = createDistributionMessage(sender.state);
    const clock = manualClock(T0);
    const atLimit = groupEncrypt(sender.at(25_000), text('far'), p);
    const beyond = groupEncrypt(sender.at(25_001), text('too far'), p);
    const r1 = processDistributionMessage(dist);
    expectUnchanged(r1, () => groupDecrypt(r1, beyond, p, clock), TooManySkippedError);
    expect(str(groupDecrypt(r1, atLimit, p, clock))).toBe('far');
    // Only the newest 2,000 skipped keys are kept: iteration 22,999 was evicted, 23,000 kept.
    expect(str(groupDecrypt(r1, groupEncrypt(sender.at(23_000), text('kept'), p), p, clock))).toBe('kept');
    expectUnchanged(
      r1,
      () => groupDecrypt(r1, groupEncrypt(sender.at(22_999), text('x'), p), p, clock),
      DuplicateMessageError,
    );
    expect(deserializeSenderKeyState(serializeSenderKeyState(r1)).iteration).toBe(25_001);
  });

  it('bounds stored skipped keys, evicting the oldest', () => {
    const sender = knownSender(p, random);
    const r = processDistributionMessage(createDistributionMessage(sender.state));
    const limits = { ...DEFAULT_SENDER_KEY_LIMITS, maxSkippedKeys: 3, maxForwardJump: 10 };
    const clock = manualClock(T0);
    const messages = Array.from({ length: 12 }, (_, i) => groupEncrypt(sender.state, text(`m${i}`), p));
    expectUnchanged(r, () => groupDecrypt(r, messages[11]!, p, clock, limits), TooManySkippedError);
    expect(str(groupDecrypt(r, messages[5]!, p, clock, limits))).toBe('m5');
    for (const i of [0, 1])
      expect(() => groupDecrypt(r, messages[i]!, p, clock, limits)).toThrow(DuplicateMessageError);
    expect(str(groupDecrypt(r, messages[9]!, p, clock, limits))).toBe('m9');
    // 2, 3, 4 then 6, 7, 8 were skipped: only 6, 7, 8 remain.
    for (const i of [2, 3, 4])
      expect(() => groupDecrypt(r, messages[i]!, p, clock, limits)).toThrow(DuplicateMessageError);
    for (const i of [8, 6, 7]) expect(str(groupDecrypt(r, messages[i]!, p, clock, limits))).toBe(`m${i}`);
    // With no stored keys allowed, a gap loses the skipped messages but the next one opens.
    const none = { ...limits, maxSkippedKeys: 0 };
    expect(str(groupDecrypt(r, messages[11]!, p, clock, none))).toBe('m11');
    expect(() => groupDecrypt(r, messages[10]!, p, clock, none)).toThrow(DuplicateMessageError);
  });

  it('expires skipped keys after 30 days', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const messages = Array.from({ length: 4 }, (_, i) => groupEncrypt(own, text(`m${i}`), p));
    const clock = manualClock(T0);
    groupDecrypt(r, messages[3]!, p, clock);
    clock.advance(30 * DAY);
    expect(str(groupDecrypt(r, messages[0]!, p, clock))).toBe('m0');
    clock.advance(1);
    expectUnchanged(r, () => groupDecrypt(r, messages[1]!, p, clock), DuplicateMessageError);
    // The expired keys are purged on the next successful decryption.
    const before = serializeSenderKeyState(r).length;
    groupDecrypt(r, groupEncrypt(own, text('m4'), p), p, clock);
    expect(serializeSenderKeyState(r).length).toBeLessThan(before);
    expect(() => groupDecrypt(r, messages[2]!, p, clock)).toThrow(DuplicateMessageError);
  });

  it('refuses replays and leaves the state unchanged', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const clock = manualClock(T0);
    const m = groupEncrypt(own, text('once'), p);
    expect(str(groupDecrypt(r, m, p, clock))).toBe('once');
    expectUnchanged(r, () => groupDecrypt(r, m, p, clock), DuplicateMessageError);
    let thrown: unknown;
    try {
      groupDecrypt(r, m, p, clock);
    } catch (e) {
      thrown = e;
    }
    expect(isProtocolError(thrown, 'DUPLICATE_MESSAGE')).toBe(true);
    expect((thrown as DuplicateMessageError).counter).toBe(0);
  });

  it('never opens with any byte altered, and changes nothing', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const clock = manualClock(T0);
    groupEncrypt(own, text('skipped'), p);
    const m = groupEncrypt(own, text('tamper with me'), p);
    const before = toHex(serializeSenderKeyState(r));
    for (let i = 0; i < m.length; i++) {
      const bad = m.slice();
      bad[i]! ^= 1 << (i % 8);
      let thrown: unknown;
      try {
        groupDecrypt(r, bad, p, clock);
      } catch (e) {
        thrown = e;
      }
      expect(isProtocolError(thrown)).toBe(true);
      expect(toHex(serializeSenderKeyState(r))).toBe(before);
    }
    expectUnchanged(r, () => groupDecrypt(r, m.slice(0, m.length - 1), p, clock), InvalidMessageError);
    expect(str(groupDecrypt(r, m, p, clock))).toBe('tamper with me');
  });

  it('refuses a message forged by a member who knows the chain key', () => {
    const sender = knownSender(p, random);
    const r = processDistributionMessage(createDistributionMessage(sender.state));
    const clock = manualClock(T0);
    const mallory = random(32);
    const forged = spec.message(p, {
      distributionId: sender.distributionId,
      chainId: sender.chainId,
      iteration: 0,
      chainKey: sender.chainKey,
      plaintext: text('I am the sender'),
      signer: mallory,
    });
    expectUnchanged(r, () => groupDecrypt(r, forged, p, clock), InvalidSignatureError);
    // The signature is checked before the bounds: a forgery far ahead is still a signature error.
    const far = spec.message(p, {
      distributionId: sender.distributionId,
      chainId: sender.chainId,
      iteration: 4_000_000_000,
      chainKey: sender.chainKey,
      plaintext: text('x'),
      signer: mallory,
    });
    expectUnchanged(r, () => groupDecrypt(r, far, p, clock), InvalidSignatureError);
    // The same construction with the real signing key opens: the forgery failed on its signature.
    const genuine = spec.message(p, {
      distributionId: sender.distributionId,
      chainId: sender.chainId,
      iteration: 0,
      chainKey: sender.chainKey,
      plaintext: text('genuine'),
      signer: sender.signingSecret,
    });
    expect(str(groupDecrypt(r, genuine, p, clock))).toBe('genuine');
  });

  it('refuses a validly signed message whose ciphertext does not authenticate', () => {
    const sender = knownSender(p, random);
    const r = processDistributionMessage(createDistributionMessage(sender.state));
    const wrongKey = spec.message(p, {
      distributionId: sender.distributionId,
      chainId: sender.chainId,
      iteration: 3,
      chainKey: random(32),
      plaintext: text('x'),
      signer: sender.signingSecret,
    });
    expectUnchanged(r, () => groupDecrypt(r, wrongKey, p, manualClock(T0)), InvalidMessageError);
  });

  it('types messages for another distribution or an unknown chain', () => {
    const own = createSenderKey(random(16), p, random);
    const other = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const clock = manualClock(T0);
    expectUnchanged(r, () => groupDecrypt(r, groupEncrypt(other, text('x'), p), p, clock), InvalidMessageError);
    const rotated = rotateSenderKey(own, p, random);
    expect(rotated.chainId).not.toBe(own.chainId);
    try {
      groupDecrypt(r, groupEncrypt(rotated, text('x'), p), p, clock);
      expect.fail('expected NoSenderKeyError');
    } catch (e) {
      expect(e).toBeInstanceOf(NoSenderKeyError);
      expect((e as NoSenderKeyError).chainId).toBe(rotated.chainId);
    }
    const v2 = encodeWire([2, own.distributionId, own.chainId, 0, new Uint8Array(16), new Uint8Array(64)]);
    expectUnchanged(r, () => groupDecrypt(r, v2, p, clock), UnsupportedVersionError);
  });

  it('re-keys: in-flight messages still open, a removed member cannot read on', () => {
    const clock = manualClock(T0);
    let own = createSenderKey(random(16), p, random);
    const stayer = processDistributionMessage(createDistributionMessage(own));
    const leaver = processDistributionMessage(createDistributionMessage(own));
    const inFlight = groupEncrypt(own, text('before'), p);
    const oldChain = own.chainId;
    own = rotateSenderKey(own, p, random);
    expect(own.iteration).toBe(0);
    // Only the remaining member gets the new distribution message.
    expect(processDistributionMessage(createDistributionMessage(own), stayer)).toBe(stayer);
    expect(stayer.chainIds).toEqual([own.chainId, oldChain]);
    const after = groupEncrypt(own, text('after'), p);
    expect(str(groupDecrypt(stayer, after, p, clock))).toBe('after');
    expect(str(groupDecrypt(stayer, inFlight, p, clock))).toBe('before');
    expect(str(groupDecrypt(leaver, inFlight, p, clock))).toBe('before');
    expectUnchanged(leaver, () => groupDecrypt(leaver, after, p, clock), NoSenderKeyError);
    // Old chains are evicted after MAX_SENDER_KEY_CHAINS newer ones.
    for (let i = 0; i < MAX_SENDER_KEY_CHAINS - 1; i++) {
      own = rotateSenderKey(own, p, random);
      processDistributionMessage(createDistributionMessage(own), stayer);
    }
    expect(stayer.chainIds.length).toBe(MAX_SENDER_KEY_CHAINS);
    expect(stayer.chainIds).not.toContain(oldChain);
    expect(() => groupDecrypt(stayer, inFlight, p, clock)).toThrow(NoSenderKeyError);
  });

  it('does not rewind a chain when a distribution message is repeated', () => {
    const own = createSenderKey(random(16), p, random);
    const dist = createDistributionMessage(own);
    const r = processDistributionMessage(dist);
    const clock = manualClock(T0);
    const m0 = groupEncrypt(own, text('m0'), p);
    groupDecrypt(r, m0, p, clock);
    const before = toHex(serializeSenderKeyState(r));
    expect(processDistributionMessage(dist, r)).toBe(r);
    expect(toHex(serializeSenderKeyState(r))).toBe(before);
    expect(() => groupDecrypt(r, m0, p, clock)).toThrow(DuplicateMessageError);
    // A different signing key under the same chain id replaces the chain.
    const clash = encodeWire([1, own.distributionId, own.chainId, 0, random(32), random(32)]);
    processDistributionMessage(clash, r);
    expect(r.chainIds).toEqual([own.chainId]);
    expect(r.iteration).toBe(0);
  });

  it('refuses distribution messages it cannot use', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const other = createDistributionMessage(createSenderKey(random(16), p, random));
    expectUnchanged(r, () => processDistributionMessage(other, r), InvalidMessageError);
    expect(() => processDistributionMessage(createDistributionMessage(own), own)).toThrow(InvalidArgumentError);
    const dist = createDistributionMessage(own);
    for (const bad of [dist.slice(0, dist.length - 1), concatBytes(dist, Uint8Array.of(0)), Uint8Array.of(0x90)]) {
      expect(() => processDistributionMessage(bad)).toThrow(InvalidMessageError);
    }
    expect(() =>
      processDistributionMessage(encodeWire([2, ...[own.distributionId, 1, 0, random(32), random(32)]])),
    ).toThrow(UnsupportedVersionError);
  });

  it('round-trips states through serialization, including skipped keys', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const clock = manualClock(T0);
    const messages = Array.from({ length: 5 }, (_, i) => groupEncrypt(own, text(`m${i}`), p));
    groupDecrypt(r, messages[4]!, p, clock);
    const restored = deserializeSenderKeyState(serializeSenderKeyState(r));
    expect(toHex(serializeSenderKeyState(restored))).toBe(toHex(serializeSenderKeyState(r)));
    for (const i of [2, 0, 3, 1]) expect(str(groupDecrypt(restored, messages[i]!, p, clock))).toBe(`m${i}`);
    const ownRestored = deserializeSenderKeyState(serializeSenderKeyState(own));
    expect(ownRestored.canEncrypt).toBe(true);
    expect(str(groupDecrypt(r, groupEncrypt(ownRestored, text('m5'), p), p, clock))).toBe('m5');
  });

  it('refuses corrupt or inconsistent state with InvalidSessionError', () => {
    const id = random(16);
    const chain = (chainId: number, iteration: number, secret: Uint8Array | null, skipped: unknown[] = []) => [
      chainId,
      iteration,
      random(32),
      random(32),
      secret,
      skipped,
    ];
    const good = encodeWire([1, id, [chain(1, 5, null, [[3, random(32), T0]])]]);
    expect(deserializeSenderKeyState(good).iteration).toBe(5);
    const bad = [
      good.slice(0, good.length - 3),
      encodeWire([1, id, []]),
      encodeWire([1, id, [chain(1, 5, null), chain(1, 6, null)]]),
      encodeWire([1, id, [chain(1, 5, random(32)), chain(2, 6, null)]]),
      encodeWire([1, id, [chain(1, 5, null, [[5, random(32), T0]])]]),
      encodeWire([
        1,
        id,
        [
          chain(1, 5, null, [
            [3, random(32), T0],
            [3, random(32), T0],
          ]),
        ],
      ]),
      encodeWire([1, id, Array.from({ length: 6 }, (_, i) => chain(i, 0, null))]),
      encodeWire([1, id, [chain(1, 2 ** 32 + 1, null)]]),
      encodeWire([1, id.slice(1), [chain(1, 5, null)]]),
      encodeWire([1, id, [chain(1, 5, null)], 0]),
      Uint8Array.of(0xc1),
    ];
    for (const b of bad) expect(() => deserializeSenderKeyState(b)).toThrow(InvalidSessionError);
    expect(() => deserializeSenderKeyState(encodeWire([2, id, [chain(1, 5, null)]]))).toThrow(UnsupportedVersionError);
  });

  it('refuses an exhausted chain with InvalidSessionError', () => {
    const sender = knownSender(p, random);
    const last = deserializeSenderKeyState(
      encodeWire([
        1,
        sender.distributionId,
        [[sender.chainId, 2 ** 32 - 1, random(32), p.ed25519PublicKey(sender.signingSecret), sender.signingSecret, []]],
      ]),
    );
    const m = groupEncrypt(last, text('last'), p);
    expect(readSenderKeyMessageHeader(m).iteration).toBe(2 ** 32 - 1);
    expect(() => groupEncrypt(last, text('one too many'), p)).toThrow(InvalidSessionError);
  });

  it('refuses misuse with InvalidArgumentError', () => {
    const own = createSenderKey(random(16), p, random);
    const r = processDistributionMessage(createDistributionMessage(own));
    const m = groupEncrypt(own, text('x'), p);
    const clock = manualClock(T0);
    const cases: (() => unknown)[] = [
      () => createSenderKey(new Uint8Array(15), p, random),
      () => createSenderKey('id' as never, p, random),
      () => groupEncrypt(r, text('x'), p),
      () => groupEncrypt({ ...own } as SenderKeyState, text('x'), p),
      () => groupEncrypt(own, 'x' as never, p),
      () => groupDecrypt(r, 'x' as never, p, clock),
      () => groupDecrypt(r, m, p, 5 as never),
      () => groupDecrypt(r, m, p, () => Number.NaN),
      () => groupDecrypt(r, m, p, clock, { ...DEFAULT_SENDER_KEY_LIMITS, maxSkippedKeys: -1 }),
      () => groupDecrypt(r, m, p, clock, { ...DEFAULT_SENDER_KEY_LIMITS, maxForwardJump: 1.5 }),
      () => groupDecrypt(r, m, p, clock, null as never),
      () => createDistributionMessage(r),
      () => rotateSenderKey(r, p, random),
      () => serializeSenderKeyState({} as SenderKeyState),
      () => deserializeSenderKeyState(null as never),
      () => processDistributionMessage([1, 2] as never),
    ];
    for (const c of cases) expectUnchanged(r, c, InvalidArgumentError);
    expect(str(groupDecrypt(r, m, p, clock))).toBe('x');
  });
});
