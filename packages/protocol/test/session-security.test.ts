/**
 * Forward secrecy and post-compromise security, asserted concretely: an attacker holds a
 * serialised copy of Bob's session (as if stolen from his disk) and every ciphertext on the
 * wire, and tries to decrypt with it.
 */
import { decodeWire, isProtocolError, Session } from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { establish, makeDeps, msg, text } from './session-support.js';
import { providers, rng } from './support.js';

/** Decrypt with a fresh copy of the stolen state, returning the plaintext or the error code. */
function attempt(stolen: Session, message: Uint8Array): string {
  try {
    return text(stolen.decrypt(message));
  } catch (e) {
    expect(isProtocolError(e)).toBe(true);
    return `error:${(e as { code: string }).code}`;
  }
}

/** The skipped-key list of a serialised session (field 14 of the state array). */
function skippedKeys(state: Uint8Array): unknown {
  return decodeWire(state, {
    what: 'stolen state',
    versions: [1],
    read: (r) => {
      for (let i = 0; i < 13; i++) r.raw('field');
      return r.raw('skipped');
    },
  });
}

describe.each(providers)('session security ($name)', (provider) => {
  const eveDeps = () => makeDeps(provider, rng(666));

  it("forward secrecy: today's state cannot decrypt yesterday's messages", () => {
    const { alice, bob, clock } = establish(provider, { confirm: true });
    const yesterday = [alice.encrypt(msg('y0')), alice.encrypt(msg('y1')), alice.encrypt(msg('y2'))];
    for (const m of yesterday) bob.decrypt(m);
    // Messages from an older chain too, one of them received out of order.
    alice.decrypt(bob.encrypt(msg('turn')));
    const older = [alice.encrypt(msg('o0')), alice.encrypt(msg('o1'))];
    bob.decrypt(older[1]!);
    bob.decrypt(older[0]!);
    // One skipped message never arrives; its key expires.
    const lost = alice.encrypt(msg('lost'));
    bob.decrypt(alice.encrypt(msg('after lost')));
    expect(skippedKeys(bob.serialize())).toHaveLength(1); // the lost message's key, until it expires
    clock.advance(31 * 24 * 3600 * 1000);
    alice.decrypt(bob.encrypt(msg('a month later')));
    bob.decrypt(alice.encrypt(msg('today')));

    const stolen = bob.serialize();
    const eve = Session.deserialize(stolen, eveDeps());
    for (const m of [...yesterday, ...older]) expect(attempt(eve, m)).toBe('error:DUPLICATE_MESSAGE');
    expect(attempt(eve, lost)).toBe('error:DUPLICATE_MESSAGE');
    // The stolen state holds no message key at all: the skipped-key list (field 14) is empty.
    expect(skippedKeys(stolen)).toEqual([]);
  });

  it('post-compromise security, theft right after a receive: healed once Bob has replied', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    bob.decrypt(alice.encrypt(msg('a1.0'))); // Alice's chain a1 reaches Bob
    const eve = Session.deserialize(bob.serialize(), eveDeps()); // stolen now

    // 1. A->B in the current chain: the thief reads it (chain keys were stolen).
    const sameChain = alice.encrypt(msg('a1.1'));
    expect(text(bob.decrypt(sameChain))).toBe('message a1.1');
    expect(attempt(eve, sameChain)).toBe('message a1.1');
    // 2. B->A: Bob draws a fresh ratchet key the thief never saw.
    expect(text(alice.decrypt(bob.encrypt(msg('b2.0'))))).toBe('message b2.0');
    // 3. A->B: Alice's new chain depends on DH(a2, b2); the thief cannot follow.
    const healed = alice.encrypt(msg('a2.0'));
    expect(text(bob.decrypt(healed))).toBe('message a2.0');
    expect(attempt(eve, healed)).toMatch(/^error:INVALID_MESSAGE$/);
    // 4. ...and nothing after it either.
    alice.decrypt(bob.encrypt(msg('b3.0')));
    const later = alice.encrypt(msg('a3.0'));
    bob.decrypt(later);
    expect(attempt(eve, later)).toMatch(/^error:/);
  });

  it('post-compromise security, theft while Bob holds a sending key: healed after one full round trip', () => {
    const { alice, bob } = establish(provider, { confirm: true });
    bob.decrypt(alice.encrypt(msg('a1.0')));
    const b2 = bob.encrypt(msg('b2.0')); // Bob's ratchet key b2 now exists, private half in his state
    const eve = Session.deserialize(bob.serialize(), eveDeps()); // stolen now, b2 private included

    // A -> B, current chain: readable.
    const current = alice.encrypt(msg('a1.1'));
    expect(text(bob.decrypt(current))).toBe('message a1.1');
    expect(attempt(eve, current)).toBe('message a1.1');
    // B -> A (b2 arrives), A -> B on a2 = DH(a2, b2): still readable, b2's private key was stolen.
    alice.decrypt(b2);
    const a2 = alice.encrypt(msg('a2.0'));
    expect(text(bob.decrypt(a2))).toBe('message a2.0');
    expect(attempt(eve, a2)).toBe('message a2.0');
    // B -> A with a fresh b3, A -> B on a3 = DH(a3, b3): the thief is locked out.
    alice.decrypt(bob.encrypt(msg('b3.0')));
    const a3 = alice.encrypt(msg('a3.0'));
    expect(text(bob.decrypt(a3))).toBe('message a3.0');
    expect(attempt(eve, a3)).toBe('error:INVALID_MESSAGE');
  });

  it('a stolen initiator state before the first reply cannot read after the ratchet turns', () => {
    const { alice, bob } = establish(provider);
    const eve = Session.deserialize(alice.serialize(), eveDeps());
    const reply = bob.encrypt(msg('b1.0'));
    expect(attempt(eve, reply)).toBe('message b1.0'); // the reply answers the stolen ratchet key
    alice.decrypt(reply);
    bob.decrypt(alice.encrypt(msg('a1.0')));
    const next = bob.encrypt(msg('b2.0'));
    expect(text(alice.decrypt(next))).toBe('message b2.0');
    expect(attempt(eve, next)).toBe('error:INVALID_MESSAGE');
  });
});
