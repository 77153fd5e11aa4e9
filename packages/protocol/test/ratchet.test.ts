import {
  acceptSession,
  DEFAULT_RATCHET_LIMITS,
  DuplicateMessageError,
  expandMessageKey,
  InvalidArgumentError,
  InvalidMessageError,
  isProtocolError,
  kdfChainKey,
  kdfRootKey,
  peekMessageKind,
  resolveRatchetLimits,
  TooManySkippedError,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { establish, expectRejected, msg, text } from './session-support.js';
import { providers, rng } from './support.js';

const DAY = 24 * 60 * 60 * 1000;

describe('ratchet KDFs', () => {
  const provider = providers[0]!;
  it('follow the documented definitions', () => {
    const rk = rng(1)(32);
    const dh = rng(2)(32);
    const [rk2, ck] = kdfRootKey(provider, rk, dh);
    const full = provider.hkdfSha256(dh, rk, utf8ToBytes('VAULTEX_Ratchet'), 64);
    expect([...rk2, ...ck]).toEqual([...full]);
    const [mk, next] = kdfChainKey(provider, ck);
    expect(mk).toEqual(provider.hmacSha256(ck, Uint8Array.of(1)));
    expect(next).toEqual(provider.hmacSha256(ck, Uint8Array.of(2)));
    expect(expandMessageKey(provider, mk)).toEqual(
      provider.hkdfSha256(mk, new Uint8Array(32), utf8ToBytes('VAULTEX_MessageKeys'), 44),
    );
  });

  it('resolves limits over documented defaults and rejects bad ones', () => {
    expect(DEFAULT_RATCHET_LIMITS).toEqual({
      maxSkip: 1000,
      maxSkippedKeys: 2000,
      skippedKeyMaxAge: 30 * DAY,
      maxPreviousChains: 5,
    });
    expect(resolveRatchetLimits({ maxSkip: 3 })).toEqual({ ...DEFAULT_RATCHET_LIMITS, maxSkip: 3 });
    for (const bad of [
      { maxSkip: -1 },
      { maxSkippedKeys: 1.5 },
      { skippedKeyMaxAge: '1' },
      { maxPreviousChains: 65 },
    ]) {
      expect(() => resolveRatchetLimits(bad as never)).toThrow(InvalidArgumentError);
    }
  });
});

describe.each(providers)('Double Ratchet scenarios ($name)', (provider) => {
  it('delivers in order, both ways, with bursts and ratchet steps', () => {
    const { alice, bob } = establish(provider);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++)
        expect(text(bob.decrypt(alice.encrypt(msg(`a${round}.${i}`))))).toBe(`message a${round}.${i}`);
      for (let i = 0; i < 2; i++)
        expect(text(alice.decrypt(bob.encrypt(msg(`b${round}.${i}`))))).toBe(`message b${round}.${i}`);
    }
  });

  it('sends prekey messages until the first reply, then ratchet messages', () => {
    const { alice, bob } = establish(provider);
    const second = alice.encrypt(msg(2));
    expect(peekMessageKind(second)).toBe('prekey');
    expect(alice.awaitingReply).toBe(true);
    expect(text(bob.decrypt(second))).toBe('message 2');
    const reply = bob.encrypt(msg('r'));
    expect(peekMessageKind(reply)).toBe('message');
    alice.decrypt(reply);
    expect(alice.awaitingReply).toBe(false);
    expect(peekMessageKind(alice.encrypt(msg(3)))).toBe('message');
  });

  it('decrypts out of order within a chain and across chains', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    const first = Array.from({ length: 6 }, (_, i) => alice.encrypt(msg(i)));
    bob.decrypt(first[5]!);
    const reply = bob.encrypt(msg('r'));
    alice.decrypt(reply);
    const second = Array.from({ length: 3 }, (_, i) => alice.encrypt(msg(10 + i)));
    // New chain first, then the old chain's stragglers in reverse.
    expect(text(bob.decrypt(second[2]!))).toBe('message 12');
    for (let i = 4; i >= 0; i--) expect(text(bob.decrypt(first[i]!))).toBe(`message ${i}`);
    expect(text(bob.decrypt(second[0]!))).toBe('message 10');
    expect(text(bob.decrypt(second[1]!))).toBe('message 11');
  });

  it('survives loss: later messages decrypt, the lost ones never arrive', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    const sent = Array.from({ length: 10 }, (_, i) => alice.encrypt(msg(i)));
    for (const i of [1, 4, 9]) expect(text(bob.decrypt(sent[i]!))).toBe(`message ${i}`);
    // A whole chain lost: Bob's reply chain never reaches Alice; Bob keeps sending.
    bob.encrypt(msg('lost'));
    const late = bob.encrypt(msg('late'));
    expect(text(alice.decrypt(late))).toBe('message late');
  });

  it('bounds a gap per chain by maxSkip, in the current and in a new chain', () => {
    const limits = { maxSkip: 20 };
    const { alice, bob } = establish(provider, { confirm: true, limits });
    const sent = Array.from({ length: 23 }, (_, i) => alice.encrypt(msg(i)));
    bob.decrypt(sent[0]!); // opens the chain; Bob now expects message 1
    expectRejected(bob, () => bob.decrypt(sent[22]!), 'TOO_MANY_SKIPPED');
    expect(text(bob.decrypt(sent[21]!))).toBe('message 21'); // skips exactly 20 (1..20)
    // New chain: Bob's message number 21 is beyond maxSkip for a fresh chain.
    const fromBob = Array.from({ length: 22 }, (_, i) => bob.encrypt(msg(`b${i}`)));
    expectRejected(alice, () => alice.decrypt(fromBob[21]!), 'TOO_MANY_SKIPPED');
    expect(text(alice.decrypt(fromBob[20]!))).toBe('message b20');
  });

  it('bounds the previous chain gap (pn) when a new chain starts', () => {
    const { alice, bob } = establish(provider, { confirm: true, limits: { maxSkip: 5 } });
    bob.decrypt(alice.encrypt(msg(0))); // Bob's receiving chain now expects message 1
    for (let i = 1; i <= 6; i++) alice.encrypt(msg(i)); // six messages Bob never sees
    alice.decrypt(bob.encrypt(msg('turn')));
    const next = alice.encrypt(msg('new chain')); // pn = 7: Bob would have to skip 6 > 5 old keys
    expectRejected(bob, () => bob.decrypt(next), 'TOO_MANY_SKIPPED');
  });

  it('keeps at most maxSkippedKeys in total, evicting the oldest', () => {
    const { alice, bob } = establish(provider, { confirm: true, limits: { maxSkip: 10, maxSkippedKeys: 15 } });
    const chain1 = Array.from({ length: 11 }, (_, i) => alice.encrypt(msg(`c1.${i}`)));
    bob.decrypt(chain1[10]!); // stores 10 skipped keys
    alice.decrypt(bob.encrypt(msg('turn')));
    const chain2 = Array.from({ length: 11 }, (_, i) => alice.encrypt(msg(`c2.${i}`)));
    bob.decrypt(chain2[10]!); // 10 more: the 5 oldest of chain 1 are evicted
    for (let i = 0; i < 5; i++) expectRejected(bob, () => bob.decrypt(chain1[i]!), 'DUPLICATE_MESSAGE');
    for (let i = 5; i < 10; i++) expect(text(bob.decrypt(chain1[i]!))).toBe(`message c1.${i}`);
    for (let i = 0; i < 10; i++) expect(text(bob.decrypt(chain2[i]!))).toBe(`message c2.${i}`);
  });

  it('expires skipped keys after skippedKeyMaxAge (then the message is a duplicate)', () => {
    const { alice, bob, clock } = establish(provider, { confirm: true });
    const sent = Array.from({ length: 4 }, (_, i) => alice.encrypt(msg(i)));
    bob.decrypt(sent[3]!);
    clock.advance(30 * DAY - 1);
    expect(text(bob.decrypt(sent[0]!))).toBe('message 0'); // still inside the window
    const sizeBefore = bob.serialize().length;
    clock.advance(1);
    expectRejected(bob, () => bob.decrypt(sent[1]!), 'DUPLICATE_MESSAGE');
    // The next successful decrypt purges the expired keys from the state.
    bob.decrypt(alice.encrypt(msg('fresh')));
    expect(bob.serialize().length).toBeLessThan(sizeBefore - 2 * 32);
    expectRejected(bob, () => bob.decrypt(sent[2]!), 'DUPLICATE_MESSAGE');
  });

  it('uses the configured expiry', () => {
    const { alice, bob, clock } = establish(provider, { confirm: true, limits: { skippedKeyMaxAge: 1000 } });
    const sent = [alice.encrypt(msg(0)), alice.encrypt(msg(1))];
    bob.decrypt(sent[1]!);
    clock.advance(1000);
    expectRejected(bob, () => bob.decrypt(sent[0]!), 'DUPLICATE_MESSAGE');
  });

  it('rejects replays as DuplicateMessageError: current chain, skipped keys, old chains', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    const a = [alice.encrypt(msg(0)), alice.encrypt(msg(1)), alice.encrypt(msg(2))];
    bob.decrypt(a[0]!);
    expectRejected(bob, () => bob.decrypt(a[0]!), 'DUPLICATE_MESSAGE');
    bob.decrypt(a[2]!);
    bob.decrypt(a[1]!); // through a skipped key
    expectRejected(bob, () => bob.decrypt(a[1]!), 'DUPLICATE_MESSAGE');
    // Five more ratchet steps: the first chain is still remembered as the fifth previous chain.
    for (let i = 0; i < 5; i++) {
      alice.decrypt(bob.encrypt(msg(`b${i}`)));
      bob.decrypt(alice.encrypt(msg(`a${i}`)));
    }
    expectRejected(bob, () => bob.decrypt(a[2]!), 'DUPLICATE_MESSAGE');
    // One more step and it is forgotten: the replay is then tried as a new chain and fails to authenticate.
    alice.decrypt(bob.encrypt(msg('b5')));
    bob.decrypt(alice.encrypt(msg('a5')));
    expectRejected(bob, () => bob.decrypt(a[2]!), 'INVALID_MESSAGE');
  });

  it('replays of the prekey message to the accepted session are duplicates', () => {
    const { alice, bob, bobDevice, bobDeps } = establish(provider);
    const second = alice.encrypt(msg(2));
    expect(text(bob.decrypt(second))).toBe('message 2');
    expectRejected(bob, () => bob.decrypt(second), 'DUPLICATE_MESSAGE');
    // A new acceptSession with the consumed one-time prekey is refused.
    expect(() => acceptSession(bobDevice.keys, second, bobDevice.lookup, bobDeps)).toThrow(
      expect.objectContaining({ code: 'INVALID_PREKEY' }),
    );
  });

  it('never decrypts a message with any single byte flipped, and keeps its state', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    bob.decrypt(alice.encrypt(msg('before')));
    alice.decrypt(bob.encrypt(msg('turn')));
    const message = alice.encrypt(utf8ToBytes('flip me')); // first message of a new chain
    const before = bob.serialize();
    for (let i = 0; i < message.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = message.slice();
        bad[i]! ^= mask;
        let ok = false;
        try {
          bob.decrypt(bad);
          ok = true;
        } catch (e) {
          expect(isProtocolError(e), `byte ${i}`).toBe(true);
        }
        expect(ok, `byte ${i} mask ${mask} decrypted`).toBe(false);
      }
    }
    expect(bob.serialize()).toEqual(before);
    expect(text(bob.decrypt(message))).toBe('flip me');
  });

  it('never decrypts a prekey message with any byte flipped, and keeps its state', () => {
    const { alice, bob } = establish(provider);
    const message = alice.encrypt(msg('second prekey'));
    const before = bob.serialize();
    for (let i = 0; i < message.length; i++) {
      const bad = message.slice();
      bad[i]! ^= 0x01;
      expect(() => bob.decrypt(bad), `byte ${i}`).toThrow();
    }
    expect(bob.serialize()).toEqual(before);
    expect(text(bob.decrypt(message))).toBe('message second prekey');
  });

  it('keeps the session unchanged on every kind of failure', () => {
    const { alice, bob } = establish(provider, { confirm: true, limits: { maxSkip: 3 } });
    const ok = alice.encrypt(msg(0));
    bob.decrypt(ok);
    const far = Array.from({ length: 6 }, (_, i) => alice.encrypt(msg(i + 1)));
    expectRejected(bob, () => bob.decrypt(ok), 'DUPLICATE_MESSAGE');
    expectRejected(bob, () => bob.decrypt(far[5]!), 'TOO_MANY_SKIPPED');
    expectRejected(bob, () => bob.decrypt(new Uint8Array([1, 2, 3])), 'INVALID_MESSAGE');
    expectRejected(bob, () => bob.decrypt(far[0]!.subarray(0, far[0]!.length - 1)), 'INVALID_MESSAGE');
    expect(text(bob.decrypt(far[0]!))).toBe('message 1');
  });

  it('reports replays through DuplicateMessageError with the counter', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    const m = alice.encrypt(msg(0));
    bob.decrypt(m);
    try {
      bob.decrypt(m);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DuplicateMessageError);
      expect((e as DuplicateMessageError).counter).toBe(0);
    }
    expect(() => bob.decrypt(new Uint8Array(0))).toThrow(InvalidMessageError);
    expect(() => bob.decrypt(new Uint8Array(0))).not.toThrow(TooManySkippedError);
  });
});
