/**
 * What every service of one client shares: the store, the injected dependencies, the
 * relay transport, the event emitter and the cached profile. Services receive it in their
 * constructor and never reach for globals.
 */
import {
  type Clock,
  type CryptoProvider,
  type DeviceList,
  decodeDeviceList,
  type RandomSource,
  systemClock,
  systemRandom,
} from '@vaultex/protocol';
import { ClientError } from './errors.js';
import type { Emitter } from './events.js';
import type { ClientStore } from './storage/client-store.js';
import type { ProfileRecord } from './storage/records.js';
import { type FetchLike, HttpClient, RelayHttp } from './transport/http.js';
import type { WebSocketConstructor } from './transport/socket.js';
import { TokenManager } from './transport/tokens.js';

/** The environment a client runs in; Node and browser entries fill in the defaults. */
export interface ClientDeps {
  readonly provider: CryptoProvider;
  /** Default: `systemRandom` (Web Crypto). */
  readonly random?: RandomSource;
  /** Default: `systemClock`. */
  readonly clock?: Clock;
  /** Default: `globalThis.fetch`. */
  readonly fetch?: FetchLike;
  /** Default: `globalThis.WebSocket` (Node 20 has none: pass `ws`). */
  readonly WebSocket?: WebSocketConstructor;
}

/** Tunables; the defaults are the protocol's. Tests lower the prekey batches for speed. */
export interface ClientOptions {
  /** One-time X25519 prekeys per upload (default 100). */
  readonly oneTimePreKeys?: number;
  /** One-time ML-KEM prekeys per upload (default 100). */
  readonly kemPreKeys?: number;
  /** Replenish when the relay holds fewer than this (default 20). */
  readonly preKeyLowWater?: number;
  /** WebSocket ping interval (default 25 s). */
  readonly keepaliveMs?: number;
  /** Name of this device in the device list. */
  readonly deviceName?: string;
  /** Argon2id cost of history-archive backup codes (default t 2, m 19 MiB, p 1); tests lower it. */
  readonly archiveCodeKdf?: { readonly t: number; readonly m: number; readonly p: number };
}

/** Resolved dependencies. */
export interface ResolvedDeps {
  readonly provider: CryptoProvider;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly fetch: FetchLike;
  readonly WebSocket: WebSocketConstructor | undefined;
}

/**
 * Fill in defaults.
 * @throws ClientError INVALID_ARGUMENT without a provider, or without fetch when the runtime has none.
 */
export function resolveDeps(deps: ClientDeps): ResolvedDeps {
  if (!deps || typeof deps !== 'object' || !deps.provider) {
    throw new ClientError('INVALID_ARGUMENT', 'deps.provider: a CryptoProvider is required');
  }
  const globals = globalThis as { fetch?: FetchLike; WebSocket?: WebSocketConstructor };
  const fetchFn = deps.fetch ?? globals.fetch?.bind(globalThis);
  if (!fetchFn) throw new ClientError('INVALID_ARGUMENT', 'deps.fetch: this runtime has no fetch; pass one');
  return {
    provider: deps.provider,
    random: deps.random ?? systemRandom,
    clock: deps.clock ?? systemClock,
    fetch: fetchFn,
    WebSocket: deps.WebSocket ?? globals.WebSocket,
  };
}

/** A relay client for a server URL. */
export function relayFor(serverUrl: string, deps: ResolvedDeps): RelayHttp {
  return new RelayHttp(new HttpClient(serverUrl, deps.fetch));
}

/** The shared state of one open client. */
export class ClientContext {
  readonly provider: CryptoProvider;
  readonly random: RandomSource;
  readonly clock: Clock;
  readonly relay: RelayHttp;
  readonly tokens: TokenManager;
  #profile: ProfileRecord;
  #lastSentAt = 0;
  #lastOutboxAt = 0;

  constructor(
    readonly store: ClientStore,
    readonly deps: ResolvedDeps,
    profile: ProfileRecord,
    readonly emitter: Emitter,
    readonly options: ClientOptions,
  ) {
    this.provider = deps.provider;
    this.random = deps.random;
    this.clock = deps.clock;
    this.#profile = profile;
    this.relay = relayFor(profile.serverUrl, deps);
    this.tokens = new TokenManager(
      this.relay,
      { accountId: profile.userId, deviceId: profile.deviceId, deviceSecretKey: profile.deviceSecretKey },
      deps.provider,
      deps.clock,
    );
  }

  /** The cached profile (the store holds the same). */
  get profile(): ProfileRecord {
    return this.#profile;
  }

  /** Our account id. */
  get accountId(): string {
    return this.#profile.userId;
  }

  /** Our device id. */
  get deviceId(): number {
    return this.#profile.deviceId;
  }

  /** Our signed device list, decoded. */
  ownDeviceList(): DeviceList | undefined {
    return this.#profile.deviceList ? decodeDeviceList(this.#profile.deviceList) : undefined;
  }

  /** Our account key pair (for signing device lists and certificates). */
  accountKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
    return { publicKey: this.#profile.accountPublicKey, secretKey: this.#profile.accountSecretKey };
  }

  /** Our device key pair. */
  deviceKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
    return { publicKey: this.#profile.devicePublicKey, secretKey: this.#profile.deviceSecretKey };
  }

  /**
   * Write a changed profile (inside `tx` when given) and cache it once written. Call
   * {@link commitProfile} after the transaction when `tx` was given.
   */
  async writeProfile(profile: ProfileRecord, tx?: ClientStore): Promise<void> {
    await (tx ?? this.store).putProfile(profile);
    if (!tx) this.#profile = profile;
  }

  /** Adopt a profile written inside a committed transaction. */
  commitProfile(profile: ProfileRecord): void {
    this.#profile = profile;
  }

  /** A send time strictly after the previous one, so a burst of messages keeps its order. */
  nextSentAt(): number {
    this.#lastSentAt = Math.max(this.clock(), this.#lastSentAt + 1);
    return this.#lastSentAt;
  }

  /** An outbox creation time strictly after the previous one (the outbox sends in creation order). */
  nextOutboxAt(): number {
    this.#lastOutboxAt = Math.max(this.clock(), this.#lastOutboxAt + 1);
    return this.#lastOutboxAt;
  }

  /** A fresh random message id (32 hex digits). */
  newId(): string {
    return toHex(this.random(16));
  }
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}
