/**
 * Encrypted backups: AES-256-GCM under a key stretched from a password with Argon2id
 * (RFC 9106). The file starts with a fixed binary header that names the KDF and its
 * cost parameters, so a backup made today still opens after the defaults change; the
 * whole header is the associated data, so no field of it can be altered unnoticed.
 * See docs/PROTOCOL.md section "Encrypted backups".
 */
import { assertBytes, assertInteger, assertObject, assertString } from './assert.js';
import { concatBytes, equalBytes, u32be, utf8ToBytes, wipe } from './bytes.js';
import { BackupDecryptionError, InvalidArgumentError, isProtocolError, UnsupportedVersionError } from './errors.js';
import type { CryptoProvider } from './provider/provider.js';
import type { RandomSource } from './random.js';

/** The four bytes every backup starts with: ASCII "VXBK". */
export const BACKUP_MAGIC: Uint8Array = Uint8Array.of(0x56, 0x58, 0x42, 0x4b);
/** The only header format version this library writes and reads. */
export const BACKUP_FORMAT_VERSION = 1;
/** KDF identifiers of the header's KDF byte. */
export const BackupKdf = {
  /** Argon2id, version 0x13 (RFC 9106). */
  Argon2id: 1,
} as const;

const SALT_LENGTH = 16;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
/** magic 4 || version 1 || kdf 1 || t 4 || m 4 || p 1 || salt 16 || nonce 12 */
export const BACKUP_HEADER_LENGTH = 4 + 1 + 1 + 4 + 4 + 1 + SALT_LENGTH + NONCE_LENGTH;

/**
 * Hard bounds on the KDF parameters. A header is untrusted input: without them a
 * crafted file could make the reader allocate gigabytes or spin for hours before the
 * tag check can reject it.
 */
export const BACKUP_KDF_LIMITS = {
  /** Most passes. */
  maxT: 20,
  /** Most memory, in KiB (1 GiB). */
  maxM: 1024 * 1024,
  /** Most lanes. */
  maxP: 16,
} as const;

/** Longest password accepted, in UTF-16 code units, before normalisation. */
const MAX_PASSWORD_LENGTH = 4096;

/** Argon2id cost parameters of a backup. */
export interface BackupKdfParams {
  /** Passes over memory (1..20). */
  readonly t: number;
  /** Memory in KiB (8*p .. 1 GiB). */
  readonly m: number;
  /** Lanes (1..16). */
  readonly p: number;
}

/** RFC 9106 section 4, second recommended option: t = 3, m = 64 MiB, p = 1. */
export const DEFAULT_BACKUP_KDF_PARAMS: BackupKdfParams = Object.freeze({ t: 3, m: 65536, p: 1 });

/** What {@link readBackupHeader} reports, for a UI that shows the cost before deriving. */
export interface BackupHeader {
  readonly version: number;
  readonly kdf: 'argon2id';
  readonly params: BackupKdfParams;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  /** Length of the AES-GCM ciphertext including its 16-byte tag. */
  readonly ciphertextLength: number;
}

/** Options of {@link encryptBackup}. */
export interface EncryptBackupOptions {
  readonly provider: CryptoProvider;
  /** Draws the 16-byte salt, then the 12-byte nonce, in that order. */
  readonly random: RandomSource;
  /** KDF cost; missing fields take {@link DEFAULT_BACKUP_KDF_PARAMS}. */
  readonly params?: Partial<BackupKdfParams>;
}

/** Options of {@link decryptBackup}. */
export interface DecryptBackupOptions {
  readonly provider: CryptoProvider;
  /**
   * Refuse headers asking for more memory than this (KiB) before deriving, e.g. on a
   * phone. Default and ceiling: {@link BACKUP_KDF_LIMITS}.maxM.
   */
  readonly maxMemoryKiB?: number;
}

/** NFKC, so the same password typed on different keyboards derives the same key. */
function passwordBytes(password: string): Uint8Array {
  return utf8ToBytes(password.normalize('NFKC'));
}

function checkParams(params: Partial<BackupKdfParams> | undefined): BackupKdfParams {
  if (params !== undefined) assertObject(params, 'params');
  const t = params?.t ?? DEFAULT_BACKUP_KDF_PARAMS.t;
  const m = params?.m ?? DEFAULT_BACKUP_KDF_PARAMS.m;
  const p = params?.p ?? DEFAULT_BACKUP_KDF_PARAMS.p;
  assertInteger(t, 'params.t', 1, BACKUP_KDF_LIMITS.maxT);
  assertInteger(p, 'params.p', 1, BACKUP_KDF_LIMITS.maxP);
  // Argon2 needs at least 8 KiB per lane.
  assertInteger(m, 'params.m', 8 * p, BACKUP_KDF_LIMITS.maxM);
  return { t, m, p };
}

function encodeHeader(params: BackupKdfParams, salt: Uint8Array, nonce: Uint8Array): Uint8Array {
  return concatBytes(
    BACKUP_MAGIC,
    Uint8Array.of(BACKUP_FORMAT_VERSION, BackupKdf.Argon2id),
    u32be(params.t),
    u32be(params.m),
    Uint8Array.of(params.p),
    salt,
    nonce,
  );
}

function deriveKey(provider: CryptoProvider, password: string, salt: Uint8Array, params: BackupKdfParams): Uint8Array {
  const pw = passwordBytes(password);
  try {
    return provider.argon2id(pw, salt, { t: params.t, m: params.m, p: params.p, dkLen: KEY_LENGTH });
  } finally {
    wipe(pw);
  }
}

/**
 * Encrypt `plaintext` under `password`.
 * Output: the {@link BACKUP_HEADER_LENGTH}-byte header || AES-256-GCM ciphertext || tag.
 * @throws InvalidArgumentError for a non-byte plaintext, an empty or over-long password,
 *   or parameters outside {@link BACKUP_KDF_LIMITS}.
 * @example const file = encryptBackup(data, 'correct horse', { provider: nobleProvider, random: systemRandom });
 */
export function encryptBackup(plaintext: Uint8Array, password: string, options: EncryptBackupOptions): Uint8Array {
  assertBytes(plaintext, 'plaintext');
  assertString(password, 'password', MAX_PASSWORD_LENGTH);
  if (password.length === 0) throw new InvalidArgumentError('password: must not be empty');
  assertObject(options, 'options');
  const params = checkParams(options.params);
  const salt = options.random(SALT_LENGTH);
  const nonce = options.random(NONCE_LENGTH);
  assertBytes(salt, 'random(16)', SALT_LENGTH);
  assertBytes(nonce, 'random(12)', NONCE_LENGTH);
  const header = encodeHeader(params, salt, nonce);
  const key = deriveKey(options.provider, password, salt, params);
  try {
    return concatBytes(header, options.provider.aesGcmEncrypt(key, nonce, plaintext, header));
  } finally {
    wipe(key);
  }
}

/**
 * Parse and check a backup's header without deriving anything.
 * @throws InvalidArgumentError when `bytes` is not a Uint8Array.
 * @throws BackupDecryptionError when it is not a VAULTEX backup, is truncated, or asks
 *   for KDF parameters outside {@link BACKUP_KDF_LIMITS}.
 * @throws UnsupportedVersionError for an unknown format version or KDF.
 */
export function readBackupHeader(bytes: Uint8Array): BackupHeader {
  assertBytes(bytes, 'bytes');
  if (bytes.length < BACKUP_MAGIC.length || !equalBytes(bytes.subarray(0, BACKUP_MAGIC.length), BACKUP_MAGIC)) {
    throw new BackupDecryptionError('not a VAULTEX backup');
  }
  if (bytes.length < BACKUP_MAGIC.length + 2) throw new BackupDecryptionError('backup is truncated');
  const version = bytes[4]!;
  if (version !== BACKUP_FORMAT_VERSION) throw new UnsupportedVersionError('backup', version);
  const kdf = bytes[5]!;
  if (kdf !== BackupKdf.Argon2id) throw new UnsupportedVersionError('backup KDF', kdf);
  if (bytes.length < BACKUP_HEADER_LENGTH + TAG_LENGTH) throw new BackupDecryptionError('backup is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = view.getUint32(6, false);
  const m = view.getUint32(10, false);
  const p = bytes[14]!;
  if (t < 1 || t > BACKUP_KDF_LIMITS.maxT || p < 1 || p > BACKUP_KDF_LIMITS.maxP) {
    throw new BackupDecryptionError('backup KDF parameters are out of range');
  }
  if (m < 8 * p || m > BACKUP_KDF_LIMITS.maxM) throw new BackupDecryptionError('backup KDF memory is out of range');
  return {
    version,
    kdf: 'argon2id',
    params: { t, m, p },
    salt: bytes.slice(15, 15 + SALT_LENGTH),
    nonce: bytes.slice(15 + SALT_LENGTH, BACKUP_HEADER_LENGTH),
    ciphertextLength: bytes.length - BACKUP_HEADER_LENGTH,
  };
}

/**
 * Decrypt a backup made by {@link encryptBackup}.
 * @throws InvalidArgumentError for a non-byte input, a non-string password or a bad `maxMemoryKiB`.
 * @throws BackupDecryptionError for a wrong password, any altered or missing byte, or
 *   KDF parameters above the limits (checked before deriving).
 * @throws UnsupportedVersionError for an unknown format version or KDF.
 * @example const data = decryptBackup(file, 'correct horse', { provider: nobleProvider });
 */
export function decryptBackup(bytes: Uint8Array, password: string, options: DecryptBackupOptions): Uint8Array {
  assertString(password, 'password', MAX_PASSWORD_LENGTH);
  assertObject(options, 'options');
  const maxMemoryKiB = options.maxMemoryKiB ?? BACKUP_KDF_LIMITS.maxM;
  assertInteger(maxMemoryKiB, 'options.maxMemoryKiB', 8, BACKUP_KDF_LIMITS.maxM);
  const header = readBackupHeader(bytes);
  if (header.params.m > maxMemoryKiB) {
    throw new BackupDecryptionError('backup asks for more KDF memory than this device allows');
  }
  const key = deriveKey(options.provider, password, header.salt, header.params);
  try {
    return options.provider.aesGcmDecrypt(
      key,
      header.nonce,
      bytes.subarray(BACKUP_HEADER_LENGTH),
      bytes.subarray(0, BACKUP_HEADER_LENGTH),
    );
  } catch (e) {
    if (isProtocolError(e, 'INVALID_MESSAGE')) throw new BackupDecryptionError('wrong password or damaged backup');
    throw e;
  } finally {
    wipe(key);
  }
}
