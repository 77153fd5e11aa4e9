/**
 * Prekeys: what a device publishes so that others can open a PQXDH session with it
 * while it is offline. A signed X25519 prekey (rotated weekly), a batch of one-time
 * X25519 prekeys, and ML-KEM-1024 prekeys (one-time, plus a last-resort one), each KEM
 * prekey and the signed prekey signed by the device's Ed25519 key.
 * See docs/PROTOCOL.md section "Prekeys".
 */
import { assertBytes, assertFunction, assertInteger, assertObject, assertProvider } from './assert.js';
import { utf8ToBytes } from './bytes.js';
import { InvalidArgumentError, InvalidMessageError, InvalidSignatureError } from './errors.js';
import { MAX_DEVICE_ID } from './identity.js';
import {
  ED25519_SIGNATURE_LENGTH,
  type Ed25519KeyPair,
  encodePublicKey,
  generateX25519KeyPair,
  KeyType,
  ML_KEM_1024_PUBLIC_KEY_LENGTH,
  type X25519KeyPair,
} from './keys.js';
import type { CryptoProvider, KemKeyPair } from './provider/provider.js';
import type { RandomSource } from './random.js';
import { decodeWire, encodeWire } from './wire.js';

/** A signed prekey is replaced after this long (7 days). */
export const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 60 * 60 * 1000;
/** One-time prekeys are uploaded in batches of this size. */
export const ONE_TIME_PREKEY_BATCH = 100;
/** A client replenishes its one-time prekeys when the server holds fewer than this. */
export const ONE_TIME_PREKEY_LOW_WATER = 20;
/** Largest prekey id (ids are uint32). */
export const MAX_PREKEY_ID = 0xffff_ffff;

const SIGNED_PREKEY_CONTEXT = utf8ToBytes('VAULTEX signed prekey v1');
const KEM_PREKEY_CONTEXT = utf8ToBytes('VAULTEX kem prekey v1');

/** A signed X25519 prekey with its private key (kept by the device). */
export interface SignedPreKey {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
  readonly signature: Uint8Array;
  /** Milliseconds since the epoch; rotation is due {@link SIGNED_PREKEY_ROTATION_MS} later. */
  readonly createdAt: number;
}

/** A one-time X25519 prekey with its private key. Deleted once a session consumed it. */
export interface OneTimePreKey {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
}

/** A signed ML-KEM-1024 prekey with its secret key. One-time unless `lastResort`. */
export interface KemPreKey {
  readonly id: number;
  readonly keyPair: KemKeyPair;
  readonly signature: Uint8Array;
  /** A last-resort key is reused until replaced; a one-time key is deleted after use. */
  readonly lastResort: boolean;
  readonly createdAt: number;
}

/** Public form of a signed prekey, as uploaded to and served by the server. */
export interface SignedPreKeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** Public form of a one-time prekey. */
export interface OneTimePreKeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

/** Public form of a KEM prekey. */
export interface KemPreKeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly lastResort: boolean;
}

/** Everything an initiator needs to open a session with one device. */
export interface PreKeyBundle {
  /** The device's Ed25519 identity key (raw 32 bytes). */
  readonly identityKey: Uint8Array;
  readonly deviceId: number;
  readonly signedPreKey: SignedPreKeyPublic;
  readonly oneTimePreKey?: OneTimePreKeyPublic;
  readonly kemPreKey: KemPreKeyPublic;
}

/**
 * The responder's view of its private prekeys, looked up by the ids an initial message
 * names. Return undefined for a key that is not held (consumed or never issued).
 */
export interface PreKeyLookup {
  signedPreKey(id: number): SignedPreKey | undefined;
  oneTimePreKey(id: number): OneTimePreKey | undefined;
  kemPreKey(id: number): KemPreKey | undefined;
}

function signedPreKeyMessage(id: number, publicKey: Uint8Array): Uint8Array {
  return encodeWire([SIGNED_PREKEY_CONTEXT, id, encodePublicKey(KeyType.X25519, publicKey)]);
}

function kemPreKeyMessage(id: number, lastResort: boolean, publicKey: Uint8Array): Uint8Array {
  return encodeWire([KEM_PREKEY_CONTEXT, id, lastResort, encodePublicKey(KeyType.MlKem1024, publicKey)]);
}

function assertDevice(device: Ed25519KeyPair): void {
  assertObject(device, 'device');
  assertBytes(device.secretKey, 'device.secretKey', 32);
  assertBytes(device.publicKey, 'device.publicKey', 32);
}

function assertDeps(provider: CryptoProvider, random: RandomSource): void {
  assertProvider(provider);
  assertFunction(random, 'random');
}

/**
 * Create a signed prekey, signed by the device key.
 * @throws InvalidArgumentError for a malformed device key, id or time.
 * @example const spk = generateSignedPreKey(device, 1, Date.now(), provider, systemRandom);
 */
export function generateSignedPreKey(
  device: Ed25519KeyPair,
  id: number,
  now: number,
  provider: CryptoProvider,
  random: RandomSource,
): SignedPreKey {
  assertDevice(device);
  assertInteger(id, 'id', 0, MAX_PREKEY_ID);
  assertInteger(now, 'now');
  assertDeps(provider, random);
  const keyPair = generateX25519KeyPair(provider, random);
  const signature = provider.ed25519Sign(device.secretKey, signedPreKeyMessage(id, keyPair.publicKey));
  return { id, keyPair, signature, createdAt: now };
}

/**
 * Create `count` one-time prekeys with consecutive ids from `startId` (wrapping past 2^32-1 to 0).
 * @throws InvalidArgumentError for a bad id or count (at most 10 000 at once).
 */
export function generateOneTimePreKeys(
  startId: number,
  count: number,
  provider: CryptoProvider,
  random: RandomSource,
): OneTimePreKey[] {
  assertInteger(startId, 'startId', 0, MAX_PREKEY_ID);
  assertInteger(count, 'count', 0, 10_000);
  assertDeps(provider, random);
  const out: OneTimePreKey[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ id: (startId + i) % (MAX_PREKEY_ID + 1), keyPair: generateX25519KeyPair(provider, random) });
  }
  return out;
}

/**
 * Create a signed ML-KEM-1024 prekey (64 bytes of randomness seed the key pair).
 * @throws InvalidArgumentError for a malformed device key, id or time.
 */
export function generateKemPreKey(
  device: Ed25519KeyPair,
  id: number,
  lastResort: boolean,
  now: number,
  provider: CryptoProvider,
  random: RandomSource,
): KemPreKey {
  assertDevice(device);
  assertInteger(id, 'id', 0, MAX_PREKEY_ID);
  assertInteger(now, 'now');
  if (typeof lastResort !== 'boolean') throw new InvalidArgumentError('lastResort: expected boolean');
  assertDeps(provider, random);
  const seed = random(64);
  const keyPair = provider.mlKem1024KeyPair(seed);
  seed.fill(0);
  const signature = provider.ed25519Sign(device.secretKey, kemPreKeyMessage(id, lastResort, keyPair.publicKey));
  return { id, keyPair, signature, lastResort, createdAt: now };
}

function assertKeyPair(key: { keyPair?: unknown }, field: string): void {
  assertObject(key, field);
  assertObject(key.keyPair, `${field}.keyPair`);
}

/**
 * The public part of a signed prekey.
 * @throws InvalidArgumentError when `key` is not a signed prekey.
 */
export function signedPreKeyPublic(key: SignedPreKey): SignedPreKeyPublic {
  assertKeyPair(key, 'key');
  return { id: key.id, publicKey: key.keyPair.publicKey, signature: key.signature };
}

/**
 * The public part of a one-time prekey.
 * @throws InvalidArgumentError when `key` is not a one-time prekey.
 */
export function oneTimePreKeyPublic(key: OneTimePreKey): OneTimePreKeyPublic {
  assertKeyPair(key, 'key');
  return { id: key.id, publicKey: key.keyPair.publicKey };
}

/**
 * The public part of a KEM prekey.
 * @throws InvalidArgumentError when `key` is not a KEM prekey.
 */
export function kemPreKeyPublic(key: KemPreKey): KemPreKeyPublic {
  assertKeyPair(key, 'key');
  return { id: key.id, publicKey: key.keyPair.publicKey, signature: key.signature, lastResort: key.lastResort };
}

function checkSignedPreKeyShape(key: SignedPreKeyPublic, field: string): void {
  assertInteger(key?.id, `${field}.id`, 0, MAX_PREKEY_ID);
  assertBytes(key.publicKey, `${field}.publicKey`, 32);
  assertBytes(key.signature, `${field}.signature`, ED25519_SIGNATURE_LENGTH);
}

function checkKemPreKeyShape(key: KemPreKeyPublic, field: string): void {
  assertInteger(key?.id, `${field}.id`, 0, MAX_PREKEY_ID);
  assertBytes(key.publicKey, `${field}.publicKey`, ML_KEM_1024_PUBLIC_KEY_LENGTH);
  assertBytes(key.signature, `${field}.signature`, ED25519_SIGNATURE_LENGTH);
  if (typeof key.lastResort !== 'boolean') throw new InvalidArgumentError(`${field}.lastResort: expected boolean`);
}

/**
 * Check a signed prekey's signature by the device key (the server does this on upload).
 * @throws InvalidSignatureError when it does not verify; InvalidArgumentError for malformed fields.
 */
export function verifySignedPreKey(deviceKey: Uint8Array, key: SignedPreKeyPublic, provider: CryptoProvider): void {
  assertBytes(deviceKey, 'deviceKey', 32);
  assertProvider(provider);
  checkSignedPreKeyShape(key, 'signedPreKey');
  if (!provider.ed25519Verify(deviceKey, signedPreKeyMessage(key.id, key.publicKey), key.signature)) {
    throw new InvalidSignatureError('signed prekey signature does not verify');
  }
}

/**
 * Check a KEM prekey's signature by the device key (the server does this on upload).
 * @throws InvalidSignatureError when it does not verify; InvalidArgumentError for malformed fields.
 */
export function verifyKemPreKey(deviceKey: Uint8Array, key: KemPreKeyPublic, provider: CryptoProvider): void {
  assertBytes(deviceKey, 'deviceKey', 32);
  assertProvider(provider);
  checkKemPreKeyShape(key, 'kemPreKey');
  if (!provider.ed25519Verify(deviceKey, kemPreKeyMessage(key.id, key.lastResort, key.publicKey), key.signature)) {
    throw new InvalidSignatureError('kem prekey signature does not verify');
  }
}

/**
 * Check both signatures of a bundle. An initiator must do this before any DH with it
 * ({@link initiatePqxdh} does).
 * @throws InvalidSignatureError when either signature fails; InvalidArgumentError for malformed fields.
 */
export function verifyPreKeyBundle(bundle: PreKeyBundle, provider: CryptoProvider): void {
  checkBundleShape(bundle);
  verifySignedPreKey(bundle.identityKey, bundle.signedPreKey, provider);
  verifyKemPreKey(bundle.identityKey, bundle.kemPreKey, provider);
}

function checkBundleShape(bundle: PreKeyBundle): void {
  if (typeof bundle !== 'object' || bundle === null) throw new InvalidArgumentError('bundle: expected object');
  assertBytes(bundle.identityKey, 'bundle.identityKey', 32);
  assertInteger(bundle.deviceId, 'bundle.deviceId', 1, MAX_DEVICE_ID);
  checkSignedPreKeyShape(bundle.signedPreKey, 'bundle.signedPreKey');
  if (bundle.oneTimePreKey !== undefined) {
    assertInteger(bundle.oneTimePreKey?.id, 'bundle.oneTimePreKey.id', 0, MAX_PREKEY_ID);
    assertBytes(bundle.oneTimePreKey.publicKey, 'bundle.oneTimePreKey.publicKey', 32);
  }
  checkKemPreKeyShape(bundle.kemPreKey, 'bundle.kemPreKey');
}

/**
 * Serialise a bundle:
 * `[1, identityKey, deviceId, spkId, spk, spkSig, opkId|nil, opk|nil, kemId, kemPk, kemSig, lastResort]`.
 * @throws InvalidArgumentError for malformed fields.
 */
export function encodePreKeyBundle(bundle: PreKeyBundle): Uint8Array {
  checkBundleShape(bundle);
  const { signedPreKey: spk, oneTimePreKey: opk, kemPreKey: kem } = bundle;
  return encodeWire([
    1,
    bundle.identityKey,
    bundle.deviceId,
    spk.id,
    spk.publicKey,
    spk.signature,
    opk ? opk.id : null,
    opk ? opk.publicKey : null,
    kem.id,
    kem.publicKey,
    kem.signature,
    kem.lastResort,
  ]);
}

/**
 * Parse a bundle. Signatures are not checked here: call {@link verifyPreKeyBundle}.
 * @throws InvalidMessageError for malformed bytes; UnsupportedVersionError for unknown versions.
 */
export function decodePreKeyBundle(bytes: Uint8Array): PreKeyBundle {
  return decodeWire(bytes, {
    what: 'prekey bundle',
    versions: [1],
    read: (r) => {
      const identityKey = r.bytes('identityKey', 32);
      const deviceId = r.uint('deviceId', MAX_DEVICE_ID, 1);
      const signedPreKey = {
        id: r.uint('signedPreKeyId', MAX_PREKEY_ID),
        publicKey: r.bytes('signedPreKey', 32),
        signature: r.bytes('signedPreKeySignature', ED25519_SIGNATURE_LENGTH),
      };
      const opkId = r.optionalUint('oneTimePreKeyId', MAX_PREKEY_ID);
      const opk = r.optionalBytes('oneTimePreKey', 32);
      if ((opkId === undefined) !== (opk === undefined)) {
        throw new InvalidMessageError('prekey bundle: oneTimePreKeyId and oneTimePreKey must both be present or nil');
      }
      const kemPreKey = {
        id: r.uint('kemPreKeyId', MAX_PREKEY_ID),
        publicKey: r.bytes('kemPreKey', ML_KEM_1024_PUBLIC_KEY_LENGTH),
        signature: r.bytes('kemPreKeySignature', ED25519_SIGNATURE_LENGTH),
        lastResort: r.boolean('lastResort'),
      };
      r.end();
      const bundle: PreKeyBundle = { identityKey, deviceId, signedPreKey, kemPreKey };
      return opkId === undefined || opk === undefined
        ? bundle
        : { ...bundle, oneTimePreKey: { id: opkId, publicKey: opk } };
    },
  });
}
