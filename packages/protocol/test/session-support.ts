/**
 * Shared setup for the prekey, PQXDH, ratchet and session tests: deterministic devices
 * with prekeys, and established session pairs.
 */
import {
  acceptSession,
  type CryptoProvider,
  type Ed25519KeyPair,
  generateEd25519KeyPair,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  initiateSession,
  type KemPreKey,
  kemPreKeyPublic,
  manualClock,
  type OneTimePreKey,
  oneTimePreKeyPublic,
  type PreKeyBundle,
  type PreKeyLookup,
  type RandomSource,
  type RatchetLimits,
  type Session,
  type SessionDeps,
  type SignedPreKey,
  signedPreKeyPublic,
  type UsedPreKeys,
  utf8ToBytes,
} from '@vaultex/protocol';
import { expect } from 'vitest';
import { rng } from './support.js';

/** A device with its identity and private prekeys, as a client would hold them. */
export interface TestDevice {
  readonly keys: Ed25519KeyPair;
  readonly deviceId: number;
  readonly signedPreKey: SignedPreKey;
  readonly oneTimePreKeys: Map<number, OneTimePreKey>;
  readonly kemPreKeys: Map<number, KemPreKey>;
  readonly lookup: PreKeyLookup;
  /** A bundle as the server would serve it: next one-time prekey and one-time KEM key, if any left. */
  bundle(options?: { oneTime?: boolean; lastResort?: boolean }): PreKeyBundle;
  /** Delete what an accepted session consumed, as the client must. */
  consume(used: UsedPreKeys): void;
}

const LAST_RESORT_ID = 900;

/** A deterministic device: `oneTime` one-time prekeys and as many one-time KEM prekeys, plus a last-resort one. */
export function makeDevice(provider: CryptoProvider, label: number, deviceId = 1, oneTime = 2): TestDevice {
  const random = rng(label);
  const keys = generateEd25519KeyPair(provider, random);
  const signedPreKey = generateSignedPreKey(keys, 1, 1_000, provider, random);
  const oneTimePreKeys = new Map(generateOneTimePreKeys(100, oneTime, provider, random).map((k) => [k.id, k]));
  const kemPreKeys = new Map<number, KemPreKey>();
  for (let i = 0; i < oneTime; i++)
    kemPreKeys.set(500 + i, generateKemPreKey(keys, 500 + i, false, 1_000, provider, random));
  kemPreKeys.set(LAST_RESORT_ID, generateKemPreKey(keys, LAST_RESORT_ID, true, 1_000, provider, random));
  const lookup: PreKeyLookup = {
    signedPreKey: (id) => (id === signedPreKey.id ? signedPreKey : undefined),
    oneTimePreKey: (id) => oneTimePreKeys.get(id),
    kemPreKey: (id) => kemPreKeys.get(id),
  };
  return {
    keys,
    deviceId,
    signedPreKey,
    oneTimePreKeys,
    kemPreKeys,
    lookup,
    bundle(options = {}) {
      const opk = options.oneTime === false ? undefined : [...oneTimePreKeys.values()][0];
      const oneTimeKem = [...kemPreKeys.values()].find((k) => !k.lastResort);
      const kem = options.lastResort || oneTimeKem === undefined ? kemPreKeys.get(LAST_RESORT_ID)! : oneTimeKem;
      return {
        identityKey: keys.publicKey,
        deviceId,
        signedPreKey: signedPreKeyPublic(signedPreKey),
        ...(opk ? { oneTimePreKey: oneTimePreKeyPublic(opk) } : {}),
        kemPreKey: kemPreKeyPublic(kem),
      };
    },
    consume(used) {
      if (used.oneTimePreKeyId !== undefined) oneTimePreKeys.delete(used.oneTimePreKeyId);
      if (!used.kemLastResort) kemPreKeys.delete(used.kemPreKeyId);
    },
  };
}

/** Deterministic dependencies; all parties of one test share a manual clock. */
export function makeDeps(
  provider: CryptoProvider,
  random: RandomSource,
  clock = manualClock(1_700_000_000_000),
  limits?: Partial<RatchetLimits>,
): SessionDeps & { clock: ReturnType<typeof manualClock> } {
  return limits === undefined ? { provider, random, clock } : { provider, random, clock, limits };
}

/** Two established sessions and the parties' dependencies. */
export interface Pair {
  alice: Session;
  bob: Session;
  readonly aliceDeps: ReturnType<typeof makeDeps>;
  readonly bobDeps: ReturnType<typeof makeDeps>;
  readonly clock: ReturnType<typeof manualClock>;
  readonly aliceDevice: TestDevice;
  readonly bobDevice: TestDevice;
}

/**
 * Alice initiates with Bob's bundle and sends "hello"; Bob accepts. With `confirm`, Bob
 * replies once so that Alice's next messages are ratchet messages.
 */
export function establish(
  provider: CryptoProvider,
  options: {
    label?: number;
    confirm?: boolean;
    limits?: Partial<RatchetLimits>;
    oneTime?: boolean;
    aliceDevice?: TestDevice;
  } = {},
): Pair {
  const label = options.label ?? 1;
  const aliceDevice = options.aliceDevice ?? makeDevice(provider, label * 10 + 1);
  const bobDevice = makeDevice(provider, label * 10 + 2);
  const clock = manualClock(1_700_000_000_000);
  const aliceDeps = makeDeps(provider, rng(label * 10 + 3), clock, options.limits);
  const bobDeps = makeDeps(provider, rng(label * 10 + 4), clock, options.limits);
  const alice = initiateSession(aliceDevice.keys, bobDevice.bundle({ oneTime: options.oneTime }), aliceDeps);
  const first = alice.encrypt(utf8ToBytes('hello'));
  const accepted = acceptSession(bobDevice.keys, first, bobDevice.lookup, bobDeps);
  bobDevice.consume(accepted.usedPreKeys);
  expect(text(accepted.plaintext)).toBe('hello');
  const pair: Pair = { alice, bob: accepted.session, aliceDeps, bobDeps, clock, aliceDevice, bobDevice };
  if (options.confirm) {
    expect(text(alice.decrypt(pair.bob.encrypt(utf8ToBytes('welcome'))))).toBe('welcome');
  }
  return pair;
}

/** UTF-8 decode for assertions. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** A distinct plaintext per index. */
export function msg(label: string | number): Uint8Array {
  return utf8ToBytes(`message ${label}`);
}

/** Expect `op` to throw a ProtocolError of `code` and leave `session` byte-for-byte unchanged. */
export function expectRejected(session: Session, op: () => unknown, code?: string): void {
  const before = session.serialize();
  let thrown: unknown;
  try {
    op();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'operation should throw').toBeDefined();
  expect((thrown as { name?: string }).name).toMatch(/Error$/);
  expect(thrown).toHaveProperty('code');
  if (code !== undefined) expect((thrown as { code: string }).code).toBe(code);
  expect(Buffer.from(session.serialize()).equals(Buffer.from(before))).toBe(true);
}
