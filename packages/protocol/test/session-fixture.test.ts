/**
 * Cross-version checks: a frozen version-1 session state must keep deserialising and
 * decrypting (fixtures/session-v1.json), and the session vector (vectors/session-vectors.json)
 * must be reproduced exactly from its listed inputs. Both files come from
 * packages/protocol/test/fixtures/generate-session-fixture.ts, run once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  acceptSession,
  type Ed25519KeyPair,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  initiatePqxdh,
  initiateSession,
  isProtocolError,
  kemPreKeyPublic,
  manualClock,
  oneTimePreKeyPublic,
  type PreKeyBundle,
  type RandomSource,
  SESSION_STATE_VERSION,
  Session,
  signedPreKeyPublic,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { text } from './session-support.js';
import { hex, providers, rng, toHex } from './support.js';

interface Step {
  message: string;
  plaintext?: string;
  error?: string;
}
interface Fixture {
  formatVersion: number;
  clock: number;
  sessions: { name: string; state: string; steps: Step[] }[];
}
interface Vector {
  input: Record<string, string> & { createdAt: number; plaintext: string };
  output: Record<string, string>;
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'session-v1.json'), 'utf8')) as Fixture;
const vector = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'session-vectors.json'), 'utf8')) as Vector;

function queue(chunks: Uint8Array[]): RandomSource {
  let i = 0;
  return (n) => {
    const next = chunks[i++];
    if (next === undefined || next.length !== n) throw new Error(`random draw ${i}: expected ${n} bytes`);
    return next.slice();
  };
}

describe.each(providers)('frozen session state v1 ($name)', (provider) => {
  it('is the format this library writes', () => {
    expect(fixture.formatVersion).toBe(1);
    expect(SESSION_STATE_VERSION).toBeGreaterThanOrEqual(fixture.formatVersion);
  });

  it.each(fixture.sessions.map((s) => [s.name, s] as const))('%s still deserialises and decrypts', (_name, entry) => {
    const deps = { provider, random: rng(77), clock: manualClock(fixture.clock) };
    const state = hex(entry.state);
    const session = Session.deserialize(state, deps);
    // While version 1 is current, reading and writing it back must not change a byte.
    if (SESSION_STATE_VERSION === 1) expect(toHex(session.serialize())).toBe(entry.state);
    for (const step of entry.steps) {
      if (step.error === undefined) {
        expect(text(session.decrypt(hex(step.message)))).toBe(step.plaintext);
      } else {
        let code: string | undefined;
        try {
          session.decrypt(hex(step.message));
        } catch (e) {
          if (isProtocolError(e)) code = e.code;
        }
        expect(code).toBe(step.error);
      }
    }
    expect(entry.steps.length).toBeGreaterThan(0);
  });
});

describe.each(providers)('session vector ($name)', (provider) => {
  const input = Object.fromEntries(
    Object.entries(vector.input)
      .filter(([, v]) => typeof v === 'string' && /^[0-9a-f]+$/.test(v))
      .map(([k, v]) => [k, hex(v as string)]),
  ) as Record<string, Uint8Array>;
  const out = vector.output;
  const pair = (secretKey: Uint8Array): Ed25519KeyPair => ({
    secretKey,
    publicKey: provider.ed25519PublicKey(secretKey),
  });
  const alice = pair(input.aliceIdentitySecret!);
  const bob = pair(input.bobIdentitySecret!);
  const createdAt = vector.input.createdAt;
  const spk = generateSignedPreKey(bob, 1, createdAt, provider, queue([input.bobSignedPreKeyPrivate!]));
  const [opk] = generateOneTimePreKeys(100, 1, provider, queue([input.bobOneTimePreKeyPrivate!]));
  const kem = generateKemPreKey(bob, 500, false, createdAt, provider, queue([input.bobKemPreKeySeed!]));
  const bundle: PreKeyBundle = {
    identityKey: bob.publicKey,
    deviceId: 1,
    signedPreKey: signedPreKeyPublic(spk),
    oneTimePreKey: oneTimePreKeyPublic(opk!),
    kemPreKey: kemPreKeyPublic(kem),
  };

  it('reproduces keys and prekey signatures', () => {
    expect(toHex(alice.publicKey)).toBe(out.aliceIdentityKey);
    expect(toHex(bob.publicKey)).toBe(out.bobIdentityKey);
    expect(toHex(spk.keyPair.publicKey)).toBe(out.bobSignedPreKey);
    expect(toHex(spk.signature)).toBe(out.bobSignedPreKeySignature);
    expect(toHex(kem.signature)).toBe(out.bobKemPreKeySignature);
  });

  it('reproduces SK and AD', () => {
    const pq = initiatePqxdh(alice, bundle, provider, queue([input.aliceEphemeralPrivate!, input.aliceKemRandomness!]));
    expect(toHex(pq.baseKey)).toBe(out.baseKey);
    expect(toHex(pq.sharedSecret)).toBe(out.sharedSecret);
    expect(toHex(pq.associatedData)).toBe(out.associatedData);
  });

  it('reproduces the first message byte for byte, and Bob decrypts it', () => {
    const random = queue([input.aliceEphemeralPrivate!, input.aliceKemRandomness!, input.aliceRatchetPrivate!]);
    const session = initiateSession(alice, bundle, { provider, random, clock: () => createdAt });
    const first = session.encrypt(utf8ToBytes(vector.input.plaintext));
    expect(toHex(first)).toBe(out.firstMessage);
    const lookup = {
      signedPreKey: (id: number) => (id === 1 ? spk : undefined),
      oneTimePreKey: (id: number) => (id === 100 ? opk : undefined),
      kemPreKey: (id: number) => (id === 500 ? kem : undefined),
    };
    const accepted = acceptSession(bob, first, lookup, { provider, random: rng(1), clock: () => createdAt });
    expect(text(accepted.plaintext)).toBe(vector.input.plaintext);
  });
});
