/**
 * The files of a profile folder: `profile.db` (SQLCipher, plus its `-wal`/`-shm` while
 * open) and `profile.json`, the plaintext description needed to derive the key: format
 * version, cipher, Argon2id salt and cost. Nothing in profile.json is secret.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@vaultex/protocol';
import { ClientError } from '../../errors.js';
import { checkKdfParams, STORE_SALT_LENGTH, type StoreKdfParams } from '../../storage/passphrase-key.js';

/** File names inside a profile folder. */
export const PROFILE_FILES = {
  database: 'profile.db',
  meta: 'profile.json',
} as const;

/** The `format` field of profile.json. */
export const PROFILE_FORMAT = 'vaultex-profile';
/** The only profile.json version this code reads and writes. */
export const PROFILE_FORMAT_VERSION = 1;

/** The content of profile.json. */
export interface ProfileMeta {
  readonly salt: Uint8Array;
  readonly params: StoreKdfParams;
}

const corrupt = (problem: string) => new ClientError('STORE_CORRUPT', `profile.json: ${problem}`);

/**
 * Read and check profile.json; undefined when the file does not exist.
 * @throws ClientError STORE_CORRUPT for a malformed file, STORE_TOO_NEW for a newer version.
 */
export function readProfileMeta(directory: string): ProfileMeta | undefined {
  let text: string;
  try {
    text = readFileSync(join(directory, PROFILE_FILES.meta), 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw new ClientError('STORAGE_FAILED', 'profile.json: cannot be read', { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('not valid JSON');
  }
  if (typeof value !== 'object' || value === null) throw corrupt('not an object');
  const v = value as Record<string, unknown>;
  if (v.format !== PROFILE_FORMAT) throw corrupt('not a VAULTEX profile');
  if (typeof v.version !== 'number' || !Number.isSafeInteger(v.version)) throw corrupt('bad version');
  if (v.version > PROFILE_FORMAT_VERSION) {
    throw new ClientError('STORE_TOO_NEW', `profile.json: format version ${v.version} is newer than this VAULTEX`);
  }
  if (v.version !== PROFILE_FORMAT_VERSION) throw corrupt(`unknown format version ${v.version}`);
  if (v.cipher !== 'sqlcipher') throw corrupt('unknown cipher');
  const kdf = v.kdf as Record<string, unknown> | null | undefined;
  if (typeof kdf !== 'object' || kdf === null || kdf.algorithm !== 'argon2id') throw corrupt('unknown KDF');
  if (typeof kdf.salt !== 'string' || !/^[0-9a-f]+$/u.test(kdf.salt) || kdf.salt.length !== 2 * STORE_SALT_LENGTH) {
    throw corrupt('bad salt');
  }
  const params = checkKdfParams({ t: kdf.t, m: kdf.m, p: kdf.p }, 'profile.json: kdf', 'STORE_CORRUPT');
  return { salt: hexToBytes(kdf.salt), params };
}

/**
 * Write profile.json atomically and durably: a temporary file, fsync, rename, fsync of
 * the folder; a crash leaves either no file or the whole file.
 * @throws ClientError STORAGE_FAILED when the file cannot be written.
 */
export function writeProfileMeta(directory: string, meta: ProfileMeta): void {
  const text = `${JSON.stringify(
    {
      format: PROFILE_FORMAT,
      version: PROFILE_FORMAT_VERSION,
      cipher: 'sqlcipher',
      kdf: { algorithm: 'argon2id', salt: bytesToHex(meta.salt), ...meta.params },
    },
    null,
    2,
  )}\n`;
  const target = join(directory, PROFILE_FILES.meta);
  const temporary = `${target}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    syncPath(temporary);
    renameSync(temporary, target);
    syncPath(directory);
  } catch (e) {
    throw new ClientError('STORAGE_FAILED', 'profile.json: cannot be written', { cause: e });
  }
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Remove every file of a profile (database, WAL, shared memory, profile.json), then the
 * folder when nothing else is left in it.
 * @throws ClientError STORAGE_FAILED when a file cannot be removed.
 */
export function deleteProfileFiles(directory: string): void {
  try {
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      rmSync(join(directory, `${PROFILE_FILES.database}${suffix}`), { force: true });
    }
    rmSync(join(directory, PROFILE_FILES.meta), { force: true });
    rmSync(join(directory, `${PROFILE_FILES.meta}.tmp`), { force: true });
  } catch (e) {
    throw new ClientError('STORAGE_FAILED', 'cannot delete the profile files', { cause: e });
  }
  try {
    rmdirSync(directory);
  } catch {
    // Not empty (the user keeps other files there) or already gone: both fine.
  }
}
