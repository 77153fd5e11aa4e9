/**
 * A minimal Map-based `StorageType` for @privacyresearch/libsignal-protocol-typescript, shaped
 * like the in-memory store in that library's own tests. Session records arrive already
 * serialised (the library JSON-encodes them itself), so the store only keeps strings.
 */
import type {
  Direction,
  KeyPairType,
  SessionRecordType,
  StorageType,
} from '@privacyresearch/libsignal-protocol-typescript';

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Identity, prekeys and sessions of one party, all in memory. */
export class PrivacyResearchStore implements StorageType {
  readonly #identityKeyPair: KeyPairType;
  readonly #registrationId: number;
  readonly #identities = new Map<string, ArrayBuffer>();
  readonly #preKeys = new Map<string, KeyPairType>();
  readonly #signedPreKeys = new Map<string, KeyPairType>();
  readonly #sessions = new Map<string, SessionRecordType>();

  constructor(identityKeyPair: KeyPairType, registrationId: number) {
    this.#identityKeyPair = identityKeyPair;
    this.#registrationId = registrationId;
  }

  async getIdentityKeyPair(): Promise<KeyPairType> {
    return this.#identityKeyPair;
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.#registrationId;
  }

  async isTrustedIdentity(identifier: string, identityKey: ArrayBuffer, _direction: Direction): Promise<boolean> {
    const known = this.#identities.get(identifier);
    return known === undefined || sameBytes(known, identityKey);
  }

  async saveIdentity(encodedAddress: string, publicKey: ArrayBuffer): Promise<boolean> {
    // The library passes "name.deviceId" here but only "name" to isTrustedIdentity; key by name.
    const name = encodedAddress.split('.')[0] ?? encodedAddress;
    const known = this.#identities.get(name);
    this.#identities.set(name, publicKey);
    return known !== undefined && !sameBytes(known, publicKey);
  }

  async loadPreKey(keyId: string | number): Promise<KeyPairType | undefined> {
    return this.#preKeys.get(String(keyId));
  }

  async storePreKey(keyId: number | string, keyPair: KeyPairType): Promise<void> {
    this.#preKeys.set(String(keyId), keyPair);
  }

  async removePreKey(keyId: number | string): Promise<void> {
    this.#preKeys.delete(String(keyId));
  }

  async storeSession(encodedAddress: string, record: SessionRecordType): Promise<void> {
    this.#sessions.set(encodedAddress, record);
  }

  async loadSession(encodedAddress: string): Promise<SessionRecordType | undefined> {
    return this.#sessions.get(encodedAddress);
  }

  async loadSignedPreKey(keyId: number | string): Promise<KeyPairType | undefined> {
    return this.#signedPreKeys.get(String(keyId));
  }

  async storeSignedPreKey(keyId: number | string, keyPair: KeyPairType): Promise<void> {
    this.#signedPreKeys.set(String(keyId), keyPair);
  }

  async removeSignedPreKey(keyId: number | string): Promise<void> {
    this.#signedPreKeys.delete(String(keyId));
  }
}
