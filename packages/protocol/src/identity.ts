/**
 * Identity: the account key (Ed25519, derived from a 24-word BIP-39 seed phrase), the
 * user ID, device keys certified by the account key, and the signed device list that
 * senders fan out to. See docs/PROTOCOL.md section "Identity".
 */
import { entropyToMnemonic, mnemonicToEntropy, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { assertBytes, assertFunction, assertInteger, assertObject, assertProvider, assertString } from './assert.js';
import { bytesToHex, utf8ToBytes } from './bytes.js';
import { InvalidArgumentError, InvalidCertificateError, InvalidSeedPhraseError } from './errors.js';
import { ED25519_SIGNATURE_LENGTH, type Ed25519KeyPair, generateEd25519KeyPair } from './keys.js';
import type { CryptoProvider } from './provider/provider.js';
import type { RandomSource } from './random.js';
import { decodeWire, encodeWire } from './wire.js';

/** HKDF info that turns the BIP-39 seed into the account key. */
const ACCOUNT_KEY_INFO = utf8ToBytes('VAULTEX account identity key v1');
/** Domain separators of the signed structures. */
const DEVICE_CERT_CONTEXT = utf8ToBytes('VAULTEX device certificate v1');
const DEVICE_LIST_CONTEXT = utf8ToBytes('VAULTEX device list v1');

/** Length of a user ID in bytes. */
export const USER_ID_LENGTH = 16;
/** Largest device id. */
export const MAX_DEVICE_ID = 0xffff_ffff;
/** Most devices a device list can hold (servers may configure fewer). */
export const MAX_DEVICES = 64;
const MAX_DEVICE_NAME = 64;

/** The account identity: one Ed25519 key pair per person, restorable from the seed phrase. */
export interface AccountIdentity extends Ed25519KeyPair {
  /** 16-byte user ID = SHA-256(public key)[0..16]. */
  readonly userId: Uint8Array;
}

/**
 * Generate a fresh 24-word English seed phrase (256 bits of entropy).
 * @example const phrase = generateSeedPhrase(systemRandom);
 */
export function generateSeedPhrase(random: RandomSource): string {
  assertFunction(random, 'random');
  const entropy = random(32);
  assertBytes(entropy, 'random(32)', 32);
  return entropyToMnemonic(entropy, wordlist);
}

/** Normalise user input: lower case, single spaces. */
function normalisePhrase(phrase: string): string {
  return phrase.normalize('NFKD').trim().toLowerCase().split(/\s+/u).join(' ');
}

/**
 * True when `phrase` is 24 valid BIP-39 English words with a correct checksum.
 */
export function isValidSeedPhrase(phrase: unknown): boolean {
  if (typeof phrase !== 'string' || phrase.length > 1024) return false;
  const normal = normalisePhrase(phrase);
  return normal.split(' ').length === 24 && validateMnemonic(normal, wordlist);
}

/**
 * Derive the account identity from a seed phrase: BIP-39 seed (PBKDF2, empty
 * passphrase) -> HKDF-SHA-256(info "VAULTEX account identity key v1") -> Ed25519 seed.
 * @throws InvalidSeedPhraseError when the phrase is not 24 valid words.
 */
export function accountFromSeedPhrase(phrase: string, provider: CryptoProvider): AccountIdentity {
  assertString(phrase, 'phrase', 1024);
  assertProvider(provider);
  if (!isValidSeedPhrase(phrase)) {
    throw new InvalidSeedPhraseError('seed phrase must be 24 BIP-39 English words with a valid checksum');
  }
  const normal = normalisePhrase(phrase);
  // mnemonicToEntropy re-validates; the entropy is not used beyond the check.
  mnemonicToEntropy(normal, wordlist);
  const seed = mnemonicToSeedSync(normal);
  const secretKey = provider.hkdfSha256(seed, new Uint8Array(0), ACCOUNT_KEY_INFO, 32);
  seed.fill(0);
  const publicKey = provider.ed25519PublicKey(secretKey);
  return { secretKey, publicKey, userId: userIdFromIdentityKey(publicKey, provider) };
}

/**
 * User ID = first 16 bytes of SHA-256(account identity public key).
 * @throws InvalidArgumentError for a key that is not 32 bytes.
 */
export function userIdFromIdentityKey(identityKey: Uint8Array, provider: CryptoProvider): Uint8Array {
  assertBytes(identityKey, 'identityKey', 32);
  assertProvider(provider);
  return provider.sha256(identityKey).slice(0, USER_ID_LENGTH);
}

/**
 * Display form of a user ID: upper-case hex in groups of four joined by a middle dot,
 * e.g. `7F3A·C291·08BE·4D12·…` (8 groups for the 16 bytes).
 */
export function formatUserId(userId: Uint8Array): string {
  assertBytes(userId, 'userId', USER_ID_LENGTH);
  return (bytesToHex(userId).toUpperCase().match(/.{4}/gu) ?? []).join('\u00b7');
}

/**
 * Parse a user ID from hex, with or without group separators.
 * Returns undefined for anything that is not 32 hex digits.
 */
export function parseUserId(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const hex = text.replace(/[\s\u00b7:-]/gu, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/u.test(hex)) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A device key certified by the account key. */
export interface DeviceCertificate {
  readonly version: 1;
  readonly accountKey: Uint8Array;
  readonly deviceId: number;
  readonly deviceKey: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly signature: Uint8Array;
}

function deviceCertificateSigned(
  accountKey: Uint8Array,
  deviceId: number,
  deviceKey: Uint8Array,
  createdAt: number,
): Uint8Array {
  return encodeWire([DEVICE_CERT_CONTEXT, accountKey, deviceId, deviceKey, createdAt]);
}

/** A new device: its own Ed25519 key, and the certificate binding it to the account. */
export interface DeviceIdentity extends Ed25519KeyPair {
  readonly deviceId: number;
  readonly certificate: DeviceCertificate;
}

/**
 * Create a device key and certify it with the account key.
 * @param deviceId - unique per account, chosen by the caller (1..2^32-1).
 */
export function createDevice(
  account: Ed25519KeyPair,
  deviceId: number,
  now: number,
  provider: CryptoProvider,
  random: RandomSource,
): DeviceIdentity {
  assertObject(account, 'account');
  assertInteger(deviceId, 'deviceId', 1, MAX_DEVICE_ID);
  const keys = generateEd25519KeyPair(provider, random);
  return { ...keys, deviceId, certificate: certifyDevice(account, deviceId, keys.publicKey, now, provider) };
}

/**
 * Sign a device certificate with the account key.
 * @throws InvalidArgumentError for malformed inputs.
 */
export function certifyDevice(
  account: Ed25519KeyPair,
  deviceId: number,
  deviceKey: Uint8Array,
  createdAt: number,
  provider: CryptoProvider,
): DeviceCertificate {
  assertObject(account, 'account');
  assertProvider(provider);
  assertBytes(account.secretKey, 'account.secretKey', 32);
  assertBytes(account.publicKey, 'account.publicKey', 32);
  assertInteger(deviceId, 'deviceId', 1, MAX_DEVICE_ID);
  assertBytes(deviceKey, 'deviceKey', 32);
  assertInteger(createdAt, 'createdAt');
  const signature = provider.ed25519Sign(
    account.secretKey,
    deviceCertificateSigned(account.publicKey, deviceId, deviceKey, createdAt),
  );
  return { version: 1, accountKey: account.publicKey, deviceId, deviceKey, createdAt, signature };
}

/**
 * Check a device certificate's signature, and optionally that it belongs to `accountKey`.
 * @throws InvalidCertificateError when it does not verify.
 */
export function verifyDeviceCertificate(
  cert: DeviceCertificate,
  provider: CryptoProvider,
  accountKey?: Uint8Array,
): void {
  assertObject(cert, 'cert');
  assertBytes(cert.accountKey, 'cert.accountKey', 32);
  assertBytes(cert.deviceKey, 'cert.deviceKey', 32);
  assertBytes(cert.signature, 'cert.signature', 64);
  assertInteger(cert.deviceId, 'cert.deviceId', 1, MAX_DEVICE_ID);
  assertInteger(cert.createdAt, 'cert.createdAt');
  assertProvider(provider);
  if (accountKey !== undefined) assertBytes(accountKey, 'accountKey', 32);
  if (accountKey !== undefined && !equalKeys(cert.accountKey, accountKey)) {
    throw new InvalidCertificateError('device certificate belongs to another account');
  }
  const ok = provider.ed25519Verify(
    cert.accountKey,
    deviceCertificateSigned(cert.accountKey, cert.deviceId, cert.deviceKey, cert.createdAt),
    cert.signature,
  );
  if (!ok) throw new InvalidCertificateError('device certificate signature does not verify');
}

function equalKeys(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Serialise a device certificate. */
export function encodeDeviceCertificate(cert: DeviceCertificate): Uint8Array {
  assertObject(cert, 'cert');
  return encodeWire([cert.version, cert.accountKey, cert.deviceId, cert.deviceKey, cert.createdAt, cert.signature]);
}

/**
 * Parse a device certificate (signature not checked: call {@link verifyDeviceCertificate}).
 * @throws InvalidCertificateError for malformed bytes; UnsupportedVersionError for unknown versions.
 */
export function decodeDeviceCertificate(bytes: Uint8Array): DeviceCertificate {
  return decodeWire(bytes, {
    what: 'device certificate',
    versions: [1],
    error: (m) => new InvalidCertificateError(m),
    read: (r) => {
      const cert: DeviceCertificate = {
        version: 1,
        accountKey: r.bytes('accountKey', 32),
        deviceId: r.uint('deviceId', MAX_DEVICE_ID, 1),
        deviceKey: r.bytes('deviceKey', 32),
        createdAt: r.uint('createdAt'),
        signature: r.bytes('signature', ED25519_SIGNATURE_LENGTH),
      };
      r.end();
      return cert;
    },
  });
}

/** One entry of a device list. */
export interface DeviceListEntry {
  readonly deviceId: number;
  readonly deviceKey: Uint8Array;
  /** Optional human name, e.g. "Laptop". Encrypted profile data is the better home; kept short. */
  readonly name: string;
}

/** The account's devices, signed by the account key. Version increases with each change. */
export interface DeviceList {
  readonly formatVersion: 1;
  readonly accountKey: Uint8Array;
  /** Monotonic counter: a list with a lower counter never replaces a higher one. */
  readonly counter: number;
  readonly devices: readonly DeviceListEntry[];
  readonly signedAt: number;
  readonly signature: Uint8Array;
}

function deviceListSigned(
  accountKey: Uint8Array,
  counter: number,
  devices: readonly DeviceListEntry[],
  signedAt: number,
): Uint8Array {
  return encodeWire([
    DEVICE_LIST_CONTEXT,
    accountKey,
    counter,
    devices.map((d) => [d.deviceId, d.deviceKey, d.name]),
    signedAt,
  ]);
}

/**
 * Sign a device list with the account key.
 * @throws InvalidArgumentError for duplicate device ids, too many devices or malformed entries.
 */
export function signDeviceList(
  account: Ed25519KeyPair,
  counter: number,
  devices: readonly DeviceListEntry[],
  signedAt: number,
  provider: CryptoProvider,
): DeviceList {
  assertObject(account, 'account');
  assertProvider(provider);
  assertBytes(account.secretKey, 'account.secretKey', 32);
  assertBytes(account.publicKey, 'account.publicKey', 32);
  assertInteger(counter, 'counter');
  assertInteger(signedAt, 'signedAt');
  checkEntries(devices);
  const sorted = [...devices].sort((a, b) => a.deviceId - b.deviceId);
  const signature = provider.ed25519Sign(
    account.secretKey,
    deviceListSigned(account.publicKey, counter, sorted, signedAt),
  );
  return { formatVersion: 1, accountKey: account.publicKey, counter, devices: sorted, signedAt, signature };
}

function checkEntries(devices: readonly DeviceListEntry[]): void {
  if (!Array.isArray(devices) || devices.length === 0 || devices.length > MAX_DEVICES) {
    throw new InvalidCertificateError(`device list must hold 1..${MAX_DEVICES} devices`);
  }
  const seen = new Set<number>();
  for (const [i, d] of devices.entries()) {
    assertObject(d, `devices[${i}]`);
    assertInteger(d.deviceId, `devices[${i}].deviceId`, 1, MAX_DEVICE_ID);
    assertBytes(d.deviceKey, `devices[${i}].deviceKey`, 32);
    assertString(d.name, `devices[${i}].name`, MAX_DEVICE_NAME);
    if (seen.has(d.deviceId)) throw new InvalidCertificateError(`device list repeats device ${d.deviceId}`);
    seen.add(d.deviceId);
  }
}

/**
 * Verify a device list's signature and, optionally, its account.
 * @throws InvalidCertificateError when it does not verify or is malformed.
 */
export function verifyDeviceList(list: DeviceList, provider: CryptoProvider, accountKey?: Uint8Array): void {
  assertObject(list, 'list');
  assertBytes(list.accountKey, 'list.accountKey', 32);
  assertBytes(list.signature, 'list.signature', 64);
  assertInteger(list.counter, 'list.counter');
  assertInteger(list.signedAt, 'list.signedAt');
  assertProvider(provider);
  if (accountKey !== undefined) assertBytes(accountKey, 'accountKey', 32);
  if (accountKey !== undefined && !equalKeys(list.accountKey, accountKey)) {
    throw new InvalidCertificateError('device list belongs to another account');
  }
  checkEntries(list.devices);
  const ok = provider.ed25519Verify(
    list.accountKey,
    deviceListSigned(list.accountKey, list.counter, list.devices, list.signedAt),
    list.signature,
  );
  if (!ok) throw new InvalidCertificateError('device list signature does not verify');
}

/** Serialise a device list. */
export function encodeDeviceList(list: DeviceList): Uint8Array {
  assertObject(list, 'list');
  // Shape only: semantic rules (count, duplicates) are the signer's and verifier's job.
  if (!Array.isArray(list.devices)) throw new InvalidArgumentError('list.devices: expected array');
  for (const [i, d] of list.devices.entries()) assertObject(d, `list.devices[${i}]`);
  return encodeWire([
    list.formatVersion,
    list.accountKey,
    list.counter,
    list.devices.map((d) => [d.deviceId, d.deviceKey, d.name]),
    list.signedAt,
    list.signature,
  ]);
}

/**
 * Parse a device list (signature not checked: call {@link verifyDeviceList}).
 * @throws InvalidCertificateError for malformed bytes.
 */
export function decodeDeviceList(bytes: Uint8Array): DeviceList {
  return decodeWire(bytes, {
    what: 'device list',
    versions: [1],
    error: (m) => new InvalidCertificateError(m),
    read: (r) => {
      const accountKey = r.bytes('accountKey', 32);
      const counter = r.uint('counter');
      const devices = r.array('devices', MAX_DEVICES, (d) => {
        const entry = {
          deviceId: d.uint('deviceId', MAX_DEVICE_ID, 1),
          deviceKey: d.bytes('deviceKey', 32),
          name: d.string('name', MAX_DEVICE_NAME),
        };
        d.end();
        return entry;
      });
      const list: DeviceList = {
        formatVersion: 1,
        accountKey,
        counter,
        devices,
        signedAt: r.uint('signedAt'),
        signature: r.bytes('signature', 64),
      };
      r.end();
      return list;
    },
  });
}
