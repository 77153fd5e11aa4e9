import {
  acceptSession,
  decodeWire,
  encodeWire,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidSessionError,
  InvalidSignatureError,
  initiateSession,
  MAX_PLAINTEXT_BYTES,
  ML_KEM_1024_CIPHERTEXT_LENGTH,
  peekMessageKind,
  Session,
  UnsupportedVersionError,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { establish, expectRejected, makeDeps, makeDevice, msg, text } from './session-support.js';
import { providers, rng, toHex } from './support.js';

/** The decoded top-level array of a message or state, for format checks. */
function fields(bytes: Uint8Array): unknown[] {
  return decodeWire(bytes, {
    what: 'test',
    versions: [1],
    read: (r) => {
      const out: unknown[] = [1];
      for (;;) {
        try {
          out.push(r.raw('field'));
        } catch {
          return out;
        }
      }
    },
  });
}

describe.each(providers)('sessions ($name)', (provider) => {
  it('accepts a session and reports the prekeys it used', () => {
    const alice = makeDevice(provider, 201);
    const bob = makeDevice(provider, 202);
    const bundle = bob.bundle();
    const session = initiateSession(alice.keys, bundle, makeDeps(provider, rng(1)));
    expect(session.localIdentityKey).toEqual(alice.keys.publicKey);
    expect(session.remoteIdentityKey).toEqual(bob.keys.publicKey);
    const first = session.encrypt(utf8ToBytes('hi'));
    const accepted = acceptSession(bob.keys, first, bob.lookup, makeDeps(provider, rng(2)));
    expect(text(accepted.plaintext)).toBe('hi');
    expect(accepted.usedPreKeys).toEqual({
      signedPreKeyId: bundle.signedPreKey.id,
      oneTimePreKeyId: bundle.oneTimePreKey!.id,
      kemPreKeyId: bundle.kemPreKey.id,
      kemLastResort: false,
    });
    expect(accepted.session.remoteIdentityKey).toEqual(alice.keys.publicKey);
    expect(accepted.session.localIdentityKey).toEqual(bob.keys.publicKey);
  });

  it('works without a one-time prekey and with the last-resort KEM key', () => {
    const alice = makeDevice(provider, 203);
    const bob = makeDevice(provider, 204);
    const session = initiateSession(
      alice.keys,
      bob.bundle({ oneTime: false, lastResort: true }),
      makeDeps(provider, rng(3)),
    );
    const accepted = acceptSession(bob.keys, session.encrypt(msg(1)), bob.lookup, makeDeps(provider, rng(4)));
    expect(accepted.usedPreKeys.oneTimePreKeyId).toBeUndefined();
    expect('oneTimePreKeyId' in accepted.usedPreKeys).toBe(false);
    expect(accepted.usedPreKeys.kemLastResort).toBe(true);
    expect(text(session.decrypt(accepted.session.encrypt(msg(2))))).toBe('message 2');
  });

  it('refuses a badly signed bundle', () => {
    const bundle = makeDevice(provider, 205).bundle();
    const signature = bundle.kemPreKey.signature.slice();
    signature[10]! ^= 4;
    const bad = { ...bundle, kemPreKey: { ...bundle.kemPreKey, signature } };
    expect(() => initiateSession(makeDevice(provider, 206).keys, bad, makeDeps(provider, rng(5)))).toThrow(
      InvalidSignatureError,
    );
  });

  it('uses the documented wire layout for both kinds', () => {
    const { alice, bob } = establish(provider);
    const pre = alice.encrypt(new Uint8Array(200));
    const f = fields(pre);
    expect(f.length).toBe(12);
    expect(f.slice(0, 2)).toEqual([1, 2]);
    expect(f[2]).toEqual(alice.localIdentityKey);
    expect((f[3] as Uint8Array).length).toBe(32);
    expect((f[7] as Uint8Array).length).toBe(ML_KEM_1024_CIPHERTEXT_LENGTH);
    expect(f.slice(9, 11)).toEqual([0, 1]); // pn, n
    expect((f[11] as Uint8Array).length).toBe(216);
    bob.decrypt(pre);
    const reply = bob.encrypt(new Uint8Array(200));
    const g = fields(reply);
    expect(g.length).toBe(6);
    expect(g.slice(0, 2)).toEqual([1, 1]);
    expect(g.slice(3, 5)).toEqual([0, 0]);
    // fixarray, version, kind, bin8 header + 32, pn, n, bin8 header + 216: 41 bytes of overhead.
    expect(reply.length).toBe(200 + 16 + 41);
  });

  it('peeks message kinds and refuses garbage', () => {
    const { alice, bob } = establish(provider);
    expect(peekMessageKind(alice.encrypt(msg(1)))).toBe('prekey');
    expect(peekMessageKind(bob.encrypt(msg(2)))).toBe('message');
    for (const bad of [new Uint8Array(0), new Uint8Array([0x90]), utf8ToBytes('hello'), encodeWire([1, 3])]) {
      expect(() => peekMessageKind(bad)).toThrow(InvalidMessageError);
    }
    expect(() => peekMessageKind(encodeWire([2, 1]))).toThrow(UnsupportedVersionError);
    expect(() => peekMessageKind(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => bob.decrypt([1, 2] as never)).toThrow(InvalidArgumentError);
  });

  it('acceptSession refuses ratchet messages and malformed input', () => {
    const { bob, bobDevice, bobDeps } = establish(provider);
    const ratchetMessage = bob.encrypt(msg(1));
    expect(() => acceptSession(bobDevice.keys, ratchetMessage, bobDevice.lookup, bobDeps)).toThrow(InvalidMessageError);
    expect(() => acceptSession(bobDevice.keys, new Uint8Array([1]), bobDevice.lookup, bobDeps)).toThrow(
      InvalidMessageError,
    );
    expect(() => acceptSession(bobDevice.keys, 'x' as never, bobDevice.lookup, bobDeps)).toThrow(InvalidArgumentError);
    expect(() => acceptSession(bobDevice.keys, ratchetMessage, bobDevice.lookup, {} as never)).toThrow(
      InvalidArgumentError,
    );
  });

  it('routes prekey messages: this session decrypts, another session is refused', () => {
    const { alice, bob, aliceDevice, bobDevice, bobDeps } = establish(provider);
    // Alice starts over (e.g. after a reinstall of her session state) with a fresh bundle.
    const restart = initiateSession(aliceDevice.keys, bobDevice.bundle(), makeDeps(provider, rng(7)));
    const other = restart.encrypt(msg('restart'));
    expectRejected(bob, () => bob.decrypt(other), 'INVALID_MESSAGE');
    const second = acceptSession(bobDevice.keys, other, bobDevice.lookup, bobDeps);
    expect(text(second.plaintext)).toBe('message restart');
    expect(text(bob.decrypt(alice.encrypt(msg('old'))))).toBe('message old');
    // The initiator never accepts prekey messages on its own session.
    expectRejected(alice, () => alice.decrypt(restart.encrypt(msg('x'))), 'INVALID_MESSAGE');
  });

  it('enforces the plaintext size limit', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    expect(bob.decrypt(alice.encrypt(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    const big = new Uint8Array(MAX_PLAINTEXT_BYTES).fill(7);
    expect(Buffer.from(bob.decrypt(alice.encrypt(big))).equals(Buffer.from(big))).toBe(true);
    const before = alice.serialize();
    expect(() => alice.encrypt(new Uint8Array(MAX_PLAINTEXT_BYTES + 1))).toThrow(InvalidArgumentError);
    expect(() => alice.encrypt('text' as never)).toThrow(InvalidArgumentError);
    expect(() => alice.encrypt(new Uint16Array(4) as never)).toThrow(InvalidArgumentError);
    expect(alice.serialize()).toEqual(before);
  });

  it('serialises at every stage and continues after a restore', () => {
    const { alice, bob, aliceDeps, bobDeps } = establish(provider);
    const restore = (s: Session, deps: typeof aliceDeps) => {
      const bytes = s.serialize();
      const copy = Session.deserialize(bytes, deps);
      expect(toHex(copy.serialize())).toBe(toHex(bytes));
      expect(copy.localIdentityKey).toEqual(s.localIdentityKey);
      expect(copy.remoteIdentityKey).toEqual(s.remoteIdentityKey);
      expect(copy.awaitingReply).toBe(s.awaitingReply);
      return copy;
    };
    let a = restore(alice, aliceDeps); // pending prekey data
    let b = restore(bob, bobDeps); // responder, no sending chain yet
    const skipped = [a.encrypt(msg(1)), a.encrypt(msg(2)), a.encrypt(msg(3))];
    expect(text(b.decrypt(skipped[2]!))).toBe('message 3');
    b = restore(b, bobDeps); // two skipped keys
    a = restore(a, aliceDeps);
    expect(text(a.decrypt(b.encrypt(msg('r'))))).toBe('message r');
    a = restore(a, aliceDeps); // between receive and next send: no ratchet key pair
    expect(text(b.decrypt(skipped[0]!))).toBe('message 1');
    expect(text(b.decrypt(a.encrypt(msg(4))))).toBe('message 4');
    b = restore(b, bobDeps);
    expect(text(b.decrypt(skipped[1]!))).toBe('message 2');
  });

  it('applies smaller limits to restored state', () => {
    const { alice, bob, bobDeps } = establish(provider, { confirm: true });
    const sent = Array.from({ length: 11 }, (_, i) => alice.encrypt(msg(i)));
    bob.decrypt(sent[10]!);
    const small = Session.deserialize(bob.serialize(), { ...bobDeps, limits: { maxSkippedKeys: 3 } });
    for (let i = 0; i < 7; i++) expectRejected(small, () => small.decrypt(sent[i]!), 'DUPLICATE_MESSAGE');
    for (let i = 7; i < 10; i++) expect(text(small.decrypt(sent[i]!))).toBe(`message ${i}`);
  });

  it('refuses the Session constructor outside the library', () => {
    expect(
      () => new Session(new Uint8Array(32), new Uint8Array(32), true, undefined, undefined, {} as never, provider),
    ).toThrow(InvalidArgumentError);
  });
});

describe('Session.deserialize strictness', () => {
  const provider = providers[1]!;
  const pair = establish(provider, { confirm: true });
  const sent = [pair.alice.encrypt(msg(0)), pair.alice.encrypt(msg(1))];
  pair.bob.decrypt(sent[1]!); // one skipped key
  const bobState = pair.bob.serialize();
  const aliceState = establish(provider, { label: 2 }).alice.serialize(); // pending prekey data
  const deps = makeDeps(provider, rng(9));
  const mutate = (bytes: Uint8Array, change: (f: unknown[]) => void) => {
    const f = fields(bytes);
    change(f);
    return encodeWire(f);
  };

  it('round-trips the unmodified field lists', () => {
    expect(
      toHex(
        Session.deserialize(
          mutate(bobState, () => {}),
          deps,
        ).serialize(),
      ),
    ).toBe(toHex(bobState));
    expect(
      toHex(
        Session.deserialize(
          mutate(aliceState, () => {}),
          deps,
        ).serialize(),
      ),
    ).toBe(toHex(aliceState));
  });

  it.each([
    ['short identity key', (f: unknown[]) => (f[1] = new Uint8Array(31))],
    ['initiator flag as number', (f: unknown[]) => (f[3] = 1)],
    ['long root key', (f: unknown[]) => (f[4] = new Uint8Array(33))],
    ['chain index beyond u32 + 1', (f: unknown[]) => (f[9] = 2 ** 32 + 1)],
    ['receiving index without a chain', (f: unknown[]) => f.splice(10, 2, null, 3)],
    ['negative counter', (f: unknown[]) => (f[12] = -1)],
    ['previous chain entry malformed', (f: unknown[]) => (f[13] = [[new Uint8Array(32)]])],
    ['skipped entry with short key', (f: unknown[]) => (f[14] = [[new Uint8Array(32), 0, new Uint8Array(31), 0]])],
    ['skipped entries repeated', (f: unknown[]) => (f[14] = [...(f[14] as unknown[]), ...(f[14] as unknown[])])],
    ['responder with pending prekey data', (f: unknown[]) => (f[15] = fields(aliceState)[15])],
    ['responder without digest', (f: unknown[]) => (f[16] = null)],
    ['trailing field', (f: unknown[]) => f.push(0)],
    ['missing field', (f: unknown[]) => f.pop()],
  ])('%s -> InvalidSessionError', (_name, change) => {
    expect(() => Session.deserialize(mutate(bobState, change), deps)).toThrow(InvalidSessionError);
  });

  it.each([
    ['initiator with a digest', (f: unknown[]) => (f[16] = new Uint8Array(32))],
    ['half a ratchet key pair', (f: unknown[]) => (f[6] = null)],
    ['sending chain without a key pair', (f: unknown[]) => f.splice(5, 2, null, null)],
    ['pending entry malformed', (f: unknown[]) => (f[15] = [[new Uint8Array(32), 1]])],
    ['two pending entries', (f: unknown[]) => (f[15] = [(f[15] as unknown[])[0], (f[15] as unknown[])[0]])],
  ])('initiator: %s -> InvalidSessionError', (_name, change) => {
    expect(() => Session.deserialize(mutate(aliceState, change), deps)).toThrow(InvalidSessionError);
  });

  it('refuses every truncation, unknown versions and junk', () => {
    for (let n = 0; n < bobState.length; n += 7) {
      expect(() => Session.deserialize(bobState.subarray(0, n), deps)).toThrow(InvalidSessionError);
    }
    expect(() =>
      Session.deserialize(
        mutate(bobState, (f) => (f[0] = 2)),
        deps,
      ),
    ).toThrow(UnsupportedVersionError);
    expect(() => Session.deserialize(utf8ToBytes('{"rootKey":1}'), deps)).toThrow(InvalidSessionError);
    expect(() => Session.deserialize(bobState, { ...deps, clock: 5 as never })).toThrow(InvalidArgumentError);
    expect(() => Session.deserialize(bobState, { ...deps, limits: { maxSkip: -1 } })).toThrow(InvalidArgumentError);
  });
});
