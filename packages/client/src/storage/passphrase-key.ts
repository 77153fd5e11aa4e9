/**
 * The key that encrypts a profile at rest: Argon2id (RFC 9106) of the user's passphrase
 * under a per-profile random salt. The salt and cost parameters are stored in plaintext
 * beside the data (they are not secret), so a profile created with today's defaults
 * still opens after the defaults change.
 */
import { type CryptoProvider, utf8ToBytes } from '@vaultex/protocol';
import { ClientError } from '../errors.js';
import { checkObject, invalidArgument } from './validate.js';

/** Argon2id cost parameters of a store key. */
export interface StoreKdfParams {
  /** Passes over memory (1..20). */
  readonly t: number;
  /** Memory in KiB (8*p .. 1 GiB). */
  readonly m: number;
  /** Lanes (1..16). */
  readonly p: number;
}

/** RFC 9106 section 4, second recommended option: t = 3, m = 64 MiB, p = 1. */
export const DEFAULT_STORE_KDF_PARAMS: StoreKdfParams = Object.freeze({ t: 3, m: 65536, p: 1 });

/**
 * Bounds on the parameters. The plaintext parameter file is attacker-writable: without
 * bounds a crafted one could make opening allocate gigabytes or spin for hours.
 */
export const STORE_KDF_LIMITS = Object.freeze({ maxT: 20, maxM: 1024 * 1024, maxP: 16 });

/** Salt length in bytes. */
export const STORE_SALT_LENGTH = 16;
/** Derived key length in bytes (an AES-256 / SQLCipher raw key). */
export const STORE_KEY_LENGTH = 32;
/** Longest passphrase, in UTF-16 code units. */
export const MAX_PASSPHRASE_LENGTH = 4096;

/**
 * Check Argon2id parameters. `code` says whose fault a bad value is: the caller's
 * (INVALID_ARGUMENT) or the stored file's (STORE_CORRUPT).
 * @throws ClientError with `code` for a value outside the bounds.
 */
export function checkKdfParams(
  value: unknown,
  field: string,
  code: 'INVALID_ARGUMENT' | 'STORE_CORRUPT' = 'INVALID_ARGUMENT',
): StoreKdfParams {
  const fail = (problem: string) =>
    code === 'INVALID_ARGUMENT' ? invalidArgument(field, problem) : new ClientError(code, `${field}: ${problem}`);
  let v: Record<string, unknown>;
  try {
    v = checkObject(value, field);
  } catch {
    throw fail('expected an object {t, m, p}');
  }
  const int = (x: unknown, name: string, min: number, max: number): number => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) {
      throw fail(`${name} must be an integer in [${min}, ${max}]`);
    }
    return x;
  };
  const p = int(v.p, 'p', 1, STORE_KDF_LIMITS.maxP);
  return { t: int(v.t, 't', 1, STORE_KDF_LIMITS.maxT), m: int(v.m, 'm', 8 * p, STORE_KDF_LIMITS.maxM), p };
}

/**
 * Check a passphrase: a non-empty string of at most {@link MAX_PASSPHRASE_LENGTH}.
 * @throws ClientError INVALID_ARGUMENT
 */
export function checkPassphrase(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PASSPHRASE_LENGTH) {
    throw invalidArgument('passphrase', `expected a non-empty string of at most ${MAX_PASSPHRASE_LENGTH} characters`);
  }
  return value;
}

/**
 * Derive the 32-byte store key. The passphrase is NFKC-normalised so the same passphrase
 * typed on different keyboards gives the same key.
 * @throws ClientError INVALID_ARGUMENT for a bad passphrase, salt or parameters.
 */
export function derivePassphraseKey(
  provider: CryptoProvider,
  passphrase: string,
  salt: Uint8Array,
  params: StoreKdfParams,
): Uint8Array {
  const pw = utf8ToBytes(checkPassphrase(passphrase).normalize('NFKC'));
  if (!(salt instanceof Uint8Array) || salt.length !== STORE_SALT_LENGTH) {
    throw invalidArgument('salt', `expected ${STORE_SALT_LENGTH} bytes`);
  }
  const { t, m, p } = checkKdfParams(params, 'params');
  try {
    return provider.argon2id(pw, salt, { t, m, p, dkLen: STORE_KEY_LENGTH });
  } finally {
    pw.fill(0);
  }
}
