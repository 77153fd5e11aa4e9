import {
  decodePreKeyBundle,
  encodePreKeyBundle,
  encodeWire,
  generateEd25519KeyPair,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidSignatureError,
  kemPreKeyPublic,
  ML_KEM_1024_PUBLIC_KEY_LENGTH,
  ONE_TIME_PREKEY_BATCH,
  ONE_TIME_PREKEY_LOW_WATER,
  type PreKeyBundle,
  SIGNED_PREKEY_ROTATION_MS,
  signedPreKeyPublic,
  UnsupportedVersionError,
  verifyKemPreKey,
  verifyPreKeyBundle,
  verifySignedPreKey,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { makeDevice } from './session-support.js';
import { providers, rng } from './support.js';

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const out = bytes.slice();
  out[index]! ^= 0x01;
  return out;
}

describe('prekey constants', () => {
  it('match the design', () => {
    expect(SIGNED_PREKEY_ROTATION_MS).toBe(7 * 24 * 3600 * 1000);
    expect(ONE_TIME_PREKEY_BATCH).toBe(100);
    expect(ONE_TIME_PREKEY_LOW_WATER).toBe(20);
  });
});

describe.each(providers)('prekeys ($name)', (provider) => {
  const device = generateEd25519KeyPair(provider, rng(1));
  const other = generateEd25519KeyPair(provider, rng(2));

  it('signs a signed prekey that verifies with the device key only', () => {
    const spk = generateSignedPreKey(device, 7, 123, provider, rng(3));
    expect(spk.id).toBe(7);
    expect(spk.createdAt).toBe(123);
    expect(spk.keyPair.publicKey).toEqual(provider.x25519PublicKey(spk.keyPair.privateKey));
    const pub = signedPreKeyPublic(spk);
    expect(() => verifySignedPreKey(device.publicKey, pub, provider)).not.toThrow();
    expect(() => verifySignedPreKey(other.publicKey, pub, provider)).toThrow(InvalidSignatureError);
    expect(() => verifySignedPreKey(device.publicKey, { ...pub, id: 8 }, provider)).toThrow(InvalidSignatureError);
    expect(() => verifySignedPreKey(device.publicKey, { ...pub, publicKey: flip(pub.publicKey, 0) }, provider)).toThrow(
      InvalidSignatureError,
    );
    expect(() =>
      verifySignedPreKey(device.publicKey, { ...pub, signature: flip(pub.signature, 63) }, provider),
    ).toThrow(InvalidSignatureError);
  });

  it('signs KEM prekeys over id, key and the last-resort flag', () => {
    const kem = generateKemPreKey(device, 9, false, 55, provider, rng(4));
    expect(kem.keyPair.publicKey.length).toBe(ML_KEM_1024_PUBLIC_KEY_LENGTH);
    const pub = kemPreKeyPublic(kem);
    expect(() => verifyKemPreKey(device.publicKey, pub, provider)).not.toThrow();
    // A server must not be able to turn a one-time KEM key into a last-resort one.
    expect(() => verifyKemPreKey(device.publicKey, { ...pub, lastResort: true }, provider)).toThrow(
      InvalidSignatureError,
    );
    expect(() => verifyKemPreKey(device.publicKey, { ...pub, id: 10 }, provider)).toThrow(InvalidSignatureError);
    expect(() => verifyKemPreKey(device.publicKey, { ...pub, publicKey: flip(pub.publicKey, 700) }, provider)).toThrow(
      InvalidSignatureError,
    );
    expect(() => verifyKemPreKey(other.publicKey, pub, provider)).toThrow(InvalidSignatureError);
  });

  it('generates one-time prekeys with consecutive ids, wrapping at 2^32', () => {
    const keys = generateOneTimePreKeys(0xffff_fffe, 3, provider, rng(5));
    expect(keys.map((k) => k.id)).toEqual([0xffff_fffe, 0xffff_ffff, 0]);
    expect(new Set(keys.map((k) => Buffer.from(k.keyPair.publicKey).toString('hex'))).size).toBe(3);
  });

  it('round-trips a bundle with and without a one-time prekey', () => {
    const dev = makeDevice(provider, 6);
    for (const oneTime of [true, false]) {
      const bundle = dev.bundle({ oneTime });
      const decoded = decodePreKeyBundle(encodePreKeyBundle(bundle));
      expect(decoded).toEqual(bundle);
      expect(() => verifyPreKeyBundle(decoded, provider)).not.toThrow();
    }
  });

  it('refuses a bundle with a bad signed-prekey or KEM signature', () => {
    const bundle = makeDevice(provider, 7).bundle();
    const badSpk: PreKeyBundle = {
      ...bundle,
      signedPreKey: { ...bundle.signedPreKey, signature: flip(bundle.signedPreKey.signature, 5) },
    };
    const badKem: PreKeyBundle = {
      ...bundle,
      kemPreKey: { ...bundle.kemPreKey, signature: flip(bundle.kemPreKey.signature, 5) },
    };
    const otherIdentity: PreKeyBundle = { ...bundle, identityKey: other.publicKey };
    for (const b of [badSpk, badKem, otherIdentity]) {
      expect(() => verifyPreKeyBundle(b, provider)).toThrow(InvalidSignatureError);
    }
  });
});

describe('prekey argument checks', () => {
  const provider = providers[0]!;
  const device = generateEd25519KeyPair(provider, rng(1));
  it.each([
    ['negative id', () => generateSignedPreKey(device, -1, 0, provider, rng(1))],
    ['id above u32', () => generateSignedPreKey(device, 2 ** 32, 0, provider, rng(1))],
    ['fractional time', () => generateSignedPreKey(device, 1, 0.5, provider, rng(1))],
    [
      'short device key',
      () => generateSignedPreKey({ ...device, secretKey: new Uint8Array(31) }, 1, 0, provider, rng(1)),
    ],
    ['missing device', () => generateKemPreKey(undefined as never, 1, false, 0, provider, rng(1))],
    ['non-boolean lastResort', () => generateKemPreKey(device, 1, 1 as never, 0, provider, rng(1))],
    ['too many one-time keys', () => generateOneTimePreKeys(0, 10_001, provider, rng(1))],
    ['string count', () => generateOneTimePreKeys(0, '3' as never, provider, rng(1))],
    ['bundle not an object', () => verifyPreKeyBundle(null as never, provider)],
    ['verify with a short key', () => verifySignedPreKey(new Uint8Array(3), {} as never, provider)],
  ])('%s -> InvalidArgumentError', (_name, op) => {
    expect(op).toThrow(InvalidArgumentError);
  });
});

describe('decodePreKeyBundle strictness', () => {
  const provider = providers[0]!;
  const bundle = makeDevice(provider, 8).bundle();
  const b = bundle;
  const fields = (): unknown[] => [
    1,
    b.identityKey,
    b.deviceId,
    b.signedPreKey.id,
    b.signedPreKey.publicKey,
    b.signedPreKey.signature,
    b.oneTimePreKey!.id,
    b.oneTimePreKey!.publicKey,
    b.kemPreKey.id,
    b.kemPreKey.publicKey,
    b.kemPreKey.signature,
    b.kemPreKey.lastResort,
  ];
  it('accepts the canonical field list', () => {
    expect(decodePreKeyBundle(encodeWire(fields()))).toEqual(bundle);
  });
  it.each([
    ['trailing field', (f: unknown[]) => f.push(0)],
    ['missing field', (f: unknown[]) => f.pop()],
    ['short identity key', (f: unknown[]) => (f[1] = new Uint8Array(31))],
    ['device id 0', (f: unknown[]) => (f[2] = 0)],
    ['negative prekey id', (f: unknown[]) => (f[3] = -1)],
    ['short signature', (f: unknown[]) => (f[5] = new Uint8Array(63))],
    ['one-time id without key', (f: unknown[]) => (f[7] = null)],
    ['one-time key without id', (f: unknown[]) => (f[6] = null)],
    ['short KEM key', (f: unknown[]) => (f[9] = new Uint8Array(1567))],
    ['lastResort as number', (f: unknown[]) => (f[11] = 1)],
    ['string in place of bytes', (f: unknown[]) => (f[4] = 'x'.repeat(32))],
  ])('%s -> InvalidMessageError', (_name, mutate) => {
    const f = fields();
    mutate(f);
    expect(() => decodePreKeyBundle(encodeWire(f))).toThrow(InvalidMessageError);
  });
  it('rejects unknown versions and non-MessagePack input', () => {
    const f = fields();
    f[0] = 2;
    expect(() => decodePreKeyBundle(encodeWire(f))).toThrow(UnsupportedVersionError);
    expect(() => decodePreKeyBundle(new Uint8Array([0xc1]))).toThrow(InvalidMessageError);
    expect(() => decodePreKeyBundle(new Uint8Array(0))).toThrow(InvalidMessageError);
  });
});
