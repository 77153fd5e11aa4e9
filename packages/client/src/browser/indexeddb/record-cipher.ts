/**
 * Record encryption of the IndexedDB adapter. Two keys are derived (HKDF-SHA-256) from
 * the Argon2id passphrase key: one encrypts every record value with AES-256-GCM under a
 * fresh random 96-bit nonce, the other blinds identifiers used as database keys (HMAC), so
 * that contact account ids, conversation ids and server message ids never appear in the
 * clear. The associated data binds each ciphertext to its object store and key: a record
 * copied or swapped to another key fails to open.
 */
import { bytesToHex, type CryptoProvider, type RandomSource, utf8ToBytes } from '@vaultex/protocol';
import { ClientError } from '../../errors.js';

const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/** Seals and opens record values, blinds identifiers. */
export class RecordCipher {
  private constructor(
    private readonly provider: CryptoProvider,
    private readonly random: RandomSource,
    private readonly recordKey: Uint8Array,
    private readonly blindKey: Uint8Array,
  ) {}

  /** Derive the record and blinding keys from the 32-byte passphrase key. */
  static fromPassphraseKey(provider: CryptoProvider, random: RandomSource, key: Uint8Array): RecordCipher {
    const empty = new Uint8Array(0);
    return new RecordCipher(
      provider,
      random,
      provider.hkdfSha256(key, empty, utf8ToBytes('vaultex/indexeddb/records/v1'), 32),
      provider.hkdfSha256(key, empty, utf8ToBytes('vaultex/indexeddb/index/v1'), 32),
    );
  }

  private aad(store: string, key: IDBValidKey): Uint8Array {
    return utf8ToBytes(`vaultex/indexeddb|${store}|${JSON.stringify(key)}`);
  }

  /** nonce || AES-256-GCM(plaintext) with the store and key as associated data. */
  seal(store: string, key: IDBValidKey, plaintext: Uint8Array): Uint8Array {
    const nonce = this.random(NONCE_LENGTH);
    const sealed = this.provider.aesGcmEncrypt(this.recordKey, nonce, plaintext, this.aad(store, key));
    const out = new Uint8Array(NONCE_LENGTH + sealed.length);
    out.set(nonce, 0);
    out.set(sealed, NONCE_LENGTH);
    return out;
  }

  /**
   * Open a sealed value stored under (store, key).
   * @throws ClientError STORE_CORRUPT when it does not authenticate (wrong key, tampered or moved).
   */
  open(store: string, key: IDBValidKey, sealed: unknown): Uint8Array {
    if (!(sealed instanceof Uint8Array) || sealed.length < NONCE_LENGTH + TAG_LENGTH) {
      throw new ClientError('STORE_CORRUPT', `${store}: stored value is malformed`);
    }
    try {
      return this.provider.aesGcmDecrypt(
        this.recordKey,
        sealed.subarray(0, NONCE_LENGTH),
        sealed.subarray(NONCE_LENGTH),
        this.aad(store, key),
      );
    } catch (e) {
      throw new ClientError('STORE_CORRUPT', `${store}: stored value does not authenticate`, { cause: e });
    }
  }

  /** A stable pseudonym of an identifier (32 hex digits), per domain. */
  blind(domain: string, value: string): string {
    return bytesToHex(this.provider.hmacSha256(this.blindKey, utf8ToBytes(`${domain}:${value}`)).subarray(0, 16));
  }

  /** Overwrite the keys (best effort). */
  destroy(): void {
    this.recordKey.fill(0);
    this.blindKey.fill(0);
  }
}
