/**
 * What a send needs to know about each recipient account (its device ids and access-key
 * hash), cached for a moment: a busy conversation would otherwise cost two queries per
 * send. Every change made through this instance invalidates its entry at once; the short
 * lifetime bounds staleness when several instances share a database (scale-out issue).
 */
import type { Clock } from '@vaultex/protocol';
import type { Storage } from './storage/storage.js';

/** A recipient account as sends see it. */
export interface Recipient {
  readonly accessKeyHash: Uint8Array | null;
  readonly deviceIds: ReadonlySet<number>;
}

/** Most cached accounts before the cache starts over (bounded memory). */
const MAX_ENTRIES = 100_000;

/** A short-lived cache of recipients, unknown accounts included. */
export class RecipientCache {
  private readonly entries = new Map<
    string,
    { readonly value: Recipient | undefined; readonly expires: number; verified?: Uint8Array }
  >();
  /** Lookups in flight, by key. */
  private readonly loading = new Map<string, Promise<Recipient | undefined>>();

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
  ) {}

  /**
   * The cached entry for an account (hex id) when it is fresh: `value` undefined means the
   * account is known not to exist. Synchronous, so that a busy send path needs no await.
   */
  peek(key: string): { readonly value: Recipient | undefined } | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > this.clock() ? hit : undefined;
  }

  /** The account (by id and its hex form), or undefined when it does not exist. */
  async get(accountId: Uint8Array, key: string): Promise<Recipient | undefined> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    // Sends to one account that miss together share one lookup: when an entry expires under
    // load, every send in flight to that account would otherwise query the database.
    const pending = this.loading.get(key);
    if (pending) return pending;
    const load = this.load(accountId);
    this.loading.set(key, load);
    try {
      const value = await load;
      // An invalidation while loading dropped our claim: the value may predate the change.
      if (this.loading.get(key) === load) {
        if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
        this.entries.set(key, { value, expires: now + this.ttlMs });
      }
      return value;
    } finally {
      if (this.loading.get(key) === load) this.loading.delete(key);
    }
  }

  private async load(accountId: Uint8Array): Promise<Recipient | undefined> {
    const account = await this.storage.getAccount(accountId);
    return (
      account && {
        accessKeyHash: account.accessKeyHash,
        deviceIds: new Set((await this.storage.listDevices(accountId)).map((d) => d.deviceId)),
      }
    );
  }

  /**
   * The access key a sealed send to this account last presented successfully, while the
   * entry is fresh. Held in memory only, for at most the entry's lifetime, and dropped with
   * it when the account changes: a repeated send compares it (constant time) instead of
   * hashing again.
   */
  verifiedKey(key: string): Uint8Array | undefined {
    const hit = this.entries.get(key);
    return hit && hit.expires > this.clock() ? hit.verified : undefined;
  }

  /** Remember an access key that matched the account's stored hash (see {@link verifiedKey}). */
  rememberVerified(key: string, accessKey: Uint8Array): void {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.clock()) hit.verified = accessKey.slice();
  }

  /** Forget an account after a change to its devices, access key or existence. */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
  }
}
