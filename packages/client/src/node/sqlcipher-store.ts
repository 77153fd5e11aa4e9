/**
 * The Node store: one profile folder holding `profile.db`, a SQLite database encrypted
 * with SQLCipher (via better-sqlite3-multiple-ciphers, `PRAGMA cipher = 'sqlcipher'`,
 * SQLCipher 4 page format with HMAC), and `profile.json` with the Argon2id salt and cost.
 * The database key is the raw 32-byte Argon2id output of the passphrase (passed as
 * `x'..'`, so SQLCipher's own PBKDF2 is skipped: Argon2id is the stretching).
 *
 * Durability: WAL with synchronous=FULL, so a transaction that returned is on disk and
 * survives `kill -9` or power loss. Foreign keys are enforced.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, type CryptoProvider, type RandomSource, systemRandom } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import Database from 'better-sqlite3-multiple-ciphers';
import { ClientError, isClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import {
  checkKdfParams,
  checkPassphrase,
  DEFAULT_STORE_KDF_PARAMS,
  derivePassphraseKey,
  STORE_SALT_LENGTH,
  type StoreKdfParams,
} from '../storage/passphrase-key.js';
import { createStore } from '../storage/store-core.js';
import { checkObject, invalidArgument } from '../storage/validate.js';
import { MIGRATIONS, type Migration } from './sqlcipher/migrations.js';
import {
  deleteProfileFiles,
  PROFILE_FILES,
  type ProfileMeta,
  readProfileMeta,
  writeProfileMeta,
} from './sqlcipher/profile-files.js';
import { SqlCipherBackend } from './sqlcipher/sqlcipher-backend.js';

/** Options of {@link openSqlCipherStore}. */
export interface SqlCipherStoreOptions {
  /** The profile folder (created when missing). One folder per account. */
  readonly directory: string;
  readonly passphrase: string;
  /** Argon2id cost for a NEW profile (an existing one keeps its own); default t=3, m=64 MiB, p=1. */
  readonly argon2?: StoreKdfParams;
  /** Crypto provider for Argon2id; default the Node provider. */
  readonly provider?: CryptoProvider;
  /** Randomness for a new profile's salt; default the platform's CSPRNG. */
  readonly random?: RandomSource;
  /** How long to wait for another connection's write lock, in ms (default 5000). */
  readonly busyTimeoutMs?: number;
}

/**
 * Open (or create) the encrypted profile in `directory` and migrate it to the current
 * schema (`SCHEMA_VERSION`).
 * @throws ClientError WRONG_PASSPHRASE when the passphrase does not open the database;
 *   STORE_CORRUPT for a damaged profile.json or a database without one; STORE_TOO_NEW for
 *   a profile written by a newer version; INVALID_ARGUMENT for bad options; STORAGE_FAILED
 *   for file-system errors.
 * @example const store = await openSqlCipherStore({ directory: './profiles/alice', passphrase });
 */
export async function openSqlCipherStore(options: SqlCipherStoreOptions): Promise<ClientStore> {
  const o = checkObject(options, 'options');
  if (typeof o.directory !== 'string' || o.directory.length === 0) {
    throw invalidArgument('options.directory', 'expected a non-empty path');
  }
  const directory = o.directory;
  const passphrase = checkPassphrase(o.passphrase);
  const params = o.argon2 === undefined ? DEFAULT_STORE_KDF_PARAMS : checkKdfParams(o.argon2, 'options.argon2');
  const provider = (o.provider as CryptoProvider | undefined) ?? nodeProvider;
  const random = (o.random as RandomSource | undefined) ?? systemRandom;
  const busyTimeoutMs = o.busyTimeoutMs === undefined ? 5000 : o.busyTimeoutMs;
  if (typeof busyTimeoutMs !== 'number' || !Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw invalidArgument('options.busyTimeoutMs', 'expected a non-negative integer');
  }

  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ClientError('STORAGE_FAILED', 'cannot create the profile folder', { cause: e });
  }
  const meta = readProfileMeta(directory) ?? createProfileMeta(directory, params, random);
  const key = derivePassphraseKey(provider, passphrase, meta.salt, meta.params);
  const db = openKeyedDatabase(directory, key, busyTimeoutMs);
  key.fill(0);
  try {
    migrate(db, MIGRATIONS);
  } catch (e) {
    db.close();
    throw isClientError(e) ? e : sqliteError(e, 'cannot migrate profile.db');
  }
  return createStore(new SqlCipherBackend(db, directory));
}

/** A new profile's salt and parameters, written before the database exists. */
function createProfileMeta(directory: string, params: StoreKdfParams, random: RandomSource): ProfileMeta {
  if (existsSync(join(directory, PROFILE_FILES.database))) {
    // Without its salt the database can never be opened again; never silently replace it.
    throw new ClientError('STORE_CORRUPT', 'profile.db exists but profile.json is missing');
  }
  const salt = random(STORE_SALT_LENGTH);
  if (!(salt instanceof Uint8Array) || salt.length !== STORE_SALT_LENGTH) {
    throw invalidArgument('options.random', `must return ${STORE_SALT_LENGTH} bytes`);
  }
  const meta = { salt: new Uint8Array(salt), params };
  writeProfileMeta(directory, meta);
  return meta;
}

/**
 * Open profile.db with the raw key, prove the key is right, and set the connection's
 * pragmas. Exported for the fixture generator, which migrates to an older version.
 * @throws ClientError WRONG_PASSPHRASE, STORAGE_FAILED
 */
export function openKeyedDatabase(directory: string, key: Uint8Array, busyTimeoutMs = 5000): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(join(directory, PROFILE_FILES.database));
  } catch (e) {
    throw new ClientError('STORAGE_FAILED', 'cannot open profile.db', { cause: e });
  }
  try {
    db.pragma(`cipher = 'sqlcipher'`);
    db.pragma(`key = "x'${bytesToHex(key)}'"`);
    // The key is checked when page 1 is read; reading only the header keeps a damaged later
    // page from looking like a wrong passphrase.
    db.pragma('schema_version');
  } catch (e) {
    db.close();
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new ClientError('WRONG_PASSPHRASE', 'the passphrase does not open this profile (or profile.db is damaged)');
    }
    throw new ClientError('STORAGE_FAILED', 'cannot read profile.db', { cause: e });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  } catch (e) {
    db.close();
    throw sqliteError(e, 'cannot configure profile.db');
  }
  return db;
}

/** A SQLite failure while opening as a ClientError: damage is STORE_CORRUPT, anything else STORAGE_FAILED. */
function sqliteError(e: unknown, message: string): ClientError {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
    ? new ClientError('STORE_CORRUPT', `profile.db is damaged (${code})`)
    : new ClientError('STORAGE_FAILED', message, { cause: e });
}

/**
 * Apply the pending `migrations` in order, each in its own transaction. Exported for the
 * fixture generator (which passes only the first migration).
 * @throws ClientError STORE_TOO_NEW when the database is at a version newer than the last migration.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
  let current = row?.v ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new ClientError('STORE_TOO_NEW', `profile schema ${current} is newer than this VAULTEX (${latest})`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    }).immediate();
    current = m.version;
  }
  return current;
}

/**
 * Delete a profile folder's files without opening it (e.g. a forgotten passphrase), then
 * the folder itself when it is empty. Missing files are not an error.
 * @throws ClientError STORAGE_FAILED when a file cannot be removed.
 */
export function deleteSqlCipherProfile(directory: string): void {
  if (typeof directory !== 'string' || directory.length === 0) {
    throw invalidArgument('directory', 'expected a non-empty path');
  }
  deleteProfileFiles(directory);
}
