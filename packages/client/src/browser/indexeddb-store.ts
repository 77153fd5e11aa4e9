/**
 * The browser store: one IndexedDB database per profile, every record value encrypted
 * with AES-256-GCM under a key derived with Argon2id from the passphrase (salt and cost
 * in a plaintext `meta` object store). Identifiers used as database keys are blinded with
 * a keyed HMAC; the few plaintext index fields (timestamps, message and outbox ids) and
 * what they reveal are listed in indexeddb/indexeddb-backend.ts.
 *
 * Argon2id runs on the calling thread (about a second with the default cost) unless the
 * caller passes an asynchronous `argon2id` (the web app runs it in a Web Worker).
 */
import {
  type Argon2Params,
  type CryptoProvider,
  nobleProvider,
  type RandomSource,
  systemRandom,
  utf8ToBytes,
} from '@vaultex/protocol';
import { ClientError, isClientError } from '../errors.js';
import { type ClientStore, SCHEMA_VERSION } from '../storage/client-store.js';
import {
  checkKdfParams,
  checkPassphrase,
  DEFAULT_STORE_KDF_PARAMS,
  derivePassphraseKey,
  STORE_KEY_LENGTH,
  STORE_SALT_LENGTH,
  type StoreKdfParams,
} from '../storage/passphrase-key.js';
import { createStore } from '../storage/store-core.js';
import { checkObject, invalidArgument } from '../storage/validate.js';
import { completion, request, STORES, upgradeSchema } from './indexeddb/idb.js';
import { type IdbEnvironment, IndexedDbBackend } from './indexeddb/indexeddb-backend.js';
import { RecordCipher } from './indexeddb/record-cipher.js';

/** Options of {@link openIndexedDbStore}. */
export interface IndexedDbStoreOptions {
  /** The database name: one per profile (account). */
  readonly name: string;
  readonly passphrase: string;
  /** Argon2id cost for a NEW profile (an existing one keeps its own); default t=3, m=64 MiB, p=1. */
  readonly argon2?: StoreKdfParams;
  /** Crypto provider (Argon2id, HKDF, HMAC, AES-GCM); default the pure-TS noble provider. */
  readonly provider?: CryptoProvider;
  /** Randomness for the salt and record nonces; default the platform's CSPRNG. */
  readonly random?: RandomSource;
  /** The IndexedDB factory; default `globalThis.indexedDB` (tests pass a fake). */
  readonly indexedDB?: IDBFactory;
  /** The matching key-range class; default `globalThis.IDBKeyRange`. */
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /**
   * An asynchronous Argon2id for the store key (e.g. one running in a Web Worker so the page
   * stays responsive); it receives the NFKC-normalised UTF-8 passphrase and must return
   * `params.dkLen` bytes. Default: the provider's `argon2id` on the calling thread.
   */
  readonly argon2id?: (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => Promise<Uint8Array>;
}

/** The meta record that tells how to derive the key. */
const META_FORMAT = 1;
const CHECK_PLAINTEXT = 'vaultex/indexeddb/check';

/**
 * Open (or create) the encrypted profile database `name`, upgrading it to SCHEMA_VERSION.
 * @throws ClientError WRONG_PASSPHRASE when the passphrase does not open it; STORE_CORRUPT
 *   for damaged metadata; STORE_TOO_NEW for a database of a newer version; INVALID_ARGUMENT
 *   for bad options; STORAGE_FAILED when IndexedDB is missing or fails.
 * @example const store = await openIndexedDbStore({ name: 'vaultex-alice', passphrase });
 */
export async function openIndexedDbStore(options: IndexedDbStoreOptions): Promise<ClientStore> {
  const o = checkObject(options, 'options');
  if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 256) {
    throw invalidArgument('options.name', 'expected a non-empty string of at most 256 characters');
  }
  const passphrase = checkPassphrase(o.passphrase);
  const params = o.argon2 === undefined ? DEFAULT_STORE_KDF_PARAMS : checkKdfParams(o.argon2, 'options.argon2');
  const provider = (o.provider as CryptoProvider | undefined) ?? nobleProvider;
  const random = (o.random as RandomSource | undefined) ?? systemRandom;
  const globals = globalThis as { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };
  const factory = (o.indexedDB as IDBFactory | undefined) ?? globals.indexedDB;
  const keyRange = (o.IDBKeyRange as typeof IDBKeyRange | undefined) ?? globals.IDBKeyRange;
  if (!factory || !keyRange) throw new ClientError('STORAGE_FAILED', 'IndexedDB is not available here');
  const env: IdbEnvironment = { factory, keyRange, name: o.name };

  const db = await openDatabase(env);
  try {
    const meta = await readOrCreateMeta(db, params, random);
    const key = await deriveKey(o.argon2id, provider, passphrase, meta.salt, meta.params);
    const cipher = RecordCipher.fromPassphraseKey(provider, random, key);
    key.fill(0);
    await checkPassphraseKey(db, cipher);
    return createStore(new IndexedDbBackend(db, cipher, env));
  } catch (e) {
    db.close();
    throw e;
  }
}

type AsyncArgon2id = (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => Promise<Uint8Array>;

/** The store key, through the caller's asynchronous Argon2id when given (same input, same key). */
async function deriveKey(
  hook: unknown,
  provider: CryptoProvider,
  passphrase: string,
  salt: Uint8Array,
  params: StoreKdfParams,
): Promise<Uint8Array> {
  if (hook === undefined) return derivePassphraseKey(provider, passphrase, salt, params);
  if (typeof hook !== 'function') throw invalidArgument('options.argon2id', 'expected a function');
  const pw = utf8ToBytes(passphrase.normalize('NFKC'));
  try {
    const key: unknown = await (hook as AsyncArgon2id)(pw, salt, { ...params, dkLen: STORE_KEY_LENGTH });
    if (!(key instanceof Uint8Array) || key.length !== STORE_KEY_LENGTH) {
      throw invalidArgument('options.argon2id', `must resolve to ${STORE_KEY_LENGTH} bytes`);
    }
    return key;
  } finally {
    pw.fill(0);
  }
}

async function openDatabase(env: IdbEnvironment): Promise<IDBDatabase> {
  const req = env.factory.open(env.name, SCHEMA_VERSION);
  req.onupgradeneeded = (event) => upgradeSchema(req.result, req.transaction!, event.oldVersion, SCHEMA_VERSION);
  try {
    const db = await request(req);
    // Another tab deleting or upgrading the database must not wait on us forever (the
    // backend replaces this handler once the store is open).
    db.onversionchange = () => db.close();
    return db;
  } catch (e) {
    if ((e as { name?: unknown }).name === 'VersionError') {
      throw new ClientError('STORE_TOO_NEW', 'the profile database was written by a newer VAULTEX');
    }
    throw new ClientError('STORAGE_FAILED', 'cannot open the profile database', { cause: e });
  }
}

/** Salt and cost: read, or created in the same transaction so two tabs agree on one salt. */
async function readOrCreateMeta(
  db: IDBDatabase,
  params: StoreKdfParams,
  random: RandomSource,
): Promise<{ salt: Uint8Array; params: StoreKdfParams }> {
  const tx = db.transaction([STORES.meta], 'readwrite');
  const done = completion(tx);
  const os = tx.objectStore(STORES.meta);
  let meta: unknown = await request(os.get('kdf'));
  if (meta === undefined) {
    const salt = random(STORE_SALT_LENGTH);
    if (!(salt instanceof Uint8Array) || salt.length !== STORE_SALT_LENGTH) {
      tx.abort();
      await done.catch(() => undefined);
      throw invalidArgument('options.random', `must return ${STORE_SALT_LENGTH} bytes`);
    }
    meta = { format: META_FORMAT, algorithm: 'argon2id', salt: new Uint8Array(salt), ...params };
    await request(os.put(meta, 'kdf'));
  }
  await done;
  const m = meta as Record<string, unknown>;
  if (typeof m.format === 'number' && m.format > META_FORMAT) {
    throw new ClientError('STORE_TOO_NEW', `profile metadata format ${m.format} is newer than this VAULTEX`);
  }
  if (m.format !== META_FORMAT || m.algorithm !== 'argon2id')
    throw new ClientError('STORE_CORRUPT', 'bad profile metadata');
  if (!(m.salt instanceof Uint8Array) || m.salt.length !== STORE_SALT_LENGTH) {
    throw new ClientError('STORE_CORRUPT', 'bad profile salt');
  }
  return { salt: m.salt, params: checkKdfParams({ t: m.t, m: m.m, p: m.p }, 'profile metadata', 'STORE_CORRUPT') };
}

/** Prove the key: open the check record, or write it for a new profile. */
async function checkPassphraseKey(db: IDBDatabase, cipher: RecordCipher): Promise<void> {
  const tx = db.transaction([STORES.meta], 'readwrite');
  const done = completion(tx);
  const os = tx.objectStore(STORES.meta);
  const check = (await request(os.get('check'))) as { v?: unknown } | undefined;
  if (check === undefined) {
    await request(os.put({ v: cipher.seal(STORES.meta, 'check', utf8ToBytes(CHECK_PLAINTEXT)) }, 'check'));
  }
  await done;
  if (check === undefined) return;
  try {
    cipher.open(STORES.meta, 'check', check.v);
  } catch (e) {
    if (isClientError(e, 'STORE_CORRUPT')) {
      throw new ClientError('WRONG_PASSPHRASE', 'the passphrase does not open this profile');
    }
    throw e;
  }
}
