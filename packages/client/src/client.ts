/**
 * `VaultexClient`: the one facade applications use (the web app, the CLI and its daemon).
 * It is thin: it wires the services around one store, one relay and one emitter, and
 * delegates. Create, restore, open or link a profile; `start()` keeps a connection and
 * the outbox running; `sync()` does one round for one-shot commands.
 */
import { formatUserId, hexToBytes } from '@vaultex/protocol';
import type { Avatar } from './avatar.js';
import { ClientContext, type ClientDeps, type ClientOptions, resolveDeps } from './context.js';
import { ClientError } from './errors.js';
import { type ClientEventHandler, type ClientEventName, type DeviceInfo, Emitter } from './events.js';
import { createLinkRequest, type LinkRequest } from './provisioning.js';
import { completeLink, createAccount, restoreAccount } from './services/account.js';
import { ArchiveService } from './services/archive.js';
import { AttachmentService } from './services/attachments.js';
import { type BackupExportOptions, exportProfileBackup, importProfileBackup } from './services/backup.js';
import { ContactService, DiscoveryService } from './services/contacts.js';
import { type ApproveLinkOptions, DeviceService } from './services/devices.js';
import { GroupService } from './services/groups.js';
import { MessageService } from './services/messages.js';
import { OutboxService } from './services/outbox.js';
import { type MaintenanceReport, PreKeyService } from './services/prekeys.js';
import { ProfileService } from './services/profile.js';
import { RichService } from './services/rich.js';
import { SessionService } from './services/sessions.js';
import { Receiver } from './services/sync.js';
import { TrustService } from './services/trust.js';
import type { ClientStore } from './storage/client-store.js';
import type { ProfileRecord } from './storage/records.js';
import { type ConnectionState, RelaySocket } from './transport/socket.js';

/** Inputs shared by the ways to get a client. */
export interface ClientInput {
  /** One store per account (one profile folder). */
  readonly store: ClientStore;
  readonly deps: ClientDeps;
  readonly options?: ClientOptions;
}

/** Our identity as shown to people. */
export interface ClientIdentity {
  /** Account id (32 hex digits). */
  readonly userId: string;
  /** `7F3A·C291·…`. */
  readonly formatted: string;
  /** Our contact code (link and QR payload). */
  readonly contactCode: string;
  readonly deviceId: number;
  readonly displayName: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often a running client wipes expired disappearing messages. */
const SWEEP_MS = 1000;
/** Seen relay message ids are kept longer than the relay keeps undelivered messages (30 days). */
const SEEN_RETENTION_MS = 45 * DAY_MS;

/** The device API of a client (the new-device side of linking is static: see {@link VaultexClient.createLinkCode}). */
export interface DevicesApi {
  /** Our devices, from the signed device list. */
  list(): DeviceInfo[];
  /** Fetch our device list from the relay; returns the devices. */
  refresh(): Promise<DeviceInfo[]>;
  rename(deviceId: number, name: string): Promise<void>;
  revoke(deviceId: number): Promise<void>;
  /**
   * Existing device: answer a link code; returns the device id given to the new device once
   * the relay lists it (or `options.waitMs`, default 30 s, passed).
   */
  approveLink(code: string, options?: ApproveLinkOptions): Promise<number>;
}

/** Local encrypted backups of the whole profile (restore with {@link VaultexClient.importBackup}). */
export interface BackupApi {
  /**
   * Everything this device holds (keys, sessions, contacts, groups, conversations, messages,
   * outbox) encrypted under `password` (protocol backup format: Argon2id + AES-256-GCM).
   * @throws InvalidArgumentError (protocol) for an empty password or bad KDF costs.
   */
  export(password: string, options?: BackupExportOptions): Promise<Uint8Array>;
}

/** A VAULTEX account on this device. */
export class VaultexClient {
  /** Contacts: add, list, accept, block, unblock, key changes, safety numbers. */
  readonly contacts: ContactService;
  /** Opt-in discovery by display name. */
  readonly discovery: DiscoveryService;
  /** Send, list, mark read, typing. */
  readonly messages: MessageService;
  /** Our devices. */
  readonly devices: DevicesApi;
  /** Groups: create, rename, add, remove, leave, list, get, send, sendAttachment. */
  readonly groups: GroupService;
  /** Encrypted files: upload (resumable), download (verified), the file of a message. */
  readonly attachments: AttachmentService;
  /** Local encrypted backup of the whole profile. */
  readonly backup: BackupApi;
  /** The encrypted history archive on the relay (conversations with retention 'history'). */
  readonly archive: ArchiveService;

  readonly #ctx: ClientContext;
  readonly #emitter: Emitter;
  readonly #outbox: OutboxService;
  readonly #receiver: Receiver;
  readonly #prekeys: PreKeyService;
  #socket: RelaySocket | undefined;
  #state: ConnectionState = 'offline';
  #revoked = false;
  #maintenance: ReturnType<typeof setInterval> | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #rich: RichService;
  #lastMaintain = 0;

  private constructor(ctx: ClientContext, emitter: Emitter) {
    const options = ctx.options;
    this.#ctx = ctx;
    this.#emitter = emitter;
    const trust = new TrustService(ctx);
    this.#prekeys = new PreKeyService(ctx);
    const sessions = new SessionService(ctx, trust, this.#prekeys);
    const devices = new DeviceService(ctx, trust, sessions);
    this.#outbox = new OutboxService(ctx, sessions, devices);
    this.contacts = new ContactService(ctx, trust, devices, this.#outbox);
    this.discovery = new DiscoveryService(ctx);
    const profiles = new ProfileService(ctx, this.#outbox, devices);
    devices.onOwnDevicesAdded = () => {
      this.contacts.syncAll().catch((error: unknown) => emitter.emit('error', { error, context: 'contact sync' }));
      profiles.pushOwn().catch((error: unknown) => emitter.emit('error', { error, context: 'profile sync' }));
    };
    this.messages = new MessageService(ctx, this.#outbox, devices, this.contacts);
    this.messages.profiles = profiles;
    this.contacts.profiles = profiles;
    this.#rich = new RichService(ctx, this.#outbox);
    this.messages.rich = this.#rich;
    this.#receiver = new Receiver(ctx, sessions, devices, trust, this.messages, this.#outbox);
    this.groups = new GroupService(ctx, this.#outbox, devices);
    this.groups.rich = this.#rich;
    this.#rich.groups = this.groups;
    this.attachments = new AttachmentService(ctx);
    this.backup = {
      export: (password, options) =>
        exportProfileBackup(ctx.store, ctx.provider, ctx.random, ctx.clock(), password, options),
    };
    this.archive = new ArchiveService(ctx, options.archiveCodeKdf ? { codeKdf: options.archiveCodeKdf } : {});
    this.messages.groupContents = (content, from, tx) => this.groups.applyIncoming(content, from, tx);
    this.#receiver.groupMessages = (m) => this.groups.onStored(m);
    this.#outbox.groupJobs = (rec, waiting) => this.groups.processJob(rec, waiting);
    this.devices = {
      list: () => devices.list(),
      refresh: async () => {
        await devices.refreshOwn();
        return devices.list();
      },
      rename: (deviceId, name) => devices.rename(deviceId, name),
      revoke: (deviceId) => devices.revoke(deviceId),
      approveLink: (code, options) => devices.approveLink(code, options),
    };
  }

  private static build(store: ClientStore, deps: ClientDeps, profile: ProfileRecord, options: ClientOptions = {}) {
    const emitter = new Emitter();
    const ctx = new ClientContext(store, resolveDeps(deps), profile, emitter, options);
    return new VaultexClient(ctx, emitter);
  }

  /**
   * Create an account; this device is its first. Show the seed phrase once: it is the only
   * way to restore the account.
   * @throws ClientError PROFILE_EXISTS, INVALID_ARGUMENT; RelayError; NETWORK_ERROR.
   */
  static async create(
    input: ClientInput & { readonly serverUrl: string; readonly displayName?: string },
  ): Promise<{ client: VaultexClient; seedPhrase: string }> {
    const deps = resolveDeps(input.deps);
    const { profile, seedPhrase } = await createAccount({
      store: input.store,
      deps,
      options: input.options ?? {},
      serverUrl: input.serverUrl,
      ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    });
    return { client: VaultexClient.build(input.store, input.deps, profile, input.options), seedPhrase };
  }

  /**
   * Restore an account from its seed phrase into an empty store (a new device of the account).
   * @throws InvalidSeedPhraseError; ClientError PROFILE_EXISTS; RelayError; NETWORK_ERROR.
   */
  static async restore(
    input: ClientInput & { readonly serverUrl: string; readonly seedPhrase: string; readonly displayName?: string },
  ): Promise<VaultexClient> {
    const deps = resolveDeps(input.deps);
    const profile = await restoreAccount({
      store: input.store,
      deps,
      options: input.options ?? {},
      serverUrl: input.serverUrl,
      seedPhrase: input.seedPhrase,
      ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    });
    return VaultexClient.build(input.store, input.deps, profile, input.options);
  }

  /**
   * Restore a profile backup (`client.backup.export`) into an EMPTY store and open it. The
   * device keeps the identity it had when the backup was made: do not keep using the original
   * profile after restoring its backup elsewhere (both would share one device id).
   * @throws BackupDecryptionError (protocol, BACKUP_DECRYPTION_FAILED) for a wrong password or
   *   a damaged file; ClientError BACKUP_INVALID, PROFILE_EXISTS. Nothing is written on failure.
   */
  static async importBackup(input: ClientInput & { readonly backup: Uint8Array; readonly password: string }) {
    const deps = resolveDeps(input.deps);
    if (!(input.backup instanceof Uint8Array)) throw new ClientError('INVALID_ARGUMENT', 'backup: bytes');
    await importProfileBackup(input.store, deps.provider, input.backup, input.password);
    return VaultexClient.open(input);
  }

  /**
   * Open the account held by a store.
   * @throws ClientError NO_PROFILE for an empty store.
   */
  static async open(input: ClientInput): Promise<VaultexClient> {
    const profile = await input.store.getProfile();
    if (!profile) throw new ClientError('NO_PROFILE', 'this store holds no account: create, restore or link one');
    return VaultexClient.build(input.store, input.deps, profile, input.options);
  }

  /**
   * New device, step 1: a link request whose `code` the user shows (QR) or copies to an
   * existing device, which calls `devices.approveLink(code)`. Keep the request for step 2.
   */
  static createLinkCode(input: { readonly serverUrl: string; readonly deps: ClientDeps }): LinkRequest {
    const deps = resolveDeps(input.deps);
    return createLinkRequest(input.serverUrl.replace(/\/+$/u, ''), deps.provider, deps.random);
  }

  /**
   * New device, step 2: wait for the existing device's answer and link this device.
   * @throws ClientError LINK_TIMEOUT, INVALID_LINK_CODE, PROFILE_EXISTS; RelayError.
   */
  static async completeLink(
    input: ClientInput & { readonly request: LinkRequest; readonly timeoutMs?: number; readonly pollMs?: number },
  ): Promise<VaultexClient> {
    const deps = resolveDeps(input.deps);
    const { profile } = await completeLink({
      store: input.store,
      deps,
      options: input.options ?? {},
      request: input.request,
      ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
      ...(input.pollMs !== undefined ? { pollMs: input.pollMs } : {}),
    });
    return VaultexClient.build(input.store, input.deps, profile, input.options);
  }

  /** Our identity: user ID, its display form and our contact code. */
  id(): ClientIdentity {
    const p = this.#ctx.profile;
    return {
      userId: p.userId,
      formatted: formatUserId(hexToBytes(p.userId)),
      contactCode: this.contacts.ownCode(),
      deviceId: p.deviceId,
      displayName: p.displayName,
    };
  }

  /** The connection state. */
  get connection(): ConnectionState {
    return this.#state;
  }

  /** True once the relay said this device was removed from the account. */
  get revoked(): boolean {
    return this.#revoked;
  }

  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends ClientEventName>(event: E, handler: ClientEventHandler<E>): () => void {
    return this.#emitter.on(event, handler);
  }

  /**
   * Connect and keep connected (reconnecting with backoff), receive in real time, run the
   * outbox, and keep prekeys topped up (after each connect and daily).
   * @throws ClientError INVALID_ARGUMENT when no WebSocket constructor is available; DEVICE_REVOKED.
   */
  start(): void {
    if (this.#revoked) throw new ClientError('DEVICE_REVOKED', 'this device was removed from the account');
    if (this.#socket) return;
    const ctx = this.#ctx;
    const WebSocketCtor = ctx.deps.WebSocket;
    if (!WebSocketCtor) throw new ClientError('INVALID_ARGUMENT', 'deps.WebSocket: this runtime has none; pass one');
    const socket = new RelaySocket(
      {
        baseUrl: ctx.profile.serverUrl,
        WebSocket: WebSocketCtor,
        tokens: ctx.tokens,
        random: ctx.random,
        ...(ctx.options.keepaliveMs !== undefined ? { keepaliveMs: ctx.options.keepaliveMs } : {}),
      },
      {
        onMessage: (m) => this.#receiver.onStored(m),
        onEphemeral: (blob, source) => void this.#receiver.onEphemeral(blob, source),
        onQueueEmpty: () => undefined,
        onState: (state, reason) => {
          this.#state = state;
          this.#emitter.emit('connection', { state, ...(reason ? { reason } : {}) });
          if (state === 'online') {
            this.#outbox.kick();
            this.#maintainSoon();
          }
        },
        onTerminated: (reason) => {
          if (reason === 'revoked') this.#revoked = true;
          void this.#outbox.stop();
        },
        onError: (error) => this.#emitter.emit('error', { error, context: 'receive' }),
      },
    );
    this.#socket = socket;
    this.#outbox.socket = socket;
    this.#outbox.start();
    socket.start();
    this.#maintenance = setInterval(() => this.#maintainSoon(true), DAY_MS);
    this.#sweepSoon();
    this.#sweeper = setInterval(() => this.#sweepSoon(), SWEEP_MS);
  }

  #sweepSoon(): void {
    this.#rich.sweep().catch((error: unknown) => this.#emitter.emit('error', { error, context: 'disappearing' }));
  }

  /** Disconnect and stop background work (waits for the message and job in progress). */
  async stop(): Promise<void> {
    if (this.#maintenance) clearInterval(this.#maintenance);
    this.#maintenance = undefined;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#outbox.socket = undefined;
    await this.#outbox.stop();
    await socket?.stop();
  }

  /**
   * One round for one-shot use: receive everything pending, then send everything due.
   * With a running connection it waits for the relay's queue to drain instead.
   * @returns how many stored messages were received over HTTP.
   */
  async sync(): Promise<{ received: number }> {
    if (this.#revoked) throw new ClientError('DEVICE_REVOKED', 'this device was removed from the account');
    let received = 0;
    if (this.#socket?.online) {
      await this.#socket.drained();
    } else {
      received = await this.#receiver.drainInbox();
    }
    await this.#outbox.flush();
    await this.#rich.sweep();
    return { received };
  }

  /** Prekey upkeep and seen-id pruning (runs by itself after connecting and daily). */
  async maintain(): Promise<MaintenanceReport> {
    const report = await this.#prekeys.maintain();
    await this.#ctx.store.pruneSeen(this.#ctx.clock() - SEEN_RETENTION_MS);
    this.#lastMaintain = this.#ctx.clock();
    return report;
  }

  /**
   * Change our display name, avatar (`null` removes it), read receipts or typing indicators;
   * our other devices follow, and accepted contacts get a new name or avatar.
   * @throws ClientError INVALID_ARGUMENT.
   */
  updateProfile(changes: {
    displayName?: string;
    readReceipts?: boolean;
    typingIndicators?: boolean;
    avatar?: Avatar | null;
  }): Promise<void> {
    return this.messages.updateProfile(changes);
  }

  /** Our profile (settings, display name...). */
  get profile(): ProfileRecord {
    return this.#ctx.profile;
  }

  /** Close the store after stopping. */
  async close(): Promise<void> {
    await this.stop();
    await this.#ctx.store.close();
  }

  #maintainSoon(force = false): void {
    // Reconnect storms must not turn into prekey-count storms.
    if (!force && this.#ctx.clock() - this.#lastMaintain < 10 * 60_000) return;
    this.#lastMaintain = this.#ctx.clock();
    this.maintain().catch((error: unknown) => this.#emitter.emit('error', { error, context: 'maintenance' }));
  }
}
