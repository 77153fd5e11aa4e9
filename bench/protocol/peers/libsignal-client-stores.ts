/**
 * Minimal Map-based stores for @signalapp/libsignal-client, the smallest thing its session API
 * accepts. They hold the library's own record objects (no serialisation), so what the benchmark
 * sees is the library's cost plus its async store round trips, not a database.
 */
import {
  type Direction,
  IdentityChange,
  IdentityKeyStore,
  type KyberPreKeyRecord,
  KyberPreKeyStore,
  type PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  type PublicKey,
  type SessionRecord,
  SessionStore,
  type SignedPreKeyRecord,
  SignedPreKeyStore,
} from '@signalapp/libsignal-client';

function addressKey(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

/** Sessions by `name.deviceId`. */
export class MemorySessionStore extends SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();

  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.#sessions.set(addressKey(name), record);
  }

  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    return this.#sessions.get(addressKey(name)) ?? null;
  }

  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((address) => {
      const record = this.#sessions.get(addressKey(address));
      if (record === undefined) throw new Error('no session for a requested address');
      return record;
    });
  }
}

/** Our identity plus trust-on-first-use for remote identities, as a real client does. */
export class MemoryIdentityStore extends IdentityKeyStore {
  readonly #identities = new Map<string, PublicKey>();
  readonly #privateKey: PrivateKey;
  readonly #registrationId: number;

  constructor(privateKey: PrivateKey, registrationId: number) {
    super();
    this.#privateKey = privateKey;
    this.#registrationId = registrationId;
  }

  async getIdentityKey(): Promise<PrivateKey> {
    return this.#privateKey;
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.#registrationId;
  }

  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const previous = this.#identities.get(addressKey(name));
    this.#identities.set(addressKey(name), key);
    return previous !== undefined && !previous.equals(key)
      ? IdentityChange.ReplacedExisting
      : IdentityChange.NewOrUnchanged;
  }

  async isTrustedIdentity(name: ProtocolAddress, key: PublicKey, _direction: Direction): Promise<boolean> {
    const known = this.#identities.get(addressKey(name));
    return known === undefined || known.equals(key);
  }

  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.#identities.get(addressKey(name)) ?? null;
  }
}

/** One-time EC prekeys; removal is how they are consumed. */
export class MemoryPreKeyStore extends PreKeyStore {
  readonly #records = new Map<number, PreKeyRecord>();

  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.#records.set(id, record);
  }

  async getPreKey(id: number): Promise<PreKeyRecord> {
    const record = this.#records.get(id);
    if (record === undefined) throw new Error(`no prekey ${id}`);
    return record;
  }

  async removePreKey(id: number): Promise<void> {
    this.#records.delete(id);
  }
}

/** Signed EC prekeys. */
export class MemorySignedPreKeyStore extends SignedPreKeyStore {
  readonly #records = new Map<number, SignedPreKeyRecord>();

  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.#records.set(id, record);
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const record = this.#records.get(id);
    if (record === undefined) throw new Error(`no signed prekey ${id}`);
    return record;
  }
}

/** Signed KEM prekeys; the benchmark uses one-time ones, deleted when marked used. */
export class MemoryKyberPreKeyStore extends KyberPreKeyStore {
  readonly #records = new Map<number, KyberPreKeyRecord>();

  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.#records.set(id, record);
  }

  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const record = this.#records.get(id);
    if (record === undefined) throw new Error(`no KEM prekey ${id}`);
    return record;
  }

  async markKyberPreKeyUsed(id: number, _signedPreKeyId: number, _baseKey: PublicKey): Promise<void> {
    this.#records.delete(id);
  }
}
